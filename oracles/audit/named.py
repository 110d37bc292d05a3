"""Documents that name their quantities instead of numbering layers: u = x W_1 + b_1, h = tanh(u), p = softmax(o).

Such a document (no layer superscripts anywhere) defines its own forward graph.  A
:class:`NamedGraph` holds its inputs (the worked example's bound values, kept in the
document's shapes: a row vector stays 1×n) and its definitions; a :class:`NamedInstance`
is the graph with one set of input values, and gives any symbol's value by following the
definitions.  Derivatives ∂L/∂o perturb the named quantity o by complex step and
recompute what depends on it through the same definitions, so the backward equations are
checked against the document's own forward pass, whatever its conventions (row vectors,
softmax, its own names).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .tree import Index, Node, Num, Paren, Sym

TARGET_NAMES = ("y", "Y", "t", "target")  # kept as given in random instances (one-hot, probabilities)


def _is_distribution(v: np.ndarray) -> bool:
    """One-hot or probability rows/columns: entries in [0, 1] summing to 1 (softmax targets must stay so)."""
    v = np.asarray(v, float)
    if v.size < 2 or np.any(v < 0) or np.any(v > 1):
        return False
    return bool(np.isclose(v.sum(), 1.0) or np.allclose(v.sum(axis=0), 1.0) or np.allclose(v.sum(axis=-1), 1.0))


DECORATIONS = ("hat", "tilde", "bar", "check", "dot")  # ŷ is not y; bold x is x


def is_label(x: Node) -> bool:
    """A subscript that is part of a name (W_1, J_{\\text{sm}}, J_\\sigma), not an index letter (h_j): a number,
    text, or a name of more than one letter."""
    return isinstance(x, Num) or (isinstance(x, Sym) and not x.sub and (x.font == "text" or len(x.name) > 1))


def sym_key(s: Sym) -> str:
    """The name of a named quantity: W_1 for W with the numeric subscript 1 (J_sm, J_sigma for labels), ŷ apart
    from y, else the letter."""
    name = f"{s.font} {s.name}" if s.font in DECORATIONS else s.name
    if s.sub and all(is_label(x) for x in s.sub):
        return name + "_" + "".join((x.text or str(int(x.value))) if isinstance(x, Num) else x.name for x in s.sub)
    return name


@dataclass
class NamedGraph:
    """Inputs (key -> value) and definitions (key -> (index letter or None, expression)) of a document."""

    inputs: dict[str, np.ndarray] = field(default_factory=dict)
    defs: dict[str, tuple[str | None, Node]] = field(default_factory=dict)
    samples_in_rows: bool | None = None  # X W + b (one sample per row) or W X + b (per column); None: unknown
    one_hot: tuple[str, str] | None = None  # (Y, y): Y is the one-hot matrix of the class labels y
    differentials: bool = False  # the document writes dL = …: a d before a quantity is a differential

    def knows(self, key: str) -> bool:
        return key in self.inputs or key in self.defs or (self.one_hot is not None and key == self.one_hot[0])



@dataclass
class NamedInstance:
    """The document's graph with one set of input values (the worked example's or random ones)."""

    graph: NamedGraph
    values: dict[str, np.ndarray]
    label: str = ""
    cost_expr: Node | None = None

    @property
    def widths(self) -> tuple[int, ...]:
        dims = sorted({d for v in self.values.values() for d in np.shape(v) if d > 1} or {1})
        return tuple(dims)

    @property
    def depth(self) -> int:
        return 1


def is_named_instance(inst) -> bool:
    return isinstance(inst, NamedInstance)


def named_value(key: str, env) -> np.ndarray:
    """The value of a named quantity in ``env`` (its input value or its definition), plus any perturbation."""
    from .semantics import EvalError, evaluate

    inst: NamedInstance = env.inst
    cache = env.named_cache
    if key in cache:
        v = cache[key]
        if isinstance(v, EvalError):
            raise v
        return v
    cache[key] = EvalError("unsupported", f"{key} is defined through itself")
    if key in inst.values:
        v = np.asarray(inst.values[key], complex)
    elif key in inst.graph.defs:
        var, expr = inst.graph.defs[key]
        try:
            v = evaluate(expr, env) if var is None else _elementwise(var, expr, env)
        except EvalError as exc:
            cache[key] = exc
            raise
    elif inst.graph.one_hot is not None and key == inst.graph.one_hot[0]:
        v = _one_hot(inst.graph.one_hot[1], env)
    else:
        del cache[key]
        if key == "d" and inst.graph.differentials:
            raise EvalError("unbound", "differentials (dL, dW written for a change of L, W) are not checked", None)
        raise EvalError("unbound", f"symbol {key!r} is not defined", None)
    bumps = [(e, dv) for (kind, k, e), dv in env.overrides.items() if kind == "named" and k == key]
    if bumps:
        v = np.array(v, complex)
        for e, dv in bumps:
            v[e] += dv
    cache[key] = v
    return v


def _elementwise(var: str, expr: Node, env) -> np.ndarray:
    """p_k = …: the entries for k = 1, 2, … until k runs out of range, shaped like what p_k indexes."""
    from .semantics import EvalError, evaluate

    out = []
    longest = max((d for v in env.inst.values.values() for d in np.shape(v)), default=1)
    for k in range(1, longest + 1):  # no quantity of the document is longer than its longest input
        try:
            v = evaluate(expr, env.with_assign(**{var: k}))
        except EvalError as exc:
            if exc.kind == "range" and out:
                break
            raise
        if np.ndim(v) != 0:
            raise EvalError("shape", f"the entry {var}={k} of an element-wise definition is not a number", expr)
        out.append(complex(v))
    arr = np.array(out, complex)
    like = _indexed_shape(expr, var, env)
    return arr.reshape(like) if like is not None and int(np.prod(like)) == arr.size else arr


def _indexed_shape(expr: Node, var: str, env) -> tuple[int, ...] | None:
    for n in expr.walk():
        if isinstance(n, Sym) and any(isinstance(i, Sym) and i.name == var for i in n.sub):
            try:
                return np.shape(named_value(sym_key(Sym(n.name, font=n.font)), env))
            except Exception:  # noqa: BLE001 - only a hint for the shape
                return None
    return None


def named_symbol(s: Sym, env) -> np.ndarray:
    """A symbol of a named document: W_1 as a whole, or p_k / o_{2} as an entry of p / o."""
    from .semantics import EvalError, transpose

    graph = env.inst.graph
    key = sym_key(s)
    base = sym_key(Sym(s.name, font=s.font))
    if not s.sub or (key != base and graph.knows(key)):
        v = named_value(key, env)
    elif graph.knows(base):
        whole = named_value(base, env)
        idx = tuple(_index(i, env) for i in s.sub)
        v = sample(whole, idx[0], graph, s) if _is_sample_index(whole, idx) else entry(whole, idx, s)
    else:
        raise EvalError("unbound", f"symbol {s.name!r} is not defined", s)
    return transpose(v) if s.transpose else v


def _one_hot(labels_key: str, env) -> np.ndarray:
    """The one-hot matrix of the class labels, shaped like the softmax output it is compared with."""
    from .semantics import EvalError
    from .tree import Apply

    graph = env.inst.graph
    labels = np.asarray(env.inst.values[labels_key]).reshape(-1).astype(int)
    probs = next((k for k, (_, e) in graph.defs.items() if isinstance(e, Apply) and e.fn == "softmax"), None)
    if probs is None:
        raise EvalError("unbound", "the one-hot labels need the softmax output they are compared with", None)
    shape = np.shape(named_value(probs, env))
    rows = graph.samples_in_rows is not False
    classes = shape[-1] if rows else shape[0]
    if labels.size and labels.min() > 0:
        labels = labels - 1  # labels counting from 1, as p_{i, y_i} reads them (see _index)
    if labels.size == 0 or labels.min() < 0 or labels.max() >= classes:
        raise EvalError("range", f"the labels do not fit {classes} classes", None)
    eye = np.eye(classes)[labels]
    return (eye if rows else eye.T).astype(complex)


def _is_sample_index(arr: np.ndarray, idx: tuple[int, ...]) -> bool:
    """One index into a batch matrix (ds_i): it names a sample, not an entry."""
    return np.ndim(arr) == 2 and len(idx) == 1 and 1 not in np.shape(arr)


def sample(arr: np.ndarray, i: int, graph: NamedGraph, node: Node) -> np.ndarray:
    """Sample i of a batch: row i when the document puts samples in rows (X W + b), else column i."""
    from .semantics import EvalError

    axis = 1 if graph.samples_in_rows is False else 0
    if not 1 <= i <= arr.shape[axis]:
        raise EvalError("range", f"sample {i} is out of range 1..{arr.shape[axis]}", node)
    return np.asarray(arr[i - 1:i] if axis == 0 else arr[:, i - 1])  # a row stays 1×n


def _index(node: Node, env) -> int:
    """A 1-based index; a class label used as one (p_{i, y_i}) counts from 0 when the labels do (CS231n's 0..C-1)."""
    from .semantics import _int

    i = _int(node, env)
    label = node
    while isinstance(label, Paren):
        label = label.x
    if isinstance(label, Sym) and label.name in TARGET_NAMES and label.layer is None:
        key = sym_key(Sym(label.name, font=label.font))
        labels = env.inst.values.get(key) if key in env.inst.graph.inputs else None
        if labels is not None and np.size(labels) and np.all(np.mod(labels, 1) == 0) and np.min(labels) == 0:
            return i + 1
    return i


def entry(arr: np.ndarray, idx: tuple[int, ...], node: Node) -> np.ndarray:
    """arr at 1-based indices; one index into a row or column vector picks along its length."""
    from .semantics import EvalError

    if arr.ndim == 0:  # a one-entry quantity (a single output): only index 1 exists
        if all(i == 1 for i in idx):
            return arr
        raise EvalError("range", f"index {max(idx)} is out of range 1..1", node)
    flat = arr.reshape(-1) if arr.ndim == 2 and 1 in arr.shape and len(idx) == 1 else arr
    if len(idx) != flat.ndim:
        raise EvalError("shape", f"{len(idx)} index(es) into a {flat.ndim}-dimensional value", node)
    for i, n in zip(idx, flat.shape):
        if not 1 <= i <= n:
            raise EvalError("range", f"index {i} is out of range 1..{n}", node)
    return np.asarray(flat[tuple(i - 1 for i in idx)])


def named_derivative(num: Node, var: Node, env) -> np.ndarray:
    """∂num/∂var for a named quantity var (or one entry of it), by complex step through the definitions."""
    from .semantics import EvalError, H, _int, evaluate

    idx: tuple[int, ...] = ()
    target = var
    if isinstance(var, Index):
        target = var.x.x if isinstance(var.x, Paren) else var.x
        idx = tuple(_int(i, env) for i in var.idx)
    if not isinstance(target, Sym):
        raise EvalError("unsupported", "derivative with respect to an expression", var)
    graph = env.inst.graph
    key = sym_key(target)
    base_key = sym_key(Sym(target.name, font=target.font))
    if target.sub and (key == base_key or not graph.knows(key)) and graph.knows(base_key):
        key, idx = base_key, tuple(_int(i, env) for i in target.sub)  # ∂L/∂ŷ_k: one entry of ŷ
    base = named_value(key, env)
    if idx and _is_sample_index(base, idx):  # ∂L/∂s_i, ds_i: sample i's row (or column) of the whole gradient
        whole = named_derivative(num, Sym(target.name, font=target.font, span=target.span), env)
        return sample(whole, idx[0], graph, var)
    if idx:
        entry(base, idx, var)  # range check
        if base.ndim == 0:  # one output: ŷ_1 is ŷ itself
            pos: tuple = ()
        else:
            flat_shape = base.reshape(-1).shape if base.ndim == 2 and 1 in base.shape and len(idx) == 1 else base.shape
            pos = np.unravel_index(np.ravel_multi_index(tuple(i - 1 for i in idx), flat_shape), base.shape)
        v = _scalar(evaluate(num, env.perturbed(("named", key, pos), 1j * H)), "a number", var)
        return np.asarray(np.imag(v) / H + 0j)
    entries = list(np.ndindex(*base.shape))
    first = evaluate(num, env.perturbed(("named", key, entries[0]), 1j * H)) if entries else np.zeros(())
    if np.size(first) != 1:  # a vector by a vector: the Jacobian, (i, j) = ∂num_i/∂var_j
        if base.ndim > 1 and 1 not in base.shape:
            raise EvalError("unsupported", "derivative of a vector with respect to a matrix", var)
        J = np.zeros((np.size(first), base.size), complex)
        for col, e in enumerate(entries):
            v = first if col == 0 else evaluate(num, env.perturbed(("named", key, e), 1j * H))
            if np.size(v) != J.shape[0]:
                raise EvalError("unsupported", "derivative of a vector with respect to a vector", var)
            J[:, col] = np.imag(np.ravel(v)) / H
        return J
    out = np.zeros(base.shape, complex)
    for e in entries:
        out[e] = np.imag(_scalar(evaluate(num, env.perturbed(("named", key, e), 1j * H)), "a vector", var)) / H
    return out


def _scalar(v, wrt: str, var: Node):
    """The value differentiated, as a scalar: L = −yᵀ log p is a 1 × 1 product, a number all the same."""
    from .semantics import EvalError

    if np.size(v) != 1:
        raise EvalError("unsupported", f"derivative of a vector with respect to {wrt}", var)
    return np.reshape(v, ())


def random_instances(worked: NamedInstance, seeds: tuple[int, ...]) -> list[NamedInstance]:
    """The graph with random inputs of the worked example's shapes (targets kept: one-hot stays one-hot)."""
    out = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        vals = {k: (v if k in TARGET_NAMES or _is_distribution(v) else rng.normal(0, 0.7, np.shape(v)))
                for k, v in worked.values.items()}
        inst = NamedInstance(worked.graph, vals, f"random values (seed {seed})")
        inst.cost_expr = worked.cost_expr
        out.append(inst)
    return out


def read_named(eqs, has_layers: bool) -> NamedInstance | None:
    """The document's named graph and worked example, when it names its quantities (no layer anywhere)."""
    from .model import is_numeric
    from .semantics import Convention, Env, EvalError, evaluate, make_instance

    if has_layers:
        return None
    graph = NamedGraph()
    dummy = Env(make_instance((1, 1)), Convention())
    for eq in eqs:
        lhs = eq.members[0]
        while isinstance(lhs, Paren):
            lhs = lhs.x
        if not isinstance(lhs, Sym) or lhs.layer is not None or lhs.font == "text" or len(eq.members) < 2:
            continue
        if "other" in eq.rels:  # x ∈ ℝ², n ≤ 3: says something about x, defines nothing
            continue
        key = sym_key(lhs)
        if graph.knows(key):
            continue
        rest = eq.members[1:]
        if all(is_numeric(m) for m in rest):
            if lhs.sub and (graph.knows(sym_key(Sym(lhs.name, font=lhs.font)))
                            or not all(is_label(x) for x in lhs.sub)):
                continue  # p_2 = 0.3 once p is known, y_k = …: an entry, not a quantity
            try:
                graph.inputs[key] = np.real(evaluate(rest[-1], dummy))
            except EvalError:
                continue
            continue
        rhs = rest[0]
        if is_numeric(rhs) or any(isinstance(n, Sym) and sym_key(n) == key for n in rhs.walk()):
            continue
        letter = None
        if lhs.sub and not all(is_label(x) for x in lhs.sub):  # z_1 is a name (its key), h_j an entry of h
            if len(lhs.sub) != 1 or not isinstance(lhs.sub[0], Sym):
                continue
            letter, key = lhs.sub[0].name, sym_key(Sym(lhs.name, font=lhs.font))
            if graph.knows(key):
                continue
        graph.defs[key] = (letter, rhs)
    if not graph.inputs or not graph.defs:
        return None
    graph.samples_in_rows = _samples_in_rows(graph)
    _widen_scalar_terms(graph)
    return NamedInstance(graph, dict(graph.inputs), "worked example")


def _widen_scalar_terms(graph: NamedGraph) -> None:
    """A number given for a quantity that a definition adds to a vector (b_2 = 0 in z_2 = W_2 h + b_2) is that
    vector's shape filled with the number, as the document means it: read as a scalar, ∂L/∂b_2 would be the sum
    of ∂L/∂z_2's entries instead of ∂L/∂z_2 itself."""
    from .semantics import Convention, Env, EvalError, evaluate
    from .tree import BinOp

    inst = NamedInstance(graph, dict(graph.inputs))
    for key in [k for k, v in graph.inputs.items() if np.ndim(v) == 0]:
        for _, expr in graph.defs.values():
            sums = [n for n in expr.walk() if isinstance(n, BinOp) and n.op in ("+", "-")]
            others = [o for n in sums for m, o in ((n.left, n.right), (n.right, n.left))
                      if isinstance(m, Sym) and sym_key(m) == key]
            for other in others:
                try:
                    shape = np.shape(evaluate(other, Env(inst, Convention())))
                except EvalError:
                    continue
                if shape:
                    graph.inputs[key] = np.full(shape, graph.inputs[key])
                    break
            if np.ndim(graph.inputs[key]):
                break


def _samples_in_rows(graph: NamedGraph) -> bool | None:
    """True when the definitions multiply by the weights on the right (X W_1, h W_2: one sample per row), False
    when on the left (W_1 X), None when they do neither or both."""
    from .tree import BinOp

    def is_weight(n: Node) -> bool:
        while isinstance(n, Paren):
            n = n.x
        return isinstance(n, Sym) and n.name in ("W", "w") and sym_key(n) in graph.inputs and not n.transpose

    right = left = 0
    for _, expr in graph.defs.values():
        for n in expr.walk():
            if isinstance(n, BinOp) and n.op in ("mul", "cdot", "times"):
                right += is_weight(n.right) and not is_weight(n.left)
                left += is_weight(n.left) and not is_weight(n.right)
    return None if left == right else right > left


def named_recompute(key: str, docvals: dict, inst: NamedInstance) -> list[np.ndarray]:
    """``key`` recomputed from its definition with the values the document states for the rest (its own
    rounded intermediates): a stated number that follows from those is a rounding, not an error."""
    from .semantics import Convention, Env, EvalError

    if not isinstance(inst, NamedInstance) or key not in inst.graph.defs:
        return []
    values = dict(inst.values)
    for q, v in docvals.items():  # keys are quantities: ("named", name), ("a", L), ("W", L, "T"), …
        if q[0] == "named" and q[1] != key and q[1] in inst.graph.defs:
            values[q[1]] = np.asarray(v)
    try:
        return [np.real(named_value(key, Env(NamedInstance(inst.graph, values, inst.label), Convention(named=True))))]
    except EvalError:
        return []
