"""Item 5: finite differences that scale.  Fast (random-projection) check vs full per-entry FD vs gradcheck.

Networks of about 10², 10⁴ and 10⁶ parameters (tanh hidden layer, identity output, half_mse, a batch
of 4).  The fast check (``oracles.projection.projection_check``, two directions) costs a constant
number of forward passes, so its time should grow like one forward pass, not like the parameter
count; it is shown beside one manualbp forward pass for that reason.  It is timed as the cross-check's
fast mode runs it: the case's rounding-error bound (its tolerance model, itself a few passes) and the
projection check given that bound (one float64 complex pass for both directions).  The full per-entry FD and
gradcheck are linear in the parameter count: where one run would take minutes they are extrapolated
linearly from the largest size measured, and the table says so.
"""

from __future__ import annotations

import math
import time

import numpy as np

from manualbp import Case, forward
from manualbp import gradients as manualbp_gradients

from .common import Row, fmt_time, paired_ratio, timed_blocks

SIZES = {"10²": (8, 8, 3), "10⁴": (64, 128, 14), "10⁶": (1000, 990, 10)}
FAST_FACTOR = 10.0
"""Target: the fast check's cost in forward passes varies by at most this factor over the three sizes."""

BUDGET = 60.0
"""Seconds one full FD or gradcheck run may take before larger sizes are extrapolated instead."""


def network(widths: tuple[int, ...], seed: int = 0) -> Case:
    """A tanh network with Glorot weights, a batch of 4."""
    rng = np.random.default_rng(seed)
    Ws = [rng.normal(0.0, 1.0 / np.sqrt(m), size=(n, m)) for m, n in zip(widths[:-1], widths[1:])]
    bs = [rng.normal(0.0, 0.1, size=n) for n in widths[1:]]
    x, y = rng.normal(size=(widths[0], 4)), rng.normal(size=(widths[-1], 4))
    return Case.create(Ws, bs, x, y, hidden="tanh", output="identity", cost="half_mse")


ROUNDS = 15
"""The fast check and a forward pass are timed in this many alternating blocks; their ratio is the median of
the per-round ratios (a slow phase of the machine scales both sides of one)."""

BLOCK_SECONDS = 0.01
"""A block repeats the fast check for about this long (at least 3 calls), the forward pass as many times."""


def run(repeats: int = 5) -> list[Row]:
    """Rows for every size: fast check, forward pass, full FD, gradcheck."""
    from oracles import projection
    from oracles.compare import error_bound
    from oracles.fd import fd_gradients
    from oracles.projection import projection_check

    from .gradcheck import gradcheck

    rows: list[Row] = []
    warm = network(SIZES["10²"], seed=1)  # first calls pay imports and caches: not part of any figure
    fd_gradients(warm)
    gradcheck(warm)
    fast_in_fwd: dict[str, float] = {}
    full_rate = gc_rate = None  # seconds per parameter at the largest measured size
    for label, widths in SIZES.items():
        case = network(widths)
        n = case.arch.n_params
        g = manualbp_gradients(case)
        for cache in (projection._remembered_directions, projection._remembered_large, projection._stream):
            cache.cache_clear()
        t0 = time.perf_counter()
        res = projection_check(case, g, bound=error_bound(case))
        t_first = time.perf_counter() - t0  # includes drawing the random directions
        blocks = timed_blocks({"fast": lambda case=case, g=g: projection_check(case, g, bound=error_bound(case)),
                               "forward": lambda case=case: forward(case)},
                              max(ROUNDS, repeats), max(3, math.ceil(BLOCK_SECONDS / t_first)))
        t_fast, t_fwd = (float(np.median(np.concatenate(blocks[k]))) for k in ("fast", "forward"))
        fast_in_fwd[label] = paired_ratio(blocks, "fast", "forward")
        rows.append(Row("5 FD", f"{label} ({n:,} parameters): fast check (rounding bound + 2 directions)",
                        fmt_time(t_fast),
                        note=f"= {fast_in_fwd[label]:.0f} forward passes ({fmt_time(t_fwd)} each); "
                             f"passed={res.passed}, {res.method}; the first call, drawing the directions "
                             f"(remembered: a pure function of the parameter count and the seed), {fmt_time(t_first)}"))
        for name, fn, rate in (("full per-entry FD", lambda case=case: fd_gradients(case), full_rate),
                               ("torch gradcheck (float64)", lambda case=case: gradcheck(case), gc_rate)):
            if rate is not None and rate * n > BUDGET:
                rows.append(Row("5 FD", f"{label}: {name}", f"≈ {fmt_time(rate * n)}",
                                note="extrapolated linearly from the size above (too slow to run here)"))
                continue
            t0 = time.perf_counter()
            fn()
            t = time.perf_counter() - t0
            if name.startswith("full"):
                full_rate = t / n
            else:
                gc_rate = t / n
            rows.append(Row("5 FD", f"{label}: {name}", fmt_time(t), note=f"{t / t_fast:.0f}× the fast check"))
    growth = max(fast_in_fwd.values()) / min(fast_in_fwd.values())
    rows.append(Row("5 FD", "fast check cost in forward passes, largest / smallest over 10²–10⁶ parameters",
                    f"{growth:.1f}×", f"≤ {FAST_FACTOR:.0f}× (a constant number of passes)", growth <= FAST_FACTOR,
                    note=", ".join(f"{k}: {v:.0f}" for k, v in fast_in_fwd.items())))
    return rows
