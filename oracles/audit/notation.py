"""Read a document's notation as a whole: layer superscripts, the output-layer letter, shorthands, conventions.

Nielsen's notation writes layers as bare superscripts (a^l, w^{l+1}, z^2) and
L for the output layer; other notations write a^{(l)} or a^{[l]} and use a^2
for a square.  :func:`read_notation` settles, for the whole document, what a
bare digit superscript on a network letter means and whether L is a fixed
layer, and rewrites the shorthands whose meaning depends on that (Ng's dZ^{[l]}
for ∂C/∂Z^{[l]}, ∇_a C, σ' = σ(1 − σ) without arguments).
:func:`stated_input_layer` and :func:`stated_weight_offset` read the convention
the prose states ("the input is layer 1", "W^{(l)} maps layer l-1 to layer l"),
which wins over any guess from the equations; :func:`structural_input_layer`
reads it from the numbering (z^{(1)} = W^{(1)} x + b^{(1)}: the input is layer 0).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from .extract import Equation
from .semantics import D_PREFIX, sym_kind
from .tree import Apply, BinOp, Deriv, Matrix, Node, Num, Paren, Pow, Sym, map_tree

LAYER_KINDS = ("a", "z", "w", "b", "delta")
FUNCTION_SYMBOLS = {"sigma": "sigma", "phi": "phi", "varphi": "phi", "tanh": "tanh"}
FREE_VARIABLE = "t"  # the argument given to a function written without one (σ' = σ(1 − σ))


@dataclass
class Notation:
    """What the document's notation settles: bare digit layers, and the letter of the output layer."""

    bare_layers: bool = False
    output_letter: str | None = None


def _layer_letters(eqs: list[Equation], style: str | None = None) -> set[str]:
    out: set[str] = set()
    for eq in eqs:
        for m in eq.members:
            for n in m.walk():
                if isinstance(n, Sym) and n.layer is not None and sym_kind(n) in LAYER_KINDS and (
                        style is None or n.layer_style == style):
                    out |= {x.name for x in n.layer.walk() if isinstance(x, Sym) and len(x.name) == 1}
    return out


def _as_power(n: Node) -> Node:
    """a^2 read as a square: the digit superscript taken back from the symbol."""
    if isinstance(n, Sym) and n.layer_style == "digit":
        base = replace(n, layer=None, layer_style="", layer_span=None, transpose=False)
        node = Pow(base, n.layer, span=n.span)
        return node
    return n


def read_notation(eqs: list[Equation], prose: str) -> Notation:
    """Settle the document-wide notation and rewrite the equations' members accordingly (in place)."""
    note = Notation()
    note.bare_layers = bool(_layer_letters(eqs, "bare"))
    if not note.bare_layers:
        for eq in eqs:
            eq.members = [map_tree(m, _as_power) for m in eq.members]
    letters = _layer_letters(eqs)
    if "L" in letters and ("l" in letters or stated_output_letter(prose) == "L"):
        note.output_letter = "L"
    read_derivative_prefix(eqs, note.output_letter)
    for eq in eqs:
        if any(_relu_as_max(n) is not n for m in eq.members for n in m.walk()):
            eq.members = [map_tree(m, _relu_as_max) for m in eq.members]
    for eq in eqs:
        if any(_bare_function(n) for m in eq.members for n in m.walk()):
            eq.members = [lift_bare_functions(m) for m in eq.members]
    return note


def _relu_as_max(n: Node) -> Node:
    """max(0, u) (or max(u, 0)) is ReLU(u)."""
    if not (isinstance(n, BinOp) and n.op == "mul" and isinstance(n.left, Sym) and n.left.name == "max"
            and not n.left.sub and isinstance(n.right, Matrix) and len(n.right.rows) == 1
            and len(n.right.rows[0]) == 2):
        return n
    first, second = n.right.rows[0]
    zero = [i for i, c in enumerate((first, second)) if isinstance(c, Num) and c.value == 0]
    if len(zero) != 1:
        return n
    return Apply("relu", (second, first)[zero[0]], span=n.span)


def _bare_function(n: Node) -> bool:
    return isinstance(n, Sym) and n.name in FUNCTION_SYMBOLS and not n.sub and n.layer is None


def lift_bare_functions(member: Node) -> Node:
    """σ' = σ(1 − σ) read as σ'(t) = σ(t)·(1 − σ(t)): a function identity, checked for every t."""
    def split(n: Node) -> Node:  # σ(1 − σ) is a product, not σ applied to (1 − σ)
        if isinstance(n, Apply) and any(_bare_function(x) for x in n.arg.walk()) and n.fn.rstrip("'") in (
                FUNCTION_SYMBOLS.values()):
            name = next(k for k, v in FUNCTION_SYMBOLS.items() if v == n.fn.rstrip("'"))
            bare = Sym(name, prime=len(n.fn) - len(n.fn.rstrip("'")), span=(n.span[0], n.arg.span[0]))
            return BinOp("mul", bare, n.arg, span=n.span)
        return n

    def apply(n: Node) -> Node:
        if _bare_function(n) and id(n) not in labels:
            return Apply(FUNCTION_SYMBOLS[n.name] + "'" * n.prime, Sym(FREE_VARIABLE, span=n.span), span=n.span)
        return n

    member = map_tree(member, split)
    labels = {id(x) for n in member.walk() if isinstance(n, Sym) for x in n.sub}  # J_σ: a name, no function
    return map_tree(member, apply)


def _plain(prose: str) -> str:
    """Prose with math delimiters and braces dropped, spaces collapsed, lower case."""
    t = re.sub(r"[$\\{}()\[\]]|mathbf|boldsymbol|mathrm", " ", prose)
    return re.sub(r"\s+", " ", t).lower()


def stated_output_letter(prose: str) -> str | None:
    """'L' when the prose says the output layer is L ("the output layer is $L$", "$L$ is the output layer")."""
    raw = re.sub(r"\s+", " ", re.sub(r"[$\\{}()\[\]]", " ", prose))
    if re.search(r"output layer(?: is| =)? (?:layer )?L\b", raw, re.I | re.S) and re.search(r"\bL\b", raw):
        return "L"
    if re.search(r"\bL (?:is|denotes|=) the (?:output|last) layer", raw, re.I):
        return "L"
    return None


def stated_input_layer(prose: str) -> int | None:
    """The input's layer number when the prose states it ("the input is layer 1", "layer 0 is the input")."""
    t = _plain(prose)
    for pat in (r"input (?:layer )?is (?:the )?layer ([01])\b", r"layer ([01]) is the input",
                r"input layer (?:is )?(?:numbered |indexed )?([01])\b", r"a\^ ?0 ?= ?x\b"):
        m = re.search(pat, t)
        if m:
            return int(m.group(1)) if m.groups() else 0
    return None


def stated_weight_offset(prose: str) -> int | None:
    """1 when the prose says W^l maps layer l-1 to l (Nielsen, Ng), 0 when it maps l to l+1; else None."""
    t = _plain(prose)
    for sentence in re.split(r"[.;:]\s", t):
        if not re.search(r"\bw\b|weight|maps|connects", sentence):
            continue
        if re.search(r"layer l ?- ?1\b", sentence) and re.search(r"layer l\b(?! ?[-+])", sentence):
            return 1
        if re.search(r"layer l ?\+ ?1\b", sentence) and re.search(r"layer l\b(?! ?[-+])", sentence):
            return 0
    return None


def structural_input_layer(eqs: list[Equation], wmin: int | None) -> int | None:
    """The input's layer number from the structure: the first W produces the first z.

    The smallest numbered z^{(k)} belongs to the first layer after the input; when the smallest
    numbered W has the same number (z^{(1)} = W^{(1)} x + b^{(1)}) the input is layer k − 1.
    """
    zs: list[int] = []
    ws: list[int] = []
    for eq in eqs:
        for m in eq.members:
            for n in m.walk():
                if isinstance(n, Sym) and isinstance(n.layer, Num):
                    kind = sym_kind(n)
                    if kind == "z":
                        zs.append(int(n.layer.value))
                    elif kind in ("w", "b"):
                        ws.append(int(n.layer.value))
    first_w = wmin if wmin is not None else min(ws, default=None)
    if not zs or first_w is None:
        return None
    if min(zs) == first_w:
        return first_w - 1
    return None


def _d_rewriter(takes: Callable[[Node, Node], bool], cost: Callable[[Node], Sym]) -> Callable[[Node], Node]:
    """The rewrite of 'd' written right against a quantity X (also as ((1/m) d) X) into ∂cost/∂X, where
    ``takes(d, X)``; ``cost(d)`` is the cost symbol, spanning the 'd'."""
    def rewrite(n: Node) -> Node:
        if not (isinstance(n, BinOp) and n.op == "mul"):
            return n
        left, target = n.left, n.right
        if isinstance(left, BinOp) and left.op == "mul":  # \frac{1}{m} dZ parses as ((1/m) d) Z
            inner = rewrite(BinOp("mul", left.right, target, span=(left.right.span[0], n.span[1])))
            return BinOp("mul", left.left, inner, span=n.span) if isinstance(inner, Deriv) else n
        if takes(left, target) and left.span[1] == target.span[0]:
            return Deriv(cost(left), target, span=n.span)
        return n
    return rewrite


_d_prefix = _d_rewriter(
    lambda d, x: _is_d(d) and isinstance(x, Sym) and x.layer is not None and sym_kind(x) in LAYER_KINDS,
    lambda d: Sym("C", font=D_PREFIX, span=d.span))
"""dZ^{[l]}, dW^{[l]}, db^{[l]}, dA^{[l]} (Ng's notation) as ∂C/∂Z^{[l]} …: 'd' written against a layer symbol."""


def _is_d(n: Node) -> bool:
    return isinstance(n, Sym) and n.name == "d" and not n.sub and n.layer is None and not n.font


def _nabla(output_letter: str | None):
    """∇_{a} C as ∂C/∂a; with an output letter L, a bare ∇_a C is Nielsen's gradient at the output, ∂C/∂a^L."""
    def rewrite(n: Node) -> Node:
        if isinstance(n, BinOp) and n.op == "mul" and isinstance(n.left, Sym) and n.left.name == "nabla" and len(
                n.left.sub) == 1 and not n.left.layer:
            var = n.left.sub[0]
            if output_letter and isinstance(var, Sym) and var.layer is None and not var.sub and sym_kind(var) in (
                    "a", "z"):
                var = replace(var, layer=Sym(output_letter, span=var.span), layer_style="bare")
            return Deriv(n.right, var, span=n.span)
        return n
    return rewrite


def read_derivative_prefix(eqs: list[Equation], output_letter: str | None = None) -> None:
    """Rewrite Ng's dZ^{[l]} = ∂C/∂Z^{[l]} shorthand (only 'd' written right against the symbol) and the
    gradient ∇_a C = ∂C/∂a, in place."""
    nabla = _nabla(output_letter)
    for eq in eqs:
        if any(_is_d(n) or (isinstance(n, Sym) and n.name == "nabla") for m in eq.members for n in m.walk()):
            eq.members = [map_tree(m, nabla) for m in (map_tree(m, _d_prefix) for m in eq.members)]


COST_LETTERS = ("L", "C", "J", "E")


def read_named_derivative_prefix(eqs: list[Equation], knows, cost: str | None = None) -> bool:
    """CS231n's dW_2, ds, dh in a document that names its quantities: 'd' (or \\mathrm{d}) written right against a
    quantity the document defines or is given, read as ∂(the cost it defines)/∂(that quantity), in place.
    ``knows(key)`` says whether the document names a quantity; ``cost``: the cost's name (else the first of
    L, C, J, E the document defines); nothing changes when it defines no cost.  True when the document writes
    differentials instead (d right against the cost: dL = g_2ᵀ dz_2), and nothing changes either."""
    from .named import is_label, sym_key

    cost = cost or next((c for c in COST_LETTERS if knows(c)), None)
    if cost is None:
        return False

    def named(target: Node) -> bool:
        # W_2, s, h: a quantity as a whole (ds_i, a row or an entry of a matrix, is left as written)
        return (isinstance(target, Sym) and target.layer is None and not target.transpose and target.name != "d"
                and all(is_label(x) for x in target.sub) and knows(sym_key(target)) and sym_key(target) != cost)

    def is_d(d: Node) -> bool:
        return isinstance(d, Sym) and d.name == "d" and not d.sub and d.layer is None and d.font in ("", "mathrm",
                                                                                                   "mathit")

    def of_cost(n: Node) -> bool:  # d written right against the cost: dL, a differential
        return (isinstance(n, BinOp) and n.op == "mul" and is_d(n.left) and isinstance(n.right, Sym)
                and sym_key(n.right) == cost and n.left.span[1] == n.right.span[0])

    if any(of_cost(n) for eq in eqs for m in eq.members for n in m.walk()):
        return True  # dL = g_2ᵀ dz_2: differentials, where dW_2 is a change of W_2, not ∂L/∂W_2
    rewrite = _d_rewriter(lambda d, x: is_d(d) and named(x), lambda d: Sym(cost, span=d.span))

    for eq in eqs:
        if any(isinstance(x, Sym) and x.name == "d" for m in eq.members for x in m.walk()):
            eq.members = [map_tree(m, rewrite) for m in eq.members]
    return False


ACTIVATION_LETTERS = ("h", "g", "f", "sigma", "phi", "varphi")
"""Letters a document may use for the activation function, written as h(a) (a product in the tree)."""


def _argument(n: Node) -> Node | None:
    """u when ``n`` is an activation applied to u: σ(u), tanh(u), h(u); else None."""
    if isinstance(n, Apply) and not n.fn.endswith("'"):
        x = n.arg
    elif (isinstance(n, BinOp) and n.op == "mul" and isinstance(n.left, Sym) and n.left.name in ACTIVATION_LETTERS
          and not n.left.sub and n.left.layer is None and not n.left.prime and isinstance(n.right, Paren)):
        x = n.right
    else:
        return None
    return x.x if isinstance(x, Paren) else x


def _applies(eqs: list[Equation], out: str, inner: str) -> Equation | None:
    """The first equation that reads ``out`` = activation(``inner``) (network kinds, e.g. z = h(a))."""
    for eq in eqs:
        ms = eq.members
        if len(ms) < 2 or not isinstance(ms[0], Sym) or sym_kind(ms[0]) != out:
            continue
        arg = next((x for x in map(_argument, ms[1:]) if x is not None), None)
        if isinstance(arg, Sym) and sym_kind(arg) == inner:
            return eq
    return None


def preactivation_a(eqs: list[Equation]) -> Equation | None:
    """The equation z = h(a) when the document writes a for the pre-activation and z for the activation
    (Bishop's notation, the other way round from the seed's a = σ(z)), and never a = σ(z); else None."""
    swapped = _applies(eqs, "z", "a")
    return swapped if swapped is not None and _applies(eqs, "a", "z") is None else None
