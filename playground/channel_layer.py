"""The Redis channel layer, made to ride out Redis being slow, cut off or restarted.

Channels' consumers read their channel in a loop; when that read raises, the consumer dies
and its websocket closes with 1011. With channels_redis as it comes, that happened:
- every ~5 s on an idle socket: redis-py 8 defaults socket_timeout to 5 s, the same as the
  layer's blocking BRPOP, so the read timed out (django/channels_redis#422);
- on every socket of every worker during any Redis outage, even sockets whose answers are
  generated in their own process and never need Redis.

Here a failed read waits (0.2 s, doubling to 2 s) and tries again, so the page keeps its
socket; the layer remembers which groups each channel joined and joins them again once Redis
answers, since a restarted Redis (this one keeps nothing on disk) has forgotten them. A group
join or leave that cannot reach Redis is noted and redone, never an error for the consumer.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from channels_redis.core import RedisChannelLayer
from redis import exceptions as redis_errors

logger = logging.getLogger(__name__)

UNREACHABLE = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)
FIRST_RETRY_S = 0.2
MAX_RETRY_S = 2.0


class ResilientRedisChannelLayer(RedisChannelLayer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._groups: dict[str, set[str]] = defaultdict(set)  # channel -> groups it joined
        self._rejoin: set[str] = set()  # channels whose groups Redis may have lost

    async def group_add(self, group: str, channel: str) -> None:
        self._groups[channel].add(group)
        try:
            await super().group_add(group, channel)
        except UNREACHABLE:
            logger.warning("Redis unreachable: %s joins group %s when it is back", channel, group)
            self._rejoin.add(channel)

    async def group_discard(self, group: str, channel: str) -> None:
        groups = self._groups.get(channel)
        if groups is not None:
            groups.discard(group)
            if not groups:
                del self._groups[channel]
                self._rejoin.discard(channel)
        try:
            await super().group_discard(group, channel)
        except UNREACHABLE:  # the entry expires by itself (group_expiry)
            logger.warning("Redis unreachable: %s could not leave group %s", channel, group)

    async def receive(self, channel: str) -> dict:
        delay = FIRST_RETRY_S
        while True:
            try:
                if channel in self._rejoin:
                    for group in list(self._groups.get(channel, ())):
                        await super().group_add(group, channel)
                    self._rejoin.discard(channel)
                return await super().receive(channel)
            except UNREACHABLE:
                if delay == FIRST_RETRY_S:
                    logger.warning("Redis unreachable; %s keeps trying", channel)
                self._rejoin.add(channel)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_S)
