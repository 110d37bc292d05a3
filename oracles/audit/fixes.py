"""Search small edits that make a broken equation hold, and render them as LaTeX to paste.

An :class:`Edit` changes one thing: an index, a layer superscript, a symbol
letter, a summation limit, a sign; drops a repeated vector entry; adds a
missing term (a bias, a σ' factor); or inserts a missing ``=``.  The search
tries single edits, then pairs, cheapest first, and keeps the cheapest that
makes the equation hold in every context (index value, instance) it is checked
in.  Each edit carries the splice (start, end, text) that applies it to the
document's own LaTeX, so the suggested fix is the author's text, corrected.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from .latex import parse_expr, structure
from .semantics import sym_kind
from .tree import BinOp, Deriv, Matrix, Node, Num, Paren, Sum, Sym, Transpose, contains, rebuild

LETTER_SWAPS = {"a": ("z", "b"), "z": ("a",), "b": ("a",), "A": ("Z",), "Z": ("A",), "y": ("a",)}


@dataclass
class Edit:
    """One small change of an equation member."""

    kind: str  # index, symbol, shape, missing-term, relation, sign, transpose
    what: str
    member: int
    target: Node
    new: Node | None
    splice: tuple[int, int, str]
    cost: float
    split: tuple[Node, Node] | None = None

    @property
    def span(self) -> tuple[int, int]:
        return (self.splice[0], self.splice[1])


def apply_edits(members: list[Node], edits: list[Edit]) -> list[Node] | None:
    """The members with the edits applied (None when they conflict)."""
    out = list(members)
    order = sorted(edits, key=lambda e: (e.split is None, -(e.target.span[1] - e.target.span[0])))
    for e in order:
        if e.split is not None:
            idx = next((i for i, m in enumerate(out) if m is e.target), None)
            if idx is None:
                return None
            out[idx:idx + 1] = list(e.split)
            continue
        idx = next((i for i, m in enumerate(out) if contains(m, e.target)), None)
        if idx is None:
            return None
        out[idx] = rebuild(out[idx], e.target, e.new)
    return out


def splice_text(text: str, splices: list[tuple[int, int, str]]) -> str:
    """Apply non-overlapping splices (start, end, replacement) to text."""
    for s, e, r in sorted(splices, key=lambda t: (t[0], t[1]), reverse=True):
        text = text[:s] + r + text[e:]
    return text


def parse_snippet(latex: str) -> Node:
    """Parse a generated LaTeX snippet into a node."""
    items, problems = structure(latex)
    return parse_expr(items, problems, latex)


def _layer_text(text: str, s: Sym) -> str:
    return text[s.layer_span[0]:s.layer_span[1]] if s.layer_span else ""


def _fmt_layer(expr_text: str, s: Sym) -> str:
    if s.layer_style == "paren":
        return f"^{{({expr_text})}}"
    if s.layer_style == "bracket":
        return f"^{{[{expr_text}]}}"
    return f"^{{{expr_text}}}"


def _letter_len(text: str, s: Sym) -> int:
    start = s.span[0]
    if text.startswith("\\" + s.name, start):
        return len(s.name) + 1
    return 1


def _layer_alternatives(cur: str, layer_vars: set[str], doc_layers: list[int]) -> list[str]:
    cur = cur.replace(" ", "")
    letters = ["\\ell"] if "\\ell" in cur else [c for c in cur if c.isalpha()]
    if letters:
        v = letters[0]
        opts = [v, f"{v}+1", f"{v}-1", f"{v}+2"]
    else:
        opts = [str(k) for k in doc_layers]
    return [o for o in opts if o != cur]


def _key(node: Node | None) -> str:
    """A span-free text key of a node."""
    if node is None:
        return ""
    if isinstance(node, Num):
        return node.text
    if isinstance(node, Sym):
        return node.name + "_" + ",".join(_key(x) for x in node.sub) + "^" + _key(node.layer)
    return type(node).__name__ + "(" + ",".join(_key(c) for c in node.children()) + ")"


def _suspicious(member: Node) -> set[int]:
    """ids of Syms that deviate from the pattern of their vector/matrix (name, layer, index = row)."""
    out: set[int] = set()
    for m in member.walk():
        if not isinstance(m, Matrix) or len(m.rows) < 2:
            continue
        cells = [(ri, ci, c) for ri, r in enumerate(m.rows) for ci, c in enumerate(r)]
        first = []
        for ri, ci, c in cells:
            syms = [s for s in c.walk() if isinstance(s, Sym) and sym_kind(s) in ("a", "z", "b", "w", "delta", "y")]
            first.append((ri, ci, syms))
        by_pos: dict[int, list] = {}
        for ri, ci, syms in first:
            for p, s in enumerate(syms):
                by_pos.setdefault(p, []).append((ri, ci, s))
        for _p, entries in by_pos.items():
            names = Counter(s.name for _, _, s in entries)
            lays = Counter(_key(s.layer) for _, _, s in entries)
            top_name = names.most_common(1)[0][0]
            top_lay = lays.most_common(1)[0][0]
            col_vec = all(len(r) == 1 for r in m.rows)
            row_match = sum(1 for ri, _, s in entries if s.sub and isinstance(s.sub[0], Num)
                            and int(s.sub[0].value) == ri + 1)
            for ri, _ci, s in entries:
                if s.name != top_name or _key(s.layer) != top_lay:
                    out.add(id(s))
                if col_vec and row_match >= len(entries) / 2 and s.sub and isinstance(s.sub[0], Num) and int(
                        s.sub[0].value) != ri + 1:
                    out.add(id(s))
            # repeated entries
            seen: list = []
            for _ri, _ci, s in entries:
                key = (s.name, s.sub, s.layer)
                if key in seen:
                    out.add(id(s))
                seen.append(key)
    return out


class EditGenerator:
    """All single edits of one equation member."""

    def __init__(self, text: str, members: list[Node], index_vars: set[str], layer_vars: set[str],
                 doc_layers: list[int], max_width: int, batch_symbol: str | None = None):
        self.text = text
        self.batch_symbol = batch_symbol  # "m" when the document averages over a batch of m samples
        self.members = members
        self.index_vars = sorted(index_vars) or ["i", "j", "k"]
        self.layer_vars = layer_vars
        self.doc_layers = doc_layers
        self.max_width = max(2, min(max_width, 8))

    def edits(self, mi: int) -> list[Edit]:
        member = self.members[mi]
        sus = _suspicious(member)
        out: list[Edit] = []
        for n in member.walk():
            if isinstance(n, Sym):
                out += self._sym_edits(mi, n, id(n) in sus)
            elif isinstance(n, Sum):
                out += self._sum_edits(mi, n)
            elif isinstance(n, Matrix):
                out += self._row_edits(mi, n)
            elif isinstance(n, BinOp) and n.op in ("+", "-"):
                out += self._sign_edits(mi, n)
            elif isinstance(n, BinOp) and n.op == "mul":
                out += self._order_edits(mi, n)
            elif isinstance(n, Transpose) and isinstance(n.x, (Sym, Paren)):
                out.append(Edit("transpose", "drop the transpose", mi, n, n.x,
                                (n.x.span[1], n.span[1], ""), 1.6))
            if self._transposable(n):
                out.append(Edit("transpose", "add a transpose", mi, n, Transpose(n, span=n.span),
                                self._transpose_splice(n), 1.5))
        out += self._missing_terms(mi, member)
        out += self._splits(mi, member)
        if mi == 0 and len(self.members) > 1:
            for e in out:
                e.cost += 0.6
        out.sort(key=lambda e: e.cost)
        return out

    def _transpose_splice(self, n: Node) -> tuple[int, int, str]:
        """^T after the node; a symbol that already has a superscript is wrapped first (no double ^)."""
        s, e = n.span
        if isinstance(n, Sym) and (n.layer is not None or "^" in self.text[s:e]):
            return (s, e, f"\\left({self.text[s:e]}\\right)^T")
        return (e, e, "^T")

    # -- kinds of edit
    @staticmethod
    def _transposable(n: Node) -> bool:
        inner = n.x if isinstance(n, Paren) and n.delim in ("(", "[") else n
        return isinstance(inner, Sym) and all(isinstance(x, Num) for x in inner.sub) and not inner.transpose and (
            sym_kind(inner) in (
            "a", "w", "delta", "x")) and (n is not inner or inner.layer is not None or bool(inner.sub))  # W_2 too

    def _sym_edits(self, mi: int, s: Sym, sus: bool) -> list[Edit]:
        out: list[Edit] = []
        disc = -0.4 if sus else 0.0
        kind = sym_kind(s)
        if kind is None or kind == "C":
            return out
        for p, idx in enumerate(s.sub):
            if kind == "n":
                continue
            if isinstance(idx, Sym) and len(idx.name) == 1:
                alts = [v for v in self.index_vars if v != idx.name]
            elif isinstance(idx, Num):
                alts = [str(k) for k in range(1, self.max_width + 1) if k != int(idx.value)]
            else:
                continue
            for alt in alts:
                new_idx = Num(float(alt), alt, 0, span=idx.span) if alt.isdigit() else Sym(alt, span=idx.span)
                sub = tuple(new_idx if q == p else x for q, x in enumerate(s.sub))
                new = Sym(s.name, sub, s.layer, s.layer_style, s.transpose, s.prime, s.font, s.sub_span,
                          s.layer_span, span=s.span)
                out.append(Edit("index", f"subscript {self.text[idx.span[0]:idx.span[1]]} → {alt}", mi, s, new,
                                (idx.span[0], idx.span[1], alt), 1.0 + disc))
        if s.layer is not None and s.layer_span is not None:
            cur = _layer_text(self.text, s)
            for alt in _layer_alternatives(cur, self.layer_vars, self.doc_layers):
                lay = parse_snippet(alt)
                new = Sym(s.name, s.sub, lay, s.layer_style, s.transpose, s.prime, s.font, s.sub_span,
                          s.layer_span, span=s.span)
                out.append(Edit("index", f"layer ({cur}) → ({alt})", mi, s, new,
                                (s.layer_span[0], s.layer_span[1], alt), 1.0 + disc))
        if kind == "n" and s.sub:
            idx = s.sub[0]
            cur = self.text[idx.span[0]:idx.span[1]]
            for alt in _layer_alternatives(cur, self.layer_vars, self.doc_layers):
                new = Sym(s.name, (parse_snippet(alt),), s.layer, s.layer_style, s.transpose, s.prime, s.font,
                          s.sub_span, s.layer_span, span=s.span)
                txt = alt if len(alt) == 1 else "{" + alt + "}"
                start, end = s.sub_span if s.sub_span else idx.span
                if self.text[start - 1:start] == "{":
                    txt = alt
                out.append(Edit("index", f"n_{{{cur}}} → n_{{{alt}}}", mi, s, new, (start, end, txt), 1.0))
        if not s.font:
            for alt in LETTER_SWAPS.get(s.name, ()):
                new = Sym(alt, s.sub, s.layer, s.layer_style, s.transpose, s.prime, s.font, s.sub_span,
                          s.layer_span, span=s.span)
                ln = _letter_len(self.text, s)
                out.append(Edit("symbol", f"{s.name} → {alt}", mi, s, new,
                                (s.span[0], s.span[0] + ln, alt), 1.2 + disc))
        return out

    def _sum_edits(self, mi: int, n: Sum) -> list[Edit]:
        out: list[Edit] = []
        if isinstance(n.lo, Num):
            for alt in ("0", "1"):
                if alt != n.lo.text:
                    new = Sum(n.var, Num(float(alt), alt, 0, span=n.lo.span), n.hi, n.body, span=n.span)
                    out.append(Edit("index", f"sum from {alt}", mi, n, new, (n.lo.span[0], n.lo.span[1], alt), 1.3))
        return out

    def _row_edits(self, mi: int, m: Matrix) -> list[Edit]:
        out: list[Edit] = []
        if len(m.rows) >= 2 and all(len(r) == 1 for r in m.rows):
            for r in range(len(m.rows)):
                rows = tuple(x for q, x in enumerate(m.rows) if q != r)
                spans = tuple(x for q, x in enumerate(m.row_spans) if q != r)
                new = Matrix(rows, m.env, spans, span=m.span)
                s, e = self._row_extent(m, r)
                dup = any(m.rows[r] == m.rows[q] for q in range(len(m.rows)) if q != r)
                cost = 0.8 if dup and any(m.rows[r] == m.rows[q] for q in range(r)) else 1.1
                out.append(Edit("shape", f"drop entry {r + 1} ({self.text[m.row_spans[r][0]:m.row_spans[r][1]]})",
                                mi, m, new, (s, e, ""), cost))
        lens = [len(r) for r in m.rows]
        if len(set(lens)) > 1 and len(m.rows) >= 1:
            common = Counter(lens).most_common(1)[0][0]
            for r, row in enumerate(m.rows):
                if len(row) > common:
                    for c in range(len(row)):
                        new_row = tuple(x for q, x in enumerate(row) if q != c)
                        rows = tuple(new_row if q == r else x for q, x in enumerate(m.rows))
                        new = Matrix(rows, m.env, m.row_spans, span=m.span)
                        cell = row[c]
                        s = cell.span[0]
                        e = cell.span[1]
                        # include the neighbouring '&'
                        k = self.text.rfind("&", m.span[0], s)
                        if c > 0 and k >= 0:
                            s = k
                        else:
                            k2 = self.text.find("&", e, m.span[1])
                            if k2 >= 0:
                                e = k2 + 1
                        out.append(Edit("shape", f"drop entry ({r + 1}, {c + 1})", mi, m, new, (s, e, ""), 1.0))
        return out

    def _row_extent(self, m: Matrix, r: int) -> tuple[int, int]:
        s, e = m.row_spans[r]
        t = self.text
        k = e
        while k < m.span[1] and t[k] in " \t\n":
            k += 1
        if t.startswith("\\\\", k):
            e = k + 2
            while e < m.span[1] and t[e] in " \t":
                e += 1
            return s, e
        # last row: take the preceding separator instead
        k = s - 1
        while k > m.span[0] and t[k] in " \t\n":
            k -= 1
        if t[k - 1:k + 1] == "\\\\":
            return k - 1, e
        return s, e

    def _order_edits(self, mi: int, n: BinOp) -> list[Edit]:
        """A product of two factors in the wrong order: B A for A B, and Bᵀ A for Aᵀ B (an outer product turned)."""
        a, b = n.left, n.right
        simple = (Sym, Paren, Transpose, Deriv)
        if not (isinstance(a, simple) and isinstance(b, simple)) or (isinstance(a, Deriv) and a.num is None):
            return []
        ta, tb = self.text[a.span[0]:a.span[1]], self.text[b.span[0]:b.span[1]]
        span = (a.span[0], b.span[1])
        out = [Edit("transpose", f"the factors in the other order ({tb} {ta})", mi, n,
                    BinOp("mul", b, a, span=n.span), (*span, f"{tb} {ta}"), 1.5)]
        if isinstance(a, Transpose) and not isinstance(b, Transpose):
            inner = a.x
            ti = self.text[inner.span[0]:inner.span[1]]
            tb_t = f"{tb}^\\top" if isinstance(b, Sym) and "^" not in tb else f"\\left({tb}\\right)^\\top"
            out.append(Edit("transpose", f"{ta} {tb} → {tb_t} {ti}", mi, n,
                            BinOp("mul", Transpose(b, span=b.span), inner, span=n.span), (*span, f"{tb_t} {ti}"), 1.6))
        if isinstance(b, Transpose) and not isinstance(a, Transpose):  # a δᵀ for δ aᵀ: the outer product turned
            inner = b.x
            ti = self.text[inner.span[0]:inner.span[1]]
            ta_t = f"{ta}^\\top" if isinstance(a, Sym) and "^" not in ta else f"\\left({ta}\\right)^\\top"
            out.append(Edit("transpose", f"{ta} {tb} → {ti} {ta_t}", mi, n,
                            BinOp("mul", inner, Transpose(a, span=a.span), span=n.span), (*span, f"{ti} {ta_t}"), 1.6))
        return out

    def _sign_edits(self, mi: int, n: BinOp) -> list[Edit]:
        alt = "-" if n.op == "+" else "+"
        # find the operator character between the operands
        k = self.text.find(n.op, n.left.span[1], n.right.span[0] + 1)
        if k < 0:
            return []
        new = BinOp(alt, n.left, n.right, span=n.span)
        out = [Edit("sign", f"'{n.op}' → '{alt}'", mi, n, new, (k, k + 1, alt), 1.5)]
        if n.op == "-" and not isinstance(n.left, BinOp):  # (y − a) for (a − y): the operands swapped
            left, right = self.text[n.left.span[0]:n.left.span[1]], self.text[n.right.span[0]:n.right.span[1]]
            swapped = BinOp("-", n.right, n.left, span=n.span)
            out.append(Edit("sign", f"{left} − {right} → {right} − {left}", mi, n, swapped,
                            (n.left.span[0], n.right.span[1], f"{right} - {left}"), 1.4))
        return out

    def _missing_terms(self, mi: int, member: Node) -> list[Edit]:
        out: list[Edit] = []
        seen: set[str] = set()

        def add(latex: str, what: str, cost: float, kind: str = "missing-term", target: Node = member,
                at: int | None = None, op: str = "+"):
            if latex in seen:
                return
            seen.add(latex)
            node = parse_snippet(latex)
            new = BinOp(op if op != "mul" else "mul", target, node, span=target.span)
            pos = target.span[1] if at is None else at
            sep = {"+": " + ", "mul": " ", "odot": " \\odot "}[op]
            if op == "odot":
                new = BinOp("odot", target, node, span=target.span)
            out.append(Edit(kind, what, mi, target, new, (pos, pos, sep + latex), cost))

        # a bias: look for W (literal or symbol) and its layer
        for n in member.walk():
            if isinstance(n, Matrix):
                ws = [s for r in n.rows for c in r for s in c.walk() if isinstance(s, Sym) and sym_kind(s) == "w"]
                if ws and ws[0].layer_span is not None and len(n.rows) >= 1:
                    lay = _layer_text(self.text, ws[0])
                    rows = len(n.rows)
                    env = _vector_env(member)
                    sup = _fmt_layer(lay, ws[0])
                    entries = " \\\\ ".join(f"b_{{{i}}}{sup}" for i in range(1, rows + 1))
                    add(f"\\begin{{{env}}} {entries} \\end{{{env}}}", f"add the bias vector b{sup}", 2.0)
            if isinstance(n, Sym) and sym_kind(n) == "w" and n.layer_span is not None:
                lay = _layer_text(self.text, n)
                sup = _fmt_layer(lay, n)
                if n.sub and isinstance(n.sub[0], Sym):
                    add(f"b_{n.sub[0].name}{sup}", f"add the bias b_{n.sub[0].name}{sup}", 2.0)
                elif not n.sub:
                    bsym = f"\\{n.font}{{b}}" if n.font in ("mathbf", "boldsymbol", "bm", "vec") else "b"
                    add(f"{bsym}{sup}", f"add the bias {bsym}{sup}", 2.0)
        # a σ' factor after δ or a
        for n in member.walk():
            if isinstance(n, Sym) and sym_kind(n) in ("delta",) and n.layer_span is not None:
                lay = _layer_text(self.text, n)
                sup = _fmt_layer(lay, n)
                if n.sub:
                    sub = self.text[n.sub_span[0]:n.sub_span[1]] if n.sub_span else ""
                    sub = sub.strip("{}")
                    add(f"\\sigma'\\left(z_{{{sub}}}{sup}\\right)", "add the factor σ'(z)", 2.0,
                        target=n, op="mul")
                else:
                    add(f"\\sigma'\\left(z{sup}\\right)", "add the factor ⊙ σ'(z)", 2.0, target=n, op="odot")
        # the 1/m of a cost averaged over a batch of m samples
        if self.batch_symbol and mi != 0:
            m = self.batch_symbol
            node = parse_snippet(f"\\frac{{1}}{{{m}}}")
            out.append(Edit("missing-term", f"add the factor 1/{m} (the cost is averaged over the batch)", mi, member,
                            BinOp("mul", node, member, span=member.span),
                            (member.span[0], member.span[0], f"\\frac{{1}}{{{m}}} "), 2.0))
        # the chain rule through an element-wise activation whose output is v: ∂C/∂u = ∂C/∂v ⊙ (1 − v²) (tanh),
        # ⊙ v ⊙ (1 − v) (logistic)
        for n in member.walk():
            if isinstance(n, Deriv) and n.num is not None and isinstance(n.var, Sym) and not n.var.sub:
                v = self.text[n.var.span[0]:n.var.span[1]]
                sq = f"{v}^2" if "^" not in v else f"\\left({v}\\right)^2"
                add(f"\\left(1 - {sq}\\right)", f"add the factor ⊙ (1 − {v}²)", 2.0, op="odot")
                add(f"{v} \\odot \\left(1 - {v}\\right)", f"add the factor ⊙ {v} ⊙ (1 − {v})", 2.1, op="odot")
        # the σ'(z) of the error the other side defines (δ^{(l)} = … ⊙ σ'(z^{(l)}) with the factor dropped)
        if mi != 0 and self.members:
            ref = self.members[0]
            while isinstance(ref, Paren):
                ref = ref.x
            if isinstance(ref, Sym) and sym_kind(ref) == "delta" and ref.layer_span is not None:
                sup = _fmt_layer(_layer_text(self.text, ref), ref)
                z = "\\mathbf{z}" if ref.font in ("mathbf", "boldsymbol", "bm") else "z"  # bold δ, bold z
                if ref.sub and ref.sub_span:
                    sub = self.text[ref.sub_span[0]:ref.sub_span[1]].strip("{}")
                    add(f"\\sigma'\\left({z}_{{{sub}}}{sup}\\right)", "add the factor σ'(z)", 2.0, op="mul")
                else:
                    add(f"\\sigma'\\left({z}{sup}\\right)", "add the factor ⊙ σ'(z)", 2.0, op="odot")
        return out

    def _splits(self, mi: int, member: Node) -> list[Edit]:
        out: list[Edit] = []
        node = member
        if not (isinstance(node, BinOp) and node.op == "mul"):
            return out
        # split points along the left spine: ((A B) C) -> [A B | C], [A | B C]
        spine = []
        cur = node
        while isinstance(cur, BinOp) and cur.op == "mul":
            spine.append(cur)
            cur = cur.left
        for k, b in enumerate(spine):
            left = b.left
            rights = [b.right] + [spine[q].right for q in range(k - 1, -1, -1)]
            right = rights[0]
            for r in rights[1:]:
                right = BinOp("mul", right, r, span=(right.span[0], r.span[1]))
            pos = b.right.span[0]
            out.append(Edit("relation", "insert a missing '='", mi, member, None, (pos, pos, "= "), 1.5,
                            split=(left, right)))
        return out


def _vector_env(member: Node) -> str:
    for n in member.walk():
        if isinstance(n, Matrix) and all(len(r) == 1 for r in n.rows) and n.env in (
                "cases", "bmatrix", "pmatrix", "Bmatrix", "matrix"):
            return n.env
    return "bmatrix"


@dataclass
class Fix:
    """A set of edits that makes the equation hold."""

    edits: list[Edit]
    members: list[Node]

    @property
    def cost(self) -> float:
        return sum(e.cost for e in self.edits)


def search(members: list[Node], targets: list[int], holds: Callable[[list[Node]], bool],
           gen: EditGenerator, *, score: Callable[[list[Node]], float] | None = None,
           max_pairs: int = 3000) -> Fix | None:
    """The cheapest single edit (then pair of edits) of the target members after which ``holds``.

    Pairs start from the single edits that bring the member closest to holding (``score``,
    the residual on the failing contexts) and from the structural edits (add a term, insert '=').
    """
    singles: list[Edit] = []
    for mi in targets:
        if sum(1 for _ in members[mi].walk()) > 400:
            continue  # far too large to search edit by edit
        singles += gen.edits(mi)
    singles.sort(key=lambda e: e.cost)
    best: Fix | None = None
    resid: dict[int, float] = {}
    for e in singles:
        new = apply_edits(members, [e])
        if new is None:
            resid[id(e)] = float("inf")
            continue
        if best is None or e.cost < best.cost:
            if holds(new):
                best = Fix([e], new)
                continue
        resid[id(e)] = score(new) if score is not None else 0.0
    if best is not None:
        return best
    base = score(members) if score is not None else 0.0
    improving = sorted((e for e in singles if resid.get(id(e), float("inf")) < base),
                       key=lambda e: (resid[id(e)], e.cost))[:15]
    structural = [e for e in singles if e.kind in ("missing-term", "relation", "shape")][:25]
    firsts = list({id(e): e for e in improving + structural}.values())
    pairs = []
    # phase A: pairs of promising edits; phase B: a promising edit with any other
    for phase, seconds in ((0, firsts), (1, singles)):
        for e1 in firsts:
            for e2 in seconds:
                if e2 is e1 or (e1.split is not None and e2.split is not None):
                    continue
                if e1.target is e2.target:
                    m = merge(e1, e2, gen.text)
                    if m is not None:
                        pairs.append((phase, m.cost, m, None))
                    continue
                if _overlap(e1, e2):
                    continue
                pairs.append((phase, e1.cost + e2.cost, e1, e2))
    pairs.sort(key=lambda t: (t[0], t[1]))
    tried: set = set()
    for _phase, cost, e1, e2 in pairs[:max_pairs]:
        key = frozenset((id(e1), id(e2)))
        if key in tried:
            continue
        tried.add(key)
        if best is not None and cost >= best.cost:
            continue
        group = [e1] if e2 is None else [e1, e2]
        new = apply_edits(members, group)
        if new is not None and holds(new):
            best = Fix(group, new)
    return best


def regenerate(members: list[Node], mi: int, mat: Matrix, holds: Callable[[list[Node]], bool],
               text: str) -> Fix | None:
    """Rebuild a garbled matrix from its first entries' pattern (indices following row and column)."""
    if not mat.rows or not mat.rows[0]:
        return None
    c00 = mat.rows[0][0]
    c01 = mat.rows[0][1] if len(mat.rows[0]) > 1 else None
    c10 = mat.rows[1][0] if len(mat.rows) > 1 and mat.rows[1] else None
    row_pos, col_pos = _varying(c00, c10), _varying(c00, c01)
    src = text[c00.span[0]:c00.span[1]]
    env = mat.env if mat.env in ("bmatrix", "pmatrix", "Bmatrix", "matrix", "vmatrix") else "bmatrix"
    for shape in _shapes(mat):
        rows_txt = []
        for i in range(shape[0]):
            cells = []
            for j in range(shape[1]):
                spl = [(s - c00.span[0], e - c00.span[0], str(v + i)) for s, e, v in row_pos]
                spl += [(s - c00.span[0], e - c00.span[0], str(v + j)) for s, e, v in col_pos]
                cells.append(splice_text(src, spl))
            rows_txt.append(" & ".join(cells))
        latex = f"\\begin{{{env}}} " + " \\\\ ".join(rows_txt) + f" \\end{{{env}}}"
        node = parse_snippet(latex)
        new = list(members)
        new[mi] = node
        if holds(new):
            e = Edit("shape", f"rebuild the matrix as {shape[0]}×{shape[1]}", mi, mat, node,
                     (mat.span[0], mat.span[1], latex), 3.0)
            return Fix([e], new)
    return None


def _shapes(mat: Matrix) -> list[tuple[int, int]]:
    lens = Counter(len(r) for r in mat.rows)
    cols = lens.most_common(1)[0][0]
    out = []
    for r in range(1, min(len(mat.rows), 8) + 1):
        for c in sorted({cols, len(mat.rows[0])}):
            out.append((r, c))
    return out


def _varying(a: Node, b: Node | None) -> list[tuple[int, int, int]]:
    """Positions (start, end, value) of numeric indices that differ by one between two similar cells."""
    if b is None:
        return []
    na = [n for n in a.walk() if isinstance(n, Num)]
    nb = [n for n in b.walk() if isinstance(n, Num)]
    if len(na) != len(nb):
        return []
    return [(x.span[0], x.span[1], int(x.value)) for x, y in zip(na, nb) if y.value - x.value == 1]


def merge(a: Edit, b: Edit, text: str) -> Edit | None:
    """Two edits of the same symbol (its layer and its subscript) as one edit."""
    if a.target is not b.target or not isinstance(a.target, Sym) or not isinstance(a.new, Sym) \
            or not isinstance(b.new, Sym):
        return None
    (s1, e1), (s2, e2) = a.span, b.span
    if s1 < e2 and s2 < e1:
        return None
    t, na, nb = a.target, a.new, b.new
    changes = {}
    for f in ("name", "layer"):
        if getattr(nb, f) != getattr(t, f):
            changes[f] = getattr(nb, f)
    if nb.sub != t.sub and len(nb.sub) == len(t.sub) == len(na.sub):
        changes["sub"] = tuple(y if y != x else z for x, y, z in zip(t.sub, nb.sub, na.sub))
    if not changes:
        return None
    from dataclasses import replace
    new = replace(na, **changes)
    lo, hi = t.span
    src = splice_text(text[lo:hi], [(s1 - lo, e1 - lo, a.splice[2]), (s2 - lo, e2 - lo, b.splice[2])])
    kind = a.kind if a.kind == b.kind else "index"
    return Edit(kind, f"{a.what}; {b.what}", a.member, t, new, (lo, hi, src), a.cost + b.cost)


def _overlap(a: Edit, b: Edit) -> bool:
    (s1, e1), (s2, e2) = a.span, b.span
    if a.target is b.target:
        return True
    if s1 == e1 or s2 == e2:
        return s1 == s2 and a.kind == b.kind
    return s1 < e2 and s2 < e1


def search_entries(cells: list[tuple[Node, object]], holds_cell: Callable[[Node, object], bool],
                   gen: EditGenerator, member_index: int) -> list[Edit] | None:
    """Per-entry search: for each wrong cell, the cheapest edit(s) inside it."""
    chosen: list[Edit] = []
    for cell, target in cells:
        edits = [e for e in gen.edits(member_index) if contains(cell, e.target) and e.split is None]
        found = None
        for e in edits:
            new_cell = rebuild(cell, e.target, e.new)
            if holds_cell(new_cell, target):
                found = [e]
                break
        if found is None:
            for e1, e2 in itertools.islice(((a, b) for a in edits[:30] for b in edits
                                           if a is not b and a.cost <= b.cost), 3000):
                if e1.target is e2.target:
                    m = merge(e1, e2, gen.text)
                    if m is None:
                        continue
                    c = rebuild(cell, m.target, m.new)
                    group = [m]
                elif _overlap(e1, e2):
                    continue
                else:
                    c = rebuild(rebuild(cell, e1.target, e1.new), e2.target, e2.new)
                    group = [e1, e2]
                if holds_cell(c, target):
                    found = group
                    break
        if found is None:
            return None
        chosen += found
    return chosen


__all__ = ["Edit", "EditGenerator", "Fix", "apply_edits", "merge", "regenerate", "search", "search_entries",
           "splice_text", "parse_snippet"]
