"""Check the worked example's numbers against manualbp, at the document's own rounding.

Every stated number is matched to the quantity it stands for: the chain's
left side (``a^{(3)} = … = {0.72, …}``), or, inside an arithmetic member, the
symbolic factor in the same position (``[−0.41; −0.29][0.72 … ]`` under
``∂C/∂b^{(3)} a^{(3)T}``, ``−2.13 × 0.19`` under ``δ^{(4)} ⊙ σ'(z^{(4)})``).
A number within half a unit of its last decimal of the exact value is right.
One that is not, but that equals the step recomputed from the numbers the
document itself stated earlier (its rounded inputs), is rounding drift (info)
when all those inputs were right, and a consequence (info, naming the first
wrong input's line) when one of them was wrong: a wrong number typed into a
later step's arithmetic, or a quantity the document stated wrongly earlier.
Anything else is an arithmetic error with the corrected number as its fix.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import combinations

import numpy as np

from .model import Model, canonical, is_literal_number, is_numeric, matrix_literal, numbers_in
from .named import is_label, named_recompute, sym_key
from .semantics import ACT, Env, EvalError, Instance, address, evaluate, shape_text, transpose
from .tree import BinOp, Deriv, Matrix, Neg, Node, Num, Paren, Sym, rebuild

MULS = {"mul", "times", "cdot"}


@dataclass
class NumberIssue:
    """One stated number (or vector) that is off."""

    kind: str  # arithmetic, rounding, consequence, shape
    node: Node  # the number (or the literal, for shape)
    stated: object
    exact: object
    decimals: int
    fix_text: str | None
    message: str
    values: dict
    cause: Node | None = None  # for a consequence: the first wrong number it follows from


def literal_values(node: Node) -> np.ndarray | None:
    """The numbers of a literal vector/matrix/number as an array (None when not a literal)."""
    m = matrix_literal(node)
    if m is not None:
        if not m.rows or len({len(r) for r in m.rows}) > 1:
            return None
        if not all(is_literal_number(c) for r in m.rows for c in r):
            return None
        arr = np.array([[_num(c) for c in r] for r in m.rows])
        if arr.shape[1] == 1:
            return arr[:, 0]
        return arr
    if is_literal_number(node):
        return np.asarray(_num(node))
    return None


def is_literal(node: Node) -> bool:
    m = matrix_literal(node)
    if m is not None:
        return bool(m.rows) and all(is_literal_number(c) for r in m.rows for c in r)
    return is_literal_number(node)


def _num(node: Node) -> float:
    while isinstance(node, Paren):
        node = node.x
    if isinstance(node, Neg):
        return -_num(node.x)
    return float(np.real(node.value))


def literal_cells(node: Node) -> list[list[Node]]:
    m = matrix_literal(node)
    if m is not None:
        return [list(r) for r in m.rows]
    return [[node]]


def decimals_of(node: Node) -> int:
    nums = numbers_in(node)
    return max((n.decimals for n in nums), default=0)


def half_unit(d: int) -> float:
    return 0.5 * 10.0 ** (-d)


def within(stated: float, exact: float, d: int) -> bool:
    return abs(stated - exact) <= half_unit(d) * (1 + 1e-9) + 1e-12


def fmt_number(value: float, d: int) -> str:
    s = f"{value:.{d}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    if s in ("-0", ""):
        s = "0"
    return s


# ------------------------------------------------------------------------- exact and document values

def exact_value(q: tuple, inst: Instance, model: Model) -> np.ndarray | None:
    base = inst.base()
    kind, L = q[0], q[1]
    try:
        if kind == "a":
            v = base["a"][L]
        elif kind == "z":
            v = base["z"][L]
        elif kind == "delta":
            v = base["da"][L]
        elif kind == "dz":
            v = base["dz"][L]
        elif kind == "W":
            v = np.asarray(inst.case.weights[L - 1], complex)
        elif kind == "b":
            v = np.asarray(inst.case.biases[L - 1], complex)
        elif kind == "y":
            v = np.asarray(inst.case.y, complex)
        elif kind == "sp":
            v = ACT[inst.act(L)][1](base["z"][L])
        elif kind == "dW":
            v = np.outer(base["dz"][L + 1], base["a"][L])
        elif kind in ("Wa", "dWa", "aa"):  # biases folded into the weights: W^(L) = [W b], ã = [a; 1]
            aug = model.conv.augmented
            if kind == "Wa":
                v = aug.matrix(np.asarray(inst.case.weights[L - 1], complex), inst.case.biases[L - 1])
            elif kind == "dWa":
                v = aug.matrix(np.outer(base["dz"][L + 1], base["a"][L]), base["dz"][L + 1])
            else:
                v = aug.vector(base["a"][L])
        else:
            return None
    except (KeyError, IndexError):
        return None
    v = np.real(np.asarray(v))
    return transpose(v) if len(q) > 2 and q[2] == "T" else v


def recompute(q: tuple, docvals: dict, inst: Instance, model: Model, used: set | None = None) -> list[np.ndarray]:
    """The quantity recomputed by one step of the network from the document's own stated inputs
    (the quantities taken from the document are added to ``used``)."""
    def get(k):
        v = docvals.get(k)
        if v is not None and used is not None:
            used.add(k)
        return v if v is not None else exact_value(k, inst, model)

    if q[0] == "named":  # a document that names its quantities: its own definitions, see named.py
        return named_recompute(q[1], docvals, inst)
    kind, L = q[0], q[1]
    out: list[np.ndarray] = []
    act = inst.act(max(L, 2))
    f, fp = ACT.get(act, (None, None))
    try:
        if kind == "z" and L >= 2:
            out.append(get(("W", L - 1)) @ get(("a", L - 1)) + get(("b", L - 1)))
        elif kind == "a" and L >= 2 and f is not None:
            out.append(np.real(f(get(("z", L)))))
        elif kind == "sp" and fp is not None:
            out.append(np.real(fp(get(("z", L)))))
            if act == "sigmoid":
                a = get(("a", L))
                out.append(a * (1 - a))
            if act == "tanh":
                a = get(("a", L))
                out.append(1 - a * a)
        elif kind == "dz":
            out.append(get(("delta", L)) * get(("sp", L)))
        elif kind == "dW":
            out.append(np.outer(get(("dz", L + 1)), get(("a", L))))
        elif kind == "dWa":  # [dW db] of the augmented W, from the document's own δ and a
            dz = get(("dz", L + 1))
            out.append(model.conv.augmented.matrix(np.outer(dz, get(("a", L))), dz))
        elif kind == "aa":
            out.append(model.conv.augmented.vector(np.asarray(get(("a", L)), complex)))
        elif kind == "delta" and L < inst.depth:
            out.append(get(("W", L)).T @ get(("dz", L + 1)))
        elif kind == "delta" and L == inst.depth:
            a, y = get(("a", L)), get(("y", 0))
            n = a.shape[0]
            c = model.cost
            out.append({"half_mse": (a - y) / n, "half_sse": a - y, "mse": 2 * (a - y) / n}.get(
                c, (a - y) / (a * (1 - a))))
    except (TypeError, ValueError, KeyError):
        return []
    if len(q) > 2 and q[2] == "T":
        out = [transpose(np.asarray(v)) for v in out]
    return [np.real(np.asarray(v, dtype=complex)) for v in out]


# ------------------------------------------------------------------------- alignment

def align(s: Node, n: Node, env: Env) -> list[tuple[Node, np.ndarray, tuple | None, object]]:
    """Pairs (literal in the numeric member, exact value, quantity, entry) by structure."""
    while isinstance(s, Paren):
        s = s.x
    while isinstance(n, Paren) and not isinstance(n.x, Matrix):
        n = n.x
    if is_literal(n):
        try:
            val = np.real(evaluate(s, env))
        except EvalError:
            return []
        return [(n, val, canonical(s, env.conv), None)]
    if isinstance(s, BinOp) and isinstance(n, BinOp) and (s.op == n.op or (s.op in MULS and n.op in MULS)):
        return align(s.left, n.left, env) + align(s.right, n.right, env)
    from .tree import Apply
    if isinstance(s, Apply) and isinstance(n, Apply) and s.fn == n.fn:
        return align(s.arg, n.arg, env)
    m = matrix_literal(n)
    if isinstance(s, BinOp) and s.op == "odot" and m is not None and all(len(r) == 1 for r in m.rows):
        try:
            u = np.real(evaluate(s.left, env))
            v = np.real(evaluate(s.right, env))
        except EvalError:
            return []
        out = []
        qu, qv = canonical(s.left, env.conv), canonical(s.right, env.conv)
        for k, (cell,) in enumerate(m.rows):
            c = cell.x if isinstance(cell, Paren) else cell
            if isinstance(c, BinOp) and c.op in MULS and is_literal_number(c.left) and is_literal_number(c.right):
                if u.ndim == 1 and k < u.shape[0]:
                    out.append((c.left, u[k], qu, k))
                if v.ndim == 1 and k < v.shape[0]:
                    out.append((c.right, v[k], qv, k))
        return out
    return []


def propagated_tolerance(node: Node, env: Env) -> np.ndarray | float:
    """Σ |∂f/∂n| · (half a unit of n's last decimal) over the rounded numbers in ``node``."""
    approx = _approximate_numbers(node)
    tol = 0.0
    for num, d in approx:
        bumped = Num(complex(num.value, 1e-20), num.text, num.decimals, span=num.span)
        try:
            v = evaluate(rebuild(node, num, bumped), env)
        except EvalError:
            continue
        tol = tol + np.abs(np.imag(v) / 1e-20) * half_unit(d)
    return tol


def _approximate_numbers(node: Node) -> list[tuple[Num, int]]:
    out: list[tuple[Num, int]] = []

    def visit(n: Node, d_ctx: int | None):
        if isinstance(n, Matrix):
            d = decimals_of(n)
            for r in n.rows:
                for c in r:
                    visit(c, d if d > 0 else None)
            return
        if isinstance(n, Num):
            if n.decimals > 0 or d_ctx is not None:
                out.append((n, n.decimals if n.decimals > 0 else d_ctx or 0))  # its own last digit
            return
        for c in n.children():
            visit(c, d_ctx)

    visit(node, None)
    return out


# ------------------------------------------------------------------------- the check

def check_numbers(members: list[Node], model: Model, docvals: dict,
                  text: str) -> tuple[list[NumberIssue], list[int], str | None]:
    """Issues with the stated numbers of one chain, the symbolic member indices, and why the numbers
    could not be compared (None when they were)."""
    inst = model.worked
    env = model.env(inst)
    issues: list[NumberIssue] = []
    kinds = []
    for m in members:
        if is_literal(m):
            kinds.append("lit")
        elif is_numeric(m):
            kinds.append("expr")
        else:
            kinds.append("sym")
    sym_idx = [i for i, k in enumerate(kinds) if k == "sym"]
    if not sym_idx:
        return issues, sym_idx, "no side names a quantity of the network"
    ref = sym_idx[0]
    try:
        ref_val = np.real(evaluate(members[ref], env))
    except EvalError as exc:
        return issues, sym_idx, f"the side the numbers stand for cannot be computed: {exc}"
    q_ref = canonical(members[ref], model.conv)
    expr_vals: list[tuple[np.ndarray, Node | None]] = []  # the arithmetic members' values, each with its cause
    for i, m in enumerate(members):
        if kinds[i] != "expr":
            continue
        try:
            expr_vals.append((np.real(evaluate(m, env)), _copied_wrong(m, env, docvals, ref_val)[0]))
        except EvalError:
            pass
    last_lit = None
    compared, blocked = 0, None
    for i, m in enumerate(members):
        if kinds[i] == "sym":
            continue
        anchor = max((j for j in sym_idx if j < i), default=ref)
        if kinds[i] == "lit":
            # the step from the document's own stated numbers: this chain's formula, or its formula elsewhere
            formulas = [members[j] for j in dict.fromkeys((anchor, ref))] + [
                f for f in model.formulas.get(stated_key(members[ref], env), []) if f is not members[anchor]]
            candidates = expr_vals + [alt for f in formulas for alt in _substituted(f, env, docvals)]
            issues += _check_literal(m, ref_val, q_ref, model, docvals, text, candidates)
            last_lit = m
            compared += 1
            continue
        # arithmetic member: aligned literals, then the whole
        aligned = align(members[anchor], m, env)
        before = len(issues)
        for lit, val, q, entry in aligned:
            if entry is None:
                issues += _check_literal(lit, val, q, model, docvals, text, [])
            else:
                issues += _check_entry(lit, val, q, entry, model, docvals)
        compared += bool(aligned)
        if len(issues) == before:
            try:
                v = np.real(evaluate(m, env))
            except EvalError as exc:
                if exc.kind == "shape":
                    issues.append(NumberIssue("shape", m, None, None, 0, None, f"cannot compute this member: {exc}",
                                              {}))
                    compared += 1
                else:  # unreadable or unsupported: the auditor's limit, not the document's error
                    blocked = blocked or f"this member could not be evaluated: {exc}"
                    issues.append(NumberIssue("not-evaluable", m, None, None, 0, None, blocked, {}))
                continue
            compared += 1
            tol = propagated_tolerance(m, env)
            if v.size == 1 and ref_val.size == 1:
                v, ref_val = v.reshape(()), ref_val.reshape(())
            if v.shape != ref_val.shape:
                issues.append(NumberIssue("shape", m, None, None, 0, None,
                                          f"this member is a {shape_text(v)}, the left side a {shape_text(ref_val)}",
                                          {}))
            elif np.any(np.abs(v - ref_val) > np.asarray(tol) * 1.5 + 1e-9):
                cause, fixed = _copied_wrong(m, env, docvals, ref_val)
                if cause is not None and np.all(np.abs(fixed - ref_val) <= np.asarray(tol) * 1.5 + 1e-9):
                    issues.append(NumberIssue("consequence", m, v, ref_val, 0, None,
                                              "this arithmetic does not give the left side", {}, cause))
                else:
                    issues.append(NumberIssue(
                        "arithmetic", m, v, ref_val, 0, None,
                        "this arithmetic does not give the left side even allowing for the rounding of its numbers",
                        {"document": v, "exact": ref_val, "tolerance": tol}))
    if last_lit is not None and q_ref is not None:
        vals = literal_values(last_lit)
        if vals is not None and vals.size == ref_val.size:
            vals = vals.reshape(ref_val.shape)
            docvals[q_ref] = vals
    _remember_stated(members[ref], last_lit, ref_val, issues, env, docvals)
    return issues, sym_idx, None if compared else (blocked or "no stated number could be compared")


def _check_entry(lit: Node, exact: float, q, entry: int, model: Model, docvals: dict) -> list[NumberIssue]:
    d = max(decimals_of(lit), 2)
    stated = _num(lit)
    if within(stated, exact, d):
        return []
    drift = False
    used: set = set()
    if q is not None:
        for alt in recompute(q, docvals, model.worked, model, used):
            if alt.ndim == 1 and entry < alt.shape[0] and within(stated, alt[entry], d):
                drift = True
    return [_issue(lit, stated, exact, d, drift, _cause(used, docvals) if drift else None)]


def _check_literal(lit: Node, exact: np.ndarray, q, model: Model, docvals: dict, text: str,
                   candidates: list[tuple[np.ndarray, Node | None]]) -> list[NumberIssue]:
    """Issues with a stated literal; ``candidates`` are values the step gives from the document's own numbers
    (each with the first wrong stated number it used, None when all were right)."""
    stated = literal_values(lit)
    if stated is None:
        return []
    d = decimals_of(lit)
    exact = np.real(np.asarray(exact))
    if stated.size == 1 and exact.size == 1:
        stated, exact = stated.reshape(()), exact.reshape(())
    if stated.shape != exact.shape and _is_tuple(lit) and exact.ndim == 1 and stated.size == exact.size:
        stated = stated.reshape(-1)  # (0.1, 0.55): an n-tuple is a vector of ℝⁿ, however the page lays it out
    if stated.shape != exact.shape:
        fix = _shape_fix(lit, stated, exact, d, text)
        what = (f"has {stated.shape[0] if stated.ndim else 1} entries, but {shape_text(exact)} is needed"
                if stated.ndim <= 1 and exact.ndim <= 1 else
                f"is a {shape_text(stated)}, but a {shape_text(exact)} is needed")
        return [NumberIssue("shape", lit, stated, exact, d, fix, f"this vector {what}",
                            {"document": stated, "exact": exact})]
    if d == 0 and not any(n.decimals for n in numbers_in(lit)):
        d = 0
    issues: list[NumberIssue] = []
    cells = literal_cells(lit)
    used: set = set()
    recomputed = recompute(q, docvals, model.worked, model, used) if q is not None else []
    flat_stated = np.atleast_1d(stated).reshape(-1)
    flat_exact = np.atleast_1d(exact).reshape(-1)
    flat_cells = [c for r in cells for c in r]
    for k, (s, e, cell) in enumerate(zip(flat_stated, flat_exact, flat_cells)):
        dk = cell_decimals(cell, d)
        if within(s, e, dk) or (dk == 0 and np.isclose(s, e, rtol=1e-9, atol=1e-12)):
            continue
        causes = [c for v, c in candidates if np.shape(v) == np.shape(exact) and _entry_matches(v, k, s, dk)]
        if any(_entry_matches(alt, k, s, dk) for alt in recomputed):
            causes.append(_cause(used, docvals))
        # rounding when some right inputs give it; a consequence when only a wrong earlier number does
        cause = None if not causes or None in causes else _earliest(causes, docvals)
        issues.append(_issue(cell, s, e, dk, bool(causes), cause))
    if q is not None:
        _remember_wrong(q, issues, docvals)
    return issues


def _is_tuple(lit: Node) -> bool:
    """True for a parenthesised list of numbers, (0.1, 0.55): a tuple, not a bracketed row [0.1 0.55]."""
    m = matrix_literal(lit)
    return m is not None and m.env == "row(" and len(m.rows) == 1


def cell_decimals(cell: Node, default: int) -> int:
    """The decimals a number is judged at: its own (0.1869 to 4, -0.01442 to 5 in one vector); an integer
    among decimals (0 in [0.25, 0]) takes the vector's."""
    own = max((n.decimals for n in numbers_in(cell)), default=0)
    return own if own > 0 else default


def _entry_matches(alt, k: int, stated: float, d: int) -> bool:
    flat = np.atleast_1d(alt).reshape(-1)
    return flat.shape[0] > k and within(stated, flat[k], d)


WRONG = "wrong"  # docvals key: quantity -> the first wrong number it was computed from (or is)
STATED = "stated"  # docvals key: symbol's address -> (the value the document stated, its first wrong number)
WRONG_NUMBERS = "wrong numbers"  # docvals key: [(|stated|, decimals, exact / stated, first wrong number)]
ORDER = "order"  # docvals key: id(first wrong number) -> the order in which the audit met it


def _cause(used: set, docvals: dict) -> Node | None:
    """The first wrong stated number among the document's inputs of a step (None when all were right)."""
    wrong = docvals.get(WRONG, {})
    causes = [wrong[k] for k in used if k in wrong]
    return _earliest(causes, docvals) if causes else None


def _earliest(causes: list[Node], docvals: dict) -> Node:
    """The wrong number the audit met first (the document's order: spans are per math block)."""
    order = docvals.get(ORDER, {})
    return min(causes, key=lambda n: order.get(id(n), len(order)))


def _origin(iss: NumberIssue) -> Node | None:
    """The first wrong number behind an issue: its own number for an error, its cause for a consequence."""
    return iss.node if iss.kind == "arithmetic" else iss.cause


def stated_key(node: Node, env: Env) -> tuple | None:
    """Which network quantity (or entry of one) a symbol names, as a key for the values the document states."""
    while isinstance(node, Paren):
        node = node.x
    if env.conv.named and isinstance(node, Deriv):  # ∂L/∂s (CS231n's ds): a quantity of a named document
        ends = (node.num, node.var)
        if all(isinstance(e, Sym) and not e.transpose and all(is_label(x) for x in e.sub) for e in ends):
            return ("named-d", sym_key(node.num), sym_key(node.var))
        return None
    if not isinstance(node, Sym) or node.transpose:
        return None
    if env.conv.named:
        return ("named", sym_key(node)) if all(is_label(x) for x in node.sub) else None
    try:
        kind, layer, entry, _ = address(node, env)
    except EvalError:
        return None
    return kind, layer, entry


def named_formulas(eqs: list, env: Env) -> dict[tuple, list[Node]]:
    """Per quantity of a named document, the symbolic members its equations equate it to (dW_2 = h^\top ds):
    a stated number that follows from them with the document's own stated values is a rounding."""
    out: dict[tuple, list[Node]] = {}
    for eq in eqs:
        key = stated_key(eq.members[0], env) if len(eq.members) >= 2 else None
        if key is not None:
            out.setdefault(key, []).extend(m for m in eq.members[1:] if not is_numeric(m))
    return out


def _remember_stated(ref: Node, lit: Node | None, ref_val: np.ndarray, issues: list[NumberIssue], env: Env,
                     docvals: dict) -> None:
    """Keep the chain's stated value of its left side and each wrong number, for the steps that use them."""
    order = docvals.setdefault(ORDER, {})
    for iss in issues:
        origin = _origin(iss)
        if origin is not None:
            order.setdefault(id(origin), len(order))
        if iss.kind in ("arithmetic", "consequence") and is_literal_number(iss.node) and iss.stated:
            docvals.setdefault(WRONG_NUMBERS, []).append(
                (abs(float(iss.stated)), iss.decimals, float(iss.exact) / float(iss.stated), origin))
    key = stated_key(ref, env)
    vals = None if lit is None else literal_values(lit)
    if key is None or vals is None or vals.size != ref_val.size:
        return
    cells = {id(n) for n in lit.walk()}
    origin = next((_origin(iss) for iss in issues if id(iss.node) in cells and _origin(iss) is not None), None)
    docvals.setdefault(STATED, {})[key] = (vals.reshape(np.shape(ref_val)), origin)


def _substituted(member: Node, env: Env, docvals: dict) -> list[tuple[np.ndarray, Node | None]]:
    """``member`` evaluated with the values the document stated earlier for the quantities in it (each subset of
    them), each with the first wrong stated number among those used (None when all were right)."""
    core = member
    while isinstance(core, Paren):
        core = core.x
    stated = docvals.get(STATED)
    if not stated or isinstance(core, Sym):
        return []
    inside = {id(x) for d in member.walk() if isinstance(d, Deriv) for x in d.walk() if x is not d}
    found = [(n, *stated[k]) for n in member.walk() if isinstance(n, (Sym, Deriv)) and id(n) not in inside
             for k in [stated_key(n, env)] if k in stated]
    if not found:
        return []
    if len(found) <= 4:
        subsets = [c for r in range(1, len(found) + 1) for c in combinations(found, r)]
    else:  # a long step: each stated value alone, and all of them
        subsets = [(f,) for f in found] + [tuple(found)]
    out: list[tuple[np.ndarray, Node | None]] = []
    for subset in subsets:
        memo = {id(n): (n, np.asarray(v, complex)) for n, v, _ in subset}
        try:
            value = np.real(evaluate(member, replace(env, memo=memo)))
        except EvalError:
            continue
        causes = [c for _, _, c in subset if c is not None]
        out.append((value, _earliest(causes, docvals) if causes else None))
    return out


def _copied_wrong(member: Node, env: Env, docvals: dict, target: np.ndarray) -> tuple[Node | None, np.ndarray]:
    """(the first wrong stated number the arithmetic ``member`` copies, its value with those numbers corrected):
    a copy is a number equal to one the document stated wrongly earlier whose correction brings the arithmetic
    nearer ``target``; (None, its value) when it copies none."""
    wrong = docvals.get(WRONG_NUMBERS, [])
    edits = []
    for n in member.walk():
        if isinstance(n, Num) and n.decimals:
            for value, d, ratio, origin in wrong:
                if d == n.decimals and abs(abs(float(np.real(n.value))) - value) < 1e-12 and origin is not None:
                    edits.append((n, Num(n.value * ratio, n.text, n.decimals, span=n.span), origin))
                    break
    value = np.real(evaluate(member, env))
    if not edits:
        return None, value
    fixed = member
    for old, new, _ in edits:
        fixed = rebuild(fixed, old, new)
    try:
        fixed_value = np.real(evaluate(fixed, env))
    except EvalError:
        return None, value
    if np.shape(fixed_value) != np.shape(target) or not (
            np.max(np.abs(fixed_value - target)) < np.max(np.abs(value - target))):
        return None, value
    return _earliest([o for _, _, o in edits], docvals), fixed_value


def _remember_wrong(q: tuple, issues: list[NumberIssue], docvals: dict) -> None:
    """Later steps computed from ``q`` follow from its first wrong number (its own, or the one it follows from)."""
    for iss in issues:
        origin = iss.node if iss.kind == "arithmetic" else iss.cause
        if origin is not None:
            docvals.setdefault(WRONG, {}).setdefault(q, origin)
            return


def _issue(node: Node, stated: float, exact: float, d: int, drift: bool, cause: Node | None) -> NumberIssue:
    """An off number: a consequence of an earlier wrong one, rounding drift, or an arithmetic error."""
    fix = fmt_number(exact, d)
    kind = "consequence" if cause is not None else "rounding" if drift else "arithmetic"
    msg = f"{stated:g} should be {fix} (exact {exact:.6g})"
    if kind == "rounding":
        msg += "; it follows from the document's own rounded inputs"
    return NumberIssue(kind, node, stated, exact, d, fix, msg, {"document": stated, "exact": exact, "decimals": d},
                       cause)


def _shape_fix(lit: Node, stated: np.ndarray, exact: np.ndarray, d: int, text: str) -> str | None:
    m = matrix_literal(lit)
    if m is None or stated.ndim != 1 or exact.ndim != 1:
        return None
    rows = [text[s:e] for s, e in m.row_spans]
    n, k = exact.shape[0], stated.shape[0]
    if k == n - 1:
        for pos in range(k + 1):
            cand = np.insert(stated, pos, np.round(exact[pos], d))
            if all(within(a, b, d) for a, b in zip(cand, exact)):
                new_rows = rows[:pos] + [fmt_number(exact[pos], d)] + rows[pos:]
                return _env_text(m, new_rows, text)
    if k == n + 1:
        for pos in range(k):
            cand = np.delete(stated, pos)
            if all(within(a, b, d) for a, b in zip(cand, exact)):
                return _env_text(m, rows[:pos] + rows[pos + 1:], text)
    rows = [fmt_number(v, d) for v in exact]
    return _env_text(m, rows, text)


def _env_text(m: Matrix, rows: list[str], text: str) -> str:
    src = text[m.span[0]:m.span[1]]
    if src.startswith("\\begin{"):
        head = src[:src.index("}") + 1]
        return f"{head} " + " \\\\ ".join(r.strip() for r in rows) + f" \\end{{{m.env}}}"
    return " \\\\ ".join(r.strip() for r in rows)
