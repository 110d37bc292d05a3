"""Activation functions σ and their derivatives σ', by name.

Each activation is elementwise except ``softmax``, which is only allowed at the
output layer; its derivative is applied as a Jacobian-vector product (see
:func:`Activation.backprop`).  Every function is numerically stable for
|z| up to 1e4: no overflow warning, no NaN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

LEAKY_SLOPE = 0.01
"""Slope of ``leaky_relu`` for negative inputs."""


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e^{-z}), computed as written, in one buffer updated in place.

    Accurate to a few ulps everywhere: for z ≪ 0, e^{-z} is large but exact to rounding, and
    1/(1 + e^{-z}) keeps its relative accuracy; below z ≈ −709 (float64) or −88 (float32) e^{-z}
    overflows to +inf and σ(z) = 1/inf = 0, where the true value is below the smallest normal number
    (the overflow is expected and silenced, so no warning).
    """
    z = np.asarray(z)
    z = z.astype(np.result_type(z, 0.0), copy=False)  # floats keep their dtype, integers become float64
    if z.ndim == 0:  # a scalar: the in-place steps below need an array
        return sigmoid(z[None])[0]
    e = np.negative(z)
    with np.errstate(over="ignore"):
        np.exp(e, out=e)  # e = e^{-z}, +inf for very negative z
    e += 1.0
    np.divide(1.0, e, out=e)  # σ(z) = 1 / (1 + e^{-z})  (np.reciprocal gives the same bits, measured slower)
    return e


def sigmoid_prime(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """σ'(z) = σ(z)(1 − σ(z))  (the derivation's last line for σ')."""
    p = 1.0 - a
    p *= a
    return p


def tanh(z: np.ndarray) -> np.ndarray:
    """tanh(z)."""
    return np.tanh(z)


def tanh_prime(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """tanh'(z) = 1 − tanh²(z)."""
    return 1.0 - a * a


def relu(z: np.ndarray) -> np.ndarray:
    """max(0, z)."""
    return np.maximum(z, 0.0)


def relu_prime(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """1 where z > 0, else 0 (the subgradient 0 is used at z = 0)."""
    return (z > 0).astype(z.dtype)


def leaky_relu(z: np.ndarray) -> np.ndarray:
    """z where z > 0, else LEAKY_SLOPE·z."""
    return np.where(z > 0, z, LEAKY_SLOPE * z)


def leaky_relu_prime(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """1 where z > 0, else LEAKY_SLOPE."""
    return np.where(z > 0, 1.0, LEAKY_SLOPE).astype(z.dtype)


def softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + e^z), computed as logaddexp(0, z) so that it never overflows."""
    return np.logaddexp(0.0, z)


def softplus_prime(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """softplus'(z) = σ(z)."""
    return sigmoid(z)


def identity(z: np.ndarray) -> np.ndarray:
    """z."""
    return z


def identity_prime(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """1."""
    return np.ones_like(z)


def softmax(z: np.ndarray) -> np.ndarray:
    """e^{z_k} / Σ_j e^{z_j} over the unit axis (axis 0), shifted by max z for stability."""
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


@dataclass(frozen=True)
class Activation:
    """An activation σ with its derivative σ'(z), given z and a = σ(z)."""

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    prime: Callable[[np.ndarray, np.ndarray], np.ndarray] | None
    output_only: bool = False

    def backprop(self, z: np.ndarray, a: np.ndarray, delta: np.ndarray) -> np.ndarray:
        """∂C/∂z = δ ⊙ σ'(z) for elementwise σ; Jᵀδ = a ⊙ (δ − ⟨a, δ⟩) for softmax."""
        if self.prime is not None:
            return delta * self.prime(z, a)
        return a * (delta - (a * delta).sum(axis=0, keepdims=True))


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_prime),
    "tanh": Activation("tanh", tanh, tanh_prime),
    "relu": Activation("relu", relu, relu_prime),
    "leaky_relu": Activation("leaky_relu", leaky_relu, leaky_relu_prime),
    "softplus": Activation("softplus", softplus, softplus_prime),
    "identity": Activation("identity", identity, identity_prime),
    "softmax": Activation("softmax", softmax, None, output_only=True),
}

SMOOTH = frozenset({"sigmoid", "tanh", "softplus", "identity", "softmax"})
"""Activations that are analytic on the real line (complex-step applies)."""

KINKED = frozenset({"relu", "leaky_relu"})
"""Activations with a kink at z = 0."""


def get_activation(name: str) -> Activation:
    """The activation called ``name``; ValueError listing the valid names otherwise."""
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {name!r}; valid names: {', '.join(sorted(ACTIVATIONS))}"
        )
    return ACTIVATIONS[name]
