"""Markdown rendering speed: 100 KB of a long model answer to sanitised HTML, never seen before."""

# ruff: noqa: E501 (models write each paragraph and list item on one long line)

from __future__ import annotations

import gc
import statistics
import time

from playground.chat.markdown import render_markdown

TARGET_BYTES = 100_000
RUNS = 15

# Sections of a long technical answer as models write them: one line per paragraph or
# list item, headings, nested lists, tables, quotes, and fenced code in several languages.
PROSE_SECTIONS = (
    """\
## {n}. Choosing a cache policy

Caching is one of the most effective ways to make a page fast, but it brings a new class of bugs: stale data, thundering herds and reads that disagree between replicas. The key decision is **what** to cache and for how long; a good rule is to cache what is expensive to compute and changes rarely, and to leave anything user-specific alone unless the key includes the user.

| Strategy | Freshness | Complexity | Good for |
|:---------|:---------:|-----------:|----------|
| Time-to-live | Medium | Low | listings, counts |
| Write-through | High | Medium | settings, profiles |
| Invalidate on write | High | High | prices, stock |
| No cache | Exact | None | payments |

> **Note:** a cache that is never invalidated is a bug that has not been reported yet. Measure the hit rate (section {n}) before tuning anything else.

1. Start with a short time-to-live, such as {n} minutes.
2. Add invalidation only where users notice stale data.
3. Watch the database load while you change either.

""",
    """\
## {n}. Trade-offs worth knowing

Every choice above has a cost, and it is better to know it before a user finds it for you. None of these is a reason to avoid the approach; they are reasons to measure, to write the decision down next to the code, and to revisit it when the numbers change. The list is ordered by how often each one bites teams in practice, according to the incident reviews we have seen over the last {n} months.

- **Startup time.** Validating everything at start adds a few milliseconds, which matters only for short-lived processes such as serverless functions or management commands run in a loop.
- **Rigid configuration.** Failing on unknown values means a typo in a deployment manifest stops the rollout:
  - that is usually what you want in production, because a silent default is worse;
  - in development, print the list of accepted values along with the error.
- **Cache staleness.** A time-to-live of a few minutes means a user may see an old price; if that is unacceptable, invalidate on write instead and accept the extra complexity.
- **Query cost.** Grouped queries are cheap with the right index and very expensive without it, so check the plan with `EXPLAIN ANALYZE` whenever the table grows by an order of magnitude.

In short: prefer the simple option, measure it, and move to the complex one only when a measurement, not a feeling, says you must. See the [PostgreSQL documentation on EXPLAIN](https://www.postgresql.org/docs/current/using-explain.html) for reading plans.

""",
    """\
## {n}. Troubleshooting

Most problems people report fall into a handful of groups. Before digging into the code, check which group yours belongs to; the table lists the usual symptom, the first thing to look at and the fix that worked most often. If none matches, collect the request id from the response headers and the time of the failure, and search the logs for both.

| Symptom | First check | Usual fix |
|---------|-------------|-----------|
| Service exits at start | the error message names a setting | set or correct that variable |
| Pages are slow after a deploy | cache hit rate | warm the cache or raise the time-to-live |
| Numbers differ between pages | which replica served each page | read from the primary for reports |
| Timeouts under load | worker count and queue length | add workers, or move work to a queue |
| Wrong totals in reports | time zone of the query | compare in UTC, convert for display |

If the logs show `ConnectionResetError` during peaks, the load balancer is probably closing idle connections sooner than the client expects; lower the client's keep-alive below the balancer's idle timeout (step {n} explains where both are set). *Restarting* the workers hides this for a while but does not fix it.

""",
    """\
## {n}. Background

Before changing anything it helps to know *why* the current design looks the way it does. The first version of the service ran as a single process with an in-memory cache, which was simple and fast as long as there was only one machine; the trouble started when a second worker was added and each kept its own copy of the data. That history explains most of the odd corners you will meet in the code.

### What changed since then

The service now runs {n} workers behind a load balancer, shares a database and a cache, and serves about ten times the traffic of the first release. Most of the settings you will touch exist because of that move, and the [architecture notes](https://example.com/docs/architecture) describe each one in more detail than fits here.

### What did not change

The public API kept its shape: every endpoint still answers in JSON, errors still carry a stable `code` field, and clients written against the first release still work. Keep it that way unless there is a very good reason, and announce any change at least one release ahead.

""",
    """\
## {n}. Checklist before a release

Run through this list before every release, even a small one; most of the incidents in the last year would have been caught by one of these steps, and together they take about fifteen minutes.

1. **Tests pass** on the main branch, including the slow ones that only run at night.
2. **Migrations** are reviewed:
   - no table rewrite on a large table during working hours;
   - every new column either has a default or is nullable;
   - the reverse migration has been run at least once.
3. **Settings** added in this release are documented, with their defaults and units.
4. **Dashboards** show the new metrics, and alerts exist for the ones that matter.
5. **Rollback plan** is written down: which version to go back to, and what to do about data written in between.

> Skipping a step "just this once" is how most checklists stop being used. If a step is not worth doing, remove it from the list instead.

""",
    """\
## {n}. Frequently asked questions

**Can I change a setting without a restart?** Not for values read at import time. Values that must change at run time belong in the database, with a short cache in front; the admin page for them is described in section {n}.

**Why does the health check pass while users see errors?** The health check only proves the process is up and can reach the database. It does not exercise the upstream services, so a failing upstream shows up in the error rate, not in the health check. Watch both.

**How many workers should I run?** Start with one per core and measure. Add workers while throughput rises and latency stays flat; stop when either gets worse. More workers than cores only helps when requests spend most of their time waiting on the network.

**Where are the logs?** On standard output, one JSON object per line, collected by the platform. Search by `request_id` first: every line written while handling a request carries it.

""",
)
CODE_SECTIONS = (
    """\
## {n}. Loading the configuration

When the service starts it reads its settings from the environment, validates them and fails early with a clear message. This keeps the settings module small and makes a mistake obvious in the logs, instead of a `KeyError` deep inside a request handler an hour later. The [twelve-factor notes](https://12factor.net/config) explain why the environment is the right place for values that differ between deployments.

A few rules make this robust:

- Read every value through a **typed helper** such as `env_int("WORKERS", {n})`, never `os.environ[...]` directly.
- Keep secrets out of the repository:
  - use a `<NAME>_FILE` variable for container secrets;
  - never print them, even at debug level.
- Fail on unknown values rather than *guessing* what was meant.

```python
def env_int(name: str, default: int) -> int:
    \"\"\"Read an integer from the environment, or return the default.\"\"\"
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise SystemExit(f"{{name}} must be an integer, got {{raw!r}}") from error


WORKERS = env_int("WORKERS", {n})
TIMEOUT_S = float(os.environ.get("TIMEOUT_S", "30"))
```

Values read at import time are fixed for the life of the process, so restart the workers after changing them. If you need values that change at run time, keep them in the database and cache them for a short time instead.

""",
    """\
## {n}. The client side

The browser code reads its options from `data-*` attributes so that the server stays the single source of truth for limits and labels. Parsing them once, with defaults, avoids a dozen `parseInt` calls scattered through the handlers, and keeps the behaviour the same whether the page was rendered by the server or swapped in later by htmx.

```typescript
export interface Options {{
  retries: number;
  timeoutMs: number;
  label: string;
}}

export function readOptions(element: HTMLElement): Options {{
  const data = element.dataset;
  return {{
    retries: Number.parseInt(data.retries ?? "3", 10),
    timeoutMs: Number.parseFloat(data.timeout ?? "30") * 1000,
    label: data.label || "Step {n}",
  }};
}}
```

Then check the server and the data it returns:

```bash
export WORKERS={n}
curl -fsS "http://127.0.0.1:8000/health?step={n}" | jq '.checks[] | select(.ok | not)'
```

""",
    """\
## {n}. Querying the usage table

Reports should be computed in the database, not in Python: one grouped query over an indexed column is much faster than loading every row and summing in a loop, and it stays fast as the table grows. The query below gives tokens and cost per model for one team over the last {n} days; the index on `(team_id, created_at)` makes it a range scan.

```sql
SELECT model,
       COUNT(*)               AS calls,
       SUM(tokens_in)         AS tokens_in,
       SUM(tokens_out)        AS tokens_out,
       ROUND(AVG(ttft_ms), 1) AS mean_ttft_ms
FROM usage_usagerecord
WHERE team_id = %(team_id)s
  AND created_at >= NOW() - INTERVAL '{n} days'
GROUP BY model
ORDER BY tokens_out DESC;
```

If the numbers look wrong, check ~~the cache~~ the time zone first: `created_at` is stored in UTC.

""",
)
# A mixed answer: one section in three has code (12% of the bytes, 40 blocks, 4 languages).
MIXED = (
    *PROSE_SECTIONS[:2],
    CODE_SECTIONS[0],
    *PROSE_SECTIONS[2:4],
    CODE_SECTIONS[1],
    *PROSE_SECTIONS[4:],
    CODE_SECTIONS[2],
)
# A coding answer: every section has code (38% of the bytes, 126 blocks).
CODE_HEAVY = CODE_SECTIONS


def realistic_markdown(size: int = TARGET_BYTES, first: int = 1, sections: tuple[str, ...] = MIXED) -> str:
    """A long answer of `size` bytes, its numbers starting at `first` so that each one is new."""
    parts: list[str] = []
    total = 0
    n = first
    while total < size:
        section = sections[n % len(sections)].format(n=n)
        parts.append(section)
        total += len(section.encode())
        n += 1
    return "".join(parts)[:size]


def median_ms(sections: tuple[str, ...]) -> float:
    render_markdown(realistic_markdown(first=100_000, sections=sections))  # lexers loaded
    timings = []
    for run_number in range(RUNS):
        # A new document every run, so that the renderer's cache of highlighted code
        # blocks cannot help; and a collection first, so that every run starts with the
        # collector in the same state (how often full collections come depends on the
        # whole process's heap, not on the renderer).
        text = realistic_markdown(first=1 + run_number * 1_000, sections=sections)
        gc.collect()
        started = time.perf_counter()
        render_markdown(text)
        timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(timings), 2)


def run() -> dict[str, float]:
    return {
        "markdown_100kb_ms": median_ms(MIXED),
        "markdown_100kb_code_heavy_ms": median_ms(CODE_HEAVY),
    }


if __name__ == "__main__":
    print(run())
