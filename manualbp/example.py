"""The derivation's worked example (its PROBLEM section) and its intermediates in order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .case import Case
from .network import backward, forward

# PROBLEM, as the derivation states it: 3-4-4-2, sigmoid everywhere,
# C = ½·[Σ_k (a_k − y_k)² / n_L] (half the mean squared error, cost "half_mse").
W1 = np.arange(1, 13, dtype=float).reshape(4, 3) / 10
b1 = np.arange(1, 5, dtype=float) / 10
W2 = np.arange(1, 17, dtype=float).reshape(4, 4) / 10
b2 = np.arange(1, 5, dtype=float) / 10
W3 = np.arange(1, 9, dtype=float).reshape(2, 4) / 10
b3 = np.arange(1, 3, dtype=float) / 10
X = np.arange(1, 4, dtype=float) / 2
Y = np.array([5.0, 10.0])


def seed_case(dtype: str = "float64") -> Case:
    """The worked example as a :class:`Case`."""
    return Case.create([W1, W2, W3], [b1, b2, b3], X, Y, hidden="sigmoid",
                       cost="half_mse", dtype=dtype, label="seed worked example")


@dataclass(frozen=True)
class Step:
    """One intermediate of the worked example: its symbol, value and the document's rounding."""

    symbol: str
    latex: str
    value: np.ndarray
    decimals: int

    def rounded(self) -> np.ndarray:
        """The value rounded as the derivation rounds it."""
        return np.round(self.value, self.decimals)


def worked_example(case: Case | None = None) -> list[Step]:
    """Every intermediate the derivation shows, in its order, computed by manualbp."""
    case = case or seed_case()
    fwd = forward(case)
    bwd = backward(case, fwd)
    N = case.arch.depth
    steps = [Step("a^(1)", "a^{(1)}", fwd.a[1], 2)]
    for L in range(2, N + 1):
        steps.append(Step(f"z^({L})", f"z^{{({L})}}", fwd.z[L], 2))
        steps.append(Step(f"a^({L})", f"a^{{({L})}}", fwd.a[L], 2))
    steps.append(Step(f"δ^({N})", f"\\delta^{{({N})}}", bwd.delta[N], 2))
    for L in range(N - 1, 0, -1):
        d = 3 if L == 1 else 2  # the document rounds the first layer's gradients to 3 places
        steps.append(Step(f"σ'(z^({L + 1}))", f"\\sigma'(z^{{({L + 1})}})", bwd.sigma_prime[L + 1], d - (L == 1)))
        steps.append(Step(f"∂C/∂b^({L})", f"\\frac{{\\partial C}}{{\\partial b^{{({L})}}}}", bwd.dC_db[L], d))
        steps.append(Step(f"∂C/∂W^({L})", f"\\frac{{\\partial C}}{{\\partial w^{{({L})}}}}", bwd.dC_dW[L], d))
        if L > 1:
            steps.append(Step(f"δ^({L})", f"\\delta^{{({L})}}", bwd.delta[L], 2))
    return steps
