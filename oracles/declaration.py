"""Was it the flags?  Single changes of the declaration tried on the cases a subject failed.

A subject fails when its code is wrong, and also when its code is right but was declared wrongly (the
wrong --layout, --returns order, --batch, --reduction, activation, cost, a constant factor, the dtype).
:func:`find_declaration` takes the failing cases of a check and re-runs the subject on them under every
declaration that differs from the given one in exactly one flag (the case adapted where that flag changes
it: another activation or cost for the same numbers, one sample as a batch of one, the case in float32).
A declaration that makes the subject pass on every failing case tried, and on a few cases that passed,
is reported first: "your function matches --hidden tanh (not sigmoid) on all 12 cases tried".

It stays cheap: only failing cases (at most :data:`MAX_FAILING`, the simplest and the largest), each
alternative dropped at its first miss, the whole search within :data:`BUDGET_SECONDS`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np

from manualbp import Case
from manualbp.activations import ACTIVATIONS
from manualbp.costs import COSTS, get_cost

from .harness import Harness
from .subgradient import apply_kink_envelope
from .subject import LAYOUTS, Subject

ELEMENTWISE = tuple(name for name, act in ACTIVATIONS.items() if not act.output_only)

MAX_FAILING = 8
"""Failing cases an alternative is tried on (the simplest half and the largest half)."""

MAX_PASSING = 4
"""Cases that passed as declared, re-tried under a matching alternative (it must not break them)."""

BUDGET_SECONDS = 6.0
"""Time the search may take at most; alternatives not tried by then are not reported."""

CALL_SECONDS = 2.0
"""Time limit of one call under an alternative (at most the check's own); a hang ends the search."""

SEARCHED = ("fail", "raises", "none", "type", "shape", "nonfinite")
"""Failure kinds a wrong declaration can cause (not hangs, mutation or state kept between calls)."""

FACTOR_FLAGS = ("--scale", "--reduction", "--cost")
"""Flags whose alternatives change the gradients by a factor only: a code bug (a stray factor) fits as well."""

_SQUARED = ("half_sse", "half_mse", "mse")

PASSING = ("pass", "precision", "non-differentiable")


@dataclass(frozen=True)
class Alternative:
    """One declaration that differs from the given one in one flag."""

    flag: str  # "--hidden"
    value: str  # "tanh"
    declared: str  # the value given, "sigmoid"
    subject: Subject
    adapt: Callable[[Case], Case | None] = field(compare=False, default=lambda case: case)

    @property
    def factor_only(self) -> bool:
        """True when the change only multiplies the gradients (a code bug with that factor fits as well)."""
        if self.flag == "--cost":
            return self.value in _SQUARED and self.declared in _SQUARED
        return self.flag in FACTOR_FLAGS

    def describe(self) -> str:
        """"--hidden tanh (not sigmoid)"."""
        return f"{self.flag} {self.value} (not {self.declared})"


@dataclass
class DeclarationMatch:
    """Declarations under which the subject passes every case tried."""

    matches: list[Alternative]
    cases: int  # cases tried under the first match
    failing: int  # of which failed as declared
    detail: str = ""  # an observation that explains the first match (e.g. float32 arrays returned)
    code_mistake: str | None = None  # a catalogued code mistake that fits the cases as well, if any
    guessing: int = 0  # cases passed as declared AND under the match whose shapes tell the two apart

    def headline(self) -> str:
        """The plain sentence the report starts with."""
        first = self.matches[0]
        others = "".join(f", and also with {a.describe()}" for a in self.matches[1:3])
        advice = "check your flags"
        if self.guessing:
            first = self.matches[0]
            return (f"your function passes both as {first.flag} {first.declared} (as declared, on {self.guessing} "
                    f"cases whose shapes tell the two apart) and as {first.flag} {first.value} (on all {self.cases} "
                    f"cases tried, {self.failing} of which failed as declared): it seems to guess the orientation "
                    "from the shapes, and guesses wrong where they do not tell (a square array): take the "
                    "orientation as declared")
        if self.code_mistake:
            advice += " (if they are right, the code has the mistake diagnosed below)"
        elif all(a.factor_only for a in self.matches):
            advice += " (if they are right, the code has this factor)"
        detail = f"; {self.detail}" if self.detail else ""
        return (f"your function matches {first.describe()} on all {self.cases} cases tried, {self.failing} of which "
                f"failed as declared{others}{detail}: {advice}")

    def fix(self) -> str:
        """The flag to change (or, for a function that guesses the orientation, the code)."""
        if self.guessing:
            return ("do not infer the layout from the arrays' shapes (it cannot tell a square array's orientation): "
                    f"take it as declared ({self.matches[0].flag} {self.matches[0].declared})")
        return f"declare {self.matches[0].flag} {self.matches[0].value} if that is what your function computes"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"matches": [{"flag": a.flag, "value": a.value, "declared": a.declared} for a in self.matches],
                "cases": self.cases, "failing": self.failing, "detail": self.detail,
                "code_mistake": self.code_mistake, "guessing": self.guessing, "headline": self.headline()}


# --------------------------------------------------------------------------------------------------------------
# Case adapters
# --------------------------------------------------------------------------------------------------------------


def _with_arch(sub: Subject) -> Callable[[Case], Case | None]:
    """Same numbers, the architecture ``sub`` declares (another activation or cost)."""

    def adapt(case: Case) -> Case | None:
        arch = sub.architecture(case.arch.widths)
        y = np.asarray(case.y, np.float64)
        if arch.cost == "bce":
            y = np.clip(y, 0.0, 1.0)
        elif arch.cost == "softmax_ce":  # a probability vector per sample: |y| normalised, e_1 where it is 0
            y = np.abs(y.reshape(y.shape[0], -1))
            y[0, y.sum(axis=0) == 0] = 1.0
            y = (y / y.sum(axis=0)).reshape(case.y.shape)
        return Case.from_arch(arch, case.weights, case.biases, case.x, y.astype(case.y.dtype), case.label)

    return adapt


def _same_case(alt: Subject) -> Callable[[Case], Case | None]:
    """The case as it is (the flag changes how the subject is called, not the case)."""
    return lambda case: case


def _to_batch(case: Case) -> Case | None:
    """A single-sample case as a batch of one; a batch as it is."""
    if case.batched:
        return case
    return Case.from_arch(case.arch, case.weights, case.biases, case.x[:, None], case.y[:, None], case.label)


def _to_single(case: Case) -> Case | None:
    """A batch of one as that sample; a single sample as it is; None for a larger batch."""
    if not case.batched:
        return case
    if case.x.shape[1] != 1:
        return None
    return Case.from_arch(case.arch, case.weights, case.biases, case.x[:, 0], case.y[:, 0], case.label)


# --------------------------------------------------------------------------------------------------------------
# The alternatives
# --------------------------------------------------------------------------------------------------------------


def alternatives(sub: Subject, scale: float | None = None) -> list[Alternative]:
    """Every declaration one flag away from ``sub`` that can be tried (``scale``: a factor seen in the data)."""
    out: list[Alternative] = []

    def add(flag: str, value: str, declared: str, adapt: Callable[[Subject], Callable[[Case], Case | None]],
            **change: Any) -> None:
        try:
            alt = replace(sub, **change)
        except (ValueError, TypeError):  # not a valid declaration (e.g. bce with a tanh output)
            return
        out.append(Alternative(flag, value, declared, alt, adapt(alt)))

    for layout in LAYOUTS:
        if layout != sub.layout:
            add("--layout", layout, sub.layout, _same_case, layout=layout)
    if sub.layout != "flat":
        other = "db,dW" if sub.returns == "dW,db" else "dW,db"
        add("--returns", other, sub.returns, _same_case, returns=other)
    for batch in (None, "columns", "rows"):
        if batch != sub.batch:
            add("--batch", batch or "none", sub.batch or "none",
                lambda alt: _to_single if alt.batch is None else _to_batch, batch=batch)
    if sub.batch is not None:
        other = "sum" if sub.reduction == "mean" else "mean"
        add("--reduction", other, sub.reduction, _same_case, reduction=other)
    dtype = "float32" if sub.dtype == "float64" else "float64"
    add("--dtype", dtype, sub.dtype, lambda alt: lambda case: case.astype(alt.dtype), dtype=dtype)
    for act in ELEMENTWISE:
        if act != sub.hidden:
            add("--hidden", act, sub.hidden, _with_arch, hidden=act, output=sub.output_activation)
    for act in (*ELEMENTWISE, "softmax"):
        if act != sub.output_activation:
            add("--output", act, sub.output_activation, _with_arch, output=act)
    for cost in COSTS:
        if cost != sub.cost and get_cost(cost).requires_output in (None, sub.output_activation):
            add("--cost", cost, sub.cost, _with_arch, cost=cost)
    if scale is not None:
        add("--scale", f"{sub.scale * scale:g}", f"{sub.scale:g}", _same_case, scale=sub.scale * scale)
    return out


def nice_factor(subject: np.ndarray, expected: np.ndarray) -> float | None:
    """The constant c with subject ≈ c·expected when it is a simple positive fraction other than 1, else None."""
    denom = float(expected @ expected)
    if not np.isfinite(denom) or denom == 0 or not np.all(np.isfinite(subject)):
        return None
    c = float(subject @ expected) / denom
    if not np.isfinite(c) or c <= 0:
        return None
    f = Fraction(c).limit_denominator(64)
    if f == 1 or f.numerator > 64 or abs(float(f) - c) > 1e-6 * c:
        return None
    return float(f)


# --------------------------------------------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------------------------------------------


def _chosen(outcomes: Sequence[Any], simplicity: Callable[[Case], tuple]) -> tuple[list[Any], list[Any]]:
    """(failing outcomes to try: the simplest and the largest; passing ones to re-check: the largest)."""
    failing = sorted((o for o in outcomes if o.status in SEARCHED), key=lambda o: simplicity(o.case))
    half = MAX_FAILING // 2
    picked = failing if len(failing) <= MAX_FAILING else failing[:half] + failing[-(MAX_FAILING - half):]
    passing = sorted((o for o in outcomes if o.status == "pass"), key=lambda o: simplicity(o.case))
    return picked, passing[-MAX_PASSING:]


def _factor(outcomes: Sequence[Any]) -> float | None:
    """A constant factor between the subject's and the oracles' gradients, shared by the failing cases."""
    pairs = [(o.call.gradients.flat(), o.expected.flat()) for o in outcomes
             if o.status == "fail" and o.call.gradients is not None and o.expected is not None]
    if not pairs:
        return None
    s = np.concatenate([p[0] for p in pairs])
    e = np.concatenate([p[1] for p in pairs])
    return nice_factor(s, e)


def _arrays(value: Any) -> list[np.ndarray]:
    """The arrays in a subject's return value (one vector, or lists of arrays)."""
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, (list, tuple)):
        return [a for part in value for a in _arrays(part)]
    return []


def _float32_answer(outcomes: Sequence[Any]) -> bool:
    """Whether the subject returned float32 arrays for a float64 case."""
    return any(o.case.dtype == "float64" and any(a.dtype == np.float32 for a in _arrays(o.call.raw))
               for o in outcomes)


def _float32_valued(outcomes: Sequence[Any]) -> bool:
    """Whether every array the subject returned for a failing float64 case holds float32 values (float32 arrays,
    or float64 ones whose every entry is a float32 number): a computation in float32, not merely a small error."""
    arrays = [a for o in outcomes if o.failed and o.case.dtype == "float64" for a in _arrays(o.call.raw)]
    with np.errstate(all="ignore"):
        return bool(arrays) and all(a.dtype == np.float32 or (np.issubdtype(a.dtype, np.floating) and np.array_equal(
            a.astype(np.float32).astype(a.dtype), a, equal_nan=True)) for a in arrays)


def find_declaration(sub: Subject, outcomes: Sequence[Any], judge: Callable[..., Any], oracles: Sequence[str],
                     simplicity: Callable[[Case], tuple], *, timeout: float = 5.0,
                     budget: float = BUDGET_SECONDS) -> DeclarationMatch | None:
    """The one-flag declarations under which the subject passes every failing case tried (None if none does).

    ``outcomes``: the check's outcomes (status, case, call, expected); ``judge(case, grads, oracles=, rerun=)``
    judges an answer; ``simplicity`` orders cases.  Nothing is searched when the subject hung.
    """
    if any(o.status in ("hang", "skipped") for o in outcomes):
        return None
    failing, passing = _chosen(outcomes, simplicity)
    if not failing:
        return None
    t0 = time.perf_counter()
    matches: list[tuple[Alternative, int]] = []
    for alt in alternatives(sub, _factor(outcomes)):
        if time.perf_counter() - t0 > budget:
            break
        harness = Harness(alt.subject, timeout=min(timeout, CALL_SECONDS), reentrancy=False, max_hangs=1)
        tried = _passes_all(alt, harness, [o.case for o in failing], [o.case for o in passing], judge, oracles)
        if harness.hangs:
            break
        if tried and not (alt.flag == "--dtype" and alt.value == "float32" and not _float32_valued(failing)):
            matches.append((alt, tried))  # float32's looser tolerance must not excuse a float64 answer's error
    if not matches:
        return None
    detail = ""
    if matches[0][0].flag == "--dtype" and _float32_answer(outcomes):
        detail = "it returns float32 arrays for float64 inputs"
    told = _told_apart(matches[0][0], [o.case for o in passing])
    return DeclarationMatch([a for a, _ in matches], matches[0][1], len(failing), detail,
                            guessing=told if told >= GUESSING_CASES else 0)


GUESSING_CASES = 3
"""Passing cases told apart by their shapes that it takes to say a function guesses the orientation (a dead relu
network's zero gradient passes in either orientation)."""


def _told_apart(alt: Alternative, passing: Sequence[Case]) -> int:
    """For an orientation flag (--batch columns/rows, --layout standard/xw), how many cases the subject passed as
    declared whose arrays are not square, so that the two orientations give them different shapes: a function
    right under both there reads the orientation off the shapes.  0 for any other flag."""
    if alt.flag == "--batch" and {alt.value, alt.declared} == {"columns", "rows"}:
        return sum(c.x.ndim == 2 and c.x.shape[0] != c.x.shape[1] for c in passing)
    if alt.flag == "--layout" and {alt.value, alt.declared} == {"standard", "xw"}:
        return sum(any(W.shape[0] != W.shape[1] for W in c.weights) for c in passing)
    return 0


def still_failing(match: DeclarationMatch, cases: Sequence[Case], judge: Callable[..., Any], oracles: Sequence[str],
                  *, timeout: float = 5.0) -> int:
    """How many of ``cases`` (failures the search did not try, e.g. the edge stage's NaN) the subject still fails
    under the first matching declaration."""
    alt = match.matches[0]
    harness = Harness(alt.subject, timeout=min(timeout, CALL_SECONDS), reentrancy=False, max_hangs=1)
    return sum(not _passes_all(alt, harness, [case], [], judge, oracles) for case in cases)


def _passes_all(alt: Alternative, harness: Harness, failing: Sequence[Case], passing: Sequence[Case],
                judge: Callable[..., Any], oracles: Sequence[str]) -> int:
    """How many cases the subject passes under ``alt`` when it passes every failing case (each must adapt to
    ``alt``) and every passing one that adapts; else 0."""
    seen: set[tuple] = set()
    for must, case in [(True, c) for c in failing] + [(False, c) for c in passing]:
        try:
            adapted = alt.adapt(case)
        except (ValueError, TypeError):
            adapted = None
        if adapted is None:
            if must:
                return 0
            continue
        key = (adapted.arch, *(a.tobytes() for a in (adapted.x, adapted.y, *adapted.weights, *adapted.biases)))
        if key in seen:
            continue
        seen.add(key)
        call = harness.call(adapted)
        if call.gradients is None or call.problems:
            return 0
        rerun = harness.gradients if adapted.dtype == "float32" else None
        verdict = judge(adapted, call.gradients, oracles=tuple(oracles), rerun=rerun)
        apply_kink_envelope(adapted, call.gradients, verdict)
        if verdict.status not in PASSING:
            return 0
    return len(seen)
