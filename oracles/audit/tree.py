"""The audit's expression tree: what a LaTeX math fragment means, with source spans.

Every node carries ``span`` = (start, end) character offsets into the math
block it came from, so a finding can quote the fragment and a fix can be
spliced back into the document's own LaTeX.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace

Span = tuple[int, int]


@dataclass(frozen=True)
class Node:
    """Base of every expression node."""

    span: Span = field(default=(0, 0), compare=False, kw_only=True)

    def children(self) -> Iterator[Node]:
        """Direct sub-nodes, in source order."""
        for name in _names(type(self)):
            v = getattr(self, name)
            if isinstance(v, Node):
                yield v
            elif isinstance(v, tuple):
                for item in v:
                    if isinstance(item, Node):
                        yield item
                    elif isinstance(item, tuple):
                        yield from (x for x in item if isinstance(x, Node))

    def walk(self) -> Iterator[Node]:
        """This node and all its descendants, depth first."""
        yield self
        for c in self.children():
            yield from c.walk()


@dataclass(frozen=True)
class Num(Node):
    """A number as written: its value, its text and how many decimals it shows."""

    value: float
    text: str = ""
    decimals: int = 0


@dataclass(frozen=True)
class Sym(Node):
    """A symbol such as w_{kj}^{(L)}, a^{(3)}, y_1, \\delta^{[l]}, \\sigma', n_L."""

    name: str
    sub: tuple[Node, ...] = ()
    layer: Node | None = None
    layer_style: str = ""  # "paren" (L), "bracket" [l], "bare" l
    transpose: bool = False
    prime: int = 0
    font: str = ""  # mathcal, mathbf, boldsymbol, ...
    sub_span: Span | None = field(default=None, compare=False)
    layer_span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True)
class BinOp(Node):
    """left op right; op is '+', '-', 'mul' (juxtaposition), 'times', 'cdot', 'odot' or 'div'."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Neg(Node):
    """Unary minus."""

    x: Node


@dataclass(frozen=True)
class Frac(Node):
    """\\frac{num}{den}."""

    num: Node
    den: Node


@dataclass(frozen=True)
class Pow(Node):
    """base^{exp}."""

    base: Node
    exp: Node


@dataclass(frozen=True)
class Transpose(Node):
    """x^T, x^{\\top}, {}^{T}."""

    x: Node


@dataclass(frozen=True)
class Apply(Node):
    """A function applied to an argument: \\sigma(z), \\sigma'(z), e^{x}, \\tanh z."""

    fn: str  # sigma, sigma', exp, log, tanh, tanh'
    arg: Node


@dataclass(frozen=True)
class Deriv(Node):
    """\\frac{\\partial num}{\\partial var} (num may be applied later: \\frac{\\partial}{\\partial x} f)."""

    num: Node | None
    var: Node


@dataclass(frozen=True)
class Sum(Node):
    """\\sum_{var=lo}^{hi} body."""

    var: str
    lo: Node
    hi: Node
    body: Node


@dataclass(frozen=True)
class Matrix(Node):
    """A vector or matrix written with cases/bmatrix/pmatrix/\\left\\{…\\right\\}/[a \\quad b]."""

    rows: tuple[tuple[Node, ...], ...]
    env: str = ""
    row_spans: tuple[Span, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Paren(Node):
    """A parenthesised or bracketed sub-expression (transparent for evaluation)."""

    x: Node
    delim: str = "("


@dataclass(frozen=True)
class Index(Node):
    """An entry of a parenthesised expression: (W_2)_{jk}."""

    x: Node
    idx: tuple[Node, ...]


@dataclass(frozen=True)
class Norm(Node):
    """The Euclidean norm \\|x\\| (\\lVert x\\rVert, \\left\\| x \\right\\|)."""

    x: Node


@dataclass(frozen=True)
class IndexRange(Node):
    """The upper limit of a sum written without one (\\sum_k): the range of the index where it is used."""

    var: str


@dataclass(frozen=True)
class Missing(Node):
    """Something the parser could not read (truncated input, a \\frac without arguments)."""

    reason: str = ""


@dataclass(frozen=True)
class Empty(Node):
    """An empty group {} (as in {}^{T})."""


_FIELDS: dict[type, tuple[str, ...]] = {}


def _names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in fields(cls) if f.name != "span")
    return names


def _may_contain(node: Node, target: Node) -> bool:
    (s, e), (ts, te) = node.span, target.span
    return s == e or (s <= ts and te <= e)


def rebuild(node: Node, target: Node, new: Node) -> Node:
    """A copy of ``node`` with the sub-node ``target`` (by identity) replaced by ``new``."""
    out = _rebuild(node, target, new, True)
    if out is node and node is not target and contains(node, target):
        out = _rebuild(node, target, new, False)
    return out


def _rebuild(node: Node, target: Node, new: Node, prune: bool) -> Node:
    if node is target:
        return new
    if prune and not _may_contain(node, target):
        return node
    changes = {}
    for name in _names(type(node)):
        v = getattr(node, name)
        if isinstance(v, Node):
            nv = _rebuild(v, target, new, prune)
            if nv is not v:
                changes[name] = nv
        elif isinstance(v, tuple) and v:
            items = []
            changed = False
            for item in v:
                if isinstance(item, Node):
                    ni = _rebuild(item, target, new, prune)
                elif isinstance(item, tuple):
                    ni = tuple(_rebuild(x, target, new, prune) if isinstance(x, Node) else x for x in item)
                    if all(a is b for a, b in zip(ni, item)):
                        ni = item
                else:
                    ni = item
                changed |= ni is not item
                items.append(ni)
            if changed:
                changes[name] = tuple(items)
    return replace(node, **changes) if changes else node


def contains(node: Node, target: Node) -> bool:
    """True when ``target`` (by identity) is ``node`` or one of its descendants."""
    if node is target:
        return True
    if _may_contain(node, target):
        for c in node.children():
            if contains(c, target):
                return True
    return any(n is target for n in node.walk()) if node.span == (0, 0) else False


def map_tree(node: Node, fn) -> Node:
    """``node`` rebuilt bottom-up with ``fn`` applied to every sub-node (fn returns the node or a replacement)."""
    changes = {}
    for name in _names(type(node)):
        v = getattr(node, name)
        if isinstance(v, Node):
            nv = map_tree(v, fn)
            if nv is not v:
                changes[name] = nv
        elif isinstance(v, tuple) and v:
            items = tuple(map_tree(x, fn) if isinstance(x, Node) else (
                tuple(map_tree(y, fn) if isinstance(y, Node) else y for y in x) if isinstance(x, tuple) else x)
                for x in v)
            if any(a is not b for a, b in zip(items, v)) or any(
                    isinstance(x, tuple) and any(p is not q for p, q in zip(x, y)) for x, y in zip(items, v)):
                changes[name] = items
    out = replace(node, **changes) if changes else node
    return fn(out)
