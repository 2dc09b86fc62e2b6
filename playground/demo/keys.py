"""API keys for the demo upstream: minted by this installation and signed with its SECRET_KEY, so the demo
answers only callers that got a key from this Playground (its Demo provider), not anyone who can reach it."""

from __future__ import annotations

import re

from django.core import signing

PREFIX = "demo-"
SALT = "playground.demo"
# "." is not in the signature's alphabet, so a key reads as one word: demo-<label>.<signature>.
_SEP = "."
_LABEL = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Longer than any key we mint; refused before any hashing.
_MAX_KEY_LENGTH = 200


def _signer() -> signing.Signer:
    # Made per call, so a changed SECRET_KEY (or SECRET_KEY_FALLBACKS while rotating) applies at once.
    return signing.Signer(salt=SALT, sep=_SEP)


def demo_key(label: str = "demo") -> str:
    """A key the demo upstream accepts, e.g. "demo-demo.XyZ…". Different labels give different keys, and the
    demo keeps its per-key counters (demo-flaky, demo-ratelimited) apart for them."""
    if not _LABEL.fullmatch(label):
        raise ValueError("A demo key label is 1 to 64 letters, digits, '-' or '_'.")
    return PREFIX + _signer().sign(label)


def is_demo_key(token: str) -> bool:
    """Whether `token` is a key this installation minted; the signature is compared in constant time."""
    if not isinstance(token, str) or not token.startswith(PREFIX) or len(token) > _MAX_KEY_LENGTH:
        return False
    try:
        label = _signer().unsign(token.removeprefix(PREFIX))
    except signing.BadSignature:
        return False
    return bool(_LABEL.fullmatch(label))
