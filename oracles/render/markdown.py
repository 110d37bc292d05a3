"""The report as Markdown, readable on a code host: a summary table first, then each finding."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..findings import Finding, Report
from .common import (
    COLUMN_TITLES,
    PART_TITLES,
    TIMINGS_BEGIN,
    TIMINGS_END,
    as_ratio_array,
    by_source,
    check_findings,
    count_columns,
    fmt_num,
    fmt_value,
    headline,
    result_label,
    scalar_values,
    timing_rows,
)

_SPECIAL = re.compile(r"([\\`*_\[\]<>|$#])")
MAX_LISTED_CHECKS = 25


def esc(text: Any) -> str:
    """Text with Markdown's special characters escaped, on one line (for table cells and prose)."""
    return _SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def code(text: Any) -> str:
    """Inline code that survives backticks inside."""
    s = str(text).replace("\n", " ")
    fence = "``" if "`" in s else "`"
    return f"{fence} {s} {fence}" if fence == "``" else f"`{s}`"


def block(text: str, lang: str = "") -> list[str]:
    """A fenced code block."""
    fence = "````" if "```" in text else "```"
    return [f"{fence}{lang}", text.rstrip("\n"), fence]


def table(header: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    """A pipe table; ``align`` gives one of l/r per column (default left)."""
    align = align or "l" * len(header)
    rule = ["---:" if a == "r" else "---" for a in align]
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def render(report: Report) -> str:
    """The whole report as a Markdown document (timings last, between HTML comment markers)."""
    lines = [f"# {esc(report.title)}", "", f"**{esc(headline(report))}**", ""]
    run = report.sections.get("run") or {}
    if run.get("command"):
        lines += [f"Made by {code(run['command'])}"
                  + (f" · derivation {code(run['derivation'])}" if run.get("derivation") else "")
                  + (f" · seed {esc(run['seed'])}" if "seed" in run else "") + ".", ""]
    lines += _summary(report)
    lines += _example(report.sections.get("example"), report)
    lines += _sweep(report.sections.get("sweep"))
    lines += _findings(report)
    lines += _checks(report)
    lines += _timings(report.timings)
    return "\n".join(lines).rstrip("\n") + "\n"


def _summary(report: Report) -> list[str]:
    lines = ["## Summary", ""]
    rows = []
    cols = count_columns(report)
    for src, c in report.counts_by_source().items():
        rows.append([PART_TITLES.get(src, src),
                     *(f"**{c[k]}**" if k == "failed" and c[k] else str(c[k]) for k in cols)])
    c = report.counts()
    rows.append(["**Total**", *(f"**{c[k]}**" for k in cols)])
    lines += table(["Part", *(COLUMN_TITLES[k] for k in cols)], rows, "l" + "r" * len(cols))
    lines.append("")
    failed = report.failed_checks
    if failed:
        by_check = check_findings(report)
        lines += ["### Failed checks", ""]
        rows = [[esc(ch.name), PART_TITLES.get(ch.source, ch.source),
                 ", ".join(lab for lab, _ in by_check.get(ch.name, [])) or "–", esc(ch.summary)]
                for ch in failed]
        lines += table(["Check", "Part", "Findings", "Summary"], rows)
        lines.append("")
    return lines


def _example(ex: dict | None, report: Report) -> list[str]:
    if not ex:
        return []
    lines = ["## Worked example", ""]
    net = ex.get("network", {})
    if net:
        lines += [f"Network: widths {code(net.get('widths'))}, activations {code(net.get('activations'))}, "
                  f"cost {code(net.get('cost'))}, {esc(net.get('dtype', ''))}.", ""]
    oracles = ex.get("oracles") or {}
    if oracles:
        lines += ["manualbp's gradients against each oracle on the worked example:", ""]
        rows = [[esc(name), esc(o.get("status", "")), fmt_num(o.get("max_abs_diff", float("nan")), ".2g"),
                 fmt_num(o.get("max_rel_err", float("nan")), ".2g"), esc(o.get("method", "") or "")]
                for name, o in oracles.items()]
        lines += table(["Oracle", "Verdict", "max abs diff", "max rel diff", "method"], rows, "llrrl")
        lines.append("")
    ratios = [a for r in ex.get("error_ratio") or [] if (a := as_ratio_array(r.get("ratio"))) is not None]
    if ratios:
        worst = max(float(np.nanmax(a)) for a in ratios)
        lines += [f"Worst |manualbp − oracle| / tolerance over every gradient entry and oracle: "
                  f"{fmt_num(worst, '.2g')} (over 1 would be a failure).", ""]
    steps = ex.get("steps") or []
    if steps:
        lines += ["Every intermediate in the derivation's order, computed by manualbp "
                  "(full precision, and rounded as the derivation rounds):", ""]
        rows = [[esc(s["symbol"]), code(fmt_value(s["value"], ".10g", max_items=64)),
                 code(_rounded(s))] for s in steps]
        lines += table(["Symbol", "manualbp", "rounded"], rows)
        lines.append("")
    return lines


def _rounded(step: dict) -> str:
    d = int(step.get("decimals", 2))
    return fmt_value(step.get("rounded", step["value"]), f".{d}f", max_items=64)


def _sweep(sw: dict | None) -> list[str]:
    if not sw:
        return []
    lines = ["## Sweep", ""]
    lines += [f"{sw.get('cases', '?')} random cases (seed {sw.get('seed', '?')}) of manualbp against the oracles.", ""]
    if sw.get("by_status"):
        lines += table(["Verdict", "Cases"], [[esc(k), str(v)] for k, v in sw["by_status"].items()], "lr")
        lines.append("")
    if sw.get("by_dtype"):
        rows = [[esc(k), *_dtype_cells(v)] for k, v in sw["by_dtype"].items()]
        lines += table(["dtype", "Cases", "By verdict"], rows, "lrl")
        lines.append("")
    ratios = np.array([float(v) for v in sw.get("error_ratio") or [] if isinstance(v, (int, float))], dtype=float)
    ratios = ratios[np.isfinite(ratios)]
    if ratios.size:
        lines += [f"Worst |error| / tolerance per case: median {fmt_num(float(np.median(ratios)), '.2g')}, "
                  f"largest {fmt_num(float(ratios.max()), '.2g')}; "
                  f"**{int(np.sum(ratios > 1))}** of {ratios.size} cases over the tolerance.", ""]
    rows = [[f"manualbp ~ {esc(k)}", fmt_num(v, ".2g") if v is not None else "–"]
            for k, v in (sw.get("max_rel_err") or {}).items()]
    rows += [[esc(k.replace("~", " ~ ")), fmt_num(v, ".2g") if v is not None else "–"]
             for k, v in (sw.get("oracle_agreement") or {}).items()]
    if rows:
        lines += ["Agreement (max relative difference over the sweep):", ""]
        lines += table(["Pair", "max rel diff"], rows, "lr")
        lines.append("")
    return lines


def _dtype_cells(v: Any) -> list[str]:
    if isinstance(v, dict):
        return [str(sum(x for x in v.values() if isinstance(x, int))), esc(fmt_value(v))]
    return [esc(fmt_value(v)), ""]


def _findings(report: Report) -> list[str]:
    groups = by_source(report)
    if not groups:
        return ["## Findings", "", "No findings.", ""]
    lines = ["## Findings", ""]
    for src, items in groups.items():
        lines += [f"### {PART_TITLES.get(src, src)}", ""]
        for lab, f in items:
            lines += _finding(lab, f)
    return lines


def _finding(label: str, f: Finding) -> list[str]:
    where = str(f.where)
    title = f"#### {label} · {f.severity} · {esc(f.kind)}" + (f" · {code(where)}" if where != "-" else "")
    lines = [title, "", esc(f.message), ""]
    items = []
    if f.check and f.source != "audit":
        items.append(f"- **Check**: {esc(f.check)}")
    vals = scalar_values(f)
    if vals:
        items.append("- **Values**: " + ", ".join(f"{esc(k)} = {code(fmt_value(v, '.10g'))}" for k, v in vals.items()))
    ratio = as_ratio_array(f.values.get("error_ratio"))
    if ratio is not None:
        items.append(f"- **|error| / tolerance**: {int(np.sum(ratio > 1))} of {ratio.size} entries over, "
                     f"worst {fmt_num(float(np.nanmax(ratio)), '.3g')}")
    if f.tolerance is not None:
        items.append(f"- **Tolerance**: {fmt_num(f.tolerance, '.3g')}")
    if f.diagnosis:
        items.append(f"- **Diagnosis**: {esc(f.diagnosis)}")
    lines += items + ([""] if items else [])
    if f.where.fragment:
        lines += ["Fragment:", "", *block(f.where.fragment, "latex"), ""]
    if f.fix:
        lines += ["Fix:", "", *block(f.fix, "latex" if f.source == "audit" else ""), ""]
    if f.reproduce:
        lines += ["Reproduce:", "", *block(f.reproduce, "python"), ""]
    return lines


def _checks(report: Report) -> list[str]:
    if not report.checks:
        return []
    by_check = check_findings(report)
    lines = ["## All checks", ""]
    marks = {"pass": "✅ pass", "fail": "❌ **fail**", "skip": "⚪ skip"}
    rows = [[marks[result_label(c)], esc(c.name), PART_TITLES.get(c.source, c.source),
             ", ".join(lab for lab, _ in by_check.get(c.name, [])) or "–", esc(c.summary)] for c in report.checks]
    tbl = table(["Result", "Check", "Part", "Findings", "Summary"], rows)
    if len(rows) > MAX_LISTED_CHECKS:
        return lines + ["<details>", f"<summary>{len(rows)} checks</summary>", "", *tbl, "", "</details>", ""]
    return lines + tbl + [""]


def _timings(timings: dict) -> list[str]:
    if not timings:
        return []
    rows = [[esc(k), esc(v)] for k, v in timing_rows(timings)]
    return ["## Timings", "", TIMINGS_BEGIN, "", *table(["Phase", "Time"], rows, "lr"), "", TIMINGS_END, ""]
