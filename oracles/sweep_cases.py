"""The sweep's random architectures: case ``i`` of seed ``s`` is a pure function of (s, i).

Every case draws from its own generator ``numpy.random.default_rng([seed, index])``, so a case does
not depend on how the sweep is split into chunks, processes or cluster workers, and any single case
can be rebuilt from its seed and index alone (that is how failures are reproduced and shrunk).

The distribution (issue 7): 1–4 weight layers, widths 1–8, every elementwise activation on hidden
layers, every output/cost pairing manualbp allows, float64 and float32, one sample or a batch of
1–4 columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from manualbp import Architecture, Case

HIDDEN = ("sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity")
"""Activations drawn for hidden layers (and for the output of a squared-error cost)."""

SQUARED = ("half_mse", "half_sse", "mse")
COSTS = (*SQUARED, "bce", "softmax_ce")


@dataclass(frozen=True)
class Distribution:
    """Ranges of the random architectures (defaults: the issue's depth 1–4, widths 1–8)."""

    min_layers: int = 1  # weight layers, i.e. depth N − 1
    max_layers: int = 4
    max_width: int = 8
    float32_share: float = 0.25
    batch_share: float = 0.5  # share of cases with a batch (n_1, B) instead of one sample
    max_batch: int = 4

    def __post_init__(self) -> None:
        if not 1 <= self.min_layers <= self.max_layers:
            raise ValueError(f"need 1 <= min_layers <= max_layers, got {self.min_layers}, {self.max_layers}")
        if self.max_width < 1 or self.max_batch < 1:
            raise ValueError(f"max_width and max_batch must be >= 1, got {self.max_width}, {self.max_batch}")
        for name in ("float32_share", "batch_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")


DEFAULT = Distribution()


def random_architecture(rng: np.random.Generator, dist: Distribution = DEFAULT) -> Architecture:
    """One architecture: widths, activations, a cost its output allows, and a dtype."""
    n_layers = int(rng.integers(dist.min_layers, dist.max_layers + 1))
    widths = tuple(int(w) for w in rng.integers(1, dist.max_width + 1, size=n_layers + 1))
    hidden = [HIDDEN[i] for i in rng.integers(0, len(HIDDEN), size=n_layers - 1)]
    cost = COSTS[int(rng.integers(0, len(COSTS)))]
    if cost == "bce":
        output = "sigmoid"
    elif cost == "softmax_ce":
        output = "softmax"
    else:
        outputs = (*HIDDEN, "softmax")
        output = outputs[int(rng.integers(0, len(outputs)))]
    dtype = "float32" if rng.random() < dist.float32_share else "float64"
    return Architecture(widths, (*hidden, output), cost, dtype)


def _target(rng: np.random.Generator, cost: str, shape: tuple[int, ...]) -> np.ndarray:
    """y for the cost: probabilities in [0, 1] for bce, a distribution over units for softmax_ce."""
    if cost == "bce":
        return rng.uniform(0.0, 1.0, size=shape)
    if cost == "softmax_ce":
        p = rng.uniform(0.05, 1.0, size=shape)
        return p / p.sum(axis=0, keepdims=True)
    return rng.normal(0.0, 1.0, size=shape)


def case_for(arch: Architecture, rng: np.random.Generator, *, batch: int | None = None,
             weight_scale: float = 1.5, label: str = "") -> Case:
    """Random parameters, input and a target valid for the cost, for a given architecture.

    W^(L) ~ N(0, (weight_scale / √n_L)²), b ~ N(0, ½²), x ~ N(0, 1); ``batch`` columns or one sample.
    """
    w = arch.widths
    weights = [rng.normal(0.0, weight_scale / math.sqrt(m), size=(n, m)) for m, n in zip(w[:-1], w[1:])]
    biases = [rng.normal(0.0, 0.5, size=n) for n in w[1:]]
    xshape = (w[0],) if batch is None else (w[0], batch)
    yshape = (w[-1],) if batch is None else (w[-1], batch)
    x = rng.normal(0.0, 1.0, size=xshape)
    y = _target(rng, arch.cost, yshape)
    return Case.from_arch(arch, weights, biases, x, y, label=label)


def random_case(seed: int, index: int, dist: Distribution = DEFAULT) -> Case:
    """Case ``index`` of the sweep with ``seed`` (deterministic; independent of every other case)."""
    rng = np.random.default_rng([int(seed), int(index)])
    arch = random_architecture(rng, dist)
    batch = int(rng.integers(1, dist.max_batch + 1)) if rng.random() < dist.batch_share else None
    return case_for(arch, rng, batch=batch, label=f"sweep seed={seed} case={index}")


def random_cases(seed: int, start: int, stop: int, dist: Distribution = DEFAULT) -> list[Case]:
    """Cases ``start..stop-1`` of the sweep with ``seed``."""
    return [random_case(seed, i, dist) for i in range(start, stop)]


def describe(arch: Architecture) -> str:
    """A one-line name such as ``3-5-2 tanh,softmax softmax_ce float64``."""
    return f"{'-'.join(map(str, arch.widths))} {','.join(arch.activations)} {arch.cost} {arch.dtype}"
