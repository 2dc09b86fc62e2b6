"""How fast this machine runs plain Python right now, so figures of different runs compare.

Shared machines differ from hour to hour (measured here: the same loop took 0.6 s one
session and 1.8 s another), and every figure in RESULTS.md moves with them.
"""

from __future__ import annotations

import time


def run() -> dict[str, float]:
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        total = 0
        for number in range(10_000_000):
            total += number
        best = min(best, time.process_time() - started)
    return {"python_loop_10m_s": round(best, 3)}
