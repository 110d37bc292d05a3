"""The main job (``manualbp report``): the worked example, a sweep, the derivation audit, subject checks.

:func:`build_report` runs each part and merges what it reports into one
:class:`~oracles.findings.Report`.  Everything in ``sections`` is a function of
the inputs and the seed; durations and the machine's library versions go in
``timings``, so the same seed gives the same content.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .base import ORACLE_NAMES, MissingDependency
from .findings import Check, Finding, Report

DEFAULT_SWEEP_CASES = 10000
DEFAULT_DERIVATION_NAME = "seed-derivation.md"
TITLE = "manualbp report"


def default_derivation() -> Path:
    """The seed derivation shipped with the package (oracles/data/seed-derivation.md)."""
    return Path(str(resources.files("oracles").joinpath("data", DEFAULT_DERIVATION_NAME)))


@contextmanager
def _timed(timings: dict[str, Any], key: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[key] = round(time.perf_counter() - start, 3)


def _console(progress: bool):
    from rich.console import Console

    return Console(stderr=True, quiet=not progress)


def build_report(*, derivation: str | Path | None = None, subject: Sequence[str] | str | None = None,
                 sweep_cases: int = DEFAULT_SWEEP_CASES, seed: int = 0, progress: bool = True,
                 oracles: Sequence[str] = ORACLE_NAMES, declared: dict[str, Any] | None = None) -> Report:
    """Run the main job and return its report.

    ``derivation``: the Markdown derivation to audit (default: the shipped seed);
    ``subject``: zero or more subjects (``path/file.py:function`` or
    ``package.module:function``) to check; ``sweep_cases``: number of random
    cases in the sweep (0 skips it); ``seed``: the seed of the sweep and checks; ``declared``: what
    the subjects compute (``hidden``, ``output``, ``cost``, ``scale``, ``layout``; see
    :func:`oracles.checker.check`).
    """
    if isinstance(sweep_cases, bool) or not isinstance(sweep_cases, int) or sweep_cases < 0:
        raise ValueError(f"sweep_cases must be an integer >= 0, got {sweep_cases!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    subjects = [subject] if isinstance(subject, str) else list(subject or [])
    path, name = _derivation(derivation)
    console = _console(progress)
    report = Report(title=TITLE)
    report.sections["run"] = {
        "command": _command(derivation, subjects, sweep_cases, seed, declared or {}),
        "seed": seed, "sweep_cases": sweep_cases, "derivation": name, "subjects": subjects,
        "oracles": list(oracles),
    }
    timings: dict[str, Any] = {}
    start = time.perf_counter()

    console.rule("[bold]1. worked example")
    with _timed(timings, "example"):
        report.merge(example_report(oracles=oracles, progress=progress))
    if sweep_cases:
        console.rule(f"[bold]2. sweep of {sweep_cases} random cases")
        from .sweep import run_sweep

        with _timed(timings, "sweep"):
            part = run_sweep(sweep_cases, seed=seed, oracles=tuple(oracles), progress=progress)
        _merge_part(report, part, timings, "sweep")
    console.rule(f"[bold]3. audit of {name}")
    with _timed(timings, "audit"), console.status(f"auditing {name} …"):
        part = audit_report(path, name)
    _merge_part(report, part, timings, "audit")
    for spec in subjects:
        console.rule(f"[bold]4. check of {spec}")
        with _timed(timings, f"check {spec}"), console.status(f"checking {spec} …"):
            part = subject_report(spec, seed=seed, **(declared or {}))
        _merge_part(report, part, timings, None)
    timings["total"] = round(time.perf_counter() - start, 3)
    timings["environment"] = _environment()
    report.timings = timings
    return report


def _command(derivation, subjects: list[str], sweep_cases: int, seed: int, declared: dict[str, Any]) -> str:
    parts = ["manualbp report"]
    if derivation is not None:
        parts.append(f"--derivation {derivation}")
    parts += [f"--subject {s}" for s in subjects]
    parts += [f"--{k} {v}" for k, v in declared.items() if v is not None and subjects]
    if sweep_cases != DEFAULT_SWEEP_CASES:
        parts.append(f"--cases {sweep_cases}")
    if seed != 0:
        parts.append(f"--seed {seed}")
    return " ".join(parts)


def _derivation(derivation: str | Path | None) -> tuple[Path, str]:
    """The file to audit and the name findings show (no absolute paths: reports stay machine-independent)."""
    if derivation is None:
        return default_derivation(), DEFAULT_DERIVATION_NAME
    path = Path(derivation)
    if not path.is_file():
        raise FileNotFoundError(f"derivation {str(derivation)!r} is not a file")
    return path, str(derivation)


def _merge_part(report: Report, part: Report, timings: dict[str, Any], key: str | None) -> None:
    """Merge a part's report, keeping its own timings under ``'<key> details'``."""
    sub_timings, part.timings = part.timings, {}
    report.merge(part)
    if key and set(sub_timings) == {key} and isinstance(sub_timings[key], dict):
        sub_timings = sub_timings[key]
    if sub_timings and key:
        timings[f"{key} details"] = sub_timings


def _environment() -> dict[str, str]:
    from importlib import metadata

    env = {"python": platform.python_version(), "machine": platform.machine()}
    for dist in ("numpy", "torch", "jax", "matplotlib"):
        try:
            env[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            env[dist] = "not installed"
    return env


# --- (a) the worked example -------------------------------------------------------------------------------


def _diffs(candidate, reference) -> tuple[float, float]:
    """max |candidate − reference| and max entrywise relative difference |c − r| / max(|c|, |r|)."""
    c, r = candidate.flat().astype(float), reference.flat().astype(float)
    diff = np.abs(c - r)
    scale = np.maximum(np.abs(c), np.abs(r))
    rel = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
    return float(diff.max(initial=0.0)), float(rel.max(initial=0.0))


def example_report(*, oracles: Sequence[str] = ORACLE_NAMES, progress: bool = True) -> Report:
    """The derivation's worked example through manualbp and each oracle: one Check per oracle."""
    from manualbp import gradients
    from manualbp.example import seed_case

    from .cli.example import example_dict
    from .compare import compare

    case = seed_case()
    candidate = gradients(case)
    report = Report(title="worked example")
    section = example_dict()
    section["oracles"] = {}
    worst: list[list[np.ndarray]] = []
    for name in _progress(oracles, "worked example: oracles", progress):
        check = f"example: manualbp vs {name}"
        try:
            verdict = compare(case, candidate, oracles=(name,), fast=False)
        except MissingDependency as exc:
            report.add(Check(check, "example", False, f"skipped: {exc}", {"skipped": True}),
                       [Finding("example", "missing-oracle", "warning", str(exc), reproduce="manualbp report")])
            section["oracles"][name] = {"status": "skipped", "passed": False}
            continue
        ref = verdict.oracle_gradients.get(name)
        abs_d, rel_d = _diffs(candidate, ref) if ref is not None else (float("nan"), float("nan"))
        info = {"status": verdict.status, "passed": bool(verdict.passed), "max_abs_diff": abs_d,
                "max_rel_err": rel_d}
        method = getattr(ref, "method", "")
        if method:
            info["method"] = method
        section["oracles"][name] = info
        summary = (f"{verdict.status}: manualbp and {name} differ by at most {abs_d:.2g} "
                   f"(relative {rel_d:.2g}) over {case.arch.n_params} gradient entries")
        for L, pair in enumerate(verdict.error_ratio):
            if len(worst) <= L:
                worst.append([np.zeros_like(np.asarray(r, dtype=float)) for r in pair])
            for k, r in enumerate(pair):
                worst[L][k] = np.fmax(worst[L][k], np.asarray(r, dtype=float))
        findings = verdict.to_findings(source="example", check=check)
        for f in findings:
            f.reproduce = f.reproduce or "manualbp example"
        report.add(Check(check, "example", bool(verdict.passed), summary,
                         {"status": verdict.status, "notes": list(verdict.notes)}), findings)
    section["error_ratio"] = [{"layer": L, "param": param, "ratio": pair[k]}
                              for L, pair in enumerate(worst, start=1) for k, param in enumerate(("W", "b"))]
    report.sections["example"] = section
    return report


def _progress(items: Sequence[str], label: str, enabled: bool):
    """Iterate ``items`` with a rich progress bar on stderr (when enabled)."""
    if not enabled:
        yield from items
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(label, total=len(items))
        for item in items:
            bar.update(task, description=f"{label} ({item})")
            yield item
            bar.advance(task)


# --- (c) the audit ----------------------------------------------------------------------------------------


def audit_report(path: Path, name: str) -> Report:
    """The audit of a derivation file, with findings naming the file as ``name``."""
    from .audit import audit_text

    part = audit_text(path.read_text(encoding="utf-8"), name=name)
    _ensure_check(part, "audit", f"audit: {name}")
    info = dict(part.sections.get("audit") or {})
    info.setdefault("file", name)
    part.sections["audit"] = info
    return part


def _ensure_check(part: Report, source: str, name: str) -> None:
    """Give findings of a part that ran no Check one, failing when any finding is an error."""
    orphans = [f for f in part.findings if f.source == source and not f.check]
    if part.checks and not orphans:
        return
    errors = sum(f.severity == "error" for f in orphans)
    warnings = sum(f.severity == "warning" for f in orphans)
    summary = f"{errors} error(s), {warnings} warning(s), {len(orphans) - errors - warnings} note(s)"
    for f in orphans:
        f.check = name
    part.checks.append(Check(name, source, errors == 0, summary))


# --- (d) subject checks -----------------------------------------------------------------------------------


def subject_report(spec: str, *, seed: int = 0, **declared: Any) -> Report:
    """Check a subject (``path.py:function`` or ``module:function``) against the oracles; its report.

    ``declared``: what the subject computes (hidden, output, cost, scale, layout, ...), passed on to
    :func:`oracles.checker.check`.
    """
    from .checker import check

    part = check(spec, seed=seed, **declared).to_report()
    _ensure_check(part, "check", f"check: {spec}")
    sections = part.sections.pop("check", None)
    if sections is not None:
        part.sections.setdefault("check", {})[spec] = sections
    return part
