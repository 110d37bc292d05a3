"""Reading Markdown: LaTeX display environments are math like $$…$$; code (fenced, indented, inline) is not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oracles.audit import audit_text
from oracles.audit.markdown import split_markdown

DERIV = Path(__file__).resolve().parents[1] / "examples" / "derivations"
DOCS = ["correct-sigmoid-232.md", "planted-sigmoid-232.md", "planted-bce-423.md", "planted-tanh-ng-231.md"]
ENVS = ["equation", "equation*", "align", "align*", "gather", "gather*"]
ANNOTATIONS = ["\\tag{{{k}}}", "\\label{{eq:{k}}}", "\\nonumber", "\\tag*{{(BP{k})}}", "\\notag", ""]


def as_environments(text: str) -> str:
    """Every one-line $$…$$ display rewritten as a LaTeX environment on the same line (lines unchanged)."""
    count = iter(range(10_000))

    def env(m: re.Match) -> str:
        k = next(count)
        name, note = ENVS[k % len(ENVS)], ANNOTATIONS[k % len(ANNOTATIONS)].format(k=k)
        return f"\\begin{{{name}}} {m.group(1)} {note}\\end{{{name}}}"

    return re.sub(r"\$\$(.+?)\$\$", env, text)


def _seen(report) -> list[tuple[int, str, str | None]]:
    return sorted((f.where.line, f.kind, f.fix) for f in report.findings)


@pytest.mark.parametrize("name", DOCS)
def test_environments_read_like_double_dollars(name):
    """Fails before: environments outside $$ were prose, so none of their equations was read."""
    text = (DERIV / name).read_text()
    converted = as_environments(text)
    assert converted.count("\\begin{") > text.count("\\begin{") + 10
    before, after = audit_text(text, name), audit_text(converted, name)
    assert _seen(after) == _seen(before)
    assert after.sections["audit"]["coverage"]["evaluated"] == before.sections["audit"]["coverage"]["evaluated"]


def test_code_is_not_audited():
    """Fails before: the indented code block's $$…$$ was checked (and a wrong number reported in it)."""
    text = (DERIV / "correct-sigmoid-232.md").read_text()
    code = ("\n\nA code sample:\n\n```python\n# $$\\delta^{(3)} = 12345$$\nx = 1\n```\n\n"
            "Indented code:\n\n    $$C = 12345$$\n    \\begin{equation} z^{(2)} = 7 \\end{equation}\n\n"
            "Inline code: `$a^{(2)} = 99$` and ``$$C = 3$$`` in a sentence.\n")
    before, after = audit_text(text, "plain"), audit_text(text + code, "with code")
    assert _seen(after) == _seen(before) == []
    assert after.sections["audit"]["coverage"] == before.sections["audit"]["coverage"]


def test_math_around_code_still_read():
    text = "Intro $a = 1$ and `code $x$` then $b = 2$.\n\n```\n$$c = 3$$\n```\n\n    $$d = 4$$\n\n$$e = 5$$\n"
    blocks = [b.text.strip() for b in split_markdown(text).blocks]
    assert blocks == ["a = 1", "b = 2", "e = 5"]


def test_multline_is_one_equation_and_annotations_are_blanked():
    text = ("\\begin{multline} z^{(2)} = W^{(1)} a^{(1)} \\\\ + b^{(1)} \\label{eq:z} \\end{multline}\n"
            "\\begin{align}\nC &= 1 \\tag{A} \\\\\nD &= 2 \\nonumber\n\\end{align}\n")
    doc = split_markdown(text)
    assert [b.line for b in doc.blocks] == [1, 2]
    multline, align = doc.blocks
    assert "\\\\" not in multline.text and "label" not in multline.text and "eq:z" not in multline.text
    assert "\\tag" not in align.text and "nonumber" not in align.text and align.text.count("\\\\") == 1
    # offsets still point into the file
    for b in doc.blocks:
        assert len(b.text) == len(text[b.offset:b.offset + len(b.text)])
        assert text[b.offset:b.offset + 2].strip()[:1] in ("z", "C", "")


def test_definition_and_connector_words_between_equations():
    """':=' is '=', and '\\qquad\\text{and}\\qquad' separates two equations (was: unknown symbol '\\qquad')."""
    text = (DERIV / "correct-sigmoid-232.md").read_text()
    extra = ("\n$$\\delta^{(3)} := \\frac{\\partial C}{\\partial a^{(3)}}$$\n\n"
             "$$\\frac{\\partial C}{\\partial b^{(2)}} = \\delta^{(3)} \\odot \\sigma'\\left(z^{(3)}\\right) , "
             "\\qquad \\text{and} \\qquad \\frac{\\partial C}{\\partial b^{(1)}} = \\delta^{(2)} \\odot "
             "\\sigma'\\left(z^{(2)}\\right)$$\n")
    report = audit_text(text + extra, "extra")
    assert _seen(report) == []
    cov = report.sections["audit"]["coverage"]
    base = audit_text(text, "base").sections["audit"]["coverage"]
    assert cov["evaluated"] == base["evaluated"] + 3 and cov["not_evaluable"] == 0


def test_a_table_row_states_its_quantity_equals_its_value():
    text = "| quantity | value |\n|---|---|\n| $a^{(1)}$ | $0.52$ |\n| $C$ | text |\n| plain | $x$ |\n"
    (block,) = split_markdown(text).blocks[:1]
    assert block.line == 3 and block.text.split() == ["a^{(1)}", "=", "0.52"]
    assert text[block.offset:block.offset + len(block.text)].replace("$", " ").replace("|", "=") == block.text


def test_quoted_display_and_comments():
    """A display quoted over several lines reads as one; an HTML comment and \\(…\\) behave as rendered."""
    text = ("> $$\n> z^{(2)} = W^{(1)} a^{(1)}\n>   + b^{(1)}\n> $$\n\n<!--\n$$C = 12345$$\n-->\n\n"
            "Inline \\(a^{(2)} = \\sigma(z^{(2)})\\) too.\n")
    doc = split_markdown(text)
    assert [" ".join(b.text.split()) for b in doc.blocks] == ["z^{(2)} = W^{(1)} a^{(1)} + b^{(1)}",
                                                              "a^{(2)} = \\sigma(z^{(2)})"]
    assert [b.line for b in doc.blocks] == [1, 10]


def test_a_table_of_formulas_is_not_read_as_equations():
    text = ("| function | derivative |\n|---|---|\n| $x^2$ | $2x$ |\n| $\\tanh(x)$ | $1 - \\tanh^2(x)$ |\n"
            "| $a^{(1)}$ | $\\begin{pmatrix} 0.5 \\\\ -0.25 \\end{pmatrix}$ |\n")
    blocks = [" ".join(b.text.split()) for b in split_markdown(text).blocks]
    assert "x^2 = 2x" not in blocks and "x^2" in blocks  # two separate inline maths, no equation
    assert any(b.startswith("a^{(1)} = \\begin{pmatrix}") for b in blocks)
