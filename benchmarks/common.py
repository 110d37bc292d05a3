"""What every benchmark shares: a result row, medians over interleaved repeats, the machine's description."""

from __future__ import annotations

import math
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


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


def median_times(fns: dict[str, Callable[[], object]], repeats: int, *, rounds: int = 3) -> dict[str, float]:
    """Median wall time (s) of each function over ``repeats`` calls, run in ``rounds`` alternating blocks.

    Each block starts with one untimed call: switching between libraries costs the first call of a
    block (thread pools of numpy/OpenBLAS, torch and XLA hand the cores over), which no library pays
    in a loop of its own.  Blocks alternate so that slow phases of a noisy machine hit all alike.
    """
    times: dict[str, list[float]] = {k: [] for k in fns}
    per_block = max(1, math.ceil(repeats / rounds))
    for _ in range(rounds):
        for k, fn in fns.items():
            fn()
            for _ in range(per_block):
                t0 = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


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
