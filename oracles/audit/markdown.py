"""Split a Markdown document into its math blocks, each with its file offset and line numbers.

Math is ``$$ … $$``, ``\\[ … \\]``, ``$ … $``, ``\\( … \\)`` and the LaTeX display environments
(``equation``, ``align``, ``gather``, ``multline``, … and their starred forms) written in the prose.
Code is never math: markdown-it-py tells fenced and indented code blocks and inline code spans from
prose, and their text is left out, as are HTML comments and the '>' marks of block quotes.  ``\\tag``,
``\\label``, ``\\nonumber`` and ``\\notag`` are blanked (same length, so every offset still points into the
file) since they say nothing about the maths.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache

# display environments that may stand on their own in Markdown (MathJax, KaTeX, pandoc all accept them)
DISPLAY_ENVS = ("equation", "align", "gather", "multline", "flalign", "alignat", "eqnarray", "displaymath")
ONE_EQUATION_ENVS = ("multline",)  # its \\ breaks one long equation, it does not separate equations
_ENV_RE = re.compile(r"\\begin\{(" + "|".join(DISPLAY_ENVS) + r")(\*?)\}")
_ANNOTATION_RE = re.compile(r"\\(?:tag\*?|label)\s*\{[^{}]*\}|\\(?:nonumber|notag)(?![A-Za-z])")


@dataclass(frozen=True)
class MathBlock:
    """The LaTeX between ``$$ … $$`` (or ``$ … $``, ``\\[ … \\]``, an environment) and where it sits."""

    text: str
    offset: int  # file offset of text[0]
    line: int  # 1-based line of text[0]
    display: bool
    section: str  # the last heading (or all-caps line) before the block
    closed: bool = True  # False when the closing delimiter is missing


@dataclass
class Document:
    """A Markdown document: its text, its math blocks and its prose lines."""

    name: str
    text: str
    blocks: list[MathBlock]
    prose: list[tuple[int, str]]  # (line, text) of non-math lines
    unclosed: list[tuple[int, str]]  # (line, delimiter) of math opened and never closed

    def __post_init__(self) -> None:
        self._starts = [0]
        for i, ch in enumerate(self.text):
            if ch == "\n":
                self._starts.append(i + 1)

    def line_of(self, offset: int) -> int:
        """The 1-based line of a file offset."""
        return bisect.bisect_right(self._starts, offset)

    def block_line(self, block: MathBlock, pos: int) -> int:
        """The file line of position ``pos`` inside ``block.text``."""
        return self.line_of(block.offset + max(0, min(pos, len(block.text))))


def _section_of(line: str, current: str) -> str:
    s = line.strip()
    if s.startswith("#"):
        return s.lstrip("#").strip()
    letters = [c for c in s if c.isalpha()]
    if letters and len(letters) >= 4 and all(c.isupper() for c in letters) and len(s) < 80:
        return s
    return current


@lru_cache(maxsize=1)
def _parser():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


_QUOTE_MARKS = re.compile(r"[ \t]{0,3}(?:>[ \t]?)+")


def hidden_spans(text: str) -> list[tuple[int, int]]:
    """File offset ranges that are not the document's prose or math: fenced and indented code blocks (whole
    lines), inline code spans, HTML comments standing as blocks, and the '>' marks of block quotes (so that
    a display quoted over several lines reads as one)."""
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def line_off(k: int) -> int:
        return starts[k] if k < len(starts) else len(text)

    out: list[tuple[int, int]] = []
    for tok in _parser().parse(text):
        if tok.map is None:
            continue
        lo, hi = line_off(tok.map[0]), line_off(tok.map[1])
        if tok.type in ("fence", "code_block"):
            out.append((lo, hi))
        elif tok.type == "html_block" and tok.content.lstrip().startswith("<!--"):
            out.append((lo, hi))
        elif tok.type == "blockquote_open":
            for k in range(tok.map[0], tok.map[1]):
                m = _QUOTE_MARKS.match(text, line_off(k), line_off(k + 1))
                if m and m.end() > m.start():
                    out.append((m.start(), m.end()))
        elif tok.type == "inline" and any(c.type == "code_inline" for c in tok.children or ()):
            out += _inline_code(text, lo, hi)
    return out


def _backtick_run(text: str, i: int, hi: int) -> int:
    """The end of the run of backticks that starts at text[i]."""
    while i < hi and text[i] == "`":
        i += 1
    return i


def _inline_code(text: str, lo: int, hi: int) -> list[tuple[int, int]]:
    """Backtick code spans in text[lo:hi] (CommonMark: a run of n backticks up to the next run of exactly n)."""
    out = []
    i = lo
    while i < hi:
        if text[i] == "\\":
            i += 2
            continue
        if text[i] != "`":
            i += 1
            continue
        j = _backtick_run(text, i, hi)
        k, close = j, None
        while k < hi and close is None:
            if text[k] != "`":
                k += 1
                continue
            m = _backtick_run(text, k, hi)
            if m - k == j - i:
                close = m
            k = m
        if close is None:
            i = j  # a run with no partner is literal backticks
        else:
            out.append((i, close))
            i = close
    return out


def table_rows(text: str) -> list[tuple[int, int]]:
    """File offset ranges of the body rows of Markdown tables."""
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    out = []
    in_body = False
    for tok in _parser().parse(text):
        if tok.type in ("tbody_open", "tbody_close"):
            in_body = tok.type == "tbody_open"
        elif in_body and tok.type == "tr_open" and tok.map is not None:
            lo = starts[tok.map[0]] if tok.map[0] < len(starts) else len(text)
            hi = starts[tok.map[1]] if tok.map[1] < len(starts) else len(text)
            out.append((lo, hi))
    return out


def _row_statements(src: str, rows: list[tuple[int, int]]) -> dict[int, tuple[int, int, int, int]]:
    """Table rows that state a value, '| $quantity$ | $value$ |': the '$' offsets of both cells, by the first.

    A row qualifies when it holds exactly two inline-math cells and the second states numbers only.
    """
    out = {}
    for lo, hi in rows:
        spans = []
        k = lo
        while k < hi:
            j = src.find("$", k, hi)
            if j < 0:
                break
            if src.startswith("$$", j) or (j > 0 and src[j - 1] == "\\"):
                spans = []
                break
            e = _find_closer(src, j + 1, "$", False)
            if e < 0 or e >= hi:
                break
            spans.append((j, e))
            k = e + 1
        if len(spans) == 2 and "|" in src[spans[0][1]:spans[1][0]] and _only_numbers(src[spans[1][0] + 1:spans[1][1]]):
            out[spans[0][0]] = (*spans[0], *spans[1])
    return out


_ENV_NAME = re.compile(r"\\(?:begin|end)\s*\{[^{}]*\}")
_MACRO = re.compile(r"\\[A-Za-z]+")


def _only_numbers(latex: str) -> bool:
    """True when the LaTeX states numbers only (digits, signs, matrices, \\top): a value, not a formula, so
    '| $x^2$ | $2x$ |' in a table of derivatives is not read as x² = 2x."""
    bare = _MACRO.sub("", _ENV_NAME.sub("", latex))
    return any(c.isdigit() for c in bare) and not any(c.isalpha() for c in bare)


def _joined(src: str, a_close: int, b_open: int) -> str:
    """The text between two cells' math as ' = ' (the first '|' becomes '=', the rest spaces): same length."""
    mid = [" "] * (b_open + 1 - a_close)
    mid[src.index("|", a_close, b_open) - a_close] = "="
    return "".join(mid)


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with every character of the spans (but newlines) replaced by a space."""
    chars = list(text)
    for s, e in spans:
        for k in range(s, min(e, len(chars))):
            if chars[k] != "\n":
                chars[k] = " "
    return "".join(chars)


def _blank(match: re.Match) -> str:
    return " " * len(match.group(0))


def clean_math(text: str, env: str | None = None) -> str:
    """Math text with \\tag/\\label/\\nonumber blanked (and, in multline, the line breaks): same length."""
    text = _ANNOTATION_RE.sub(_blank, text)
    if env in ONE_EQUATION_ENVS:
        text = text.replace("\\\\", "  ")
    return text


def split_markdown(text: str, name: str = "<text>") -> Document:
    """Find every math block of a Markdown text; code blocks and code spans are skipped."""
    blocks: list[MathBlock] = []
    prose: list[tuple[int, str]] = []
    unclosed: list[tuple[int, str]] = []
    src = _mask(text, hidden_spans(text))  # what is read; blocks keep the same offsets into ``text``
    statements = _row_statements(src, table_rows(src))
    n = len(src)
    section = ""
    line_start = 0
    i = 0

    def line_no(off: int) -> int:
        return text.count("\n", 0, off) + 1

    def flush(upto: int) -> None:
        nonlocal section
        seg = src[line_start:upto]
        if seg.strip():
            prose.append((line_no(line_start), seg))
            section = _section_of(seg, section)

    while i < n:
        ch = src[i]
        if ch == "\\" and i + 1 < n and src[i + 1] in "$\\":
            i += 2
            continue
        opener = None
        env = None
        if i in statements:  # '| $a^{(1)}$ | $0.52$ |' reads as a^{(1)} = 0.52
            flush(i)
            a_open, a_close, b_open, b_close = statements[i]
            body = src[a_open + 1:a_close] + _joined(src, a_close, b_open) + src[b_open + 1:b_close]
            blocks.append(MathBlock(clean_math(body), a_open + 1, line_no(a_open), False, section))
            i = line_start = b_close + 1
            continue
        if src.startswith("$$", i):
            opener, closer, display = "$$", "$$", True
        elif src.startswith("\\[", i):
            opener, closer, display = "\\[", "\\]", True
        elif src.startswith("\\(", i):
            opener, closer, display = "\\(", "\\)", False
        elif src.startswith("\\begin{", i):
            m = _ENV_RE.match(src, i)
            if m:
                env = m.group(1) + m.group(2)
                opener, closer, display = m.group(0), f"\\end{{{env}}}", True
        elif ch == "$":
            opener, closer, display = "$", "$", False
        if opener is None:
            if ch == "\n":
                flush(i)
                line_start = i + 1
            i += 1
            continue
        flush(i)
        start = i + len(opener)
        j = _find_closer(src, start, closer, display)
        if j < 0:
            unclosed.append((line_no(i), opener))
            end = n if display else (src.find("\n", start) if src.find("\n", start) >= 0 else n)
            blocks.append(MathBlock(clean_math(src[start:end], env), start, line_no(start), display, section,
                                    closed=False))
            i = end
            line_start = i
            continue
        blocks.append(MathBlock(clean_math(src[start:j], env), start, line_no(start), display, section))
        i = j + len(closer)
        line_start = i
    flush(n)
    return Document(name, text, blocks, prose, unclosed)


def _find_closer(text: str, start: int, closer: str, display: bool) -> int:
    j = start
    while True:
        j = text.find(closer, j)
        if j < 0:
            return -1
        if j > 0 and text[j - 1] == "\\" and closer.startswith("$"):
            j += 1
            continue
        if not display and "\n\n" in text[start:j]:
            return -1
        return j
