"""Stated numbers: each is judged at its own last digit, and a wrong one's later consequences are not errors.

The worked example's values are computed here with numpy (independently of manualbp and of the auditor).
"""

from __future__ import annotations

import numpy as np

from oracles.audit import audit_text
from tests.audit_net import B1, B2, W1, W2, X, col, mat

Y = np.array([0.6, 0.4])


def sig(z):
    return 1 / (1 + np.exp(-z))


def forward_backward() -> dict:
    """A sigmoid 3-2-2 network with C = ½ Σ (a − y)², δ = ∂C/∂z."""
    z1 = W1 @ X + B1
    a1 = sig(z1)
    z2 = W2 @ a1 + B2
    a2 = sig(z2)
    sp2 = a2 * (1 - a2)
    d2 = (a2 - Y) * sp2
    d1 = (W2.T @ d2) * a1 * (1 - a1)
    return {"a1": a1, "a2": a2, "sp2": sp2, "d2": d2, "d1": d1}


def document(v: dict, d1_fmt: str = ".4f") -> tuple[str, dict]:
    """The derivation's worked example with the values ``v``; also the line of each stated quantity."""
    lines = [
        "# A sigmoid network",
        "",
        "Input is layer $0$ and $\\delta^{(l)} = \\partial C / \\partial z^{(l)}$.",
        "",
        "$$C = \\frac{1}{2} \\sum_{k=1}^{2} \\left(a_k^{(2)} - y_k\\right)^2$$",
        "",
        f"$$W^{{(1)}} = {mat(W1)}, b^{{(1)}} = {col(B1, 'g')}$$",
        "",
        f"$$W^{{(2)}} = {mat(W2)}, b^{{(2)}} = {col(B2, 'g')}$$",
        "",
        f"$$x = {col(X, 'g')}, y = {col(Y, 'g')}$$",
        "",
        f"$$a^{{(1)}} = \\sigma\\left(z^{{(1)}}\\right) = {col(v['a1'])}$$",
        "",
        f"$$a^{{(2)}} = \\sigma\\left(z^{{(2)}}\\right) = {col(v['a2'])}$$",
        "",
        f"$$\\sigma'\\left(z^{{(2)}}\\right) = a^{{(2)}} \\odot \\left(1 - a^{{(2)}}\\right) = {col(v['sp2'])}$$",
        "",
        f"$$\\delta^{{(2)}} = \\left(a^{{(2)}} - y\\right) \\odot \\sigma'\\left(z^{{(2)}}\\right) = {col(v['d2'])}$$",
        "",
        f"$$\\frac{{\\partial C}}{{\\partial b^{{(2)}}}} = \\delta^{{(2)}} = {col(v['d2'])}$$",
        "",
        f"$$\\delta^{{(1)}} = \\left(W^{{(2)}}\\right)^T \\delta^{{(2)}} \\odot a^{{(1)}} "
        f"\\odot \\left(1 - a^{{(1)}}\\right) = {col(v['d1'], d1_fmt)}$$",
    ]
    where = {k: next(i + 1 for i, ln in enumerate(lines) if ln.startswith(p)) for k, p in (
        ("sp2", "$$\\sigma'"), ("d2", "$$\\delta^{(2)}"), ("db2", "$$\\frac{\\partial C}{\\partial b"),
        ("d1", "$$\\delta^{(1)}"))}
    return "\n".join(lines) + "\n", where


def test_the_correct_document_is_clean():
    text, _ = document(forward_backward())
    report = audit_text(text, "sigmoid")
    assert [(f.where.line, f.kind, f.message) for f in report.findings] == []
    assert report.sections["audit"]["coverage"]["numbers_checked"] >= 6


def test_each_number_is_judged_at_its_own_significant_figures():
    """Fails before: a vector's entries were all judged at its longest entry's decimals, so 0.1869 next to
    -0.01442 (both 4 significant figures, both right) was 'should be 0.18688'."""
    v = forward_backward()
    text, where = document(v, d1_fmt=".4g")
    stated = [float(format(x, ".4g")) for x in v["d1"]]
    decimals = [len(format(x, ".4g").split(".")[1]) for x in v["d1"]]
    assert len(set(decimals)) > 1  # the example needs entries with different decimals
    d = max(decimals)
    assert any(abs(s - e) > 0.5 * 10 ** -d for s, e in zip(stated, v["d1"]))  # wrong at the longest's decimals
    report = audit_text(text, "sigfigs")
    assert [(f.where.line, f.kind) for f in report.findings] == []


def test_a_wrong_step_is_the_error_and_what_follows_from_it_a_consequence():
    """Fails before: δ computed from the wrong σ' was 'rounding' (and ∂C/∂b, equal to it, too)."""
    v = forward_backward()
    r = {k: np.round(x, 4) for k, x in v.items()}
    wrong = r.copy()
    wrong["sp2"] = r["sp2"] + np.array([0.0, 0.01])  # one digit off
    wrong["d2"] = np.round((r["a2"] - Y) * wrong["sp2"], 4)  # computed on from the wrong value
    assert abs(wrong["d2"][1] - v["d2"][1]) > 0.0005
    text, where = document(wrong)
    report = audit_text(text, "propagating")
    found = sorted((f.where.line, f.kind, f.severity) for f in report.findings)
    assert found == [(where["sp2"], "arithmetic", "error"), (where["d2"], "consequence", "info"),
                     (where["db2"], "consequence", "info")]
    first = next(f for f in report.findings if f.kind == "arithmetic")
    assert float(first.fix) == r["sp2"][1]
    for f in report.findings:
        if f.kind == "consequence":
            assert f"line {where['sp2']}" in f.message and float(f.fix) == round(v["d2"][1], 4)


def test_an_independent_wrong_number_stays_an_error():
    """A wrong δ that does not follow from the stated inputs is an arithmetic error, not a consequence."""
    v = forward_backward()
    r = {k: np.round(x, 4) for k, x in v.items()}
    r["d2"] = r["d2"] + np.array([0.003, 0.0])
    text, where = document(r)
    report = audit_text(text, "independent")
    kinds = sorted((f.where.line, f.kind) for f in report.findings)
    assert (where["d2"], "arithmetic") in kinds and not any(k == "consequence" for _, k in kinds)


def table(rows: list[tuple[str, str]]) -> str:
    return "\n| quantity | value |\n|---|---|\n" + "".join(f"| ${q}$ | ${v}$ |\n" for q, v in rows)


def test_numbers_in_a_table_are_checked():
    """Fails before: '| $a^{(1)}$ | $…$ |' rows were two unrelated inline maths, nothing checked."""
    v = forward_backward()
    text, _ = document(v)
    rows = [("a^{(1)}", col(v["a1"])), ("a_2^{(2)}", f"{v['a2'][1]:.4f}"),
            ("\\delta_1^{(2)}", f"{v['d2'][0] + 0.01:.4f}"), ("\\text{note}", "see above")]
    report = audit_text(text + table(rows), "table")
    lines = (text + table(rows)).splitlines()
    found = [(f.where.line, f.kind) for f in report.findings]
    bad = next(i + 1 for i, ln in enumerate(lines) if ln.startswith("| $\\delta_1"))
    assert found == [(bad, "arithmetic")]
    (f,) = report.findings
    assert float(f.fix) == round(v["d2"][0], 4)
    base = audit_text(text, "no table").sections["audit"]["coverage"]["numbers_checked"]
    assert report.sections["audit"]["coverage"]["numbers_checked"] == base + 3


def test_values_listed_over_several_lines_of_one_display_are_read():
    """Fails before: 'W = …, \\;' / 'b = …, \\;' on separate lines of one $$ kept the trailing ',' (W = M × ∅),
    so no worked example was read, and a false 'layout' warning said the lines ran together."""
    v = forward_backward()
    text, _ = document(v)
    lines = text.splitlines()
    w1 = next(i for i, ln in enumerate(lines) if ln.startswith("$$W^{(1)}"))
    w2 = next(i for i, ln in enumerate(lines) if ln.startswith("$$W^{(2)}"))
    x = next(i for i, ln in enumerate(lines) if ln.startswith("$$x ="))
    body = [lines[k][2:-2].replace(", b^", ", \\;\nb^") for k in (w1, w2, x)]
    listed = lines[:w1] + ["$$", ", \\;\n".join(body), "$$"] + lines[x + 1:]
    report = audit_text("\n".join(listed) + "\n", "listed")
    assert [(f.where.line, f.kind) for f in report.findings] == []
    assert report.sections["audit"]["coverage"]["worked_example_read"]


def test_input_given_as_a_chain_x_equals_a0_is_read():
    """Fails before: '$$x = a^{(0)} = (numbers)$$' was not a binding (a^{(0)} is a symbol), so no worked example."""
    text, _ = document(forward_backward())
    chained = text.replace("$$x = ", "$$x = a^{(0)} = ")
    assert chained != text
    report = audit_text(chained, "chain")
    assert [(f.where.line, f.kind) for f in report.findings] == []
    assert report.sections["audit"]["coverage"]["worked_example_read"]


def test_arithmetic_on_stated_numbers_allows_each_its_own_last_digit():
    """Fails before: in '2 (0.0005563, 0.01527)' both entries were taken as known to 7 decimals, so the
    product was 'arithmetic that does not give the left side'."""
    v = forward_backward()
    text, _ = document(v)
    cells = [format(x, ".4g") for x in v["d1"]]
    assert len({len(c.split(".")[1]) for c in cells}) > 1
    line = f"$$2 \\delta^{{(1)}} = 2 \\begin{{pmatrix}} {cells[0]} \\\\ {cells[1]} \\end{{pmatrix}}$$"
    report = audit_text(text + "\n" + line + "\n", "times two")
    assert [(f.kind, f.message) for f in report.findings] == []


def test_every_number_computed_from_an_earlier_wrong_one_is_its_consequence():
    """Fails before: numbers whose arithmetic copied the wrong δ were 'rounding', and δ × a with the wrong δ an
    'arithmetic' error; only the root and an unrelated typo are errors (tests/data/audit_numbers/)."""
    from pathlib import Path

    path = Path(__file__).resolve().parent / "data" / "audit_numbers" / "index_propagation.md"
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    at = {k: next(i + 1 for i, ln in enumerate(lines) if ln.startswith(p)) for k, p in (
        ("d3_2", "- $\\delta_2^{(3)}"), ("d2_1", "- $\\delta_1^{(2)}"), ("d2_2", "- $\\delta_2^{(2)}"),
        ("dw3", "- $\\partial C / \\partial w_{21}^{(3)}"), ("dw2", "- $\\partial C / \\partial w_{12}^{(2)}"))}
    # the same network, computed here with numpy: 2-2-2 sigmoid, C = ½ Σ (a − y)², input = layer 1
    w2, b2 = np.array([[0.4, -0.7], [0.9, 0.2]]), np.array([-0.1, 0.3])
    w3, b3 = np.array([[-0.5, 0.6], [0.8, 0.3]]), np.array([0.2, -0.4])
    x, y = np.array([0.3, 0.9]), np.array([0.0, 1.0])
    a2 = sig(w2 @ x + b2)
    a3 = sig(w3 @ a2 + b3)
    d3 = (a3 - y) * a3 * (1 - a3)
    d2 = (w3.T @ d3) * a2 * (1 - a2)
    want = {"d3_2": round(d3[1], 4), "d2_1": round(d2[0], 5), "d2_2": round(d2[1], 5),
            "dw3": round(d3[1] * a2[0], 5), "dw2": round(d2[0] * x[1], 5)}
    report = audit_text(text, "index_propagation.md")
    numbers = {f.where.line: f for f in report.findings if f.kind in ("arithmetic", "rounding", "consequence")}
    assert sorted(numbers) == sorted(at.values())
    assert {k: (numbers[line].kind, float(numbers[line].fix)) for k, line in at.items()} == {
        "d3_2": ("arithmetic", want["d3_2"]), "d2_1": ("consequence", want["d2_1"]),
        "d2_2": ("consequence", want["d2_2"]), "dw3": ("consequence", want["dw3"]), "dw2": ("arithmetic", want["dw2"])}
    for k in ("d2_1", "d2_2", "dw3"):
        assert numbers[at[k]].severity == "info" and f"at line {at['d3_2']}" in numbers[at[k]].message
