"""Server time to render a chat page with 1,000 messages (500 questions and their answers)."""

from __future__ import annotations

import statistics
import time

from django.db import connection
from django.test import Client
from django.test.utils import setup_test_environment, teardown_test_environment

RUNS = 7
ANSWER = """Here is what I found about **streaming** answers:

1. Tokens arrive as server-sent events.
2. The page appends them as text, then swaps in the rendered markdown.

```python
async for event in events:
    print(event.text, end="")
```

| model | tokens/s |
|---|---:|
| demo-chat | 40 |
| demo-fast | 100000 |
"""


def run() -> dict[str, float]:
    from playground.chat.models import Conversation, Message
    from tests.factories import MembershipFactory, ProjectFactory

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        membership = MembershipFactory(role="member")
        project = ProjectFactory(team=membership.team)
        conversation = Conversation.objects.create(project=project, model="demo-chat", title="Long")
        parent = None
        for n in range(500):
            parent = Message.objects.create(conversation=conversation, parent=parent, role="user", content=f"Q{n}?")
            parent = Message.objects.create(
                conversation=conversation, parent=parent, role="assistant", content=ANSWER, status="done"
            )
        conversation.current_leaf = parent
        conversation.save()
        client = Client()
        client.force_login(membership.user)
        url = f"/conversations/{conversation.pk}/"
        assert client.get(url).status_code == 200  # warm up
        timings = []
        for _ in range(RUNS):
            started = time.perf_counter()
            assert client.get(url).status_code == 200
            timings.append((time.perf_counter() - started) * 1000)
        return {"chat_page_1000_messages_ms": round(statistics.median(timings), 1)}
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()  # the next benchmark may set it up again
