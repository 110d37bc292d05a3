"""A correct backprop declared with one wrong flag is reported as a flag mistake, first and plainly.

Every test takes a correct example student, gets one flag wrong, and expects `check` to name the flag that
makes every failing case pass, with no code advice that would be wrong for a flag mistake; genuine code bugs
get no such claim.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from oracles.checker import check
from oracles.cli import main
from oracles.declaration import alternatives, nice_factor
from oracles.subject import Subject

pytest.importorskip("torch")

STUDENTS = Path(__file__).resolve().parents[1] / "examples" / "students"
EXAMPLES = 10  # the edge stage is off here: a flag mistake shows on every case

XW = {"hidden": "tanh", "output": "identity", "scale": 0.5, "layout": "xw", "batch": "rows", "reduction": "sum"}
FLAT = {"hidden": "tanh", "output": "identity", "cost": "mse", "layout": "flat"}
BATCH = {"hidden": "relu", "output": "softmax", "cost": "softmax_ce", "batch": "columns"}

FLAG_MISTAKES = [
    ("correct_flat.py:grad", {**FLAT, "hidden": "sigmoid"}, "--hidden tanh (not sigmoid)"),
    ("correct_xw.py:backprop", {**XW, "layout": "standard"}, "--layout xw (not standard)"),
    ("correct_nielsen.py:backprop", {"layout": "columns"}, "--returns db,dW (not dW,db)"),
    ("correct_batch.py:backprop", {**BATCH, "batch": "rows"}, "--batch columns (not rows)"),
    ("correct_float32.py:backprop", {}, "--dtype float32 (not float64)"),
    ("correct_flat.py:grad", {**FLAT, "output": "sigmoid"}, "--output identity (not sigmoid)"),
]


@pytest.mark.parametrize("spec, declared, flag", FLAG_MISTAKES, ids=[f[2].split(" (")[0] for f in FLAG_MISTAKES])
def test_a_wrong_flag_is_named_first_and_code_advice_is_dropped(spec, declared, flag):
    result = check(str(STUDENTS / spec), max_examples=EXAMPLES, edge_cases=False, **declared)
    assert not result.passed
    d = result.declaration
    assert d is not None, result.text()
    assert d.matches[0].describe() == flag
    assert d.failing >= 1 and d.cases >= d.failing
    head = result.text().splitlines()[0]
    assert f"WRONG as declared, but your function matches {flag} on all {d.cases} cases tried" in head
    assert "check your flags" in head
    # no code advice of its own: at most a catalogued mistake that says the same, its fix naming the flag first
    diag = result.diagnosis
    said = flag.split(" (")[0]
    assert diag is None or diag.fix.startswith(f"if your function computes what you meant, declare {said};")
    assert "Fix: compare your code" not in result.text()


def test_float32_arrays_for_a_float64_case_are_named():
    result = check(str(STUDENTS / "correct_float32.py:backprop"), max_examples=EXAMPLES, edge_cases=False)
    assert "it returns float32 arrays for float64 inputs" in result.declaration.headline()


@pytest.mark.parametrize("spec, declared, flag, mistake", [
    ("correct_xw.py:backprop", {**XW, "reduction": "mean"}, "--reduction sum (not mean)", "batch-factor"),
    ("correct_loops.py:backprop", {"scale": 2.0}, "--scale 1 (not 2)", "constant-factor"),
])
def test_a_factor_is_either_the_flags_or_the_code_and_the_fix_says_both(spec, declared, flag, mistake):
    result = check(str(STUDENTS / spec), max_examples=EXAMPLES, edge_cases=False, **declared)
    d = result.declaration
    assert d is not None and d.matches[0].describe() == flag
    assert result.diagnosis is not None and result.diagnosis.mistake == mistake
    assert d.code_mistake == result.diagnosis.title
    value = flag.split(" (")[0]
    assert result.diagnosis.fix.startswith(f"if your function computes what you meant, declare {value}; "
                                           "if your flags are right, fix the code: ")


@pytest.mark.parametrize("spec", ["bug_sigma_prime_of_a.py:backprop", "bug_wrong_layer_activation.py:backprop",
                                  "bug_transposed_w.py:backprop"])
def test_code_bugs_are_not_blamed_on_the_flags(spec):
    result = check(str(STUDENTS / spec), max_examples=EXAMPLES, edge_cases=False)
    assert not result.passed and result.declaration is None
    assert result.diagnosis is not None and result.diagnosis.recognised


def test_cli_json_carries_the_declaration(capsys):
    spec = f"{STUDENTS / 'correct_flat.py'}:grad"
    code = main(["check", spec, "--hidden", "sigmoid", "--output", "identity", "--cost", "mse", "--layout", "flat",
                 "--max-examples", str(EXAMPLES), "--no-edge-cases", "--format", "json"])
    assert code == 1
    data = json.loads(capsys.readouterr().out)
    section = data["sections"]["check"]["declaration"]
    assert section["matches"][0] == {"flag": "--hidden", "value": "tanh", "declared": "sigmoid"}
    finding = [f for f in data["findings"] if f["kind"] == "declaration"]
    assert finding and finding[0]["fix"] == "declare --hidden tanh if that is what your function computes"


def test_alternatives_change_exactly_one_flag():
    sub = Subject(lambda w, b, x, y: None, hidden="tanh", output="sigmoid", cost="bce", batch="columns")
    alts = alternatives(sub, scale=0.5)
    fields = ("hidden", "output", "cost", "scale", "layout", "batch", "reduction", "returns", "dtype")
    for alt in alts:
        changed = [f for f in fields if getattr(alt.subject, f) != getattr(sub, f)]
        assert len(changed) == 1 or (alt.flag == "--hidden" and changed == ["hidden"]), (alt.describe(), changed)
        assert alt.flag == "--" + changed[0]
    flags = {(a.flag, a.value) for a in alts}
    assert {("--layout", "xw"), ("--returns", "db,dW"), ("--batch", "rows"), ("--batch", "none"),
            ("--reduction", "sum"), ("--dtype", "float32"), ("--hidden", "sigmoid"), ("--scale", "0.5")} <= flags
    assert ("--cost", "softmax_ce") not in flags and ("--output", "tanh") not in flags  # bce needs sigmoid


def test_nice_factor_is_a_simple_positive_fraction():
    e = np.array([0.3, -1.2, 2.5])
    assert nice_factor(2 * e, e) == 2.0 and nice_factor(e / 3, e) == pytest.approx(1 / 3)
    assert nice_factor(e, e) is None and nice_factor(-e, e) is None  # 1 is no change; −1 is a sign bug
    assert nice_factor(e * 0.4142135, e) is None and nice_factor(e, 0 * e) is None


def test_a_subject_that_hangs_under_another_declaration_ends_the_search(monkeypatch):
    import time

    from oracles import declaration

    monkeypatch.setattr(declaration, "CALL_SECONDS", 0.2)

    def ones(weights, biases, x, y):  # wrong everywhere; hangs unless given the standard layout
        if biases[0].ndim != 1 or weights[0].shape[0] != biases[0].shape[0]:
            time.sleep(3)
        return [np.ones_like(W) for W in weights], [np.ones_like(b) for b in biases]

    t0 = time.perf_counter()
    result = check(ones, max_examples=EXAMPLES, edge_cases=False)
    assert not result.passed and result.declaration is None
    assert time.perf_counter() - t0 < 10


def test_a_float64_answer_off_by_a_small_error_is_not_a_dtype_flag_mistake():
    """Fails before: a clipped float64 output (off by ~1e-7 at saturation) was 'matches --dtype float32': float32's
    looser tolerance excused it.  Only answers that hold float32 values make --dtype float32 a match."""
    data = Path(__file__).resolve().parent / "data" / "edge_students"
    result = check(f"{data / 'clipped_bce.py'}:backprop", hidden="tanh", output="sigmoid", cost="bce",
                   max_examples=20)
    assert not result.passed
    assert result.declaration is None or all(m.flag != "--dtype" for m in result.declaration.matches), result.text()


def test_the_check_itself_emits_no_numpy_warnings():
    """Fails before: diagnosing and re-declaring a subject that returns NaN/∞ at saturation printed the tool's own
    RuntimeWarnings (diagnose.py 'invalid value encountered in matmul') on stderr."""
    import warnings

    data = Path(__file__).resolve().parent / "data" / "edge_students"
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = check(f"{data / 'clipped_bce.py'}:backprop", hidden="tanh", output="sigmoid", cost="bce",
                       max_examples=20)
    assert not result.passed
    ours = [w for w in seen if "/oracles/" in w.filename or "/manualbp/" in w.filename]
    assert not ours, [f"{w.filename}:{w.lineno}: {w.message}" for w in ours]


def test_a_declaration_must_also_clear_the_nan_failures():
    """Fails before: 'matches --dtype float32' was said after trying only the wrong-value cases, while the NaN
    edge cases (bce's division at a saturated output) fail under float32 as well: the headline must say so."""
    data = Path(__file__).resolve().parent / "data" / "edge_students"
    result = check(f"{data / 'float32_bce_division.py'}:backprop", hidden="sigmoid", output="sigmoid", cost="bce",
                   max_examples=30)
    assert not result.passed and "nonfinite" in result.minimal, result.text()
    d = result.declaration
    assert d is None or "still fail with it" in d.headline(), result.text()
    assert d is None or "NaN or infinite" in result.summary()


def test_a_function_that_guesses_the_orientation_is_told_so_not_sent_to_the_flags():
    """Right as declared (columns) wherever the shapes tell columns from rows, and right as --batch rows too: it
    reads the orientation off the shapes.  Said so, with the code to change (fails before: only 'matches --batch
    rows … check your flags', which would hide the bug)."""
    from pathlib import Path

    from oracles.checker import check

    spec = str(Path(__file__).resolve().parent / "data" / "edge_students" / "guesses_orientation.py") + ":backprop"
    result = check(spec, hidden="sigmoid", cost="half_sse", batch="columns", max_examples=40, edge_cases=False,
                   fresh_process=False)
    assert not result.passed and result.declaration is not None, result.text()
    dm = result.declaration
    assert dm.matches[0].flag == "--batch" and dm.guessing >= 3, result.text()
    assert "guess the orientation from the shapes" in dm.headline() and "as declared" in dm.fix()
