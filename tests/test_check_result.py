"""What `check` shows once it found a failure: the discrepancy line, the reproducer, the diagnosis, the pattern.

All views of the minimal case come from the same judgement (oracles.compare's per-entry verdict): the printed
wrong entries, the ✗ grid and the reproducer's assertion.  Students are the small files in tests/data/students.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from manualbp import Gradients
from oracles.checker import _accepted, check, distinguishing_digits

pytest.importorskip("torch")

DATA = Path(__file__).resolve().parent / "data" / "students"
EXAMPLES = 15


def _run_reproducer(code: str) -> AssertionError | None:
    try:
        exec(compile(code, "<reproducer>", "exec"), {"__name__": "reproducer"})
    except AssertionError as exc:
        return exc
    return None


@pytest.fixture(scope="module")
def approx():
    return check(str(DATA / "approx_finite_differences.py:backprop"), max_examples=EXAMPLES, seed=1)


@pytest.fixture(scope="module")
def float32_inside():
    return check(str(DATA / "float32_inside.py:backprop"), max_examples=EXAMPLES, seed=1)


@pytest.mark.parametrize("name", ["approx", "float32_inside"])
def test_the_reproducer_fails_on_the_minimal_case(name, request):
    """Errors of 1e-10 relative pass np.testing.assert_allclose(rtol=1e-7); the reproducer judges like the check."""
    result = request.getfixturevalue(name)
    assert not result.passed
    exc = _run_reproducer(result.reproducer("fail"))
    assert exc is not None, result.reproducer("fail")
    m = result.minimal["fail"]
    wrong = {(d.layer, d.param, d.entry) for d in m.verdict.discrepancies if d.status == "fail"}
    listed = re.findall(r"d(W|b)\[(\d+)\] \(\w\^\(\d+\)\)\[([\d, ]*)\]", str(exc))
    assert {(int(L) + 1, p, tuple(int(i) for i in idx.split(", ") if i)) for p, L, idx in listed} == wrong


def test_the_reproducer_criterion_is_the_verdicts(approx):
    """Values the reproducer accepts (within 0.9 tolerance) the comparison passes; 1.1 tolerance away it fails."""
    from oracles.compare import compare

    m = approx.minimal["fail"]
    want, tol = _accepted(m)
    finite = np.isfinite(tol.flat())
    assert finite.all()
    for k, status in ((0.9, "pass"), (-0.9, "pass"), (1.1, "fail"), (-1.1, "fail")):
        cand = Gradients(tuple(w + k * t for w, t in zip(want.dW, tol.dW)),
                         tuple(w + k * t for w, t in zip(want.db, tol.db)))
        assert compare(m.case, cand, oracles=approx.oracles).status == status, k


def test_the_worst_entry_is_printed_with_distinguishing_digits():
    assert f"{0.12500000001747225:.{distinguishing_digits(0.12500000001747225, [0.125])}g}" == "0.12500000002"
    assert distinguishing_digits(1.5, [1.5]) == 6
    rng = np.random.default_rng(0)
    for _ in range(200):
        v = float(rng.normal())
        o = v * (1 + float(rng.choice([1e-3, 1e-9, 1e-14])) * float(rng.normal()))
        d = distinguishing_digits(v, [o])
        if o != v:
            assert f"{v:.{d}g}" != f"{o:.{d}g}"
            assert d == 6 or f"{v:.{d - 1}g}" == f"{o:.{d - 1}g}"


def test_text_shows_the_difference(approx):
    line = next(ln for ln in approx.text().splitlines() if "worst" in ln)
    got, want = re.search(r"returned (\S+), expected torch (\S+),", line).groups()
    assert got != want


def test_approximate_gradients_are_diagnosed_as_such(approx, float32_inside):
    for result in (approx, float32_inside):
        d = result.diagnosis
        assert d.mistake == "approximate", d.text()
        assert "raised or returned wrong shapes" not in result.text()


def test_header_grid_and_reproducer_agree(float32_inside):
    """The ✗ grid of the minimal case marks exactly the entries the header counts as wrong."""
    result = float32_inside
    m = result.minimal["fail"]
    wrong = [d for d in m.verdict.discrepancies if d.status == "fail"]
    text = result.text()
    for L, p in {(d.layer, d.param) for d in wrong}:
        n = sum((d.layer, d.param) == (L, p) for d in wrong)
        assert f"∂C/∂{p}^({L}): {n} entr" in text
    grid = result.diagnosis.pattern
    assert f"widths {list(m.case.arch.widths)}" in grid
    cells = grid.split("\n", 1)[1]
    assert cells.count("✗") == len(wrong), (grid, wrong)


def test_flat_reproducer_names_the_parameter_of_each_wrong_position():
    """A flat-vector student checked under the wrong cost (½ of its convention): every entry off by 2."""
    students = Path(__file__).resolve().parents[1] / "examples" / "students"
    result = check(str(students / "correct_flat.py:grad"), hidden="tanh", output="identity", cost="half_mse",
                   layout="flat", max_examples=EXAMPLES, seed=1)
    m = result.minimal["fail"]
    exc = _run_reproducer(result.reproducer("fail"))
    assert exc is not None
    wrong = [d for d in m.verdict.discrepancies if d.status == "fail"]
    for d in wrong:
        name = f"{d.param}^({d.layer})[{', '.join(map(str, d.entry))}]"
        assert f"({name}): returned" in str(exc), (name, str(exc))


def test_a_wrong_shape_reproducer_fails_on_the_shape():
    students = Path(__file__).resolve().parents[1] / "examples" / "students"
    result = check(str(students / "bug_bias_not_summed.py:backprop"), batch="rows", max_examples=EXAMPLES, seed=1)
    exc = _run_reproducer(result.reproducer("shape"))
    assert exc is not None and "db[0] (b^(1)) has shape (2, 1); expected (1,)" in str(exc), exc


STUDENTS = Path(__file__).resolve().parents[1] / "examples" / "students"
MISDECLARED = [  # correct students checked under another convention: they fail; the fixed answer must pass
    ("correct_xw.py:backprop", {"hidden": "tanh", "output": "identity", "scale": 0.25, "layout": "xw",
                                "batch": "rows", "reduction": "sum"}),
    ("correct_nielsen.py:backprop", {"layout": "columns", "returns": "db,dW", "cost": "half_mse"}),
    ("correct_flat.py:grad", {"hidden": "tanh", "output": "identity", "cost": "half_mse", "layout": "flat"}),
]


@pytest.mark.parametrize("spec, declared", MISDECLARED, ids=[m[0].split(".")[0] for m in MISDECLARED])
def test_the_reproducer_passes_once_the_answer_is_right(spec, declared):
    """The reproducer, with the function replaced by one returning the oracle's gradients in the declared layout
    and convention (scale, sum over the batch, column biases, flat vector), passes; the original fails."""
    result = check(str(STUDENTS / spec), max_examples=EXAMPLES, seed=1, **declared)
    m = result.minimal["fail"]
    code = result.reproducer("fail")
    assert _run_reproducer(code) is not None
    name = spec.split(":")[1]
    fixed = result.subject.to_layout(m.expected, m.case)
    lines = [ln for ln in code.splitlines() if not ln.startswith(("from ", "sys.path"))]
    exec(compile("\n".join(lines), "<reproducer>", "exec"), {"__name__": "reproducer", name: lambda *a: fixed})


def test_a_reproducer_at_a_kink_asserts_the_range_of_allowed_slopes(tmp_path):
    """Fails before: a minimal case on a leaky_relu kink put tolerance ∞ on the entries there (the oracles cannot
    judge a kink), so the printed reproducer of a forgotten leak passed when run."""
    import subprocess
    import sys

    data = Path(__file__).resolve().parent / "data" / "edge_students"
    result = check(f"{data / 'leaky_without_leak.py'}:backprop", hidden="leaky_relu", output="identity",
                   cost="half_sse", max_examples=30)
    assert not result.passed
    script = tmp_path / "repro.py"
    script.write_text(result.reproducer())
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert run.returncode != 0, result.reproducer()


def test_state_kept_between_calls_is_named_when_the_case_passes_alone():
    """Fails before: a forward pass cached in a global gave wrong gradients in the check, but its reproducer passed
    in a fresh process and nothing said why.  Now the check runs the reproducer alone and names the cause."""
    data = Path(__file__).resolve().parent / "data" / "edge_students"
    result = check(f"{data / 'cached_forward.py'}:backprop", hidden="sigmoid", output="sigmoid", cost="half_sse",
                   max_examples=20)
    assert not result.passed and "fail" in result.minimal
    assert any("state kept between calls" in n for n in result.notes), result.text()
    assert "state kept between calls" in result.text()


def test_the_diagnosis_says_which_cases_its_counts_are_of():
    """Fails before: 'cases: fail 38' above 'on all 31 failing cases' with nothing to say why the counts differ
    (the edge cases are left out of the diagnosis)."""
    students = Path(__file__).resolve().parents[1] / "examples" / "students"
    result = check(f"{students / 'bug_sigma_prime_formula_on_z.py'}:backprop", hidden="sigmoid", output="sigmoid",
                   cost="half_sse", max_examples=30)
    n_edge = sum(o.case.label.startswith("edge case") for o in result.outcomes)
    assert n_edge and result.diagnosis is not None
    said = f"the counts above are of the {len(result.outcomes) - n_edge} cases outside the edge stage; its {n_edge} "
    assert any(e.startswith(said) for e in result.diagnosis.evidence), result.diagnosis.evidence


def test_a_misbehaviour_without_a_diagnosis_prints_its_fix():
    """Fails before: a NaN failure had its fix in the JSON only; the text printed the minimal case and stopped."""
    students = Path(__file__).resolve().parents[1] / "examples" / "students"
    result = check(f"{students / 'bug_relu_prime_at_zero.py'}:backprop", hidden="relu", output="identity",
                   cost="half_sse", max_examples=20)
    assert not result.passed and "nonfinite" in result.minimal and result.diagnosis is None, result.text()
    assert "Fix: look for exp overflow" in result.text()


def test_the_result_says_how_deep_the_networks_tried_were():
    """Fails before: '--max-layers 3' hid a bug that needs 3 weight matrices and nothing said how deep the networks
    were (found by the third outside trial)."""
    students = Path(__file__).resolve().parents[1] / "examples" / "students"
    result = check(f"{students / 'correct_loops.py'}:backprop", hidden="sigmoid", output="sigmoid", cost="half_sse",
                   max_examples=5, max_layers=3, max_width=2)
    assert result.passed
    assert "networks tried: up to 3 layers (2 weight matrices), widths up to 2" in result.text()
    assert max(o.case.arch.depth for o in result.outcomes) <= 3


def test_rtol_accepts_a_backprop_that_computes_less_exactly_and_nothing_more():
    """tanh as 2σ(2z) − 1 is 13 digits right near z = 0: WRONG ("approximate") with rounding alone, CORRECT with
    rtol 1e-10; its reproducer asserts the widened tolerance.  A real mistake (σ'(a)) stays WRONG at rtol 1e-10."""
    from manualbp import Case

    student = str(Path(__file__).resolve().parent / "data" / "edge_students" / "tanh_via_sigmoid.py") + ":backprop"
    near_zero = Case.create([np.array([[1e-3]]), np.array([[0.75]])], [np.array([0.0]), np.array([0.0])],
                            np.array([1.0]), np.array([0.5]), hidden="tanh", cost="half_mse")
    kw = dict(hidden="tanh", cost="half_mse", cases=[near_zero], max_examples=5, edge_cases=False,
              declaration_search=False, fresh_process=False)
    strict = check(student, **kw)
    assert not strict.passed and strict.diagnosis.mistake == "approximate", strict.text()
    loose = check(student, rtol=1e-10, **kw)
    assert loose.passed, loose.text()
    assert all(o.verdict.rtol == 1e-10 for o in loose.outcomes if o.verdict is not None)
    bug = check(str(Path(__file__).resolve().parents[1] / "examples" / "students" / "bug_sigma_prime_of_a.py")
                + ":backprop", max_examples=10, edge_cases=False, fresh_process=False, rtol=1e-10)
    assert not bug.passed and bug.diagnosis.mistake == "sigma-prime-of-a", bug.text()
    with pytest.raises(ValueError, match="rtol"):
        check(student, rtol=-1.0, **kw)


def test_a_simplified_case_that_needs_no_edge_is_not_called_one(monkeypatch):
    """A minimal case from the edge stage whose simplification left none of its edges is not labelled an edge case
    (it said 'an edge case: extreme values' of 0, 0.25 and −2)."""
    import oracles.checker as checker

    result = check(str(STUDENTS / "bug_sigma_prime_of_a.py") + ":backprop", max_examples=5, edge_cases=False,
                   fresh_process=False, declaration_search=False)
    monkeypatch.setattr(checker, "is_edge", lambda o: True)
    monkeypatch.setattr(checker, "edge_features", lambda case: [])
    assert "an edge case" not in result.text()
    monkeypatch.setattr(checker, "edge_features", lambda case: ["z^(2)[0] = 0 exactly (relu's kink)"])
    assert "an edge case: z^(2)[0] = 0 exactly (relu's kink)" in result.text()


def test_a_subject_that_changes_its_inputs_is_told_its_gradients_were_right():
    """Reversing the caller's lists in place, with right gradients: the report says both (it said only the first)."""
    result = check(str(DATA / "mutates_by_reversing.py") + ":backprop", max_examples=10, edge_cases=False,
                   fresh_process=False, declaration_search=False)
    n = sum(o.status == "mutates" for o in result.outcomes)
    assert n and f"apart from that, its gradients were right on {n} of these {n} cases" in result.text(), \
        result.text()
