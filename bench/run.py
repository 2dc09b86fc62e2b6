"""`make bench`: run every benchmark and rewrite bench/RESULTS.md and bench/results.json.

Each benchmark module has `run() -> dict[metric, number]`. Baselines (a bare httpx loop, a
direct read of the upstream) are measured in the same run as what they are compared with.
"""

from __future__ import annotations

import datetime
import importlib
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# module, {metric: (target, "min" | "max", unit, what it measures)}
BENCHMARKS = [
    (
        "bench.machine",
        {
            "python_loop_10m_s": (
                None,
                None,
                "s",
                "calibration: a plain Python loop of 10 million additions (lower is faster)",
            )
        },
    ),
    (
        "bench.sse_parser",
        {
            "sse_parser_events_per_s": (300_000, "min", "events/s", "SSE parsing plus JSON decoding, one core"),
            "sse_typed_events_per_s": (None, None, "events/s", "SSE bytes to typed events (TextDelta, ...)"),
        },
    ),
    (
        "bench.client_overhead",
        {
            "client_overhead_ratio": (1.15, "max", "×", "our client vs bare httpx aiter_bytes, fast demo stream"),
            "client_mb_per_s": (None, None, "MB/s", "our client reading the same stream (SSE bytes)"),
            "bare_httpx_mb_per_s": (None, None, "MB/s", "baseline: bare httpx reading the same stream"),
        },
    ),
    (
        "bench.chat_page",
        {
            "chat_page_1000_messages_ms": (
                200,
                "max",
                "ms",
                "server time of a chat page with 1,000 messages (the latest 100 shown, earlier ones on demand)",
            ),
            "chat_page_all_1000_shown_ms": (None, None, "ms", "the same page with all 1,000 messages shown"),
        },
    ),
    (
        "bench.streams",
        {
            "relay_ttft_overhead_p50_ms": (
                5,
                "max",
                "ms",
                "first token through our websocket minus direct, 100 streaming",
            ),
            "relay_ttft_overhead_p99_ms": (25, "max", "ms", "the same at the 99th percentile"),
            "relay_ttft_p50_ms": (None, None, "ms", "first token through our websocket (demo-chat, ~150 ms pace)"),
            "direct_ttft_p50_ms": (None, None, "ms", "baseline: first token reading the demo upstream directly"),
            "relay_ttft_probes": (None, None, "pairs", "probe pairs (direct, then relayed) measured"),
            "relay_ttft_load_answers": (None, None, "answers", "answers the 100 people streamed meanwhile"),
            "streams_1000_complete": (
                1000,
                "min",
                "streams",
                "of 1,000 concurrent 500-token streams at 20 tokens/s, exact",
            ),
            "streams_1000_rss_mb": (300, "max", "MB", "server memory growth during the 1,000 streams"),
            "streams_1000_cpu_s": (None, None, "s", "server CPU time for the 1,000 streams"),
            "streams_1000_wall_s": (None, None, "s", "wall time of the 1,000 streams (ideal: 25 s plus first token)"),
        },
    ),
    (
        "bench.markdown",
        {"markdown_100kb_ms": (50, "max", "ms", "sanitised markdown rendering of a 100 KB answer")},
    ),
    (
        "bench.embeddings",
        {
            "embeddings_1000x1024_ms": (
                1000,
                "max",
                "ms",
                "similarity, similar-together order and PCA of 1,000 texts × 1,024 dimensions",
            ),
            "embeddings_page_1000x1024_ms": (None, None, "ms", "server time of that run's page (charts and tables)"),
        },
    ),
    (
        "bench.dashboard",
        {
            "dashboard_1m_sqlite_ms": (300, "max", "ms", "usage dashboard, last 30 days of 1,000,000 records, SQLite"),
            "dashboard_1m_postgres_ms": (300, "max", "ms", "the same on PostgreSQL"),
            "csv_export_rows_per_s": (100_000, "min", "rows/s", "CSV export of the 1,000,000 records (SQLite)"),
            "csv_export_peak_mb": (None, None, "MB", "Python memory held meanwhile (tracemalloc peak)"),
            "seed_1m_sqlite_s": (None, None, "s", "seed_usage --rows 1000000 on SQLite, roll-ups included"),
            "seed_1m_postgres_s": (None, None, "s", "the same on PostgreSQL"),
        },
    ),
]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}, {platform.system()}"


def verdict(value: float, target, direction) -> str:
    if target is None:
        return ""
    ok = value >= target if direction == "min" else value <= target
    return "✓" if ok else "✗ misses target"


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    only = set(sys.argv[1:])
    results: dict[str, float] = {}
    path = HERE / "results.json"
    if only and path.exists():
        results.update(json.loads(path.read_text()))
    for module_name, _metrics in BENCHMARKS:
        if only and module_name.split(".")[-1] not in only:
            continue
        print(f"== {module_name}", flush=True)
        measured = importlib.import_module(module_name).run()
        print(measured, flush=True)
        results.update(measured)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    lines = [
        "# Benchmark results",
        "",
        f"Measured {today} at commit {commit} on: {machine()}.",
        "Written by `make bench`; `bench/results.json` holds the same figures.",
        "",
        "| metric | value | target | | what |",
        "|---|---:|---:|---|---|",
    ]
    for _module, metrics in BENCHMARKS:
        for metric, (target, direction, unit, what) in metrics.items():
            if metric not in results:
                continue
            value = results[metric]
            bound = "" if target is None else f"{'≥' if direction == 'min' else '≤'} {target:,}"
            shown = f"{value:,.3f}" if isinstance(value, float) and value < 100 else f"{value:,.0f}"
            lines.append(f"| `{metric}` | {shown} {unit} | {bound} | {verdict(value, target, direction)} | {what} |")
    (HERE / "RESULTS.md").write_text("\n".join(lines) + "\n")
    print((HERE / "RESULTS.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
