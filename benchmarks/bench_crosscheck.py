"""Item 2: one small case cross-checked against all three oracles in fast mode vs torch's gradcheck.

Each case (1–4 weight layers, widths 1–8, float64, the sweep's distribution) is timed both ways, side
by side: ``compare(case, manualbp.gradients(case))`` with torch, JAX and finite differences in fast
mode (the subject's own gradients included), and ``torch.autograd.gradcheck`` of the same cost in
float64, in alternating blocks of a few cases; the figure is the median of the per-case ratios.
Then an error planted in one entry must be reported at exactly that entry.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from manualbp import Gradients
from manualbp import gradients as manualbp_gradients
from oracles.sweep_cases import Distribution, random_cases

from .common import Row, fmt_time, median_interval
from .gradcheck import gradcheck

TARGET = 0.1
BLOCK = 10
"""Cases per block: the cross-check and gradcheck time the same cases in alternating blocks (interleaving them
case by case makes each evict the other's caches: the cross-check measured 1.4x slower that way)."""
DIST = Distribution(float32_share=0.0)
PAIRS = (("torch", "fd"), ("jax", "fd"))
"""Explanatory variants: one autodiff oracle and finite differences."""


def _plant(g: Gradients, layer: int, entry: tuple[int, int], rel: float) -> Gradients:
    """g with W^(layer)[entry] off by ``rel`` of the layer's largest entry."""
    dW = [np.array(a, copy=True) for a in g.dW]
    dW[layer - 1][entry] += rel * max(float(np.abs(dW[layer - 1]).max()), 1e-3)
    return Gradients(tuple(dW), g.db, "planted")


def localisation(seed: int = 12) -> list[Row]:
    """Plant errors of relative size 1e-3 and 1e-7 in one entry; the verdict must name that entry alone."""
    from oracles.compare import compare

    rows = []
    case = next(c for c in random_cases(seed, 0, 200, DIST)
                if len(c.arch.widths) >= 3 and min(c.arch.widths) >= 2 and c.arch.cost == "half_mse")
    g = manualbp_gradients(case)
    for rel in (1e-3, 1e-7):
        entry = (1, 0)
        v = compare(case, _plant(g, 2, entry, rel))
        where = sorted({(d.layer, d.param, d.entry) for d in v.discrepancies if d.status == "fail"})
        ok = v.status == "fail" and where == [(2, "W", entry)]
        found = ", ".join(f"{p}^({L})[{', '.join(map(str, e))}]" for L, p, e in where) or "nothing"
        rows.append(Row("2 cross-check", f"planted error (rel {rel:g}) at W^(2)[1, 0] of a "
                        f"{'-'.join(map(str, case.arch.widths))} network is reported at",
                        found, "W^(2)[1, 0] only", ok, note=f"status {v.status}"))
    return rows


def run(n_cases: int = 300, seed: int = 11) -> list[Row]:
    """Median cost of the fast cross-check and of gradcheck over ``n_cases`` cases, side by side."""
    from oracles.compare import compare

    cases = random_cases(seed, 0, n_cases, DIST)
    for c in cases[:20]:  # warm-up: JAX compiles its buckets for single cases once
        compare(c, manualbp_gradients(c))
    cross, grad, statuses = [], [], {}
    pairs: dict[tuple[str, ...], list[float]] = {p: [] for p in PAIRS}
    for p in PAIRS:
        for c in cases[:20]:
            compare(c, manualbp_gradients(c), oracles=p)
    for s in range(0, n_cases, BLOCK):  # alternating blocks: each tool runs as in a user's loop
        block = cases[s:s + BLOCK]
        for c in block:
            t0 = time.perf_counter()
            v = compare(c, manualbp_gradients(c))
            cross.append(time.perf_counter() - t0)
            statuses[v.status] = statuses.get(v.status, 0) + 1
        for c in block:
            t0 = time.perf_counter()
            gradcheck(c)
            grad.append(time.perf_counter() - t0)
        for p, times in pairs.items():  # explanatory: the same check with one autodiff oracle left out
            for c in block:
                t0 = time.perf_counter()
                compare(c, manualbp_gradients(c), oracles=p)
                times.append(time.perf_counter() - t0)
    ratios = [a / b for a, b in zip(cross, grad)]
    r = statistics.median(ratios)
    lo, hi = median_interval(ratios)
    rows = [
        Row("2 cross-check", f"fast cross-check (torch+jax+fd) of one case, median of {n_cases}",
            fmt_time(statistics.median(cross)), note=f"verdicts {statuses}; alternating blocks of {BLOCK} cases"),
        Row("2 cross-check", f"torch.autograd.gradcheck (float64) of the same case, median of {n_cases}",
            fmt_time(statistics.median(grad))),
        Row("2 cross-check", "cross-check / gradcheck (median of per-case ratios)", f"{r:.3f}",
            f"≤ {TARGET}", r <= TARGET,
            note=f"95% confidence interval of the median {lo:.3f} to {hi:.3f}; ratio of medians "
                 f"{statistics.median(cross) / statistics.median(grad):.3f}"),
        _by_depth(cases, cross, grad),
    ] + [Row("2 cross-check", f"  explanatory: the same check against {' + '.join(p)} only (one autodiff oracle left "
             "out)", f"{fmt_time(statistics.median(t))}, ratio {statistics.median(a / b for a, b in zip(t, grad)):.3f}",
             note="measured in the same blocks; what the third oracle's call costs")
         for p, t in pairs.items()]
    return rows + breakdown(cases[:100]) + localisation()


def _by_depth(cases, cross: list[float], grad: list[float]) -> Row:
    """The same figures per number of weight layers: the cross-check's cost is mostly fixed per call,
    gradcheck's grows with the parameter count."""
    parts = []
    for depth in sorted({len(c.weights) for c in cases}):
        idx = [i for i, c in enumerate(cases) if len(c.weights) == depth]
        ratio = statistics.median(cross[i] / grad[i] for i in idx)
        parts.append(f"{depth}: {fmt_time(statistics.median(cross[i] for i in idx))} vs "
                     f"{fmt_time(statistics.median(grad[i] for i in idx))}, {ratio:.3f} ({len(idx)} cases)")
    return Row("2 cross-check", "  by weight layers: cross-check vs gradcheck, median ratio", "; ".join(parts))


def breakdown(cases) -> list[Row]:
    """Median per-case cost of each part of the cross-check (where its time goes)."""
    from oracles.base import get_oracle
    from oracles.compare import error_bound
    from oracles.projection import projection_check

    grads = [manualbp_gradients(c) for c in cases]
    bounds = {id(c): error_bound(c) for c in cases}
    parts = {
        "manualbp gradients (the subject)": lambda c, g: manualbp_gradients(c),
        "torch oracle, one case": lambda c, g: get_oracle("torch").gradients(c),
        "JAX oracle, one case (bucketed, compiled; dispatch and wait)": lambda c, g: get_oracle("jax").gradients(c),
        "FD projection check given the bound, 2 directions": lambda c, g: projection_check(c, g, bound=bounds[id(c)]),
        "rounding-error bound (tolerance model)": lambda c, g: error_bound(c),
    }
    rows = []
    for name, fn in parts.items():
        times = []
        for c, g in zip(cases, grads):
            t0 = time.perf_counter()
            fn(c, g)
            times.append(time.perf_counter() - t0)
        rows.append(Row("2 cross-check", f"  of which: {name}", fmt_time(statistics.median(times)),
                        note=f"median of {len(cases)} cases, each part in a loop of its own"))
    return rows
