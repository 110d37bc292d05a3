"""Split a Markdown document into its math blocks, each with its file offset and line numbers."""

from __future__ import annotations

import bisect
from dataclasses import dataclass


@dataclass(frozen=True)
class MathBlock:
    """The LaTeX between ``$$ … $$`` (or ``$ … $``, ``\\[ … \\]``) and where it sits in the file."""

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


def split_markdown(text: str, name: str = "<text>") -> Document:
    """Find every math block of a Markdown text; fenced code blocks are skipped."""
    blocks: list[MathBlock] = []
    prose: list[tuple[int, str]] = []
    unclosed: list[tuple[int, str]] = []
    i = 0
    n = len(text)
    section = ""
    line_start = 0
    in_fence = False
    buf_start = 0

    def line_no(off: int) -> int:
        return text.count("\n", 0, off) + 1

    while i < n:
        if text.startswith("```", i) and (i == 0 or text[i - 1] == "\n"):
            in_fence = not in_fence
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if in_fence:
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] == "$":
            i += 2
            continue
        opener = None
        if text.startswith("$$", i):
            opener, closer, display = "$$", "$$", True
        elif text.startswith("\\[", i):
            opener, closer, display = "\\[", "\\]", True
        elif ch == "$":
            opener, closer, display = "$", "$", False
        if opener is None:
            if ch == "\n":
                seg = text[line_start:i]
                if seg.strip():
                    prose.append((line_no(line_start), seg))
                    section = _section_of(seg, section)
                line_start = i + 1
            i += 1
            continue
        # flush prose before the math on this line
        seg = text[line_start:i]
        if seg.strip():
            prose.append((line_no(line_start), seg))
            section = _section_of(seg, section)
        start = i + len(opener)
        j = _find_closer(text, start, closer, display)
        if j < 0:
            unclosed.append((line_no(i), opener))
            end = n if display else (text.find("\n", start) if text.find("\n", start) >= 0 else n)
            blocks.append(MathBlock(text[start:end], start, line_no(start), display, section, closed=False))
            i = end
            line_start = i
            continue
        blocks.append(MathBlock(text[start:j], start, line_no(start), display, section))
        i = j + len(closer)
        line_start = i
        buf_start = i
    seg = text[line_start:]
    if seg.strip() and not in_fence:
        prose.append((line_no(line_start), seg))
    _ = buf_start
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
        if display and closer == "$$" and text.startswith("$$", start) and j == start:
            return j
        return j
