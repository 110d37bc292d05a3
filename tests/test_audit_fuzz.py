"""The auditor never crashes: Hypothesis mutates derivations (deleted braces, swapped environments,
random truncation, stray tokens); no exception escapes and every problem is a finding with a line."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oracles.audit import audit_text

DERIV = Path(__file__).resolve().parents[1] / "examples" / "derivations"
SMALL = [p.read_text() for p in sorted(DERIV.glob("*-*.md"))]  # correct-* and planted-*
SEED = (DERIV / "seed.md").read_text()
ENVS = ["cases", "bmatrix", "pmatrix", "Bmatrix", "aligned", "split", "matrix"]
TOKENS = ["{", "}", "\\\\", "&", "$", "$$", "^", "_", "\\frac", "=", "\\left(", "\\right)", "\\begin{cases}",
          "\\end{bmatrix}", "\\sum_{k=1}^{n_L}", "a_i^{(L)}", "0.5", "\\odot", "{}^{T}"]
KINDS = {"malformed", "layout", "notation", "index", "symbol", "shape", "missing-term", "relation", "sign",
         "transpose", "arithmetic", "rounding", "mismatch", "not-evaluable", "coverage", "model", "consequence"}


@st.composite
def mutated(draw, docs=SMALL):
    text = draw(st.sampled_from(docs))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete-brace", "swap-env", "truncate", "insert"]))
        if op == "delete-brace":
            idx = [i for i, c in enumerate(text) if c in "{}"]
            if idx:
                i = draw(st.sampled_from(idx))
                text = text[:i] + text[i + 1:]
        elif op == "swap-env":
            a, b = draw(st.sampled_from(ENVS)), draw(st.sampled_from(ENVS))
            end = "\\end{" + a + "}"
            k = text.find(end, draw(st.integers(0, max(0, len(text) - 1))))
            if k >= 0:
                text = text[:k] + "\\end{" + b + "}" + text[k + len(end):]
        elif op == "truncate":
            text = text[:draw(st.integers(0, len(text)))]
        else:
            i = draw(st.integers(0, len(text)))
            text = text[:i] + draw(st.sampled_from(TOKENS)) + text[i:]
    return text


def _check(text: str) -> None:
    report = audit_text(text, "fuzz")  # must not raise
    n_lines = text.count("\n") + 1
    for f in report.findings:
        assert f.kind in KINDS, (f.kind, f.message)  # 'internal' would mean the auditor itself broke
        assert f.source == "audit" and f.severity in ("error", "warning", "info")
        assert isinstance(f.where.line, int) and 1 <= f.where.line <= n_lines, f
        assert f.message
    report.to_dict()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_derivations_never_crash(text):
    _check(text)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(SEED)))
def test_truncated_seed_never_crashes(n):
    _check(SEED[:n])


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(list("\\{}[]()^_=&$ax1.\n ") + ["\\frac", "\\begin{cases}", "\\end{pmatrix}",
                                                                     "$$", "\\\\"]), max_size=60))
def test_garbage_never_crashes(parts):
    _check("".join(parts))
