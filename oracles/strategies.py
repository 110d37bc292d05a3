"""Hypothesis strategies for manualbp cases: random architectures, parameters, inputs and targets.

Composable and keyword-only, in the spirit of :mod:`hypothesis.extra.numpy`::

    from hypothesis import given
    from oracles import strategies as mst

    @given(mst.cases(architectures=mst.architectures(max_layers=4, dtypes=("float32", "float64"))))
    def test_backprop(case): ...

Every number is drawn through Hypothesis (integers on a dyadic grid, so values are exact in float32
and float64), never from a NumPy generator seeded inside: a failing case shrinks to fewer layers,
narrower widths, a single sample and small grid values (0, ±1/8, ...).

**Well-conditioned by default** (``extreme=False``):

- x on the grid k/8 in [−1, 1]; W^(L) on the grid k/16 with |W| ≤ 2/√n_L (fan-in scaling), b on k/16
  in [−1/2, 1/2];
- every layer's pre-activations are kept in a useful region: a row of W^(L) and its bias are halved
  until |z| ≤ ``max_preactivation`` (4: sigmoid, tanh and softmax are not saturated, FD is
  meaningful) for saturating activations, 16 for the others;
- relu/leaky_relu pre-activations are kept at least ``kink_margin`` (1/8) away from the kink: the bias
  moves along its grid to the nearest value where every sample's |z| ≥ margin;
- targets valid for the cost: bce targets in [0, 1], softmax_ce targets a probability vector.

These repairs are deterministic functions of the drawn values, so shrinking still works.

**Edge cases** (``edge=True``): the well-conditioned case, then, drawn per case and per unit (so that
they shrink away when they do not matter), the numerical edges a correct backprop computed the
derivation's way must survive, finite and accurate:

- relu/leaky_relu units put *exactly* on the kink, one unit or all of a layer's: for one sample the bias
  is set to −W_i a_j when W_i a_j is exact in any summation order (on the grid it is), else the unit is
  made dead (W_i = 0, b_i = 0); either way z = 0 to the last bit however the subject sums;
- sigmoid/tanh units and softmax outputs saturated by a bias shift of +``SATURATION`` (σ(z) = 1 and
  tanh(z) = 1 exactly, a softmax output ≈ 1 and the others ≈ e^−48), and tanh units by −``SATURATION``
  (−1 exactly).  Every shift keeps the derivation's formulas (1/(1 + e^−z), a(1 − a), e^z/Σe^z, with
  numpy or math) finite and accurate.  Not σ downwards: σ(−48) ≈ 1e−21 is exact in 1/(1 + e^−z) but 0 in
  the equally correct ½(1 + tanh(z/2)), a 100 % relative error; and σ(z) = 0 exactly needs z < −745,
  where e^−z overflows (math.exp raises).  Not softplus: it does not saturate upwards, and an output of
  48 feeding the next layer puts its z where log(1 + e^z) written verbatim loses relative accuracy;
- large or small magnitudes: x (and the targets of a non-saturating output) scaled by 2^±``MAGNITUDE``,
  carried through by the biases and bounds of the relu/leaky_relu/identity layers (positively homogeneous);
  the first other layer's weights absorb it (divided by the same power of 2), so its z is as in a
  well-conditioned case while ∂C/∂W of that layer takes the magnitude.

``extreme=True`` instead draws from wide ranges (weights up to ±64, inputs up to ±1e3, general
floats), with no repairs: saturated sigmoids, huge pre-activations and exact relu kinks (z = 0)
appear, and so do overflows that a correct backprop need not survive.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra import numpy as hnp

from manualbp import Architecture, Case
from manualbp.activations import ACTIVATIONS, KINKED
from manualbp.case import FLOAT_DTYPES
from manualbp.costs import COSTS, get_cost

__all__ = [
    "EDGE_LABEL",
    "ELEMENTWISE",
    "SATURATING",
    "architectures",
    "cases",
    "inputs",
    "parameters",
    "targets",
]

ELEMENTWISE = ("sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity")
"""Activations allowed on any layer, in shrinking order (sigmoid, the seed's, first)."""

OUTPUT_ONLY = tuple(n for n, a in ACTIVATIONS.items() if a.output_only)

SATURATING = frozenset({"sigmoid", "tanh", "softmax"})
"""Activations whose derivative vanishes for large |z|."""

GRID = 16
"""Parameters live on the grid k/GRID (inputs on k/8)."""

_LINEAR_BOUND = 16.0

SATURATION = 48.0
"""Bias shift that saturates a unit in edge cases: σ(44) = 1 and tanh(44) = 1 exactly in float32 and float64,
while e^52 is far from overflow (float32 overflows at e^88.7)."""

MAGNITUDE = 24
"""Edge cases scale x by 2^±MAGNITUDE (exact; the gradients stay far from overflow and underflow in float32)."""

EDGE_LABEL = "edge case"
"""The label of the cases drawn with ``edge=True``."""

HOMOGENEOUS = frozenset({"relu", "leaky_relu", "identity"})
"""Activations with σ(c·z) = c·σ(z) for c > 0: a magnitude passes through them."""


def _check_int(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidArgument(f"{name} must be an integer, got {value!r}")
    if value < low:
        raise InvalidArgument(f"{name} must be >= {low}, got {value}")
    return int(value)


def _check_names(name: str, values: Sequence[str] | None, valid: Sequence[str]) -> tuple[str, ...] | None:
    if values is None:
        return None
    if isinstance(values, str):
        raise InvalidArgument(f"{name} must be a sequence of names, not the string {values!r} (use ({values!r},))")
    values = tuple(values)
    if not values:
        raise InvalidArgument(f"{name} must not be empty")
    bad = [v for v in values if v not in valid]
    if bad:
        raise InvalidArgument(f"{name} has unknown or disallowed entries {bad}; valid: {', '.join(valid)}")
    return values


def architectures(
    *,
    min_layers: int = 2,
    max_layers: int = 5,
    min_width: int = 1,
    max_width: int = 8,
    activations: Sequence[str] | None = None,
    output_activations: Sequence[str] | None = None,
    costs: Sequence[str] | None = None,
    dtypes: Sequence[str] = ("float64",),
) -> st.SearchStrategy[Architecture]:
    """Architectures: N layers (input and output included), widths, activations, a cost and a dtype.

    ``activations`` are drawn for hidden layers (default: all elementwise ones); the output activation
    comes from ``output_activations`` (default: elementwise ones and softmax) restricted to those the
    cost accepts (bce needs sigmoid, softmax_ce needs softmax); ``costs`` default to all. Shrinks towards
    ``min_layers`` layers of ``min_width`` units, sigmoid, half_mse and the first dtype.
    """
    min_layers = _check_int("min_layers", min_layers, 2)
    max_layers = _check_int("max_layers", max_layers, 2)
    if min_layers > max_layers:
        raise InvalidArgument(f"min_layers={min_layers} must be <= max_layers={max_layers}")
    min_width = _check_int("min_width", min_width, 1)
    max_width = _check_int("max_width", max_width, 1)
    if min_width > max_width:
        raise InvalidArgument(f"min_width={min_width} must be <= max_width={max_width}")
    hidden = _check_names("activations", activations, ELEMENTWISE) or ELEMENTWISE
    outs = _check_names("output_activations", output_activations, ELEMENTWISE + OUTPUT_ONLY)
    outs = outs or ELEMENTWISE + OUTPUT_ONLY
    cost_names = _check_names("costs", costs, tuple(COSTS)) or tuple(COSTS)
    dtypes = _check_names("dtypes", dtypes, FLOAT_DTYPES)
    allowed = {c: tuple(o for o in outs if get_cost(c).requires_output in (None, o)) for c in cost_names}
    allowed = {c: o for c, o in allowed.items() if o}
    if not allowed:
        raise InvalidArgument(f"no output activation in {list(outs)} is allowed with any cost in {list(cost_names)}"
                              " (bce needs 'sigmoid', softmax_ce needs 'softmax')")
    pairs = st.sampled_from(tuple(allowed)).flatmap(lambda c: st.sampled_from(allowed[c]).map(lambda o: (c, o)))

    layers, width = st.integers(min_layers, max_layers), st.integers(min_width, max_width)
    hidden_st, dtype_st = st.sampled_from(hidden), st.sampled_from(dtypes)  # made once, drawn from per case

    @st.composite
    def draw_arch(draw) -> Architecture:
        n = draw(layers)
        widths = tuple(draw(width) for _ in range(n))
        hid = tuple(draw(hidden_st) for _ in range(n - 2))
        cost, out = draw(pairs)
        dtype = draw(dtype_st)
        return Architecture(widths, (*hid, out), cost, dtype)

    return draw_arch()


_architectures = architectures


@functools.lru_cache(maxsize=4096)
def _grid_array(shape: tuple[int, ...], bound: float, grid: int) -> st.SearchStrategy[np.ndarray]:
    """Arrays of k/grid with |k/grid| <= bound (shrinks to zeros).  Remembered: a strategy object works out
    its properties once, which a new one per draw would repeat."""
    k = max(int(math.floor(bound * grid)), 0)
    return hnp.arrays(np.int64, shape, elements=st.integers(-k, k), fill=st.nothing()).map(lambda a: a / grid)


@functools.lru_cache(maxsize=4096)
def _wide_array(shape: tuple[int, ...], bound: float) -> st.SearchStrategy[np.ndarray]:
    """Arrays mixing grid values and general floats up to ±bound (extreme mode; remembered like _grid_array)."""
    elems = st.one_of(st.integers(-8, 8).map(lambda k: k / 8),
                      st.floats(-bound, bound, allow_nan=False, allow_infinity=False, width=32))
    return hnp.arrays(np.float64, shape, elements=elems, fill=st.nothing())


def _check_batch(batch: int | None) -> int | None:
    if batch is None:
        return None
    return _check_int("batch", batch, 1)


def _width0(arch_or_width: Architecture | int) -> int:
    if isinstance(arch_or_width, Architecture):
        return arch_or_width.widths[0]
    return _check_int("width", arch_or_width, 1)


def inputs(arch_or_width: Architecture | int, *, batch: int | None = None,
           extreme: bool = False) -> st.SearchStrategy[np.ndarray]:
    """Inputs x: a vector (n_1,) when ``batch`` is None, else a batch (n_1, batch), one column per sample.

    Default values k/8 in [−1, 1]; ``extreme=True``: up to ±1e3.
    """
    n = _width0(arch_or_width)
    batch = _check_batch(batch)
    shape = (n,) if batch is None else (n, batch)
    return _wide_array(shape, 1e3) if extreme else _grid_array(shape, 1.0, 8)


def targets(arch: Architecture, *, batch: int | None = None, extreme: bool = False) -> st.SearchStrategy[np.ndarray]:
    """Targets y valid for the architecture's cost (shape (n_N,) or (n_N, batch)).

    half_mse / half_sse / mse: k/8 in [−1, 1] (±1e3 when extreme); bce: k/8 in [0, 1];
    softmax_ce: a probability vector per sample (nonnegative k/Σk; all-zero draws become one-hot e_0).
    """
    if not isinstance(arch, Architecture):
        raise InvalidArgument(f"arch must be a manualbp.Architecture, got {type(arch).__name__}")
    batch = _check_batch(batch)
    n = arch.widths[-1]
    shape = (n,) if batch is None else (n, batch)
    if arch.cost == "bce":
        return hnp.arrays(np.int64, shape, elements=st.integers(0, 8), fill=st.nothing()).map(lambda a: a / 8)
    if arch.cost == "softmax_ce":
        def normalise(k: np.ndarray) -> np.ndarray:
            k = k.astype(np.float64)
            s = k.sum(axis=0)
            k[0, ...] = np.where(s == 0, 1.0, k[0, ...])
            return k / k.sum(axis=0)
        return hnp.arrays(np.int64, shape, elements=st.integers(0, 8), fill=st.nothing()).map(normalise)
    return _wide_array(shape, 1e3) if extreme else _grid_array(shape, 1.0, 8)


def _repair_layer(act: str, W: np.ndarray, b: np.ndarray, a: np.ndarray, *, dtype: str,
                  max_preactivation: float, kink_margin: float,
                  magnitude: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Halve rows of (W, b) until |z| is bounded, then move kinked units' biases off the kink (grid steps).

    ``magnitude`` scales the bound of non-saturating units, the kink margin and the grid steps (edge cases).
    """
    W, b = W.copy(), b.copy()
    bound = max_preactivation if act in SATURATING else max(max_preactivation, _LINEAR_BOUND) * magnitude
    kink_margin *= magnitude
    for i in range(W.shape[0]):
        for _ in range(64):
            z = (W[i].astype(dtype) @ a + b[i].astype(dtype)).astype(np.float64)
            if np.abs(z).max() <= bound:
                break
            W[i] /= 2
            b[i] /= 2
    if act in KINKED and kink_margin > 0:
        step = magnitude / GRID
        for i in range(W.shape[0]):
            zw = (W[i].astype(dtype) @ a).astype(np.float64)
            for j in range(4 * GRID * 64):
                shift = (j + 1) // 2 * step * (1 if j % 2 else -1)
                cand = b[i] + shift
                if np.abs(zw + cand).min() >= kink_margin:
                    b[i] = cand
                    break
    return W, b


_EDGE_ACTIONS = {
    "relu": ("none", "kink", "kink all"), "leaky_relu": ("none", "kink", "kink all"),
    "sigmoid": ("none", "high", "high all"), "tanh": ("none", "high", "low", "high all"),
    "softmax": ("none", "high"),
}
"""What an edge case may do to one unit of a layer (or to all of them), per activation; "none" first, so that
it shrinks away."""


def _draw_edge(draw, act: str, n_out: int, batch: int) -> tuple[str, int, int]:
    """(action, unit, sample) for one layer."""
    actions = _EDGE_ACTIONS.get(act, ("none",))
    what = draw(st.sampled_from(actions)) if len(actions) > 1 else "none"
    if what == "none":
        return what, 0, 0
    return what, draw(st.integers(0, n_out - 1)), draw(st.integers(0, batch - 1))


def _exact_dot(w: np.ndarray, a: np.ndarray, dtype: str) -> bool:
    """Whether w·a is exact in ``dtype`` whatever the order of the sum (with or without fused multiply-adds):
    every product is a multiple of the smallest 2^−e among them, and Σ|products| < 2^(mantissa bits)·2^−e."""
    prods = [Fraction(float(wi)) * Fraction(float(ai)) for wi, ai in zip(w, a)]
    den = max((p.denominator for p in prods), default=1)
    bits = np.finfo(dtype).nmant + 1
    return sum(abs(p) for p in prods) * den < 2**bits


def _draw_plans(draw, arch: Architecture, batch: int) -> list[tuple[str, int, int]]:
    """The edge plan of every layer, drawn from the output layer down: when shrinking drops a layer, the plans
    that remain move down to the layers below (a kink planned for layer 3 of 4 becomes layer 2's of 3)."""
    plans = [_draw_edge(draw, arch.activations[L - 1], arch.widths[L], batch) for L in range(arch.depth - 1, 0, -1)]
    return plans[::-1]


def _edge_layer(plan: tuple[str, int, int], W: np.ndarray, b: np.ndarray, a: np.ndarray,
                dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """(W, b) of one layer with the planned unit(s) put on the kink or saturated (module docstring).

    A kink is z = 0 exactly for sample j when W_i a_j is exact in any summation order (b_i = −W_i a_j), else
    a dead unit (W_i = 0, b_i = 0): a z that is ±1 ulp in another order would make a^(L) differ, not only σ'.
    """
    what, unit, j = plan
    if what == "none":
        return W, b
    W, b = W.copy(), b.copy()
    units = range(W.shape[0]) if what.endswith(" all") else (unit,)
    for i in units:
        if what.startswith("kink"):
            w, col = W[i].astype(dtype), a[:, j]
            if _exact_dot(w, col, dtype):
                b[i] = -float(w @ col)
            else:
                W[i], b[i] = 0.0, 0.0
        else:
            b[i] += -SATURATION if what == "low" else SATURATION
    return W, b


@st.composite
def _draw_params(draw, arch: Architecture, x: np.ndarray, extreme: bool, max_preactivation: float,
                 kink_margin: float, edge: bool = False,
                 magnitude: float = 1.0) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """The draw of :func:`parameters` (defined once: Hypothesis parses a composite's source when it is defined,
    about a millisecond, which a composite defined per case would pay per case).

    ``edge``: edge units (kinks, saturation) put in after each layer's repair, as planned by
    :func:`_draw_plans` (drawn first, so that a failure that needs one shrinks well); ``magnitude``: the scale of x,
    carried by the biases and bounds of each layer whose input still has it (see :data:`HOMOGENEOUS`)."""
    Ws, bs = [], []
    a = x if x.ndim == 2 else x[:, None]
    a = a.astype(arch.dtype)
    plans = _draw_plans(draw, arch, a.shape[1]) if edge and not extreme else None
    for L in range(1, arch.depth):
        n_in, n_out = arch.widths[L - 1], arch.widths[L]
        act = arch.activations[L - 1]
        plan = plans[L - 1] if plans is not None else ("none", 0, 0)
        if extreme:
            W = draw(_wide_array((n_out, n_in), 64.0))
            b = draw(_wide_array((n_out,), 64.0))
        else:
            W = draw(_grid_array((n_out, n_in), 2.0 / math.sqrt(n_in), GRID))
            b = draw(_grid_array((n_out,), 0.5, GRID))
            if act in HOMOGENEOUS:  # z takes the magnitude of the input
                b = b * magnitude
            else:  # the weights absorb it (exactly, a power of 2): z as in a well-conditioned case
                W = W / magnitude
                magnitude = 1.0
            W, b = _repair_layer(act, W, b, a, dtype=arch.dtype, max_preactivation=max_preactivation,
                                 kink_margin=kink_margin, magnitude=magnitude)
            if edge:
                W, b = _edge_layer(plan, W, b, a, arch.dtype)
        W, b = W.astype(arch.dtype), b.astype(arch.dtype)
        Ws.append(W)
        bs.append(b)
        with np.errstate(all="ignore"):
            z = W @ a + b[:, None]
            a = ACTIVATIONS[arch.activations[L - 1]].f(z)
    return tuple(Ws), tuple(bs)


def parameters(
    arch: Architecture,
    x: np.ndarray,
    *,
    extreme: bool = False,
    max_preactivation: float = 4.0,
    kink_margin: float = 0.125,
    edge: bool = False,
    magnitude: float = 1.0,
) -> st.SearchStrategy[tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]]:
    """(weights, biases) for ``arch`` and input ``x``, well-conditioned at x unless ``extreme``.

    W^(L) on k/16 with |W| ≤ 2/√n_L, b^(L) on k/16 in [−1/2, 1/2]; then, layer by layer at x (in the
    architecture's dtype): |z| ≤ ``max_preactivation`` for sigmoid/tanh/softmax (16 otherwise) by halving
    rows, and |z| ≥ ``kink_margin`` for relu/leaky_relu by moving the bias along the grid.  ``edge``: then
    put drawn units on their kink or saturate them (module docstring); ``magnitude``: the scale x was given
    (a power of 2), which the biases, bounds and margin of the homogeneous layers above x take too.
    """
    if not isinstance(arch, Architecture):
        raise InvalidArgument(f"arch must be a manualbp.Architecture, got {type(arch).__name__}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim not in (1, 2) or x.shape[0] != arch.widths[0]:
        raise InvalidArgument(f"x has shape {x.shape}; the architecture's input layer has width {arch.widths[0]}")
    if not (isinstance(max_preactivation, (int, float)) and max_preactivation > 0):
        raise InvalidArgument(f"max_preactivation must be a positive number, got {max_preactivation!r}")
    if not (isinstance(kink_margin, (int, float)) and 0 <= kink_margin < max_preactivation):
        raise InvalidArgument(f"kink_margin must be in [0, max_preactivation), got {kink_margin!r}")
    if not (isinstance(magnitude, (int, float)) and magnitude > 0 and math.log2(magnitude).is_integer()):
        raise InvalidArgument(f"magnitude must be a power of 2, got {magnitude!r}")

    return _draw_params(arch, x, extreme, max_preactivation, kink_margin, bool(edge), float(magnitude))


def cases(
    *,
    architectures: st.SearchStrategy[Architecture] | None = None,
    batch: Sequence[int | None] | st.SearchStrategy[int | None] = (None, 1, 2, 4),
    extreme: bool = False,
    max_preactivation: float = 4.0,
    kink_margin: float = 0.125,
    edge: bool = False,
    label: str | None = None,
) -> st.SearchStrategy[Case]:
    """Whole cases: an architecture, x (single sample when the batch is None, else (n_1, B)), y, W, b.

    ``architectures`` defaults to :func:`architectures`; ``batch`` is a sequence of batch sizes (None =
    one sample as a vector) or a strategy; shrinks towards the first entry. See :func:`parameters` for
    ``extreme``, ``max_preactivation`` and ``kink_margin``.  ``edge=True`` draws edge cases (kinks, saturation,
    magnitudes 2^±MAGNITUDE; see the module docstring), labelled :data:`EDGE_LABEL` unless ``label`` is given
    (default "hypothesis").
    """
    arch_st = architectures if architectures is not None else _architectures()
    if not isinstance(arch_st, st.SearchStrategy):
        raise InvalidArgument(f"architectures must be a SearchStrategy of Architecture, got {arch_st!r}")
    if isinstance(batch, st.SearchStrategy):
        batch_st = batch
    else:
        if isinstance(batch, (int, str)) or batch is None:
            raise InvalidArgument(f"batch must be a sequence of sizes (None for one sample), got {batch!r}")
        sizes = tuple(batch)
        if not sizes:
            raise InvalidArgument("batch must not be empty")
        for s in sizes:
            _check_batch(s)
        batch_st = st.sampled_from(sizes)
    if not isinstance(extreme, bool):
        raise InvalidArgument(f"extreme must be a bool, got {extreme!r}")
    if not isinstance(edge, bool):
        raise InvalidArgument(f"edge must be a bool, got {edge!r}")
    if edge and extreme:
        raise InvalidArgument("edge and extreme cannot be combined (edge cases start from well-conditioned ones)")
    if label is None:
        label = EDGE_LABEL if edge else "hypothesis"
    magnitudes = st.sampled_from((0, MAGNITUDE, -MAGNITUDE))

    @st.composite
    def draw_case(draw) -> Case:
        arch = draw(arch_st)
        if not isinstance(arch, Architecture):
            raise InvalidArgument(f"the architectures strategy drew {arch!r}, not an Architecture")
        B = _check_batch(draw(batch_st))
        x = draw(inputs(arch, batch=B, extreme=extreme))
        y = draw(targets(arch, batch=B, extreme=extreme))
        scale = 2.0 ** draw(magnitudes) if edge else 1.0
        x = x * scale
        if arch.activations[-1] not in SATURATING and arch.cost not in ("bce", "softmax_ce"):
            y = y * scale
        Ws, bs = draw(parameters(arch, x, extreme=extreme, max_preactivation=max_preactivation,
                                 kink_margin=kink_margin, edge=edge, magnitude=scale))
        return Case.from_arch(arch, Ws, bs, x, y, label)

    return draw_case()
