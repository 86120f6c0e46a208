"""Turn raw samples into the result document (JSON) and the printed table.

Ratio = median(futures_impl) / median(stdlib) per unit, on the same
interpreter in the same run.  A row passes when its ratio is at most its
target (or ``DEFAULT_CEILING`` when it has none).  The geometric mean covers
every timed row where both sides do the same work; a row where they cannot
(``thread_map_gen_buffersize`` on a stdlib without ``buffersize``, the rows of
issue 14's options, ``Row.geomean=False``) is shown but left out, and says why.
A side that skipped a row (``scenarios.Skip``: an option it does not have) has no
cost there; the row has no ratio and its note gives the reason.
"""

from __future__ import annotations

import math
from typing import Any

from .catalog import DEFAULT_CEILING, GEOMEAN_TARGET, Row

SCALE = {"us": (1e6, "µs"), "ms": (1e3, "ms")}


def fmt_cost(seconds: float | None, scale: str = "us") -> str:
    if seconds is None:
        return "-"
    mult, unit = SCALE[scale]
    v = seconds * mult
    if v < 1e-3 * (1e6 / mult) and scale == "ms":
        return fmt_cost(seconds, "us")
    if v >= 100:
        s = f"{v:.0f}"
    elif v >= 10:
        s = f"{v:.1f}"
    elif v >= 1:
        s = f"{v:.2f}"
    else:
        s = f"{v:.3f}"
    return f"{s} {unit}"


def fmt_kib(b: int | None) -> str:
    return "-" if b is None else f"{b / 1024:,.0f} KiB"


def fmt_ratio(r: float | None) -> str:
    return "-" if r is None else f"{r:.2f}"


def _div(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b <= 0:
        return None
    return a / b


def floor_line(fl: dict[str, Any]) -> str:
    err = f"  ERRORS: {fl['errors']}" if fl["errors"] else ""
    return f"floor {fl['label']:14} {fmt_cost(fl['median'])}{err}"


def progress_line(row: Row, res: dict[str, Any]) -> str:
    med = res["median"]
    parts = [f"{row.name:27}"]
    for side in res["sides"]:
        parts.append(f"{side} {fmt_cost(med.get(side), row.scale)}")
    parts.append(f"ratio {fmt_ratio(_div(med.get('impl'), med.get('stdlib')))}")
    for side, errs in res["errors"].items():
        parts.append(f"{side} FAILED {len(errs)}x: {errs[0]}")
    for side, reason in res.get("skipped", {}).items():
        parts.append(f"{side} skipped: {reason}")
    if "seconds" in res:
        parts.append(f"({res['seconds']} s)")
    return "  ".join(parts)


def build(
    meta: dict[str, Any],
    rows: list[Row],
    results: list[dict[str, Any]],
    floors: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    out_rows = []
    for row, res in zip(rows, results):
        med = res["median"]
        std, impl, loky = med.get("stdlib"), med.get("impl"), med.get("loky")
        ratio = _div(impl, std)
        cpu_med = res.get("cpu_median", {})
        cpu_ratio = _div(cpu_med.get("impl"), cpu_med.get("stdlib"))
        limit = row.target if row.target is not None else DEFAULT_CEILING
        notes = []
        in_geomean = True
        if not row.geomean:
            in_geomean = False
            notes.append(row.note or "the sides do different work; not in geomean")
        for side, reason in sorted(res.get("skipped", {}).items()):
            notes.append(f"{side} skipped: {reason}")
        if row.name == "thread_map_gen_buffersize" and res["has_buffersize"].get("stdlib") is False:
            in_geomean = False
            notes.append(
                f"stdlib has no buffersize (<3.14): it maps a {res['n']:,}-item "
                "generator eagerly; not in geomean"
            )
        floor = None
        if row.floor and row.floor in floors and floors[row.floor]["median"] is not None:
            fl = floors[row.floor]
            floor = {
                "name": row.floor,
                "label": fl["label"],
                "mult": row.floor_mult,
                "cost": fl["median"] * row.floor_mult,
            }
        paired = res["paired_ratios"]
        out_rows.append(
            {
                "scenario": row.name,
                "desc": row.desc,
                "unit": row.unit,
                "scale": row.scale,
                "n": res["n"],
                "stdlib": std,
                "impl": impl,
                "loky": loky,
                "ratio": ratio,
                "cpu_ratio": cpu_ratio,
                "process": row.process,
                "cpu": cpu_med,
                "loky_ratio": _div(loky, std) if row.process else None,
                "impl_beats_loky": (impl < loky) if (row.steady and impl and loky) else None,
                "target": row.target,
                "limit": limit,
                "status": None if ratio is None else ("pass" if ratio <= limit else "MISS"),
                "in_geomean": in_geomean,
                "floor": floor,
                "mem_peak": res["mem_peak"] if row.mem else None,
                "paired_ratio_range": [min(paired), max(paired)] if paired else None,
                "samples": res["samples"],
                "cpu_samples": res.get("cpu_samples"),
                "seconds": res.get("seconds"),
                "errors": res["errors"],
                "skipped": res.get("skipped", {}),
                "notes": notes,
            }
        )
    ratios = [r["ratio"] for r in out_rows if r["in_geomean"] and r["ratio"]]
    geomean = math.exp(sum(math.log(x) for x in ratios) / len(ratios)) if ratios else None
    steady = [r for r in out_rows if r["impl_beats_loky"] is not None]
    summary = {
        "geomean": geomean,
        "geomean_rows": len(ratios),
        "geomean_target": GEOMEAN_TARGET,
        "geomean_ok": geomean is not None and geomean <= GEOMEAN_TARGET,
        "rows_pass": sum(1 for r in out_rows if r["status"] == "pass"),
        "rows_miss": [r["scenario"] for r in out_rows if r["status"] == "MISS"],
        "rows_error": [r["scenario"] for r in out_rows if r["errors"]],
        "max_ratio": max((r["ratio"] for r in out_rows if r["ratio"]), default=None),
        "steady_process_rows_beat_loky": (
            all(r["impl_beats_loky"] for r in steady) if steady else None
        ),
    }
    return {"meta": meta, "floors": floors, "rows": out_rows, "summary": summary}


def render(doc: dict[str, Any]) -> str:
    meta, summ = doc["meta"], doc["summary"]
    head = (
        "scenario", "per", "stdlib", "futures_impl", "ratio", "target", "", "cpu", "loky/std",
        "floor",
    )  # fmt: skip
    lines = [
        f"futures_impl ({meta['impl_module']}) vs concurrent.futures on Python "
        f"{meta['python']} ({meta['platform']}, {meta['cpus']} cpus), git {meta['git']}, "
        f"{meta['rounds']} rounds{' QUICK' if meta['quick'] else ''}, {meta['seconds']} s",
        "cost = median wall time per unit; ratio = futures_impl / stdlib (below 1 is faster);",
        "cpu = the same ratio on the CPU time of the measuring process (all its threads; for",
        "process rows the parent alone, marked p): less sensitive to load from other programs",
        "",
    ]
    table = [head]
    foot: list[str] = []
    for r in doc["rows"]:
        target = f"≤{r['limit']:.2f}"
        mark = {"pass": "ok", "MISS": "MISS", None: "?"}[r["status"]]
        loky = "-"
        if r["loky"] is not None:
            loky = fmt_ratio(r["loky_ratio"])
            if r["impl_beats_loky"] is False:
                loky += " (!)"
        floor = "-"
        if r["floor"]:
            f = r["floor"]
            label = f["label"] if f["mult"] == 1 else f"{f['mult']}×{f['label']}"
            floor = f"{label} {fmt_cost(f['cost'], r['scale'])}"
        name = r["scenario"] + ("" if r["in_geomean"] else " *")
        table.append(
            (
                name,
                r["unit"],
                fmt_cost(r["stdlib"], r["scale"]),
                fmt_cost(r["impl"], r["scale"]),
                fmt_ratio(r["ratio"]),
                target,
                mark,
                fmt_ratio(r["cpu_ratio"]) + ("p" if r["process"] else ""),
                loky,
                floor,
            )
        )
        if r["mem_peak"]:
            m = r["mem_peak"]
            s, i = m.get("stdlib"), m.get("impl")
            table.append(
                (
                    "  (peak memory)",
                    "run",
                    fmt_kib(s),
                    fmt_kib(i),
                    fmt_ratio(_div(i, s)),
                    "",
                    "",
                    "",
                    "",
                    "",
                )
            )
        for note in r["notes"]:
            foot.append(f"* {r['scenario']}: {note}")
        for side, errs in r["errors"].items():
            foot.append(f"! {r['scenario']} [{side}] failed {len(errs)}x: {errs[0]}")
    widths = [max(len(str(row[i])) for row in table) for i in range(len(head))]
    right = {2, 3, 4, 7, 8}
    for row in table:
        cells = [
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(row, widths))
        ]
        lines.append("  ".join(cells).rstrip())
    lines.append("")
    gm = summ["geomean"]
    lines.append(
        f"geometric mean of ratios ({summ['geomean_rows']} rows): {fmt_ratio(gm)}  "
        f"(target ≤{summ['geomean_target']:.2f}: {'ok' if summ['geomean_ok'] else 'MISS'})"
    )
    lines.append(
        f"rows within target: {summ['rows_pass']}/{len(doc['rows'])}"
        + (f"; missed: {', '.join(summ['rows_miss'])}" if summ["rows_miss"] else "")
    )
    if summ["steady_process_rows_beat_loky"] is not None:
        lines.append(
            "steady-state process rows faster than loky: "
            + ("yes" if summ["steady_process_rows_beat_loky"] else "NO (marked (!))")
        )
    lines.extend(foot)
    return "\n".join(lines)


__all__ = ["build", "render", "floor_line", "progress_line"]
