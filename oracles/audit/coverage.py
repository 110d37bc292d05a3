"""What the audit could and could not evaluate: equations read, evaluated, not evaluable (with why).

An equation counts as evaluated when, in at least one context, its reference
member and one other member both gave a verdict (a value, or a shape or index
error, which is a verdict too).  Unknown symbols, unsupported notation and
unreadable members block a verdict: such an equation is *not evaluable*, and
the report says so with the reason instead of pretending it was checked.

The coverage bar: an audit vouches for a document only when it evaluated at
least half of the equations it could have checked (every equation read except
the definitions and given values of the worked example, and relations or
number-only lines that state nothing to check). Below the bar the report has
a ``coverage`` error, as it has when nothing at all could be evaluated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .model import has_decimals, matrix_literal

BLOCKING = ("unbound", "unsupported", "missing")  # EvalError kinds that leave an equation without a verdict

EVALUATED, DATA, NOT_EVALUABLE = "evaluated", "data", "not evaluable"
COVERAGE_BAR = 0.5  # the least share of the checkable equations an audit must evaluate to vouch for a document


@dataclass
class EquationStatus:
    """One equation's coverage: its line, state and (when not evaluated) the reason."""

    line: int
    state: str  # EVALUATED, DATA (a value of the worked example or the cost's definition) or NOT_EVALUABLE
    reason: str = ""
    numbers: bool = False  # its stated numbers were compared with manualbp
    minor: bool = False  # not evaluable by design (≠, numbers only): reported as info, not as a warning
    silent: bool = False  # unreadable: the malformed finding already says why, no second finding
    checkable: bool = True  # False for what states nothing to check (≠, numbers only): outside the coverage bar


@dataclass
class Coverage:
    """Every equation's status, plus whether the worked example's numbers were read."""

    statuses: dict[int, EquationStatus] = field(default_factory=dict)  # by equation index
    worked_example: bool = False
    unread_numbers: int | None = None  # line of numbers that look like a worked example but were not read
    unread_reason: str = ""

    def set(self, index: int, line: int, state: str, reason: str = "", *, numbers: bool = False,
            minor: bool = False, silent: bool = False, checkable: bool = True) -> None:
        """Record (or upgrade) an equation's status; an evaluated verdict is never downgraded."""
        old = self.statuses.get(index)
        if old is not None and old.state == EVALUATED and state != EVALUATED:
            return
        self.statuses[index] = EquationStatus(line, state, reason, numbers or bool(old and old.numbers), minor,
                                              silent, checkable)

    def withdraw(self, index: int, line: int, reason: str) -> None:
        """Mark an equation not evaluable after all: its verdict rested on a reading of the notation that the
        document does not use."""
        self.statuses[index] = EquationStatus(line, NOT_EVALUABLE, reason, False, False, False, True)

    def count(self, state: str) -> int:
        """How many equations are in ``state``."""
        return sum(s.state == state for s in self.statuses.values())

    @property
    def read(self) -> int:
        """Equations read from the document."""
        return len(self.statuses)

    @property
    def evaluated(self) -> int:
        """Equations that got a verdict."""
        return self.count(EVALUATED)

    @property
    def checkable(self) -> int:
        """Equations the audit could have checked: all read but definitions, given values and what states
        nothing to check."""
        return sum(s.state != DATA and s.checkable for s in self.statuses.values())

    @property
    def enough(self) -> bool:
        """True when the audit evaluated something and at least :data:`COVERAGE_BAR` of the checkable equations."""
        return self.evaluated > 0 and self.evaluated >= COVERAGE_BAR * self.checkable

    @property
    def numbers_checked(self) -> int:
        """Equations whose stated numbers were compared with manualbp."""
        return sum(s.numbers for s in self.statuses.values())

    def summary(self) -> str:
        """'12 equations read: 9 evaluated (of 10 checkable), 2 definitions or given values, 1 not evaluable; …'."""
        parts = [f"{self.evaluated} evaluated (of {self.checkable} checkable)"]
        if self.count(DATA):
            parts.append(f"{self.count(DATA)} definitions or given values")
        parts.append(f"{self.count(NOT_EVALUABLE)} not evaluable")
        text = f"{self.read} equations read: " + ", ".join(parts)
        if self.worked_example:
            text += f"; worked example read ({self.numbers_checked} equations' numbers checked)"
        elif self.unread_numbers is not None:
            text += f"; worked example NOT read (numbers from line {self.unread_numbers})"
        else:
            text += "; no worked example"
        return text

    def to_dict(self) -> dict:
        """JSON-ready counts and the not-evaluable equations with their reasons."""
        return {
            "read": self.read, "evaluated": self.evaluated, "definitions": self.count(DATA),
            "checkable": self.checkable, "bar": COVERAGE_BAR, "enough": self.enough,
            "not_evaluable": self.count(NOT_EVALUABLE), "numbers_checked": self.numbers_checked,
            "worked_example_read": self.worked_example, "unread_numbers_line": self.unread_numbers,
            "not_evaluable_equations": [{"line": s.line, "reason": s.reason}
                                        for _, s in sorted(self.statuses.items()) if s.state == NOT_EVALUABLE],
        }


def verdict_reason(outcome, members_count: int) -> tuple[str, str, object] | None:
    """None when the judged chain got a verdict; otherwise why not: (the first blocking error, its kind, the
    node it is about, which may sit in another equation, e.g. the document's definition of C)."""
    ref = outcome.ref
    first: tuple[str, str, object] | None = None
    for i, fl in outcome.failures.items():
        for f in fl:
            if f.error is not None and f.error.kind in BLOCKING:
                first = first or (str(f.error), f.error.kind, f.error.node)
            elif i == ref:
                return None  # the reference side itself fails with a verdict (e.g. a shape error)
    if outcome.checked == 0:
        return first or ("no layer or index value of the network makes this equation apply", "range", None)
    for i in range(members_count):
        if i == ref:
            continue
        blocked = sum(1 for f in outcome.failures.get(i, []) if f.error is not None and f.error.kind in BLOCKING)
        if blocked < outcome.checked:
            return None
    return first or ("no side could be compared", "unsupported", None)


def unread_worked_example(equations: list, model, line_of: Callable) -> tuple[int | None, str]:
    """(line, why) of the first stated numbers when no worked example was read; (None, "") when there are none.

    Numbers that look like a worked example: a member that is a matrix or vector of numbers, or at least
    three equations stating a number written with decimals.
    """
    from .numbers import is_literal

    stated: list[tuple[int, bool]] = []  # (line, is a vector or matrix) of each equation stating numbers
    for eq in equations:
        for mem, blk in zip(eq.members, eq.member_blocks or [eq.block] * len(eq.members)):
            if is_literal(mem) and (matrix_literal(mem) is not None or has_decimals(mem)):
                stated.append((line_of(blk, mem.span[0]), matrix_literal(mem) is not None))
                break
    # one or two lone numbers (η = 0.1, σ(0) = 0.5) are not a worked example; a vector or three numbers may be
    if not stated or (len(stated) < 3 and not any(vec for _, vec in stated)):
        return None, ""
    first = stated[0][0]
    b = model.bindings
    if model.entry_gaps:
        why = ("it is given entry by entry, but not every entry is: " + "; ".join(model.entry_gaps)
               + (" are" if len(model.entry_gaps) > 1 or "," in model.entry_gaps[0] else " is") + " missing")
    elif not any(kind == "w" for kind, _ in b):
        why = "no weight matrix was recognised: write W^{(l)} = [numbers] (or w^{(l)}) for each layer"
    elif ("x", 0) not in b:
        why = "the input x = [numbers] is not given"
    elif ("y", 0) not in b:
        why = "the target y = [numbers] is not given"
    elif model.conv.augmented is not None and model.conv.augmented.position is None:
        why = "its weight matrices carry the biases in a column the document does not place (first or last)"
    else:
        missing = [k for kind, k in b if kind == "w" and ("b", k) not in b]
        why = (f"b^{{({missing[0]})}} is not given" if missing else
               "its W, b, x and y do not fit together (see the shape finding)")
    return first, why
