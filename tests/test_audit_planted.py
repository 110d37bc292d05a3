"""The derivation audit on our own derivations: correct ones give no findings; planted errors are found.

examples/derivations/planted.json lists every planted error (file, line, kind); recall and
precision over all planted documents are measured here and asserted high.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oracles.audit import audit_file, audit_text
from tests.test_audit_seed import apply_fixes

DERIV = Path(__file__).resolve().parents[1] / "examples" / "derivations"
CORRECT = sorted(DERIV.glob("correct-*.md"))
MANIFEST = json.loads((DERIV / "planted.json").read_text())
PLANTED = sorted({p["file"] for p in MANIFEST["planted"]})


@pytest.fixture(scope="module")
def reports():
    return {name: audit_file(DERIV / name) for name in PLANTED}


def test_there_is_something_to_measure():
    assert len(CORRECT) >= 3 and len(PLANTED) >= 3
    kinds = {p["kind"] for p in MANIFEST["planted"]}
    assert {"index", "missing-term", "shape", "arithmetic", "malformed", "symbol", "sign"} <= kinds


@pytest.mark.parametrize("path", CORRECT, ids=lambda p: p.name)
def test_a_correct_derivation_gives_no_findings(path):
    report = audit_file(path)
    assert report.findings == [], [(f.where.line, f.kind, f.message) for f in report.findings]
    assert report.checks[0].passed
    assert report.sections["audit"]["checked"] >= 10  # it did check, it did not skip


def test_planted_lines_really_differ_from_the_correct_document():
    for p in MANIFEST["planted"]:
        planted = (DERIV / p["file"]).read_text().splitlines()
        correct = (DERIV / p["file"].replace("planted-", "correct-")).read_text().splitlines()
        assert planted[p["line"] - 1] != correct[p["line"] - 1], p


def recall_precision(reports) -> tuple[float, float, list, list]:
    planted = MANIFEST["planted"]
    found, missed, false = 0, [], []
    for name, report in reports.items():
        mine = [p for p in planted if p["file"] == name]
        real = [f for f in report.findings if f.severity in ("error", "warning")]
        for p in mine:
            if any(f.where.line == p["line"] and f.kind == p["kind"] for f in real):
                found += 1
            else:
                missed.append(p)
        for f in real:
            if not any(f.where.line == p["line"] and f.kind in [p["kind"], *p["also"]] for p in mine):
                false.append((name, f.where.line, f.kind, f.message))
    n_reported = sum(len([f for f in r.findings if f.severity in ("error", "warning")]) for r in reports.values())
    recall = found / len(planted)
    precision = (n_reported - len(false)) / n_reported if n_reported else 1.0
    return recall, precision, missed, false


def test_recall_and_precision_are_high(reports):
    recall, precision, missed, false = recall_precision(reports)
    print(f"\nplanted errors: {len(MANIFEST['planted'])}; recall {recall:.3f}; precision {precision:.3f}")
    assert recall >= 0.95, missed
    assert precision >= 0.95, false


def test_every_planted_error_has_a_fix_that_works(reports):
    for name, report in reports.items():
        text = (DERIV / name).read_text()
        fixed = apply_fixes(text, report.findings)
        again = audit_text(fixed, name + " (fixed)")
        left = [(f.where.line, f.kind) for f in again.findings]
        # only a \frac that lost its denominator has no fix (there is nothing to infer it from)
        assert all(kind == "malformed" for _, kind in left), left
        assert len(left) <= 1


def test_fixes_restore_the_correct_text_for_simple_edits(reports):
    """Index, symbol, sign and number fixes give back exactly what was there before planting."""
    for name, report in reports.items():
        correct = (DERIV / name.replace("planted-", "correct-")).read_text().splitlines()
        for f in report.findings:
            if f.kind in ("index", "symbol", "sign", "arithmetic") and f.fix is not None:
                assert " ".join(f.fix.split()) in " ".join(correct[f.where.line - 1].split()), (name, f.where.line)


def test_drift_is_told_apart_from_a_wrong_number():
    """A number that follows from the document's own rounded inputs is 'rounding' (info), not an error."""
    import numpy as np

    from manualbp import Case, backward, forward

    text = (DERIV / "correct-sigmoid-232.md").read_text()
    W1 = np.array([[2, -1], [1, 3], [-2, 1]]) / 10
    b1 = np.array([1, -1, 2]) / 10
    W2 = np.array([[1, -2, 3], [2, 1, -1]]) / 10
    b2 = np.array([-1, 1]) / 10
    case = Case.create([W1, W2], [b1, b2], np.array([2, 4]) / 4, np.array([0.2, 0.9]), cost="half_mse")
    bw = backward(case, forward(case))
    # ∂C/∂b^(2) = δ^(3) ⊙ σ'(z^(3)); the document states δ^(3) to 2 decimals and σ'(z^(3)) to 3
    from_doc = np.round(np.round(bw.delta[3], 2) * np.round(bw.sigma_prime[3], 3), 3)
    exact = np.round(bw.dC_db[2], 3)
    k = int(np.argmax(np.abs(from_doc - exact)))
    assert abs(from_doc[k] - bw.dC_db[2][k]) > 0.0005, "this example needs an entry that drifts"
    line = next(x for x in text.splitlines() if x.startswith("$$\\frac{\\partial C}{\\partial b^{(2)}}"))
    head = line.split("= \\begin{cases}")[:-1]
    for entry, want in ((from_doc[k], ("rounding", "info")), (exact[k] - 0.01, ("arithmetic", "error"))):
        values = exact.copy()
        values[k] = entry
        body = " \\\\ ".join(f"{v:.3f}".rstrip("0").rstrip(".") for v in values)
        new_line = "= \\begin{cases}".join(head) + "= \\begin{cases} " + body + " \\end{cases}$$"
        report = audit_text(text.replace(line, new_line), "drift")
        assert [(f.kind, f.severity) for f in report.findings] == [want]
