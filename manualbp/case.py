"""The case: one network, its parameters, an input and a target.

This is the data model that flows through the whole package: a case goes in,
:class:`Gradients` come out (from manualbp, an oracle or a subject), findings
come out of comparing them.

Numbering follows the derivation: layer 1 is the input, layer N the output,
n_L is the width of layer L, and W^(L) (shape n_{L+1} × n_L) and b^(L)
(length n_{L+1}) map layer L to layer L+1.  In the tuples below, index
``L - 1`` holds W^(L) and b^(L).

A single sample is a vector x of length n_1 (the derivation's convention).  A
batch is a matrix of shape (n_1, B): **one column per sample**, as the
derivation's column vectors stacked side by side; the cost is the mean over
the B samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .activations import get_activation
from .costs import get_cost

FLOAT_DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class Architecture:
    """Widths n_1..n_N, the activation of layers 2..N, the cost and the dtype."""

    widths: tuple[int, ...]
    activations: tuple[str, ...]
    cost: str = "half_mse"
    dtype: str = "float64"

    def __post_init__(self) -> None:
        widths = tuple(self.widths)
        if len(widths) < 2:
            raise ValueError(
                f"a network needs at least 2 layers (input and output); got widths {list(widths)}"
            )
        for L, n in enumerate(widths, start=1):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"layer {L} has width {n!r}; every width must be an integer >= 1")
        acts = tuple(self.activations)
        if len(acts) != len(widths) - 1:
            raise ValueError(
                f"{len(widths)} layers need {len(widths) - 1} activations (layers 2..{len(widths)}),"
                f" got {len(acts)}: {list(acts)}"
            )
        for L, name in enumerate(acts, start=2):
            act = get_activation(name)
            if act.output_only and L != len(widths):
                raise ValueError(f"activation {name!r} is only allowed at the output layer, not layer {L}")
        cost = get_cost(self.cost)
        if cost.requires_output and acts[-1] != cost.requires_output:
            raise ValueError(
                f"cost {self.cost!r} needs a {cost.requires_output!r} output layer, got {acts[-1]!r}"
            )
        if self.dtype not in FLOAT_DTYPES:
            raise TypeError(f"dtype {self.dtype!r} is not supported; use one of {FLOAT_DTYPES}")
        object.__setattr__(self, "widths", tuple(int(n) for n in widths))
        object.__setattr__(self, "activations", acts)

    @property
    def depth(self) -> int:
        """N, the number of layers including the input."""
        return len(self.widths)

    @property
    def n_params(self) -> int:
        """Number of scalar parameters (all W and b entries)."""
        return sum((m + 1) * n for m, n in zip(self.widths[:-1], self.widths[1:]))

    @classmethod
    def uniform(
        cls,
        widths: Sequence[int],
        *,
        hidden: str = "sigmoid",
        output: str | None = None,
        cost: str = "half_mse",
        dtype: str = "float64",
    ) -> Architecture:
        """``hidden`` on layers 2..N−1 and ``output`` (default ``hidden``) on layer N."""
        n_act = len(widths) - 1
        acts = [hidden] * max(n_act - 1, 0) + ([output or hidden] if n_act >= 1 else [])
        return cls(tuple(widths), tuple(acts), cost, dtype)


def _as_float_array(value: object, what: str, dtype: str | None) -> np.ndarray:
    arr = np.asarray(value)
    floating = arr.dtype.kind == "f"  # np.issubdtype(arr.dtype, np.floating), minus its cost on the common path
    if not floating and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{what} has dtype {arr.dtype}; expected float32 or float64")
    if dtype is None and not floating:
        raise TypeError(
            f"{what} has integer dtype {arr.dtype}; pass floats (or dtype='float64' to convert)"
        )
    if dtype is None and arr.dtype.type not in (np.float32, np.float64):
        raise TypeError(f"{what} has dtype {arr.dtype}; expected float32 or float64")
    arr = arr.astype(dtype or arr.dtype, copy=True)
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{what} has a non-finite value {arr[tuple(bad)]} at index {tuple(int(i) for i in bad)}")
    arr.setflags(write=False)
    return arr


def _as_arrays(
    weights: Sequence[object], biases: Sequence[object], x: object, y: object, dtype: str | None
) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray, np.ndarray, str]:
    """Validated read-only copies of W^(L), b^(L), x, y in one float dtype, and that dtype's name."""
    if dtype is not None and dtype not in FLOAT_DTYPES:
        raise TypeError(f"dtype {dtype!r} is not supported; use one of {FLOAT_DTYPES}")
    weights, biases = list(weights), list(biases)
    if not weights:
        raise ValueError("empty network: no weight matrices were given")
    if len(weights) != len(biases):
        raise ValueError(f"{len(weights)} weight matrices but {len(biases)} bias vectors")
    Ws = [_as_float_array(W, f"W^({L})", dtype) for L, W in enumerate(weights, start=1)]
    bs = [_as_float_array(b, f"b^({L})", dtype) for L, b in enumerate(biases, start=1)]
    xa = _as_float_array(x, "x", dtype)
    ya = _as_float_array(y, "y", dtype)
    if dtype is not None:  # every array was converted to it
        return Ws, bs, xa, ya, dtype
    dt = Ws[0].dtype.name
    for name, arr in [*((f"W^({L})", W) for L, W in enumerate(Ws, 1)),
                      *((f"b^({L})", b) for L, b in enumerate(bs, 1)), ("x", xa), ("y", ya)]:
        if arr.dtype.type is not Ws[0].dtype.type:  # each is float32 or float64: as comparing names, faster
            raise TypeError(f"{name} has dtype {arr.dtype}, but W^(1) has {dt}; use one dtype")
    return Ws, bs, xa, ya, dt


@dataclass(frozen=True)
class Case:
    """An architecture with parameters W^(L), b^(L), an input x and a target y."""

    arch: Architecture
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    x: np.ndarray
    y: np.ndarray
    label: str = field(default="", compare=False)

    @classmethod
    def create(
        cls,
        weights: Sequence[object],
        biases: Sequence[object],
        x: object,
        y: object,
        *,
        activations: Sequence[str] | None = None,
        hidden: str = "sigmoid",
        output: str | None = None,
        cost: str = "half_mse",
        dtype: str | None = None,
        label: str = "",
    ) -> Case:
        """Validate and freeze arrays into a case; errors name the layer and shapes."""
        Ws, bs, xa, ya, dt = _as_arrays(weights, biases, x, y, dtype)
        widths = cls._widths(Ws, bs, xa, ya)
        if activations is None:
            arch = Architecture.uniform(widths, hidden=hidden, output=output, cost=cost, dtype=dt)
        else:
            arch = Architecture(widths, tuple(activations), cost, dt)
        return cls(arch, tuple(Ws), tuple(bs), xa, ya, label)

    @staticmethod
    def _widths(Ws: list[np.ndarray], bs: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> tuple[int, ...]:
        if x.ndim not in (1, 2):
            raise ValueError(f"x must be a vector (n_1,) or a batch (n_1, B); got shape {x.shape}")
        widths = [x.shape[0]]
        for L, (W, b) in enumerate(zip(Ws, bs), start=1):
            if W.ndim != 2:
                raise ValueError(f"W^({L}) must be a matrix (n_{L + 1}, n_{L}); got shape {W.shape}")
            if 0 in W.shape:
                raise ValueError(f"W^({L}) has shape {W.shape}: a layer of width 0")
            if W.shape[1] != widths[-1]:
                raise ValueError(
                    f"W^({L}) has shape {W.shape} but layer {L} has width {widths[-1]}"
                    f" (W^({L}) must have {widths[-1]} columns)"
                )
            if b.shape != (W.shape[0],):
                raise ValueError(
                    f"b^({L}) has shape {b.shape} but W^({L}) has shape {W.shape}"
                    f" (b^({L}) must have shape ({W.shape[0]},))"
                )
            widths.append(W.shape[0])
        if x.shape[0] == 0:
            raise ValueError("x has length 0: the input layer has width 0")
        expected_y = (widths[-1],) + x.shape[1:]
        if y.shape != expected_y:
            raise ValueError(f"y has shape {y.shape}; the output layer needs shape {expected_y}")
        return tuple(widths)

    @classmethod
    def from_arch(cls, arch: Architecture, weights, biases, x, y, label: str = "") -> Case:
        """A case with a given architecture (activations, cost, dtype)."""
        Ws, bs, xa, ya, _ = _as_arrays(weights, biases, x, y, arch.dtype)
        widths = cls._widths(Ws, bs, xa, ya)
        if widths != arch.widths:
            # The errors of create() first (e.g. too few activations for these arrays), then the mismatch.
            Architecture(widths, arch.activations, arch.cost, arch.dtype)
            raise ValueError(f"arrays give widths {widths}, architecture says {arch.widths}")
        return cls(arch, tuple(Ws), tuple(bs), xa, ya, label)  # arch is validated already: no second check

    @property
    def dtype(self) -> str:
        """'float32' or 'float64'."""
        return self.arch.dtype

    @property
    def batched(self) -> bool:
        """True when x holds a batch of columns."""
        return self.x.ndim == 2

    def astype(self, dtype: str) -> Case:
        """The same case in another float dtype."""
        return Case.from_arch(
            Architecture(self.arch.widths, self.arch.activations, self.arch.cost, dtype),
            self.weights, self.biases, self.x, self.y, self.label,
        )

    def with_params(self, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> Case:
        """The same case with other parameter values."""
        return Case.from_arch(self.arch, weights, biases, self.x, self.y, self.label)


@dataclass(frozen=True)
class Gradients:
    """∂C/∂W^(L) and ∂C/∂b^(L) for L = 1..N−1 (index L−1), in the case's shapes."""

    dW: tuple[np.ndarray, ...]
    db: tuple[np.ndarray, ...]
    source: str = ""

    def flat(self) -> np.ndarray:
        """All entries as one vector, ordered W^(1), b^(1), W^(2), b^(2), …"""
        parts = []
        for dW, db in zip(self.dW, self.db):
            parts += [np.asarray(dW).reshape(-1), np.asarray(db).reshape(-1)]
        return np.concatenate(parts)

    def items(self):
        """Yield (L, 'W' | 'b', array) in the order of :meth:`flat`."""
        for L, (dW, db) in enumerate(zip(self.dW, self.db), start=1):
            yield L, "W", dW
            yield L, "b", db
