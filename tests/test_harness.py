"""The harness: every way a subject misbehaves is reported with the case, and the run goes on."""

from __future__ import annotations

import re
import threading
import time

import numpy as np
import pytest

import manualbp
from manualbp import Case
from oracles.harness import Harness, run_with_timeout
from oracles.subject import Subject


def _case(widths=(2, 3, 2), seed=0) -> Case:
    rng = np.random.default_rng(seed)
    Ws = [rng.normal(size=(k, m)) for m, k in zip(widths[:-1], widths[1:])]
    bs = [rng.normal(size=k) for k in widths[1:]]
    return Case.create(Ws, bs, rng.normal(size=widths[0]), rng.uniform(size=widths[-1]), cost="half_sse")


def correct(weights, biases, x, y):
    """A correct subject written without manualbp (sigmoid, half_sse)."""
    a = [x]
    for W, b in zip(weights, biases):
        a.append(1 / (1 + np.exp(-(W @ a[-1] + b))))
    delta, dW, db = a[-1] - y, [], []
    for l in range(len(weights) - 1, -1, -1):
        dz = delta * a[l + 1] * (1 - a[l + 1])
        dW.insert(0, np.outer(dz, a[l]))
        db.insert(0, dz)
        delta = weights[l].T @ dz
    return dW, db


def _call(func, case=None, **kw):
    case = case or _case()
    return Harness(Subject(func), **kw).call(case)


def test_correct_subject_is_ok_and_decoded():
    call = _call(correct)
    assert call.ok and call.kind == "ok"
    np.testing.assert_allclose(call.gradients.flat(), manualbp.gradients(_case()).flat(), rtol=1e-13)


def test_raises_keeps_the_traceback():
    def broken(weights, biases, x, y):
        return weights[7]

    call = _call(broken)
    assert call.kind == "raises" and call.gradients is None
    assert "IndexError" in call.problems[0].message
    assert "broken" in call.problems[0].traceback and "weights[7]" in call.problems[0].traceback


@pytest.mark.parametrize("func, kind, words", [
    (lambda w, b, x, y: None, "none", "None"),
    (lambda w, b, x, y: {"dW": 1}, "type", "dict"),
    (lambda w, b, x, y: ([np.zeros((2, 3)), np.zeros((2, 3))], [np.zeros(3), np.zeros(2)]), "shape",
     r"dW\[0\].*\(2, 3\); expected \(3, 2\) \(transposed\?\)"),
    (lambda w, b, x, y: ([np.full((3, 2), np.nan), np.zeros((2, 3))], [np.zeros(3), np.zeros(2)]), "nonfinite",
     r"∂C/∂W\^\(1\)\[0, 0\] is nan"),
])
def test_bad_return_values(func, kind, words):
    call = _call(func)
    assert call.kind == kind
    assert re.search(words, call.problems[0].message), call.problems[0].message


def test_mutating_inputs_is_reported_and_gradients_still_compared():
    def in_place(weights, biases, x, y):
        dW, db = correct(weights, biases, x, y)
        weights[1] -= 0.1 * dW[1]  # an SGD step on the caller's array
        return dW, db

    case = _case()
    call = _call(in_place, case)
    assert call.kind == "mutates"
    assert "weights[1]" in call.problem("mutates").message
    np.testing.assert_allclose(call.gradients.flat(), manualbp.gradients(case).flat(), rtol=1e-13)
    assert not case.weights[1].flags.writeable  # the case itself was never exposed


def test_state_kept_between_calls_is_not_reentrant():
    memory: dict = {}

    def stateful(weights, biases, x, y):
        dW, db = correct(weights, biases, x, y)
        memory["n"] = memory.get("n", 0) + 1
        return [g * memory["n"] for g in dW], db

    call = _call(stateful)
    assert call.kind == "reentrant"
    assert "second/first = 2" in call.problem("reentrant").message


def test_reentrancy_check_can_be_switched_off():
    calls = []

    def counting(weights, biases, x, y):
        calls.append(1)
        return correct(weights, biases, x, y)

    assert _call(counting, reentrancy=False).ok and len(calls) == 1


def test_busy_loop_hang_is_stopped_and_the_run_continues():
    def spin(weights, biases, x, y):
        while True:
            pass

    before = threading.active_count()
    h = Harness(Subject(spin), timeout=0.3)
    t0 = time.perf_counter()
    call = h.call(_case())
    assert call.kind == "hang" and "0.3 s" in call.problems[0].message
    assert time.perf_counter() - t0 < 2.0
    time.sleep(0.3)
    assert threading.active_count() <= before  # the spinning thread was stopped
    assert h.stuck == 0  # stopped, so it does not count against the run
    # the same harness goes on; after max_hangs hangs it stops calling (each hang costs the time limit)
    h.max_hangs = 2
    assert h.call(_case(seed=1)).kind == "hang"
    skipped = h.call(_case(seed=2))
    assert skipped.kind == "skipped" and h.exhausted


def test_sleeping_hang_does_not_block_the_caller():
    def sleepy(weights, biases, x, y):
        time.sleep(3)

    h = Harness(Subject(sleepy), timeout=0.2, max_stuck=2)
    t0 = time.perf_counter()
    assert h.call(_case()).kind == "hang"
    assert time.perf_counter() - t0 < 1.0
    assert h.stuck == 1 and not h.exhausted  # still sleeping in C code: cannot be stopped
    assert h.call(_case(seed=1)).kind == "hang" and h.exhausted  # two stuck calls: stop calling
    assert h.call(_case(seed=2)).kind == "skipped"


def test_hang_only_on_some_cases():
    def hangs_on_wide(weights, biases, x, y):
        if weights[0].shape[0] > 3:
            time.sleep(2)
        return correct(weights, biases, x, y)

    h = Harness(Subject(hangs_on_wide), timeout=0.2)
    assert h.call(_case((2, 5, 2))).kind == "hang"
    assert h.call(_case((2, 3, 2))).ok


def test_run_with_timeout_reports_results_and_exceptions():
    assert run_with_timeout(lambda a: a + 1, (1,), 1.0)[:2] == ("ok", 2)
    status, (exc, tb), _ = run_with_timeout(lambda: 1 / 0, (), 1.0)
    assert status == "raises" and isinstance(exc, ZeroDivisionError) and "ZeroDivisionError" in tb


def test_float32_case_gives_float32_inputs():
    seen = []

    def spy(weights, biases, x, y):
        seen.append({w.dtype for w in weights} | {x.dtype, y.dtype})
        return correct(weights, biases, x, y)

    case = _case().astype("float32")
    h = Harness(Subject(spy, dtype="float32"))
    call = h.call(case)
    assert seen[0] == {np.dtype("float32")}
    np.testing.assert_allclose(call.gradients.flat(), manualbp.gradients(case.astype("float64")).flat(),
                               rtol=1e-4, atol=1e-6)
    with pytest.raises(RuntimeError, match="raised"):
        Harness(Subject(lambda *a: 1 / 0)).gradients(case)


def test_check_reports_misbehaviour_with_its_case_and_carries_on():
    """A subject that hangs on wide layers and mutates x otherwise: both reported, each with a case."""
    pytest.importorskip("torch")
    from oracles.checker import check

    def naughty(weights, biases, x, y):
        if max(w.shape[0] for w in weights) >= 3:
            time.sleep(5)
        dW, db = correct(weights, biases, x, y)
        x += 1.0
        return dW, db

    t0 = time.perf_counter()
    result = check(naughty, max_examples=12, timeout=0.25, cost="half_sse")
    assert time.perf_counter() - t0 < 30
    assert not result.passed
    assert {"hang", "mutates"} <= set(result.minimal), result.counts
    assert max(max(w.shape[0] for w in result.minimal["hang"].case.weights), 0) >= 3
    assert "x[" in result.minimal["mutates"].message
    kinds = {f.kind for f in result.to_report().findings}
    assert {"subject-hang", "subject-mutates"} <= kinds
    code = result.reproducer("mutates")
    assert "# naughty = ...  # your backprop function (it could not be imported by name)" in code
    with pytest.raises(AssertionError, match="x was changed"):  # a local function: we supply it
        exec(compile(code, "<reproducer>", "exec"), {"__name__": "reproducer", "naughty": naughty})


def noisy(weights, biases, x, y):
    """Correct, but emits a numpy RuntimeWarning whenever the first input is negative."""
    np.log(np.minimum(x[:1], 0.0) + (x[:1] >= 0))  # log(negative) -> nan, with a warning
    return correct(weights, biases, x, y)


def test_warnings_of_the_subject_are_kept_off_stderr_and_counted(recwarn):
    case = _case()
    case = Case.from_arch(case.arch, case.weights, case.biases, np.array([-0.5, *case.x[1:]]), case.y)
    call = _call(noisy, case)
    assert call.ok
    assert len(call.warnings) == 1 and call.warnings[0].startswith("RuntimeWarning: invalid value encountered in log")
    assert "test_harness.py:" in call.warnings[0]
    assert not recwarn.list  # nothing reached the warnings machinery outside the call
    assert _call(correct, case).warnings == []


def test_check_reports_the_subject_warnings_with_their_case(capfd):
    pytest.importorskip("torch")
    from oracles.checker import check

    result = check(noisy, max_examples=12, cost="half_sse")
    assert result.passed, result.text()
    w = result.warnings
    noisy_cases = [o for o in result.outcomes if o.case.x.ravel()[0] < 0]
    assert w is not None and w.calls == len(noisy_cases) and w.count >= w.calls
    assert w.case.x.ravel()[0] < 0 and "invalid value encountered in log" in w.first
    assert any(n.startswith(f"the subject emitted {w.count} warnings on {w.calls} cases") for n in result.notes)
    assert result.to_report().sections["check"]["warnings"]["count"] == w.count
    assert "RuntimeWarning" not in capfd.readouterr().err
