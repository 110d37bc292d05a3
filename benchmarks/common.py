"""What every benchmark shares: a result row, timings in interleaved blocks and their paired ratios, the machine."""

from __future__ import annotations

import math
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction


@dataclass
class Row:
    """One figure of the benchmark table, with its target beside it."""

    item: str  # issue-7 item, e.g. "2 cross-check"
    figure: str  # what was measured
    value: str  # the measurement, formatted
    target: str = ""  # the target, formatted ("" when the figure is context only)
    met: bool | None = None  # None: no target for this figure
    note: str = ""

    @property
    def verdict(self) -> str:
        """'met', 'NOT met' or '' (no target)."""
        return "" if self.met is None else ("met" if self.met else "NOT met")


def timed_blocks(fns: dict[str, Callable[[], object]], rounds: int, per_block: int) -> dict[str, list[list[float]]]:
    """Wall times (s) of each function in ``rounds`` alternating blocks of ``per_block`` calls: [round][call].

    Each block starts with one untimed call: switching between libraries costs the first call of a
    block (thread pools of numpy/OpenBLAS, torch and XLA hand the cores over), which no library pays
    in a loop of its own.  Blocks alternate so that slow phases of a noisy machine hit all alike.
    """
    times: dict[str, list[list[float]]] = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            fn()
            block = []
            for _ in range(per_block):
                t0 = time.perf_counter()
                fn()
                block.append(time.perf_counter() - t0)
            times[k].append(block)
    return times


def paired_ratios(blocks: dict[str, list[list[float]]], a: str, b: str) -> list[float]:
    """Per round, a's block median / b's block median: each ratio from blocks run back to back, so a slow
    phase of the machine scales both sides of it."""
    return [statistics.median(x) / statistics.median(y) for x, y in zip(blocks[a], blocks[b])]


def paired_ratio(blocks: dict[str, list[list[float]]], a: str, b: str) -> float:
    """The median over rounds of :func:`paired_ratios`."""
    return statistics.median(paired_ratios(blocks, a, b))


def median_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """A distribution-free confidence interval of the median of ``values``, at least ``level``.

    The interval between the j-th smallest and the j-th largest value covers the median of the distribution
    the values were drawn from with probability 1 − 2·P(X < j), X ~ Binomial(n, ½), whatever that
    distribution; j is the largest order for which that is at least ``level`` (with too few values for
    ``level``: the whole range).
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        raise ValueError("the interval of the median needs at least one value")
    below, j = 0, 0  # below: P(X < j + 1) · 2^n, X ~ Binomial(n, ½)
    while j < n // 2:
        below += math.comb(n, j)
        if 2**n - 2 * below < Fraction(level) * 2**n:  # exact: the coverage of order j + 1 falls below level
            break
        j += 1
    j = max(j, 1)
    return xs[j - 1], xs[n - j]


def fmt_time(seconds: float) -> str:
    """A duration with a sensible unit."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def machine() -> dict[str, str]:
    """The machine and the libraries' threading, as they are (nothing here changes the environment)."""
    import numpy as np

    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
        "numpy": np.__version__,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "OMP/OPENBLAS/MKL_NUM_THREADS": "/".join(os.environ.get(v, "-") for v in
                                                 ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")),
    }
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        info["numpy BLAS"] = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 - informational only
        pass
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        info["threadpoolctl"] = "not installed (thread pools not listed)"
    else:
        info["threadpoolctl"] = "; ".join(
            f"{p.get('internal_api')} {p.get('version')} {p.get('num_threads')} threads"
            f"{' core ' + str(p['architecture']) if p.get('architecture') else ''}"
            for p in threadpool_info())
    try:
        import torch

        info["torch"] = f"{torch.__version__}, {torch.get_num_threads()} threads"
    except ImportError:
        info["torch"] = "not installed"
    try:
        import jax

        info["jax"] = f"{jax.__version__}, {jax.default_backend()}"
    except ImportError:
        info["jax"] = "not installed"
    return info
