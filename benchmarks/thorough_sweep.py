"""The thorough run: thousands of Hypothesis cases through ``compare(manualbp)``, plus planted errors.

    .venv/bin/python -m benchmarks.thorough_sweep --cases 5000

Each case (both dtypes, single samples and batches, every activation and cost, the default
well-conditioned strategy) is judged twice by the three-way vote in fast mode:

1. manualbp's gradients: anything but "pass" is a **false alarm** (and "oracle-disagreement" is
   also counted as a **disagreement** among the oracles);
2. the same gradients with one entry (drawn by Hypothesis) off by a relative 1e-6 (float64) or by
   4× its tolerance (float32): not "fail" localised to exactly that entry is a **missed** plant
   (float64 entries that are exactly 0 cannot take a relative error, and plants smaller than the
   entry's tolerance, i.e. on entries that are rounding noise around an exact 0, are counted apart).

Prints one JSON object with the counts, the time and the largest error ratio |manualbp − oracle| / tol.
``--extreme`` uses the strategy's extreme regions instead (saturation, exact kinks): there a correct
backprop may be "non-differentiable" or "inconclusive" but never "fail" or an oracle disagreement.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time

import numpy as np


def run(n_cases: int, *, extreme: bool = False, seed: int | None = None, fast: bool = True) -> dict:
    """Run the sweep and return its summary (see the module docstring)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed
    from hypothesis import strategies as st

    import manualbp
    from oracles import strategies as mst
    from oracles.compare import compare, tolerances

    stats: dict = {"cases": 0, "by_status": collections.Counter(), "by_dtype": collections.Counter(),
                   "by_cost": collections.Counter(), "by_hidden": collections.Counter(),
                   "batched": 0, "false_alarms": 0, "disagreements": 0, "max_error_ratio": 0.0,
                   "plants": 0, "plants_caught": 0, "plants_missed": 0, "plants_below_tolerance": 0,
                   "plants_on_exact_zero": 0,
                   "full_fd_runs": 0}
    alarms: list[str] = []
    strategy = mst.cases(architectures=mst.architectures(dtypes=("float64", "float32")), extreme=extreme)

    @settings(max_examples=n_cases, deadline=None, database=None, derandomize=seed is None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    @given(case=strategy, data=st.data())
    def one(case, data):
        stats["cases"] += 1
        stats["by_dtype"][case.dtype] += 1
        stats["by_cost"][case.arch.cost] += 1
        stats["batched"] += case.batched
        for act in case.arch.activations[:-1]:
            stats["by_hidden"][act] += 1
        good = manualbp.gradients(case)
        v = compare(case, good, fast=fast, rerun=manualbp.gradients)
        stats["by_status"][v.status] += 1
        stats["full_fd_runs"] += "fd" in v.oracle_gradients
        ok = ("pass", "non-differentiable", "inconclusive") if extreme else ("pass",)
        if v.status not in ok:
            stats["false_alarms"] += 1
            alarms.append(str(v))
        if v.status == "oracle-disagreement":
            stats["disagreements"] += 1
        if v.status == "pass":
            stats["max_error_ratio"] = max(stats["max_error_ratio"], v.max_error_ratio)
        if extreme:
            return
        # the planted error
        layer = data.draw(st.integers(1, len(case.weights)))
        param = data.draw(st.sampled_from(("W", "b")))
        arr = (good.dW if param == "W" else good.db)[layer - 1]
        entry = tuple(data.draw(st.integers(0, n - 1)) for n in arr.shape)
        tol = tolerances(case, "autodiff")
        t = float((tol.dW if param == "W" else tol.db)[layer - 1][entry])
        g = float(arr[entry])
        size = 1e-6 * abs(g) if case.dtype == "float64" else 4 * t
        if size == 0:
            stats["plants_on_exact_zero"] += 1
            return
        if size <= t:
            stats["plants_below_tolerance"] += 1
            return
        dW = [np.array(a, dtype=np.float64) for a in good.dW]
        db = [np.array(a, dtype=np.float64) for a in good.db]
        (dW if param == "W" else db)[layer - 1][entry] += size
        bad = manualbp.Gradients(tuple(a.astype(case.dtype) for a in dW), tuple(a.astype(case.dtype) for a in db))
        if np.array_equal(bad.flat(), good.flat()):
            stats["plants_below_tolerance"] += 1
            return
        stats["plants"] += 1
        w = compare(case, bad, fast=fast)
        if w.status == "fail" and [(d.layer, d.param, d.entry) for d in w.discrepancies] == [(layer, param, entry)]:
            stats["plants_caught"] += 1
        else:
            stats["plants_missed"] += 1
            alarms.append(f"missed plant at {param}^({layer}){list(entry)}: {w}")

    if seed is not None:
        one = hseed(seed)(one)
    t0 = time.perf_counter()
    one()
    stats["seconds"] = round(time.perf_counter() - t0, 1)
    stats["extreme"] = extreme
    stats["fast"] = fast
    stats["alarms"] = alarms[:20]
    return {k: dict(v) if isinstance(v, collections.Counter) else v for k, v in stats.items()}


def main(argv: list[str] | None = None) -> int:
    """Command line: --cases N [--extreme] [--seed S] [--full]; exit 1 on any false alarm or missed plant."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=5000)
    p.add_argument("--extreme", action="store_true")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: derandomized)")
    p.add_argument("--full", action="store_true", help="full per-entry FD for every case (not fast mode)")
    args = p.parse_args(argv)
    out = run(args.cases, extreme=args.extreme, seed=args.seed, fast=not args.full)
    print(json.dumps(out, indent=2))
    return 1 if out["false_alarms"] or out["plants_missed"] else 0


if __name__ == "__main__":
    sys.exit(main())
