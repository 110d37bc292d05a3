"""What the symbols mean: notation conventions, the network instance, and the evaluator.

A document's notation is summarised by a :class:`Convention`: which layer
number the input has (1 as in the seed, 0 as in W^{[l]} notation), which W
index maps the input onward (W^{(L)}: L→L+1 in the seed, W^{[l]}: l−1→l), and
whether δ means ∂C/∂a (the seed) or ∂C/∂z.  An :class:`Instance` is a concrete
network (the worked example, or a random one) whose values manualbp computes;
:func:`evaluate` gives any expression's value on it, with partial derivatives
taken by complex step through the network's own graph (∂X/∂Y perturbs node Y
and recomputes everything downstream of it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from manualbp import Case, backward, forward, get_cost

from .augmented import DECORATIONS as AUG_DECORATIONS
from .augmented import Augmentation
from .named import entry as named_entry
from .named import is_named_instance, named_derivative, named_symbol, named_value
from .named import sym_key as named_key
from .tree import (
    Apply,
    BinOp,
    Deriv,
    Empty,
    Frac,
    Index,
    IndexRange,
    Matrix,
    Missing,
    Neg,
    Node,
    Norm,
    Num,
    Paren,
    Pow,
    Sum,
    Sym,
    Transpose,
)

H = 1e-20  # complex-step size
COST_NAMES = {"C", "J", "E", "L"}  # \mathcal{C}, C, J, E (and \mathcal{L})
NETWORK = {"a": "a", "A": "a", "z": "z", "Z": "z", "w": "w", "W": "w", "b": "b", "y": "y", "x": "x",
           "delta": "delta", "n": "n", "X": "x", "Y": "y"}
PREDICTION_FONTS = ("hat", "tilde")  # ŷ: the prediction, a^{(N)}, not the target y
D_PREFIX = "d-prefix"  # the font of the cost in Ng's dZ^{[l]} (read as ∂C/∂Z^{[l]})
ONES = "ones"  # \mathbf{1}: a vector of ones as long as the batch
BATCH_SIZE = "m"  # m: the number of samples in the batch (when nothing else binds it)


class EvalError(Exception):
    """The expression cannot be evaluated: kind is shape, range, unbound, unsupported or missing."""

    def __init__(self, kind: str, message: str, node: Node | None = None):
        super().__init__(message)
        self.kind = kind
        self.node = node


@dataclass(frozen=True)
class Convention:
    """How the document numbers layers and what δ means."""

    base: int = 1  # doc layer number of the input
    wmin: int = 1  # doc index of the first W (maps the input onward)
    delta: str = "a"  # δ = ∂C/∂a ("a") or ∂C/∂z ("z")
    named: bool = False  # no layer numbers: the document names its quantities (u = x W_1 + b_1, h = tanh(u))
    per_sample: bool = False  # Ng's dZ, dA over a batch: each sample's own gradient, m ∂J/∂Z (dW stays ∂J/∂W)
    augmented: Augmentation | None = None  # biases folded into the weights (W^{(l)} ã^{(l-1)})

    def layer(self, doc: int) -> int:
        """Internal layer (1 = input) of a doc layer number for a, z, δ, n."""
        return doc - self.base + 1

    def weight(self, doc: int) -> int:
        """Internal index of W^(doc), b^(doc) (internal W^(k) maps layer k to k+1)."""
        return doc - self.wmin + 1

    def describe(self) -> str:
        if self.named:
            return "quantities named by the document (its own forward definitions, its own shapes)"
        kind = "W^(L) maps layer L to L+1" if self.wmin == self.base else "W^(l) maps layer l-1 to l"
        per = "; dZ, dA are per sample (m ∂C/∂Z)" if self.per_sample else ""
        aug = f"; {self.augmented.describe()}" if self.augmented is not None else ""
        return f"input is layer {self.base}; {kind}; δ = ∂C/∂{self.delta}{per}{aug}"


# ----------------------------------------------------------------- complex-safe activations and costs

def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


ACT = {
    "sigmoid": (_sig, lambda z: _sig(z) * (1 - _sig(z))),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.where(np.real(z) > 0, z, 0 * z), lambda z: np.where(np.real(z) > 0, 1.0, 0.0) + 0 * z),
    "leaky_relu": (lambda z: np.where(np.real(z) > 0, z, 0.01 * z),
                   lambda z: np.where(np.real(z) > 0, 1.0, 0.01) + 0 * z),
    "softplus": (lambda z: np.log(1 + np.exp(z)), _sig),
    "identity": (lambda z: z, lambda z: np.ones_like(z)),
}


def cost_value(name: str, a, y):
    """C(a, y) for one sample (a vector) or the mean over a batch (columns), complex-safe."""
    n = a.shape[0]
    batch = a.shape[1] if a.ndim == 2 else 1
    if name == "half_mse":
        return 0.5 * np.sum((a - y) ** 2) / n / batch
    if name == "half_sse":
        return 0.5 * np.sum((a - y) ** 2) / batch
    if name == "mse":
        return np.sum((a - y) ** 2) / n / batch
    if name == "bce":
        return -np.sum(y * np.log(a) + (1 - y) * np.log(1 - a)) / batch
    raise EvalError("unsupported", f"cost {name!r}")


# ----------------------------------------------------------------- the network instance

@dataclass
class Instance:
    """A network with parameters, input and target; values from manualbp."""

    case: Case
    label: str = ""
    cost_expr: Node | None = None  # the document's own C when it matches no named cost
    vector_weights: frozenset = frozenset()  # W^(k) the document gives as a vector (one unit's weights, w^T h)
    _base: dict = field(default_factory=dict, repr=False)

    @property
    def widths(self) -> tuple[int, ...]:
        return self.case.arch.widths

    @property
    def depth(self) -> int:
        return self.case.arch.depth

    def act(self, L: int) -> str:
        """Activation name of internal layer L (2..N)."""
        acts = self.case.arch.activations
        return acts[min(max(L, 2), self.depth) - 2]

    def base(self) -> dict:
        """a, z, δ (∂C/∂a), ∂C/∂z, C from manualbp (complex arrays)."""
        if not self._base:
            case = self.case
            fwd = forward(case)
            bwd = backward(case, fwd)
            N = self.depth
            dz = {L + 1: bwd.dC_db[L] for L in bwd.dC_db}
            if case.batched:  # ∂C/∂z per sample (dC_db sums the columns)
                dz = {L: np.asarray(bwd.delta[L]) * np.asarray(bwd.sigma_prime[L]) for L in bwd.sigma_prime}
                fused = get_cost(case.arch.cost).fused_grad_z(np.asarray(fwd.a[N]), np.asarray(case.y))
                if fused is not None:
                    dz[N] = fused
            self._base = {
                "a": {L: np.asarray(v, complex) for L, v in fwd.a.items()},
                "z": {L: np.asarray(v, complex) for L, v in fwd.z.items()},
                "da": {L: np.asarray(v, complex) for L, v in bwd.delta.items()},
                "dz": {L: np.asarray(v, complex) for L, v in dz.items()},
                "C": complex(fwd.cost),
                "N": N,
            }
        return self._base

    def run(self, overrides: dict) -> dict:
        """Forward pass with nodes perturbed: overrides[(kind, L, entry)] = complex increment."""
        N = self.depth
        W = [np.asarray(w, complex).copy() for w in self.case.weights]
        b = [np.asarray(v, complex).copy() for v in self.case.biases]
        x = np.asarray(self.case.x, complex).copy()
        for (kind, L, entry), dv in overrides.items():
            if kind == "w":
                W[L - 1][(0, *entry) if len(entry) == 1 else entry] += dv  # one unit's weight vector: its row
            elif kind == "b":
                b[L - 1][entry] += dv
            elif kind == "x":
                x[entry] += dv
        a = {1: x}
        if ("a", 1) in {(k, L) for k, L, _ in overrides}:
            a[1] = a[1].copy()
            for (kind, L, entry), dv in overrides.items():
                if kind == "a" and L == 1:
                    a[1][entry] += dv
        z: dict[int, np.ndarray] = {}
        for L in range(1, N):
            zz = W[L - 1] @ a[L] + (b[L - 1][:, None] if a[L].ndim == 2 else b[L - 1])
            for (kind, LL, entry), dv in overrides.items():
                if kind == "z" and LL == L + 1:
                    zz[entry] += dv
            z[L + 1] = zz
            f = ACT[self.act(L + 1)][0] if self.act(L + 1) in ACT else None
            if f is None:
                raise EvalError("unsupported", f"activation {self.act(L + 1)!r} in derivatives")
            aa = f(zz)
            for (kind, LL, entry), dv in overrides.items():
                if kind == "a" and LL == L + 1:
                    aa = aa.copy()
                    aa[entry] += dv
            a[L + 1] = aa
        return {"a": a, "z": z, "W": W, "b": b, "x": x}


def output_activation(cost: str) -> str | None:
    """The output activation a cost needs (sigmoid for cross-entropy on sigmoid outputs), else None."""
    return {"bce": "sigmoid", "softmax_ce": "softmax"}.get(cost)


def make_instance(widths, *, activation: str = "sigmoid", cost: str = "half_mse", seed: int = 0,
                  label: str = "", batch: int | None = None, activations: tuple[str, ...] | None = None) -> Instance:
    """A random instance with the given widths (weights N(0, 0.8²), targets in (0.1, 0.9)); with ``batch``,
    x and y have that many columns; ``activations`` (one per layer after the input) overrides ``activation``."""
    rng = np.random.default_rng(seed)
    Ws = [rng.normal(0, 0.8, (m, n)) for n, m in zip(widths[:-1], widths[1:])]
    bs = [rng.normal(0, 0.5, m) for m in widths[1:]]
    cols = () if batch is None else (batch,)
    x = rng.normal(0, 1, (widths[0], *cols))
    y = rng.uniform(0.1, 0.9, (widths[-1], *cols))
    cost_name = cost if cost in ("half_mse", "half_sse", "mse", "bce") else "half_mse"
    output = output_activation(cost_name)
    case = Case.create(Ws, bs, x, y, activations=activations, hidden=activation, output=output, cost=cost_name,
                       label=label or f"random {widths}")
    return Instance(case, label or f"random {list(widths)}")


# ----------------------------------------------------------------- evaluation

@dataclass
class Env:
    """Everything an expression's value depends on."""

    inst: Instance
    conv: Convention
    assign: dict[str, int] = field(default_factory=dict)
    scalars: dict[str, complex] = field(default_factory=dict)
    overrides: dict = field(default_factory=dict)
    cost: str = "half_mse"
    symbol_alias: dict[str, str] = field(default_factory=dict)  # e.g. c -> C after a notation finding
    output_letter: str | None = None  # "L" when the document's L is the output layer (a fixed number)
    named_cache: dict = field(default_factory=dict, repr=False)  # named quantities' values (named documents)
    _run: dict | None = field(default=None, repr=False)
    memo: dict | None = field(default=None, repr=False)  # id(node) -> (node, value) when enabled
    sigma: str | None = None  # the function σ denotes when the document fixes it; None: each layer's own
    constants: dict[str, complex] = field(default_factory=dict)  # N = 1: numbers the document gives a letter
    euler: bool = True  # a bare e is Euler's number (False: the document defines its own e)

    def with_assign(self, **kw) -> Env:
        return Env(self.inst, self.conv, {**self.assign, **kw}, self.scalars, self.overrides, self.cost,
                   self.symbol_alias, self.output_letter, self.named_cache, sigma=self.sigma, constants=self.constants,
                   euler=self.euler)

    def perturbed(self, key, dv) -> Env:
        if key[0] == "scalar":
            sc = dict(self.scalars)
            sc[key[1]] = sc[key[1]] + dv
            return Env(self.inst, self.conv, self.assign, sc, self.overrides, self.cost, self.symbol_alias,
                       self.output_letter, sigma=self.sigma, constants=self.constants,
                   euler=self.euler)
        ov = dict(self.overrides)
        ov[key] = ov.get(key, 0) + dv
        return Env(self.inst, self.conv, self.assign, self.scalars, ov, self.cost, self.symbol_alias,
                   self.output_letter, sigma=self.sigma, constants=self.constants,
                   euler=self.euler)

    def net(self) -> dict:
        if self._run is None:
            if not self.overrides:
                base = self.inst.base()
                self._run = {"a": base["a"], "z": base["z"],
                             "W": [np.asarray(w, complex) for w in self.inst.case.weights],
                             "b": [np.asarray(v, complex) for v in self.inst.case.biases],
                             "x": np.asarray(self.inst.case.x, complex)}
            else:
                self._run = self.inst.run(self.overrides)
        return self._run

    def cost_value(self):
        N = self.inst.depth
        net = self.net()
        if self.inst.cost_expr is not None:
            return evaluate(self.inst.cost_expr, self)
        if not self.overrides:
            return np.asarray(self.inst.base()["C"])
        return np.asarray(cost_value(self.cost, net["a"][N], np.asarray(self.inst.case.y, complex)))


def _int(node: Node, env: Env) -> int:
    v = evaluate(node, env)
    if v.ndim != 0:
        raise EvalError("shape", "an index must be a number", node)
    r = float(np.real(v))
    if abs(r - round(r)) > 1e-9:
        raise EvalError("range", f"index {r} is not an integer", node)
    return int(round(r))


def sym_kind(s: Sym) -> str | None:
    """The network quantity a symbol names: a, z, w, b, y, x, delta, n, C, or None."""
    if s.name in COST_NAMES and not s.sub and s.layer is None and (s.name == "C" or s.font == "mathcal"
                                                                   or s.name in ("J", "E")):
        return "C"
    if s.name in ("h", "H") and s.layer is not None:
        return "a"  # h^{(1)}: a hidden layer's activations (Goodfellow's notation)
    return NETWORK.get(s.name)


def _entry(arr: np.ndarray, idx: tuple[int, ...], s: Sym, what: str) -> tuple[int, ...]:
    if arr.ndim == 2 and len(idx) == 1 and (arr.shape[0] == 1 or (s.sub and s.sub_span is None)):
        # a^{[2](i)} over a batch (the index written after the layer, not as a subscript): sample i's column
        i = idx[0]
        if not 1 <= i <= arr.shape[1]:
            raise EvalError("range", f"{what}: index {i} is out of range 1..{arr.shape[1]}", s)
        return (0, i - 1) if arr.shape[0] == 1 else (slice(None), i - 1)
    if len(idx) != arr.ndim:
        raise EvalError("shape", f"{what} takes {arr.ndim} index(es), got {len(idx)}", s)
    for i, n in zip(idx, arr.shape):
        if not 1 <= i <= n:
            raise EvalError("range", f"{what}: index {i} is out of range 1..{n}", s)
    return tuple(i - 1 for i in idx)


def address(s: Sym, env: Env):
    """(kind, internal layer, entry or None, array) of a network symbol."""
    kind = sym_kind(s)
    if kind is None:
        raise EvalError("unbound", f"symbol {s.name!r} has no meaning here", s)
    N = env.inst.depth
    if kind == "y" and s.font in PREDICTION_FONTS and s.layer is None:  # ŷ: the network's output a^{(N)}
        arr = env.net()["a"][N]
        idx = tuple(_int(i, env) for i in s.sub)
        return "a", N, (_entry(arr, idx, s, "ŷ") if idx else None), arr
    idx = tuple(_int(i, env) for i in s.sub)
    if kind in ("a", "z", "delta"):
        if s.layer is None:
            raise EvalError("unbound", f"{s.name} without a layer", s)
        L = env.conv.layer(_int(s.layer, env))
        lo = 2 if kind == "z" or (kind == "delta" and env.conv.delta == "z") else 1
        if not lo <= L <= N:
            raise EvalError("layer", f"{s.name}: layer {_int(s.layer, env)} does not exist", s)
        if kind == "delta":
            arr = env.inst.base()["da" if env.conv.delta == "a" else "dz"][L]
            if env.overrides:
                raise EvalError("unsupported", "δ inside a derivative", s)
        else:
            arr = env.net()[kind][L]
        aug = env.conv.augmented
        if aug is not None and kind == "a" and (aug.is_augmented_vector(s) or (idx and aug.zero_based)):
            arr, kind, idx = aug.vector(arr, s), "a~", aug.index(idx)  # ã^{(l)}, a^{(l)}_0 = 1: a with its 1
        return kind, L, (_entry(arr, idx, s, s.name) if idx else None), arr
    if kind in ("w", "b"):
        if s.layer is None:
            raise EvalError("unbound", f"{s.name} without a layer", s)
        k = env.conv.weight(_int(s.layer, env))
        if not 1 <= k <= N - 1:
            raise EvalError("layer", f"{s.name}: layer {_int(s.layer, env)} does not exist", s)
        arr = env.net()["W" if kind == "w" else "b"][k - 1]
        aug = env.conv.augmented
        if kind == "w" and aug is not None and aug.is_augmented_weight(_decoration(s)):
            arr, kind, idx = aug.matrix(arr, env.net()["b"][k - 1], s), "w~", aug.index(idx)  # W = [W b]
        elif kind == "w" and k in env.inst.vector_weights and arr.shape[0] == 1:
            arr = arr[0]  # w^{(2)} = (0.7, -0.5)^T: the one output unit's weights, the column the document means
        return kind, k, (_entry(arr, idx, s, s.name) if idx else None), arr
    if kind in ("x", "y") and s.layer is not None:
        if not s.sub and kind == "y" and np.ndim(env.inst.case.y) == 2:  # y^{(i)}: sample i's whole column
            arr = np.asarray(env.inst.case.y, complex)
            i = _int(s.layer, env)
            if not 1 <= i <= arr.shape[1]:
                raise EvalError("range", f"y^({i}): sample {i} is out of range 1..{arr.shape[1]}", s)
            col = arr[:, i - 1]
            return kind, 0, None, (col[0] if col.size == 1 else col)
        idx = idx + (_int(s.layer, env),)  # y_k^{(i)}: the sample's column of a batch
    if kind == "y":
        arr = np.asarray(env.inst.case.y, complex)
        return kind, 0, (_entry(arr, idx, s, "y") if idx else None), arr
    if kind == "x":
        arr = env.net()["x"]
        aug = env.conv.augmented
        if aug is not None and (aug.is_augmented_vector(s) or (idx and aug.zero_based)):
            arr, kind, idx = aug.vector(arr, s), "x~", aug.index(idx)  # x̂ = [x; 1], x_0 = 1
        return kind, 1, (_entry(arr, idx, s, "x") if idx else None), arr
    raise EvalError("unsupported", f"no address for {s.name}", s)


def _decoration(s: Sym) -> Sym:
    """The symbol with only a decoration for its font (bold W is W)."""
    return s if s.font in AUG_DECORATIONS or not s.font else Sym(s.name, s.sub, s.layer, s.layer_style,
                                                                 s.transpose, s.prime, "", span=s.span)


def evaluate(node: Node, env: Env) -> np.ndarray:
    """The value of an expression (complex ndarray: 0-d scalar, (n,) column, (m, n) matrix)."""
    memo = env.memo
    if memo is None or env.overrides:
        return _evaluate(node, env)
    hit = memo.get(id(node))
    if hit is not None and hit[0] is node:
        if isinstance(hit[1], EvalError):
            raise hit[1]
        return hit[1]
    try:
        v = _evaluate(node, env)
    except EvalError as exc:
        memo[id(node)] = (node, exc)
        raise
    memo[id(node)] = (node, v)
    return v


def _evaluate(node: Node, env: Env) -> np.ndarray:
    if isinstance(node, Num):
        return np.asarray(node.value, complex)
    if isinstance(node, Sym):
        return _eval_sym(node, env)
    if isinstance(node, Paren):
        return evaluate(node.x, env)
    if isinstance(node, Neg):
        return -evaluate(node.x, env)
    if isinstance(node, BinOp):
        return _eval_binop(node, env)
    if isinstance(node, Frac):
        n, d = evaluate(node.num, env), evaluate(node.den, env)
        if d.ndim != 0:
            raise EvalError("shape", "division by a non-scalar", node)
        return divide(n, d, node)
    if isinstance(node, Pow):
        b, e = evaluate(node.base, env), evaluate(node.exp, env)
        if e.ndim != 0:
            raise EvalError("shape", "a non-scalar exponent", node)
        if abs(np.real(e) - round(float(np.real(e)))) > 1e-12 and np.any(np.real(b) < 0):
            raise EvalError("domain", f"a fractional power of a negative number ({_fmt_real(b)})", node)
        return b ** e
    if isinstance(node, Transpose):
        return transpose(evaluate(node.x, env))
    if isinstance(node, Apply):
        return _eval_apply(node, env)
    if isinstance(node, Deriv):
        if node.num is None:
            raise EvalError("missing", "∂/∂x applied to nothing", node)
        return derivative(node.num, node.var, env, node)
    if isinstance(node, Index):
        return named_entry(evaluate(node.x, env), tuple(_int(i, env) for i in node.idx), node)
    if isinstance(node, Norm):
        v = evaluate(node.x, env)
        return np.sqrt(np.sum(v * v)) if v.ndim else np.sqrt(v * v)  # analytic: complex step stays valid
    if isinstance(node, Sum):
        lo = _int(node.lo, env)
        hi = index_extent(node.body, node.var, env) if isinstance(node.hi, IndexRange) else _int(node.hi, env)
        total = None
        for v in range(lo, hi + 1):
            term = evaluate(node.body, env.with_assign(**{node.var: v}))
            total = term if total is None else add(total, term, node)
        if total is None:
            return np.asarray(0, complex)
        return total
    if isinstance(node, Matrix):
        return _eval_matrix(node, env)
    if isinstance(node, (Missing, Empty)):
        raise EvalError("missing", getattr(node, "reason", "") or "an empty expression", node)
    raise EvalError("unsupported", type(node).__name__, node)


def index_extent(body: Node, var: str, env: Env) -> int:
    """How far the index ``var`` runs where ``body`` uses it as a subscript (\\sum_k without limits)."""
    named = is_named_instance(env.inst)
    for n in body.walk():
        if not isinstance(n, Sym) or (not named and sym_kind(n) in (None, "C", "n")):
            continue
        for pos, idx in enumerate(n.sub):
            if isinstance(idx, Sym) and idx.name == var and not idx.sub:
                bare = Sym(n.name, (), n.layer, n.layer_style, False, n.prime, n.font, span=n.span)
                if named:
                    key = named_key(Sym(n.name, font=n.font))
                    if not env.inst.graph.knows(key):
                        continue
                    arr = named_value(key, env)
                    arr = arr.reshape(-1) if arr.ndim == 2 and 1 in arr.shape and len(n.sub) == 1 else arr
                else:
                    arr = address(bare, env)[3]
                if pos < arr.ndim:
                    return int(arr.shape[pos])
    raise EvalError("unsupported", f"the sum over {var} has no limits and {var} indexes nothing in it", body)


def transpose(v: np.ndarray) -> np.ndarray:
    if v.ndim == 0:
        return v
    if v.ndim == 1:
        return v[None, :]
    if v.shape[0] == 1:
        return v[0]
    return v.T


def squeeze1(v: np.ndarray) -> np.ndarray:
    """A one-entry vector or 1×1 matrix as a scalar (a 1-wide layer's values are numbers)."""
    return v.reshape(()) if v.size == 1 and v.ndim > 0 else v


def add(a, b, node):
    a, b = squeeze1(a), squeeze1(b)
    if a.ndim == 0 or b.ndim == 0:
        return a + b  # 1 − σ(z): a scalar broadcast over a vector, as the notation means it
    if a.shape != b.shape:
        a, b = _batch_broadcast(a, b), _batch_broadcast(b, a)
        if a.shape != b.shape:
            raise EvalError("shape", f"adding shapes {_shape(a)} and {_shape(b)}", node)
    return a + b


def _batch_broadcast(v: np.ndarray, batch: np.ndarray) -> np.ndarray:
    """A bias added to a batch, as numpy broadcasts it: an n-vector to every column of an n×m batch, a 1×n row
    to every row of an m×n batch (X W + b with one sample per row)."""
    if batch.ndim != 2 or v.shape == batch.shape:
        return v
    if v.ndim == 1 and v.shape[0] == batch.shape[0]:
        return np.repeat(v[:, None], batch.shape[1], axis=1)
    if v.ndim == 2 and v.shape == (1, batch.shape[1]):
        return np.repeat(v, batch.shape[0], axis=0)
    return v


def _shape(v) -> str:
    if v.ndim == 0:
        return "scalar"
    if v.ndim == 1:
        return f"{v.shape[0]}-vector"
    return f"{v.shape[0]}×{v.shape[1]} matrix"


def shape_text(v) -> str:
    """'scalar', 'n-vector' or 'm×n matrix'."""
    return _shape(v)


def multiply(a, b, op: str, node) -> np.ndarray:
    if a.size == 1 and a.ndim == 1:
        a = a.reshape(())
    if b.size == 1 and b.ndim == 1:
        b = b.reshape(())
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if op == "otimes" and a.ndim == 1 and b.ndim == 1:
        return np.outer(a, b)  # δ ⊗ a: the outer product δ aᵀ
    if op == "odot":
        if a.shape != b.shape:
            raise EvalError("shape", f"⊙ of shapes {_shape(a)} and {_shape(b)}", node)
        return a * b
    if a.ndim == 1 and b.ndim == 2 and b.shape[0] == 1:
        return np.outer(a, b[0])
    if a.ndim == 2 and b.ndim == 1:
        if a.shape[1] != b.shape[0]:
            raise EvalError("shape", f"a {_shape(a)} times a {_shape(b)}", node)
        r = a @ b
        return r
    if a.ndim == 2 and b.ndim == 2:
        if a.shape[1] != b.shape[0]:
            raise EvalError("shape", f"a {_shape(a)} times a {_shape(b)}", node)
        r = a @ b
        if r.shape == (1, 1):
            return r[0, 0]
        if r.shape[1] == 1:
            return r[:, 0]
        return r
    raise EvalError("shape", f"a {_shape(a)} times a {_shape(b)}", node)


def _eval_binop(node: BinOp, env: Env) -> np.ndarray:
    if node.op == "mul" and isinstance(node.left, Deriv) and node.left.num is None:
        return derivative(node.right, node.left.var, env, node)
    a = evaluate(node.left, env)
    b = evaluate(node.right, env)
    if node.op == "+":
        return add(a, b, node)
    if node.op == "-":
        return add(a, -b, node)
    if node.op == "div":
        return divide(a, b, node)
    return multiply(a, b, node.op, node)


def _act_for(arg: Node, env: Env, fn: str = "sigma") -> str:
    """The activation σ means here: the layer's own for σ(z^{(l)}); for σ(t) of a free variable the logistic
    function when some layer is logistic (tanh hidden, sigmoid output), else the hidden layers' activation."""
    if env.sigma is not None and fn.startswith("sigma"):
        return env.sigma
    inner = arg.x if isinstance(arg, Paren) else arg
    if isinstance(inner, Sym) and sym_kind(inner) == "z" and inner.layer is not None:
        try:
            return env.inst.act(env.conv.layer(_int(inner.layer, env)))
        except EvalError:
            pass
    if is_named_instance(env.inst):
        return "sigmoid"  # σ in a document that names its quantities: the logistic function
    if fn.startswith("sigma") and "sigmoid" in env.inst.case.arch.activations:
        return "sigmoid"
    return env.inst.act(2)


def _eval_apply(node: Apply, env: Env) -> np.ndarray:
    fn = node.fn
    if fn in ("max", "min") and isinstance(node.arg, Matrix) and len(node.arg.rows) == 1:
        return _extremum(fn, node.arg.rows[0], env, node)
    v = evaluate(node.arg, env)
    if fn in ("sigma", "sigma'", "phi", "phi'"):
        act = _act_for(node.arg, env, fn)
        if act not in ACT:
            raise EvalError("unsupported", f"activation {act}", node)
        return ACT[act][1 if fn.endswith("'") else 0](v)
    if fn in ("tanh", "tanh'"):
        return ACT["tanh"][1 if fn.endswith("'") else 0](v)
    if fn in ("relu", "relu'"):
        return ACT["relu"][1 if fn.endswith("'") else 0](v)
    if fn == "exp":
        return np.exp(v)
    if fn == "diag":
        if v.ndim != 1:
            raise EvalError("shape", f"diag of a {_shape(v)} (a vector is needed)", node)
        return np.diag(v)
    if fn == "softmax":
        return softmax(v, _class_axis(v, env))
    if fn == "log":
        if np.any(np.real(v) <= 0):
            raise EvalError("domain", "the logarithm of a number ≤ 0 (log is taken of "
                            f"{_fmt_real(v)})", node)
        return np.log(v)
    raise EvalError("unsupported", f"function {fn}", node)


def _extremum(fn: str, args: tuple[Node, ...], env: Env, node: Node) -> np.ndarray:
    """\\max(a, b) or \\min(a, b), entry by entry (a scalar against an array broadcasts: max(0, z) is ReLU)."""
    if len(args) != 2:
        raise EvalError("unsupported", f"{fn} of {len(args)} arguments", node)
    a, b = (evaluate(x, env) for x in args)
    try:
        a, b = np.broadcast_arrays(a, b)
    except ValueError:
        raise EvalError("shape", f"{fn} of a {_shape(a)} and a {_shape(b)}", node) from None
    pick = np.real(a) >= np.real(b) if fn == "max" else np.real(a) <= np.real(b)
    return np.where(pick, a, b)


def softmax(v: np.ndarray, axis: int | None) -> np.ndarray:
    """exp(v) normalised along ``axis`` (the classes of each sample), or over all of v when axis is None."""
    e = np.exp(v - np.max(np.real(v), axis=axis, keepdims=axis is not None))
    return e / np.sum(e, axis=axis, keepdims=axis is not None)


def _class_axis(v: np.ndarray, env: Env) -> int | None:
    """The axis softmax normalises along: none for one sample; for a batch, across each sample's classes
    (along a row when samples are rows, as in X W + b; down a column when they are columns, as in W X + b)."""
    if v.ndim < 2 or 1 in v.shape:
        return None
    if is_named_instance(env.inst):
        return 0 if env.inst.graph.samples_in_rows is False else 1
    return 0  # manualbp's layout: one sample per column


def divide(n: np.ndarray, d: np.ndarray, node: Node) -> np.ndarray:
    """n / d; a zero divisor is an evaluation error, not an infinity carried on."""
    if np.any(np.asarray(d) == 0):
        raise EvalError("domain", "division by zero", node)
    return n / d


def _fmt_real(v: np.ndarray) -> str:
    r = np.real(v)
    return f"{float(r):.4g}" if r.ndim == 0 else np.array2string(r, precision=4, separator=", ")


def _eval_matrix(node: Matrix, env: Env) -> np.ndarray:
    rows = node.rows
    if not rows:
        raise EvalError("missing", "an empty matrix", node)
    lens = {len(r) for r in rows}
    if len(lens) > 1:
        raise EvalError("shape", f"rows of different lengths {[len(r) for r in rows]}", node)
    vals = [[evaluate(c, env) for c in r] for r in rows]
    if len(rows) == 1 and len(rows[0]) == 1:
        return vals[0][0]
    if any(v.ndim != 0 for r in vals for v in r):
        block = _block(vals, node)
        if block is None:
            raise EvalError("shape", "a matrix entry is itself a vector or matrix", node)
        return block
    arr = np.array([[complex(v) for v in r] for r in vals], dtype=complex)
    if arr.shape[1] == 1:
        return arr[:, 0]
    return arr


def _block(vals: list[list[np.ndarray]], node: Matrix) -> np.ndarray | None:
    """A block vector or matrix: [v; 1] and (1, x) stack numbers and vectors into one vector, [W  b] puts matrices
    and columns side by side; None when the blocks do not fit together."""
    if len(vals) == 1 and len(vals[0]) == 1:
        return None
    cells = [v for r in vals for v in r]
    if (len(vals[0]) == 1 or node.env.startswith("row(")) and all(v.ndim <= 1 for v in cells) and (
            len(vals) == 1 or all(len(r) == 1 for r in vals)):
        return np.concatenate([np.atleast_1d(v) for v in cells]).astype(complex)  # [v; 1], (1, x)
    if len(vals) == 1:
        cols = [v.reshape(1, 1) if v.ndim == 0 else v[:, None] if v.ndim == 1 else v for v in cells]
        if len({c.shape[0] for c in cols}) == 1:
            return np.hstack(cols).astype(complex)  # [W  b], [b_2  V_2] with one output unit
    return None


def _eval_sym(s: Sym, env: Env) -> np.ndarray:
    name = env.symbol_alias.get(s.name, s.name)
    if name != s.name:
        s = Sym(name, s.sub, s.layer, s.layer_style, s.transpose, s.prime, s.font, span=s.span)
    if not s.sub and s.layer is None and not s.font:
        if s.name in env.scalars:
            return np.asarray(env.scalars[s.name], complex)
        if s.name in env.assign:
            return np.asarray(env.assign[s.name], complex)
        if s.name == env.output_letter:
            return np.asarray(env.conv.base + env.inst.depth - 1, complex)
        if s.name in env.constants:
            return np.asarray(env.constants[s.name], complex)
        if s.name == "e" and env.euler:
            return np.asarray(np.e, complex)
    if is_named_instance(env.inst):
        return named_symbol(s, env)
    if not s.sub and s.layer is None and not s.font and s.name == BATCH_SIZE and env.inst.case.batched:
        return np.asarray(env.inst.case.x.shape[1], complex)
    if s.name == ONES and s.font:
        return np.ones(env.inst.case.x.shape[1] if env.inst.case.batched else 1, complex)
    kind = sym_kind(s)
    if kind == "C":
        return np.asarray(env.cost_value())
    if kind == "n":
        if len(s.sub) != 1:
            raise EvalError("unbound", "n needs a layer subscript", s)
        L = env.conv.layer(_int(s.sub[0], env))
        if not 1 <= L <= env.inst.depth:
            raise EvalError("layer", f"n_{L}: no such layer", s)
        return np.asarray(env.inst.widths[L - 1], complex)
    if kind is None:
        raise EvalError("unbound", f"symbol {s.name!r} is not defined", s)
    _, _, entry, arr = address(s, env)
    v = arr[entry] if entry is not None else arr
    v = np.asarray(v)
    return transpose(v) if s.transpose else v


def derivative(num: Node, var: Node, env: Env, node: Node) -> np.ndarray:
    """∂num/∂var by complex step through the network (var: a, z, w, b, x or a free scalar)."""
    if env.overrides:
        raise EvalError("unsupported", "a derivative inside a derivative", node)
    var = var.x if isinstance(var, Paren) else var
    if is_named_instance(env.inst) and not (isinstance(var, Sym) and var.name in env.scalars):
        return named_derivative(num, var, env)
    if not isinstance(var, Sym):
        raise EvalError("unsupported", "derivative with respect to an expression", node)
    name = env.symbol_alias.get(var.name, var.name)
    if name in env.scalars and not var.sub and var.layer is None:
        return np.imag(evaluate(num, env.perturbed(("scalar", name), 1j * H))) / H + 0j
    kind, L, entry, arr = address(var, env)
    if kind == "w~":
        return _augmented_weight_derivative(num, var, env, L, entry, arr)
    if kind not in ("a", "z", "w", "b", "x"):
        raise EvalError("unsupported", f"derivative with respect to {var.name}", node)
    if (isinstance(num, Sym) and num.font == D_PREFIX and kind in ("a", "z") and env.conv.per_sample
            and env.inst.case.batched):  # Ng's dZ: the gradient of the summed, not the averaged, cost
        plain = Sym(num.name, span=num.span)
        return env.inst.case.x.shape[1] * derivative(plain, var, env, node)
    if entry is not None and any(isinstance(e, slice) for e in entry):  # a sample's column: ∂C/∂Z^{[l](i)}
        whole = Sym(var.name, (), var.layer, var.layer_style, False, var.prime, var.font, span=var.span)
        return derivative(num, whole, env, node)[entry]
    if entry is not None:
        key = ("x" if kind == "x" else kind, L, entry)
        return np.imag(evaluate(num, env.perturbed(key, 1j * H))) / H + 0j
    out = np.zeros(arr.shape, complex)
    for e in np.ndindex(*arr.shape):
        v = evaluate(num, env.perturbed((kind, L, e), 1j * H))
        if v.ndim != 0:
            raise EvalError("unsupported", "derivative of a vector with respect to a vector", node)
        out[e] = np.imag(v) / H
    return transpose(out) if var.transpose else out


def _augmented_weight_derivative(num: Node, var: Sym, env: Env, L: int, entry, arr: np.ndarray) -> np.ndarray:
    """∂num/∂W^{(l)} of the augmented matrix: each entry of W's columns perturbs W, the bias column's b."""
    aug = env.conv.augmented
    width = env.inst.widths[L - 1]
    cells = [entry] if entry is not None else list(np.ndindex(*arr.shape))
    out = np.zeros(arr.shape, complex)
    for e in cells:
        v = evaluate(num, env.perturbed(aug.entry_key(L, e, width), 1j * H))
        if v.ndim != 0:
            raise EvalError("unsupported", "derivative of a vector with respect to a matrix", var)
        out[e] = np.imag(v) / H
    if entry is not None:
        return out[entry]
    return transpose(out) if var.transpose else out
