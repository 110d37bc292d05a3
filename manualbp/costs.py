"""Cost functions C(a, y) and δ^(N) = ∂C/∂a^(N), by name.

Arrays are column-oriented: ``a`` and ``y`` have shape (n_N, B), one column per
sample.  The per-sample cost is summed or averaged over the n_N outputs as the
name says; a batch cost is the **mean over the B samples**, so every gradient
carries a factor 1/B.

=============  =====================================  ======================
name           per-sample C                           ∂C/∂a_k
=============  =====================================  ======================
half_mse       ½ · Σ_k (a_k − y_k)² / n_N  (the seed)  (a_k − y_k) / n_N
half_sse       ½ · Σ_k (a_k − y_k)²  (Nielsen)         a_k − y_k
mse            Σ_k (a_k − y_k)² / n_N                  2 (a_k − y_k) / n_N
bce            −Σ_k [y_k log a_k + (1−y_k) log(1−a_k)] (a_k − y_k) / (a_k (1 − a_k))
softmax_ce     −Σ_k y_k log a_k                        −y_k / a_k
=============  =====================================  ======================

``bce`` needs a sigmoid output and ``softmax_ce`` a softmax output; for those
pairs :meth:`Cost.fused_grad_z` gives ∂C/∂z^(N) directly (a − y), which stays
finite where σ saturates and δ^(N) itself would overflow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import softplus


def _batch_mean(per_sample: np.ndarray) -> float:
    return float(per_sample.mean())


@dataclass(frozen=True)
class Cost:
    """A named cost with its value, its δ = ∂C/∂a and an optional fused ∂C/∂z."""

    name: str
    requires_output: str | None = None

    def value(self, a: np.ndarray, y: np.ndarray, z: np.ndarray | None = None) -> float:
        """C averaged over the batch (columns)."""
        n = a.shape[0]
        if self.name == "half_mse":
            return _batch_mean(0.5 * ((a - y) ** 2).sum(axis=0) / n)
        if self.name == "half_sse":
            return _batch_mean(0.5 * ((a - y) ** 2).sum(axis=0))
        if self.name == "mse":
            return _batch_mean(((a - y) ** 2).sum(axis=0) / n)
        if self.name == "bce":
            # log σ(z) = −softplus(−z), log(1 − σ(z)) = −softplus(z): no log(0).
            return _batch_mean((y * softplus(-z) + (1 - y) * softplus(z)).sum(axis=0))
        if self.name == "softmax_ce":
            zmax = z.max(axis=0, keepdims=True)
            log_a = z - zmax - np.log(np.exp(z - zmax).sum(axis=0, keepdims=True))
            return _batch_mean(-(y * log_a).sum(axis=0))
        raise AssertionError(self.name)  # pragma: no cover - names are validated

    def delta(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """δ^(N) = ∂C/∂a^(N), including the 1/B of the batch mean."""
        n, batch = a.shape
        if self.name == "half_mse":
            return (a - y) / (n * batch)
        if self.name == "half_sse":
            return (a - y) / batch
        if self.name == "mse":
            return 2.0 * (a - y) / (n * batch)
        # a at (or below the normal range near) 0 or 1: δ^(N) is ±inf or too large to hold, as it should be;
        # the backward pass then takes fused_grad_z, so no warning
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.name == "bce":
                return (a - y) / (a * (1.0 - a)) / batch
            if self.name == "softmax_ce":
                return -y / a / batch
        raise AssertionError(self.name)  # pragma: no cover

    def fused_grad_z(self, a: np.ndarray, y: np.ndarray) -> np.ndarray | None:
        """∂C/∂z^(N) in closed form for (sigmoid, bce) and (softmax, softmax_ce); else None."""
        batch = a.shape[1]
        if self.name == "bce":
            return (a - y) / batch
        if self.name == "softmax_ce":
            return (a * y.sum(axis=0, keepdims=True) - y) / batch
        return None


COSTS: dict[str, Cost] = {
    "half_mse": Cost("half_mse"),
    "half_sse": Cost("half_sse"),
    "mse": Cost("mse"),
    "bce": Cost("bce", requires_output="sigmoid"),
    "softmax_ce": Cost("softmax_ce", requires_output="softmax"),
}


def get_cost(name: str) -> Cost:
    """The cost called ``name``; ValueError listing the valid names otherwise."""
    if not isinstance(name, str) or name not in COSTS:
        raise ValueError(f"unknown cost {name!r}; valid names: {', '.join(sorted(COSTS))}")
    return COSTS[name]
