"""Biases folded into the weights: W^{(l)} = [W b] acting on ã = [a; 1] (or [b W] on [1; a], x_0 = 1).

A document that folds its biases writes z^{(l)} = W^{(l)} ã^{(l-1)}: W^{(l)} is n_l × (n_{l-1} + 1), its bias
the last column when the input has a 1 appended, the first when a 1 is prepended. :func:`read_augmentation`
reads which from the document itself: its definition of the augmented vector (ṽ = [v; 1], x̂ = (1, x)), its
words ("append a 1", "prepend", "the last (bias) column"), x_0 = 1, or, when the worked example gives its
matrices without any bias, their shapes. An :class:`Augmentation` then says what the symbols mean: the
decorated vector is a with the 1 in its place, W^{(l)} in an equation is the augmented matrix (and ∂E/∂W^{(l)}
its gradient, ∂E/∂b^{(l)} as its bias column), and a decorated W the prose defines as W without its bias
column is the plain weight matrix. A document that numbers the constant unit 0 (x_0 = 1, sums from 0) counts
the entries of a and the columns of W from 0: a_0 = 1 and w_{j0} is the bias.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from .tree import Matrix, Neg, Node, Num, Paren, Sym, Transpose

DECORATIONS = ("tilde", "hat", "bar", "check", "breve", "dot")
LAST, FIRST = "last", "first"
WORDS = (  # (pattern over the plain prose, the bias column it says)
    (r"\bappend(?:s|ed|ing)?\b[^.]{0,40}?(?:\b1\b|\bones?\b)", LAST),
    (r"(?:\b1\b|\bones?\b)[^.]{0,25}?\bappended\b", LAST),
    (r"\bprepend(?:s|ed|ing)?\b[^.]{0,40}?(?:\b1\b|\bones?\b)", FIRST),
    (r"(?:\b1\b|\bones?\b)[^.]{0,25}?\bprepended\b", FIRST),
    (r"\b(?:last|final|trailing)\b(?: \w+){0,2} (?:column|entry|component|coordinate)\b[^.]{0,30}?\bbias", LAST),
    (r"\bbias(?:es)?\b[^.]{0,40}?\b(?:last|final|trailing)\b(?: \w+){0,2} (?:column|entry|component)", LAST),
    (r"\b(?:first|leading|zeroth)\b(?: \w+){0,2} (?:column|entry|component|coordinate)\b[^.]{0,30}?\bbias", FIRST),
    (r"\bbias(?:es)?\b[^.]{0,40}?\b(?:first|leading|zeroth)\b(?: \w+){0,2} (?:column|entry|component)", FIRST),
    (r"\bleading (?:1|one)\b", FIRST),
)
FOLDED = re.compile(  # words that say the biases are weights (not "data augmentation")
    r"\baugmented (?:input|vector|matrix|matrices|weight)|\baugment(?:s|ed|ing)?\b[^.]{0,40}(?:\b1\b|\bones?\b|\bbias)"
    r"|\bfold(?:s|ed|ing)?\b[^.]{0,40}\bbias|\bbias(?:es)?\b[^.]{0,40}\b(?:folded|absorbed)"
    r"|\babsorb(?:s|ed|ing)?\b[^.]{0,40}\bbias|\bbias trick\b")


@dataclass(frozen=True)
class Augmentation:
    """Where the bias column is, and which decorations mark the augmented vector and the augmented matrix."""

    position: str | None  # LAST, FIRST, or None when the document does not say (nothing is then evaluated)
    vector_fonts: frozenset = frozenset(DECORATIONS)  # ã, x̂: the vector with its 1
    weight_font: str = ""  # the augmented matrix's decoration ("": the plain W^{(l)})
    evidence: str = ""
    zero_based: bool = False  # the constant unit is unit 0 (x_0 = 1, w_{j0} the bias): a_i, w_{ji} count i from 0

    def describe(self) -> str:
        where = {LAST: "the last column (input [a; 1])", FIRST: "the first column (input [1; a])"}.get(
            self.position, "a column the document does not place")
        return f"biases folded into the weights as {where}"

    def _require(self, node: Node | None) -> str:
        if self.position is None:
            from .semantics import EvalError
            raise EvalError("unsupported", "the weights carry their biases, but the document does not say whether "
                            "the bias is their first or their last column", node)
        return self.position

    def vector(self, a: np.ndarray, node: Node | None = None) -> np.ndarray:
        """a with its 1 (a row of ones for a batch, one sample per column)."""
        ones = np.ones((1, *a.shape[1:]) if a.ndim == 2 else (1,), complex)
        a = a.reshape(1) if a.ndim == 0 else a
        return np.concatenate([a, ones] if self._require(node) == LAST else [ones, a])

    def matrix(self, W: np.ndarray, b: np.ndarray, node: Node | None = None) -> np.ndarray:
        """The augmented n_l × (n_{l-1} + 1) matrix of W and b."""
        col = np.asarray(b).reshape(-1, 1)
        return np.hstack([W, col] if self._require(node) == LAST else [col, W])

    def split(self, Wa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(W, b) of an augmented matrix."""
        if self._require(None) == LAST:
            return Wa[:, :-1], Wa[:, -1]
        return Wa[:, 1:], Wa[:, 0]

    def entry_key(self, L: int, e: tuple[int, int], width: int) -> tuple:
        """The perturbation key of entry ``e`` of augmented W^(L) (its input has ``width`` units): W's or b's."""
        i, j = e
        bias = j == width if self.position == LAST else j == 0
        if bias:
            return ("b", L, (i,))
        return ("w", L, (i, j if self.position == LAST else j - 1))

    def index(self, idx: tuple[int, ...]) -> tuple[int, ...]:
        """1-based indices into the augmented vector or matrix of the document's own: with unit 0 the constant
        one, a_i is entry i + 1 of [1; a] and w_{ji} column i + 1 of [b W]."""
        return (*idx[:-1], idx[-1] + 1) if self.zero_based and idx else idx

    def is_augmented_weight(self, s: Sym) -> bool:
        return s.font == self.weight_font

    def is_augmented_vector(self, s: Sym) -> bool:
        return s.font in self.vector_fonts


# ------------------------------------------------------------------------------------------------ reading

def _core(node: Node) -> Node:
    while isinstance(node, Paren):
        node = node.x
    return node


def _pair(node: Node) -> tuple[Node, Node] | None:
    """The two entries of a two-entry column, row or tuple ([v; 1], (1, x), [x^T 1]^T)."""
    node = _core(node)
    if isinstance(node, Transpose):
        node = _core(node.x)
    if not isinstance(node, Matrix):
        return None
    cells = [c for r in node.rows for c in r]
    if len(cells) != 2 or (len(node.rows) != 1 and len(node.rows) != 2):
        return None
    return cells[0], cells[1]


def _is_one(node: Node) -> bool:
    node = _core(node)
    return isinstance(node, Num) and node.value == 1 and not isinstance(node, Neg)


def _definition(eq) -> tuple[str, str, str] | None:
    """(kind, decoration, position) of 'ṽ = [v; 1]' (a vector's) or 'W̃ = [W  b]' (a matrix's); else None."""
    from .semantics import sym_kind

    if len(eq.members) < 2:
        return None
    lhs = _core(eq.members[0])
    if not isinstance(lhs, Sym) or lhs.font not in DECORATIONS or lhs.sub:
        return None
    pair = _pair(eq.members[1])
    if pair is None:
        return None
    first, second = (_core(x) for x in pair)
    if sym_kind(lhs) == "w":
        kinds = [sym_kind(x) if isinstance(x, Sym) else None for x in (first, second)]
        if kinds == ["w", "b"]:
            return "w", lhs.font, LAST
        if kinds == ["b", "w"]:
            return "w", lhs.font, FIRST
        return None
    if _is_one(second) and not _is_one(first) and isinstance(first, Sym) and first.name == lhs.name:
        return "v", lhs.font, LAST
    if _is_one(first) and not _is_one(second) and isinstance(second, Sym) and second.name == lhs.name:
        return "v", lhs.font, FIRST
    return None


def _zero_one(eq) -> bool:
    """x_0 = 1, a^{(l)}_0 = 1: the constant input written as unit 0 (a prepended 1)."""
    from .semantics import sym_kind

    if len(eq.members) != 2:
        return False
    lhs = _core(eq.members[0])
    return (isinstance(lhs, Sym) and sym_kind(lhs) in ("a", "x") and len(lhs.sub) == 1
            and isinstance(lhs.sub[0], Num) and lhs.sub[0].value == 0 and _is_one(eq.members[1]))


def _decorated_inputs(eqs) -> bool:
    """True when some equation uses a decorated a or x (ã^{(l-1)}, x̂)."""
    from .semantics import sym_kind

    return any(isinstance(n, Sym) and n.font in DECORATIONS and sym_kind(n) in ("a", "x")
               for eq in eqs for m in eq.members for n in m.walk())


def _writes_unit_zero(eqs) -> bool:
    """True when some equation counts units from 0: a subscript 0 on a, x or w, or a sum from 0."""
    from .semantics import sym_kind
    from .tree import Sum

    for eq in eqs:
        for m in eq.members:
            for n in m.walk():
                if isinstance(n, Sum) and isinstance(n.lo, Num) and n.lo.value == 0:
                    return True
                if isinstance(n, Sym) and sym_kind(n) in ("a", "x", "w") and any(
                        isinstance(i, Num) and i.value == 0 for i in n.sub):
                    return True
    return False


def _writes_bias(eqs) -> bool:
    """True when some equation writes a bias b^{(l)}."""
    from .semantics import sym_kind

    return any(isinstance(n, Sym) and sym_kind(n) == "b" for eq in eqs for m in eq.members for n in m.walk())


def _plain_prose(prose: str) -> str:
    t = re.sub(r"\\(?:mathbf|boldsymbol|mathrm|text|left|right)\b|[$\\{}()\[\]]", " ", prose)
    return re.sub(r"\s+", " ", t).lower()


def words_position(prose: str) -> str | None:
    """The bias column the prose states ("append a 1", "prepend", "the last (bias) column"), None if it states
    none or both."""
    t = _plain_prose(prose)
    said = {pos for pat, pos in WORDS if re.search(pat, t)}
    return next(iter(said)) if len(said) == 1 else None


def shapes_fit_augmented(bindings: dict) -> bool:
    """True when the worked example gives weights and no bias, and each W has one column more than its input."""
    ws = sorted(k for kind, k in bindings if kind == "w")
    if not ws or any(kind == "b" for kind, _ in bindings) or ("x", 0) not in bindings:
        return False
    x = np.asarray(bindings[("x", 0)][0])
    prev = x.shape[0] if x.ndim == 2 and 1 not in x.shape else x.size
    for k in ws:
        W = np.asarray(bindings[("w", k)][0])
        if W.ndim != 2 or W.shape[1] != prev + 1:
            return False
        prev = W.shape[0]
    return True


@dataclass
class Reading:
    """What the document says about folded biases: the augmentation (None: not folded), the equations that only
    define the augmented vector or matrix, and why it cannot be evaluated when the column is not placed."""

    augmentation: Augmentation | None = None
    definitions: tuple[int, ...] = ()
    problem: str | None = None


def read_augmentation(eqs, prose: str, bindings: dict) -> Reading:
    """Whether (and how) the document folds its biases into the weights; see the module's docstring."""
    defs = [(eq.index, d) for eq in eqs if (d := _definition(eq)) is not None]
    zero = [eq.index for eq in eqs if _zero_one(eq)]
    vec_fonts = {font for _, (kind, font, _) in defs if kind == "v"}
    weight_font = next((font for _, (kind, font, _) in defs if kind == "w"), "")
    stated = {pos for _, (_, _, pos) in defs} | ({FIRST} if zero else set())
    words = words_position(prose)
    shapes = shapes_fit_augmented(bindings)
    folded = bool(FOLDED.search(_plain_prose(prose))) or words is not None
    # x_0 = 1 alone may be an input's first entry: it folds the biases only where no bias is written
    zero = zero if folded or shapes or not _writes_bias(eqs) else []
    if not (defs or zero or shapes or (folded and _decorated_inputs(eqs))):
        return Reading()
    if len(stated) == 1:
        position, evidence = next(iter(stated)), "the document's definition of the augmented input"
    elif not stated and words is not None:
        position, evidence = words, "the document's words"
    else:
        position, evidence = None, ""
    aug = Augmentation(position, frozenset(vec_fonts) if vec_fonts else frozenset(DECORATIONS), weight_font,
                       evidence)
    problem = None
    if position is None:
        why = ("its definitions place it both first and last" if len(stated) > 1 else
               "neither a definition of the augmented input ([a; 1] or [1; a]) nor its words say which")
        what = ("the worked example's weight matrices have one column more than their inputs and no bias is "
                "given" if shapes else "the document folds its biases into the weights")
        problem = (f"{what}, so the biases are a column of the weights, but the auditor cannot tell whether the "
                   f"first or the last column: {why}; the equations and numbers that use them are not evaluated")
    if position == FIRST and (zero or _writes_unit_zero(eqs)):
        aug = replace(aug, zero_based=True)
    return Reading(aug, tuple(i for i, _ in defs) + tuple(zero), problem)
