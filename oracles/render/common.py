"""Shared helpers of the renderers: ordering, grouping and formatting findings and numbers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..findings import SEVERITIES, SOURCES, Finding, Report

PART_TITLES = {
    "example": "Worked example",
    "sweep": "Sweep",
    "check": "Subject checks",
    "audit": "Derivation audit",
}
SEVERITY_ORDER = {s: i for i, s in enumerate(SEVERITIES)}
ARRAY_KEYS = ("error_ratio",)  # values too big for text renderers; plotted instead
TIMINGS_BEGIN = "<!-- timings: begin (varies run to run) -->"
TIMINGS_END = "<!-- timings: end -->"


def sorted_findings(findings: list[Finding]) -> list[Finding]:
    """Findings by part (SOURCES order), then severity, keeping the original order otherwise."""
    return sorted(findings, key=lambda f: (SOURCES.index(f.source), SEVERITY_ORDER[f.severity]))


def by_source(report: Report) -> dict[str, list[tuple[str, Finding]]]:
    """Findings grouped by source in SOURCES order, each with a short stable label such as 'A3'."""
    out: dict[str, list[tuple[str, Finding]]] = {}
    for f in sorted_findings(report.findings):
        group = out.setdefault(f.source, [])
        group.append((f"{f.source[0].upper()}{len(group) + 1}", f))
    return out


def labels(report: Report) -> dict[int, str]:
    """Position in ``report.findings`` -> the label of :func:`by_source`."""
    pos = {id(f): i for i, f in enumerate(report.findings)}
    return {pos[id(f)]: lab for group in by_source(report).values() for lab, f in group}


def check_findings(report: Report) -> dict[str, list[tuple[str, Finding]]]:
    """Check name -> its labelled findings."""
    out: dict[str, list[tuple[str, Finding]]] = {}
    for group in by_source(report).values():
        for lab, f in group:
            out.setdefault(f.check, []).append((lab, f))
    return out


def fmt_num(x: Any, spec: str = ".6g") -> str:
    """A number for display; non-finite floats (also their JSON strings) as nan/inf."""
    if isinstance(x, str):
        return x
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if not math.isfinite(x):
        return repr(x)
    return format(x, spec)


def fmt_value(v: Any, spec: str = ".6g", max_items: int = 8) -> str:
    """A value of a finding as compact text; big arrays are summarised by shape and max |entry|."""
    if v is None:
        return "–"
    if isinstance(v, (list, tuple, np.ndarray)):
        arr = _as_array(v)
        if arr is None:
            return "[" + ", ".join(fmt_value(x, spec) for x in v) + "]"
        if arr.size <= max_items:
            return _nested(arr.tolist(), spec)
        shape = "×".join(str(n) for n in arr.shape)
        return f"array {shape}, max |x| {fmt_num(np.nanmax(np.abs(arr)), '.3g')}"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {fmt_value(x, spec)}" for k, x in v.items())
    if isinstance(v, (int, float, np.number, bool, np.bool_)):
        return fmt_num(v, spec)
    return str(v)


def _nested(v: Any, spec: str) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_nested(x, spec) for x in v) + "]"
    return fmt_num(v, spec)


def _as_array(v: Any) -> np.ndarray | None:
    try:
        arr = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        return None
    return arr


def as_ratio_array(v: Any) -> np.ndarray | None:
    """``values['error_ratio']`` as a 2-D float array (a vector becomes one column), or None."""
    arr = _as_array(v) if v is not None else None
    if arr is None or arr.size == 0 or arr.ndim > 2:
        return None
    return arr.reshape(-1, 1) if arr.ndim < 2 else arr


def scalar_values(f: Finding) -> dict[str, Any]:
    """The values of a finding worth printing as text (arrays used for plots left out)."""
    return {k: v for k, v in f.values.items() if k not in ARRAY_KEYS and not _empty(v)}


def _empty(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, np.ndarray):
        return v.size == 0
    if isinstance(v, (str, list, tuple, dict)):
        return len(v) == 0
    return False


def where_text(f: Finding) -> str:
    """Where the finding is, as text (file:line and/or W^(L)[i, j])."""
    return str(f.where)


COLUMN_TITLES = {"checks": "Checks", "passed": "Passed", "failed": "Failed", "skipped": "Skipped",
                 "error": "Errors", "warning": "Warnings", "info": "Info"}


def count_columns(report: Report) -> list[str]:
    """Keys of :meth:`Report.counts` shown in summary tables ('skipped' only when some check was skipped)."""
    skipped = ["skipped"] if report.counts()["skipped"] else []
    return ["checks", "passed", "failed", *skipped, *SEVERITIES]


def result_label(check) -> str:
    """'pass', 'fail' or 'skip'."""
    return "pass" if check.passed else ("skip" if check.skipped else "fail")


def headline(report: Report) -> str:
    """One line: checks passed/failed and findings by severity."""
    c = report.counts()
    sev = ", ".join(f"{c[s]} {s}{'s' if c[s] != 1 and s != 'info' else ''}" for s in SEVERITIES)
    skipped = f", {c['skipped']} skipped" if c["skipped"] else ""
    return f"{c['checks']} checks: {c['passed']} passed, {c['failed']} failed{skipped} · findings: {sev}"


def timing_rows(timings: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """(name, text) rows of the timings section: top-level numbers are seconds; nested dicts are flattened
    as 'outer / inner' with their values as given (their keys say what they are)."""
    rows: list[tuple[str, str]] = []
    for k, v in timings.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            rows += timing_rows(v, f"{name} / ")
        elif not prefix and isinstance(v, (int, float)) and not isinstance(v, bool):
            rows.append((name, seconds(v)))
        else:
            rows.append((name, fmt_value(v, ".4g", max_items=16)))
    return rows


def seconds(t: Any) -> str:
    """A duration for the timings section."""
    try:
        return f"{float(t):.2f} s"
    except (TypeError, ValueError):
        return str(t)
