"""The README's table for students quotes manualbp's code: every quoted line must be in the code it names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEADER = "| derivation | manualbp/network.py |"


def _table_rows() -> list[tuple[str, str]]:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index(HEADER) + 2  # past the header and the | --- | line
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows.append((cells[0], " | ".join(cells[1:])))
    return rows


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text)


ROWS = _table_rows()


def test_the_table_covers_every_equation_of_the_backward_pass():
    equations = [eq for eq, _ in ROWS]
    for tag in ("z^(L+1)", "a^(L+1)", "δ^(N)", "∂C/∂b^(L)", "∂C/∂W^(L)", "δ^(L)"):
        assert any(eq.startswith(tag) for eq in equations), f"the README's table lost the row of {tag}"


@pytest.mark.parametrize(("equation", "cell"), ROWS, ids=[eq for eq, _ in ROWS])
def test_every_quoted_line_is_in_the_code(equation: str, cell: str):
    spans = re.findall(r"`([^`]+)`", cell)
    assert spans, f"row {equation!r} quotes no code"
    named = [s for s in spans if s.startswith("manualbp/") and s.endswith(".py")]
    source = (ROOT / (named[0] if named else "manualbp/network.py")).read_text(encoding="utf-8")
    for span in spans:
        if span in named:
            continue
        assert _normalise(span) in _normalise(source), (
            f"README row {equation!r} quotes `{span}`, which is not in {named[0] if named else 'manualbp/network.py'}")
