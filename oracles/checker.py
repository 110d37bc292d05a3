"""Check anyone's backprop: Hypothesis search, minimal counterexample, diagnosis, reproducer.

:func:`check` runs a subject (see :mod:`oracles.subject`) on Hypothesis-generated networks of the
architecture it declares, judges every answer with :func:`oracles.compare.compare` against the oracles,
lets Hypothesis shrink a failure, then simplifies it further (:mod:`oracles.simplify`) to the smallest
network and simplest values that still fail the same way.  An edge stage follows
(:func:`oracles.strategies.cases` with ``edge=True``: exact relu kinks, saturated units, extreme magnitudes),
where a slope outside [left, right] at an exact kink fails too (:mod:`oracles.subgradient`).  Every case seen
(including the shrinking steps, plus a few extra varied ones when something failed) is then handed to
:func:`oracles.diagnose.diagnose`, which tests the mistake catalogue on all of them; and every declaration one
flag away is tried on the failing cases (:mod:`oracles.declaration`), so that a flag mistake is not reported as
a code bug.  The printed wrong entries, the diagnosis' ✗ grid and the reproducer's assertion all come from the
verdict's per-entry judgement of the minimal case.
:func:`assert_backprop` is the same as an assertion whose message a person can act on.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from manualbp import Case, Gradients

from .declaration import SEARCHED, DeclarationMatch, find_declaration, still_failing
from .diagnose import Diagnosis, Observation, diagnose
from .edges import edge_features, edge_kinds
from .findings import Check, Finding, Location, Report
from .harness import INVALID, Call, Harness, WarningSummary, warning_summary
from .simplify import simplicity
from .subgradient import accepted_at_kinks, apply_kink_envelope
from .subject import Subject, as_subject

DEFAULT_ORACLES = ("torch", "fd")
"""Judges used by default: PyTorch autograd, confirmed by finite differences where they disagree."""

FAILURE_KINDS = ("fail", "raises", "none", "type", "shape", "nonfinite", "mutates", "reentrant", "hang")
"""Outcome statuses that make the check fail ("fail" = wrong gradients)."""

PASSING = ("pass", "precision", "non-differentiable")
"""Verdict statuses that are not the subject's bug."""

KIND_TEXT = {
    "fail": "wrong gradients",
    "raises": "the subject raised an exception",
    "none": "the subject returned None",
    "type": "the subject returned something that is not gradients",
    "shape": "the subject returned gradients of the wrong shape",
    "nonfinite": "the subject returned NaN or infinite gradients",
    "mutates": "the subject changed its inputs",
    "reentrant": "the subject answered differently when called twice on the same case",
    "hang": "the subject did not return in time",
}


@dataclass
class Outcome:
    """One case: how the subject behaved and what the oracles said."""

    case: Case
    status: str  # "pass" | "fail" | a harness problem kind | another verdict status (inconclusive, ...)
    call: Call
    verdict: Any = None  # oracles.compare.Verdict when the subject returned finite gradients
    expected: Gradients | None = None  # the oracles' gradients (manualbp layout and convention)

    @property
    def failed(self) -> bool:
        """True when this case shows a bug or a misbehaviour of the subject."""
        return self.status in FAILURE_KINDS

    @property
    def message(self) -> str:
        """What went wrong, in one line."""
        if self.status == "fail":
            return "wrong gradients"
        problem = self.call.problem(self.status)
        return problem.message if problem else self.status


class _Failure(Exception):
    """Raised inside the Hypothesis search; one subclass per kind so that each kind is shrunk on its own."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(f"{outcome.status}: {outcome.message}")
        self.outcome = outcome


_FAILURES: dict[str, type[_Failure]] = {k: type(f"Subject_{k}", (_Failure,), {}) for k in FAILURE_KINDS}


def case_key(case: Case) -> tuple:
    """A hashable identity of a case (architecture and every value)."""
    arrays = (*case.weights, *case.biases, case.x, case.y)
    return (case.arch, tuple((a.shape, a.tobytes()) for a in arrays))


@dataclass
class CheckResult:
    """What :func:`check` found."""

    subject: Subject
    passed: bool
    outcomes: list[Outcome]
    minimal: dict[str, Outcome]  # per failure kind, the minimal (shrunk) case
    diagnosis: Diagnosis | None
    oracles: tuple[str, ...]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0  # wall time of the check
    warnings: WarningSummary | None = None  # the warnings the subject emitted (kept off stderr)
    declaration: DeclarationMatch | None = None  # another declaration under which the failing cases pass

    @property
    def failures(self) -> list[Outcome]:
        """Every failing case seen."""
        return [o for o in self.outcomes if o.failed]

    @property
    def counts(self) -> dict[str, int]:
        """Cases per status."""
        return dict(Counter(o.status for o in self.outcomes))

    @property
    def minimal_failure(self) -> Outcome | None:
        """The minimal case with wrong gradients, else the minimal misbehaving one."""
        for kind in FAILURE_KINDS:
            if kind in self.minimal:
                return self.minimal[kind]
        return None

    @property
    def discrepancies(self) -> list:
        """The minimal failing case's discrepancies (oracles.compare.Discrepancy)."""
        m = self.minimal.get("fail")
        return list(m.verdict.discrepancies) if m is not None and m.verdict is not None else []

    def reproducer(self, kind: str | None = None) -> str | None:
        """Ready-to-paste Python for the minimal case of ``kind`` (default: the main failure)."""
        o = self.minimal.get(kind) if kind else self.minimal_failure
        return reproducer(self.subject, o, self.oracles) if o is not None else None

    def summary(self) -> str:
        """One line verdict."""
        n = len(self.outcomes)
        if self.passed:
            return f"{self.subject.name}: CORRECT on all {n} cases ({self.subject.describe()})"
        kinds = [k for k in FAILURE_KINDS if k in self.minimal or any(o.status == k for o in self.failures)]
        counts = "; ".join(f"{KIND_TEXT[k]} ({sum(o.status == k for o in self.outcomes)} of {n} cases)" for k in kinds)
        if self.declaration is not None:
            head = f"{self.subject.name}: WRONG as declared, but {self.declaration.headline()}. As declared: {counts}"
        else:
            head = f"{self.subject.name}: WRONG — {counts}"
        if self.diagnosis is not None:
            head += f". Diagnosis: {self.diagnosis.title}"
        return head

    def text(self) -> str:
        """The full human-readable report: verdict, minimal case, discrepancies, diagnosis, reproducer."""
        lines = [self.summary(), f"declared: {self.subject.describe()}; judged by {', '.join(self.oracles)}",
                 "cases: " + ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))]
        lines += [f"note: {n}" for n in self.notes]
        if self.passed:
            return "\n".join(lines)
        for kind in FAILURE_KINDS:
            o = self.minimal.get(kind)
            if o is None:
                continue
            lines.append("")
            lines.append(f"== {KIND_TEXT[kind]}: minimal case, widths {list(o.case.arch.widths)}"
                         + (f", batch {o.case.x.shape[1]}" if o.case.batched else ""))
            features = edge_features(o.case) if is_edge(o) else []
            if features:  # simplified, a case from the edge stage may need none of its edges any more
                lines.append("  an edge case: " + "; ".join(features))
            if kind == "fail":
                lines += _discrepancy_lines(o)
            else:
                lines.append("  " + o.message)
                these = [x for x in self.outcomes if x.status == kind]
                right = sum(x.verdict is not None and x.verdict.passed for x in these)
                if right:  # the misbehaviour aside, the gradients themselves were judged
                    lines.append(f"  apart from that, its gradients were right on {right} of these {len(these)} "
                                 "cases")
                if kind in _MISBEHAVIOUR_FIX and self.diagnosis is None:
                    lines.append("  Fix: " + _MISBEHAVIOUR_FIX[kind])
        if self.diagnosis is not None:
            lines += ["", self.diagnosis.text()]
        rep = self.reproducer()
        if rep:
            lines += ["", "== reproducer (paste into a file and run it):", rep]
        return "\n".join(lines)

    def to_report(self) -> Report:
        """The result as a :class:`Report` with Findings of source "check"."""
        name = f"check:{self.subject.name}"
        report = Report(title=f"manualbp check: {self.subject.name}")
        findings: list[Finding] = []
        diag_text = None if self.diagnosis is None else self.diagnosis.title + ". " + "; ".join(
            self.diagnosis.evidence[:3])
        fix = None if self.diagnosis is None else self.diagnosis.fix
        m = self.minimal.get("fail")
        if m is not None and m.verdict is not None:
            rep = reproducer(self.subject, m, self.oracles)
            for f in m.verdict.to_findings(source="check", check=name):
                f.diagnosis = diag_text or f.diagnosis
                f.fix = fix or f.fix
                f.reproduce = f.reproduce or rep
                f.values = {**f.values, "widths": list(m.case.arch.widths), **_edge_values(m)}
                findings.append(f)
        if self.declaration is not None:
            dm = self.declaration
            findings.append(Finding("check", "declaration", "error", dm.headline(), Location(), name,
                                    dm.to_dict(), None, None, dm.fix(), None))
        if self.diagnosis is not None:
            d = self.diagnosis
            findings.append(Finding(
                "check", "diagnosis", "error" if d.recognised else "warning", d.title, Location(), name,
                {"mistake": d.mistake, "evidence": d.evidence, "cases": d.cases, "failing": d.failing,
                 "max_deviation": d.max_deviation, "also_consistent": d.also_consistent, "pattern": d.pattern},
                None, "; ".join(d.evidence), d.fix, self.reproducer()))
        for kind in FAILURE_KINDS[1:]:
            o = self.minimal.get(kind)
            if o is None:
                continue
            n = sum(x.status == kind for x in self.outcomes)
            findings.append(Finding(
                "check", f"subject-{kind}", "error", f"{KIND_TEXT[kind]}: {o.message}", Location(), name,
                {"cases": n, "widths": list(o.case.arch.widths), **_edge_values(o)}, None, None,
                _MISBEHAVIOUR_FIX.get(kind), reproducer(self.subject, o, self.oracles)))
        for note in self.notes:
            findings.append(Finding("check", "note", "info", note, Location(), name))
        report.add(Check(name, "check", self.passed, self.summary(),
                         {"cases": len(self.outcomes), "by_status": self.counts, "oracles": list(self.oracles)}),
                   findings)
        report.timings["check_seconds"] = round(self.seconds, 3)
        report.sections["check"] = {
            "subject": self.subject.name, "declared": self.subject.describe(), "passed": self.passed,
            "cases": len(self.outcomes), "by_status": self.counts,
            "minimal": {k: {"widths": list(o.case.arch.widths), "message": o.message}
                        for k, o in self.minimal.items()},
            "diagnosis": None if self.diagnosis is None else self.diagnosis.to_dict(),
            "reproducer": self.reproducer(),
            "warnings": None if self.warnings is None else self.warnings.to_dict(),
            "declaration": None if self.declaration is None else self.declaration.to_dict(),
        }
        return report


_MISBEHAVIOUR_FIX = {
    "raises": "run the reproducer to see the traceback; check shapes against the declared layout",
    "none": "return (dW, db) at the end of the function",
    "type": "return two lists, one array per layer (or one vector for the flat layout)",
    "shape": "return one gradient per parameter, with the parameter's shape",
    "nonfinite": "look for exp overflow, log(0) or a division by a(1 − a) that reaches 0",
    "mutates": "copy before changing arrays in place (W = W.copy()), or do not change them",
    "reentrant": "do not keep gradients between calls (module-level or default-argument accumulators)",
    "hang": "look for a loop whose condition never changes",
}


def _edge_values(o: Outcome) -> dict[str, list[str]]:
    """{"edge": the case's numerical edges} for an edge case, else nothing (a finding's values)."""
    return {"edge": edge_features(o.case)} if is_edge(o) else {}


def _discrepancy_lines(o: Outcome) -> list[str]:
    lines = []
    ds = [d for d in (o.verdict.discrepancies if o.verdict is not None else []) if d.status == "fail"]
    by_param: dict[tuple[int, str], list] = {}
    for d in ds:
        by_param.setdefault((d.layer, d.param), []).append(d)
    for (L, p), items in sorted(by_param.items()):
        worst = max(items, key=lambda d: d.abs_err / d.tolerance if d.tolerance > 0 else np.inf)
        digits = distinguishing_digits(worst.subject, list(worst.oracles.values()))
        refs = ", ".join(f"{k} {v:.{digits}g}" for k, v in worst.oracles.items())
        lines.append(f"  ∂C/∂{p}^({L}): {len(items)} entr{'y' if len(items) == 1 else 'ies'} wrong; worst "
                     f"{p}^({L}){list(worst.entry)}: returned {worst.subject:.{digits}g}, expected {refs} "
                     f"(|error| {worst.abs_err:.2g}, tolerance {worst.tolerance:.2g})")
    for n in (o.verdict.notes if o.verdict is not None else []):
        lines.append(f"  note: {n}")
    return lines


def distinguishing_digits(value: float, others: Sequence[float], least: int = 6) -> int:
    """The fewest significant digits (at least ``least``, at most 17) at which ``value`` prints differently from
    every one of ``others`` that differs from it."""
    differ = [v for v in others if v != value]
    for d in range(least, 18):
        shown = f"{value:.{d}g}"
        if all(f"{v:.{d}g}" != shown for v in differ):
            return d
    return 17


# --------------------------------------------------------------------------------------------------------------
# Reproducer
# --------------------------------------------------------------------------------------------------------------


def _lit(a: np.ndarray, dtype: str) -> str:
    """An array as a NumPy literal that round-trips exactly."""
    a = np.asarray(a)
    if dtype == "float32":
        body = np.array2string(a.astype(np.float32), separator=", ", floatmode="unique", threshold=10**6,
                               max_line_width=10**6)
        return f"np.array({body}, dtype=np.float32)"
    body = repr(np.asarray(a, dtype=np.float64).tolist())
    return f"np.array({body})"


def _expected(o: Outcome, oracles: Sequence[str]) -> tuple[Gradients | None, str]:
    if o.expected is not None:
        return o.expected, o.expected.source or oracles[0]
    try:
        from .base import get_oracle

        g = get_oracle(oracles[0]).gradients(o.case)
        return g, oracles[0]
    except Exception:  # noqa: BLE001 - the reproducer is still useful without the oracle
        from manualbp import gradients

        return gradients(o.case), "manualbp"


def reproducer(subject: Subject, o: Outcome, oracles: Sequence[str] = DEFAULT_ORACLES) -> str:
    """Python that rebuilds the case in the subject's layout, calls it and checks it against the oracles."""
    case = o.case
    dt = "float32" if case.dtype == "float32" else "float64"
    args = subject.inputs(case)
    lines = [f"# Minimal case for {subject.name} ({KIND_TEXT.get(o.status, o.status)}), found and shrunk by "
             "`manualbp check`.",
             f"# Network: widths {list(case.arch.widths)}; {subject.describe()}.",
             "import numpy as np", ""]
    lines += subject.import_lines() + [""]
    if subject.layout == "flat":
        lines += [f"theta = {_lit(args[0], dt)}", f"sizes = {args[1]!r}"]
    else:
        lines += ["weights = [" + ", ".join(_lit(W, dt) for W in args[0]) + "]",
                  "biases = [" + ", ".join(_lit(b, dt) for b in args[1]) + "]"]
    lines += [f"x = {_lit(args[2], dt)}", f"y = {_lit(args[3], dt)}", ""]
    names = ("theta", "sizes", "x", "y") if subject.layout == "flat" else ("weights", "biases", "x", "y")
    if o.status == "mutates":
        lines.append("import copy")
        lines.append("before = copy.deepcopy((" + ", ".join(names) + "))")
    call = subject.call_text()
    if o.status in ("raises", "hang"):
        lines.append(call + f"  # {o.message}")
        return "\n".join(lines) + "\n"
    lines.append(call)
    if o.status == "mutates":
        lines += [f"for name, old, new in zip({list(names)!r}, before, (" + ", ".join(names) + ")):",
                  "    np.testing.assert_equal(new, old, err_msg=f'{name} was changed by the call')"]
        return "\n".join(lines) + "\n"
    if o.status == "reentrant":
        lines += ["first = " + ("grad.copy()" if subject.layout == "flat" else "([np.copy(g) for g in dW], "
                                "[np.copy(g) for g in db])"), call,
                  "# a second identical call must give the same answer:",
                  "np.testing.assert_equal(" + ("grad" if subject.layout == "flat" else "(dW, db)") + ", first)"]
        return "\n".join(lines) + "\n"
    expected, source = _expected(o, oracles)
    if expected is None:
        return "\n".join(lines) + "\n"
    want, tol = _accepted(o) or (expected, _model_tolerance(case))
    exp, tols = subject.to_layout(want, case), _abs(subject.to_layout(tol, case))
    lines += ["", f"# expected: the oracles' gradient ({source}), in your layout and cost convention; tolerance: per "
              "entry, the largest", "# |returned − expected| `manualbp check` accepts (its rounding-error model "
              "of this case; inf where no oracle can judge)"]
    got = _returned(o, subject)
    if subject.layout == "flat":
        lines += [f"expected_grad = {_lit64(exp)}", f"tolerance_grad = {_lit64(tols)}"]
        if got is not None:
            lines.append(f"# your function returned:\n#   grad = {_lit(got, 'float64')}")
        names = [f"{p}^({L})[{', '.join(map(str, i))}]" for L, p, a in want.items() for i in np.ndindex(a.shape)]
        lines += [f"entries = {names!r}  # what each position of the vector is", ""] + _WRONG_ENTRIES + [
            'wrong = wrong_entries("grad", grad, expected_grad, tolerance_grad, where=lambda i: f" ({entries[i[0]]})")']
    else:
        first, second = ("db", "dW") if subject.returns == "db,dW" else ("dW", "db")
        for i, name in ((0, first), (1, second)):
            lines.append(f"expected_{name} = [" + ", ".join(_lit64(g) for g in exp[i]) + "]")
        for i, name in ((0, first), (1, second)):
            lines.append(f"tolerance_{name} = [" + ", ".join(_lit64(g) for g in tols[i]) + "]")
        if got is not None:
            lines.append("# your function returned:")
            lines.append(f"#   {first} = [" + ", ".join(_lit(g, "float64") for g in got[0]) + "]")
            lines.append(f"#   {second} = [" + ", ".join(_lit(g, "float64") for g in got[1]) + "]")
        lines += [""] + _WRONG_ENTRIES + [
            "wrong = []",
            "for name, got, want, tol in (('dW', dW, expected_dW, tolerance_dW),",
            "                             ('db', db, expected_db, tolerance_db)):",
            "    if len(got) != len(want):",
            "        wrong.append(f'{name} has {len(got)} arrays; expected {len(want)}, one per layer')",
            "        continue",
            "    for L in range(len(want)):",
            "        wrong += wrong_entries(f'{name}[{L}] ({name[1]}^({L + 1}))', got[L], want[L], tol[L])"]
    lines.append('assert not wrong, "wrong entries:\\n" + "\\n".join(wrong)')
    return "\n".join(lines) + "\n"


def _model_tolerance(case: Case) -> Gradients:
    """The comparison's tolerance against an autodiff oracle (for a case judged without a verdict)."""
    from .compare import tolerances

    return tolerances(case, "autodiff")


_WRONG_ENTRIES = [
    "def wrong_entries(name, got, expected, tolerance, where=lambda i: ''):",
    '    """The entries of `got` farther than `tolerance` from `expected`, one line each."""',
    "    got = np.asarray(got, dtype=np.float64)",
    "    if got.shape != expected.shape:",
    "        return [f'{name} has shape {got.shape}; expected {expected.shape}']",
    "    bad = np.argwhere(~(np.abs(got - expected) <= tolerance))",
    "    return [f'{name}{list(map(int, i))}{where(tuple(i))}: returned {float(got[tuple(i)])!r}, '",
    "            f'expected {float(expected[tuple(i)])!r} ± {tolerance[tuple(i)]:.3g}' for i in bad]",
    "",
]


def _accepted(o: Outcome) -> tuple[Gradients, Gradients] | None:
    """(expected, per-entry tolerance) in manualbp's layout such that |subject − expected| ≤ tolerance is exactly
    the verdict's criterion on this case: the reference oracle's value and tolerance where it alone decides,
    else the centre and half-width of the range every conclusive oracle accepts."""
    if o.verdict is None or o.expected is None:
        return None
    from .compare import _layout, _split, accepted_range

    rng = accepted_range(o.verdict)
    if rng is None:
        return None
    lo, hi = rng
    kinks = accepted_at_kinks(o.case, getattr(o.verdict, "rtol", 0.0))
    if kinks is not None:  # where the oracles cannot judge (an exact kink), the range of the allowed slopes does
        klo, khi, ktol = kinks
        free = np.isinf(lo.flat()) & np.isinf(hi.flat())
        layout = _layout(o.case)
        lo = Gradients(*_split(layout, np.where(free, klo - ktol, lo.flat())), lo.source)
        hi = Gradients(*_split(layout, np.where(free, khi + ktol, hi.flat())), hi.source)
    ref = o.expected
    want_W, want_b, tol_W, tol_b = [], [], [], []
    for (_, p, r), (_, _, a), (_, _, b) in zip(ref.items(), lo.items(), hi.items()):
        r = np.asarray(r, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            below, above = r - a, b - r
            # the reference's own range is the accepted one (to rounding), or nothing bounds the entry
            own = (np.abs(below - above) <= 1e-9 * np.maximum(below, above)) | (np.isinf(a) & np.isinf(b))
            want = np.where(own, r, (a + b) / 2)
            tol = np.where(own, np.minimum(below, above), (b - a) / 2)
        (want_W if p == "W" else want_b).append(want)
        (tol_W if p == "W" else tol_b).append(tol)
    return Gradients(tuple(want_W), tuple(want_b), ref.source), Gradients(tuple(tol_W), tuple(tol_b), "tolerance")


def _abs(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return np.abs(x)
    return type(x)(_abs(v) for v in x)


def _lit64(a: np.ndarray) -> str:
    """A float64 array as an exact NumPy literal, inf and nan included."""
    def item(v: Any) -> str:
        if isinstance(v, list):
            return "[" + ", ".join(item(u) for u in v) + "]"
        v = float(v)
        if np.isnan(v):
            return "np.nan"
        if np.isinf(v):
            return "np.inf" if v > 0 else "-np.inf"
        return repr(v)

    return f"np.array({item(np.asarray(a, dtype=np.float64).tolist())})"


def _returned(o: Outcome, subject: Subject) -> tuple | np.ndarray | None:
    if o.call.gradients is None:
        return None
    return subject.to_layout(o.call.gradients, o.case)


# --------------------------------------------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------------------------------------------


class _Evaluator:
    """Runs and judges cases once each (Hypothesis replays examples while shrinking)."""

    def __init__(self, subject: Subject, harness: Harness, oracles: Sequence[str],
                 judge: Callable[..., Any] | None) -> None:
        self.subject = subject
        self.harness = harness
        self.oracles = tuple(oracles)
        self.judge = judge
        self.seen: dict[tuple, Outcome] = {}

    def __call__(self, case: Case) -> Outcome:
        key = case_key(case)
        if key in self.seen:
            return self.seen[key]
        call = self.harness.call(case)
        out = Outcome(case, call.kind, call)
        if call.gradients is not None and call.kind != "nonfinite":
            rerun = self.harness.gradients if case.dtype == "float32" else None
            try:
                verdict = self.judge(case, call.gradients, oracles=self.oracles, rerun=rerun)
            except RuntimeError:  # the float64 re-run misbehaved: judge the float32 answer alone
                verdict = self.judge(case, call.gradients, oracles=self.oracles, rerun=None)
            apply_kink_envelope(case, call.gradients, verdict)  # at exact kinks: a slope in [left, right] only
            out.verdict = verdict
            out.expected = _reference(verdict)
            if call.problem("reentrant"):
                out.status = "reentrant"  # its values depend on earlier calls: not reproducible on their own
            elif verdict.status not in PASSING:
                out.status = verdict.status  # fail, inconclusive, oracle-disagreement
            elif call.problems:
                out.status = call.kind
            else:
                out.status = "pass"
        self.seen[key] = out
        return out


def _reference(verdict: Any) -> Gradients | None:
    grads = getattr(verdict, "oracle_gradients", None) or {}
    for name in ("torch", "jax", "fd"):
        if name in grads:
            return grads[name]
    return next(iter(grads.values()), None)


def _default_judge(case: Case, candidate: Gradients, *, oracles: Sequence[str], rerun: Any, rtol: float = 0.0
                   ) -> Any:
    from .compare import compare

    return compare(case, candidate, oracles=oracles, fast=True, rerun=rerun, rtol=rtol)


def _strategy(subject: Subject, max_layers: int, max_width: int, max_batch: int, arch: Any = None,
              edge: bool = False):
    from hypothesis import strategies as hs

    from . import strategies as st

    batch = (None,) if subject.batch is None else tuple(range(1, max_batch + 1))
    if arch is not None:
        return st.cases(architectures=hs.just(arch), batch=batch, edge=edge)
    archs = st.architectures(min_layers=2, max_layers=max_layers, min_width=1, max_width=max_width,
                             activations=[subject.hidden], output_activations=[subject.output_activation],
                             costs=[subject.cost], dtypes=(subject.dtype,))
    return st.cases(architectures=archs, batch=batch, edge=edge)


EDGE_SHARE = 3
"""The edge stage runs 1/EDGE_SHARE as many examples as the random search (at least EDGE_MIN)."""

EDGE_MIN = 10


def _edge_budget(max_examples: int | None, base: Any | None) -> int:
    from hypothesis import settings

    n = max_examples if max_examples is not None else (base if base is not None else settings()).max_examples
    return max(EDGE_MIN, n // EDGE_SHARE)


def is_edge(outcome: Outcome) -> bool:
    """Whether the outcome's case comes from the edge stage."""
    from .strategies import EDGE_LABEL

    return outcome.case.label.startswith(EDGE_LABEL)  # an edge case, or one simplified from it


def extra_cases(subject: Subject, n: int, seed: int = 0, max_layers: int = 4, max_width: int = 4,
                max_batch: int = 4) -> list[Case]:
    """Varied cases of the declared architecture (square and non-square layers) to test hypotheses on."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        depth = int(rng.integers(2, max_layers + 1))
        widths = [int(w) for w in rng.integers(1, max_width + 1, size=depth)]
        if i % 3 == 0:
            widths = [max(widths[0], 2)] * depth  # every layer square
        arch = subject.architecture(widths)
        B = None if subject.batch is None else int(rng.integers(1, max_batch + 1))
        tail = () if B is None else (B,)
        Ws = [rng.normal(size=(k, m)) for m, k in zip(widths[:-1], widths[1:])]
        bs = [rng.normal(size=k) for k in widths[1:]]
        x = rng.normal(size=(widths[0], *tail))
        if subject.cost == "softmax_ce":
            y = np.eye(widths[-1])[rng.integers(0, widths[-1], size=B or 1)].T
            y = y[:, 0] if B is None else y
        else:
            y = rng.uniform(0.0, 1.0, size=(widths[-1], *tail))
        out.append(Case.from_arch(arch, Ws, bs, x, y, label=f"diagnosis case {i}"))
    return out


def _run_search(strategy: Any, evaluate: _Evaluator, hyp_settings: Any, seed: int | None) -> dict[str, Outcome]:
    """Run the Hypothesis search; the minimal outcome of each failure kind it shrank."""
    from hypothesis import given
    from hypothesis import seed as hseed

    def body(case: Case) -> None:
        out = evaluate(case)
        if out.failed and out.status != "hang":
            raise _FAILURES[out.status](out)

    test = hyp_settings(given(strategy)(body))
    if seed is not None:
        test = hseed(seed)(test)
    minimal: dict[str, Outcome] = {}
    try:
        test()
    except BaseException as exc:  # noqa: BLE001 - one failure, or an ExceptionGroup of several
        found = list(exc.exceptions) if isinstance(exc, BaseExceptionGroup) else [exc]
        for e in found:
            if isinstance(e, _Failure):
                minimal.setdefault(e.outcome.status, e.outcome)
            elif isinstance(e, KeyboardInterrupt):
                raise
            elif not _is_flaky(e):
                raise
    return minimal


def _is_flaky(exc: BaseException) -> bool:
    from hypothesis.errors import Flaky

    return isinstance(exc, Flaky)


def _settings(max_examples: int | None, base: Any | None):
    from hypothesis import HealthCheck, Phase, Verbosity, settings

    parent = base if base is not None else settings()
    kw: dict[str, Any] = {"deadline": None, "verbosity": Verbosity.quiet, "report_multiple_bugs": True,
                          "suppress_health_check": list(HealthCheck), "database": None, "print_blob": False,
                          "phases": [Phase.explicit, Phase.generate, Phase.shrink]}
    if max_examples is not None:
        kw["max_examples"] = max_examples
    return settings(parent, **kw)


def _simplify_minimal(sub: Subject, evaluate: _Evaluator, minimal: dict[str, Outcome], harness: Harness) -> None:
    """Replace each kind's minimal case by the simplest case :func:`oracles.simplify.simplify` reaches from the
    simplest one seen that still fails the same way.

    A hang is only made smaller in its network and batch, and at the cost of at most HANG_TRIES more hangs (each
    costs the time limit).  A wrong-shape failure whose message changes with the batch size keeps a batch of at
    least 2, where the sample axis is visible."""
    from .simplify import simplify, with_extra_sample

    kinds = [k for k in FAILURE_KINDS if any(o.status == k for o in evaluate.seen.values())]
    for kind in kinds:
        if kind == "hang" and harness.stuck < harness.max_stuck:  # room for HANG_TRIES more hangs
            harness.max_hangs = max(harness.max_hangs, harness.hangs + HANG_TRIES)
        if harness.exhausted:
            continue
        start = min((o for o in evaluate.seen.values() if o.status == kind), key=lambda o: simplicity(o.case))
        min_batch = 1
        if kind == "shape" and sub.batch is not None:
            start, min_batch = _batch_shape_start(start, evaluate, with_extra_sample)
        if kind == "hang":
            limit, slow = harness.hangs + HANG_TRIES, []
            timeout = harness.timeout or 5.0

            def hangs(c: Case, slow: list = slow, timeout: float = timeout) -> bool:
                o = evaluate(c)
                if o.status != "hang" and o.call.seconds > timeout / 2:
                    slow.append(c)  # merely slow here: smaller tries would cost about as much, for nothing
                return o.status == "hang"

            def stop(limit: int = limit, slow: list = slow) -> bool:
                return harness.exhausted or harness.hangs >= limit or bool(slow)

            case = simplify(start.case, hangs, values=False, seconds=HANG_TRIES * timeout + 1.0, stop=stop)
        else:
            case = simplify(start.case, lambda c, kind=kind: evaluate(c).status == kind, min_batch=min_batch,
                            stop=lambda: harness.exhausted)
        minimal[kind] = evaluate(case)


HANG_TRIES = 2
"""Hangs the simplification of a hanging case may cost (each one the time limit)."""


def _batch_shape_start(start: Outcome, evaluate: _Evaluator, extra: Callable[[Case], Case | None]
                       ) -> tuple[Outcome, int]:
    """(start, min_batch) for a wrong-shape failure: a batch of 2 when the message depends on the batch size."""
    case = start.case
    if case.x.shape[1] >= 2:
        one = Case.from_arch(case.arch, case.weights, case.biases, case.x[:, :1], case.y[:, :1], case.label)
        o1 = evaluate(one)
        return start, (2 if o1.status != "shape" or o1.message != start.message else 1)
    two = extra(case)
    if two is None:
        return start, 1
    o2 = evaluate(two)
    if o2.status == "shape" and o2.message != start.message:
        return o2, 2
    return start, 1


def check(subject: Subject | Callable[..., Any] | str, *, hidden: str | None = None, output: str | None = None,
          cost: str | None = None, scale: float | None = None, layout: str | None = None,
          batch: str | None = None, reduction: str | None = None, returns: str | None = None,
          dtype: str | None = None, max_examples: int | None = None,
          oracles: Sequence[str] = DEFAULT_ORACLES, timeout: float = 5.0, seed: int | None = None,
          max_layers: int = 4, max_width: int = 4, max_batch: int = 3, diagnosis_cases: int = 24,
          settings: Any = None, judge: Callable[..., Any] | None = None,
          cases: Sequence[Case] | None = None, edge_cases: bool = True,
          declaration_search: bool = True, fresh_process: bool = True, rtol: float = 0.0) -> CheckResult:
    """Check a subject's backprop against the oracles on Hypothesis-generated networks.

    ``subject``: a :class:`Subject`, a callable or ``"path.py:function"`` / ``"pkg.mod:function"``; the
    keyword arguments declare what it computes (see :class:`oracles.subject.Subject`).  ``max_examples``
    overrides the active Hypothesis profile's; ``settings`` is a base ``hypothesis.settings``.  ``cases``
    adds explicit cases checked first.  ``edge_cases``: after the random search, an edge stage of its own
    (a third as many examples, at least 10, shrunk the same way) tries exact relu kinks, saturated
    sigmoid/tanh/softmax units and extreme magnitudes (:func:`oracles.strategies.cases` with ``edge=True``).
    ``declaration_search``: when the check fails, try every declaration one flag away on the failing cases
    (:func:`oracles.declaration.find_declaration`) and report one under which they all pass first.
    ``fresh_process``: when a wrong-gradient failure was found, run its reproducer in a fresh Python process;
    if it passes there, the failure depends on earlier calls (state kept between calls), and the result says so.
    ``judge(case, candidate, oracles=, rerun=)`` replaces :func:`oracles.compare.compare` (for tests).
    ``rtol``: also accept gradients within rtol of the oracles beyond rounding, relative to each entry's scale
    (:func:`oracles.compare.compare`'s ``rtol``); 0, the default, accepts rounding only.
    """
    t0 = time.perf_counter()
    if isinstance(rtol, bool) or not isinstance(rtol, (int, float)) or not 0 <= rtol < float("inf"):
        raise ValueError(f"rtol must be a finite number >= 0, got {rtol!r}")
    if rtol:
        judge = judge or functools.partial(_default_judge, rtol=float(rtol))
    sub = as_subject(subject, hidden=hidden, output=output, cost=cost, scale=scale, layout=layout,
                     batch=batch, reduction=reduction, returns=returns, dtype=dtype)
    harness = Harness(sub, timeout=timeout)
    evaluate = _Evaluator(sub, harness, oracles, judge or _default_judge)
    notes: list[str] = [f"networks tried: up to {max_layers} layers ({max_layers - 1} weight matrices), widths up "
                        f"to {max_width}, batches up to {max_batch}"]
    minimal: dict[str, Outcome] = {}
    for case in cases or ():
        sub.check_case(case)
        out = evaluate(case)
        if out.failed:
            minimal.setdefault(out.status, out)
    if not harness.exhausted:
        found = _run_search(_strategy(sub, max_layers, max_width, max_batch), evaluate,
                            _settings(max_examples, settings), seed)
        for k, o in found.items():
            if k not in minimal or simplicity(o.case) < simplicity(minimal[k].case):
                minimal[k] = o
    if edge_cases and not harness.exhausted:
        found = _run_search(_strategy(sub, max_layers, max_width, max_batch, edge=True), evaluate,
                            _settings(_edge_budget(max_examples, settings), settings), seed)
        for k, o in found.items():  # a kind the plain cases showed keeps its plain minimal case
            minimal.setdefault(k, o)
    if any(o.failed for o in evaluate.seen.values()) and not harness.exhausted:
        # small networks are enough to tell the catalogued mistakes apart, and stay fast for a slow subject
        for case in extra_cases(sub, diagnosis_cases, seed or 0, min(max_layers, 4), min(max_width, 4),
                                min(max_batch, 4)):
            evaluate(case)
    _simplify_minimal(sub, evaluate, minimal, harness)
    outcomes = list(evaluate.seen.values())
    for o in sorted(outcomes, key=lambda o: simplicity(o.case)):  # kinds Hypothesis did not shrink (hangs)
        if o.failed and o.status not in minimal:
            minimal[o.status] = o
    if "fail" in minimal:  # the simplest wrong-gradient case seen (the one the diagnosis' pattern shows)
        minimal["fail"] = min((o for o in outcomes if o.status == "fail"), key=lambda o: simplicity(o.case))
    skipped = sum(o.status == "skipped" for o in evaluate.seen.values())
    if harness.exhausted or skipped:
        notes.append(f"the subject hung {harness.hangs} times; the remaining cases were skipped ({skipped})")
    for status in ("inconclusive", "oracle-disagreement"):
        n = sum(o.status == status for o in outcomes)
        if n:
            notes.append(f"{n} case(s) were {status} (not counted against the subject)")
    n_edge = sum(is_edge(o) for o in outcomes)
    if n_edge:
        kinds = edge_kinds(sub.hidden, sub.output_activation)
        notes.append(f"{n_edge} of the {len(outcomes)} cases were edge cases ({kinds})")
        if any(o.failed for o in outcomes) and all(is_edge(o) for o in outcomes if o.failed):
            notes.append("every failing case is an edge case: on the well-conditioned networks the subject is right")
    warned = warning_summary([o.call for o in outcomes])
    if warned is not None:
        notes.append(warned.text())
    plain = [o for o in outcomes if not is_edge(o)]
    diag = _diagnose(plain if any(o.failed for o in plain) else outcomes, sub)
    if diag is not None and n_edge and any(o.failed for o in plain):
        diag.evidence.append(f"the counts above are of the {len(plain)} cases outside the edge stage; its {n_edge} "
                             "edge cases are not part of the diagnosis")
    if diag is not None and any(o.call.problem("reentrant") for o in outcomes if o.failed):
        diag.evidence.insert(0, "the subject answers differently when called twice on the same case: the wrong "
                                "values may come from state kept between calls")
    passed = not any(o.failed for o in outcomes)
    declared = None
    if not passed and declaration_search:
        searched = plain if any(o.failed for o in plain) else outcomes
        declared, diag = _flag_mistake(sub, searched, diag, judge or _default_judge, oracles, timeout)
        tried = {id(o) for o in searched}
        others = [o for o in outcomes if o.failed and id(o) not in tried and o.status in SEARCHED]
        if declared is not None and others:  # the edge stage's failures: one of each kind, the simplest
            firsts = {o.status: o for o in sorted(others, key=lambda o: simplicity(o.case), reverse=True)}
            with np.errstate(all="ignore"):
                left = still_failing(declared, [o.case for o in firsts.values()], judge or _default_judge, oracles,
                                     timeout=timeout)
            if left:
                kinds = ", ".join(KIND_TEXT[k].removeprefix("the subject ") for k in firsts)
                declared.detail = (f"{declared.detail}; " if declared.detail else "") + (
                    f"but the failing edge cases ({kinds}) still fail with it, a bug of its own")
    result = CheckResult(sub, passed, outcomes, minimal, diag, tuple(oracles), notes, warnings=warned,
                         declaration=declared)
    if not passed and fresh_process and "fail" in minimal and _passes_alone(result, timeout):
        state = ("the minimal case passes when its reproducer runs alone in a fresh process: the wrong values "
                 "depend on what ran before (state kept between calls: a global, a cache, a mutable default)")
        notes.append(state)
        if diag is not None:
            diag.evidence.insert(0, state)
    result.seconds = time.perf_counter() - t0
    return result


def _passes_alone(result: CheckResult, timeout: float) -> bool:
    """Whether the minimal wrong-gradient case's reproducer exits 0 in a fresh Python process."""
    import os
    import subprocess
    import sys
    import tempfile

    code = result.reproducer("fail")
    if code is None or "could not be imported by name" in code:
        return False
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in [os.getcwd(), *sys.path] if p))
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "reproducer.py"
        script.write_text(code, encoding="utf-8")
        try:
            run = subprocess.run([sys.executable, str(script)], capture_output=True, env=env, cwd=os.getcwd(),
                                 timeout=max(30.0, 4 * timeout))
        except (OSError, subprocess.TimeoutExpired):
            return False
    return run.returncode == 0


MAX_OBSERVATIONS = 200


def _flag_mistake(sub: Subject, outcomes: Sequence[Outcome], diag: Diagnosis | None, judge: Callable[..., Any],
                  oracles: Sequence[str], timeout: float) -> tuple[DeclarationMatch | None, Diagnosis | None]:
    """(a declaration one flag away under which the failing cases pass, the diagnosis to show with it).

    With such a declaration, an unrecognised diagnosis (closest guesses, generic advice) is dropped; a
    catalogued mistake that fits as well is kept, its fix naming both ways out."""
    with np.errstate(all="ignore"):  # the judging of re-declared answers warns on NaN and ∞: not the user's business
        declared = find_declaration(sub, outcomes, judge, oracles, simplicity, timeout=timeout)
    if declared is None:
        return None, diag
    if diag is None or not diag.recognised:
        return declared, None
    alt = declared.matches[0]
    declared.code_mistake = diag.title
    diag.fix = (f"if your function computes what you meant, declare {alt.flag} {alt.value}; if your flags are "
                f"right, fix the code: {diag.fix}")
    return declared, diag


def _returned_arrays(subject: Subject, o: Outcome) -> tuple[list[np.ndarray], list[np.ndarray]] | None:
    """An unusable answer's arrays as (dW list, db list) in the subject's layout, when it is two lists of arrays."""
    raw = o.call.raw
    if subject.layout == "flat" or not isinstance(raw, (tuple, list)) or len(raw) != 2:
        return None
    try:
        parts = [[np.asarray(v, dtype=np.float64) for v in part] for part in raw]
    except (TypeError, ValueError):
        return None
    return (parts[1], parts[0]) if subject.returns == "db,dW" else (parts[0], parts[1])


def _in_layout(subject: Subject, g: Gradients, case: Case) -> tuple[list[np.ndarray], list[np.ndarray]]:
    first, second = subject.to_layout(g, case)
    return (list(second), list(first)) if subject.returns == "db,dW" else (list(first), list(second))


def _observation(subject: Subject, o: Outcome) -> Observation:
    """An unusable answer (raised, wrong shapes) as an observation, with its arrays when it returned some."""
    ob = Observation(o.case, None, o.expected, wrong=True)
    returned = _returned_arrays(subject, o) if o.status == "shape" else None
    if returned is not None:
        ob.returned = returned
        ob.expected = _in_layout(subject, ob.reference, o.case)
        ob.batch_axes = () if subject.batch is None else ((1,) if subject.batch == "columns" else (0,))
    return ob


def _diagnose(outcomes: Sequence[Outcome], subject: Subject) -> Diagnosis | None:
    obs: list[Observation] = []
    for o in sorted(outcomes, key=lambda o: (not o.failed, simplicity(o.case))):
        if o.status in ("pass", "fail", "mutates", "reentrant") and o.call.gradients is not None \
                and o.expected is not None:
            obs.append(Observation(o.case, o.call.gradients, o.expected, wrong=o.status == "fail",
                                   bad=wrong_mask(o), returned_dtype=_returned_dtype(o.call.raw)))
        elif o.status in ("raises", "shape") and o.call.kind in INVALID:
            obs.append(_observation(subject, o))
        if len(obs) >= MAX_OBSERVATIONS:
            break
    if not any(ob.wrong for ob in obs):
        return None
    with np.errstate(all="ignore"):  # the catalogue's models meet the subject's NaN and ∞: no warnings of ours
        diag = diagnose(obs)
    if diag is not None and len(obs) >= MAX_OBSERVATIONS:
        diag.evidence.append(f"the counts above are of the {MAX_OBSERVATIONS} simplest of the {len(outcomes)} cases")
    return diag


def _returned_dtype(raw: Any) -> str | None:
    """The least precise floating dtype among the numpy arrays (or scalars) the subject returned, if any."""
    found: list[np.dtype] = []

    def walk(v: Any) -> None:
        if isinstance(v, (list, tuple)):
            for x in v:
                walk(x)
        elif isinstance(v, (np.ndarray, np.floating)) and np.issubdtype(v.dtype, np.floating):
            found.append(v.dtype)

    walk(raw)
    return str(min(found, key=lambda d: d.itemsize)) if found else None


def wrong_mask(o: Outcome) -> Gradients | None:
    """The entries the verdict judged wrong (bool arrays in manualbp's layout); None without a verdict."""
    if o.verdict is None:
        return None
    arch = o.case.arch
    masks = {(L, p): np.zeros((k, m) if p == "W" else (k,), dtype=bool)
             for L, (m, k) in enumerate(zip(arch.widths[:-1], arch.widths[1:]), start=1) for p in ("W", "b")}
    if o.status == "fail":
        for d in o.verdict.discrepancies:
            if d.status == "fail":
                masks[(d.layer, d.param)][d.entry] = True
    Ls = range(1, arch.depth)
    return Gradients(tuple(masks[(L, "W")] for L in Ls), tuple(masks[(L, "b")] for L in Ls), "wrong entries")


def assert_backprop(subject: Subject | Callable[..., Any] | str, **kwargs: Any) -> CheckResult:
    """:func:`check`, raising AssertionError with the verdict, minimal case, diagnosis and reproducer."""
    result = check(subject, **kwargs)
    if not result.passed:
        raise AssertionError(result.text())
    return result
