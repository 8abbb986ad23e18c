"""bench/REPORT.md and its plots, from the JSON figures the benchmarks write (called by bench/run_all.py).

Every row of the table is a figure with the target it must reach (from the issue that set it:
README, docs/design.md, docs/audit.md and each script's docstring), what this run measured, and
whether it passed; rows whose target is "-" are context without a target. The engine / script
ratios compare bench/assignments_bench.py with bench/baseline_script.py on identically seeded
sandboxes, at the default quota and under the fault mix.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sqlite3
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPORT = "REPORT.md"
PLOTS = "report"  # beside REPORT.md
THROUGHPUT_PNG = "throughput.png"
LATENCY_PNG = "latency.png"
NOT_MEASURED = "not measured"
AUDIT_VERIFY_RATE = 1_000_000 / 60  # issue 5: verify a million events in under 60 s


@dataclass(frozen=True)
class Row:
    """One line of the figures table."""

    area: str
    figure: str
    target: str
    measured: str
    passed: bool | None  # None: context, no target


@dataclass(frozen=True)
class Ratio:
    """One engine / script comparison."""

    scenario: str
    figure: str
    engine: float | None
    script: float | None

    @property
    def ratio(self) -> str:
        if self.engine is None or self.script is None:
            return NOT_MEASURED
        if self.script == 0:
            return "- (both 0)" if self.engine == 0 else "∞ (script 0)"
        return f"{self.engine / self.script:.2f}"


def load(path: Path) -> dict[str, Any] | list[Any] | None:
    """A benchmark's figures, or None when it wrote none."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def machine_description() -> dict[str, Any]:
    """What the figures were measured on, and how busy it was when the run started."""
    cpu = ""
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")  # fmt: skip
        memory_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                             if line.startswith("MemTotal")))  # fmt: skip
    except (OSError, StopIteration, ValueError):
        memory_kb = 0
    return {"platform": platform.platform(), "cpu": cpu or platform.processor(), "cores": os.cpu_count(),
            "memory_gb": round(memory_kb / 2**20, 1), "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "load_average_start": [round(x, 2) for x in os.getloadavg()]}


# --- rows -------------------------------------------------------------------------------------

def _pass_row(area: str, figure: str, target: str, value: Any, ok: bool, shown: str | None = None) -> Row:
    return Row(area, figure, target, shown if shown is not None else str(value), ok)


def _missing(area: str, figures: list[tuple[str, str]]) -> list[Row]:
    return [Row(area, figure, target, NOT_MEASURED, False) for figure, target in figures]


def rows_client(data: dict[str, Any] | None) -> list[Row]:
    area = "client pacing"
    if not data:
        return _missing(area, [("errors surfaced to the caller", "0"), ("429s provoked", "0"),
                               ("conversations read", "all")])
    k = data.get("knobs", {})
    faults = (f"{k.get('error_rate', 0):.0%} 5xx, {k.get('token_lifetime_seconds')} s tokens, quota "
              f"{k.get('rate_limit')}/{k.get('window_seconds'):g} s, {k.get('threads')} threads")
    wanted = k.get("conversations")
    return [
        _pass_row(area, f"errors surfaced to the caller ({faults})", "0", data["errors_surfaced"],
                  data["errors_surfaced"] == 0),
        _pass_row(area, "429s provoked (requests over the quota)", "0", data["server_rate_limited"],
                  not data["server_rate_limited"]),
        _pass_row(area, "conversations read", f"all {wanted}", data.get("conversations_read"),
                  data.get("conversations_read") == wanted),
        Row(area, "elapsed / time the quota allows for its calls", "-", f"{data['elapsed_vs_quota']}", None),
    ]


def rows_catalog(data: dict[str, Any] | None) -> list[Row]:
    area = "catalog sync"
    if not data:
        return _missing(area, [("API calls of a first sync", "= pages"), ("database work of a first sync", "< 10 s"),
                               ("rows written by an unchanged second sync", "0")])
    first, second, c = data["first_sync"], data["second_sync"], data["catalog"]
    size = f"{c['queues']:,} queues, {c['codes']:,} codes, {c['memberships']:,} memberships"
    return [
        _pass_row(area, f"API calls of a first sync ({size})", f"= pages at max size ({first['pages_at_max_size']})",
                  first["api_calls"], first["api_calls"] == first["pages_at_max_size"]),
        _pass_row(area, f"database work of a first sync ({data['database']})", "< 10 s",
                  None, first["database_work_seconds"] < 10, f"{first['database_work_seconds']} s"),
        _pass_row(area, "rows written by an unchanged second sync", "0", second["rows_written"],
                  second["rows_written"] == 0),
    ]


def rows_interactions(data: dict[str, Any] | None) -> list[Row]:
    area = "search overhead"
    if not data:
        return _missing(area, [("search page beyond its Genesys call", "p95 < 50 ms"),
                               ("live board refresh beyond Genesys", "p95 < 100 ms")])
    out = []
    for r in data["rows"]:
        if r["target_ms"] is None:
            continue
        out.append(Row(area, r["figure"].strip(), f"p95 < {r['target_ms']:g} ms",
                       f"median {r['median_ms']} ms, p95 {r['p95_ms']} ms (CPU p95 {r['cpu_p95_ms']} ms)", r["pass"]))
    return out


def rows_assignments(data: dict[str, Any] | None, *, faults: bool) -> list[Row]:
    area = "bulk assignment" + (" (fault mix)" if faults else "")
    if not data:
        return _missing(area, [("assignments / minute", ">= 270"), ("legs written twice", "0"),
                               ("assignments lost", "0")])
    k, t = data.get("knobs", {}), data.get("targets", {})
    size = f"{k.get('legs')} legs, quota {k.get('rate_limit')}/{k.get('window_seconds'):g} s"
    rate_target = t.get("assignments_per_minute", 270)
    rows = []
    if faults:
        # No throughput target under faults: every 5xx costs quota and a read-back. Shown for the ratio.
        rows.append(Row(area, f"assignments / minute ({size}, 10 % 5xx, 60 s tokens)", "-",
                        f"{data['assignments_per_minute']}", None))
        rows.append(Row(area, "API calls / assignment", "-", f"{data['calls_per_assignment']}", None))
    else:
        rows.append(_pass_row(area, f"assignments / minute / OAuth client ({size})", f">= {rate_target:g}",
                              data["assignments_per_minute"], data["assignments_per_minute"] >= rate_target))
        rows.append(_pass_row(area, "API calls / assignment", f"<= {t.get('calls_per_assignment', 1.1):g}",
                              data["calls_per_assignment"], data["calls_per_assignment"] <= t.get("calls_per_assignment", 1.1)))
    rows += [
        _pass_row(area, "legs written twice", "0", data["duplicates"], data["duplicates"] == 0),
        _pass_row(area, "assignments lost (not applied, or the leg without the code)", "0", data["lost"], data["lost"] == 0),
        _pass_row(area, "requests sent inside a served Retry-After", "0", data["inside_retry_after"],
                  data["inside_retry_after"] == 0),
        _pass_row(area, "requests answered 429", f"< {t.get('rate_limited_share', 0.01):.0%}", None,
                  data["rate_limited_share"] < t.get("rate_limited_share", 0.01),
                  f"{data['rate_limited_share']:.2%} ({data['rate_limited']})"),
    ]  # fmt: skip
    return rows


def rows_rules(data: dict[str, Any] | None) -> list[Row]:
    area = "auto-assign latency"
    if not data:
        return _missing(area, [("sandbox delivers user.end → code written", "p95 < 1 s")])
    return [
        _pass_row(area, f"sandbox delivers `user.end` → rule's code written ({data['events']} events, "
                        f"{data['workers']} workers)", f"p95 < {data['target_p95_seconds']:g} s", None,
                  data["p95_seconds"] < data["target_p95_seconds"],
                  f"p50 {data['p50_seconds']} s, p95 {data['p95_seconds']} s"),
        _pass_row(area, "legs coded / written twice", f"{data['events']} / 0", None,
                  data["coded"] == data["events"] and data["written_twice"] == 0,
                  f"{data['coded']} / {data['written_twice']}"),
    ]  # fmt: skip


def rows_audit(data: dict[str, Any] | None) -> list[Row]:
    area = "audit scale"
    figures = [("slowest filtered page", "< 100 ms"), ("full CSV export", ">= 30,000 rows/s"),
               ("export peak memory", "< 150 MB"), ("verify_audit", "< 60 s per million events")]
    if not data or not all(data.get(step) for step in ("pages", "export", "verify")):
        return _missing(area, figures)
    events = data["events"]
    cases = {name: f for name, f in data["pages"].items() if isinstance(f, dict) and "cold_ms" in f}
    worst_name, worst = max(cases.items(), key=lambda item: max(item[1]["cold_ms"], item[1]["warm_worst_ms"]))
    worst_ms = max(worst["cold_ms"], worst["warm_worst_ms"])
    export, verify = data["export"], data["verify"]
    rate = verify["events"] / verify["seconds"] if verify["seconds"] else float("inf")
    return [
        _pass_row(area, f"slowest of {len(cases)} filtered pages, cold or warm ({events:,} events)", "< 100 ms", None,
                  worst_ms < 100, f"{worst_ms} ms ({worst_name}); warm medians at most "
                                  f"{max(f['warm_median_ms'] for f in cases.values())} ms"),
        _pass_row(area, f"full CSV export ({export['rows']:,} rows)", ">= 30,000 rows/s", None,
                  export["rows_per_second"] >= 30_000, f"{export['rows_per_second']:,} rows/s"),
        Row("export memory", f"export peak RSS ({export['rows']:,} rows)", "< 150 MB", f"{export['peak_rss_mb']} MB",
            export["peak_rss_mb"] < 150),
        _pass_row(area, f"verify_audit ({verify['events']:,} events)", "< 60 s per million (16,667 events/s)", None,
                  verify["ok"] and rate >= AUDIT_VERIFY_RATE, f"{verify['seconds']} s ({rate:,.0f} events/s)"),
    ]  # fmt: skip


def rows_sandbox(load_data: dict[str, Any] | None, memory: list[dict[str, Any]] | None) -> list[Row]:
    area = "sandbox"
    rows = []
    if load_data:
        by_name = {r["request"]: r for r in load_data["quiet"] + load_data["under_load"]}
        for name in ("GET /conversations/{id}", "GET /conversations/{id} (under load)",
                     "POST analytics query: 1 day, queue, timeout/no code (under load)"):
            if name in by_name:
                rows.append(Row(area, f"{name}, {load_data['conversations_loaded']:,} conversations", "-",
                                f"p50 {by_name[name]['p50_ms']} ms, p95 {by_name[name]['p95_ms']} ms", None))
    else:
        rows.append(Row(area, "typical calls with 100k conversations loaded", "-", NOT_MEASURED, False))
    bounded = next((v for v in memory or [] if v["variant"] == "bounded"), None)
    if bounded and bounded["days"]:
        first, last = bounded["days"][0]["rss_mb"], bounded["days"][-1]["rss_mb"]
        unbounded = next((v for v in memory or [] if v["variant"] == "unbounded"), None)
        rows.append(_pass_row(area, f"memory after {len(bounded['days'])} simulated days ({bounded['agents']} agents)",
                              "bounded: flat from day 1 (within 10 %)", None, last <= first * 1.1,
                              f"{first} → {last} MB" + (f" (unbounded: {unbounded['final_rss_mb']} MB)" if unbounded else "")))
    else:
        rows.append(Row(area, "memory over simulated days", "bounded", NOT_MEASURED, False))
    return rows


def build_rows(figures: dict[str, Any]) -> list[Row]:
    """Every target row, in the issue's order; a benchmark not run this time has no rows."""
    makers: list[tuple[tuple[str, ...], Callable[[], list[Row]]]] = [
        (("client_soak",), lambda: rows_client(figures.get("client_soak"))),
        (("catalog_sync",), lambda: rows_catalog(figures.get("catalog_sync"))),
        (("interactions",), lambda: rows_interactions(figures.get("interactions"))),
        (("assignments_engine",), lambda: rows_assignments(figures.get("assignments_engine"), faults=False)),
        (("assignments_engine_faults",), lambda: rows_assignments(figures.get("assignments_engine_faults"), faults=True)),
        (("rules_latency",), lambda: rows_rules(figures.get("rules_latency"))),
        (("audit",), lambda: rows_audit(figures.get("audit"))),
        (("sandbox_load", "sandbox_memory"), lambda: rows_sandbox(figures.get("sandbox_load"), figures.get("sandbox_memory"))),
    ]  # fmt: skip
    return [row for names, make in makers if any(n in figures for n in names) for row in make()]


def build_ratios(figures: dict[str, Any]) -> list[Ratio]:
    """Engine / script for each scenario whose two runs were part of this run."""
    out = []
    for scenario, engine_key, script_key in (("default quota", "assignments_engine", "baseline_script"),
                                             ("fault mix", "assignments_engine_faults", "baseline_script_faults")):
        if engine_key not in figures and script_key not in figures:
            continue
        engine, script = figures.get(engine_key) or {}, figures.get(script_key) or {}
        for label, key in (("assignments per minute", "assignments_per_minute"), ("assignments lost", "lost"),
                           ("duplicate writes (legs written twice)", "duplicates"), ("429s provoked", "rate_limited")):
            out.append(Ratio(scenario, label, engine.get(key), script.get(key)))
    return out


# --- text -------------------------------------------------------------------------------------

def _verdict(passed: bool | None) -> str:
    return "-" if passed is None else ("pass" if passed else "**FAIL**")


def table(rows: list[Row]) -> str:
    lines = ["| area | figure | target | measured | pass/fail |", "|---|---|---|---|---|"]
    lines += [f"| {r.area} | {r.figure} | {r.target} | {r.measured} | {_verdict(r.passed)} |" for r in rows]
    return "\n".join(lines)


def ratio_table(ratios: list[Ratio]) -> str:
    def show(value: float | None) -> str:
        return NOT_MEASURED if value is None else f"{value:g}"

    lines = ["| scenario | figure | engine | script | engine / script |", "|---|---|---:|---:|---:|"]
    lines += [f"| {r.scenario} | {r.figure} | {show(r.engine)} | {show(r.script)} | {r.ratio} |" for r in ratios]
    return "\n".join(lines)


def machine_line(machine: dict[str, Any]) -> str:
    return (f"{machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB RAM; {machine['platform']}; "
            f"Python {machine['python']}, SQLite {machine['sqlite']}; load average (1, 5, 15 min) "
            f"{', '.join(map(str, machine['load_average_start']))} at the start, "
            f"{', '.join(map(str, machine.get('load_average_end', [])))} at the end")


def tail_lines(figures: dict[str, Any]) -> list[str]:
    """When each side had written 99 % of its legs, and its last one: where a run's time went."""
    lines = []
    for scenario, keys in (("default quota", ("assignments_engine", "baseline_script")),
                           ("fault mix", ("assignments_engine_faults", "baseline_script_faults"))):
        parts = []
        for key, label in zip(keys, ("engine", "script"), strict=True):
            data = figures.get(key)
            if not data or not data["samples"]["writes_applied_at"]:
                continue
            times, legs = data["samples"]["writes_applied_at"], data["legs"]
            at_99 = times[math.ceil(0.99 * legs) - 1] if len(times) >= math.ceil(0.99 * legs) else None
            parts.append(f"{label} {'never' if at_99 is None else f'{at_99:.0f} s'} to 99 % of the legs, "
                         f"{times[-1]:.0f} s to its last write")
        if parts:
            lines.append(f"- {scenario}: " + "; ".join(parts) + ".")
    if lines:
        lines += ["", "Under the fault mix the engine reads every leg back after a write answered 5xx (was it "
                  "applied?) and retries it after a short backoff with jitter (a job's last chunk waits up to "
                  "20 s for such a retry rather than leaving it to the minute sweep): more calls against the same "
                  "quota, so it ends later than the script, which sends one PATCH per leg and gives up on the "
                  "legs that keep failing.", ""]
    return lines


def markdown(rows: list[Row], ratios: list[Ratio], machine: dict[str, Any], run: dict[str, Any],
             plots: list[str], tails: list[str]) -> str:
    failed = [r for r in rows if r.passed is False]
    mode = "`bench/run_all.py --quick` (sizes shrunk, figures not comparable with the targets)" if run["quick"] \
        else "`make bench` (`bench/run_all.py`) at default sizes"
    parts = [
        "# Performance report",
        "",
        f"Generated by {mode}, started {run['started']}, {run['total_seconds']:.0f} s in all "
        f"({run['jobs']} benchmark group(s) at a time; the four assignment runs together). {len(rows)} figures, {sum(r.passed is True for r in rows)} "
        f"pass, {len(failed)} fail, {sum(r.passed is None for r in rows)} without a target.",
        "",
        f"**Machine**: {machine_line(machine)}. The machine is shared: a load average above its core count means "
        "other work competed for the CPU, which inflates wall-clock latencies (the search rows also give CPU time).",
        "",
        "## Figures",
        "",
        table(rows),
        "",
        "## Engine against the naive script",
        "",
        "`bench/baseline_script.py` is the usual script approach: `requests`, one PATCH per leg one after the other, "
        "1, 2 and 4 s backoff on 429 and 5xx then give up, a new token only on a 401, no pacing, no read-back. It runs "
        "at the same time as the engine's bulk job, on a sandbox of its own seeded and configured identically (same "
        "legs, quota, fault knobs). Fault mix: 10 % of API answers a 5xx, tokens that expire every minute. Counts come "
        "from the sandboxes: legs carrying the code (ground truth), accepted writes per leg, 429s answered.",
        "",
        ratio_table(ratios),
        "",
        "Assignments per minute run from the job's start to its last write (engine: job queued → last assignment "
        "final). The sandbox's quota window is fixed and opens at a token's first request, so a job a few windows "
        "long can beat the per-minute quota (its last window is partly used); the engine's sustained rate is "
        "`bench/assignments_bench.py` at 1,000 legs. A ratio of 0.00 is the engine at 0 against the script's count; "
        "\"both 0\" means neither did it.",
        "",
        *tails,
    ]
    if plots:
        parts += ["## Plots", ""] + [f"![{Path(p).stem}]({PLOTS}/{p})" for p in plots] + [""]
    parts += ["## Sizes and seeds", "", "| benchmark | command (size knobs) | seconds |", "|---|---|---:|"]
    parts += [f"| {name} | `{cmd}` | {run['seconds'].get(name, '-')} |" for name, cmd in run["commands"].items()]
    parts += ["", "Each benchmark seeds its own sandbox (its `--help` and docstring give the seed and every knob); "
              f"raw figures and logs: `{run['results']}`.", ""]
    return "\n".join(parts)


# --- plots ------------------------------------------------------------------------------------

def plot_throughput(figures: dict[str, Any], path: Path) -> bool:
    """Assignments written over time: engine and script, default quota and fault mix side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = [("default quota", "assignments_engine", "baseline_script"),
                 ("fault mix (10 % 5xx, 60 s tokens)", "assignments_engine_faults", "baseline_script_faults")]
    scenarios = [s for s in scenarios if figures.get(s[1]) or figures.get(s[2])]
    if not scenarios:
        return False
    fig, axes = plt.subplots(1, len(scenarios), figsize=(6 * len(scenarios), 4), squeeze=False, sharey=True)
    for ax, (title, engine_key, script_key) in zip(axes[0], scenarios, strict=True):
        for key, label, color in ((engine_key, "engine", "tab:blue"), (script_key, "naive script", "tab:orange")):
            data = figures.get(key)
            if not data:
                continue
            times = data["samples"]["writes_applied_at"]
            ax.step(times, range(1, len(times) + 1), where="post", color=color,
                    label=f"{label}: {data['assignments_per_minute']:g}/min, {data['lost']} lost")
            limited = data["samples"]["rate_limited_at"]
            if limited:
                ax.plot(limited, [0] * len(limited), "|", color=color, markersize=12,
                        label=f"{label}: 429 answers ({len(limited)})")
        knobs = (figures.get(engine_key) or figures.get(script_key)).get("knobs", {})
        ax.set_title(f"{title}\n{knobs.get('legs')} legs, quota {knobs.get('rate_limit')}/{knobs.get('window_seconds'):g} s")
        ax.set_xlabel("seconds since the job started")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    axes[0][0].set_ylabel("assignments written (cumulative)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def plot_latency(figures: dict[str, Any], path: Path) -> bool:
    """Latency distributions: rule event → write, and the portal's own time on the search page and board."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = []
    if (rules := figures.get("rules_latency")) and rules["samples"]["latency_seconds"]:
        panels.append(("rule: user.end delivered → code written", "seconds",
                       {"events": rules["samples"]["latency_seconds"]}, 1.0))
    if (inter := figures.get("interactions")) and inter.get("samples"):
        panels.append(("portal time beyond Genesys", "ms", inter["samples"], None))
    if (load := figures.get("sandbox_load")) and load.get("quiet"):
        chosen = {r["request"]: r["times_ms"] for r in load["quiet"] + load["under_load"]
                  if r["request"].startswith("GET /conversations/{id}") and r.get("times_ms")}
        if chosen:
            panels.append((f"sandbox, {load['conversations_loaded']:,} conversations", "ms", chosen, None))
    if not panels:
        return False
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.8), squeeze=False)
    for ax, (title, unit, series, target) in zip(axes[0], panels, strict=True):
        for label, values in series.items():
            ordered = sorted(values)
            share = [(i + 1) / len(ordered) for i in range(len(ordered))]
            ax.step(ordered, share, where="post",
                    label=f"{label} (median {statistics.median(ordered):.3g}, n={len(ordered)})")
        if target:
            ax.axvline(target, color="red", linestyle="--", label=f"target p95 < {target:g} {unit[0]}")
        ax.axhline(0.95, color="grey", linestyle=":", linewidth=1)
        ax.set_title(title)
        ax.set_xlabel(unit)
        ax.set_ylabel("share of requests (CDF)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def write(out: Path, *, figures: dict[str, Any], machine: dict[str, Any], run: dict[str, Any]) -> tuple[list[Row], list[Ratio]]:
    """Write ``out/REPORT.md`` and ``out/report/*.png``; return the rows and ratios written."""
    rows, ratios = build_rows(figures), build_ratios(figures)
    plots_dir = out / PLOTS
    plots_dir.mkdir(parents=True, exist_ok=True)
    plots = [name for name, plot in ((THROUGHPUT_PNG, plot_throughput), (LATENCY_PNG, plot_latency))
             if plot(figures, plots_dir / name)]  # fmt: skip
    (out / REPORT).write_text(markdown(rows, ratios, machine, run, plots, tail_lines(figures)))
    return rows, ratios
