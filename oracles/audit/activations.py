"""Which activation each layer has, as the document defines it or says it in words.

A document may give its layers different activations: ``A^{[1]} = \\tanh(Z^{[1]})`` beside
``A^{[2]} = \\sigma(Z^{[2]})``, a linear output ``\\hat y = a^{(3)} = z^{(3)}``, or "a **linear** output
layer" in its prose.  :func:`read_layer_definitions` reads the definitions (doc layer number -> the
function applied there), :func:`output_in_words` the output layer's activation named in the prose, and
:func:`resolve` turns them into one activation per layer of a network of a given depth.
"""

from __future__ import annotations

import re

from .tree import Apply, Node, Num, Paren, Sym

GENERIC = "sigma"  # σ / φ applied to a layer: whatever σ means in the document
FUNCTION_ACTS = {"tanh": "tanh", "relu": "relu", "sigma": GENERIC, "phi": GENERIC}
WORD_ACTS = {"linear": "identity", "identity": "identity", "sigmoid": "sigmoid", "logistic": "sigmoid",
             "tanh": "tanh", "relu": "relu"}
HIDDEN_WORDS = ("hidden",)
WINDOW = 4  # words between "output" and the activation that describes it


def _strip(node: Node) -> Node:
    while isinstance(node, Paren):
        node = node.x
    return node


def _layer_of(s: Sym) -> int | None:
    return int(s.layer.value) if isinstance(s.layer, Num) and not s.sub else None


def _activation_applied(node: Node) -> tuple[int, str] | None:
    """(layer, activation) of f(z^{(k)}) (a named or generic activation) or of a bare z^{(k)} (linear)."""
    from .semantics import sym_kind
    node = _strip(node)
    if isinstance(node, Apply) and node.fn in FUNCTION_ACTS:
        arg = _strip(node.arg)
        if isinstance(arg, Sym) and sym_kind(arg) == "z" and not arg.transpose and _layer_of(arg) is not None:
            return _layer_of(arg), FUNCTION_ACTS[node.fn]
        return None
    if isinstance(node, Sym) and sym_kind(node) == "z" and not node.transpose and _layer_of(node) is not None:
        return _layer_of(node), "identity"
    return None


def _names_activation(node: Node, layer: int) -> bool:
    """True for a^{(k)} / A^{[k]} / h^{(k)} of layer k, or the prediction ŷ."""
    from .semantics import PREDICTION_FONTS, sym_kind
    node = _strip(node)
    if not isinstance(node, Sym) or node.transpose or node.sub:
        return False
    if sym_kind(node) == "y" and node.font in PREDICTION_FONTS and node.layer is None:
        return True
    return _layer_of(node) == layer and (sym_kind(node) == "a" or node.name in ("h", "H"))


def read_layer_definitions(members_of: list[list[Node]]) -> dict[int, str]:
    """Doc layer -> activation from definitions a^{(k)} = f(z^{(k)}), ŷ = σ(z^{(k)}), a^{(k)} = z^{(k)}.

    The value is an activation name, or :data:`GENERIC` where the document applies σ (or φ)."""
    found: dict[int, str] = {}
    for members in members_of:
        applied = [a for a in (_activation_applied(m) for m in members) if a is not None]
        for layer, act in applied:
            if layer not in found and any(_names_activation(m, layer) for m in members):
                found[layer] = act
    return found


def output_in_words(prose: str) -> str | None:
    """The output layer's activation named in the prose ("a linear output layer", "output: one sigmoid
    unit", "the output layer is linear"), or None."""
    text = re.sub(r"\$[^$]*\$", " ", prose.lower())
    text = re.sub(r"[*_`]", "", text)
    best: tuple[int, str] | None = None
    for clause in re.split(r"[.;,()\n]|\band\b|\bwith\b", text):
        words = re.findall(r"[a-z]+", clause)
        if "output" in words and re.search(r"\b(?:no|without an?|without) (?:activation|nonlinearity)\b", clause):
            return "identity"  # "the output layer has no activation"
        for i, w in enumerate(words):
            if w != "output":
                continue
            for j, v in enumerate(words):
                act = WORD_ACTS.get(v)
                if act is None or abs(i - j) > WINDOW:
                    continue
                if any(h in words[min(i, j):max(i, j) + 1] for h in HIDDEN_WORDS):
                    continue
                if best is None or abs(i - j) < best[0]:
                    best = (abs(i - j), act)
    return None if best is None else best[1]


def resolve(depth: int, base: int, hidden: str, sigma: str | None, defined: dict[int, str],
            output: str | None) -> tuple[str, ...]:
    """One activation per layer 2..depth (internal numbering) of a network whose input is doc layer ``base``.

    A layer the document defines keeps its definition (σ meaning ``sigma`` when the document fixes it, else
    ``hidden``); the output layer otherwise takes ``output`` when given; every other layer ``hidden``."""
    acts = []
    for L in range(2, depth + 1):
        default = output if L == depth and output else hidden
        act = defined.get(L + base - 1)
        if act == GENERIC:
            act = sigma or default
        acts.append(act or default)
    return tuple(acts)


def sigma_meaning(defined: dict[int, str]) -> str | None:
    """σ is the logistic function where the document applies σ to some layers and names another function
    (tanh, ReLU) for others; otherwise (None) σ is each layer's own activation."""
    acts = set(defined.values())
    return "sigmoid" if GENERIC in acts and acts - {GENERIC, "identity"} else None
