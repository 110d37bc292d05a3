"""Items 3 and 4: the batched sweep's throughput and JAX's compilations, vs a loop of gradcheck.

The sweep (``oracles.sweep.run_sweep``) checks N random architectures against torch, JAX and finite
differences; its wall time includes everything (case generation, JAX compilations, verdicts, worker
start-up for ``workers=2``).  The baseline is ``torch.autograd.gradcheck`` in a loop over the first
cases of the same sweep (float64 copies), whose mean time per case gives its cases per second.
"""

from __future__ import annotations

import math
import statistics
import time

from oracles.sweep import run_sweep
from oracles.sweep_cases import random_case

from .common import Row, fmt_time
from .gradcheck import gradcheck

SPEED_TARGET = 20.0
COMPILE_TARGET = 8


def _naive_compile_seconds(seed: int, n: int = 4) -> float:
    """Median time of one per-shape jit compilation (a JAX oracle that buckets nothing)."""
    from oracles.jax_oracle import JaxOracle

    naive = JaxOracle(max_bucket_width=1)
    times = []
    for i in range(n):
        case = random_case(seed, 10_000 + i)
        t0 = time.perf_counter()
        naive.gradients(case)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(n_cases: int = 10_000, seed: int = 0, gradcheck_cases: int = 200, scaling_cases: int = 30_000) -> list[Row]:
    """Sweep throughput with 1 and 2 workers, gradcheck's, and the JAX compile count; the parallel
    speed-up also on a ``scaling_cases`` sweep, where one process's start-up is a small share."""
    rows: list[Row] = []
    sweeps = {}
    for _ in range(2):  # alternate, keep the faster run of each: a noisy neighbour should not decide
        for workers in (1, 2):
            rep = run_sweep(n_cases, seed=seed, workers=workers, progress=False)
            if workers not in sweeps or rep.timings["sweep"]["seconds"] < sweeps[workers].timings["sweep"]["seconds"]:
                sweeps[workers] = rep
    for workers in (1, 2):
        rep = sweeps[workers]
        t = rep.timings["sweep"]
        s = rep.sections["sweep"]
        fails = s["by_status"].get("fail", 0)
        rows.append(Row("4 sweep", f"sweep of {n_cases} random architectures, workers={workers}",
                        f"{t['seconds']:.1f} s, {t['cases_per_second']:.0f} cases/s",
                        note=f"verdicts {s['by_status']}; processes {len(t['processes'])}"))
        rows.append(Row("4 sweep", f"false alarms in that sweep (workers={workers})", str(fails), "0", fails == 0))
    speedup = sweeps[2].timings["sweep"]["cases_per_second"] / sweeps[1].timings["sweep"]["cases_per_second"]
    rows.append(Row("8 parallel", f"workers=2 / workers=1 cases per second, {n_cases}-case sweep", f"{speedup:.2f}×",
                    note="includes the second process's start-up (spawn, imports; it adopts this process's compiled "
                         "JAX programs), a fixed cost of about two seconds"))
    rate: dict[int, dict] = {}
    for _ in range(2):  # alternate, keep the faster run of each (as above)
        for w in (1, 2):
            t = run_sweep(scaling_cases, seed=seed + 1, workers=w, progress=False).timings["sweep"]
            if w not in rate or t["seconds"] < rate[w]["seconds"]:
                rate[w] = t
    speedup = rate[2]["cases_per_second"] / rate[1]["cases_per_second"]
    rows.append(Row("8 parallel", f"workers=2 / workers=1 cases per second, {scaling_cases}-case sweep (2 cores)",
                    f"{speedup:.2f}×", "near-linear (≥ 1.6×)", speedup >= 1.6,
                    note=f"{rate[1]['seconds']:.1f} s vs {rate[2]['seconds']:.1f} s: long enough that the "
                         "start-up no longer dominates"))
    same = sweeps[1].sections == sweeps[2].sections
    rows.append(Row("8 parallel", "workers=2 gives the same report sections as workers=1", str(same), "True", same))

    times = []
    for i in range(gradcheck_cases):
        case = random_case(seed, i)
        best = math.inf
        for _ in range(2):  # the better of two runs: a noisy neighbour should not flatter the sweep
            t0 = time.perf_counter()
            gradcheck(case)
            best = min(best, time.perf_counter() - t0)
        times.append(best)
    gc_rate = 1.0 / statistics.mean(times)
    rows.append(Row("4 sweep", f"loop of torch.autograd.gradcheck over the first {gradcheck_cases} of those cases",
                    f"{gc_rate:.0f} cases/s", note=f"mean {fmt_time(statistics.mean(times))}, "
                                                   f"median {fmt_time(statistics.median(times))} per case "
                                                   "(better of 2 runs each)"))
    for workers in (1, 2):
        ratio = sweeps[workers].timings["sweep"]["cases_per_second"] / gc_rate
        rows.append(Row("4 sweep", f"sweep (workers={workers}) / gradcheck loop, cases per second", f"{ratio:.1f}×",
                        f"≥ {SPEED_TARGET:.0f}×", ratio >= SPEED_TARGET))

    rows += breakdown(seed)
    s1, t1 = sweeps[1].sections["sweep"], sweeps[1].timings["sweep"]
    naive = _naive_compile_seconds(seed)
    rows.append(Row("3 JAX", f"XLA compilations in the {n_cases}-case sweep (workers=1)",
                    f"{t1['compile_count']} for {s1['architectures']} architectures",
                    f"≤ {COMPILE_TARGET}", t1["compile_count"] <= COMPILE_TARGET,
                    note=f"workers=2: {sweeps[2].timings['sweep']['compile_count']} "
                         "(the worker adopts this process's programs)"))
    rows.append(Row("3 JAX", "one per-shape jit compilation (what bucketing avoids)", fmt_time(naive),
                    note=f"× {s1['architectures']} architectures ≈ {naive * s1['architectures']:.0f} s per sweep"))
    return rows


def breakdown(seed: int, n: int = 1000) -> list[Row]:
    """Per-case cost of each stage of a warm sweep chunk (where a sweep's time goes)."""
    import manualbp
    from oracles.base import get_oracle
    from oracles.sweep import CHUNK, _error_bounds, _gradients_many, _projections, check_chunk, judge
    from oracles.sweep_cases import random_cases

    check_chunk(seed, 0, 0, 250, ("torch", "jax", "fd"))  # warm: imports and compilations
    t = {}
    t0 = time.perf_counter()
    cases = random_cases(seed, 250, 250 + n)
    t["case generation"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    cand = [manualbp.gradients(c) for c in cases]
    t["subject (manualbp)"] = time.perf_counter() - t0
    refs = {}
    for name in ("torch", "jax"):
        t0 = time.perf_counter()
        refs[name] = _gradients_many(get_oracle(name), cases)
        t[f"{name} oracle, batched"] = time.perf_counter() - t0
    chunks = range(0, n, CHUNK)
    t0 = time.perf_counter()
    bounds = [b for s in chunks for b in _error_bounds(cases[s:s + CHUNK])]
    t[f"rounding-error bounds (tolerance model), batched per chunk of {CHUNK}"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    projections = [p for s in chunks for p in _projections(cases[s:s + CHUNK], cand[s:s + CHUNK], bounds[s:s + CHUNK])]
    t[f"FD projection check, batched per chunk of {CHUNK}"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for k, c in enumerate(cases):
        judge(250 + k, c, cand[k], {n_: refs[n_][k] for n_ in refs}, oracles=("torch", "jax", "fd"),
              subject=manualbp.gradients, seed=seed, projection=projections[k], bound=bounds[k])
    t["verdict (clear passes directly, the rest through compare())"] = time.perf_counter() - t0
    total = sum(t.values())
    return [Row("4 sweep", f"  per case, {name}", fmt_time(v / n), note=f"{v / total:.0%} of a sweep's work")
            for name, v in t.items()]
