"""The committed reports/ are the output of the README's main command, `manualbp report`, and not stale.

Two guards:
* the four committed files are exactly what the current renderers make of the committed findings.json
  (fast, exact);
* regenerating the report with the same seed gives the same findings.json content (slow: it reruns the
  main job).  Timings are ignored, and so is roundoff, which legitimately differs between CPUs and BLAS
  builds: floats compare to a relative 1e-6 (absolute 1e-9); measurements OF roundoff (paths naming an
  error or an agreement) compare by order of magnitude (within a factor of 10, or both below 1e-9), and
  ratios to the tolerance under 0.5 count as equal (ratios nearer the tolerance must match); numbers
  written in text with an exponent of -6 or less are masked.  Statuses, counts, kinds, lines and messages
  must match exactly.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import pytest

from oracles.findings import Report
from oracles.render import FILES, RENDERERS

REPORTS = Path(os.environ.get("MANUALBP_REPORTS_DIR") or Path(__file__).resolve().parents[1] / "reports")
STALE = "reports/ is stale: run `make report` (or `manualbp report`) and commit reports/"

committed_reports = pytest.mark.skipif(not (REPORTS / "findings.json").exists(),
                                       reason="reports/ is not committed yet; run `make report` and commit it")

_NOISE = re.compile(r"[-+]?\d+(?:\.\d+)?e-(?:0?[6-9]|[1-9]\d+)")
_ROUNDOFF_KEYS = ("ratio", "err", "diff", "agreement")


def _committed() -> Report:
    return Report.from_json((REPORTS / "findings.json").read_text(encoding="utf-8"))


@committed_reports
def test_committed_files_match_the_committed_findings():
    report = _committed()
    for kind, name in FILES.items():
        path = REPORTS / name
        assert path.exists(), f"reports/{name} is missing; {STALE}"
        assert path.read_text(encoding="utf-8") == RENDERERS[kind](report), (
            f"reports/{name} is not what the current renderer makes of reports/findings.json; {STALE}")


def _differences(a: Any, b: Any, path: str = "", key: str = "") -> list[str]:
    """Where two JSON values differ beyond roundoff (see the module docstring)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}/{k}: only in {'committed' if k in a else 'fresh'}" for k in sorted(set(a) ^ set(b))]
        for k in a:
            if k in b:
                out += _differences(a[k], b[k], f"{path}/{k}", k)
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items committed, {len(b)} fresh"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _differences(x, y, f"{path}/{i}", key)]
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
            if math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9) or _same_roundoff(path, abs(a), abs(b)):
                return []
        return [f"{path}: committed {a!r}, fresh {b!r}"]
    if isinstance(a, str) and isinstance(b, str):
        return [] if _NOISE.sub("≈0", a) == _NOISE.sub("≈0", b) else [f"{path}: committed {a!r}, fresh {b!r}"]
    return [] if a == b else [f"{path}: committed {a!r}, fresh {b!r}"]


def _same_roundoff(path: str, a: float, b: float) -> bool:
    """Two measurements of roundoff that tell the same story (see the module docstring)."""
    name = path.rsplit("/", 2)
    if not any(k in part for part in name[-2:] for k in _ROUNDOFF_KEYS):
        return False
    if "ratio" in path:
        return a < 0.5 and b < 0.5
    return (a < 1e-9 and b < 1e-9) or (a > 0 and b > 0 and max(a, b) / min(a, b) < 10)


def test_differences_ignore_roundoff_only():
    a = {"x": 1.0, "s": "max diff 2.2e-16", "error_ratio": [1e-5, 3.0], "n": 3,
         "max_rel_err": {"torch": 0.011}, "example": {"fd": {"max_abs_diff": 6e-16}}}
    same = {"x": 1.0 + 1e-12, "s": "max diff 4.4e-16", "error_ratio": [0.3, 3.0], "n": 3,
            "max_rel_err": {"torch": 0.019}, "example": {"fd": {"max_abs_diff": 2e-15}}}
    assert _differences(a, same) == []
    assert _differences(a, {**a, "n": 4}) == ["/n: committed 3, fresh 4"]
    assert _differences(a, {**a, "error_ratio": [1e-5, 3.1]}) == ["/error_ratio/1: committed 3.0, fresh 3.1"]
    assert _differences(a, {**a, "error_ratio": [0.7, 3.0]})  # a ratio that moved towards the tolerance
    assert _differences(a, {**a, "max_rel_err": {"torch": 0.5}})
    assert _differences(a, {**a, "s": "max diff 2.2e-3"})
    assert _differences(a, {**a, "x": 1.1})


@committed_reports
@pytest.mark.slow
def test_committed_report_is_what_the_main_command_makes_now():
    from oracles.mainjob import build_report

    committed = json.loads((REPORTS / "findings.json").read_text(encoding="utf-8"))
    run = committed.get("sections", {}).get("run", {})
    assert run.get("command") == "manualbp report", (
        f"reports/ was made by {run.get('command')!r}, not the README's `manualbp report`; {STALE}")
    fresh = build_report(progress=False).to_dict()
    committed.pop("timings", None)
    fresh.pop("timings", None)
    diffs = _differences(committed, fresh)
    assert not diffs, f"{STALE}\n{len(diffs)} difference(s), the first ones:\n" + "\n".join(diffs[:20])
