"""Check symbolic equations: both sides of every equation, for every index value and instance.

A chain E0 = E1 = … holds when every member equals the reference member (E0,
unless E0 alone disagrees with members that agree among themselves) in every
context: each value of the free layer and index letters (L, j, k, …) on the
worked example and on random instances with other widths, and each sample of a
function's free variable (σ(x) = …).  A member that does not hold gets the
cheapest fix from :mod:`oracles.audit.fixes`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .extract import Equation
from .fixes import EditGenerator, Fix, search, splice_text
from .limits import literal_limit_sums
from .model import Model, index_letters, scalar_vars, uses_constants
from .semantics import Env, EvalError, evaluate, shape_text
from .tree import Node

SCALAR_SAMPLES = (-1.3, 0.4, 2.1)
MAX_CONTEXTS = 240


@dataclass
class Failure:
    """One context where a member does not hold."""

    env: Env
    error: EvalError | None = None
    got: np.ndarray | None = None
    want: np.ndarray | None = None


@dataclass
class Outcome:
    """The verdict on one chain."""

    ref: int
    failures: dict[int, list[Failure]]
    checked: int


def close(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal shapes and values (relative 1e-7)."""
    from .semantics import squeeze1
    a, b = squeeze1(a), squeeze1(b)
    if a.shape != b.shape:
        return False
    return bool(np.allclose(a, b, rtol=1e-7, atol=1e-9))


def free_letters(members: list[Node], *, summation: bool = False) -> tuple[set[str], set[str]]:
    """(layer variables, index variables) used free across the members; with ``summation``,
    the summation variables count as index variables too."""
    from .tree import Sum

    layer_vars: set[str] = set()
    idx_vars: set[str] = set()
    for m in members:
        lv, iv = index_letters(m)
        layer_vars |= lv
        idx_vars |= iv
        if summation:
            idx_vars |= {n.var for n in m.walk() if isinstance(n, Sum)}
    return layer_vars, idx_vars - layer_vars


def contexts(model: Model, members: list[Node], scope: str) -> list[Env]:
    """Every (instance, index assignment, scalar sample) the chain is checked in."""
    layer_vars, idx_vars = free_letters(members)
    fixed = model.output_letter if model.output_letter in layer_vars else None
    layer_vars.discard(fixed)
    svars = scalar_vars(members)
    if model.conv.named:  # h, u, … name the document's quantities, not a function's variable
        svars = {v for v in svars if not model.worked.graph.knows(v)}
    if layer_vars or idx_vars:
        # \sum_{k=1}^{2} states this network's widths: other widths are not what the equation is about
        free = scope != "worked" and not literal_limit_sums(members) and not uses_constants(members, model.constants)
        insts = model.instances("free" if free else scope)
    else:
        insts = model.instances(scope)
    out: list[Env] = []
    lvars, ivars = sorted(layer_vars), sorted(idx_vars)
    for inst in insts:
        lo = min(model.conv.base, model.conv.wmin) - 1
        layer_vals = range(lo, model.conv.base + inst.depth + 1)
        idx_vals = range(1, max(inst.widths) + 1)
        combos = itertools.product(*([layer_vals] * len(lvars) + [idx_vals] * len(ivars)))
        for combo in combos:
            assign = dict(zip(lvars + ivars, combo))
            if svars:
                for xv in SCALAR_SAMPLES:
                    out.append(model.env(inst, assign=assign, scalars={v: complex(xv) for v in svars}))
            else:
                out.append(model.env(inst, assign=assign))
    if len(out) > MAX_CONTEXTS:
        step = len(out) / MAX_CONTEXTS
        out = [out[int(i * step)] for i in range(MAX_CONTEXTS)]
    return out


def _value(m: Node, env: Env):
    try:
        return evaluate(m, env)
    except EvalError as exc:
        return exc
    except (ArithmeticError, ValueError, IndexError, TypeError, OverflowError) as exc:
        return EvalError("unsupported", str(exc), m)


def judge(members: list[Node], envs: list[Env], ref: int | None = None) -> Outcome:
    """Evaluate every member in every context and compare with the reference member."""
    vals = [[_value(m, env) for m in members] for env in envs]
    # contexts where some member refers to a layer that does not exist are out of scope
    live = [c for c, row in enumerate(vals) if not any(isinstance(v, EvalError) and v.kind == "layer" for v in row)]
    if ref is None:
        ref = _choose_ref(members, [vals[c] for c in live])
    failures: dict[int, list[Failure]] = {}
    checked = 0
    for c in live:
        row = vals[c]
        r = row[ref]
        if isinstance(r, EvalError):
            if r.kind in ("range",):
                continue
            failures.setdefault(ref, []).append(Failure(envs[c], error=r))
            continue
        checked += 1
        for i, v in enumerate(row):
            if i == ref:
                continue
            if isinstance(v, EvalError):
                failures.setdefault(i, []).append(Failure(envs[c], error=v))
            elif not close(v, r):
                failures.setdefault(i, []).append(Failure(envs[c], got=v, want=r))
    return Outcome(ref, failures, checked)


def _choose_ref(members: list[Node], rows: list[list]) -> int:
    n = len(members)
    ok_counts = [sum(1 for row in rows if not isinstance(row[i], EvalError)) for i in range(n)]
    if not rows or ok_counts[0] == 0:
        best = max(range(n), key=lambda i: ok_counts[i]) if n else 0
        return best
    if n >= 3:
        def agree(i, j):
            both = [(row[i], row[j]) for row in rows
                    if not isinstance(row[i], EvalError) and not isinstance(row[j], EvalError)]
            return bool(both) and all(close(a, b) for a, b in both)
        others = range(1, n)
        if not any(agree(0, j) for j in others) and all(agree(i, j) for i in others for j in others if i < j):
            return 1
    return 0


class Evaluator:
    """Member values per context, cached by node identity (edits leave most nodes untouched)."""

    def __init__(self, envs: list[Env]):
        self.envs = envs
        for e in envs:
            if e.memo is None:
                e.memo = {}
        self.cache: dict[tuple[int, int], object] = {}
        self.keep: list[Node] = []

    def value(self, node: Node, c: int):
        key = (id(node), c)
        v = self.cache.get(key)
        if v is None:
            v = _value(node, self.envs[c])
            self.cache[key] = v
            self.keep.append(node)
        return v

    def verdict(self, members: list[Node], ctxs) -> tuple[bool, int, float]:
        """(all hold, contexts checked, residual) with members[0] as the reference."""
        checked = 0
        resid = 0.0
        for c in ctxs:
            row = [self.value(m, c) for m in members]
            if any(isinstance(v, EvalError) and v.kind == "layer" for v in row):
                continue
            r = row[0]
            if isinstance(r, EvalError):
                if r.kind == "range":
                    continue
                return False, checked, float("inf")
            checked += 1
            for v in row[1:]:
                if isinstance(v, EvalError) or (v.shape != r.shape and v.size != 1):
                    return False, checked, float("inf")
                if not close(v, r):
                    resid += float(np.sum(np.abs(v - r)))
        return resid == 0.0, checked, resid


def find_fix(eq: Equation, members: list[Node], outcome: Outcome, envs: list[Env], model: Model,
             text: str) -> tuple[Fix | None, list[int]]:
    """The cheapest fix of the failing members (or of the reference, when it alone is wrong)."""
    from .fixes import regenerate, search_entries
    layer_vars, idx_vars = free_letters(members, summation=True)
    widths = model.widths()
    doc_layers = list(range(model.conv.base, model.conv.base + len(widths)))
    ev = Evaluator(envs)
    env_index = {id(e): i for i, e in enumerate(envs)}
    wit: list[int] = []
    for fl in outcome.failures.values():
        for f in fl[:3]:
            c = env_index.get(id(f.env))
            if c is not None and c not in wit:
                wit.append(c)
    wit = wit[:4]
    min_checked = max(1, outcome.checked // 2)
    all_ctx = range(len(envs))

    def holds(new: list[Node]) -> bool:
        ok, _, _ = ev.verdict(new, wit)
        if not ok:
            return False
        ok, checked, _ = ev.verdict(new, all_ctx)
        return ok and checked >= min_checked

    def score(new: list[Node]) -> float:
        _, checked, resid = ev.verdict(new, wit)
        return resid if checked >= len(wit) else float("inf")

    ordered = _ref_first(members, outcome.ref)
    batched = model.worked is not None and (getattr(getattr(model.worked, "case", None), "batched", False) or (
        model.conv.named and "m" in model.worked.graph.inputs))
    gen = EditGenerator(text, ordered, idx_vars, layer_vars, doc_layers, max(widths),
                        batch_symbol="m" if batched else None)
    failing = sorted(_map_index(i, outcome.ref) for i in outcome.failures if i != outcome.ref)
    best: Fix | None = None
    targets_used: list[int] = []
    for mi in failing:
        from .model import matrix_literal
        mat = matrix_literal(ordered[mi])
        if mat is None:
            continue
        ragged = len({len(r) for r in mat.rows}) > 1
        if ragged or len(mat.rows) > 8:
            fix = regenerate(ordered, mi, mat, holds, text)
            if fix is not None:
                return fix, [mi]
            return None, []
        # per-entry: each wrong entry of a vector fixed on its own
        if all(len(r) == 1 for r in mat.rows) and len(mat.rows) >= 2:
            refs = [ev.value(ordered[0], c) for c in all_ctx]
            if all(isinstance(r, np.ndarray) and r.shape == (len(mat.rows),) for r in refs
                   if not isinstance(r, EvalError)):
                wrong = []
                for k, (cell,) in enumerate(mat.rows):
                    bad = False
                    for c in all_ctx:
                        r = refs[c]
                        if isinstance(r, EvalError):
                            continue
                        v = ev.value(cell, c)
                        if isinstance(v, EvalError) or v.shape != () or not close(v, r[k]):
                            bad = True
                            break
                    if bad:
                        wrong.append((cell, k))

                def holds_cell(new_cell: Node, k: int, refs=refs) -> bool:
                    for c in list(wit) + list(all_ctx):
                        r = refs[c]
                        if isinstance(r, EvalError):
                            continue
                        v = ev.value(new_cell, c)
                        if isinstance(v, EvalError) or v.shape != () or not close(v, r[k]):
                            return False
                    return True

                if wrong and len(wrong) < len(mat.rows) + 1:
                    edits = search_entries(wrong, holds_cell, gen, mi)
                    if edits:
                        from .fixes import apply_edits
                        new = apply_edits(ordered, edits)
                        if new is not None and holds(new):
                            return Fix(edits, new), [mi]
    if failing:
        best = search(ordered, failing, holds, gen, score=score)
        targets_used = failing
    if best is None or best.cost > 1.5:
        alt = search(ordered, [0], holds, gen, score=score)
        if alt is not None and (best is None or alt.cost < best.cost):
            best = alt
            targets_used = [outcome.ref]
    if best is not None and any(_symbols_to_numbers(e) for e in best.edits):
        return None, []
    return best, targets_used


def _symbols_to_numbers(e) -> bool:
    """True when an edit would replace symbols by bare numbers (a^{(2)} → [0.59 0.60]): never a fix."""
    from .model import is_numeric
    if e.new is None or e.split is not None:
        return False
    return is_numeric(e.new) and not is_numeric(e.target)


def _ref_first(members: list[Node], ref: int) -> list[Node]:
    return [members[ref]] + [m for i, m in enumerate(members) if i != ref]


def _map_index(i: int, ref: int) -> int:
    return i + 1 if i < ref else i


def describe_failure(f: Failure) -> str:
    """'at L=2, j=3 (worked example): …'."""
    parts = [", ".join(f"{k}={v}" for k, v in sorted(f.env.assign.items())),
             ", ".join(f"{k}={v.real:g}" for k, v in f.env.scalars.items())]
    ctx = "; ".join(p for p in parts if p)
    where = f"on the {f.env.inst.label}" + (f" at {ctx}" if ctx else "")
    if f.error is not None:
        return f"{where}: {f.error}"
    return f"{where}: this side is {_fmt(f.got)}, the equation needs {_fmt(f.want)}"


def _fmt(v) -> str:
    if v is None:
        return "?"
    r = np.real(v)
    if not np.all(np.isfinite(r)) or (r.size and np.max(np.abs(r)) > 1e15):
        return f"{shape_text(v)} that is not a finite real number (the expression is not smooth or not real here)"
    if r.ndim == 0:
        return f"{float(r):.6g}"
    return f"{shape_text(v)} {np.array2string(r, precision=4, separator=', ')}"


def corrected_text(text: str, fix: Fix, extra: list[tuple[int, int, str]] = ()) -> str:
    """The block text with the fix's splices applied."""
    return splice_text(text, [e.splice for e in fix.edits] + list(extra))
