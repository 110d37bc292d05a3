"""The derivation audit on the seed derivation: every real error, with its fix, and nothing else.

The expected list below was made by reading the seed by hand (see the audit engineer's note);
the numbers it checks against come from manualbp, never from the document.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from manualbp.example import seed_case, worked_example
from oracles.audit import audit_file, audit_text

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "derivations" / "seed.md"


def _norm(s: str | None) -> str:
    return " ".join((s or "").split())


# (line, kind, a piece the fix must contain — or None when no fix can exist)
EXPECTED = [
    (19, "malformed", r"\end{cases} \end{pmatrix}"),  # \begin{cases} closed by \end{pmatrix}
    (19, "shape", r"\begin{cases} z_1^{(3)} \\ z_2^{(3)} \\ z_3^{(3)} \\ z_4^{(3)} \end{cases}"),  # z_1 twice
    (19, "symbol", "z_4^{(3)}"),  # a_4^{(3)} inside the z vector
    (21, "symbol", "a_4^{(2)}"),  # b_4^{(2)} inside the a vector
    (21, "missing-term", r"+ \begin{pmatrix} b_{1}^{(2)} \\ b_{2}^{(2)} \\ b_{3}^{(2)} \\ b_{4}^{(2)} \end{pmatrix}"),
    (43, "index", "n_{L+1}"),  # sum over k must run to n_{L+1}
    (43, "relation", r"\sigma' \left(z_k^{(L+1)} \right) = \frac{\partial \sigma"),  # missing '='
    (43, "symbol", "z_k^{(L+1)}"),  # ∂σ(z)/∂a should be ∂σ(z)/∂z
    (53, "index", "a_1^{(1)}"),
    (53, "index", "a_2^{(1)}"),
    (53, "index", "a_3^{(1)}"),
    (61, "index", "y_2"),  # δ_2 written with the other output's target
    (65, "index", r"\delta_{4}^{(3)}"),
    (80, "shape", None),  # the repeated row δ_2 σ'(z_2)
    (89, "index", "a_j^{(L)}"),
    (113, "index", "a_j^{(L)}"),
    (117, "malformed", r"\end{bmatrix}"),  # truncated matrix, never closed
    (117, "malformed", None),  # \frac without arguments at the cut
    (117, "shape", None),  # ragged rows; rebuilt as the 2×4 matrix
    (121, "layout", r"\begin{aligned}"),  # three equations run together
    (129, "layout", r"\begin{aligned}"),
    (156, "arithmetic", "0.73"),  # σ(1.0147) = 0.7339, not 0.72
    (167, "arithmetic", "0.73"),  # the same 0.72 restated in a^{(3)T}
    (177, "shape", r"\begin{cases} -0.02 \\ -0.03 \\ -0.03 \\ -0.04 \end{cases}"),  # an entry missing
    (177, "notation", r"\frac{\partial C}{\partial b^{(2)}}"),  # lowercase c
]


@pytest.fixture(scope="module")
def report():
    return audit_file(SEED)


def test_each_real_error_is_found_with_its_fix(report):
    for line, kind, fix in EXPECTED:
        cands = [f for f in report.findings if f.where.line == line and f.kind == kind]
        assert cands, f"line {line}: no {kind} finding"
        if fix is not None:
            assert any(_norm(fix) in _norm(f.fix) for f in cands), (line, kind, [f.fix for f in cands])
        assert all(f.where.file == str(SEED) and f.source == "audit" for f in cands)


def test_nothing_else_is_reported(report):
    got = Counter((f.where.line, f.kind) for f in report.findings)
    want = Counter((line, kind) for line, kind, _ in EXPECTED)
    assert got == want


def test_severities(report):
    for f in report.findings:
        want = "warning" if f.kind in ("layout", "notation") else "error"
        assert f.severity == want, (f.where.line, f.kind, f.severity)
    assert not report.checks[0].passed


def test_specific_fixes_are_exact(report):
    def fix_of(line, kind):
        return [f for f in report.findings if f.where.line == line and f.kind == kind]

    (sum_fix,) = fix_of(43, "index")
    assert sum_fix.where.fragment == "n_L" and sum_fix.fix == "n_{L+1}"
    (row,) = fix_of(80, "shape")
    assert r"\delta_{2}^{(2)}" in row.where.fragment and row.fix.count(r"\delta_{2}^{(2)}") == 1
    (mat,) = fix_of(117, "shape")
    assert mat.fix.count(r"\\") == 1 and mat.fix.count("&") == 6  # a 2×4 matrix
    assert r"b_{2}^{(3)}} a_{4}^{(3)}" in mat.fix
    (target,) = fix_of(61, "index")
    assert target.where.fragment == "y_1"


def test_numbers_are_judged_against_manualbp(report):
    a3 = next(s for s in worked_example(seed_case()) if s.symbol == "a^(3)").value
    (f,) = [f for f in report.findings if f.where.line == 156]
    assert f.values["document"] == pytest.approx(0.72)
    assert f.values["exact"] == pytest.approx(a3[0], rel=1e-12)
    assert round(a3[0], 2) == pytest.approx(0.73)
    assert report.sections["audit"]["network"]["widths"] == list(seed_case().arch.widths)


def test_applying_every_fix_gives_a_clean_document(report):
    text = SEED.read_text()
    fixed = apply_fixes(text, report.findings)
    again = audit_text(fixed, "seed, fixed")
    assert again.findings == [], [(f.where.line, f.kind, f.message) for f in again.findings]


def apply_fixes(text: str, findings) -> str:
    """Paste every suggested fix into the document (outermost fragment wins where they nest)."""
    edits = sorted(((f.values["offsets"][0], f.values["offsets"][1], f.fix) for f in findings
                    if f.fix is not None and "offsets" in f.values), key=lambda t: (t[0], -(t[1] - t[0])))
    chosen: list = []
    for s, e, r in edits:
        if chosen and s < chosen[-1][1]:
            continue
        chosen.append((s, e, r))
    for s, e, r in reversed(chosen):
        assert text[s:e].strip()[:20] in text[s:e]
        text = text[:s] + r + text[e:]
    return text


def test_offsets_point_at_the_fragment(report):
    text = SEED.read_text()
    for f in report.findings:
        s, e = f.values["offsets"]
        frag = _norm(f.where.fragment).removesuffix("…").strip()
        assert _norm(text[s:e]).startswith(frag[:80]), (f.where.line, f.kind)
        assert text.count("\n", 0, s) + 1 <= f.where.line <= text.count("\n", 0, e) + 1


def test_report_serialises(report):
    d = report.to_dict()
    assert len(d["findings"]) == len(EXPECTED)
    assert all(isinstance(np.asarray(f["where"]["line"]).item(), int) for f in d["findings"])
