"""Calling a subject safely: every way a backprop can misbehave becomes a :class:`Call` with problems.

The subject runs in a worker thread with a per-case time limit, on fresh copies of the case's arrays.
What is detected, per call (``Problem.kind``):

``raises``     the subject raised (the traceback is kept)
``hang``       it did not return within the time limit (it is asked to stop; the run goes on)
``none``       it returned None
``type``       it returned something that is not gradients in its layout
``shape``      a gradient has the wrong shape (or the wrong number of layers)
``nonfinite``  NaN or ±inf in the gradients
``mutates``    it changed its input arrays (weights, biases, x or y)
``reentrant``  a second identical call answered differently (state kept between calls)
``skipped``    not run: the subject hung too often (``max_hangs``) or too many hung calls are still running

Warnings the subject emits (numpy's RuntimeWarnings: overflow, division by zero, ...) do not reach stderr: they
are kept per call (:attr:`Call.warnings`) and summarised by :func:`warning_summary`.
"""

from __future__ import annotations

import ctypes
import threading
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from manualbp import Case, Gradients

from .subject import Subject, SubjectOutputError

MISBEHAVIOURS = ("raises", "hang", "none", "type", "shape", "nonfinite", "mutates", "reentrant", "skipped")
"""Problem kinds, most serious first."""

INVALID = frozenset({"raises", "hang", "none", "type", "shape", "skipped"})
"""Kinds after which there are no gradients to compare."""


@dataclass
class Problem:
    """One way a call misbehaved."""

    kind: str
    message: str
    traceback: str | None = None


@dataclass
class Call:
    """The outcome of calling the subject on one case."""

    case: Case
    gradients: Gradients | None  # in manualbp's layout and convention; None when there are none to compare
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    raw: Any = None  # what the subject returned (first call)
    warnings: list[str] = field(default_factory=list)  # warnings the subject emitted (first call), one line each

    @property
    def ok(self) -> bool:
        """True when the call behaved (the gradients may still be wrong)."""
        return not self.problems

    @property
    def kind(self) -> str:
        """The most serious problem kind, or "ok"."""
        kinds = [p.kind for p in self.problems]
        return next((k for k in MISBEHAVIOURS if k in kinds), "ok")

    def problem(self, kind: str) -> Problem | None:
        """The problem of this kind, if any."""
        return next((p for p in self.problems if p.kind == kind), None)


class _Timeout(Exception):
    """Injected into a hung subject's thread to stop it."""


def stop_thread(thread: threading.Thread) -> None:
    """Ask a running thread to stop by raising _Timeout in it (works between Python bytecodes)."""
    if thread.ident is None:
        return
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(_Timeout))


def _describe_warning(w: warnings.WarningMessage) -> str:
    return f"{w.category.__name__}: {w.message} ({Path(w.filename).name}:{w.lineno})"


def run_with_timeout(func: Any, args: tuple, timeout: float | None,
                     stuck: list[threading.Thread] | None = None,
                     caught: list[str] | None = None) -> tuple[str, Any, float]:
    """Run ``func(*args)`` in a daemon thread: ("ok", value, s) | ("raises", (exc, tb), s) | ("hang", None, s).

    A hung call is asked to stop; if its thread is still alive (blocked in C code) it is appended to ``stuck``.
    With ``caught``, the warnings emitted during the call are appended to it (one line each) instead of shown.
    """
    if caught is None:
        return _run(func, args, timeout, stuck)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        result = _run(func, args, timeout, stuck)
    caught += [_describe_warning(w) for w in record]
    return result


def _run(func: Any, args: tuple, timeout: float | None,
         stuck: list[threading.Thread] | None) -> tuple[str, Any, float]:
    box: dict[str, Any] = {}

    def target() -> None:
        t0 = time.perf_counter()
        try:
            box["value"] = func(*args)
        except _Timeout:
            box["stopped"] = True
        except BaseException as exc:  # noqa: BLE001 - the subject may raise anything
            box["error"] = (exc, traceback.format_exc())
        box["seconds"] = time.perf_counter() - t0

    thread = threading.Thread(target=target, name="manualbp-subject", daemon=True)
    t0 = time.perf_counter()
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        stop_thread(thread)
        thread.join(0.2)
        if thread.is_alive() and stuck is not None:
            stuck.append(thread)
        return "hang", None, time.perf_counter() - t0
    seconds = box.get("seconds", time.perf_counter() - t0)
    if "error" in box:
        return "raises", box["error"], seconds
    return "ok", box.get("value"), seconds


def _snapshot(args: Any) -> Any:
    if isinstance(args, np.ndarray):
        return args.copy()
    if isinstance(args, (list, tuple)):
        return type(args)(_snapshot(a) for a in args)
    return args


def _changes(before: Any, after: Any, name: str) -> list[str]:
    """Descriptions of how ``after`` differs from its snapshot ``before``."""
    if isinstance(before, np.ndarray):
        if not isinstance(after, np.ndarray) or after.shape != before.shape:
            return [f"{name} was replaced or resized"]
        diff = ~((after == before) | (np.isnan(after) & np.isnan(before)))
        if diff.any():
            idx = tuple(int(i) for i in np.argwhere(diff)[0])
            return [f"{name}{list(idx)} changed from {before[idx].item()!r} to {after[idx].item()!r} "
                    f"({int(diff.sum())} entr{'y' if diff.sum() == 1 else 'ies'} changed)"]
        return []
    if isinstance(before, (list, tuple)):
        if not isinstance(after, (list, tuple)) or len(after) != len(before):
            return [f"{name} was changed from a {type(before).__name__} of length {len(before)}"]
        out = []
        for i, (b, a) in enumerate(zip(before, after)):
            out += _changes(b, a, f"{name}[{i}]")
        return out
    return []


_ARG_NAMES = {"flat": ("theta", "sizes", "x", "y")}


def _same(g1: Gradients, g2: Gradients) -> tuple[bool, str]:
    """Whether two answers agree to the last few bits; otherwise a description of the difference."""
    worst, where, ratio = 0.0, "", None
    for (L, p, a1), (_, _, a2) in zip(g1.items(), g2.items()):
        a1 = np.asarray(a1, dtype=float)
        a2 = np.asarray(a2, dtype=float)
        scale = max(float(np.max(np.abs(a1), initial=0.0)), float(np.max(np.abs(a2), initial=0.0)), 1e-300)
        with np.errstate(invalid="ignore"):
            d = np.abs(a1 - a2) / scale
        d = np.where(np.isnan(a1) & np.isnan(a2), 0.0, np.nan_to_num(d, nan=np.inf))
        if d.size and d.max() > worst:
            worst = float(d.max())
            idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(d)), d.shape))
            where = f"{p}^({L}){list(idx)}: first call {float(a1[idx])!r}, second call {float(a2[idx])!r}"
            with np.errstate(divide="ignore", invalid="ignore"):
                r = a2[idx] / a1[idx]
            ratio = float(r) if np.isfinite(r) else None
    if worst <= 1e-12:
        return True, ""
    extra = f" (second/first = {ratio:.6g})" if ratio is not None else ""
    return False, where + extra


class Harness:
    """Calls one subject on cases, detecting misbehaviour; keeps going whatever the subject does."""

    def __init__(self, subject: Subject, *, timeout: float | None = 5.0, reentrancy: bool = True,
                 max_hangs: int = 8, max_stuck: int = 3) -> None:
        self.subject = subject
        self.timeout = timeout
        self.reentrancy = reentrancy
        self.max_hangs = max_hangs
        self.max_stuck = max_stuck
        self.hangs = 0
        self.calls = 0
        self._stuck: list[threading.Thread] = []

    @property
    def stuck(self) -> int:
        """Hung calls whose threads could not be stopped and are still running."""
        self._stuck = [t for t in self._stuck if t.is_alive()]
        return len(self._stuck)

    @property
    def exhausted(self) -> bool:
        """True once the subject hung ``max_hangs`` times, or ``max_stuck`` hung calls are still running;
        later calls are skipped (each hang costs the time limit)."""
        return self.hangs >= self.max_hangs or self.stuck >= self.max_stuck

    def _invoke(self, case: Case, caught: list[str] | None = None) -> tuple[str, Any, float, list[str]]:
        args = self.subject.inputs(case)
        before = _snapshot(args)
        status, value, seconds = run_with_timeout(self.subject.func, args, self.timeout, self._stuck,
                                                  [] if caught is None else caught)
        self.calls += 1
        names = _ARG_NAMES.get(self.subject.layout, ("weights", "biases", "x", "y"))
        changed: list[str] = []
        if status != "hang":
            for name, b, a in zip(names, before, args):
                changed += _changes(b, a, name)
        return status, value, seconds, changed

    def call(self, case: Case) -> Call:
        """Run the subject on ``case`` and report what it returned and how it behaved."""
        if self.exhausted:
            return Call(case, None, [Problem("skipped", f"not run: the subject already hung {self.hangs} times "
                                                        f"({self.stuck} calls still running)")])
        caught: list[str] = []
        status, value, seconds, changed = self._invoke(case, caught)
        out = Call(case, None, seconds=seconds, raw=value, warnings=caught)
        if status == "hang":
            self.hangs += 1
            out.problems.append(Problem("hang", f"the subject did not return within {self.timeout:g} s"))
            return out
        if status == "raises":
            exc, tb = value
            out.raw = None
            out.problems.append(Problem("raises", f"the subject raised {type(exc).__name__}: {exc}", tb))
        if changed:
            out.problems.append(Problem("mutates", "the subject changed its inputs: " + "; ".join(changed[:3])
                                        + (f"; and {len(changed) - 3} more" if len(changed) > 3 else "")))
        if status == "raises":
            return out
        try:
            grads = self.subject.decode(value, case)
        except SubjectOutputError as exc:
            out.problems.append(Problem(exc.kind, exc.message))
            return out
        out.gradients = grads
        bad = [(L, p, a) for L, p, a in grads.items() if not np.all(np.isfinite(a))]
        if bad:
            L, p, a = bad[0]
            idx = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
            out.problems.append(Problem("nonfinite", f"∂C/∂{p}^({L}){list(idx)} is {float(a[idx])!r}"
                                        + (f" (and {len(bad) - 1} more arrays)" if len(bad) > 1 else "")))
        if self.reentrancy:
            self._check_reentrant(case, out)
        return out

    def _check_reentrant(self, case: Case, out: Call) -> None:
        status, value, _, _ = self._invoke(case)
        if status == "hang":
            self.hangs += 1
            out.problems.append(Problem("reentrant", f"a second identical call did not return within "
                                                     f"{self.timeout:g} s (the first did)"))
            return
        if status == "raises":
            exc = value[0]
            out.problems.append(Problem("reentrant", f"a second identical call raised {type(exc).__name__}: "
                                                     f"{exc} (the first returned)", value[1]))
            return
        try:
            again = self.subject.decode(value, case)
        except SubjectOutputError as exc:
            out.problems.append(Problem("reentrant", f"a second identical call returned something else: {exc}"))
            return
        same, how = _same(out.gradients, again)
        if not same:
            out.problems.append(Problem("reentrant", "a second identical call answered differently (state kept "
                                                     f"between calls?): {how}"))

    def gradients(self, case: Case) -> Gradients:
        """The subject's gradients on ``case`` or RuntimeError (used to rerun a float32 case in float64)."""
        call = self.call(case)
        if call.gradients is None:
            raise RuntimeError(call.problems[0].message if call.problems else "no gradients")
        return call.gradients


@dataclass(frozen=True)
class WarningSummary:
    """The warnings a subject emitted over a check: how many, on how many calls, the first and its case."""

    count: int
    calls: int
    first: str
    case: Case

    def text(self) -> str:
        """One line for the report."""
        widths = list(self.case.arch.widths)
        batch = f", batch {self.case.x.shape[1]}" if self.case.batched else ""
        return (f"the subject emitted {self.count} warning{'s' * (self.count != 1)} on {self.calls} "
                f"case{'s' * (self.calls != 1)} (not shown on stderr); the first: {self.first}, on the case of "
                f"widths {widths}{batch} ({self.case.label or 'generated'})")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"count": self.count, "cases": self.calls, "first": self.first,
                "widths": list(self.case.arch.widths), "case": self.case.label}


def warning_summary(calls: list[Call]) -> WarningSummary | None:
    """A summary of the warnings emitted on ``calls`` (the first one from the simplest case), or None."""
    noisy = [c for c in calls if c.warnings]
    if not noisy:
        return None
    first = min(noisy, key=lambda c: (c.case.arch.depth, c.case.arch.n_params, c.case.x.size))
    return WarningSummary(sum(len(c.warnings) for c in noisy), len(noisy), first.warnings[0], first.case)
