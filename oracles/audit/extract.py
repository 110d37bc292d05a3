"""Turn math blocks into equations: chains of members joined by relations, with source spans.

A display may hold several equations: rows of ``split``/``aligned`` (``&`` and
``\\\\``), top-level ``\\\\``, ``a = …, b = …`` lists, or (a layout error) several
equations written on separate source lines with no separator at all.  A row
that starts with ``=`` continues the previous equation's chain, also across
displays (``$$= …$$`` under ``$$σ'(x) = …$$``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .latex import (
    FUNCTIONS,
    ROW_ENVS,
    Env,
    Group,
    LeftRight,
    Problem,
    Tok,
    items_span,
    parse_expr,
    relation_of,
    split_rows,
    structure,
)
from .markdown import Document, MathBlock
from .tree import Empty, Node


@dataclass
class Equation:
    """E0 = E1 = … : the members, the relations between them, and where they are."""

    members: list[Node]
    rels: list[str]
    block: MathBlock
    span: tuple[int, int]
    index: int  # order in the document
    continued: bool = False  # True when the first member comes from an earlier row/display
    member_blocks: list[MathBlock] = field(default_factory=list)

    @property
    def section(self) -> str:
        return self.block.section


@dataclass
class Extracted:
    """All equations of a document, and the reading problems with their block."""

    equations: list[Equation]
    problems: list[tuple[MathBlock, Problem]]


def _drop_amps(items: list) -> list:
    return [it for it in items if not (isinstance(it, Tok) and it.kind == "amp")]


def _starts_new_line(text: str, item) -> bool:
    start = item.start
    k = start - 1
    while k >= 0 and text[k] in " \t":
        k -= 1
    return k < 0 or text[k] == "\n"


def _line_segments(items: list, text: str) -> list[list]:
    parts: list[list] = [[]]
    for it in items:
        if parts[-1] and _starts_new_line(text, it):
            parts.append([])
        parts[-1].append(it)
    return parts


def _has_relation(items: list) -> bool:
    return any(relation_of(it) == "=" or relation_of(it) == "≈" for it in items)


SPACES = ("quad", "qquad", ",", ";", "!", " ", "enspace", "thinspace", "medspace", "thickspace")
WORDS = ("text", "textrm", "textnormal", "mbox", "mathrm")


def _is_connector(items: list, k: int) -> int:
    """How many items from k on are a spacing macro or a word in text (\\qquad \\text{and}); 0 if none."""
    it = items[k]
    if isinstance(it, Tok) and (it.kind == "macro" and it.val in SPACES or it.kind == "special" and it.val == "~"):
        return 1
    if (isinstance(it, Tok) and it.kind == "macro" and it.val in WORDS and k + 1 < len(items)
            and isinstance(items[k + 1], Group)
            and all(isinstance(x, Tok) and x.kind == "char" and (x.val.isalpha() or x.val in " ,.;:")
                    for x in items[k + 1].items)
            and not _is_applied(items[k + 2] if k + 2 < len(items) else None)
            and not _is_function_name(items[k + 1])
            and not (it.val == "mathrm" and _word(items[k + 1]).isalpha() and len(_word(items[k + 1])) == 1)):
        return 2  # but \mathrm{d}: one upright letter is a symbol (the differential d), not a word
    return 0


def _word(group: Group) -> str:
    return "".join(x.val for x in group.items if isinstance(x, Tok)).strip()


def _is_applied(it) -> bool:
    """True when ``it`` makes the word before it a function or a symbol (\\mathrm{ReLU}'(z), \\text{softmax}(s))."""
    return isinstance(it, LeftRight) or (isinstance(it, Tok) and it.kind == "char" and it.val in "'(^_[")


def _is_function_name(group: Group) -> bool:
    """True for the word of a function written in text (\\mathrm{ReLU}, \\text{softmax}): a factor, not 'and'."""
    return f"text{{{_word(group)}}}" in FUNCTIONS


def _strip_connectors(items: list) -> list:
    """The items without leading and trailing connectors (', \\qquad \\text{and} \\qquad' between equations)."""
    lo, hi = 0, len(items)
    while lo < hi and (n := _is_connector(items, lo)):
        lo += n
    while hi > lo:
        if _is_connector(items, hi - 1):
            hi -= 1
        elif hi - 2 >= lo and _is_connector(items, hi - 2) == 2:
            hi -= 2
        else:
            break
    return items[lo:hi]


def _drop_colon_before_equals(items: list) -> list:
    """':=' (a definition) read as '='."""
    return [it for k, it in enumerate(items)
            if not (isinstance(it, Tok) and it.kind == "char" and it.val == ":" and k + 1 < len(items)
                    and relation_of(items[k + 1]) == "=")]


def _ends_with_comma(items: list) -> bool:
    """True when the items end with ',' (spacing after it aside)."""
    k = len(items) - 1
    while k >= 0 and _is_connector(items, k) == 1:
        k -= 1
    return k >= 0 and isinstance(items[k], Tok) and items[k].kind == "char" and items[k].val == ","


def _split_commas(items: list) -> list[list]:
    """Equations listed in one row: 'a = 1, b = 2' or 'a = 1 \\qquad\\text{and}\\qquad b = 2'."""
    parts: list[list] = [[]]
    inside = bracketed(items)  # b = (0.1, -0.2): a tuple's commas do not separate equations
    k = 0
    while k < len(items):
        it = items[k]
        n = _is_connector(items, k)
        if isinstance(it, Tok) and it.kind == "char" and it.val == "," and k not in inside:
            parts.append([])
        elif n == 2 and parts[-1] and _has_relation(parts[-1]):
            parts.append([])  # \text{and} between two equations
            k += n
            continue
        else:
            parts[-1].append(it)
        k += 1
    parts = _drop_index_ranges([p for p in (_strip_connectors(p) for p in parts) if p])
    if len(parts) == 1 or (len(parts) > 1 and all(_has_relation(p) for p in parts)):
        return parts  # one equation (a trailing ',' dropped), or a list of them
    return [_strip_connectors(items)] if parts else []


ELLIPSES = ("dots", "ldots", "cdots")


def _is_number_word(items: list) -> bool:
    """True for a bare integer (or an ellipsis) in a list: the '2', '\\dots' of 'l = 1, 2, \\dots, L'."""
    if all(isinstance(it, Tok) and it.kind == "macro" and it.val in ELLIPSES for it in items):
        return True
    items = items[:-1] if items and isinstance(items[-1], Tok) and items[-1].val == "." else items  # 'l = 1, 2, 3.'
    return bool(items) and all(isinstance(it, Tok) and it.kind == "char" and it.val.isdigit() for it in items) or (
        len(items) == 1 and isinstance(items[0], Tok) and items[0].kind == "char" and items[0].val.isalpha())


def _drop_index_ranges(parts: list[list]) -> list[list]:
    """The parts without an index range 'l = 1, 2, 3' (a letter, '=', a list of integers) that ends a list of
    equations: it says which values a letter takes, it is not an equation between its commas."""
    for k, part in enumerate(parts):
        rest = parts[k + 1:]
        if (rest and len(part) >= 3 and isinstance(part[0], Tok) and part[0].kind == "char"
                and part[0].val.isalpha() and relation_of(part[1]) == "=" and _is_number_word(part[2:])
                and all(_is_number_word(p) for p in rest)):
            return parts[:k]
    return parts


def _rows_of(items: list, block: MathBlock, problems: list[Problem]) -> list[list]:
    meaningful = [it for it in items if not (isinstance(it, Tok) and it.kind == "macro" and it.val in (
        "quad", "qquad", ",", ";"))]
    if len(meaningful) == 1 and isinstance(meaningful[0], Env) and meaningful[0].name in ROW_ENVS:
        return _rows_of(meaningful[0].items, block, problems)
    rows = []
    for r in split_rows(items):
        r = _drop_amps(r)
        if not r:
            continue
        segs = _line_segments(r, block.text)
        rel_segs = [s for s in segs if _has_relation(s)]
        if len(segs) > 1 and all(_ends_with_comma(s) for s in segs[:-1]):
            for seg in segs:  # 'W = …, \;' on one line, 'b = …' on the next: a list, not a run-together chain
                rows.extend(_split_commas(_drop_colon_before_equals(seg)))
            continue
        if len(segs) > 1 and len(rel_segs) > 1 and all(
                _has_relation(s) and relation_of(s[0]) is None for s in segs[1:]):
            start, end = items_span(r)
            problems.append(Problem(
                f"{len(segs)} equations are written on separate source lines of one display without a "
                "separator (\\\\ inside aligned); they render as one run-together chain",
                start, end, None, kind="layout"))
            rows.extend(segs)
            continue
        for part in _split_commas(_drop_colon_before_equals(r)):
            rows.append(part)
    return rows


def extract(doc: Document) -> Extracted:
    """Every equation of the document, in order."""
    equations: list[Equation] = []
    problems: list[tuple[MathBlock, Problem]] = []
    prev: Equation | None = None
    for block in doc.blocks:
        items, probs = structure(block.text)
        block_probs: list[Problem] = list(probs)
        rows = _rows_of(items, block, block_probs)
        for row in rows:
            members_items: list[list] = [[]]
            rels: list[str] = []
            inside = bracketed(row)
            for k, it in enumerate(row):
                r = None if k in inside else relation_of(it)
                if r in ("=", "≈"):
                    members_items.append([])
                    rels.append(r)
                elif r == "other":
                    members_items.append([])
                    rels.append("other")
                else:
                    members_items[-1].append(it)
            span = items_span(row)
            members = [parse_expr(m, block_probs, block.text) if m else Empty(span=(span[0], span[0]))
                       for m in members_items]
            if not rels:
                prev = None if not _is_text_only(members) else prev
                continue
            continued = False
            if not members_items[0] and prev is not None and rels[0] != "other":
                members = prev.members + members[1:]
                rels = prev.rels + rels
                mb = prev.member_blocks + [block] * (len(members_items) - 1)
                eq = Equation(members, rels, block, span, prev.index, True, mb)
                equations[equations.index(prev)] = eq
                prev = eq
                continue
            eq = Equation(members, rels, block, span, len(equations), continued, [block] * len(members))
            equations.append(eq)
            prev = eq
        problems.extend((block, p) for p in block_probs)
    return Extracted(equations, problems)


def bracketed(items: list) -> set[int]:
    """Positions inside a matched ( … ) or [ … ] pair: a relation there (\\mathbb{1}[z > 0]) is part of a
    member, not the equation's relation."""
    stack: list[tuple[str, int]] = []
    inside: set[int] = set()
    for k, it in enumerate(items):
        if isinstance(it, Tok) and it.kind == "char" and it.val in "([":
            stack.append((it.val, k))
        elif isinstance(it, Tok) and it.kind == "char" and it.val in ")]" and stack:
            if stack[-1][0] == {")": "(", "]": "["}[it.val]:
                inside.update(range(stack.pop()[1] + 1, k))
            else:
                stack.clear()  # [0, 1): an interval, not a pair
    return inside


def _is_text_only(members: list[Node]) -> bool:
    return all(isinstance(m, Empty) for m in members)
