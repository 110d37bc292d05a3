"""The sweep: deterministic per seed, no false alarms, planted bugs caught and shrunk, same results everywhere."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

import manualbp
from manualbp import Case, Gradients
from oracles.sweep import DEFAULT, _chunks, _processes, run_sweep
from oracles.sweep_cases import random_case, random_cases

pytest.importorskip("hypothesis")
pytest.importorskip("torch")
pytest.importorskip("jax")

ALL = ("torch", "jax", "fd")


def output_bias_bug(case: Case) -> Gradients:
    """A planted bug: ∂C/∂b of the output layer is 1.5× too large whenever the output has 2+ units."""
    g = manualbp.gradients(case)
    if case.arch.widths[-1] < 2:
        return g
    return Gradients(g.dW, (*g.db[:-1], 1.5 * g.db[-1]), "planted")


def _comparable(report) -> dict:
    """Everything a sweep reports except timings (which vary run to run)."""
    d = report.to_dict()
    d.pop("timings")
    return d


@pytest.fixture(scope="module")
def serial_60():
    return run_sweep(60, seed=3, oracles=ALL, progress=False, chunk_size=20)


def test_cases_are_a_function_of_seed_and_index():
    a, b = random_case(5, 17), random_cases(5, 10, 20)[7]
    assert a.arch == b.arch
    for u, v in zip((*a.weights, *a.biases, a.x, a.y), (*b.weights, *b.biases, b.x, b.y)):
        np.testing.assert_array_equal(u, v)
    assert random_case(6, 17).arch != a.arch or not np.array_equal(random_case(6, 17).x, a.x)
    cases = random_cases(0, 0, 400)
    assert {c.dtype for c in cases} == {"float32", "float64"}
    assert {c.arch.cost for c in cases} == {"half_mse", "half_sse", "mse", "bce", "softmax_ce"}
    assert {len(c.arch.widths) for c in cases} == {2, 3, 4, 5}
    assert max(max(c.arch.widths) for c in cases) == 8 and min(min(c.arch.widths) for c in cases) == 1
    assert {c.x.ndim for c in cases} == {1, 2}


def test_sweep_is_deterministic_and_has_no_false_alarms(serial_60):
    s = serial_60.sections["sweep"]
    assert s["cases"] == s["checked"] == 60 and s["seed"] == 3
    assert s.get("by_status", {}).get("fail", 0) == 0, s["by_status"]
    assert sum(s["by_status"].values()) == 60
    assert sum(sum(v.values()) for v in s["by_dtype"].values()) == 60
    assert len(s["error_ratio"]) == 60 and max(s["error_ratio"]) <= 1.0
    assert set(s["max_rel_err"]) == set(ALL) and set(s["oracle_agreement"]) == {"torch~jax", "torch~fd", "jax~fd"}
    assert all(c.passed for c in serial_60.checks) and not serial_60.errors
    assert 1 <= len(serial_60.checks) <= 8  # one check per group (weight layers × dtype)
    again = run_sweep(60, seed=3, oracles=ALL, progress=False, chunk_size=20)
    assert _comparable(again) == _comparable(serial_60)
    other = run_sweep(20, seed=4, oracles=ALL, progress=False, chunk_size=20)
    assert other.sections["sweep"]["error_ratio"] != s["error_ratio"][:20]


def test_jax_compiles_a_handful_of_times_not_once_per_architecture(serial_60):
    t = serial_60.timings["sweep"]
    assert serial_60.sections["sweep"]["architectures"] > 50
    assert t["compile_count"] <= 8


def test_planted_bug_is_caught_localised_and_shrunk():
    report = run_sweep(40, seed=1, oracles=ALL, subject=output_bias_bug, progress=False, chunk_size=20)
    s = report.sections["sweep"]
    wide = [i for i in range(40) if random_case(1, i).arch.widths[-1] >= 2]
    assert s["failures"] == wide  # every case with 2+ outputs, and only those
    failing_checks = [c for c in report.checks if not c.passed]
    assert failing_checks and any("shrunk by Hypothesis" in c.summary for c in failing_checks)
    shrunk = [c for c in failing_checks if "shrunk by Hypothesis" in c.summary]
    for check in shrunk:
        widths = check.details["shrunk_to"].split(" ")[0]
        assert widths.count("-") == 1 and widths.endswith("-2"), widths  # minimal: 2 layers, output width 2
    errors = [f for f in report.errors if f.kind == "gradient-mismatch"]
    assert {f.where.param for f in errors} == {"b"}  # localised to a bias, never to a weight
    minimal = [f for f in errors if f.check in {c.name for c in shrunk}]
    assert minimal
    for f in minimal:  # the shrunk case's output bias (layer 1 of 2), with a reproducer of the minimal case
        assert f.where.layer == 1 and f.where.entry in {(0,), (1,)}, f
        assert f.reproduce.startswith("from manualbp import Case; case = Case.create(")
    for f in errors:
        if f not in minimal:  # the unshrunk ones: the output layer of their own case
            index = int(f.check.split()[2])
            assert f.where.layer == random_case(1, index).arch.depth - 1
    ns: dict = {}
    exec(minimal[0].reproduce, ns)  # noqa: S102 - the reproducer rebuilds a failing case
    case = ns["case"]
    assert case.arch.widths[-1] == 2
    g_bad, g_ok = output_bias_bug(case), manualbp.gradients(case)
    assert not np.allclose(g_bad.db[-1], g_ok.db[-1])


def test_two_workers_give_identical_results(serial_60):
    parallel = run_sweep(60, seed=3, oracles=ALL, progress=False, chunk_size=20, workers=2)
    assert _comparable(parallel) == _comparable(serial_60)
    assert 1 <= len(parallel.timings["sweep"]["processes"]) <= 2  # this process may finish before the other starts


def test_spawned_workers_compute_chunks_identically(serial_60):
    """Without re-running stragglers here, the spawned process really computes its chunks, identically."""
    chunks = list(_processes(_chunks(60, 20), (3, ALL, None, DEFAULT), 2, speculate=False))
    assert sorted(c.chunk for c in chunks) == [0, 1, 2] and not any(c.error for c in chunks)
    here = f"{os.uname().nodename}:{os.getpid()}"
    assert {c.worker for c in chunks} - {here}, "no chunk ran in the spawned process"
    # this process compiled every program those chunks need (serial_60); the other adopted them
    assert all(c.compile_count == 0 for c in chunks if c.worker != here)
    results = [r for c in sorted(chunks, key=lambda c: c.chunk) for r in c.results]
    assert [r.error_ratio for r in results] == serial_60.sections["sweep"]["error_ratio"]
    assert all(r.status != "fail" for r in results)


def test_a_cold_process_compiles_first_and_its_worker_adopts_the_programs(monkeypatch, serial_60):
    """With no JAX program compiled yet here, this process runs a chunk first (compiling) while the worker
    imports; the worker's chunks then come with those programs and compile nothing."""
    from oracles import base
    from oracles.jax_oracle import JaxOracle

    monkeypatch.setitem(base._CACHE, "jax", JaxOracle())  # cold: nothing compiled in this process
    chunks = list(_processes(_chunks(60, 20), (3, ALL, None, DEFAULT), 2, speculate=False))
    here = f"{os.uname().nodename}:{os.getpid()}"
    first = next(c for c in chunks if c.worker == here)
    assert first.chunk == 2 and first.compile_count > 0  # the last chunk, run here before any is sent
    away = [c for c in chunks if c.worker != here]
    assert away and all(c.compile_count == 0 for c in away)
    results = [r for c in sorted(chunks, key=lambda c: c.chunk) for r in c.results]
    assert [r.error_ratio for r in results] == serial_60.sections["sweep"]["error_ratio"]


def test_dask_cluster_gives_identical_results_and_failures():
    distributed = pytest.importorskip("distributed")
    kw = dict(seed=2, oracles=("torch", "fd"), progress=False, chunk_size=10, shrink_failures=False)
    with distributed.LocalCluster(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None) as lc:
        good = run_sweep(30, scheduler=lc.scheduler_address, **kw)
        bad = run_sweep(30, scheduler=lc.scheduler_address, subject=output_bias_bug, **kw)
    assert _comparable(good) == _comparable(run_sweep(30, **kw))
    assert _comparable(bad) == _comparable(run_sweep(30, subject=output_bias_bug, **kw))
    assert bad.sections["sweep"]["failures"] and not good.sections["sweep"]["failures"]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="n_cases"):
        run_sweep(0)
    with pytest.raises(ValueError, match="unknown oracle"):
        run_sweep(5, oracles=("torch", "tensorflow"))
    with pytest.raises(ValueError, match="workers"):
        run_sweep(5, workers=0)
    with pytest.raises(TypeError, match="subject"):
        run_sweep(5, subject=42)


def test_subject_that_raises_is_a_failure_not_a_crash():
    def broken(case):
        raise RuntimeError("boom")

    report = run_sweep(5, seed=0, oracles=("torch",), subject=broken, progress=False, shrink_failures=False)
    assert report.sections["sweep"]["by_status"] == {"fail": 5}
    assert any(f.kind == "subject-error" and "boom" in f.message for f in report.errors)


def _hangs_when_deep(case: Case) -> Gradients:
    """A subject caught in an endless loop on networks of 3 or more weight layers; manualbp's answer otherwise."""
    while len(case.weights) >= 3:
        pass
    return manualbp.gradients(case)


def test_subject_that_hangs_is_a_failure_and_the_sweep_goes_on(monkeypatch):
    import oracles.sweep as sw

    monkeypatch.setattr(sw, "SUBJECT_TIMEOUT", 0.2)
    n, size = 12, 4
    expected = {}  # case -> what the sweep must say: each chunk stops calling the subject after MAX_HANGS hangs
    for start in range(0, n, size):
        hangs = 0
        for i, c in enumerate(random_cases(0, start, start + size), start=start):
            if hangs >= sw.MAX_HANGS:
                expected[i] = "already hung 3 times"
            elif len(c.weights) >= 3:
                hangs += 1
                expected[i] = "did not return within 0.2 s"
            else:
                expected[i] = "pass"
    assert {"pass", "already hung 3 times", "did not return within 0.2 s"} == set(expected.values())
    report = run_sweep(n, seed=0, oracles=("torch",), subject=_hangs_when_deep, progress=False,
                       shrink_failures=False, chunk_size=size)
    said = {int(f.check.split()[-1]): f.message for f in report.errors if f.kind == "subject-error"}
    for i, what in expected.items():
        assert (i not in said) if what == "pass" else (what in said[i]), (i, what, said.get(i))
    n_pass = sum(v == "pass" for v in expected.values())
    assert report.sections["sweep"]["by_status"] == {"fail": n - n_pass, "pass": n_pass}


def test_a_hang_is_shrunk_to_the_smallest_network_that_hangs(monkeypatch):
    import oracles.sweep as sw

    monkeypatch.setattr(sw, "SUBJECT_TIMEOUT", 0.2)
    case = next(c for c in random_cases(0, 0, 40) if len(c.weights) == 4)
    shrunk = sw.shrink(case, sw._resolve_subject(_hangs_when_deep), ("torch",), max_examples=30)
    assert len(shrunk.case.weights) == 3 and max(shrunk.case.arch.widths) == 1  # hangs, and nothing smaller does
    assert any("did not return within 0.2 s" in f.message for f in shrunk.findings)


def test_cli_sweep_json_and_files(tmp_path, capsys):
    from oracles.cli import main

    code = main(["sweep", "--cases", "12", "--seed", "7", "--oracles", "torch,fd", "--format", "json",
                 "--out", str(tmp_path)])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["sections"]["sweep"]["cases"] == 12 and out["sections"]["sweep"]["seed"] == 7
    assert out["written"] and all(Path(p).exists() for p in out["written"].values())


def test_cli_rejects_bad_values(capsys):
    from oracles.cli import main

    for argv in (["sweep", "--cases", "0"], ["sweep", "--oracles", "torch,nope"], ["sweep", "--workers", "x"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
    assert "unknown oracle" in capsys.readouterr().err


def _small_bug(case: Case) -> Gradients:
    """A subtle planted bug: one weight gradient entry off by 1e-6 of its layer's largest entry."""
    g = manualbp.gradients(case)
    dW = [np.array(a, copy=True) for a in g.dW]
    dW[0].flat[0] += 1e-6 * max(float(np.abs(dW[0]).max()), 1e-3)
    return Gradients(tuple(dW), g.db, "planted")


@pytest.mark.parametrize("subject", [manualbp.gradients, _small_bug, output_bias_bug])
def test_clear_pass_shortcut_is_exactly_compares_pass(subject):
    """The sweep's shortcut says 'pass' (with compare's max error ratio) exactly when compare() would
    pass the case without a discrepancy; everything else goes through compare()."""
    from oracles.base import get_oracle
    from oracles.compare import clear_pass, compare
    from oracles.sweep import _error_bounds, _gradients_many, _projections

    cases = random_cases(8, 0, 250)
    cand = [subject(c) for c in cases]
    refs = {n: _gradients_many(get_oracle(n), cases) for n in ("torch", "jax")}
    bounds = _error_bounds(cases)
    projections = _projections(cases, cand, bounds)
    shortcut = 0
    for k, case in enumerate(cases):
        r = {n: refs[n][k] for n in refs}
        v = compare(case, cand[k], precomputed=r, projection=projections[k], bound=bounds[k])
        ratio = clear_pass(case, cand[k].flat().astype(np.float64),
                           {n: g.flat().astype(np.float64) for n, g in r.items()}, projections[k], bounds[k])
        clean = v.status == "pass" and not bounds[k].kinks and projections[k].passed is True
        assert (ratio is not None) == clean, (k, v.status, ratio)
        if ratio is not None:
            shortcut += 1
            assert ratio == pytest.approx(v.max_error_ratio, rel=1e-12, abs=1e-300)
    if subject is manualbp.gradients:
        assert shortcut >= 240  # nearly every correct case takes the shortcut
    else:
        assert shortcut < 250  # the planted bugs never do
