"""What the autodiff oracles can compute, and the pure-Python bookkeeping they share.

Both autodiff oracles (torch, jax) rebuild the derivation's network from a
:class:`manualbp.Case` with their own primitives.  This module says which
activations and costs they implement (anything else is a clear ValueError, not
a silent wrong answer), and holds the grouping and bucket arithmetic used by
their batched ``gradients_many``: padding small cases of different architectures into one
shape (:func:`pack`), with masks saying which units and batch columns are real, and cutting
the real gradients back out (:func:`unpack`).  numpy only; no torch or jax here.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from manualbp import Case
from manualbp.activations import LEAKY_SLOPE

__all__ = [
    "COST_CODES",
    "Packed",
    "ELEMENTWISE",
    "LEAKY_SLOPE",
    "OUTPUT_ONLY",
    "SQUARED",
    "SUPPORTED_ACTIVATIONS",
    "SUPPORTED_COSTS",
    "act_code",
    "as_columns",
    "bucket_key",
    "cost_params",
    "group_indices",
    "pack",
    "pow2ceil",
    "unpack",
    "validate",
]

ELEMENTWISE = ("sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity")
"""Elementwise activations, in the order of their integer codes (0..5)."""

OUTPUT_ONLY = ("softmax",)
"""Activations allowed only on the output layer (code 6 onwards)."""

SUPPORTED_ACTIVATIONS = frozenset(ELEMENTWISE + OUTPUT_ONLY)

SQUARED: dict[str, tuple[float, bool]] = {
    "half_mse": (0.5, True),  # ½ · Σ_k (a_k − y_k)² / n_N
    "half_sse": (0.5, False),  # ½ · Σ_k (a_k − y_k)²
    "mse": (1.0, True),  # Σ_k (a_k − y_k)² / n_N
}
"""Squared-error costs as (factor, divide by n_N) of the per-sample Σ_k (a_k − y_k)²."""

COST_CODES = {"squared": 0, "bce": 1, "softmax_ce": 2}
"""Cost families as integer codes (for the JAX oracle's data-driven buckets)."""

SUPPORTED_COSTS = frozenset(SQUARED) | {"bce", "softmax_ce"}


def act_code(name: str) -> int:
    """The integer code of a supported activation (0..5 elementwise, 6 softmax)."""
    return (ELEMENTWISE + OUTPUT_ONLY).index(name)


_CODES = {name: act_code(name) for name in ELEMENTWISE + OUTPUT_ONLY}


def validate(case: object, oracle: str) -> Case:
    """The case itself, or TypeError/ValueError saying what ``oracle`` cannot do with it."""
    if not isinstance(case, Case):
        raise TypeError(f"the {oracle} oracle needs a manualbp.Case, got {type(case).__name__}")
    for L, name in enumerate(case.arch.activations, start=2):
        if name not in SUPPORTED_ACTIVATIONS:
            raise ValueError(
                f"the {oracle} oracle cannot compute activation {name!r} (layer {L}); "
                f"it supports: {', '.join(sorted(SUPPORTED_ACTIVATIONS))}"
            )
    if case.arch.cost not in SUPPORTED_COSTS:
        raise ValueError(
            f"the {oracle} oracle cannot compute cost {case.arch.cost!r}; "
            f"it supports: {', '.join(sorted(SUPPORTED_COSTS))}"
        )
    return case


def as_columns(v: np.ndarray) -> np.ndarray:
    """A single sample (n,) as one column (n, 1); a batch (n, B) unchanged."""
    return v[:, None] if v.ndim == 1 else v


def pow2ceil(n: int, minimum: int = 1) -> int:
    """The smallest power of two that is >= max(n, minimum)."""
    n = max(int(n), int(minimum), 1)
    return 1 << (n - 1).bit_length()


def group_indices(items: Sequence[object], key: Callable[[object], Hashable]) -> dict[Hashable, list[int]]:
    """Indices of ``items`` grouped by ``key``, groups in first-seen order, indices ascending."""
    groups: dict[Hashable, list[int]] = {}
    for i, item in enumerate(items):
        groups.setdefault(key(item), []).append(i)
    return groups


# ------------------------------------------------------------------ shape buckets
def bucket_key(case: Case, *, max_width: int, max_batch: int, min_width: int, min_layers: int,
               min_batch: int) -> tuple[str, int, int, int] | None:
    """(dtype, width P, weight layers, batch columns) of the padded shape; None when the case is too large."""
    widths = case.arch.widths
    batch = 1 if case.x.ndim == 1 else case.x.shape[1]
    if max(widths) > max_width or batch > max_batch:
        return None
    return (case.dtype, pow2ceil(max(widths), min_width), pow2ceil(len(widths) - 1, min_layers),
            pow2ceil(batch, min_batch))


@dataclass(frozen=True)
class Packed:
    """K cases padded to one shape, stacked along a leading case axis (numpy arrays).

    Every layer is P wide; the real weight layers sit at positions ``offsets[k]`` onwards, behind
    identity layers (W = I, b = 0, σ = identity) that copy the input exactly.  ``units[k, l]``
    marks the real units of position l (0 = input), ``cols[k]`` the real batch columns; ``acts``
    and ``cost`` are integer codes, ``factor``/``divisor`` the squared costs' constants, ``batch``
    the real batch size.  Padding cases (beyond the real ones) repeat the first case.
    """

    W: np.ndarray  # (K, layers, P, P)
    b: np.ndarray  # (K, layers, P)
    x: np.ndarray  # (K, P, batch)
    y: np.ndarray  # (K, P, batch)
    units: np.ndarray  # (K, layers + 1, P) bool
    cols: np.ndarray  # (K, batch) bool
    acts: np.ndarray  # (K, layers) int32
    cost: np.ndarray  # (K,) int32
    factor: np.ndarray  # (K,)
    divisor: np.ndarray  # (K,)
    batch: np.ndarray  # (K,)
    offsets: tuple[int, ...]


def cost_params(case: Case) -> tuple[int, float, float]:
    """(cost code, factor, divisor) of the case's cost; factor and divisor only matter for squared costs."""
    name = case.arch.cost
    if name in SQUARED:
        factor, per_unit = SQUARED[name]
        return COST_CODES["squared"], factor, float(case.arch.widths[-1]) if per_unit else 1.0
    return COST_CODES[name], 1.0, 1.0


def pack(cases: Sequence[Case], key: tuple[str, int, int, int], size: int | None = None) -> Packed:
    """The cases of one bucket ``key`` padded and stacked, with ``size`` (>= len(cases)) slots."""
    dtype, P, n_layers, n_cols = key
    K = size or len(cases)
    padded = list(cases) + [cases[0]] * (K - len(cases))
    W, b = np.zeros((K, n_layers, P, P), dtype), np.zeros((K, n_layers, P), dtype)
    x, y = np.zeros((K, P, n_cols), dtype), np.zeros((K, P, n_cols), dtype)
    units, cols = np.zeros((K, n_layers + 1, P), bool), np.zeros((K, n_cols), bool)
    acts = np.full((K, n_layers), act_code("identity"), np.int32)
    cost = np.zeros(K, np.int32)
    factor, divisor, batch = np.ones(K, dtype), np.ones(K, dtype), np.ones(K, dtype)
    eye = np.eye(P, dtype=dtype)
    offsets = []
    for k, case in enumerate(padded):
        widths = case.arch.widths
        o = n_layers - (len(widths) - 1)
        offsets.append(o)
        W[k, :o] = eye
        units[k, :o + 1, :widths[0]] = True
        for j, (Wj, bj) in enumerate(zip(case.weights, case.biases)):
            W[k, o + j, :Wj.shape[0], :Wj.shape[1]] = Wj
            b[k, o + j, :bj.shape[0]] = bj
            units[k, o + j + 1, :widths[j + 1]] = True
            acts[k, o + j] = _CODES[case.arch.activations[j]]
        xc, yc = as_columns(case.x), as_columns(case.y)
        x[k, :xc.shape[0], :xc.shape[1]] = xc
        y[k, :yc.shape[0], :yc.shape[1]] = yc
        cols[k, :xc.shape[1]] = True
        cost[k], factor[k], divisor[k] = cost_params(case)
        batch[k] = xc.shape[1]
    return Packed(W, b, x, y, units, cols, acts, cost, factor, divisor, batch, tuple(offsets))


def unpack(cases: Sequence[Case], packed: Packed, gW: np.ndarray, gb: np.ndarray
           ) -> list[tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]]:
    """Per real case, (dW, db) cut out of padded gradients gW (K, layers, P, P), gb (K, layers, P)."""
    out = []
    for k, case in enumerate(cases):
        o = packed.offsets[k]
        dW = tuple(gW[k, o + j, :W.shape[0], :W.shape[1]].copy() for j, W in enumerate(case.weights))
        db = tuple(gb[k, o + j, :b.shape[0]].copy() for j, b in enumerate(case.biases))
        out.append((dW, db))
    return out
