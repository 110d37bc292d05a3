"""`manualbp check`: verdict, minimal case, diagnosis; exit codes 0 / 1 / 2; --format json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from oracles.cli import main
from oracles.findings import Report, validate

pytest.importorskip("torch")

STUDENTS = Path(__file__).resolve().parents[1] / "examples" / "students"
FAST = ["--max-examples", "10"]


def test_correct_student_exits_0(capsys):
    code = main(["check", f"{STUDENTS / 'correct_nielsen.py'}:backprop", "--layout", "columns",
                 "--returns", "db,dW", *FAST])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "CORRECT on all" in out


def test_buggy_student_exits_1_with_diagnosis_and_reproducer(capsys):
    code = main(["check", f"{STUDENTS / 'bug_sigma_prime_of_a.py'}:backprop", "--hidden", "sigmoid",
                 "--output", "sigmoid", "--cost", "half_sse", *FAST])
    out = capsys.readouterr().out
    assert code == 1
    assert "WRONG" in out and "σ'(a) computed where σ'(z) belongs" in out
    assert "minimal case, widths [1, 1]" in out
    assert "from bug_sigma_prime_of_a import backprop" in out and "expected_dW" in out


def test_cost_convention_is_declared_not_edited(capsys):
    """¼·Σ(a − y)² summed over the batch: half_sse × 0.5, reduction sum; wrong without the declaration."""
    spec = f"{STUDENTS / 'correct_xw.py'}:backprop"
    base = ["check", spec, "--hidden", "tanh", "--output", "identity", "--layout", "xw", "--batch", "rows",
            "--reduction", "sum", *FAST]
    assert main([*base, "--scale", "0.5"]) == 0
    capsys.readouterr()
    assert main(base) == 1
    assert "every gradient is 1/2× the correct one" in capsys.readouterr().out


def test_json_format_is_a_valid_report(capsys):
    code = main(["check", f"{STUDENTS / 'bug_constant_factor.py'}:backprop", "--format", "json", *FAST])
    assert code == 1
    data = json.loads(capsys.readouterr().out)
    validate(data)
    report = Report.from_dict(data)
    assert report.checks[0].source == "check" and not report.checks[0].passed
    assert {f.source for f in report.findings} == {"check"}
    diag = [f for f in report.findings if f.kind == "diagnosis"]
    assert diag and diag[0].values["mistake"] == "constant-factor"
    assert data["sections"]["check"]["diagnosis"]["mistake"] == "constant-factor"
    assert "expected_dW" in data["sections"]["check"]["reproducer"]


@pytest.mark.parametrize("argv, words", [
    (["check", "nowhere/student.py:backprop"], "does not exist"),
    (["check", f"{STUDENTS / 'correct_loops.py'}:nope"], "no attribute 'nope'"),
    (["check", "correct_loops"], "path/to/file.py:function"),
    (["check", f"{STUDENTS / 'correct_loops.py'}:backprop", "--cost", "bce", "--output", "tanh"], "sigmoid"),
    (["check", f"{STUDENTS / 'correct_loops.py'}:backprop", "--oracles", "theano"], "--oracles"),
    (["check", f"{STUDENTS / 'correct_loops.py'}:backprop", "--scale", "0"], "non-zero"),
    (["check", f"{STUDENTS / 'correct_loops.py'}:backprop", "--rtol", "-0.5"], "--rtol"),
])
def test_usage_errors_exit_2(argv, words, capsys):
    assert main(argv) == 2
    assert words in capsys.readouterr().err


def test_a_class_given_for_a_function_is_a_usage_error(tmp_path, capsys):
    f = tmp_path / "net.py"
    f.write_text("class MLP:\n    def __init__(self, weights, biases):\n        self.W = weights\n")
    assert main(["check", f"{f}:MLP", *FAST]) == 2
    err = capsys.readouterr().err
    assert "MLP is a class" in err and "f(weights, biases, x, y) -> (dW, db)" in err


def test_bad_choice_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["check", "x.py:f", "--hidden", "swish"])
    assert info.value.code == 2


def test_help_and_import_stay_light():
    code = ("import sys; import oracles.cli.check; from oracles.cli import build_parser; build_parser(); "
            "heavy = [m for m in ('torch', 'jax', 'hypothesis', 'oracles.checker') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_internal_error_is_said_to_be_one_with_its_own_exit_code(monkeypatch, capsys):
    """A failure inside manualbp (not the subject's, not a usage error) exits 3 and says it is manualbp's bug."""
    import oracles.checker

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(oracles.checker, "check", broken)
    assert main(["check", f"{STUDENTS / 'correct_loops.py'}:backprop", *FAST]) == 3
    assert "internal error (a bug in manualbp" in capsys.readouterr().err
