"""Forward and backward pass of a fully connected network, in the derivation's notation.

Read beside ``backprop-derivation.md``.  Layer 1 is the input, layer N the
output; W^(L), b^(L) map layer L to L+1.  Every dictionary below is keyed by
the derivation's layer number L.

    forward:   z^(L+1) = W^(L) a^(L) + b^(L)              (eq. z)
               a^(L+1) = σ(z^(L+1))                        (eq. a)
    backward:  δ^(N)   = ∂C/∂a^(N)                         (eq. δ-out)
               ∂C/∂b^(L) = δ^(L+1) ⊙ σ'(z^(L+1))           (eq. b)
               ∂C/∂W^(L) = ∂C/∂b^(L) a^(L)ᵀ                 (eq. W)
               δ^(L)   = W^(L)ᵀ ∂C/∂b^(L)                  (eq. δ)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import get_activation
from .case import Case, Gradients
from .costs import get_cost


@dataclass(frozen=True)
class Forward:
    """z^(L) for L = 2..N and a^(L) for L = 1..N (a^(1) = x), plus the cost C (None when not evaluated)."""

    z: dict[int, np.ndarray]
    a: dict[int, np.ndarray]
    cost: float | None


@dataclass(frozen=True)
class Backward:
    """δ^(L) for L = 1..N (2..N with ``input_delta=False``), σ'(z^(L)) for L = 2..N, ∂C/∂b^(L) and ∂C/∂W^(L)."""

    delta: dict[int, np.ndarray]
    sigma_prime: dict[int, np.ndarray]
    dC_db: dict[int, np.ndarray]
    dC_dW: dict[int, np.ndarray]

    def gradients(self) -> Gradients:
        """∂C/∂W and ∂C/∂b as a :class:`Gradients` (index L−1 holds layer L)."""
        Ls = sorted(self.dC_dW)
        return Gradients(tuple(self.dC_dW[L] for L in Ls), tuple(self.dC_db[L] for L in Ls), "manualbp")


def _columns(v: np.ndarray) -> np.ndarray:
    """A vector (n,) as a one-column matrix (n, 1); a batch (n, B) as it is."""
    return v[:, None] if v.ndim == 1 else v


def _like(v: np.ndarray, case: Case) -> np.ndarray:
    """Back to a vector when the case holds a single sample."""
    return v if case.batched else v[:, 0]


def forward(case: Case, *, with_cost: bool = True) -> Forward:
    """Run the network on x, keeping every z^(L) and a^(L), and evaluate C (``with_cost=False``: the
    backward pass alone needs no C, and for a small network C costs a quarter of the gradients)."""
    N = case.arch.depth
    z: dict[int, np.ndarray] = {}
    a: dict[int, np.ndarray] = {1: _columns(case.x)}  # a^(1) = x
    for L in range(1, N):
        W, b = case.weights[L - 1], case.biases[L - 1]
        sigma = get_activation(case.arch.activations[L - 1])
        z[L + 1] = W @ a[L]  # (eq. z)  z^(L+1) = W^(L) a^(L) + b^(L) ...
        z[L + 1] += b[:, None]  # ... with b^(L) added in place to every column
        a[L + 1] = sigma.f(z[L + 1])  # (eq. a)  a^(L+1) = σ(z^(L+1))
    C = get_cost(case.arch.cost).value(a[N], _columns(case.y), z[N]) if with_cost else None
    return Forward({L: _like(v, case) for L, v in z.items()},
                   {L: _like(v, case) for L, v in a.items()}, C)


def backward(case: Case, fwd: Forward | None = None, *, input_delta: bool = True, keep: bool = True) -> Backward:
    """Backpropagate from δ^(N) = ∂C/∂a^(N) down to δ^(1).

    δ^(1) = ∂C/∂x is not needed for any parameter gradient; ``input_delta=False``
    skips it (its matrix product costs as much as ∂C/∂W^(1)) and leaves it out of
    :attr:`Backward.delta`.  ``keep=False`` lets each δ^(L+1) and σ'(z^(L+1)) go once
    layer L is done, leaving them out too: two arrays the size of a layer's activations
    fewer held at once, per layer (for a large network, memory that the allocator would
    otherwise hand back to the system after every call and map again on the next).
    """
    fwd = fwd or forward(case, with_cost=False)
    N = case.arch.depth
    z = {L: _columns(v) for L, v in fwd.z.items()}
    a = {L: _columns(v) for L, v in fwd.a.items()}
    y = _columns(case.y)
    cost = get_cost(case.arch.cost)

    delta = {N: cost.delta(a[N], y)}  # (eq. δ-out)  δ^(N) = ∂C/∂a^(N)
    sigma_prime: dict[int, np.ndarray] = {}
    dC_db: dict[int, np.ndarray] = {}
    dC_dW: dict[int, np.ndarray] = {}
    for L in range(N - 1, 0, -1):
        sigma = get_activation(case.arch.activations[L - 1])  # σ of layer L+1
        if sigma.prime is not None:
            sigma_prime[L + 1] = sigma.prime(z[L + 1], a[L + 1])
        fused = cost.fused_grad_z(a[N], y) if L == N - 1 else None
        if fused is not None:
            # Output layer with (sigmoid, bce) or (softmax, softmax_ce):
            # δ^(N) ⊙ σ'(z^(N)) simplifies to (a − y)/B and stays finite when σ saturates.
            dz = fused
        elif sigma.prime is not None:
            # (eq. b) δ^(L+1) ⊙ σ'(z^(L+1)); without ``keep``, in the buffer of σ'(z^(L+1)), which is dropped below
            dz = np.multiply(delta[L + 1], sigma_prime[L + 1], out=None if keep else sigma_prime[L + 1])
        else:
            dz = sigma.backprop(z[L + 1], a[L + 1], delta[L + 1])  # (eq. b) softmax: Jᵀ δ^(L+1)
        dC_db[L] = np.einsum("jb->j", dz)  # (eq. b) summed over the batch columns b (dz.sum(axis=1), in one pass)
        dC_dW[L] = dz @ a[L].T  # (eq. W)  ∂C/∂W^(L) = ∂C/∂b^(L) a^(L)ᵀ
        if L > 1 or input_delta:
            delta[L] = case.weights[L - 1].T @ dz  # (eq. δ)  δ^(L) = W^(L)ᵀ ∂C/∂b^(L)
        if not keep:
            del delta[L + 1]
            sigma_prime.pop(L + 1, None)
    return Backward(
        {L: _like(v, case) for L, v in delta.items()},
        {L: _like(v, case) for L, v in sigma_prime.items()},
        dC_db,
        dC_dW,
    )


def gradients(case: Case) -> Gradients:
    """∂C/∂W^(L) and ∂C/∂b^(L) for every layer of the case."""
    return backward(case, input_delta=False, keep=False).gradients()


def cost(case: Case) -> float:
    """C at the case's parameters."""
    return forward(case).cost
