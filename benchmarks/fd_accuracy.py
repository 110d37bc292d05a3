"""Accuracy and cost of the finite-difference oracle (issue 3 item 4, issue 7 item 5).

    .venv/bin/python -m benchmarks.fd_accuracy [--cases 200] [--seed 0] [--skip-timing]

1. Accuracy in float64 on well-conditioned random cases of every analytic activation and cost
   (depth 1-3 weight layers, widths 1-8, single sample or batch of 1-5, weights ~ N(0, 1/fan_in)):
   central differences, Richardson and the complex step, against torch autograd (float64) and
   against an extended-precision complex step (80-bit long double).  Two relative errors:
     * normwise:  max_i |fd_i − ref_i| / max_i |ref_i|   (per case, over all entries),
     * floored:   max_i |fd_i − ref_i| / max(|ref_i|, 1e-3·max_j |ref_j|)  (componentwise, except that
       entries below a thousandth of the largest are measured against that thousandth),
   and how often the per-entry error estimate bounds the actual error (against the long-double
   reference; torch's own rounding is of the same size as the complex step's).  A case counts as
   well-conditioned *in float64* when manualbp's float64 backprop is itself within 1e-14 (normwise)
   of the long-double reference; the few cases where it is not (a gradient that is a small difference
   of large terms, e.g. softmax output ≈ target) are listed separately: there every float64 method,
   backprop included, shows the same error.
2. Time of projection_check (2 directions) against the full per-entry FD check at ~1e2, 1e4 and 1e6
   parameters, for a shallow (w, w, 1) and a deep (w, w, w, 1) sigmoid network; the full check at 1e6
   runs only when the trend predicts under 60 s, otherwise it is extrapolated (and says so).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

import manualbp as mb
from oracles import fd
from oracles.projection import projection_check
from oracles.sweep_cases import case_for

SMOOTH = ("sigmoid", "tanh", "softplus", "identity")
OUT_COSTS = (("sigmoid", "half_mse"), ("tanh", "half_sse"), ("identity", "mse"), ("softplus", "half_mse"),
             ("sigmoid", "bce"), ("softmax", "softmax_ce"))
METHODS = ("central", "richardson", "complex-step")


def random_case(rng: np.random.Generator, i: int) -> mb.Case:
    """A well-conditioned case cycling through every hidden activation and (output, cost) pair."""
    hidden = SMOOTH[i % len(SMOOTH)]
    output, cost = OUT_COSTS[(i // len(SMOOTH)) % len(OUT_COSTS)]
    depth = int(rng.integers(2, 5))
    widths = [int(w) for w in rng.integers(1, 9, depth)]
    if cost == "softmax_ce":
        widths[-1] = max(widths[-1], 2)
    batch = [None, 1, int(rng.integers(2, 6))][i % 3]
    arch = mb.Architecture(tuple(widths), (*[hidden] * (depth - 2), output), cost)
    return case_for(arch, rng, batch=batch, weight_scale=1.0)


def torch_gradients(case: mb.Case) -> np.ndarray | None:
    """torch autograd in float64 (the autodiff oracle), or None when torch is missing."""
    try:
        from oracles.base import get_oracle

        return get_oracle("torch").gradients(case).flat().astype(np.float64)
    except Exception as exc:  # noqa: BLE001 - report and go on without torch
        print(f"  (torch unavailable: {exc})")
        return None


def rel_errors(got: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    scale = float(np.abs(ref).max()) or 1.0
    diff = np.abs(got - ref)
    return float(diff.max() / scale), float((diff / np.maximum(np.abs(ref), 1e-3 * scale)).max())


def accuracy(n_cases: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    stats = {(m, r): [] for m in (*METHODS, "manualbp") for r in ("torch", "longdouble")}
    bounded = {m: [0, 0] for m in METHODS}
    ratio = {m: [] for m in METHODS}
    t_method = {m: 0.0 for m in METHODS}
    use_torch = True
    ill: list[int] = []
    for i in range(n_cases):
        case = random_case(rng, i)
        refs = {"longdouble": fd.reference_gradients(case).flat().astype(np.float64)}
        if use_torch:
            t = torch_gradients(case)
            use_torch = t is not None
            if use_torch:
                refs["torch"] = t
        got = {"manualbp": (mb.gradients(case).flat(), None)}
        for m in METHODS:
            t0 = time.perf_counter()
            g = fd.fd_gradients(case, m)
            t_method[m] += time.perf_counter() - t0
            got[m] = (g.flat(), g.errors().flat())
        if rel_errors(got["manualbp"][0], refs["longdouble"])[0] > 1e-14:
            ill.append(i)
        for m, (g, est) in got.items():
            for rname, ref in refs.items():
                stats[m, rname].append(rel_errors(g, ref) + (i in ill,))
            if est is not None:
                actual = np.abs(g - refs["longdouble"])
                bounded[m][0] += int((actual <= est).sum())
                bounded[m][1] += actual.size
                ratio[m].append(float((actual / np.maximum(est, 1e-300)).max()))
    print(f"\n1. Accuracy, float64, {n_cases} well-conditioned random cases (all analytic activations and costs)")
    print(f"   {len(ill)} case(s) not well-conditioned in float64 (manualbp itself off by > 1e-14): {ill};"
          " the table is over the other cases, the last column over those")
    print(f"   {'method':<13} {'reference':<11} {'max normwise':>13} {'max floored':>12} {'median floored':>15}"
          f" {'ill-cond. normwise':>19}")
    targets = {"richardson": 1e-10, "complex-step": 1e-14}
    for (m, rname), vals in stats.items():
        if not vals:
            continue
        arr = np.array(vals)
        bad = arr[:, 2].astype(bool)
        nw, fl = arr[~bad, 0], arr[~bad, 1]
        ill_nw = f"{arr[bad, 0].max():19.2e}" if bad.any() else f"{'-':>19}"
        tgt = targets.get(m)
        mark = "" if tgt is None else f"   target <= {tgt:.0e}: normwise {'met' if nw.max() <= tgt else 'NOT met'},"\
            f" floored {'met' if fl.max() <= tgt else 'NOT met'}"
        print(f"   {m:<13} {rname:<11} {nw.max():13.2e} {fl.max():12.2e} {np.median(fl):15.2e} {ill_nw}{mark}")
    print("   error estimate vs actual error (long-double reference):")
    for m in METHODS:
        ok, tot = bounded[m]
        print(f"   {m:<13} bounded {ok}/{tot} entries; worst actual/estimate {max(ratio[m]):.2f};"
              f" median per-case worst {statistics.median(ratio[m]):.3f};"
              f" FD time {t_method[m] / n_cases * 1e3:.2f} ms/case")


def sigmoid_net(widths: tuple[int, ...], rng: np.random.Generator) -> mb.Case:
    Ws = [rng.standard_normal((m, n)) / math.sqrt(n) for n, m in zip(widths[:-1], widths[1:])]
    bs = [0.1 * rng.standard_normal(m) for m in widths[1:]]
    return mb.Case.create(Ws, bs, rng.standard_normal(widths[0]), rng.uniform(0.1, 0.9, widths[-1]),
                          hidden="sigmoid", cost="half_mse")


def best_of(fn, repeats: int) -> float:
    """Median wall time of ``repeats`` calls after one untimed call (the BLAS thread pool wakes up on the
    first call after another library ran: that hand-over is not the function's cost)."""
    if repeats > 1:
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def timing(seed: int) -> None:
    rng = np.random.default_rng(seed)
    print("\n2. Cost: projection_check (fast mode, 2 directions) vs the full per-entry FD check (complex step)")
    print("   'gradient' is one manualbp forward+backward of the same case: the projection costs a constant")
    print("   number of such passes (the ratio column), the full check one cheap pass per parameter.")
    families = {"shallow (w, w, 1)": [(8, 10, 1), (99, 99, 1), (999, 999, 1)],
                "deep (w, w, w, 1)": [(6, 6, 6, 1), (70, 70, 70, 1), (707, 707, 707, 1)]}
    for family, nets in families.items():
        print(f"   {family}")
        print(f"   {'params':>9} {'projection':>12} {'gradient':>10} {'proj/grad':>9} {'full FD':>12}"
              f" {'full/proj':>10}")
        trend: list[tuple[int, float]] = []
        for widths in nets:
            case = sigmoid_net(widths, rng)
            g = mb.gradients(case)
            n = case.arch.n_params
            t_grad = best_of(lambda c=case: mb.gradients(c), 7)
            t_proj = best_of(lambda c=case, gg=g: projection_check(c, gg), 7)
            predicted, note = None, ""
            if len(trend) >= 2:
                (n1, t1), (n2, t2) = trend[-2:]
                alpha = math.log(t2 / t1) / math.log(n2 / n1)
                predicted = t2 * (n / n2) ** alpha
            if predicted is None or predicted < 60:
                t_full = best_of(lambda c=case: fd.fd_gradients(c), 1 if n > 1e5 else 5)
                trend.append((n, t_full))
            else:
                t_full = predicted
                note = f"  (extrapolated as n^{alpha:.2f} from the two smaller sizes; not run)"
            print(f"   {n:9d} {t_proj * 1e3:9.2f} ms {t_grad * 1e3:7.2f} ms {t_proj / t_grad:9.1f}"
                  f" {t_full:10.3f} s {t_full / t_proj:10.1f}{note}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-timing", action="store_true")
    args = p.parse_args(argv)
    accuracy(args.cases, args.seed)
    if not args.skip_timing:
        timing(args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
