"""Simplify a failing case further than Hypothesis' shrinking did: fewer layers, narrower layers, fewer samples,
simpler numbers, each kept only when the case still fails the same way.

Hypothesis shrinks in its own order and within its own budget, so a reported case can keep a layer of width 3
where width 1 fails too, or the random values of an extra case nobody shrank.  :func:`simplify` first tries
networks of width 1 with a few draws of simple values (:func:`narrow_cases`), then, greedily and in this order,
every candidate one step simpler than the current case (:func:`structural_steps`): a hidden
layer dropped (its two weight matrices multiplied), one layer reduced to a single unit (each unit tried), one
unit removed, one sample removed; then, number by number, 0, the nearest integer and the nearest half
(:func:`_with_value`).  A candidate replaces the current case when ``still_fails`` says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np

from manualbp import Architecture, Case


def simplicity(case: Case) -> tuple:
    """Sort key: fewer layers, narrower, fewer samples, then simpler numbers (fewer printed characters)."""
    arrays = (*case.weights, *case.biases, case.x, case.y)
    digits = sum(len(repr(float(v))) for a in arrays for v in np.ravel(a))
    return (case.arch.depth, case.arch.n_params, case.x.size, digits)


def simplified_label(label: str) -> str:
    """The label of a case simplified from one labelled ``label`` (where it came from stays visible)."""
    if not label or label.endswith("simplified"):
        return label or "simplified"
    return f"{label}, simplified"


def _case(case: Case, widths: tuple[int, ...], acts: tuple[str, ...], Ws: list, bs: list, x: np.ndarray,
          y: np.ndarray) -> Case | None:
    arch = Architecture(widths, acts, case.arch.cost, case.arch.dtype)
    try:
        return Case.from_arch(arch, Ws, bs, x, y, label=simplified_label(case.label))
    except ValueError:
        return None


def _target(case: Case, y: np.ndarray) -> np.ndarray:
    """A softmax/cross-entropy target that lost its 1 (a unit removed) gets it back on the first output."""
    if case.arch.cost != "softmax_ce":
        return y
    y = y.copy()
    lost = y.sum(axis=0) == 0
    if np.any(lost):
        y[0, ...] = np.where(lost, 1.0, y[0, ...])
    return y


def _keep_units(case: Case, layer: int, keep: list[int]) -> Case | None:
    """``case`` with only units ``keep`` of layer ``layer`` (0 = the input, depth − 1 = the output)."""
    widths = list(case.arch.widths)
    Ws, bs = [np.array(W) for W in case.weights], [np.array(b) for b in case.biases]
    x, y = np.array(case.x), np.array(case.y)
    if layer == 0:
        x = x[keep]
    else:
        Ws[layer - 1] = Ws[layer - 1][keep, :]
        bs[layer - 1] = bs[layer - 1][keep]
    if layer < len(widths) - 1:
        Ws[layer] = Ws[layer][:, keep]
    else:
        y = _target(case, y[keep])
    widths[layer] = len(keep)
    return _case(case, tuple(widths), case.arch.activations, Ws, bs, x, y)


def _drop_layer(case: Case, layer: int) -> Case | None:
    """``case`` without hidden layer ``layer`` (1..depth − 2): W^(layer+1) W^(layer) joins its neighbours."""
    widths = list(case.arch.widths)
    Ws, bs = list(case.weights), list(case.biases)
    joined = Ws[layer] @ Ws[layer - 1]
    Ws[layer - 1:layer + 1] = [joined]
    bs[layer - 1:layer + 1] = [bs[layer]]
    acts = case.arch.activations[:layer - 1] + case.arch.activations[layer:]
    del widths[layer]
    return _case(case, tuple(widths), acts, Ws, bs, np.array(case.x), np.array(case.y))


def _drop_sample(case: Case, j: int) -> Case | None:
    keep = [i for i in range(case.x.shape[1]) if i != j]
    return _case(case, case.arch.widths, case.arch.activations, list(case.weights), list(case.biases),
                 case.x[:, keep], case.y[:, keep])


def structural_steps(case: Case, min_batch: int = 1) -> Iterator[Case]:
    """Cases one structural step simpler: a hidden layer dropped, a layer reduced to one unit, one unit
    removed, one sample removed (never below ``min_batch`` samples)."""
    widths = case.arch.widths
    for layer in range(1, len(widths) - 1):
        c = _drop_layer(case, layer)
        if c is not None:
            yield c
    for layer, n in enumerate(widths):
        if n > 1:
            for unit in range(n):
                c = _keep_units(case, layer, [unit])
                if c is not None:
                    yield c
    for layer, n in enumerate(widths):
        if n > 2:
            for unit in range(n):
                c = _keep_units(case, layer, [u for u in range(n) if u != unit])
                if c is not None:
                    yield c
    if case.batched and case.x.shape[1] > max(min_batch, 1):
        for j in range(case.x.shape[1]):
            c = _drop_sample(case, j)
            if c is not None:
                yield c


def narrow_cases(case: Case, draws: int = 3, seed: int = 0) -> Iterator[Case]:
    """Networks of every width 1 (as many layers as ``case`` or fewer, its samples) with simple values: halves in
    [−2, 2], a few seeded draws each (distinct numbers, for failures that need two parameters to differ)."""
    rng = np.random.default_rng(seed)
    B = case.x.shape[1] if case.batched else None
    tail = () if B is None else (B,)
    for depth in range(2, case.arch.depth + 1):
        widths = (1,) * depth
        acts = case.arch.activations[:depth - 2] + case.arch.activations[-1:]
        for _ in range(draws):
            def halves(*shape: int) -> np.ndarray:
                return rng.integers(-4, 5, size=shape) / 2.0
            Ws = [halves(1, 1) for _ in range(depth - 1)]
            bs = [halves(1) for _ in range(depth - 1)]
            y = np.ones((1, *tail)) if case.arch.cost == "softmax_ce" else rng.integers(0, 3, size=(1, *tail)) / 2
            c = _case(case, widths, acts, Ws, bs, halves(1, *tail), y)
            if c is not None:
                yield c


def _simple_values(v: float, target: bool, cost: str) -> list[float]:
    if target and cost == "bce":
        options = [0.0, 1.0, 0.5]
    else:
        options = [0.0, float(np.round(v)), float(np.round(2 * v) / 2)]
    out = []
    for o in options:
        if o != v and o not in out and len(repr(o)) < len(repr(float(v))):
            out.append(o)
    return out


def _with_value(case: Case, kind: str, L: int, idx: tuple) -> list[Case]:
    """Every simpler-valued variant of ``case`` at one number."""
    arrays = {"W": [np.array(W) for W in case.weights], "b": [np.array(b) for b in case.biases],
              "x": [np.array(case.x)], "y": [np.array(case.y)]}
    v = float(arrays[kind][L][idx])
    out = []
    for o in _simple_values(v, kind == "y", case.arch.cost):
        arrays[kind][L][idx] = o
        c = _case(case, case.arch.widths, case.arch.activations, list(arrays["W"]), list(arrays["b"]),
                  arrays["x"][0].copy(), arrays["y"][0].copy())
        if c is not None:
            out.append(c)
    return out


def simplify(case: Case, still_fails: Callable[[Case], bool], *, min_batch: int = 1, max_calls: int = 150,
             seconds: float = 1.5, stop: Callable[[], bool] = lambda: False, values: bool = True) -> Case:
    """The simplest case reachable from ``case`` by steps after which ``still_fails`` stays True.

    ``still_fails`` is called at most ``max_calls`` times and not after ``seconds`` or once ``stop()`` is True;
    ``values=False`` keeps the numbers (only the network and the batch get smaller).
    """
    deadline = time.perf_counter() + seconds
    calls = 0

    def budget() -> bool:
        return calls < max_calls and time.perf_counter() < deadline and not stop()

    def accept(c: Case, current: Case) -> bool:
        nonlocal calls
        if simplicity(c) >= simplicity(current) or not budget():
            return False
        calls += 1
        return still_fails(c)

    current = case
    for c in narrow_cases(case):
        if accept(c, current):
            current = c
    changed = True
    while changed and budget():
        changed = False
        for c in structural_steps(current, min_batch):
            if accept(c, current):
                current, changed = c, True
                break
    for kind_L_idx in _positions(current) if values else ():
        if not budget():
            break
        for c in _with_value(current, *kind_L_idx):
            if accept(c, current):
                current = c
                break
    return current


def _positions(case: Case) -> Iterator[tuple[str, int, tuple]]:
    for L, W in enumerate(case.weights):
        for idx in np.ndindex(W.shape):
            yield "W", L, idx
    for L, b in enumerate(case.biases):
        for idx in np.ndindex(b.shape):
            yield "b", L, idx
    for idx in np.ndindex(case.x.shape):
        yield "x", 0, idx
    if case.arch.cost != "softmax_ce":
        for idx in np.ndindex(case.y.shape):
            yield "y", 0, idx


def with_extra_sample(case: Case) -> Case | None:
    """A batched ``case`` with one more sample (input 0; target 0, or the first class for softmax_ce)."""
    if not case.batched:
        return None
    y_new = np.zeros((case.y.shape[0], 1))
    if case.arch.cost == "softmax_ce":
        y_new[0, 0] = 1.0
    return _case(case, case.arch.widths, case.arch.activations, list(case.weights), list(case.biases),
                 np.concatenate([case.x, np.zeros((case.x.shape[0], 1))], axis=1),
                 np.concatenate([case.y, y_new], axis=1))
