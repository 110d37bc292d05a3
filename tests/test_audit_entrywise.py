"""A worked example given entry by entry (w^{(1)}_{12} = 0.8, b^{(1)}_2 = 0.1, x_1 = 0.5, y = 1) is read as the
network's matrices, so its numbers are checked and the network's shape is not guessed from index ranges.

The fixtures under tests/data/audit_entrywise/ are written by make_fixtures.py; the expected values here are
recomputed with plain numpy from the fixtures' parameters.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from oracles.audit import audit_file, audit_text
from oracles.audit.extract import extract
from oracles.audit.markdown import split_markdown
from oracles.audit.model import Model, find_bindings
from tests.fixture_module import load_generator

DATA = Path(__file__).resolve().parent / "data" / "audit_entrywise"
fx = load_generator(DATA)

NETS = {"net221": fx.NET221, "net231": fx.NET231}


def _errors(report) -> list:
    return [f for f in report.findings if f.severity == "error"]


def _line_of(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), start=1) if needle in ln)


def test_fixtures_are_current():
    for name, make in fx.FIXTURES.items():
        assert (DATA / name).read_text(encoding="utf-8") == make(), f"regenerate {name} (make_fixtures.py)"


@pytest.mark.parametrize("net", sorted(NETS))
def test_a_correct_entrywise_example_is_read_and_every_number_checked(net):
    """Fails before: 'no weight matrix was recognised', widths guessed, false index and mismatch errors."""
    text = (DATA / f"{net}_correct.md").read_text(encoding="utf-8")
    report = audit_file(DATA / f"{net}_correct.md")
    assert [(f.where.line, f.kind) for f in _errors(report)] == []
    section = report.sections["audit"]
    p = NETS[net]
    assert section["network"]["widths"] == [p["x"].size, p["b1"].size, p["b2"].size]
    cov = section["coverage"]
    stated = len(re.findall(r"= -?\d+\.\d{4}\b", text))  # each stated value of the numbers section
    assert cov["worked_example_read"] and cov["numbers_checked"] == stated
    assert cov["evaluated"] == cov["checkable"]


@pytest.mark.parametrize("net", sorted(NETS))
def test_a_wrong_number_and_a_wrong_layer_index_are_found_on_their_lines(net):
    path = DATA / f"{net}_planted.md"
    text = path.read_text(encoding="utf-8")
    report = audit_file(path)
    planted = fx.wrong(fx.values(NETS[net])["d2"][0])
    got = sorted((f.where.line, f.kind) for f in _errors(report))
    assert got == [(_line_of(text, r"\partial w^{(l)}_{jk}"), "index"),
                   (_line_of(text, r"$$\delta^{(2)}_1 = " + planted), "arithmetic")]
    arith = next(f for f in _errors(report) if f.kind == "arithmetic")
    assert float(arith.fix) == pytest.approx(fx.values(NETS[net])["d2"][0], abs=1e-4)
    index = next(f for f in _errors(report) if f.kind == "index")
    assert index.fix == "a^{(l-1)}_k"


def test_a_partly_given_matrix_is_not_a_worked_example_and_the_missing_entries_are_named():
    text = (DATA / "net231_correct.md").read_text(encoding="utf-8").replace(r", $w^{(2)}_{13} = 0.9$", "")
    assert r"w^{(2)}_{13}" not in text.split("$$")[0]
    report = audit_text(text, "partial")
    assert not report.sections["audit"]["coverage"]["worked_example_read"]
    unread = [f.message for f in report.findings if "could not read one" in f.message]
    assert len(unread) == 1 and "w^{(2)}_{13} is missing" in unread[0]


def test_weights_written_from_input_to_output_are_read_with_the_documents_own_convention():
    """Σ_i w_{ij} a_i: the first subscript is the input unit, so W^{(1)} is the transpose of the entries' grid."""
    p = fx.NET231
    entries = ", ".join(f"$w^{{(1)}}_{{{k + 1}{j + 1}}} = {p['W1'][j, k]:g}$" for j in range(3) for k in range(2))
    text = (r"$$z^{(1)}_j = \sum_{i=1}^{2} w^{(1)}_{ij} a^{(0)}_i + b^{(1)}_j$$" + "\n\n"
            + r"$$z^{(2)}_1 = \sum_{j=1}^{3} w^{(2)}_{j1} a^{(1)}_j + b^{(2)}_1$$" + "\n\n" + entries + "\n")
    model = Model()
    find_bindings(model, extract(split_markdown(text)).equations)
    np.testing.assert_array_equal(model.bindings[("w", 1)][0], p["W1"])


def _bound(text: str) -> dict:
    model = Model()
    find_bindings(model, extract(split_markdown(text)).equations)
    return {key: np.asarray(val) for key, (val, _) in model.bindings.items()}


def test_zero_based_subscripts_are_read_from_zero():
    p = fx.NET221
    entries = [f"$w^{{(1)}}_{{{j}{k}}} = {p['W1'][j, k]:g}$" for j in range(2) for k in range(2)]
    entries += [f"$w^{{(2)}}_{{0{k}}} = {p['W2'][0, k]:g}$" for k in range(2)]
    entries += [f"$b^{{(1)}}_{j} = {v:g}$" for j, v in enumerate(p["b1"])] + ["$b^{(2)}_0 = 0.05$"]
    entries += [f"$x_{k} = {v:g}$" for k, v in enumerate(p["x"])] + ["$y_0 = 1$"]
    got = _bound(", ".join(entries) + "\n")
    for key, want in {("w", 1): p["W1"], ("w", 2): p["W2"], ("b", 1): p["b1"], ("b", 2): p["b2"],
                      ("x", 0): p["x"], ("y", 0): p["y"]}.items():
        np.testing.assert_array_equal(got[key], want)


def test_without_sums_the_orientation_that_chains_the_layers_is_taken():
    """No Σ says which subscript is the input: w_{ij} read as row j, column i is the only one fitting x."""
    p = fx.NET231
    entries = [f"$w^{{(1)}}_{{{k + 1}{j + 1}}} = {p['W1'][j, k]:g}$" for j in range(3) for k in range(2)]
    entries += [f"$x_{k + 1} = {v:g}$" for k, v in enumerate(p["x"])]
    np.testing.assert_array_equal(_bound(", ".join(entries) + "\n")[("w", 1)], p["W1"])
