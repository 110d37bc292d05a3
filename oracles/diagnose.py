"""What did the subject get wrong?  The mistake catalogue, each entry tested against the numbers.

Every mistake people make in backprop predicts *exactly* what a backprop with that mistake returns.  So
each catalogue entry is a hypothesis with a prediction: :func:`mutant_gradients` (manualbp's backward pass,
manualbp/network.py, with one deliberate mistake), or a factor pattern estimated from the data (a constant,
a sign, a factor B or n_N, a factor per layer).  A hypothesis is accepted only when its prediction matches
the subject to rounding on EVERY observed case — failing and passing alike — and, where the subject could
not run (raised or returned wrong shapes), the mistake cannot run either.  The evidence says on how many
cases and with what deviation.  When nothing fits, the diagnosis is "unrecognised", with the pattern of
wrong layers and entries.

Catalogue (keys): swapped-returns, reversed-order, bias-not-summed, bias-wrong-axis, bias-two-axes, inner-product-dW
(judged on the arrays of an answer the layout cannot take), transposed-W, delta-lower-W, reshaped-W, outer-order,
updated-W, aliased-dW, aliased-z, bias-broadcast, sigma-prime-of-a, sigma-prime-formula-on-z,
sigma-prime-wrong-layer, sigma-prime-slip, missing-sigma-prime, leak-forgotten, leak-slope, scaled-activation,
fan-in-scaled, wrong-layer-activation, extra-output-prime, output-slip, softmax-over-batch, wrong-target,
delta-entry, sign, constant-factor, batch-factor, batch-factor-b/-W/-hidden, width-factor, weight-decay, clipped,
some-layers; and "approximate" (every failing case right to 1e-4, wrong beyond rounding).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from manualbp import Case, Gradients, forward, get_activation, get_cost
from manualbp import gradients as manualbp_gradients
from manualbp.activations import LEAKY_SLOPE

# --------------------------------------------------------------------------------------------------------------
# Mutated backward pass
# --------------------------------------------------------------------------------------------------------------

SCOPES = ("all", "output", "hidden")
"""Steps a mistake applies to: every step, the output step N−1 only, or the hidden steps 1..N−2."""


@dataclass(frozen=True)
class Mutation:
    """One mistake: ``key`` (catalogue entry), ``variant`` and ``scope``.

    Step L computes ∂C/∂b^(L), ∂C/∂W^(L) and δ^(L) from δ^(L+1).  For ``delta-entry`` the scope names the δ
    that is damaged: δ^(N) (``output``), the hidden δ^(L), L < N (``hidden``) or both.
    """

    key: str
    variant: str = ""
    scope: str = "all"

    def applies(self, L: int, N: int) -> bool:
        """Whether step L of a depth-N network has the mistake."""
        if self.scope == "all":
            return True
        if self.scope == "output":
            return L == N - 1
        return L < N - 1


def _cols(v: np.ndarray) -> np.ndarray:
    return v[:, None] if v.ndim == 1 else v


def _target(y: np.ndarray, variant: str) -> np.ndarray:
    if variant == "first":  # y_1 used for every output
        return np.repeat(y[:1], y.shape[0], axis=0)
    if variant == "shifted":  # output k uses y_{k-1}
        return np.concatenate([y[:1], y[:-1]], axis=0)
    if variant == "truncated":  # y.astype(int): every target rounded toward zero
        return np.trunc(y)
    if variant.startswith("smoothed-"):  # label smoothing: (1 − ε) y + ε/K over the K outputs
        eps = float(variant.split("-", 1)[1])
        return (1 - eps) * y + eps / y.shape[0]
    return y


def _entry(d: np.ndarray, variant: str) -> np.ndarray:
    d = d.copy()
    if variant == "last-duplicates-previous":
        d[-1] = d[-2]  # IndexError on a width-1 layer, as in the subject's code
    elif variant == "last-stale-zero":
        d[-1] = 0.0
    elif variant == "first-stale-zero":
        d[0] = 0.0
    return d


def _extra_prime(sigma: Any, z: np.ndarray, a: np.ndarray, dz: np.ndarray, variant: str) -> np.ndarray:
    """∂C/∂z^(N) multiplied once more by the output activation's derivative: elementwise σ'(z) (a(1 − a), the
    diagonal of its Jacobian, for softmax), or for softmax its full Jacobian Jᵀ·."""
    if sigma.prime is not None:
        return dz * sigma.prime(z, a)
    if variant == "jacobian":
        return a * (dz - (a * dz).sum(axis=0, keepdims=True))
    return dz * a * (1.0 - a)


IN_A = {"sigmoid": lambda a: a * (1 - a), "tanh": lambda a: 1 - a * a}
"""σ' written in terms of the activation a = σ(z)."""

LEAKY = LEAKY_SLOPE
LEAKS = ("0.1", "0.2", "0.3", "0.02", "0.05", "0.001")
"""Other leaks a backward pass may use by mistake (common framework defaults and typos of 0.01)."""

SMOOTHINGS = ("0.1", "0.05", "0.2", "0.01")
"""Label-smoothing ε a training script may leave in the targets (0.1 is the common default)."""

RATES = ("0.5", "0.1", "0.01", "1", "0.05", "0.001", "0.2")
"""Learning rates of a gradient step taken inside backprop by mistake."""

SLIPS = {
    "tanh-no-square": {"tanh": lambda a: 1 - a},  # 1 − tanh z, the square forgotten
    "sigmoid-plus": {"sigmoid": lambda a: a * (1 + a)},  # a(1 + a), a sign slipped
    "swapped": {"tanh": lambda a: a * (1 - a), "sigmoid": lambda a: 1 - a * a},  # the other activation's formula
}
"""Slips in writing σ' from a = σ(z), per variant: the formula used for each activation it touches."""


SCALES = ("2", "1.25", "1.1111111111111112", "1.4285714285714286", "1.3333333333333333", "5", "10", "0.5", "0.8",
          "0.9")
"""Constants a forward pass may leave on every hidden activation: inverted dropout's 1/(1 − p) without its mask
(p = 0.5, 0.2, 0.1, 0.3, 0.25, 0.8, 0.9), or the keep probability itself."""


def _scaled_forward(case: Case, k: float) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """z^(L), a^(L) (columns) of the network whose hidden activations are k·σ(z): a dropout rescale left in."""
    N = case.arch.depth
    a = {1: _cols(case.x)}
    z: dict[int, np.ndarray] = {}
    for L in range(1, N):
        z[L + 1] = case.weights[L - 1] @ a[L] + case.biases[L - 1][:, None]  # (eq. z)
        sigma = get_activation(case.arch.activations[L - 1])
        a[L + 1] = sigma.f(z[L + 1]) * (k if L + 1 < N else 1.0)  # (eq. a), times k below the output
    return z, a


FAN_IN = {"sqrt": lambda n: 1 / np.sqrt(n), "mean": lambda n: 1 / n}
"""Fan-in scalings a forward pass may put on W a: 1/√n_in (the NTK parametrisation) or 1/n_in (mean field)."""


def fan_in_gradients(case: Case, variant: str) -> Gradients:
    """What a backprop of z = c·W a + b returns, c = FAN_IN[variant](n_in) per layer, consistent in both passes:
    the gradients of the network with weights c·W, with ∂C/∂W carrying c once more (∂z/∂W = c·aᵀ)."""
    case64 = case if case.dtype == "float64" else case.astype("float64")
    cs = [float(FAN_IN[variant](W.shape[1])) for W in case64.weights]
    g = manualbp_gradients(case64.with_params([c * W for c, W in zip(cs, case64.weights)], case64.biases))
    return Gradients(tuple(c * dW for c, dW in zip(cs, g.dW)), g.db, f"fan-in:{variant}")


def _broadcast_forward(case: Case) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """z^(L), a^(L) when a batch of columns gets its bias as W @ a + b with b of shape (n,): numpy broadcasts b
    along the samples (b_j added to sample j), and the batch turns n wide where it had one sample; ValueError
    where numpy raises.  One sample (1-D vectors) broadcasts right: the correct pass."""
    if not case.batched:
        fwd = forward(case, with_cost=False)
        return {L: _cols(v) for L, v in fwd.z.items()}, {L: _cols(v) for L, v in fwd.a.items()}
    a = {1: case.x}
    z: dict[int, np.ndarray] = {}
    for L in range(1, case.arch.depth):
        z[L + 1] = case.weights[L - 1] @ a[L] + case.biases[L - 1]  # the mistake: b, not b[:, None]
        a[L + 1] = get_activation(case.arch.activations[L - 1]).f(z[L + 1])
    return z, a


def _shared_buffer(z: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """z^(L) as read back from one buffer that every layer's pre-activation was written into (its first n_L
    rows), in forward order: each row holds the last layer wide enough to reach it."""
    buf = np.zeros((max(v.shape[0] for v in z.values()), next(iter(z.values())).shape[1]))
    for L in sorted(z):
        buf[:z[L].shape[0]] = z[L]
    return {L: buf[:v.shape[0]].copy() for L, v in z.items()}


def _adam_first_step(g: Gradients | None, eps: float) -> Gradients | None:
    """Adam's first bias-corrected step direction m̂/(√v̂ + ε) = g/(|g| + ε) of every gradient entry."""
    if g is None:
        return None
    step = [np.asarray(v, np.float64) / (np.abs(np.asarray(v, np.float64)) + eps) for v in (*g.dW, *g.db)]
    return Gradients(tuple(step[:len(g.dW)]), tuple(step[len(g.dW):]), "adam step")


def _slipped_prime(name: str, a: np.ndarray, variant: str) -> np.ndarray | None:
    formula = SLIPS.get(variant, {}).get(name)
    return None if formula is None else formula(a)


def mutant_gradients(case: Case, mut: Mutation) -> Gradients | None:
    """What a backprop with mistake ``mut`` returns on ``case`` (float64); None where it cannot run.

    ``Mutation("none")`` computes what manualbp computes.  None means the mistake makes shapes not fit on
    this network (a subject making it would raise or return wrong shapes here).
    """
    case64 = case if case.dtype == "float64" else case.astype("float64")
    fwd = forward(case64)
    N = case64.arch.depth
    z = {L: _cols(v) for L, v in fwd.z.items()}
    a = {L: _cols(v) for L, v in fwd.a.items()}
    if mut.key == "scaled-activation":  # the exact gradient of another network: hidden activations k·σ(z)
        z, a = _scaled_forward(case64, float(mut.variant))
    stale = _shared_buffer(z) if mut.key == "aliased-z" else {}
    y = _cols(case64.y)
    cost = get_cost(case64.arch.cost)
    k = mut.key
    y_used = _target(y, mut.variant) if k == "wrong-target" else y
    dW: dict[int, np.ndarray] = {}
    db: dict[int, np.ndarray] = {}
    try:
        if k == "bias-broadcast":
            z, a = _broadcast_forward(case64)
        delta = {N: cost.delta(a[N], y_used)}  # (eq. δ-out)
        if k == "delta-entry" and mut.scope in ("all", "output"):
            delta[N] = _entry(delta[N], mut.variant)
        for L in range(N - 1, 0, -1):
            here = mut.applies(L, N)
            sigma = get_activation(case64.arch.activations[L - 1])
            zz, aa = z[L + 1], a[L + 1]
            sp_mistake = here and (k in ("sigma-prime-of-a", "sigma-prime-formula-on-z", "missing-sigma-prime")
                                   or k in ("leak-forgotten", "leak-slope") and sigma.name == "leaky_relu")
            fused = cost.fused_grad_z(a[N], y_used) if L == N - 1 and not sp_mistake else None
            slip = _slipped_prime(sigma.name, aa, mut.variant) if here and k == "sigma-prime-slip" else None
            if k == "softmax-over-batch" and L == N - 1 and sigma.name == "softmax":
                # e / e.sum() with no axis: normalised over the whole batch (shifted per column, or not at all)
                e = np.exp(zz - (zz.max(axis=0) if mut.variant == "shifted" else zz.max()))
                a_bug = e / e.sum()
                dz = cost.fused_grad_z(a_bug, y_used)
                if dz is None:
                    dz = sigma.backprop(zz, a_bug, cost.delta(a_bug, y_used))
            elif slip is not None:
                dz = delta[L + 1] * slip
            elif here and k == "sigma-prime-wrong-layer" and sigma.prime is not None:
                # σ' of the pre-activation one layer up (z^(L+2)) or down (z^(L); for L = 1 Python's [-1]: z^(N)),
                # with numpy's broadcasting where the widths differ
                other = z.get(L + 2) if mut.variant == "next" else z[L] if L > 1 else z[N]
                if other is None:  # above the output there is no pre-activation: zs[l] raises IndexError
                    return None
                dz = delta[L + 1] * sigma.prime(other, sigma.f(other))
            elif k == "aliased-z" and L < N - 1 and sigma.prime is not None:  # σ' of what the shared buffer holds
                dz = delta[L + 1] * sigma.prime(stale[L + 1], sigma.f(stale[L + 1]))
            elif k == "scaled-activation" and L < N - 1:  # d(k·σ(z))/dz = k·σ'(z)
                dz = delta[L + 1] * (float(mut.variant) * sigma.prime(zz, sigma.f(zz)))
            elif sp_mistake and sigma.prime is not None:
                if k == "missing-sigma-prime":
                    dz = delta[L + 1]
                elif k == "leak-forgotten":  # relu's slope where leaky_relu's belongs: 0 instead of the leak
                    dz = delta[L + 1] * (zz > 0)
                elif k == "leak-slope":  # another leak in the backward pass than in the forward one
                    dz = delta[L + 1] * np.where(zz > 0, 1.0, float(mut.variant))
                elif k == "sigma-prime-of-a":  # σ'(a) where σ'(z) belongs
                    dz = delta[L + 1] * sigma.prime(aa, sigma.f(aa))
                else:  # a formula written for a = σ(z), e.g. a(1 − a), fed z
                    dz = delta[L + 1] * sigma.prime(zz, zz)
            elif fused is not None:
                dz = fused
            else:
                dz = sigma.backprop(zz, aa, delta[L + 1])  # (eq. b)
            if here and k == "extra-output-prime" and L == N - 1:
                dz = _extra_prime(sigma, zz, aa, dz, mut.variant)
            if k == "output-slip" and L == N - 1:
                d = cost.delta(a[N], y_used)
                if mut.variant == "aliased" and sigma.name in IN_A:  # delta = a; delta -= y: σ' then taken of a − y
                    dz = d * IN_A[sigma.name](d)
                elif mut.variant == "softmax-diagonal" and sigma.name == "softmax":  # J_ii = a(a − 1), sign flipped
                    dz = sigma.backprop(zz, aa, d) - 2 * aa * (1 - aa) * d
                elif (mut.variant == "no-output-activation" and sigma.prime is not None
                      and case64.arch.cost in ("half_mse", "half_sse", "mse")):  # forward output z, σ'(z) kept
                    dz = cost.delta(zz, y_used) * sigma.prime(zz, sigma.f(zz))
            db[L] = dz.sum(axis=1)  # (eq. b)
            if k == "bias-wrong-axis":  # reduced over the units, one entry per sample: mean or sum, of B·dz or dz
                how, scale = mut.variant.split("-")
                db[L] = getattr(dz * (dz.shape[1] if scale == "B" else 1), how)(axis=0)
            a_in = a[L]
            if here and k == "wrong-layer-activation":
                if mut.variant == "next":  # a^(L+1) where a^(L) belongs
                    a_in = a[L + 1]
                elif mut.variant == "previous":  # activations[l - 1]: Python's index −1 wraps to the output
                    a_in = a[L - 1] if L > 1 else a[N]
                elif mut.variant == "pre-activation":  # z^(L) where a^(L) belongs (x for the input layer)
                    a_in = z[L] if L > 1 else a[1]
            if here and k == "outer-order":
                outer = a_in @ dz.T  # a dzᵀ: a_j where the row index belongs
                W_grad = outer.reshape(dz.shape[0], a_in.shape[0]) if mut.variant == "reshaped" else outer
                if mut.variant == "shape-guided" and outer.shape != case64.weights[L - 1].shape:
                    W_grad = outer.T  # transposed only where the shapes differ: square layers stay a δᵀ
            else:
                W_grad = dz @ a_in.T  # (eq. W)
            if W_grad.shape != case64.weights[L - 1].shape:
                return None
            dW[L] = W_grad
            if L > 1:
                W = case64.weights[L - 1]
                if here and k == "transposed-W":
                    delta[L] = W @ dz
                elif here and k == "delta-lower-W":  # weights[l - 1] where weights[l] belongs
                    delta[L] = case64.weights[L - 2].T @ dz
                elif here and k == "updated-W":  # a gradient step taken before δ is propagated through W
                    delta[L] = (W - float(mut.variant) * dW[L]).T @ dz
                elif here and k == "reshaped-W":  # W.reshape(n_in, n_out) where W.T belongs (in the subject's layout)
                    back = W.reshape(W.shape[1], W.shape[0]) if mut.variant == "standard" else \
                        W.T.reshape(W.shape[0], W.shape[1]).T
                    delta[L] = back @ dz
                else:
                    delta[L] = W.T @ dz  # (eq. δ)
                if delta[L].shape != a[L].shape:
                    return None
                if k == "delta-entry" and mut.scope in ("all", "hidden"):
                    delta[L] = _entry(delta[L], mut.variant)
    except (ValueError, IndexError):  # shapes do not fit: the subject would raise here
        return None
    Ls = range(1, N)
    if k == "bias-broadcast":  # the batch mean divides by the declared batch, not by the width the batch took
        f = a[N].shape[1] / _cols(case64.x).shape[1]
        dW, db = {L: f * v for L, v in dW.items()}, {L: f * v for L, v in db.items()}
    if k == "aliased-dW":  # one buffer per weight shape, filled from the output down: the lowest layer's value wins
        for L in Ls:
            dW[L] = dW[min(M for M in Ls if dW[M].shape == dW[L].shape)]
    return Gradients(tuple(dW[L] for L in Ls), tuple(db[L] for L in Ls), f"mutant:{k}")


# --------------------------------------------------------------------------------------------------------------
# Observations and closeness
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Observation:
    """One case: the subject's gradients (None when it raised / returned wrong shapes) and the reference."""

    case: Case
    subject: Gradients | None
    reference: Gradients | None = None  # the oracles'; manualbp's when not given
    wrong: bool | None = None  # the verdict; computed from the tolerance below when None
    bad: Gradients | None = None  # the verdict's wrong entries (bool arrays); from the tolerance below when None
    returned: tuple[list[np.ndarray], list[np.ndarray]] | None = None  # an unusable answer as returned: (dW, db)
    expected: tuple[list[np.ndarray], list[np.ndarray]] | None = None  # the reference, in the same layout
    batch_axes: tuple[int, ...] = ()  # the axes of a per-sample array in the subject's layout that run over samples
    returned_dtype: str | None = None  # the least precise float dtype among the returned arrays, when known

    def __post_init__(self) -> None:
        if self.reference is None:
            self.reference = manualbp_gradients(self.case.astype("float64") if self.case.dtype != "float64"
                                                else self.case)
        if self.wrong is None:
            self.wrong = self.subject is None or not close(self.subject, self.reference, self.case.dtype)[0]

    @property
    def invalid(self) -> bool:
        """No gradients to compare (the subject raised or returned wrong shapes)."""
        return self.subject is None


RTOL = {"float64": 1e-7, "float32": 2e-3}
"""'Equal to rounding', relative to the largest entry of the array (the subject's own rounding is far smaller
than the difference any catalogued mistake makes)."""


def _arrays(g: Gradients) -> list[tuple[int, str, np.ndarray]]:
    return [(L, p, np.asarray(v, dtype=np.float64)) for L, p, v in g.items()]


def deviation(pred: Gradients, got: Gradients) -> tuple[float, float]:
    """(max absolute, max relative-to-array-size) deviation between two gradients of the same shapes."""
    worst_abs = worst_rel = 0.0
    for (_, _, p), (_, _, g) in zip(_arrays(pred), _arrays(got)):
        if p.shape != g.shape:
            return np.inf, np.inf
        d = np.abs(p - g)
        if not np.all(np.isfinite(d)):
            return np.inf, np.inf
        size = max(float(np.max(np.abs(p), initial=0)), float(np.max(np.abs(g), initial=0)))
        m = float(np.max(d, initial=0))
        worst_abs = max(worst_abs, m)
        worst_rel = max(worst_rel, m / size if size > 0 else 0.0)
    return worst_abs, worst_rel


def close(pred: Gradients, got: Gradients, dtype: str = "float64") -> tuple[bool, float, float]:
    """Whether ``got`` equals ``pred`` to rounding; with the (absolute, relative) deviation."""
    ab, rel = deviation(pred, got)
    return rel <= RTOL[dtype], ab, rel


def wrong_entries(ob: Observation) -> list[tuple[int, str, np.ndarray]]:
    """(layer, param, bool array of wrong entries) of a valid observation: the verdict's when it gave them, else
    the entries farther from the reference than :data:`RTOL` of the array's largest entry."""
    if ob.bad is not None:
        return [(L, p, np.asarray(v, dtype=bool)) for L, p, v in ob.bad.items()]
    rtol = RTOL[ob.case.dtype]
    out = []
    for (L, p, s), (_, _, r) in zip(_arrays(ob.subject), _arrays(ob.reference)):
        size = max(float(np.max(np.abs(r), initial=0)), float(np.max(np.abs(s), initial=0)))
        out.append((L, p, ~(np.abs(s - r) <= rtol * size)))
    return out


# --------------------------------------------------------------------------------------------------------------
# Hypotheses
# --------------------------------------------------------------------------------------------------------------

Predict = Callable[[Observation], Gradients | None]


@dataclass
class Hypothesis:
    """A mistake with the prediction it makes on each observation."""

    key: str
    title: str
    fix: str
    predict: Predict
    scope: str = "all"
    detail: str = ""  # e.g. the factor's value
    explains: Callable[[Observation], bool] | None = None  # on an unusable answer: whether it is this mistake's
    explains_text: str = ""  # the evidence line when ``explains`` accepted unusable answers
    explains_raises: bool = False  # ``explains`` also judges answers that raised or were not arrays


@dataclass
class Fit:
    """How a hypothesis fared on the observations."""

    hypothesis: Hypothesis
    consistent: int
    total: int
    wrong_explained: int
    invalid_explained: int
    right_kept: int
    max_abs: float
    max_rel: float

    @property
    def fits(self) -> bool:
        """Consistent with every observation."""
        return self.consistent == self.total


def test_hypothesis(h: Hypothesis, observations: Sequence[Observation]) -> Fit:
    """Test ``h`` on every observation: its prediction must equal the subject's answer to rounding."""
    ok = wrong_ok = invalid_ok = right_ok = 0
    max_abs = max_rel = 0.0
    for ob in observations:
        if ob.invalid:
            if h.explains is not None:  # a mistake in the returned arrays: it explains returned arrays only
                good = (ob.returned is not None or h.explains_raises) and h.explains(ob)
            else:
                good = h.predict(ob) is None
            invalid_ok += good
            ok += good
            continue
        pred = h.predict(ob)
        if pred is None:
            good = False
        else:
            good, ab, rel = close(pred, ob.subject, ob.case.dtype)
            if good:
                max_abs, max_rel = max(max_abs, ab), max(max_rel, rel)
                # a failing case is explained only where the mistake changes the answer: an unsummed bias
                # gradient of a single sample, or a forgotten leak in a tanh network, is the right answer
                wrong_ok += bool(ob.wrong) and not close(pred, ob.reference, ob.case.dtype)[0]
                right_ok += not ob.wrong
        ok += good
    return Fit(h, ok, len(observations), wrong_ok, invalid_ok, right_ok, max_abs, max_rel)


def _scope_text(scope: str) -> str:
    return {"all": "", "output": " in the output layer only", "hidden": " in the hidden layers only"}[scope]


def _mutation_hypotheses() -> list[Hypothesis]:
    out: list[Hypothesis] = []

    def add(key: str, variant: str, scope: str, title: str, fix: str) -> None:
        mut = Mutation(key, variant, scope)
        out.append(Hypothesis(key, title + _scope_text(scope), fix,
                              lambda ob, m=mut: mutant_gradients(ob.case, m), scope, variant))

    add("transposed-W", "", "all", "W^(L) used where W^(L)ᵀ belongs when propagating δ",
        "propagate with the transpose: δ^(L) = W^(L)ᵀ (δ^(L+1) ⊙ σ'(z^(L+1))) (eq. δ); in loops, "
        "δ_j = Σ_k W[k][j]·(δ_k σ'_k), summing over the ROW index k")
    add("aliased-dW", "", "all", "weight gradients of layers with the same shape share one buffer: each returns the "
        "last one written (the lowest such layer's)", "give every layer's ∂C/∂W its own array: np.outer(δ, a) "
        "creates one; a buffer reused with out= must be copied before it goes into the list")
    for lr in RATES:
        add("updated-W", lr, "all", f"δ propagated through weights already updated by a gradient step (learning "
            f"rate {lr}) inside backprop", "compute every gradient with the weights as given, and update them after "
            "backprop has returned (and not in place: the caller's arrays must not change)")
    add("bias-broadcast", "", "all", "the bias added as W @ A + b to a batch of columns, b of shape (n,): numpy "
        "broadcasts it along the samples (b_j to sample j; it raises unless the batch is n wide or 1)",
        "add the bias to every column: W @ A + b[:, None] (or b.reshape(-1, 1)); for one sample as a 1-D vector "
        "W @ a + b is right")
    add("aliased-z", "", "all", "the stored pre-activations share one buffer (np.dot(W, a, out=buf[:n]) kept as a "
        "view): σ'(z^(L+1)) of the hidden layers is taken of what the last layers wrote there",
        "give every layer's z its own array (z = W @ a + b creates one; a buffer reused with out= must be copied "
        "before it is stored), or take σ' from the stored activation: a(1 − a), 1 − a²")
    add("delta-lower-W", "", "all", "δ propagated with the weights of the layer below: W^(L−1)ᵀ where W^(L)ᵀ "
        "belongs (weights[l − 1] for weights[l]; it runs only where their shapes allow)",
        "propagate δ back through the weights it came through: δ^(L) = W^(L)ᵀ (δ^(L+1) ⊙ σ'(z^(L+1))) (eq. δ)")
    for variant, what in (("standard", "W.reshape(n_in, n_out)"), ("xw", "for W stored as (n_in, n_out), "
                                                                         "W.reshape(n_out, n_in)")):
        add("reshaped-W", variant, "all", f"W reshaped where it must be transposed when propagating δ: {what} "
            "in place of the transpose (the same numbers only when a width is 1)",
            "propagate with the transpose: δ^(L) = W^(L)ᵀ (δ^(L+1) ⊙ σ'(z^(L+1))) (eq. δ); reshape keeps the "
            "row-major order of the entries, so W.reshape(n_in, n_out) is not W.T")
    for variant, what in (("transposed", "(a δᵀ instead of δ aᵀ)"), ("reshaped", "(a δᵀ reshaped to W's shape)"),
                          ("shape-guided", "(a δᵀ, transposed only when its shape is not W's: square layers stay "
                                           "transposed)")):
        add("outer-order", variant, "all", f"outer product in the wrong order {what}: a_j where a_k belongs",
            "∂C/∂W^(L)[j, k] = ∂C/∂b^(L)[j] · a^(L)[k]: the row index goes with δ, the column index with a "
            "(eq. W: np.outer(delta, a_prev))")
    for scope in SCOPES:
        add("sigma-prime-of-a", "", scope, "σ'(a) computed where σ'(z) belongs",
            "σ' takes z: use σ'(z^(L+1)), or the same written in the activation a = σ(z): a(1 − a) for sigmoid, "
            "1 − a² for tanh — not σ'(a) (e.g. σ(a)(1 − σ(a)), or tanh'(a) = 1 − tanh²(a)); beware np.tanh(z, "
            "out=z), which turns the stored z into a")
    for scope in SCOPES:
        add("sigma-prime-formula-on-z", "", scope, "a formula for σ' in terms of a (a(1 − a), 1 − a²) applied to z",
            "σ' written in terms of the activation is σ'(z) only when fed a = σ(z): sigmoid a(1 − a), tanh 1 − a²; "
            "feed the activation, or use the formula in z (σ(z)(1 − σ(z)), 1 − tanh²(z))")
    for scope in SCOPES:
        add("leak-forgotten", "", scope, "leaky_relu's leak forgotten in the backward pass: σ'(z) = 0 for z ≤ 0",
            "leaky_relu'(z) is 1 for z > 0 and the leak (the slope of the forward pass, e.g. 0.01) for z ≤ 0, "
            "not 0: np.where(z > 0, 1, slope)")
    for variant, what in (("tanh-no-square", "tanh' written 1 − tanh z (the square forgotten)"),
                          ("sigmoid-plus", "σ' written a(1 + a) (a sign slipped)"),
                          ("swapped", "σ' of the other activation: a(1 − a) for tanh, 1 − a² for sigmoid")):
        for scope in SCOPES:
            add("sigma-prime-slip", variant, scope, what,
                "tanh'(z) = 1 − tanh²(z) = 1 − a², σ'(z) = σ(z)(1 − σ(z)) = a(1 − a) with a the layer's activation")
    for variant, which in (("next", "z^(L+2), the layer above"), ("previous", "z^(L), the layer below")):
        add("sigma-prime-wrong-layer", variant, "hidden", f"σ' of the wrong layer: σ'({which}) where σ'(z^(L+1)) "
            "belongs (an index off by one)",
            "∂C/∂b^(L) = δ^(L+1) ⊙ σ'(z^(L+1)) (eq. b): σ' of the same layer as δ^(L+1); check the index into "
            "your list of pre-activations (zs[l] vs zs[l − 1])")
    add("output-slip", "aliased", "output", "the output δ computed in place on the activation (delta = a; "
        "delta -= y): σ' is then taken of a − y, not of a",
        "copy before changing in place: delta = a - y (a new array), or delta = a.copy(); then multiply by σ'(z^(N)) "
        "computed from the activation itself")
    for variant, how in (("plain", ""), ("shifted", ", each column shifted by its own maximum first")):
        add("softmax-over-batch", variant, "output", f"softmax normalised over the whole batch (e / e.sum() with no "
            f"axis{how}) instead of over each sample's outputs", "normalise each sample on its own: e / e.sum(axis=0, "
            "keepdims=True) for a batch of columns (axis=1 for rows); with one sample the two agree")
    for variant, what in (("sqrt", "1/√n_in (the NTK parametrisation)"), ("mean", "1/n_in (mean-field scaling)")):
        out.append(Hypothesis("fan-in-scaled", f"every layer's W a scaled by {what} in the forward pass, z = c·W a "
                              "+ b, the backward pass consistent with it: the exact gradient of another network",
                              "the derivation's network is z^(L+1) = W^(L) a^(L) + b^(L) (eq. z): drop the fan-in "
                              "factor from both passes (or fold it into the weights you pass in)",
                              lambda ob, v=variant: fan_in_gradients(ob.case, v), "all", variant))
    for eps in ("1e-08", "1e-07"):
        out.append(Hypothesis("optimizer-step", f"Adam's first step returned for the gradient: g/(|g| + ε) with "
                              f"ε = {float(eps):g} (bias-corrected m̂/(√v̂ + ε), about sign(g)) in place of g",
                              "return the gradient itself, ∂C/∂W and ∂C/∂b; the optimiser's step belongs in the "
                              "training loop", lambda ob, e=float(eps): _adam_first_step(ob.reference, e), "all", eps))
    for scale in SCALES:
        add("scaled-activation", scale, "all", f"every hidden activation multiplied by {float(scale):.4g} in the "
            "forward pass (inverted dropout's 1/(1 − p) rescale left in without its mask, or a gain), the backward "
            "pass consistent with it: the exact gradient of another network",
            "apply dropout whole or not at all: with a mask, the same mask and rescale in both passes; without one "
            "(evaluation, or a gradient check), no rescale either: a^(L+1) = σ(z^(L+1)) (eq. a)")
    add("output-slip", "no-output-activation", "output", "the output activation left out of the forward pass (a^(N) "
        "= z^(N)) but σ'(z^(N)) kept in the backward pass", "apply σ to the output layer's z in the forward pass "
        "too, or, for a linear output, drop σ' from δ^(N) (declare --output identity)")
    add("output-slip", "softmax-diagonal", "output", "softmax Jacobian with the diagonal's sign flipped: a_i(a_i − 1) "
        "where a_i(1 − a_i) belongs", "the softmax Jacobian is diag(a) − a aᵀ: its diagonal is a_i(1 − a_i), its "
        "off-diagonal −a_i a_j")
    for slope in LEAKS:
        add("leak-slope", slope, "all", f"leaky_relu's slope for z ≤ 0 is {slope} in the backward pass, not the "
            f"forward pass's {LEAKY}", f"use one leak in both passes: leaky_relu'(z) = {LEAKY} for z ≤ 0 (or declare "
            "the network your forward pass computes)")
    for scope in SCOPES:
        add("missing-sigma-prime", "", scope, "σ' missing: δ not multiplied by σ'(z)",
            "∂C/∂b^(L) = δ^(L+1) ⊙ σ'(z^(L+1)) (eq. b): multiply by σ'(z) in every layer, the output one included")
    for variant, what in (("next", "a^(L+1) (the layer's own output)"),
                          ("previous", "a^(L−1) (an index off by one; for L = 1 Python's [-1] is the output)"),
                          ("pre-activation", "z^(L) (the pre-activation)")):
        add("wrong-layer-activation", variant, "all", f"activations of the wrong layer in ∂C/∂W^(L): {what} "
            "where a^(L) belongs", "∂C/∂W^(L) = ∂C/∂b^(L) a^(L)ᵀ (eq. W): the activation of the layer the "
            "weights come FROM (a^(1) = x for the first layer)")
    for variant, what in (("diagonal", "σ'(z^(N)) (a ⊙ (1 − a) for softmax)"),
                          ("jacobian", "the softmax Jacobian (for an elementwise σ, σ'(z^(N)))")):
        add("extra-output-prime", variant, "all", f"an extra output-activation derivative: ∂C/∂z^(N) multiplied "
            f"once more by {what}",
            "with softmax + cross-entropy (or sigmoid + binary cross-entropy) ∂C/∂z^(N) = a − y already contains "
            "the activation's derivative: do not multiply by σ' or the Jacobian again; otherwise multiply by "
            "σ'(z^(N)) exactly once")
    for variant, what in (("first", "y_1 used for every output"), ("shifted", "output k compared with y_{k−1}")):
        add("wrong-target", variant, "all", f"wrong target entry: {what}",
            "δ^(N)_k = ∂C/∂a_k compares a_k with its own target y_k")
    for eps in SMOOTHINGS:
        add("wrong-target", f"smoothed-{eps}", "all", f"label smoothing left in: the targets are (1 − ε)y + ε/K "
            f"(K outputs) with ε = {eps}, the gradient of another cost", "the declared cost compares a with y "
            "itself: leave label smoothing to the training loop, or declare the smoothed targets as the case's y")
    add("wrong-target", "truncated", "all", "targets truncated to integers (y.astype(int), int arrays)",
        "keep the targets as floats: y.astype(int) (or an int array built from them) rounds every target toward 0")
    for variant, what in (("last-duplicates-previous", "its last entry duplicates the one before"),
                          ("last-stale-zero", "its last entry is never computed (stays 0)"),
                          ("first-stale-zero", "its first entry is never computed (stays 0)")):
        for scope, which in (("output", "δ^(N)"), ("hidden", "each hidden δ^(L)"), ("all", "every δ")):
            mut = Mutation("delta-entry", variant, scope)
            out.append(Hypothesis("delta-entry", f"one δ entry duplicated or stale: in {which}, {what}",
                                  "compute every entry of δ (check the loop bounds: range(n), not range(n − 1); "
                                  "a buffer reused across layers keeps stale values)",
                                  lambda ob, m=mut: mutant_gradients(ob.case, m), scope, variant))
    return out


# -- shape hypotheses: the answer's structure is wrong ---------------------------------------------------------

def _same(a: np.ndarray, b: np.ndarray, dtype: str) -> bool:
    """Same shape and equal to rounding (relative to the larger array's largest entry)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or not (np.isfinite(a).all() and np.isfinite(b).all()):
        return False
    size = max(float(np.max(np.abs(a), initial=0)), float(np.max(np.abs(b), initial=0)))
    return bool(np.max(np.abs(a - b), initial=0) <= RTOL[dtype] * size)


def _reversed_prediction(ob: Observation) -> Gradients | None:
    ref = ob.reference
    dW, db = ref.dW[::-1], ref.db[::-1]
    if any(p.shape != q.shape for p, q in zip((*dW, *db), (*ref.dW, *ref.db))):
        return None
    return Gradients(tuple(dW), tuple(db), "reversed")


def _reversed_explains(ob: Observation) -> bool:
    (got_W, got_b), (want_W, want_b) = ob.returned, ob.expected
    return len(got_W) == len(want_W) >= 2 and len(got_b) == len(want_b) and all(
        _same(g, w, ob.case.dtype) for g, w in zip((*got_W, *got_b), (*want_W[::-1], *want_b[::-1])))


def _unsummed_bias_explains(ob: Observation) -> bool:
    (got_W, got_b), (want_W, want_b) = ob.returned, ob.expected
    if not ob.batch_axes or len(got_W) != len(want_W) or len(got_b) != len(want_b):
        return False
    if not all(_same(g, w, ob.case.dtype) for g, w in zip(got_W, want_W)):
        return False
    B = ob.case.x.shape[1]
    for g, w in zip(got_b, want_b):
        g = np.asarray(g, dtype=np.float64)
        if g.ndim != 2 or not any(g.shape[ax] == B and _same(g.sum(axis=ax).reshape(w.shape), w, ob.case.dtype)
                                  for ax in ob.batch_axes):
            return False
    return True


def _inner_product_explains(ob: Observation) -> bool:
    """∂C/∂W^(L) as np.dot of two 1-D vectors (one sample): a 0-d inner product Σ_i dz_i a^(L)_i where the outer
    product belongs, ∂C/∂b right; numpy raises wherever a layer's two lengths differ."""
    case = ob.case
    if case.batched:
        return False
    square = all(W.shape[0] == W.shape[1] for W in case.weights)
    if ob.returned is None:
        return not square
    (got_W, got_b), (want_W, want_b) = ob.returned, ob.expected
    if not square or len(got_W) != len(want_W) or len(got_b) != len(want_b) or not all(
            _same(g, w, case.dtype) for g, w in zip(got_b, want_b)):
        return False
    a = forward(case if case.dtype == "float64" else case.astype("float64"), with_cost=False).a  # a^(1) = x, …
    return all(np.ndim(g) == 0 and _same(np.reshape(g, 1), np.reshape(np.dot(np.ravel(db), a[L]), 1), case.dtype)
               for L, (g, db) in enumerate(zip(got_W, want_b), start=1))


def _two_axis_bias_explains(ob: Observation) -> bool:
    """Every ∂C/∂b^(L) has the right entries as a (1, n) row or an (n, 1) column (keepdims=True, np.matrix) and
    ∂C/∂W is right; at least one of them has that extra axis."""
    (got_W, got_b), (want_W, want_b) = ob.returned, ob.expected
    if len(got_W) != len(want_W) or len(got_b) != len(want_b):
        return False
    if not all(_same(g, w, ob.case.dtype) for g, w in zip(got_W, want_W)):
        return False
    extra = False
    for g, w in zip(got_b, want_b):
        g = np.asarray(g, dtype=np.float64)
        if g.shape == np.shape(w):
            continue
        if g.ndim != 2 or 1 not in g.shape or g.size != np.size(w) or not _same(g.reshape(np.shape(w)), w,
                                                                                  ob.case.dtype):
            return False
        extra = True
    return extra


def _wrong_axis_bias_explains(ob: Observation) -> bool:
    """∂C/∂W right and every ∂C/∂b^(L) one entry per sample: the units' mean or sum (see mutant_gradients)."""
    (got_W, got_b), (want_W, want_b) = ob.returned, ob.expected
    if not ob.case.batched or len(got_W) != len(want_W) or len(got_b) != len(want_b):
        return False
    if not all(_same(g, w, ob.case.dtype) for g, w in zip(got_W, want_W)):
        return False
    for variant in BIAS_AXES:
        pred = mutant_gradients(ob.case, Mutation("bias-wrong-axis", variant))
        if pred is not None and all(_same(np.asarray(g, np.float64).ravel(), p, ob.case.dtype)
                                    for g, p in zip(got_b, pred.db)):
            return True
    return False


BIAS_AXES = ("mean-B", "mean-1", "sum-1", "sum-B")
"""How a bias gradient reduced over the wrong axis (the units) was formed: mean or sum of B·dz or of dz."""


def _swapped_prediction(ob: Observation) -> Gradients | None:
    """Where the layout takes swapped lists (every W^(L) with as many entries as b^(L)), the values it reads."""
    ref = ob.reference
    if any(W.size != b.size for W, b in zip(ref.dW, ref.db)):
        return None
    return Gradients(tuple(b.reshape(W.shape) for W, b in zip(ref.dW, ref.db)),
                     tuple(W.reshape(b.shape) for W, b in zip(ref.dW, ref.db)), "swapped")


def _swapped_explains(ob: Observation) -> bool:
    (got_W, got_b), (want_W, want_b) = ob.returned, ob.expected
    return len(got_W) == len(want_b) and len(got_b) == len(want_W) and all(
        _same(g, w, ob.case.dtype) for g, w in zip((*got_W, *got_b), (*want_b, *want_W)))


SHAPE_HYPOTHESES: list[Hypothesis] = [
    Hypothesis("swapped-returns", "the two returned lists are in the other order than declared (dW and db swapped)",
               "declare the order your function returns: --returns db,dW (or dW,db), or swap the return statement",
               _swapped_prediction, explains=_swapped_explains,
               explains_text="the first returned list equals the correct ∂C/∂b and the second the correct ∂C/∂W, "
                             "to rounding"),
    Hypothesis("reversed-order", "gradients returned in reversed layer order (output layer first)",
               "the backward pass meets the layers from the output down: insert each gradient at the front "
               "(dW.insert(0, …)) or reverse the lists before returning them, so that dW[0] is ∂C/∂W^(1)",
               _reversed_prediction, explains=_reversed_explains,
               explains_text="its answers are the correct gradients in reversed layer order, to rounding"),
    Hypothesis("bias-not-summed", "bias gradient not summed over the batch: ∂C/∂b^(L) returned per sample "
               "(shape (n_L, B))", "∂C/∂b^(L) has one entry per unit: sum δ ⊙ σ' over the samples "
               "(db = dZ.sum(axis=1) for a batch of columns, dZ.sum(axis=0) for rows), as ∂C/∂W sums them "
               "through its matrix product",
               lambda ob: ob.reference, explains=_unsummed_bias_explains,
               explains_text="each returned ∂C/∂b^(L) has a sample axis, and summed over it equals the correct "
                             "gradient to rounding; ∂C/∂W is right"),
    Hypothesis("bias-wrong-axis", "bias gradient reduced over the wrong axis: one entry per sample (the units' "
               "mean or sum) instead of one per unit", "∂C/∂b^(L) sums (or, for a mean cost, averages) over the "
               "SAMPLES: dZ.sum(axis=1) for a batch of columns, dZ.sum(axis=0) / np.mean(dZ, axis=0) for rows",
               lambda ob: next((p for v in BIAS_AXES
                                for p in [mutant_gradients(ob.case, Mutation("bias-wrong-axis", v))]
                                if p is not None and ob.subject is not None and close(p, ob.subject,
                                                                                      ob.case.dtype)[0]),
                               mutant_gradients(ob.case, Mutation("bias-wrong-axis", BIAS_AXES[0]))),
               explains=_wrong_axis_bias_explains,
               explains_text="each returned ∂C/∂b^(L) has one entry per sample, the units' mean or sum of the "
                             "per-sample gradient; ∂C/∂W is right"),
    Hypothesis("inner-product-dW", "∂C/∂W computed with np.dot of two 1-D vectors (one sample): their inner "
               "product, a single number, where the outer product δ a^(L)ᵀ belongs",
               "∂C/∂W^(L) = ∂C/∂b^(L) a^(L)ᵀ (eq. W) is a matrix: np.outer(dz, a_prev) (or dz[:, None] * a_prev); "
               "np.dot of two 1-D arrays sums their products",
               lambda ob: None, explains=_inner_product_explains, explains_raises=True,
               explains_text="each returned ∂C/∂W^(L) is one number, Σ_i (∂C/∂b^(L))_i a^(L)_i, and ∂C/∂b is "
                             "right"),
    Hypothesis("bias-two-axes", "bias gradient with an extra axis: ∂C/∂b^(L) returned as a (1, n_L) row or an "
               "(n_L, 1) column, with the right values", "∂C/∂b^(L) has b^(L)'s shape (n_L,): sum without "
               "keepdims=True, or return db.ravel() (np.matrix always keeps two axes: np.asarray(db).ravel())",
               lambda ob: ob.reference, explains=_two_axis_bias_explains,
               explains_text="each returned ∂C/∂b^(L) holds the correct values with an extra axis of length 1; "
                             "∂C/∂W is right"),
]
"""Mistakes seen in the structure of an answer the layout cannot take (their evidence is the returned arrays)."""

MUTATIONS: list[Hypothesis] = _mutation_hypotheses()
"""The catalogue's mutation hypotheses, in order of preference when several fit."""


# -- factor hypotheses -----------------------------------------------------------------------------------------

def _ratio(s: np.ndarray, r: np.ndarray) -> float | None:
    """Least-squares k with s ≈ k r (None when r is all zero)."""
    rr = float(np.sum(r * r))
    if rr == 0.0 or not np.isfinite(rr):
        return None
    return float(np.sum(s * r)) / rr


def nice(k: float, rtol: float = 1e-6) -> float:
    """``k`` snapped to a simple fraction (0, ±1, 2, ½, ⅓, …) when it is one to within rtol."""
    if abs(k) < 1e-12:
        return 0.0
    f = Fraction(k).limit_denominator(12)
    if abs(f.numerator) <= 64 and abs(float(f) - k) <= rtol * abs(k):
        return float(f)
    return k


def _simple(k: float) -> bool:
    """k is exactly a fraction p/q with q ≤ 12 and |p| ≤ 64 (what :func:`nice` snaps to)."""
    f = Fraction(k).limit_denominator(12)
    return float(f) == k and abs(f.numerator) <= 64


def _fmt_k(k: float) -> str:
    f = Fraction(k).limit_denominator(12)
    if float(f) == k and f.denominator != 1:
        return f"{f.numerator}/{f.denominator}"
    return f"{k:g}"


def _scaled(ob: Observation, k_of: Callable[[int, str, int], float | None]) -> Gradients | None:
    N = ob.case.arch.depth
    dW, db = [], []
    for L, p, r in _arrays(ob.reference):
        k = k_of(L, p, N)
        if k is None:
            return None
        (dW if p == "W" else db).append(k * r)
    return Gradients(tuple(dW), tuple(db), "factor")


def _batch(ob: Observation) -> int:
    return ob.case.x.shape[1] if ob.case.batched else 1


def _global_ratios(obs: Sequence[Observation]) -> list[tuple[Observation, float]]:
    out = []
    for ob in obs:
        if ob.invalid or not ob.wrong:
            continue
        k = _ratio(ob.subject.flat(), ob.reference.flat())
        if k is not None and np.isfinite(k):
            out.append((ob, k))
    return out


def _param_batch_hypotheses(obs: Sequence[Observation]) -> list[Hypothesis]:
    """One kind of gradient (∂C/∂b or ∂C/∂W) averaged over the batch twice, or summed, while the other is right."""
    out: list[Hypothesis] = []
    if len({_batch(ob) for ob in obs if ob.wrong and not ob.invalid}) < 2:
        return out  # indistinguishable from a constant factor
    for param, what in (("b", "∂C/∂b"), ("W", "∂C/∂W")):
        for power, how in ((-1, "divided by B once more than"), (1, "not divided by B, unlike")):
            other = "∂C/∂W" if param == "b" else "∂C/∂b"
            out.append(Hypothesis(
                f"batch-factor-{param}", f"{what} alone {how} {other}: a factor {'1/' if power < 0 else ''}B "
                f"(the batch size) on {what} only",
                f"the batch mean divides every gradient by B exactly once: check the {what} line "
                f"({'a .mean() after a division by B' if power < 0 else 'a .sum() where the mean belongs'})",
                lambda ob, q=param, e=power: _scaled(ob, lambda L, p, N: _batch(ob) ** e if p == q else 1.0),
                detail=f"B^{power} on {param}"))
    for power, how in ((-1, "divided by B once more"), (1, "not divided by B")):  # δ carries the factor down
        out.append(Hypothesis(
            "batch-factor-hidden", f"the hidden layers' gradients {how} than the output layer's: a factor "
            f"{'1/' if power < 0 else ''}B (the batch size) below the output layer",
            "divide by B once, where the output layer's ∂C/∂z is formed: the δ passed down already carries it",
            lambda ob, e=power: _scaled(ob, lambda L, p, N: _batch(ob) ** e if L < N - 1 else 1.0),
            "hidden", detail=f"B^{power} below the output"))
    out.append(Hypothesis(
        "batch-factor-hidden", "δ divided by B (the batch size) again at every hidden layer: a factor 1/B per "
        "layer below the output layer", "divide by B once, where the output layer's ∂C/∂z is formed: the δ passed "
        "down already carries it", lambda ob: _scaled(ob, lambda L, p, N: float(_batch(ob)) ** (L - N + 1)),
        "hidden", detail="B^-k, k layers below the output"))
    return out


PENALTIES = {
    "weight-decay": ("weight decay added to ∂C/∂W: ∂C/∂W + λW", lambda W: W),
    "l1-penalty": ("an L1 penalty's gradient added to ∂C/∂W: ∂C/∂W + λ·sign(W)", np.sign),
}
"""Regularisers whose gradient λ·r(W) a backprop may add to ∂C/∂W: (title, r)."""


def _decay_hypotheses(obs: Sequence[Observation]) -> list[Hypothesis]:
    """A regulariser's gradient added to ∂C/∂W (:data:`PENALTIES`: L2 weight decay λW, L1 λ·sign(W)) with one λ for
    every failing case, ∂C/∂b right."""
    out = []
    for key, (title, r_of) in PENALTIES.items():
        lams = []
        for ob in obs:
            if not ob.wrong or ob.subject is None or ob.reference is None:
                continue
            for W, g, r in zip(ob.case.weights, ob.subject.dW, ob.reference.dW):
                W = np.asarray(W, np.float64)
                big = np.abs(W) > 1e-3
                if big.any():
                    diff = np.asarray(g, np.float64)[big] - np.asarray(r, np.float64)[big]
                    lams.append(np.median(diff / r_of(W[big])))
        lam = float(np.median(lams)) if lams else 0.0
        if not np.isfinite(lam) or abs(lam) < 1e-12:
            continue

        def predict(ob: Observation, lam: float = lam, r_of=r_of, key: str = key) -> Gradients | None:
            if ob.reference is None:
                return None
            dW = tuple(np.asarray(g, np.float64) + lam * r_of(np.asarray(W, np.float64))
                       for g, W in zip(ob.reference.dW, ob.case.weights))
            return Gradients(dW, tuple(np.asarray(g, np.float64) for g in ob.reference.db), key)

        out.append(Hypothesis(key, f"{title} with λ = {lam:.3g}",
                              "the gradient of C alone is asked for: leave the regulariser's term out of dW (add it in "
                              "the update, or declare a cost that includes it)", predict, detail=f"{lam:.3g}"))
    return out


def _factor_hypotheses(obs: Sequence[Observation]) -> list[Hypothesis]:
    """Factor patterns with constants estimated from the failing observations (verified on all of them)."""
    ratios = _global_ratios(obs)
    out: list[Hypothesis] = []
    if not ratios:
        return out
    rtol = max(RTOL[ob.case.dtype] for ob in obs)
    k = nice(float(np.median([k for _, k in ratios])), rtol)
    if k == -1.0:
        out.append(Hypothesis("sign", "sign: every gradient is the negative of the correct one",
                              "δ^(N) = ∂C/∂a^(N) is (a − y) for squared error, not (y − a); or you return the "
                              "update direction −∇C instead of the gradient", lambda ob: _scaled(ob, lambda *_: -1.0),
                              detail="-1"))
    elif k != 1.0:
        out.append(Hypothesis(
            "constant-factor", f"constant factor: every gradient is {_fmt_k(k)}× the correct one",
            _factor_fix(k), lambda ob, k=k: _scaled(ob, lambda *_: k), detail=_fmt_k(k)))
    for name, size in (("batch-factor", _batch), ("width-factor", lambda ob: ob.case.arch.widths[-1])):
        sizes = {size(ob) for ob, _ in ratios}
        if len(sizes) < 2:
            continue  # indistinguishable from a constant factor
        for power in (1, -1):
            c = nice(float(np.median([kk / size(ob) ** power for ob, kk in ratios])), rtol)
            what = "B (the batch size)" if name == "batch-factor" else "n_N (the output width)"
            sym, desc = what.split(" ", 1)
            title = (f"factor {_fmt_k(c) + '·' if c != 1 else ''}{what}" if power == 1 else
                     f"factor {_fmt_k(c)}/{sym} {desc}: divided by {sym} once too often" if c == 1 else
                     f"factor {_fmt_k(c)}/{sym} {desc}")
            squared = ratios[0][0].case.arch.cost in ("half_mse", "half_sse", "mse")
            fix = ("the batch cost is the MEAN over samples: divide the summed gradients by B (or declare "
                   "reduction='sum' / --reduction sum)" if name == "batch-factor" and power == 1 else
                   "the cost is averaged over the n_N outputs (half_mse) or summed (half_sse): declare the cost "
                   "your code computes (--cost), or fix the factor" if name == "width-factor" and squared else
                   f"the declared {ratios[0][0].case.arch.cost} has no factor of the output width: remove it (or, if "
                   "your cost really has it, declare it with --scale)" if name == "width-factor" else
                   "divide by B once, not twice")
            out.append(Hypothesis(name, title, fix,
                                  lambda ob, c=c, p=power, f=size: _scaled(ob, lambda *_: c * f(ob) ** p),
                                  detail=f"{_fmt_k(c)}·{what.split()[0]}^{power}"))
    out += _clipping_hypotheses(ratios, rtol)
    for grouping in GROUPINGS:
        factors = _layer_factors(obs, grouping, rtol)
        if factors is None or all(v == 1.0 for v in factors.values()):
            continue
        if not all(_simple(v) for v in factors.values()):
            continue  # only simple factors (0, ±1, 2, ½, …) make a plausible mistake
        if len(set(factors.values())) == 1:
            continue  # a global factor, tested above
        out.append(Hypothesis("some-layers", _layers_title(factors, grouping), _layers_fix(factors, grouping),
                              lambda ob, f=factors, g=grouping: _scaled(
                                  ob, lambda L, p, N: f.get((_pos(L, N, g), p), 1.0)),
                              detail=grouping))
    return out


def _clipping_hypotheses(ratios: list[tuple[Observation, float]], rtol: float) -> list[Hypothesis]:
    """Gradient clipping by the global norm (torch.nn.utils.clip_grad_norm_): every failing case scaled down by its
    own factor k < 1 to one norm c = k‖∇C‖; a case whose gradient is already shorter than c is left alone."""
    if len(ratios) < 2 or not all(0 < k < 1 for _, k in ratios):
        return []
    norms = [k * float(np.linalg.norm(ob.reference.flat())) for ob, k in ratios]
    c = float(np.median(norms))
    if not all(abs(n - c) <= 1e-6 * c for n in norms):
        return []
    shown = nice(c, 1e-6)

    def clipped(ob: Observation, c: float = c) -> Gradients | None:
        norm = float(np.linalg.norm(ob.reference.flat()))
        return _scaled(ob, lambda *_: min(1.0, c / norm) if norm else 1.0)

    return [Hypothesis("clipped", f"gradient clipped to a global norm of {_fmt_k(shown)}: every gradient longer "
                       "than that scaled down to it", "return the gradient itself: clipping (clip_grad_norm_) "
                       "belongs in the optimiser step, after the check, not in backprop", clipped,
                       detail=_fmt_k(shown))]


def _factor_fix(k: float) -> str:
    if k in (2.0, 0.5):
        return ("a factor 2 or ½ comes from the cost convention: ½Σ(a−y)² has derivative (a − y), Σ(a−y)² has "
                "2(a − y). Declare the cost you compute (--cost / --scale), or fix the derivative")
    if k == 0.0:
        return "the gradients are all zero: are they computed and returned (not the initial zeros)?"
    return f"find where a factor {_fmt_k(k)} enters (δ^(N) = ∂C/∂a^(N) of the declared cost, with its scale)"


GROUPINGS = ("from-output", "from-input", "role")
"""How layers of networks of different depths are matched: counted from the output (W^(N−1), W^(N−2), …),
from the input (W^(1), W^(2), …), or by role (output layer, first layer, the layers in between)."""


def _pos(L: int, N: int, grouping: str) -> int:
    if grouping == "from-output":
        return N - 1 - L
    if grouping == "from-input":
        return L
    return 0 if L == N - 1 else (1 if L == 1 else 2)


def pos_name(pos: int, param: str, grouping: str) -> str:
    """The name of a layer position in a grouping (see :data:`GROUPINGS`)."""
    if grouping == "from-output":
        return f"{param}^(N−{pos + 1})" if pos else f"{param}^(N−1) (output layer)"
    if grouping == "from-input":
        return f"{param}^({pos})"
    return (f"{param}^(N−1) (output layer)", f"{param}^(1) (first layer, below the output)",
            f"{param}^(L), 1 < L < N−1 (middle layers)")[pos]


def _layer_factors(obs: Sequence[Observation], grouping: str, rtol: float) -> dict[tuple[int, str], float] | None:
    per: dict[tuple[int, str], list[float]] = {}
    for ob in obs:
        if ob.invalid:
            continue
        N = ob.case.arch.depth
        for (L, p, s), (_, _, r) in zip(_arrays(ob.subject), _arrays(ob.reference)):
            k = _ratio(s, r)
            if k is not None and np.isfinite(k):
                per.setdefault((_pos(L, N, grouping), p), []).append(k)
    if not per:
        return None
    return {key: nice(float(np.median(v)), rtol) for key, v in per.items()}


def _pos_label(pos: int, grouping: str) -> str:
    if grouping == "from-output":
        return "the output layer (L = N−1)" if pos == 0 else f"layer L = N−{pos + 1}"
    if grouping == "from-input":
        return f"layer L = {pos}"
    return ("the output layer (L = N−1)", "the first layer (L = 1, below the output)",
            "the middle layers (1 < L < N−1)")[pos]


def _layers_title(factors: dict[tuple[int, str], float], grouping: str) -> str:
    positions = sorted({pos for pos, _ in factors})
    wrong, right = [], []
    for pos in positions:
        kW, kb = factors.get((pos, "W"), 1.0), factors.get((pos, "b"), 1.0)
        label = _pos_label(pos, grouping)
        if kW == kb == 1.0:
            right.append(label)
        elif kW == kb:
            wrong.append(f"∂C/∂W and ∂C/∂b of {label} are {_fmt_k(kW)}× the correct ones")
        else:
            wrong.append(f"∂C/∂W of {label} is {_fmt_k(kW)}× and ∂C/∂b {_fmt_k(kb)}× the correct one")
    return ("only some layers wrong: " + "; ".join(wrong)
            + (f"; {', '.join(right)} {'is' if len(right) == 1 else 'are'} right" if right else ""))


def _layers_fix(factors: dict[tuple[int, str], float], grouping: str) -> str:
    if any(v == 0.0 for v in factors.values()):
        return ("some layers' gradients are never computed (zero): check the backward loop's range — "
                "range(N − 2, −1, −1) reaches the first layer, range(N − 2, 0, −1) stops one layer early")
    return "look at the step that computes the first wrong layer (going backwards) and what it passes down"


# --------------------------------------------------------------------------------------------------------------
# The diagnosis
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Diagnosis:
    """The mistake that explains the failures (or "unrecognised"), with its evidence."""

    mistake: str  # catalogue key, or "unrecognised"
    title: str
    fix: str
    evidence: list[str] = field(default_factory=list)
    scope: str = "all"
    cases: int = 0  # observations tested
    failing: int = 0
    max_deviation: float | None = None
    max_relative_deviation: float | None = None
    also_consistent: list[str] = field(default_factory=list)
    layers: list[dict[str, Any]] = field(default_factory=list)
    pattern: str | None = None

    @property
    def recognised(self) -> bool:
        """True when a catalogue entry fits every case."""
        return self.mistake != "unrecognised"

    def text(self) -> str:
        """Human-readable: title, evidence lines, fix."""
        lines = [("Diagnosis: " if self.recognised else "Diagnosis: unrecognised — ") + self.title]
        lines += [f"  - {e}" for e in self.evidence]
        if self.also_consistent:
            lines.append("  - also consistent with: " + "; ".join(self.also_consistent))
        if self.pattern:
            lines.append("  Pattern of wrong entries:")
            lines += ["    " + ln for ln in self.pattern.splitlines()]
        if self.fix:
            lines.append(f"  Fix: {self.fix}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        from .findings import jsonable

        return jsonable({k: getattr(self, k) for k in (
            "mistake", "title", "fix", "evidence", "scope", "cases", "failing", "max_deviation",
            "max_relative_deviation", "also_consistent", "layers", "pattern")})


def layer_summary(obs: Sequence[Observation]) -> tuple[str, list[dict[str, Any]]]:
    """Per layer (grouped from the output or the input, whichever is cleaner): on how many cases it is wrong."""
    best: tuple[int, str, list[dict[str, Any]]] | None = None
    for grouping in GROUPINGS:
        stats: dict[tuple[int, str], dict[str, Any]] = {}
        for ob in obs:
            if ob.invalid:
                continue
            N = ob.case.arch.depth
            rtol = RTOL[ob.case.dtype]
            for (L, p, s), (_, _, r), (_, _, bad) in zip(_arrays(ob.subject), _arrays(ob.reference),
                                                         wrong_entries(ob)):
                key = (_pos(L, N, grouping), p)
                st = stats.setdefault(key, {"layer": pos_name(*key, grouping), "cases": 0, "wrong": 0,
                                            "ratios": [], "max_abs_err": 0.0})
                st["cases"] += 1
                size = max(float(np.max(np.abs(r), initial=0)), float(np.max(np.abs(s), initial=0)))
                err = float(np.max(np.abs(s - r), initial=0)) if np.all(np.isfinite(s)) else np.inf
                if bad.any():
                    st["wrong"] += 1
                    st["max_abs_err"] = max(st["max_abs_err"], err)
                    k = _ratio(s, r)
                    if k is not None and np.isfinite(k) and float(np.max(np.abs(s - k * r))) <= rtol * size:
                        st["ratios"].append(k)
                    else:
                        st["ratios"].append(None)
        rows = [stats[k] for k in sorted(stats, key=lambda t: (t[0], t[1] != "W"))]
        mixed = sum(0 < st["wrong"] < st["cases"] for st in rows)
        if best is None or mixed < best[0]:
            best = (mixed, grouping, rows)
    assert best is not None
    return best[1], best[2]


def _layer_lines(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    for st in rows:
        name = "∂C/∂" + st["layer"]
        if st["wrong"] == 0:
            lines.append(f"{name} equals the oracle's on all {st['cases']} cases")
            continue
        ks = st["ratios"]
        how = f"wrong on {st['wrong']} of {st['cases']} cases"
        if ks and all(k is not None and abs(k - 1.0) <= 1e-3 for k in ks):
            how += (f" by small amounts only (max |error| {st['max_abs_err']:.3g}; the ratio to the oracle's is "
                    f"within {max(abs(k - 1.0) for k in ks):.1g} of 1)")
        elif ks and all(k is not None for k in ks):
            lo, hi = min(ks), max(ks)
            if abs(hi - lo) <= 1e-6 * max(abs(hi), abs(lo), 1e-300):
                on = (f"all {st['cases']}" if st["wrong"] == st["cases"] else f"{st['wrong']} of {st['cases']}")
                how = f"equals {_fmt_k(nice(lo))}× the oracle's on {on} cases"
            else:
                how += f" (a multiple of the oracle's on each, by factors from {lo:.4g} to {hi:.4g})"
        else:
            how += f" (not a multiple of the oracle's; max |error| {st['max_abs_err']:.3g})"
        lines.append(f"{name} {how}")
    return lines


def entry_pattern(ob: Observation) -> str:
    """A ✗/· grid per layer of which entries of one observation are wrong."""
    if ob.invalid:
        return "(the subject returned no gradients on this case)"
    lines = []
    for (L, p, s), (_, _, bad) in zip(_arrays(ob.subject), wrong_entries(ob)):
        grid = bad.reshape(bad.shape[0], -1) if bad.ndim == 2 else bad[None, :]
        rows = [" ".join("✗" if v else "·" for v in row) for row in grid]
        head = f"{p}^({L}) {'×'.join(map(str, s.shape))}: "
        lines.append(head + rows[0])
        lines += [" " * len(head) + row for row in rows[1:]]
        if bad.any() and p == "W" and bad.ndim == 2:
            full_rows = [int(i) for i in np.flatnonzero(bad.all(axis=1))]
            full_cols = [int(j) for j in np.flatnonzero(bad.all(axis=0))]
            if 0 < len(full_rows) < bad.shape[0] and bad[full_rows].sum() == bad.sum():
                lines.append(" " * len(head) + f"(only rows {full_rows}: units {[i + 1 for i in full_rows]} of "
                                                f"layer {L + 1}, i.e. their δ ⊙ σ' entries)")
            elif 0 < len(full_cols) < bad.shape[1] and bad[:, full_cols].sum() == bad.sum():
                lines.append(" " * len(head) + f"(only columns {full_cols}: units {[j + 1 for j in full_cols]} "
                                                f"of layer {L}, i.e. their activations a^({L}))")
    return "\n".join(lines)


CLEAR_MAJORITY = 0.75
"""A partial fit is shown as "closest catalogue entry" only when it matches at least this share of the cases
with gradients and of the failing ones among them."""


def closest_entries(fits: Sequence[Fit], obs: Sequence[Observation], top: int = 1) -> list[str]:
    """Evidence lines for the entries that fit a clear majority of the cases with gradients (the cases where the
    subject raised or returned wrong shapes have no values to fit and are left out)."""
    valid = sum(not ob.invalid for ob in obs)
    n_wrong = sum(bool(ob.wrong) and not ob.invalid for ob in obs)
    if not n_wrong:
        return []
    scored = [(f, f.consistent - f.invalid_explained) for f in fits]
    clear = [(f, c) for f, c in scored if c >= CLEAR_MAJORITY * valid and f.wrong_explained >= CLEAR_MAJORITY * n_wrong]
    clear.sort(key=lambda fc: (-fc[0].wrong_explained, -fc[1]))
    return [f"closest catalogue entry: '{f.hypothesis.title}' explains {f.wrong_explained} of the {n_wrong} failing "
            f"cases with gradients ({100 * f.wrong_explained // n_wrong}%) and matches {c} of all {valid}"
            for f, c in clear[:top]]


APPROXIMATE_RTOL = 1e-4
"""Relative deviation (to each array's largest entry) below which wrong gradients count as approximate."""

FLOAT16_RTOL = 1e-2
"""The same for gradients returned as float16 arrays (about 3 significant digits, less after accumulation)."""


def _approximate(obs: Sequence[Observation]) -> Diagnosis | None:
    """The "approximate" diagnosis when every failing case has gradients, each within APPROXIMATE_RTOL of the
    oracle's: the method is right, its arithmetic is not exact enough."""
    failing = [ob for ob in obs if ob.wrong]
    if not failing or any(ob.invalid for ob in failing):
        return None
    devs = [deviation(ob.reference, ob.subject) for ob in failing]
    worst = max(rel for _, rel in devs)
    half = all(ob.returned_dtype == "float16" for ob in failing)
    if not worst <= (FLOAT16_RTOL if half else APPROXIMATE_RTOL):
        return None
    grouping, rows = layer_summary(obs)
    ev = [f"on all {len(failing)} failing cases the gradients are within {worst:.2g} (relative to each array's "
          f"largest entry) of the oracle's, max |error| {max(ab for ab, _ in devs):.2g}: right to about "
          f"{max(0, int(-np.log10(max(worst, 1e-17))))} digits, but beyond the rounding error of a "
          f"{failing[0].case.dtype} backprop"]
    low = {ob.returned_dtype for ob in failing} - {None, failing[0].case.dtype}
    if low:
        ev.append(f"the subject returned {' and '.join(sorted(low))} arrays in a {failing[0].case.dtype} check: "
                  f"{'about 3 significant digits' if half else 'about 7 significant digits'} is all they hold")
    ev += _layer_lines(rows)
    return Diagnosis("approximate", "approximate gradients: small errors beyond rounding",
                     "look for arithmetic less exact than the declared dtype: float16 or float32 arrays, "
                     "accumulators or constants in a "
                     "float64 check (declare --dtype float32 if float32 is meant), finite differences or "
                     "another approximation instead of the backward pass, rounded intermediate values, or a "
                     "formula that loses digits to cancellation (tanh as 2σ(2z) − 1 or σ as ½(1 + tanh(z/2)) near "
                     "z = 0: use np.tanh and 1/(1 + e^−z))",
                     ev, "all", len(obs), len(failing), max(ab for ab, _ in devs), worst, [], rows)


def _smallest_pattern(failing: Sequence[Observation]) -> str | None:
    """The ✗/· grid of the smallest failing case with gradients (the first of the smallest, in the given order)."""
    smallest = min((ob for ob in failing if not ob.invalid), key=lambda ob: (
        ob.case.arch.depth, ob.case.arch.n_params, ob.case.x.size), default=None)
    if smallest is None:
        return None
    widths = list(smallest.case.arch.widths)
    batch = f", batch {smallest.case.x.shape[1]}" if smallest.case.batched else ""
    return (f"smallest failing case among the diagnosis' cases (not always the minimal case above), widths "
            f"{widths}{batch} (✗ wrong, · right):\n" + entry_pattern(smallest))


def diagnose(observations: Sequence[Observation], *, hypotheses: Sequence[Hypothesis] | None = None
             ) -> Diagnosis | None:
    """The catalogue entry that fits every observation, or "unrecognised"; None when nothing failed."""
    obs = list(observations)
    failing = [ob for ob in obs if ob.wrong]
    if not failing:
        return None
    candidates = list(hypotheses) if hypotheses is not None else (SHAPE_HYPOTHESES + MUTATIONS
                                                                   + _factor_hypotheses(obs) + _decay_hypotheses(obs)
                                                                   + _param_batch_hypotheses(obs))
    fits = [test_hypothesis(h, obs) for h in candidates]
    arrays = any(ob.returned is not None for ob in failing)  # a mistake judged on raises needs some arrays too
    good = [f for f in fits if f.fits and (f.wrong_explained or f.invalid_explained)
            and (arrays or not f.hypothesis.explains_raises)]
    grouping, rows = layer_summary(obs)
    n_wrong = sum(not ob.invalid for ob in failing)
    n_invalid = sum(ob.invalid for ob in failing)
    n_right = len(obs) - len(failing)
    layer_lines = _layer_lines(rows)
    if good:
        best = good[0]
        h = best.hypothesis
        parts = [f"on all {n_wrong} failing case{'s' if n_wrong != 1 else ''}"]
        if n_right:
            parts.append(f"and the {n_right} passing one{'s' if n_right != 1 else ''}")
        ev = [f"the subject's gradients equal those of a backprop with this mistake {' '.join(parts)}, "
              f"max deviation {best.max_abs:.2g} (relative {best.max_rel:.2g})" if n_wrong else
              "the subject returned no usable gradients on any failing case"]
        shown = sum(ob.invalid and ob.returned is not None for ob in failing)
        if n_invalid and h.explains is not None and shown:
            ev.append(f"on the {shown} case{'s' if shown != 1 else ''} where the subject returned arrays of the wrong "
                      f"shapes, {h.explains_text}")
            if n_invalid > shown:
                ev.append(f"on the {n_invalid - shown} other case{'s' if n_invalid - shown != 1 else ''} it raised "
                          "or returned something that is not arrays, where this mistake cannot run either")
        elif n_invalid:
            ev.append(f"on the {n_invalid} case{'s' if n_invalid != 1 else ''} where the subject raised or returned "
                      "wrong shapes, this mistake makes the shapes not fit either")
        ev += layer_lines
        near = sorted((f for f in fits if not f.fits and f.hypothesis is not h and f.wrong_explained),
                      key=lambda f: -f.consistent)[:1]  # only a contrast on the values: one that explains some
        for f in near:
            ev.append(f"next best: '{f.hypothesis.title}' fits only {f.consistent} of {f.total} cases")
        also = []
        for f in good[1:]:
            if f.hypothesis.title not in also and f.hypothesis.title != h.title:
                also.append(f.hypothesis.title)
        return Diagnosis(h.key, h.title, h.fix, ev, h.scope, len(obs), len(failing), best.max_abs, best.max_rel,
                         also[:4], rows)
    pattern = _smallest_pattern(failing)
    approx = _approximate(obs)
    if approx is not None:
        approx.pattern = pattern
        return approx
    ev = layer_lines[:]
    ev += closest_entries(fits, obs)
    wrong_layers = [st["layer"] for st in rows if st["wrong"]]
    if wrong_layers:
        title = "no catalogued mistake fits every case; wrong: " + ", ".join(wrong_layers)
    else:
        title = f"no catalogued mistake fits; the subject raised or returned wrong shapes on {n_invalid} cases"
    fix = ("compare your code with manualbp/network.py step by step on the reproducer below; the first wrong layer "
           "going backwards is where the bug enters" if n_wrong else
           "run the reproducer below to see where your function raises or what it returns, and check the declared "
           "convention (--layout, --batch, --returns) against your function's arguments and return statement")
    return Diagnosis("unrecognised", title, fix,
                     ev, "all", len(obs), len(failing), None, None, [], rows, pattern)
