"""The audit gives each layer its own activation, normalises softmax per sample, and reads literal sum limits as
statements about this network.

The fixtures under tests/data/audit_layers/ are derivations written for these tests (make_fixtures.py); the
expected values here are recomputed with plain numpy from the fixtures' parameters.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from oracles.audit import audit_file, audit_text
from tests.fixture_module import load_generator

DATA = Path(__file__).resolve().parent / "data" / "audit_layers"
fx = load_generator(DATA)

CORRECT = ["relu_linear_correct.md", "relu_all_active_correct.md", "relu_linear_words_correct.md",
           "tanh_sigmoid_correct.md", "softmax_rows_correct.md", "softmax_columns_correct.md",
           "index_limits_correct.md", "ng_batch_correct.md", "cs231n_correct.md",
           "goodfellow_correct.md"]


def _errors(report) -> list[tuple[int, str, str]]:
    return [(f.where.line, f.kind, f.message) for f in report.findings if f.severity == "error"]


def _line_of(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), start=1) if needle in ln)


def test_fixtures_are_current():
    for name, make in fx.FIXTURES.items():
        assert (DATA / name).read_text(encoding="utf-8") == make(), f"regenerate {name} (make_fixtures.py)"


@pytest.mark.parametrize("name", CORRECT)
def test_a_correct_derivation_gives_no_errors(name):
    report = audit_file(DATA / name)
    assert _errors(report) == []
    assert report.sections["audit"]["checked"] >= 3


@pytest.mark.parametrize(("name", "acts"), [("relu_linear_correct.md", ["relu", "identity"]),
                                            ("relu_linear_words_correct.md", ["relu", "identity"]),
                                            ("tanh_sigmoid_correct.md", ["tanh", "sigmoid"])])
def test_each_layer_has_the_activation_the_document_gives_it(name, acts):
    assert audit_file(DATA / name).sections["audit"]["network"]["layer_activations"] == acts


def test_a_wrong_number_after_a_linear_output_is_fixed_with_the_linear_value():
    path = DATA / "relu_linear_planted.md"
    report = audit_file(path)
    want = fx.relu_values()["a2"]  # the linear output: z^{(2)} itself, negative entry kept
    assert want[1] < 0
    line = _line_of(path.read_text(encoding="utf-8"), "$$a^{(2)} =")
    errs = [f for f in report.findings if f.severity == "error"]
    assert [(f.where.line, f.kind) for f in errs] == [(line, "arithmetic")]
    assert float(errs[0].fix) == pytest.approx(want[1], abs=1e-4)


def test_sigma_beside_tanh_is_the_logistic_function():
    """A^{[2]} = σ(Z^{[2]}) beside A^{[1]} = tanh(Z^{[1]}): a tanh output value is reported with the sigmoid's."""
    text = (DATA / "tanh_sigmoid_correct.md").read_text(encoding="utf-8")
    v = fx.tanh_values()
    wrong = fx.f(np.tanh(v["z2"][0]))
    text = text.replace(f"A^{{[2]}} = {fx.f(v['a2'][0])}", f"A^{{[2]}} = {wrong}")
    errs = [f for f in audit_text(text, "t.md").findings if f.severity == "error"]
    assert errs and errs[0].fix is not None and float(errs[0].fix) == pytest.approx(v["a2"][0], abs=1e-4)


@pytest.mark.parametrize("columns", [False, True])
def test_softmax_over_a_batch_normalises_each_sample(columns):
    """P normalised over the whole matrix (instead of per sample) is wrong, and each fix is the per-sample value."""
    v = fx.softmax_values()
    e = np.exp(v["S"])
    whole = e / e.sum()
    right = v["P"]
    if columns:
        whole, right = whole.T, right.T
    name = "softmax_columns_correct.md" if columns else "softmax_rows_correct.md"
    text = (DATA / name).read_text(encoding="utf-8")
    text = text.replace(f"$$P = {fx.mat(right)}$$", f"$$P = {fx.mat(whole)}$$")
    errs = [f for f in audit_text(text, "t.md").findings if f.severity == "error"]
    fixes = sorted(float(f.fix) for f in errs)
    assert len(errs) == right.size
    assert np.allclose(fixes, np.sort(right.ravel()), atol=1e-4)


def test_a_literal_sum_limit_is_checked_on_this_network_only():
    """\\sum_{k=1}^{3} over a 3-wide hidden layer holds; random networks of other widths are not asked."""
    assert _errors(audit_file(DATA / "index_limits_correct.md")) == []


def test_a_literal_sum_limit_that_is_not_the_width_is_an_index_error_naming_the_width():
    path = DATA / "index_limits_planted.md"
    errs = [f for f in audit_file(path).findings if f.severity == "error"]
    width = fx.IDX["W3"].shape[1]  # what k runs over: the hidden layer
    line = _line_of(path.read_text(encoding="utf-8"), "w_{jk}^{(3)}")
    assert [(f.where.line, f.kind) for f in errs] == [(line, "index")]
    assert f"should be {width}" in errs[0].message
    assert re.sub(r"\s", "", errs[0].fix).startswith(f"\\sum_{{k=1}}^{{{width}}}")


@pytest.mark.parametrize(("prose", "act"), [
    ("two ReLU hidden layers, a **linear** output layer with 2 units", "identity"),
    ("Hidden layer: 2 tanh units; output: one sigmoid unit.", "sigmoid"),
    ("The hidden layers use ReLU and the output layer is linear (identity activation).", "identity"),
    ("a tanh hidden layer with two units and one sigmoid output unit", "sigmoid"),
    ("a sigmoid network with three layers", None),
    ("The output layer has no activation; the hidden ones are sigmoid.", "identity"),
])
def test_the_output_activation_is_read_from_the_words(prose, act):
    from oracles.audit.activations import output_in_words

    assert output_in_words(prose) == act


def test_ng_dz_over_a_batch_is_per_sample_and_a_missing_one_over_m_in_dw_is_found():
    """dZ^{[2]} = A^{[2]} - Y (each sample's gradient), dW^{[2]} = (1/m) dZ A^T: correct; without 1/m, wrong."""
    text = (DATA / "ng_batch_correct.md").read_text(encoding="utf-8")
    planted = text.replace(r"$$dW^{[2]} = \frac{1}{m} dZ^{[2]} A^{[1]T}$$", r"$$dW^{[2]} = dZ^{[2]} A^{[1]T}$$")
    assert planted != text
    errs = [f for f in audit_text(planted, "t.md").findings if f.severity == "error"]
    line = _line_of(planted, "$$dW^{[2]} = dZ")
    assert [(f.where.line, f.kind) for f in errs] == [(line, "missing-term")]
    assert "1/m" in errs[0].message


def test_a_sample_column_of_a_batch_is_read_from_its_index_after_the_layer():
    """db^{[1]} = (1/m) Σ_i dZ^{[1](i)}: dZ^{[1](i)} is sample i's column; a wrong db^{[1]} entry gets numpy's value."""
    v = fx.ng_values()
    text = (DATA / "ng_batch_correct.md").read_text(encoding="utf-8")
    wrong = v["db1"].copy()
    wrong[1] += 0.1
    planted = text.replace(f"$$db^{{[1]}} = {fx.col(v['db1'])}$$", f"$$db^{{[1]}} = {fx.col(wrong)}$$")
    assert planted != text
    errs = [f for f in audit_text(planted, "t.md").findings if f.severity == "error"]
    assert len(errs) == 1 and float(errs[0].fix) == pytest.approx(v["db1"][1], abs=1e-4)


def test_an_equation_its_sentence_confines_to_the_worked_example_is_checked_there_only():
    """'… so δ^{(1)} = (W^{(2)})^T δ^{(2)} exactly here' holds at the worked input (every ReLU active), not at
    random inputs; without the qualifier it is a general claim, and a wrong one."""
    assert np.all(fx.relu_values(fx.RELU_ACTIVE)["z1"] > 0)
    text = (DATA / "relu_all_active_correct.md").read_text(encoding="utf-8")
    assert _errors(audit_text(text, "t.md")) == []
    general = text.replace("Every hidden unit is active at this input, so", "In general,").replace(
        "exactly here", "for every input")
    assert [kind for _, kind, _ in _errors(audit_text(general, "t.md"))] == ["missing-term"]


def test_a_gradient_stated_from_the_documents_own_rounded_gradient_is_a_rounding():
    """ds stated to 2 decimals (right at its own rounding), dW_2 stated as h^T ds from those: the document's
    formula dW_2 = h^T ds, elsewhere, with its stated ds gives the number, so it is rounding (info), not an
    arithmetic error (fails before: 'should be …' errors on the dW_2 line)."""
    text = (DATA / "cs231n_correct.md").read_text(encoding="utf-8")
    v = fx.cs_values()
    ds2 = np.round(v["ds"], 2)
    from_stated = v["h"].T @ ds2
    assert np.any(np.abs(np.round(from_stated, 4) - v["dW2"]) > 0.5e-4)  # the rounded ds shows at 4 decimals
    two = r"\begin{pmatrix} " + r" \\ ".join(" & ".join(f"{x:.2f}" for x in r) for r in ds2) + r" \end{pmatrix}"
    new = text.replace(fx.mat(v["ds"]), two).replace(fx.mat(v["dW2"]), fx.mat(from_stated))
    assert new.count(fx.mat(from_stated)) == 1 and two in new
    report = audit_text(new, "t.md")
    assert _errors(report) == []
    line = _line_of(new, "$$dW_2 =")
    assert {f.kind for f in report.findings if f.where.line == line} == {"rounding"}


def test_cs231n_max_relu_d_prefix_and_zero_based_labels_are_read():
    """h = max(0, X W_1 + b_1), ds = ∂L/∂s, labels 0..C-1: a wrong L gets numpy's value, dh = ds W_2 (no transpose)
    is a shape error on its line, and db_2 = Σ_i ds_i sums the rows."""
    text = (DATA / "cs231n_correct.md").read_text(encoding="utf-8")
    v = fx.cs_values()
    wrong_loss = text.replace(f"$$L = {fx.f(v['L'])}$$", f"$$L = {fx.f(v['L'] + 0.1)}$$")
    errs = [f for f in audit_text(wrong_loss, "t.md").findings if f.severity == "error"]
    assert len(errs) == 1 and float(errs[0].fix) == pytest.approx(v["L"], abs=1e-4)
    no_transpose = text.replace(r"$dh = ds\, W_2^\top$", r"$dh = ds\, W_2$")
    assert no_transpose != text
    errs = [f for f in audit_text(no_transpose, "t.md").findings if f.severity == "error"]
    assert [(f.where.line, f.kind) for f in errs] == [(_line_of(text, "$dh = ds"), "transpose")]
    assert re.sub(r"\s", "", errs[0].fix).endswith("W_2^T")
    wrong_db = text.replace(fx.f(v["db2"][1]), fx.f(v["db2"][1] + 0.05))
    errs = [f for f in audit_text(wrong_db, "t.md").findings if f.severity == "error"]
    assert len(errs) == 1 and float(errs[0].fix) == pytest.approx(v["db2"][1], abs=1e-4)


def test_cross_entropy_in_words_beside_a_linear_output_is_a_model_warning_not_a_crash():
    text = (DATA / "relu_linear_correct.md").read_text(encoding="utf-8")
    text = text.replace("trained with the mean squared error", "trained with the cross-entropy")
    text = "\n".join(ln for ln in text.splitlines() if not ln.startswith("$$C = "))
    report = audit_text(text, "t.md")
    assert [(f.kind, f.severity) for f in report.findings] == [("model", "warning")]
    assert "cross-entropy" in report.findings[0].message and "identity" in report.findings[0].message
    assert report.sections["audit"]["checked"] >= 10


def test_an_outer_product_in_the_wrong_order_gets_the_turned_product_as_its_fix():
    """∂C/∂W^{(l)} = a^{(l-1)} (δ^{(l)})^T for δ^{(l)} (a^{(l-1)})^T: a transpose finding whose fix, pasted, holds."""
    text = (DATA / "relu_linear_correct.md").read_text(encoding="utf-8")
    right = r"\delta^{(l)} \left(a^{(l-1)}\right)^T$$"
    planted = text.replace(right, r"a^{(l-1)} \left(\delta^{(l)}\right)^T$$")
    assert planted != text
    errs = [f for f in audit_text(planted, "t.md").findings if f.severity == "error"]
    assert [f.kind for f in errs] == ["transpose"]
    fixed = planted.replace(errs[0].where.fragment, errs[0].fix)
    assert _errors(audit_text(fixed, "t.md")) == []


def test_one_output_units_weight_vector_and_h_are_read():
    """w^{(2)} = (…)^T used as w^{(2)T} h^{(1)}: the worked example is read, the gradient ∇_w J is a column, a
    wrong ŷ gets numpy's value and a missing tanh' factor is found."""
    text = (DATA / "goodfellow_correct.md").read_text(encoding="utf-8")
    v = fx.gf_values()
    report = audit_text(text, "t.md")
    assert report.sections["audit"]["network"]["worked_example"] is True
    wrong = text.replace(rf"\hat{{y}} = {fx.f(v['yh'])}", rf"\hat{{y}} = {fx.f(v['yh'] + 0.01)}")
    assert wrong != text
    errs = [f for f in audit_text(wrong, "t.md").findings if f.severity == "error"]
    assert len(errs) == 1 and float(errs[0].fix) == pytest.approx(v["yh"], abs=1e-4)
    missing = text.replace(r"J \odot \left(1 - \boldsymbol{h}^{(1)} \odot \boldsymbol{h}^{(1)}\right)$$", "J$$")
    assert missing != text
    errs = [f for f in audit_text(missing, "t.md").findings if f.severity == "error"]
    assert [f.kind for f in errs] == ["missing-term"]


def test_a_value_given_for_a_transposed_symbol_is_transposed_back():
    """w^{(2)T} = (0.6, -0.7) (a row) gives the same network as w^{(2)} = (0.6, -0.7)^T."""
    text = (DATA / "goodfellow_correct.md").read_text(encoding="utf-8")
    w = fx.GF["w2"]
    row = text.replace(rf"\boldsymbol{{w}}^{{(2)}} = {fx.colt(w)}$",
                       rf"\boldsymbol{{w}}^{{(2)\top}} = ({fx.f(w[0])}, {fx.f(w[1])})$")
    assert row != text
    report = audit_text(row, "t.md")
    assert report.sections["audit"]["network"]["worked_example"] is True
    assert _errors(report) == []


@pytest.mark.parametrize("labels", [(0, 2), (1, 3)])
def test_one_hot_labels_named_in_the_words_are_built_from_the_labels(labels):
    """'Y is the one-hot matrix of labels': ds = (1/N)(p - Y) holds, (1/N)(Y - p) is a sign error (labels from
    0 or from 1)."""
    text = (DATA / "cs231n_correct.md").read_text(encoding="utf-8")
    text = text.replace("$y = (0, 2)$", f"$y = ({labels[0]}, {labels[1]})$")
    stated = "$$L = "
    grad = "where $Y$ is the one-hot matrix of labels:\n\n$$ds = \\frac{1}{N}\\left(p - Y\\right)$$\n\n"
    good = text.replace(stated, grad + stated, 1)
    assert _errors(audit_text(good, "t.md")) == []
    bad = good.replace("\\left(p - Y\\right)", "\\left(Y - p\\right)")
    errs = [f for f in audit_text(bad, "t.md").findings if f.severity == "error"]
    assert [(f.kind, re.sub(r"\s", "", f.fix)) for f in errs] == [("sign", "p-Y")]


def test_a_literal_limit_in_a_layer_generic_equation_names_the_width_of_each_layer():
    """z_j^{(l)} = Σ_{k=1}^{2} … on a 2-3-2 network: right for l=2, wrong for l=3; the finding tells both widths."""
    text = (DATA / "index_limits_correct.md").read_text(encoding="utf-8")
    generic = text.replace(r"$$z_j^{(2)} = \sum_{k=1}^{2} w_{jk}^{(2)} a_k^{(1)} + b_j^{(2)}$$",
                           r"$$z_j^{(l)} = \sum_{k=1}^{2} w_{jk}^{(l)} a_k^{(l-1)} + b_j^{(l)}$$")
    assert generic != text
    errs = [f for f in audit_text(generic, "t.md").findings if f.severity == "error"]
    n_in, n_hidden = fx.IDX["W2"].shape[1], fx.IDX["W3"].shape[1]
    assert [f.kind for f in errs] == ["index"] and errs[0].fix is None
    assert f"{n_in} at l=2; {n_hidden} at l=3" in errs[0].message
