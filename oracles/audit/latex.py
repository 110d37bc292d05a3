"""Read a LaTeX math fragment into the audit's expression tree.

Two passes, both over pylatexenc's tokenizer (:meth:`LatexWalker.get_token`):

1. :func:`structure` groups tokens into braces, environments and
   ``\\left … \\right`` pairs, recovering from malformed input (an environment
   closed by the wrong ``\\end``, a missing ``}``, input truncated mid-matrix) and
   recording each such problem with its position and the edit that repairs it.
2. :class:`ExprParser` is a recursive-descent parser for the math itself:
   relations, ``+``/``−``, products (juxtaposition, ``\\times``, ``\\cdot``,
   ``\\odot``), sub/superscripts, ``\\frac``, ``\\sum``, function application,
   partial derivatives, and vectors/matrices in every notation of the family.

Neither pass raises on bad input: problems are returned as :class:`Problem`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pylatexenc.latexwalker import LatexWalker, LatexWalkerEndOfStream, LatexWalkerError

from .tree import (
    Apply,
    BinOp,
    Deriv,
    Empty,
    Frac,
    Index,
    IndexRange,
    Matrix,
    Missing,
    Neg,
    Node,
    Norm,
    Num,
    Paren,
    Pow,
    Sum,
    Sym,
    Transpose,
)

MATRIX_ENVS = {"cases", "bmatrix", "pmatrix", "Bmatrix", "vmatrix", "Vmatrix", "matrix", "smallmatrix", "array",
               "aligned", "split", "gathered", "align", "align*", "alignedat", "dcases"}
ROW_ENVS = {"aligned", "split", "gathered", "align", "align*", "alignedat", "eqnarray", "equation", "equation*"}
RELATIONS = {"=": "=", "approx": "≈", "simeq": "≈", "equiv": "=", "coloneqq": "=", "triangleq": "="}
OTHER_RELATIONS = {"neq", "ne", "leq", "geq", "le", "ge", "<", ">", "to", "rightarrow", "Rightarrow", "implies",
                   "mapsto", "in", "sim", "propto"}
GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "iota", "kappa",
         "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "phi", "varphi", "chi", "psi", "omega",
         "Delta", "Sigma", "Theta", "Lambda", "Phi", "Psi", "Omega", "Gamma", "ell", "nabla"}
FUNCTIONS = {"sigma": "sigma", "tanh": "tanh", "exp": "exp", "log": "log", "ln": "log", "sinh": "sinh",
             "cosh": "cosh", "phi": "phi", "varphi": "phi", "max": "max", "min": "min", "text{ReLU}": "relu",
             "operatorname{ReLU}": "relu", "softmax": "softmax", "text{softmax}": "softmax",
             "operatorname{softmax}": "softmax", "text{diag}": "diag", "operatorname{diag}": "diag",
             "text{sigmoid}": "sigma", "operatorname{sigmoid}": "sigma"}
FONTS = {"mathcal", "mathbf", "boldsymbol", "bm", "mathrm", "mathit", "mathbb", "vec", "hat", "bar", "tilde",
         "operatorname", "mathsf", "pmb", "text", "textbf", "textrm"}
SPACING = {"quad", "qquad", ",", ";", "!", ":", " ", "enspace", "thinspace", "medspace", "displaystyle",
           "textstyle", "limits", "nolimits", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr",
           "biggl", "biggr", "Biggl", "Biggr", "label", "nonumber", "notag"}
DELIMS = {"(": "(", ")": ")", "[": "[", "]": "]", "{": "{", "}": "}", "lbrace": "{", "rbrace": "}",
          "langle": "<", "rangle": ">", "|": "|", "lvert": "|", "rvert": "|", "Vert": "‖", "lVert": "‖",
          "rVert": "‖", ".": ".", "lbrack": "[", "rbrack": "]", "lparen": "(", "rparen": ")"}
MULOPS = {"times": "times", "cdot": "cdot", "odot": "odot", "circ": "odot", "ast": "times", "*": "times",
          "otimes": "otimes"}
FRAC_MACROS = {"frac", "dfrac", "tfrac", "cfrac"}


@dataclass(frozen=True)
class Tok:
    """One token: kind is char, macro, open, close, begin, end, amp, special or comment."""

    kind: str
    val: str
    start: int
    end: int
    space_before: str = ""


@dataclass
class Problem:
    """A malformation found while reading, with the edit (start, end, text) that repairs it."""

    message: str
    start: int
    end: int
    edit: tuple[int, int, str] | None = None
    kind: str = "malformed"


@dataclass
class Group:
    """{ … }."""

    items: list
    start: int
    end: int
    closed: bool = True


@dataclass
class Env:
    """\\begin{name} … \\end{name}."""

    name: str
    items: list
    start: int
    end: int
    closed: bool = True
    args: list = field(default_factory=list)


@dataclass
class LeftRight:
    """\\left<open> … \\right<close>."""

    open: str
    items: list
    close: str | None
    start: int
    end: int


def tokenize(text: str) -> list[Tok]:
    """The pylatexenc tokens of ``text`` (math mode), comments dropped."""
    walker = LatexWalker(text, tolerant_parsing=True)
    toks: list[Tok] = []
    pos = 0
    while pos < len(text):
        try:
            t = walker.get_token(pos, environments=True)
        except LatexWalkerEndOfStream:
            break
        except LatexWalkerError:  # pragma: no cover - defensive: skip a character the tokenizer rejects
            toks.append(Tok("char", text[pos], pos, pos + 1))
            pos += 1
            continue
        end = t.pos + max(t.len, 1)
        kind = {"brace_open": "open", "brace_close": "close", "begin_environment": "begin",
                "end_environment": "end"}.get(t.tok, t.tok)
        if kind == "specials":
            val = t.arg.specials_chars
            kind = "amp" if val == "&" else "special"
            if val == "''":
                kind, val = "char", "''"
        elif kind in ("open", "close"):
            val = t.tok
        else:
            val = t.arg if isinstance(t.arg, str) else str(t.arg)
        if kind == "comment":
            pos = end
            continue
        if kind in ("mathmode_inline", "mathmode_display") or (kind == "char" and not val.strip()):
            pos = end  # a blank line (pylatexenc's paragraph break) is only space in math
            continue
        toks.append(Tok(kind, val, t.pos, end, t.pre_space or ""))
        pos = end
    return _decimal_commas(toks)


def _decimal_commas(toks: list[Tok]) -> list[Tok]:
    """A comma in braces between digits (0{,}5, as German and French texts write a decimal comma) as a decimal
    point: one '.' token spanning the braces."""
    out: list[Tok] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if (t.kind == "open" and i + 3 < len(toks) and out and out[-1].kind == "char" and out[-1].val.isdigit()
                and not t.space_before and toks[i + 1].kind == "char" and toks[i + 1].val == ","
                and toks[i + 2].kind == "close" and toks[i + 3].kind == "char" and toks[i + 3].val.isdigit()
                and not toks[i + 3].space_before):
            out.append(Tok("char", ".", t.start, toks[i + 2].end))
            i += 3
            continue
        out.append(t)
        i += 1
    return out


class _Structurer:
    """Builds the brace/environment/\\left-\\right structure, recording problems."""

    def __init__(self, toks: list[Tok], text: str):
        self.toks = toks
        self.text = text
        self.i = 0
        self.problems: list[Problem] = []
        self.envs: list[str] = []  # open environment names, innermost last
        self.depth_left = 0

    def run(self) -> list:
        items = self.items(top=True)
        return items

    def items(self, top: bool = False, in_group: bool = False, in_left: bool = False) -> list:
        out: list = []
        while self.i < len(self.toks):
            t = self.toks[self.i]
            if t.kind == "open":
                self.i += 1
                inner = self.items(in_group=True)
                if self.i < len(self.toks) and self.toks[self.i].kind == "close":
                    end = self.toks[self.i].end
                    self.i += 1
                    out.append(Group(inner, t.start, end))
                else:
                    end = self._stop_pos()
                    rel = next((x for x in inner if isinstance(x, Tok) and x.kind == "char" and x.val == "="), None)
                    if rel is not None:  # {\partial b = δ: the brace belongs before the relation
                        k = rel.start
                        while k > t.start and self.text[k - 1] in " \t":
                            k -= 1
                        edit = (k, k, "}")
                    else:
                        edit = (end, end, "}")
                    self.problems.append(Problem(
                        "'{' is never closed" + self._where_stopped(), t.start, t.end, edit))
                    out.append(Group(inner, t.start, end, closed=False))
                continue
            if t.kind == "close":
                if in_group:
                    return out
                self.problems.append(Problem("'}' without a matching '{'", t.start, t.end, (t.start, t.end, "")))
                self.i += 1
                continue
            if t.kind == "begin":
                out.append(self.env(t))
                continue
            if t.kind == "end":
                if t.val in self.envs:
                    return out  # the environment (maybe an outer one) closes here
                if self.envs and not in_group and not in_left:
                    return out  # a wrong \end: the innermost environment decides
                self.problems.append(Problem(f"\\end{{{t.val}}} without a matching \\begin{{{t.val}}}",
                                             t.start, t.end, (t.start, t.end, "")))
                self.i += 1
                continue
            if t.kind == "macro" and t.val == "left":
                out.append(self.left(t))
                continue
            if t.kind == "macro" and t.val == "right":
                if in_left:
                    return out
                self.i += 1
                delim = self._delim()
                self.problems.append(Problem("\\right without a matching \\left", t.start, self._prev_end(),
                                             (t.start, self._prev_end(), "")))
                _ = delim
                continue
            out.append(t)
            self.i += 1
        return out

    def env(self, t: Tok) -> Env:
        self.i += 1
        name = t.val
        args: list = []
        if name in ("array", "alignedat") and self.i < len(self.toks) and self.toks[self.i].kind == "open":
            self.i += 1
            args = self.items(in_group=True)
            if self.i < len(self.toks) and self.toks[self.i].kind == "close":
                self.i += 1
        self.envs.append(name)
        inner = self.items()
        self.envs.pop()
        if self.i < len(self.toks) and self.toks[self.i].kind == "end":
            e = self.toks[self.i]
            if e.val == name:
                self.i += 1
                return Env(name, inner, t.start, e.end, True, args)
            if e.val in self.envs:  # an outer environment's \end: ours was never closed
                self.problems.append(Problem(
                    f"\\begin{{{name}}} is closed by \\end{{{e.val}}}, which belongs to an outer "
                    f"\\begin{{{e.val}}}; \\end{{{name}}} is missing", t.start, e.end,
                    (e.start, e.start, f"\\end{{{name}}} ")))
                return Env(name, inner, t.start, e.start, False, args)
            self.problems.append(Problem(f"\\begin{{{name}}} is closed by \\end{{{e.val}}}", t.start, e.end,
                                         (e.start, e.end, f"\\end{{{name}}}")))
            self.i += 1
            return Env(name, inner, t.start, e.end, True, args)
        end = self._stop_pos()
        self.problems.append(Problem(f"\\begin{{{name}}} is never closed: the input ends inside it",
                                     t.start, end, (end, end, f" \\end{{{name}}}")))
        return Env(name, inner, t.start, end, False, args)

    def left(self, t: Tok) -> LeftRight:
        self.i += 1
        open_ = self._delim()
        inner = self.items(in_left=True)
        if self.i < len(self.toks) and self.toks[self.i].kind == "macro" and self.toks[self.i].val == "right":
            self.i += 1
            close = self._delim()
            return LeftRight(open_, inner, close, t.start, self._prev_end())
        end = self._stop_pos()
        closing = {"(": ")", "[": "]", "{": "\\}", "|": "|", "<": "\\rangle", ".": "."}.get(open_, ".")
        self.problems.append(Problem("\\left" + (f"\\{open_}" if open_ == "{" else open_)
                                     + " without a matching \\right" + self._where_stopped(),
                                     t.start, end, (end, end, f" \\right{closing}")))
        return LeftRight(open_, inner, None, t.start, end)

    def _delim(self) -> str:
        if self.i >= len(self.toks):
            return "."
        t = self.toks[self.i]
        if t.kind == "macro" and t.val == "|":
            self.i += 1
            return "‖"
        if t.kind in ("char", "macro") and t.val in DELIMS:
            self.i += 1
            return DELIMS[t.val]
        return "."

    def _prev_end(self) -> int:
        return self.toks[self.i - 1].end if self.i > 0 else 0

    def _stop_pos(self) -> int:
        if self.i < len(self.toks):
            return self.toks[self.i].start
        return len(self.text.rstrip())

    def _where_stopped(self) -> str:
        if self.i < len(self.toks):
            t = self.toks[self.i]
            return f" (reached {self.text[t.start:t.end]!r} first)"
        return " (the input ends first)"


def structure(text: str) -> tuple[list, list[Problem]]:
    """The structure items of ``text`` and the malformations found on the way."""
    toks = tokenize(text)
    s = _Structurer(toks, text)
    items = s.run()
    return items, s.problems


# --------------------------------------------------------------------------- expressions


class ParseError(Exception):
    """Raised inside the expression parser; caught and turned into a Missing node."""


def _is_tok(item, kind: str, val: str | None = None) -> bool:
    return isinstance(item, Tok) and item.kind == kind and (val is None or item.val == val)


def _span(item) -> tuple[int, int]:
    return (item.start, item.end)


def split_items(items: list, kind: str, val: str | None) -> list[list]:
    """Split a flat item list at tokens (kind, val) (rows at \\\\, cells at &)."""
    parts: list[list] = [[]]
    for it in items:
        if _is_tok(it, kind, val) if val is not None else _is_tok(it, kind):
            parts.append([])
        else:
            parts[-1].append(it)
    return parts


def is_row_break(it) -> bool:
    """\\\\ or \\cr."""
    return _is_tok(it, "macro", "\\") or _is_tok(it, "macro", "cr") or _is_tok(it, "macro", "newline")


def split_rows(items: list) -> list[list]:
    """Split at row breaks (\\\\)."""
    rows: list[list] = [[]]
    for it in items:
        if is_row_break(it):
            rows.append([])
        else:
            rows[-1].append(it)
    return rows


def items_span(items: list, default: tuple[int, int] = (0, 0)) -> tuple[int, int]:
    """The source span covered by a list of items."""
    spans = [_span(it) for it in items]
    if not spans:
        return default
    return (min(s for s, _ in spans), max(e for _, e in spans))


class ExprParser:
    """Recursive-descent parser for one math expression given as structure items."""

    def __init__(self, items: list, problems: list[Problem], text: str):
        items = [it for it in items if not self._skippable(it)]
        while items and (_is_spacing(items[0]) or _connective_at(items, 0)):
            items = items[2:] if _connective_at(items, 0) else items[1:]  # "&\quad a = …", "\text{and} b = …"
        while items and (_is_spacing(items[-1]) or _is_tok(items[-1], "char", ",") or _is_tok(items[-1], "char", ".")
                         or _is_tok(items[-1], "char", ";") or _is_tok(items[-1], "char", ":")
                         or _connective_at(items, len(items) - 2)):
            # "a = b, \;" or "a = b \quad\text{and}" at the end of a member: punctuation and words, not factors
            items = items[:-2] if _connective_at(items, len(items) - 2) else items[:-1]
        self.items = items
        self.i = 0
        self.problems = problems
        self.text = text

    @staticmethod
    def _skippable(it) -> bool:
        if isinstance(it, Tok):
            if it.kind == "macro" and it.val in SPACING and it.val not in ("quad", "qquad"):
                return True
            if it.kind == "special":
                return True
        return False

    # -- helpers
    def peek(self, k: int = 0):
        j = self.i + k
        return self.items[j] if j < len(self.items) else None

    def next(self):
        it = self.peek()
        self.i += 1
        return it

    def at_end(self) -> bool:
        return self.i >= len(self.items)

    def sub(self, items: list) -> ExprParser:
        return ExprParser(items, self.problems, self.text)

    def parse_all(self) -> Node:
        """The whole item list as one expression (leftovers are a problem)."""
        if not self.items:
            return Empty()
        node = self.expr()
        while not self.at_end():
            it = self.next()
            if isinstance(it, Tok) and it.kind == "macro" and it.val in ("quad", "qquad"):
                continue
            # leftover: juxtapose what follows (robustness)
            self.i -= 1
            try:
                right = self.expr()
            except ParseError:
                self.i += 1
                continue
            node = BinOp("mul", node, right, span=(node.span[0], right.span[1]))
        return node

    # -- grammar
    def expr(self) -> Node:
        left = self.term()
        while not self.at_end():
            it = self.peek()
            if _is_tok(it, "char", "+") or _is_tok(it, "char", "-"):
                self.next()
                if self.at_end():
                    self.problems.append(Problem(f"'{it.val}' with nothing after it", it.start, it.end))
                    return BinOp(it.val, left, Missing("nothing after " + it.val, span=_span(it)),
                                 span=(left.span[0], it.end))
                right = self.term()
                left = BinOp(it.val, left, right, span=(left.span[0], right.span[1]))
            else:
                break
        return left

    def term(self) -> Node:
        left = self.unary()
        while not self.at_end():
            it = self.peek()
            op = None
            if isinstance(it, Tok) and ((it.kind == "macro" and it.val in MULOPS) or _is_tok(it, "char", "*")):
                op = MULOPS[it.val]
                self.next()
                if self.at_end():
                    self.problems.append(Problem(f"'{self.text[it.start:it.end]}' with nothing after it",
                                                 it.start, it.end))
                    return BinOp(op, left, Missing("nothing after operator", span=_span(it)),
                                 span=(left.span[0], it.end))
                right = self.unary()
            elif _is_tok(it, "char", "/"):
                self.next()
                if self.at_end():
                    self.problems.append(Problem("'/' with nothing after it", it.start, it.end))
                    return BinOp("div", left, Missing("nothing after /", span=_span(it)),
                                 span=(left.span[0], it.end))
                right = self.unary()
                if isinstance(right, Sym) and right.name == "partial" and not self.at_end():
                    var = self.unary(allow_sign=False)
                    num = left.right if isinstance(left, BinOp) and isinstance(left.left, Sym) and \
                        left.left.name == "partial" else None
                    if num is not None:
                        left = Deriv(num, var, span=(left.span[0], var.span[1]))
                        continue
                    right = BinOp("mul", right, var, span=(right.span[0], var.span[1]))
                left = BinOp("div", left, right, span=(left.span[0], right.span[1]))
                continue
            elif self._starts_factor(it):
                right = self.unary(allow_sign=False)
                if isinstance(right, Transpose) and isinstance(right.x, Empty):
                    left = Transpose(left, span=(left.span[0], right.span[1]))
                    continue
                if isinstance(right, Empty):
                    continue
                op = "mul"
            else:
                break
            left = BinOp(op, left, right, span=(left.span[0], right.span[1]))
        return left

    def _starts_factor(self, it) -> bool:
        if it is None:
            return False
        if isinstance(it, (Group, Env, LeftRight)):
            return True
        if it.kind == "char":
            return it.val not in "+-=,;:<>|!/" and it.val not in (")", "]")
        if it.kind == "macro":
            return (it.val not in RELATIONS and it.val not in OTHER_RELATIONS and it.val not in MULOPS
                    and it.val not in ("quad", "qquad", "\\", "right") and it.val not in ("}",))
        return False

    def unary(self, allow_sign: bool = True) -> Node:
        it = self.peek()
        if allow_sign and (_is_tok(it, "char", "-") or _is_tok(it, "char", "+")):
            self.next()
            if self.at_end():
                self.problems.append(Problem(f"'{it.val}' with nothing after it", it.start, it.end))
                return Missing("sign without operand", span=_span(it))
            x = self.unary()
            if it.val == "+":
                return x
            return Neg(x, span=(it.start, x.span[1]))
        return self.postfix(self.primary())

    def postfix(self, node: Node, *, function_argument: bool = False) -> Node:
        """Sub/superscripts and primes after a node; a function name applies to what follows.

        On a function's argument (``function_argument=True``) only sub/superscripts are taken.
        """
        while not self.at_end():
            it = self.peek()
            if _is_tok(it, "char", "^") or _is_tok(it, "char", "_"):
                self.next()
                arg = self.next()
                if arg is None:
                    kind = "superscript" if it.val == "^" else "subscript"
                    self.problems.append(Problem(f"'{it.val}' without a {kind}", it.start, it.end))
                    return node
                node = self._superscript(node, arg) if it.val == "^" else self._subscript(node, arg)
            elif function_argument:
                break
            elif _is_tok(it, "char", "'") or _is_tok(it, "char", "''") or _is_tok(it, "macro", "prime"):
                self.next()
                n = 2 if it.val == "''" else 1
                if isinstance(node, Sym):
                    node = Sym(node.name, node.sub, node.layer, node.layer_style, node.transpose,
                               node.prime + n, node.font, node.sub_span, node.layer_span,
                               span=(node.span[0], it.end))
                else:
                    node = Transpose(node, span=(node.span[0], it.end))  # A' as transpose
            else:
                break
        if function_argument:
            return node
        if isinstance(node, Sym) and node.name in FUNCTIONS and node.name not in ("phi",):
            return self._apply(node)
        if isinstance(node, Pow) and isinstance(node.base, Sym) and node.base.name in FUNCTIONS and (
                self._next_is_paren()):  # \tanh^2(u) = (\tanh u)^2
            applied = self._apply(node.base)
            return Pow(applied, node.exp, span=(node.span[0], applied.span[1])) if isinstance(applied, Apply) \
                else node
        if isinstance(node, Sym) and node.name == "phi" and self._next_is_paren():
            return self._apply(node)
        return node

    def _next_is_paren(self) -> bool:
        it = self.peek()
        return _is_tok(it, "char", "(") or (isinstance(it, LeftRight) and it.open in "([")

    def _apply(self, fn: Sym) -> Node:
        name = FUNCTIONS[fn.name] + ("'" * fn.prime)
        it = self.peek()
        if it is None or not (self._starts_factor(it)):
            return fn  # the function by itself (e.g. in text)
        if fn.name in ("max", "min"):  # \max(0, z): elementwise, of exactly two arguments
            if not self._next_is_paren():
                return fn
            at = self.i
            arg = self.primary()
            if isinstance(arg, Matrix) and len(arg.rows) == 1 and len(arg.rows[0]) == 2:
                return Apply(name, arg, span=(fn.span[0], arg.span[1]))
            self.i = at  # \max_j(…) or one argument: left to be read as written
            return fn
        arg = self.primary()
        arg = self.postfix(arg, function_argument=True)
        return Apply(name, arg, span=(fn.span[0], arg.span[1]))

    # -- scripts
    def _script_items(self, arg) -> list:
        if isinstance(arg, Group):
            return [x for x in arg.items if not self._skippable(x)]
        return [arg]

    def _subscript(self, node: Node, arg) -> Node:
        items = self._script_items(arg)
        span = _span(arg)
        if isinstance(node, Sym) and not node.sub:
            idx = self._index_list(items, node.name)
            return Sym(node.name, idx, node.layer, node.layer_style, node.transpose, node.prime, node.font,
                       span, node.layer_span, span=(node.span[0], max(node.span[1], span[1])))
        if isinstance(node, Sym) and node.name == "sum":
            return node
        if isinstance(node, Paren) and node.delim in ("(", "[") and isinstance(node.x, Sym):
            return Index(node, self._index_list(items, ""), span=(node.span[0], span[1]))  # (W_2)_{jk}
        return node

    def _index_list(self, items: list, name: str) -> tuple[Node, ...]:
        parts = split_items(items, "char", ",")
        out: list[Node] = []
        if len(parts) > 1:
            for p in parts:
                if p:
                    out.append(self.sub(p).parse_all())
            return tuple(out)
        toks = items
        # plain run of letters/digits: each letter is an index; digits are split for 2-index symbols
        if all(isinstance(t, Tok) and t.kind == "char" and (t.val.isalnum()) for t in toks):
            if name in ("w", "W") or len(toks) > 1 and all(t.val.isalpha() for t in toks):
                for t in toks:
                    if t.val.isdigit():
                        out.append(Num(float(t.val), t.val, 0, span=_span(t)))
                    else:
                        out.append(Sym(t.val, span=_span(t)))
                return tuple(out)
            if all(t.val.isdigit() for t in toks):
                txt = "".join(t.val for t in toks)
                return (Num(float(txt), txt, 0, span=(toks[0].start, toks[-1].end)),)
            if len(toks) == 1:
                return (Sym(toks[0].val, span=_span(toks[0])),)
        node = self.sub(items).parse_all()
        return (node,)

    def _superscript(self, node: Node, arg) -> Node:
        items = self._script_items(arg)
        span = _span(arg)
        # transpose markers
        if self._is_transpose(items):
            if isinstance(node, Matrix) and node.env.startswith("row") and len(node.rows) == 1:
                cells = node.rows[0]  # (0.52, 0.82, 0.39)^T: a column vector, entry by entry
                return Matrix(tuple((c,) for c in cells), "col" + node.env[3:], tuple(c.span for c in cells),
                              span=(node.span[0], span[1]))
            return Transpose(node, span=(node.span[0], span[1]))
        if isinstance(node, Sym) and items and all(_is_tok(x, "macro", "prime") for x in items):  # σ^{\prime}
            return Sym(node.name, node.sub, node.layer, node.layer_style, node.transpose, node.prime + len(items),
                       node.font, node.sub_span, node.layer_span, span=(node.span[0], span[1]))
        if isinstance(node, Sym) and node.layer is None:
            sample = None
            if len(items) > 3 and _is_tok(items[0], "char", "[") and _is_tok(items[-1], "char", ")"):
                k = max(i for i, x in enumerate(items) if _is_tok(x, "char", "("))
                if k > 0 and _is_tok(items[k - 1], "char", "]"):  # a^{[2](i)}: layer 2, sample i
                    sample = self.sub(items[k + 1:-1]).parse_all()
                    items = items[:k]
            layer, style, trans, lspan = self._layer(items, node.name)
            if layer is not None:
                sub = node.sub + ((sample,) if sample is not None else ())
                return Sym(node.name, sub, layer, style, node.transpose or trans, node.prime, node.font,
                           node.sub_span, lspan, span=(node.span[0], span[1]))
        if isinstance(node, Sym) and node.name == "e" and not node.sub and not node.font:  # e_k^2 is no exponential
            ex = self.sub(items).parse_all()
            return Apply("exp", ex, span=(node.span[0], span[1]))
        ex = self.sub(items).parse_all()
        if isinstance(node, Sym) and node.layer is not None and isinstance(ex, Missing):
            return node
        return Pow(node, ex, span=(node.span[0], span[1]))

    @staticmethod
    def _is_transpose(items: list) -> bool:
        if len(items) == 1 and isinstance(items[0], Tok):
            t = items[0]
            return (t.kind == "char" and t.val == "T") or (t.kind == "macro" and t.val in ("top", "intercal",
                                                                                          "mathsf"))
        if len(items) == 2 and _is_tok(items[0], "macro", "mathsf") and isinstance(items[1], Group):
            return True
        return False

    def _layer(self, items: list, name: str = ""):
        """(layer expr, style, transpose?, span) when a superscript is a layer index.

        A digit run on a network letter (a^2, w^3) gets style "digit": a layer in a document that writes
        layers as bare superscripts (a^l, w^{l+1}), a power otherwise (the document decides, see
        :func:`oracles.audit.notation.read_notation`)."""
        if not items:
            return None, "", False, None
        first = items[0]
        trans = False
        body = items
        if len(body) >= 2 and _is_tok(body[-2], "char", "^") and self._is_transpose([body[-1]]):
            trans = True
            body = body[:-2]
        elif len(body) >= 2 and self._is_transpose([body[-1]]) and (
                _is_tok(body[-2], "char", ")") or _is_tok(body[-2], "char", "]") or isinstance(body[-2], LeftRight)):
            trans = True  # ^{(1)\top}, ^{(1)T}: layer and transpose in one superscript
            body = body[:-1]
        if isinstance(first, LeftRight) and first.open in "([" and len(body) == 1:
            inner = first.items
            style = "paren" if first.open == "(" else "bracket"
        elif (_is_tok(first, "char", "(") and _is_tok(body[-1], "char", ")")) or (
                _is_tok(first, "char", "[") and _is_tok(body[-1], "char", "]")):
            inner = body[1:-1]
            style = "paren" if first.val == "(" else "bracket"
        else:
            # bare layer: l, L, l-1, l+1, or a digit run on a letter-only script
            if all(isinstance(t, Tok) and (t.kind == "char" and (t.val.isalnum() or t.val in "+-")
                                           or (t.kind == "macro" and t.val == "ell")) for t in body) \
                    and any(t.val in ("l", "L", "ell") for t in body):
                node = self.sub(body).parse_all()
                return node, "bare", trans, items_span(body)
            if name in DIGIT_LAYER_LETTERS and body and all(_is_tok(t, "char") and t.val.isdigit() for t in body):
                node = self.sub(body).parse_all()
                return node, "digit", trans, items_span(body)
            return None, "", False, None
        if not inner:
            return None, "", False, None
        node = self.sub(inner).parse_all()
        return node, style, trans, items_span(inner)

    # -- primaries
    def primary(self) -> Node:
        it = self.next()
        if it is None:
            raise ParseError("unexpected end")
        if isinstance(it, Group):
            inner = [x for x in it.items if not self._skippable(x)]
            if not inner:
                return Empty(span=_span(it))
            rows = split_rows(inner)
            if len([r for r in rows if r]) > 1:
                return self._matrix_from_rows(rows, "group", _span(it))
            node = self.sub(inner).parse_all()
            return Paren(node, "{}", span=_span(it))
        if isinstance(it, Env):
            return self._env(it)
        if isinstance(it, LeftRight):
            return self._leftright(it)
        t: Tok = it
        if t.kind == "char":
            if t.val == "1" and (self.at_end() or not _is_tok(self.peek(), "char", ".")):
                indicator = self._indicator(t.start)  # 1[z > 0]
                if indicator is not None:
                    return indicator
            if t.val.isdigit() or t.val == ".":
                return self._number(t)
            if t.val == "(" or t.val == "[":
                return self._bracket(t)
            if t.val.isalpha():
                return Sym(t.val, span=_span(t))
            if t.val in ")]":
                self.problems.append(Problem(f"'{t.val}' without a matching opening bracket", t.start, t.end))
                return Empty(span=_span(t))
            if t.val == "|":
                return Empty(span=_span(t))
            return Empty(span=_span(t))
        if t.kind == "macro" and t.val in NORM_OPEN:
            return self._norm(t)
        if t.kind == "macro":
            if _is_spacing(t):
                return Empty(span=_span(t))
            return self._macro(t)
        if t.kind == "amp":
            return Empty(span=_span(t))
        return Empty(span=_span(t))

    def _number(self, t: Tok) -> Node:
        txt = t.val
        start, end = t.start, t.end
        while not self.at_end():
            n = self.peek()
            if isinstance(n, Tok) and n.kind == "char" and (n.val.isdigit() or n.val == ".") and not n.space_before:
                if n.val == "." and "." in txt:
                    break
                txt += n.val
                end = n.end
                self.next()
            else:
                break
        try:
            value = float(txt)
        except ValueError:
            return Missing(f"bad number {txt!r}", span=(start, end))
        decimals = len(txt.split(".")[1]) if "." in txt else 0
        return Num(value, txt, decimals, span=(start, end))

    def _bracket(self, t: Tok) -> Node:
        close = ")" if t.val == "(" else "]"
        depth = 0
        j = self.i
        while j < len(self.items):
            x = self.items[j]
            if _is_tok(x, "char", t.val):
                depth += 1
            elif _is_tok(x, "char", close):
                if depth == 0:
                    break
                depth -= 1
            j += 1
        inner = self.items[self.i:j]
        if j >= len(self.items):
            self.problems.append(Problem(f"'{t.val}' without a matching '{close}'", t.start, t.end,
                                         (items_span(self.items, (t.end, t.end))[1],) * 2 + (close,)))
            self.i = j
            end = items_span(inner, (t.start, t.end))[1]
        else:
            end = self.items[j].end
            self.i = j + 1
        span = (t.start, end)
        return self._delimited(inner, t.val, span)

    def _delimited(self, inner: list, delim: str, span) -> Node:
        inner = [x for x in inner if not self._skippable(x)]
        rows = split_rows(inner)
        if len([r for r in rows if r]) > 1:
            return self._matrix_from_rows(rows, "left" + delim, span)
        # row vector [a \quad b \quad c], or a tuple (a, b, c) (written (a, b, c)^\top for a column)
        cells = [c for c in _split_quads(inner)]
        if len(cells) == 1 and delim in ("(", "[") and sum(1 for x in inner if _is_tok(x, "char", ",")) >= 1:
            parts = split_items(inner, "char", ",")
            if all(parts):
                cells = parts
        if len(cells) > 1:
            row = tuple(self.sub(c).parse_all() for c in cells)
            return Matrix((row,), "row" + delim, (span,), span=span)
        if not inner:
            return Empty(span=span)
        node = self.sub(inner).parse_all()
        if isinstance(node, Matrix) or delim == "{":
            return Paren(node, delim, span=span)
        return Paren(node, delim, span=span)

    def _indicator(self, start: int) -> Node | None:
        """An indicator's bracketed condition after \\mathbb{1}, \\mathbf{1}, \\mathbb{I} or 1: ``[a > b]``,
        ``(a \\geq b)``, ``\\left[…\\right]``, read as relu'(a − b), which is 1 where a > b and 0 elsewhere
        (≥ and > differ only where a = b). None, consuming nothing, when no bracketed comparison follows."""
        it = None if self.at_end() else self.peek()
        if isinstance(it, LeftRight) and it.open in "([" and it.close in ")]":
            inner, end, after = it.items, it.end, self.i + 1
        elif _is_tok(it, "char", "[") or _is_tok(it, "char", "("):
            close = "]" if it.val == "[" else ")"
            j = self.i + 1
            while j < len(self.items) and not _is_tok(self.items[j], "char", close):
                j += 1
            if j >= len(self.items):
                return None
            inner, end, after = self.items[self.i + 1:j], self.items[j].end, j + 1
        else:
            return None
        inner = [x for x in inner if not self._skippable(x)]
        at = [k for k, x in enumerate(inner) if _comparison(x) is not None]
        if len(at) != 1 or at[0] in (0, len(inner) - 1):
            return None
        k = at[0]
        left, right = self.sub(inner[:k]).parse_all(), self.sub(inner[k + 1:]).parse_all()
        self.i = after
        if _comparison(inner[k]) == "<":
            left, right = right, left
        diff = BinOp("-", left, right, span=(min(left.span[0], right.span[0]), max(left.span[1], right.span[1])))
        return Apply("relu'", diff, span=(start, end))

    def _leftright(self, lr: LeftRight) -> Node:
        span = (lr.start, lr.end)
        if lr.open == "‖":
            inner = [x for x in lr.items if not self._skippable(x)]
            return Norm(self.sub(inner).parse_all() if inner else Missing("an empty norm", span=span), span=span)
        return self._delimited(lr.items, lr.open, span)

    def _norm(self, t: Tok) -> Node:
        """\\| v \\|, \\lVert v \\rVert, \\Vert v \\Vert: the Euclidean norm of v."""
        j = self.i
        while j < len(self.items) and not (isinstance(self.items[j], Tok) and self.items[j].kind == "macro"
                                           and self.items[j].val in NORM_CLOSE):
            j += 1
        inner = self.items[self.i:j]
        if j >= len(self.items) or not inner:
            self.problems.append(Problem(f"'{self.text[t.start:t.end]}' without a matching closing bar",
                                         t.start, t.end))
            self.i = j
            return Missing("an unclosed norm", span=_span(t))
        self.i = j + 1
        return Norm(self.sub(inner).parse_all(), span=(t.start, self.items[j].end))

    def _env(self, env: Env) -> Node:
        span = (env.start, env.end)
        if env.name not in MATRIX_ENVS:
            node = self.sub(env.items).parse_all()
            return Paren(node, env.name, span=span)
        rows = split_rows(env.items)
        return self._matrix_from_rows(rows, env.name, span)

    def _matrix_from_rows(self, rows: list[list], envname: str, span) -> Node:
        while rows and not [x for x in rows[-1] if not self._skippable(x)]:
            rows = rows[:-1]
        out_rows = []
        row_spans = []
        for r in rows:
            cells = split_items(r, "amp", None)
            if envname in ("cases", "dcases"):
                cells = cells[:1]
            if envname in ("aligned", "split", "gathered", "align", "align*", "alignedat") or envname.startswith(
                    "left") or envname == "group":
                cells = [[x for c in cells for x in c]]
            parsed = []
            for c in cells:
                c = [x for x in c if not self._skippable(x)]
                parsed.append(self.sub(c).parse_all() if c else Empty(span=items_span(r, span)))
            out_rows.append(tuple(parsed))
            row_spans.append(items_span(r, span))
        return Matrix(tuple(out_rows), envname, tuple(row_spans), span=span)

    def _macro(self, t: Tok) -> Node:
        name = t.val
        if name in FRAC_MACROS:
            return self._frac(t)
        if name in ("sum", "prod"):
            return self._sum(t)
        if name in FONTS:
            arg = self.next()
            if arg is None:
                self.problems.append(Problem(f"\\{name} without an argument", t.start, t.end))
                return Missing(f"\\{name} without argument", span=_span(t))
            inner = self._script_items(arg)
            if name in ("text", "textbf", "textrm", "operatorname", "mathrm") and all(
                    isinstance(x, Tok) and x.kind == "char" for x in inner):
                word = "".join(x.val for x in inner).strip()
                key = f"{name}{{{word}}}"
                if key in FUNCTIONS or f"text{{{word}}}" in FUNCTIONS:
                    return Sym(f"text{{{word}}}", span=(t.start, _span(arg)[1]))
                if len(word) == 1:
                    return Sym(word, font=name, span=(t.start, _span(arg)[1]))
                return Sym(word, font="text", span=(t.start, _span(arg)[1]))
            if name in ("mathbf", "boldsymbol", "bm", "mathbb") and len(inner) == 1 and (
                    _is_tok(inner[0], "char", "1") or _is_tok(inner[0], "char", "I")):
                indicator = self._indicator(t.start)
                if indicator is not None:
                    return indicator
            if name in ("mathbf", "boldsymbol", "bm", "mathbb") and len(inner) == 1 and _is_tok(inner[0], "char", "1"):
                return Sym("ones", font=name, span=(t.start, _span(arg)[1]))  # \mathbf{1}: a vector of ones
            node = self.sub(inner).parse_all() if inner else Empty()
            if isinstance(node, Paren):
                node = node.x
            if isinstance(node, Sym):
                return Sym(node.name, node.sub, node.layer, node.layer_style, node.transpose, node.prime,
                           name, node.sub_span, node.layer_span, span=(t.start, _span(arg)[1]))
            return node
        if name == "ell":
            return Sym("l", span=_span(t))  # ℓ: the layer letter l
        if name in GREEK:
            return Sym(name, span=_span(t))
        if name in ("partial", "nabla", "infty"):
            return Sym(name, span=_span(t))
        if name in FUNCTIONS:
            return Sym(name, span=_span(t))
        if name in ("left", "right"):
            return Empty(span=_span(t))
        if name in ("{", "}", "lbrace", "rbrace"):
            return Empty(span=_span(t))
        return Sym("\\" + name, span=_span(t))

    def _arg(self, t: Tok, what: str):
        it = self.next()
        if it is None or (isinstance(it, Tok) and it.kind in ("amp",)) or is_row_break(it):
            if it is not None:
                self.i -= 1
            self.problems.append(Problem(f"\\{t.val} is missing its {what} argument", t.start, t.end))
            return None
        return it

    def _argnode(self, it) -> Node:
        if isinstance(it, Group):
            inner = [x for x in it.items if not self._skippable(x)]
            if not inner:
                return Empty(span=_span(it))
            return self.sub(inner).parse_all()
        if isinstance(it, Tok) and it.kind == "char" and it.val.isdigit():
            return Num(float(it.val), it.val, 0, span=_span(it))
        return self.sub([it]).parse_all()

    def _frac(self, t: Tok) -> Node:
        a = self._arg(t, "numerator")
        if a is None:
            return Missing("\\frac without arguments", span=_span(t))
        b = self._arg(t, "denominator")
        if b is None:
            return Missing("\\frac without a denominator", span=(t.start, _span(a)[1]))
        span = (t.start, _span(b)[1])
        num_items = self._script_items(a)
        den_items = self._script_items(b)
        # partial derivatives
        if den_items and (_is_tok(den_items[0], "macro", "partial") or (
                _is_tok(den_items[0], "char", "d") and len(den_items) > 1 and num_items and (
                _is_tok(num_items[0], "char", "d")))):
            var = self.sub(den_items[1:]).parse_all()
            if isinstance(var, Paren):
                var = var.x
            rest = num_items[1:]
            if rest and isinstance(rest[0], Tok) and rest[0].kind == "char" and rest[0].val == "^":
                rest = rest[2:]  # higher order: not supported, keep the function
            if not rest:
                return Deriv(None, var, span=span)
            num = self.sub(rest).parse_all()
            if isinstance(num, Paren):
                num = num.x
            return Deriv(num, var, span=span)
        num = self._argnode(a)
        den = self._argnode(b)
        return Frac(num, den, span=span)

    def _sum(self, t: Tok) -> Node:
        var, lo, hi = "", None, None
        lo_span = hi_span = _span(t)
        lo_given = None
        for _ in range(2):
            it = self.peek()
            if _is_tok(it, "char", "_"):
                self.next()
                a = self.next()
                if a is None:
                    break
                items = self._script_items(a)
                lo_span = _span(a)
                parts = split_items(items, "char", "=")
                if len(parts) == 2 and parts[0]:
                    var = "".join(x.val for x in parts[0] if isinstance(x, Tok))
                    lo = lo_given = self.sub(parts[1]).parse_all()
                elif items:
                    var = "".join(x.val for x in items if isinstance(x, Tok) and x.kind == "char")
            elif _is_tok(it, "char", "^"):
                self.next()
                a = self.next()
                if a is None:
                    break
                hi = self.sub(self._script_items(a)).parse_all()
                hi_span = _span(a)
        if self.at_end():
            self.problems.append(Problem("\\sum without a body", t.start, t.end))
            return Missing("sum without body", span=_span(t))
        body = self.term()
        lo = lo if lo is not None else Num(1.0, "1", 0, span=lo_span)
        if hi is None and lo_given is None and var:
            hi = IndexRange(var, span=hi_span)  # \sum_k: over the range of k where the body uses it
        hi = hi if hi is not None else Missing("sum without upper limit", span=hi_span)
        return Sum(var, lo, hi, body, span=(t.start, body.span[1]))


DIGIT_LAYER_LETTERS = {"a", "z", "w", "b", "delta", "A", "Z", "W"}
NORM_OPEN = {"|", "Vert", "lVert"}
NORM_CLOSE = {"|", "Vert", "rVert"}


CONNECTIVES = {"and", "or", "where", "with", "for", "so", "then", "hence", "thus", "since", "if", "while", "i.e.",
               "e.g.", "i.e.,", "giving", "gives", "yields", "we get", "we have", "and so", "so that", "that is"}
TEXT_MACROS = {"text", "textrm", "textit", "mbox", "mathrm", "textnormal"}


def _connective_at(items: list, k: int) -> bool:
    """\\text{and} (or, where, so that, …) at items[k]: prose between equations, not a symbol."""
    if k < 0 or k + 1 >= len(items) or not _is_tok(items[k], "macro") or items[k].val not in TEXT_MACROS:
        return False
    arg = items[k + 1]
    if not isinstance(arg, Group) or not all(_is_tok(x, "char") for x in arg.items):
        return False
    word = " ".join("".join(x.space_before + x.val for x in arg.items).split()).lower()
    return word in CONNECTIVES


def _is_spacing(it) -> bool:
    return isinstance(it, Tok) and ((it.kind == "macro" and it.val in SPACING) or it.kind == "special")


def _split_quads(items: list) -> list[list]:
    parts: list[list] = [[]]
    found = False
    for it in items:
        if _is_tok(it, "macro", "quad") or _is_tok(it, "macro", "qquad"):
            found = True
            parts.append([])
        else:
            parts[-1].append(it)
    if not found:
        return [items]
    return [p for p in parts if p]


def _comparison(it) -> str | None:
    """'>' for >, \\geq, \\ge, \\gt; '<' for <, \\leq, \\le, \\lt; else None."""
    if isinstance(it, Tok) and (it.kind == "char" or it.kind == "macro"):
        if it.val in (">", "geq", "ge", "gt", "geqslant") and (it.kind == "macro") == (it.val != ">"):
            return ">"
        if it.val in ("<", "leq", "le", "lt", "leqslant") and (it.kind == "macro") == (it.val != "<"):
            return "<"
    return None


def relation_of(it) -> str | None:
    """'=' or '≈' when the item is a relation symbol, 'other' for ≠/≤/→…, else None."""
    if _is_tok(it, "char", "="):
        return "="
    if isinstance(it, Tok) and it.kind == "macro":
        if it.val in RELATIONS:
            return RELATIONS[it.val]
        if it.val in OTHER_RELATIONS:
            return "other"
    if _is_tok(it, "char", "<") or _is_tok(it, "char", ">"):
        return "other"
    return None


def parse_expr(items: list, problems: list[Problem], text: str) -> Node:
    """Parse one member of an equation; never raises."""
    try:
        return ExprParser(items, problems, text).parse_all()
    except (ParseError, RecursionError, IndexError) as exc:
        span = items_span(items)
        problems.append(Problem(f"could not read the expression: {exc}", span[0], span[1]))
        return Missing(str(exc), span=span)
