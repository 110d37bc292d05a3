"""The document's network, notation and costs, found from the document itself.

Sizes come from the worked example's PROBLEM matrices (or, failing that, from
the index ranges the symbolic part uses); the cost from the document's own
definition of C; the activation from its definition of σ or the words it uses;
the layer numbering and the meaning of δ from whichever convention makes the
document's equations hold best.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from manualbp import Case

from .activations import output_in_words, read_layer_definitions, resolve, sigma_meaning
from .entrywise import read_entries, weights_input_first
from .extract import Equation
from .named import random_instances, read_named, sym_key
from .semantics import (
    Convention,
    Env,
    EvalError,
    Instance,
    evaluate,
    make_instance,
    output_activation,
    sym_kind,
    transpose,
)
from .tree import Apply, BinOp, Deriv, Matrix, Neg, Node, Num, Paren, Pow, Sum, Sym, map_tree

SCALAR_VAR_CANDIDATES = ("x", "t", "u", "s", "v")


def numbers_in(node: Node) -> list[Num]:
    """Every Num node (in source order)."""
    return [n for n in node.walk() if isinstance(n, Num)]


def is_numeric(node: Node) -> bool:
    """True when the expression has no symbols other than functions and constants."""
    for n in node.walk():
        if isinstance(n, Sym) and not (n.name == "e" and not n.sub and not n.font):  # Euler's e (see own_e)
            return False
        if isinstance(n, Deriv):
            return False
    return True


def has_decimals(node: Node) -> bool:
    return any(n.decimals > 0 for n in numbers_in(node))


def index_letters(node: Node) -> tuple[set[str], set[str]]:
    """(layer variables, index variables) used free in an expression."""
    layers: set[str] = set()
    idx: set[str] = set()
    bound: set[str] = set()

    def visit(n: Node, bound: frozenset):
        if isinstance(n, Sum):
            visit(n.lo, bound)
            visit(n.hi, bound)
            visit(n.body, bound | {n.var})
            return
        if isinstance(n, Sym):
            kind = sym_kind(n)
            for s in n.sub:
                for m in s.walk():
                    if isinstance(m, Sym) and len(m.name) == 1 and m.name.isalpha() and m.name not in bound:
                        (layers if kind == "n" else idx).add(m.name)
            if n.layer is not None:
                for m in n.layer.walk():
                    if isinstance(m, Sym) and len(m.name) == 1 and m.name.isalpha() and m.name not in bound:
                        layers.add(m.name)
            return
        for c in n.children():
            visit(c, bound)

    visit(node, frozenset(bound))
    return layers, idx - layers


def scalar_vars(members: list[Node]) -> set[str]:
    """Bare letters used as a function's variable (σ(x) = 1/(1+e^{-x})), in equations without layers."""
    found: set[str] = set()
    for m in members:
        for n in m.walk():
            if isinstance(n, Sym) and (n.sub or n.layer is not None):
                return set()
            if isinstance(n, Sym) and n.name in SCALAR_VAR_CANDIDATES and not n.font:
                found.add(n.name)
    # the free variable of a function's definition: σ(z) = 1/(1+e^{-z}), σ'(z) = σ(z)(1 − σ(z))
    for m in members[:1]:
        for n in m.walk():
            if isinstance(n, Apply):
                arg = n.arg
                while isinstance(arg, Paren):
                    arg = arg.x
                if isinstance(arg, Sym) and len(arg.name) == 1 and arg.name != "e":
                    found.add(arg.name)
    return found


def canonical(node: Node, conv: Convention) -> tuple | None:
    """The network quantity an expression names, as (kind, internal layer[, 'T'])."""
    if conv.named:  # a quantity the document names (o, p, W_2), not one of manualbp's layers
        while isinstance(node, Paren):
            node = node.x
        return ("named", sym_key(node)) if isinstance(node, Sym) and not node.transpose and (
            not node.sub or all(isinstance(x, Num) for x in node.sub)) else None
    while isinstance(node, Paren):
        node = node.x
    from .tree import Transpose
    if isinstance(node, Transpose):
        q = canonical(node.x, conv)
        return None if q is None else (*q, "T")
    if conv.augmented is not None and _augmented_symbol(node, conv):
        return _augmented_quantity(node, conv)
    try:
        if isinstance(node, Sym) and not node.sub:
            kind = sym_kind(node)
            if node.layer is None:
                return {"x": ("a", 1), "y": ("y", 0)}.get(kind) if not node.transpose else None
            lay = node.layer
            if not isinstance(lay, Num):
                return None
            lv = int(lay.value)
            q = None
            if kind in ("a", "z"):
                q = (kind, conv.layer(lv))
            elif kind == "delta":
                q = ("delta" if conv.delta == "a" else "dz", conv.layer(lv))
            elif kind in ("w", "b"):
                q = ("W" if kind == "w" else "b", conv.weight(lv))
            if q is not None and node.transpose:
                q = (*q, "T")
            return q
        if isinstance(node, Deriv) and isinstance(node.num, Sym) and sym_kind(node.num) == "C":
            v = node.var.x if isinstance(node.var, Paren) else node.var
            if isinstance(v, Sym) and not v.sub and isinstance(v.layer, Num):
                lv = int(v.layer.value)
                kind = sym_kind(v)
                if kind == "b":
                    return ("dz", conv.weight(lv) + 1)
                if kind == "w":
                    return ("dW", conv.weight(lv))
                if kind == "a":
                    return ("delta", conv.layer(lv))
                if kind == "z":
                    return ("dz", conv.layer(lv))
        if isinstance(node, Apply) and node.fn in ("sigma'", "sigma"):
            arg = node.arg
            while isinstance(arg, Paren):
                arg = arg.x
            if isinstance(arg, Sym) and sym_kind(arg) == "z" and not arg.sub and isinstance(arg.layer, Num):
                return ("sp" if node.fn == "sigma'" else "a", conv.layer(int(arg.layer.value)))
    except (ValueError, TypeError):
        return None
    return None


def _augmented_symbol(node: Node, conv: Convention) -> bool:
    """True for an augmented vector, the augmented W or ∂C/∂(augmented W)."""
    from .semantics import _decoration

    aug = conv.augmented
    if isinstance(node, Deriv):
        node = node.var
    while isinstance(node, Paren):
        node = node.x
    if not isinstance(node, Sym):
        return False
    kind = sym_kind(node)
    return (kind in ("a", "x") and aug.is_augmented_vector(node)) or (
        kind == "w" and aug.is_augmented_weight(_decoration(node)))


def _augmented_quantity(node: Node, conv: Convention) -> tuple | None:
    """("Wa", k) for the augmented W^(k), ("dWa", k) for ∂C/∂ of it, ("aa", L) for layer L's augmented vector."""
    deriv = isinstance(node, Deriv)
    if deriv and not (isinstance(node.num, Sym) and sym_kind(node.num) == "C"):
        return None
    s = node.var if deriv else node
    while isinstance(s, Paren):
        s = s.x
    kind = sym_kind(s)
    if s.sub or (kind == "x" and s.layer is not None) or (kind != "x" and not isinstance(s.layer, Num)):
        return None
    if kind == "w":
        q = ("dWa" if deriv else "Wa", conv.weight(int(s.layer.value)))
    elif deriv:
        return None
    else:
        q = ("aa", 1 if kind == "x" else conv.layer(int(s.layer.value)))
    return (*q, "T") if s.transpose else q


@dataclass
class Model:
    """What the audit knows about the document's network."""

    conv: Convention = field(default_factory=Convention)
    activation: str = "sigmoid"  # the hidden layers' (and every layer's the document does not say otherwise)
    defined_acts: dict = field(default_factory=dict)  # doc layer -> activation, from the document's definitions
    output_act: str | None = None  # the output layer's activation, named in the document's words
    sigma_act: str | None = None  # what σ denotes when the document fixes it (its definition, or beside tanh)
    cost: str = "half_mse"
    cost_expr: Node | None = None
    out_width: int | None = None
    depth: int = 4
    worked: Instance | None = None
    bindings: dict = field(default_factory=dict)  # (kind, doc index) -> (value, equation)
    binding_eqs: set = field(default_factory=set)  # equation indices that only bind values
    alias: dict = field(default_factory=dict)
    constants: dict = field(default_factory=dict)  # letter -> the number the document gives it (N = 1)
    euler: bool = True  # e is Euler's number, unless the document defines an e of its own (e(n) = d(n) − o(n))
    inferred_widths: dict = field(default_factory=dict)  # doc layer -> width (from the symbolic part)
    entry_gaps: list = field(default_factory=list)  # the entries missing from a worked example given entry-wise
    output_letter: str | None = None  # "L" when L names the output layer (Nielsen), not a free layer
    formulas: dict = field(default_factory=dict)  # named documents: stated key -> the document's formulas for it
    notes: list = field(default_factory=list)
    _randoms: list | None = None

    def env(self, inst: Instance, **kw) -> Env:
        return Env(inst, self.conv, cost=self.cost, symbol_alias=self.alias, output_letter=self.output_letter,
                   sigma=self.sigma_act, constants=self.constants, euler=self.euler, **kw)

    def stated_output(self) -> str | None:
        """The output layer's activation as the document states it (its words, or its last layer's definition)."""
        if self.output_act:
            return self.output_act
        if not self.defined_acts:
            return None
        act = self.defined_acts[max(self.defined_acts)]
        return self.sigma_act if act == "sigma" else act

    def layer_activations(self, depth: int, cost: str | None = None) -> tuple[str, ...]:
        """One activation per layer after the input: the document's definitions, its words for the output
        layer, the output ``cost`` needs (sigmoid under cross-entropy), else the hidden activation."""
        output = self.output_act or output_activation(cost or self.cost)
        return resolve(depth, self.conv.base, self.activation, self.sigma_act, self.defined_acts, output)

    def widths(self) -> tuple[int, ...]:
        if self.worked is not None:
            return self.worked.widths
        ws = []
        for L in range(self.depth):
            doc = self.conv.base + L
            ws.append(self.inferred_widths.get(doc, 3))
        if self.out_width:
            ws[-1] = self.out_width
        return tuple(ws)

    def instances(self, kind: str) -> list[Instance]:
        """'worked': the worked example; 'fixed': its widths with random values; 'free': also other widths."""
        out: list[Instance] = []
        if self.conv.named:
            if self._randoms is None:
                self._randoms = random_instances(self.worked, (11, 12))
            return [self.worked] + ([] if kind == "worked" else self._randoms)
        ws = self.widths()
        if self._randoms is None:
            self._randoms = []
            for seed in (11, 12):
                self._randoms.append(self._instance(ws, seed))
            rng = np.random.default_rng(7)
            for seed in (13, 14):
                other = [int(rng.integers(2, 5)) for _ in ws]
                if self.out_width:
                    other[-1] = self.out_width
                else:
                    other[-1] = ws[-1]
                self._randoms.append(self._instance(tuple(other), seed))
        if kind == "worked":
            return [self.worked] if self.worked is not None else self._randoms[:1]
        if self.worked is not None:
            out.append(self.worked)
        if kind == "fixed":
            return out + self._randoms[:1]
        return out + self._randoms[:1] + self._randoms[2:]

    def _instance(self, ws, seed) -> Instance:
        batch = self.worked.case.x.shape[1] if self.worked is not None and self.worked.case.batched else None
        inst = make_instance(ws, activation=self.activation, cost=self.cost, seed=seed, batch=batch,
                             activations=self.layer_activations(len(ws)))
        if self.worked is not None:  # a weight vector stays one: the document's w^T h on every instance
            inst.vector_weights = frozenset(k for k in self.worked.vector_weights if ws[k] == 1)
        inst.cost_expr = self.cost_expr
        return inst


def configure_named(model: Model, eqs: list[Equation], prose: str) -> bool:
    """Set the model up for a document that names its quantities (see :mod:`oracles.audit.named`); False if not."""
    has_layers = any(isinstance(n, Sym) and n.layer is not None and sym_kind(n) in ("a", "z", "w", "b", "delta")
                     for eq in eqs for m in eq.members for n in m.walk())
    worked = read_named(eqs, has_layers)
    if worked is None:
        return False
    model.conv = Convention(named=True)
    model.worked = worked
    graph = worked.graph
    labels = next((k for k in ("y", "t") if k in graph.inputs), None)
    if ("one-hot" in prose.lower() or "one hot" in prose.lower()) and labels is not None and not graph.knows(
            labels.upper()) and np.all(np.mod(graph.inputs[labels], 1) == 0):
        graph.one_hot = (labels.upper(), labels)  # "Y is the one-hot matrix of labels"
    cost = next((k for k in ("L", "J", "C", "E") if k in worked.graph.defs), None)
    if cost is not None:  # ds, dW_2: CS231n's gradients of the loss
        from .notation import read_named_derivative_prefix
        read_named_derivative_prefix(eqs, worked.graph.knows, cost)
    model._randoms = None
    model.cost, model.cost_expr = "the document's own", None
    for eq in eqs:
        lhs = eq.members[0]
        while isinstance(lhs, Paren):
            lhs = lhs.x
        if isinstance(lhs, Sym) and sym_key(lhs) in worked.graph.inputs and all(is_numeric(m) for m in eq.members[1:]):
            model.binding_eqs.add(eq.index)
    detect_activation(model, eqs, prose)
    return True


def build_worked(model: Model, eqs: list[Equation]) -> tuple[Instance | None, list[str]]:
    """The worked example from the bindings (W, b, x, y), validated by manualbp's Case."""
    b = model.bindings
    ws = sorted(k for (kind, k) in b if kind == "w")
    if not ws or ("x", 0) not in b or ("y", 0) not in b:
        return None, []
    Ws, bs = [], []
    problems: list[str] = []
    x0 = _sample_or_batch(b[("x", 0)][0])
    vectors = set()
    aug = model.conv.augmented
    for k in ws:
        W = np.real(b[("w", k)][0])
        prev = Ws[-1].shape[0] if Ws else x0.shape[0]
        if aug is not None and ("b", k) not in b and W.ndim == 2 and W.shape[1] == prev + 1:
            if aug.position is None:
                return None, []  # reported by the auditor: the bias column is not placed
            W, bias = aug.split(W)  # the bias folded into W^{(l)}: the network's W and b
            Ws.append(W)
            bs.append(bias)
            continue
        if W.ndim == 1:  # one output unit's weights (w^{(2)} = (0.7, -0.5)^T, used as w^T h) or a 1-wide input's
            prev = Ws[-1].shape[0] if Ws else x0.shape[0]
            if W.size == prev and W.size > 1:
                W = W[None, :]
                vectors.add(len(Ws) + 1)
            else:
                W = W[:, None]
        Ws.append(W)
        if ("b", k) not in b:
            return None, [f"b^({k}) is not given in the worked example"]
        bv = np.real(b[("b", k)][0])
        bs.append(bv.reshape(-1))
    x, y = _sample_or_batch(b[("x", 0)][0]), _sample_or_batch(b[("y", 0)][0])
    if x.ndim == 2 and y.ndim == 1 and y.size == x.shape[1]:
        y = y[None, :]  # one output per sample of the batch
    cost = model.cost if model.cost in ("half_mse", "half_sse", "mse", "bce") else "half_mse"
    try:
        case = Case.create(Ws, bs, x, y, activations=model.layer_activations(len(Ws) + 1, cost), cost=cost,
                           label="worked example")
    except (ValueError, TypeError) as exc:
        return None, [str(exc)]
    inst = Instance(case, "worked example", vector_weights=frozenset(vectors))
    inst.cost_expr = model.cost_expr
    return inst, problems


def find_constants(model: Model, eqs: list[Equation]) -> None:
    """Letters the document gives a number (N = 1, \\eta = 0.5): bare symbols that name no network quantity (m stays
    the batch size, checked against the worked example), each bound once, its equation a given value."""
    for eq in eqs:
        if len(eq.members) != 2 or eq.rels != ["="]:
            continue
        lhs, rhs = eq.members
        while isinstance(lhs, Paren):
            lhs = lhs.x
        if not (isinstance(lhs, Sym) and not lhs.sub and lhs.layer is None and not lhs.font and not lhs.transpose
                and not lhs.prime and sym_kind(lhs) is None and lhs.name not in ("e", "m", model.output_letter)
                and is_literal_number(rhs)):
            continue
        if lhs.name in model.constants:
            continue
        value = rhs
        sign = 1.0
        while isinstance(value, (Paren, Neg)):
            sign = -sign if isinstance(value, Neg) else sign
            value = value.x
        model.constants[lhs.name] = sign * float(np.real(value.value))
        model.binding_eqs.add(eq.index)


def defines_e(eqs: list[Equation]) -> bool:
    """Whether the document defines a quantity named e (e = d − o, e(n) = d(n) − o(n), e_k = t_k − y_k): then its e
    is that quantity, not Euler's number."""
    for eq in eqs:
        if len(eq.members) < 2 or "other" in eq.rels:
            continue
        lhs = eq.members[0]
        while isinstance(lhs, Paren):
            lhs = lhs.x
        if isinstance(lhs, BinOp) and lhs.op == "mul" and isinstance(lhs.right, Paren):  # e(n): e applied to n
            lhs = lhs.left
        if isinstance(lhs, Sym) and lhs.name == "e" and lhs.layer is None and not is_numeric(eq.members[1]):
            return True
    return False


OWN_E = "mathit"
"""The font a document's own e is marked with (by :func:`own_e`): a symbol like any other, not Euler's number."""


def own_e(eqs: list[Equation]) -> None:
    """In a document that defines its own e, its bare e is that quantity (marked with :data:`OWN_E`) and e^{2}
    written for it is e squared, not exp(2), in place."""
    def power(n: Node, text: str) -> Node:
        if isinstance(n, Apply) and n.fn == "exp" and text[n.span[0]:n.span[0] + 1] == "e":
            return Pow(Sym("e", font=OWN_E, span=(n.span[0], n.span[0] + 1)), n.arg, span=n.span)
        if isinstance(n, Sym) and n.name == "e" and not n.sub and n.layer is None and not n.font:
            return Sym("e", transpose=n.transpose, prime=n.prime, font=OWN_E, span=n.span)
        return n

    for eq in eqs:
        blocks = eq.member_blocks or [eq.block] * len(eq.members)
        eq.members = [map_tree(m, lambda n, t=b.text: power(n, t)) for m, b in zip(eq.members, blocks)]


def uses_constants(members: list[Node], constants: dict) -> bool:
    """True when a member uses a letter the document gave a number (its value holds for the worked example's
    widths only: N = 1 output)."""
    return bool(constants) and any(isinstance(n, Sym) and not n.sub and n.layer is None and not n.font
                                   and n.name in constants for m in members for n in m.walk())


def _sample_or_batch(v) -> np.ndarray:
    """A vector for one sample; a matrix with one column per sample for a batch (X = [x^{(1)} … x^{(m)}])."""
    v = np.real(np.asarray(v))
    return v if v.ndim == 2 and v.shape[0] > 1 and v.shape[1] > 1 else v.reshape(-1)


def find_bindings(model: Model, eqs: list[Equation]) -> None:
    """PROBLEM values: w^{(l)} = …, b^{(l)} = …, x = …, y = … with numeric right-hand sides."""
    dummy_env = None
    for eq in eqs:
        if len(eq.members) < 2:
            continue
        lhs = _bound_symbol(eq.members)
        if lhs is None:
            continue
        kind = sym_kind(lhs)
        if kind in ("w", "b"):
            if not isinstance(lhs.layer, Num):
                continue
            key = (kind, int(lhs.layer.value))
        else:
            if lhs.layer is not None:
                continue
            key = (kind, 0)
        if key in model.bindings:
            continue
        try:
            if dummy_env is None:
                dummy_env = Env(make_instance((1, 1)), Convention())
            val = evaluate(eq.members[-1], dummy_env)
        except EvalError:
            continue
        if lhs.transpose:
            val = transpose(val)
        model.bindings[key] = (val, eq)
        model.binding_eqs.add(eq.index)
    bind_entries(model, eqs)


def bind_entries(model: Model, eqs: list[Equation]) -> None:
    """Bindings for W, b, x and y given entry by entry (w^{(1)}_{12} = 0.8), when every entry of each is given;
    otherwise ``model.entry_gaps`` names the missing entries and none of them is bound."""
    entries = read_entries(eqs)
    entries.values = {k: v for k, v in entries.values.items() if k not in model.bindings}
    if not entries.values:
        return
    first = weights_input_first(eqs)
    tries = [False, True] if first is None else [first]  # without a Σ to say, the reading whose layers chain
    got = next((g for g in map(entries.assembled, tries) if not entries.gaps and _chains(g, model.bindings)), None)
    if got is None:
        got = entries.assembled(tries[0])
    if entries.gaps:
        model.entry_gaps = entries.gaps
        return
    if not any(kind == "w" for kind, _ in (*got, *model.bindings)):
        return
    for key, (val, _) in got.items():
        model.bindings[key] = (val, got[key][1])
        for eq in entries.values[key].values():
            model.binding_eqs.add(eq[1].index)


def _chains(got: dict, bound: dict) -> bool:
    """True when the weight matrices (entry-wise or whole) chain: each one's columns are the rows before it."""
    allb = {**bound, **got}
    ws = sorted(k for kind, k in allb if kind == "w")
    prev = None
    if ("x", 0) in allb:
        prev = np.asarray(allb[("x", 0)][0]).size
    for k in ws:
        W = np.atleast_2d(np.real(np.asarray(allb[("w", k)][0])))
        if prev is not None and W.shape[1] != prev:
            return False
        prev = W.shape[0]
    return True

def _bound_symbol(members: list[Node]) -> Sym | None:
    """The symbol a binding gives a value: w^{(2)} = […]; in a chain x = a^{(1)} = […], the x."""
    syms = []
    for m in members:
        while isinstance(m, Paren):
            m = m.x
        if not is_numeric(m):
            syms.append(m)
    if not syms or is_numeric(members[0]) or not is_numeric(members[-1]):
        return None
    if not all(isinstance(x, Sym) and not x.sub and (not x.transpose or len(syms) == 1) for x in syms):
        return None
    kinds = [sym_kind(x) for x in syms]
    if len(syms) == 1:  # w^{(2)\top} = (0.7, -0.5) too: the value is transposed back
        return syms[0] if kinds[0] in ("w", "b", "x", "y") else None
    if "x" in kinds and all(k in ("x", "a") for k in kinds):
        return syms[kinds.index("x")]  # x = a^{(1)} = […]: the input, named twice
    return None


def detect_activation(model: Model, eqs: list[Equation], prose: str) -> None:
    """σ from its definition σ(x) = …, else from the words of the document."""
    for eq in eqs:
        lhs = eq.members[0]
        if isinstance(lhs, Apply) and lhs.fn == "sigma" and len(eq.members) >= 2:
            sv = scalar_vars(eq.members)
            if not sv:
                continue
            for act in ("sigmoid", "tanh", "softplus", "relu", "identity"):
                inst = make_instance((1, 1), activation=act)
                ok = True
                for xv in (-1.3, 0.4, 2.1):
                    env = Env(inst, model.conv, scalars={v: complex(xv) for v in sv})
                    try:
                        a = evaluate(eq.members[0], env)
                        b = evaluate(eq.members[1], env)
                    except EvalError:
                        ok = False
                        break
                    if not np.allclose(a, b, rtol=1e-9, atol=1e-12):
                        ok = False
                        break
                if ok:
                    model.activation = model.sigma_act = act
                    model.notes.append(f"activation {act} (from the definition of σ)")
                    return
    text = prose.lower()
    uses_tanh = any(isinstance(n, Apply) and n.fn.startswith("tanh") for eq in eqs for m in eq.members
                    for n in m.walk())
    if uses_tanh or "tanh" in text:
        model.activation = "tanh"
    elif "relu" in text:
        model.activation = "relu"
    model.notes.append(f"activation {model.activation}")


def detect_layer_activations(model: Model, eqs: list[Equation], prose: str) -> None:
    """Each layer's activation where the document defines it (a^{(3)} = z^{(3)}, A^{[2]} = σ(Z^{[2]})) and the
    output layer's where its words name it ("a linear output layer")."""
    model.defined_acts = read_layer_definitions([eq.members for eq in eqs])
    model.output_act = output_in_words(prose)
    if model.sigma_act is None:
        model.sigma_act = sigma_meaning(model.defined_acts)
    told = [f"layer {k}: {act}" for k, act in sorted(model.defined_acts.items())]
    if told:
        model.notes.append("activations defined by the document: " + ", ".join(told))
    if model.output_act:
        model.notes.append(f"output activation {model.output_act} (from the document's words)")


def detect_cost(model: Model, eqs: list[Equation], prose: str) -> bool:
    """The cost from the document's definition of C; True when one was found."""
    for eq in eqs:
        lhs = eq.members[0]
        while isinstance(lhs, Paren):
            lhs = lhs.x
        if not (isinstance(lhs, Sym) and sym_kind(lhs) == "C") or len(eq.members) < 2:
            continue
        rhs = eq.members[1]
        outs = [n for n in rhs.walk() if isinstance(n, Sym) and sym_kind(n) == "a" and n.sub]
        if not outs:
            continue
        idx = [int(s.sub[0].value) for s in outs if isinstance(s.sub[0], Num)]
        has_sum = any(isinstance(n, Sum) for n in rhs.walk())
        if idx and not has_sum:
            model.out_width = max(idx)
        model.binding_eqs.add(eq.index)
        model.cost_definition = eq  # type: ignore[attr-defined]
        model.cost_rhs = rhs  # type: ignore[attr-defined]
        return True
    if "cross-entropy" in prose.lower() or "cross entropy" in prose.lower():
        model.cost = "bce"
        return True
    return False


def with_cost(inst: Instance, model: Model, cost: str) -> Instance | None:
    """The instance with the model's activations under ``cost`` (a sigmoid output under cross-entropy, unless the
    document says otherwise); None if impossible."""
    arch = inst.case.arch
    c = inst.case
    acts = model.layer_activations(arch.depth, cost)
    if arch.cost == cost and arch.activations == acts:
        return inst
    try:
        case = Case.create(c.weights, c.biases, c.x, c.y, activations=acts, cost=cost, label=c.label)
    except (ValueError, TypeError):
        return None
    out = Instance(case, inst.label, vector_weights=inst.vector_weights)
    out.cost_expr = inst.cost_expr
    return out


def match_cost(model: Model) -> None:
    """Name the cost defined by the document (or keep its own expression)."""
    rhs = getattr(model, "cost_rhs", None)
    if rhs is None:
        return
    for name in ("half_mse", "half_sse", "mse", "bce"):
        model.cost, model.cost_expr = name, None
        model._randoms = None
        ok = True
        from .semantics import cost_value
        try:
            insts = model.instances("fixed")
        except (ValueError, TypeError):  # a cost the document's own layers cannot take (cross-entropy, linear)
            continue
        for inst in insts:
            inst = with_cost(inst, model, name)
            if inst is None:
                ok = False
                break
            env = model.env(inst)
            try:
                v = evaluate(rhs, env)
                want = cost_value(name, inst.base()["a"][inst.depth], np.asarray(inst.case.y, complex))
            except EvalError:
                ok = False
                break
            if v.ndim != 0 or not np.isclose(v, want, rtol=1e-9, atol=1e-12):
                ok = False
                break
        if ok:
            model.notes.append(f"cost {name} (from the definition of C)")
            return
    model.cost, model.cost_expr = "half_mse", rhs
    model._randoms = None
    if model.worked is not None:
        model.worked.cost_expr = rhs
    model.notes.append("cost: the document's own C (matches no named cost)")


def infer_widths(model: Model, eqs: list[Equation]) -> None:
    """Largest explicit index of each layer in the symbolic part (when there is no worked example)."""
    widths: dict[int, int] = {}
    layers_seen: set[int] = set()
    for eq in eqs:
        for m in eq.members:
            for n in m.walk():
                if not isinstance(n, Sym) or not isinstance(n.layer, Num):
                    continue
                lv = int(n.layer.value)
                kind = sym_kind(n)
                subs = [int(s.value) for s in n.sub if isinstance(s, Num)]
                if kind in ("a", "z", "delta"):
                    layers_seen.add(lv)
                    if subs:
                        widths[lv] = max(widths.get(lv, 1), subs[0])
                elif kind in ("w", "b"):
                    layers_seen.add(lv)
                    off = model.conv.base - model.conv.wmin  # W^(l) maps doc layer l+off to l+off+1
                    if subs:
                        widths[lv + off + 1] = max(widths.get(lv + off + 1, 1), subs[0])
                    if kind == "w" and len(subs) == 2:
                        widths[lv + off] = max(widths.get(lv + off, 1), subs[1])
    model.inferred_widths = widths
    if layers_seen:
        hi = max(widths) if widths else max(layers_seen)
        model.depth = max(2, hi - model.conv.base + 1)


def matrix_literal(node: Node) -> Matrix | None:
    """The Matrix when ``node`` is a (parenthesised) vector/matrix literal."""
    while isinstance(node, Paren):
        node = node.x
    return node if isinstance(node, Matrix) else None


def is_literal_number(node: Node) -> bool:
    while isinstance(node, Paren):
        node = node.x
    if isinstance(node, Neg):
        return is_literal_number(node.x)
    return isinstance(node, Num)
