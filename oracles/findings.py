"""The findings model: what every check in the package reports.

A :class:`Report` holds the :class:`Check` objects that ran (each passes or
fails, which is what JUnit shows) and the :class:`Finding` objects they
produced.  Gradient sweeps, subject checks, the worked example and the
derivation audit all speak this one model; the renderers in
:mod:`oracles.render` turn it into Markdown, JSON, HTML and JUnit.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any

import numpy as np

SCHEMA_VERSION = "1.0"
SEVERITIES = ("error", "warning", "info")
SOURCES = ("example", "sweep", "check", "audit")
SCHEMA_FILE = "findings.schema.json"


def jsonable(value: Any) -> Any:
    """Arrays, numpy scalars, tuples and non-finite floats as plain JSON values."""
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


@dataclass
class Location:
    """Where a finding is: a gradient entry (layer, param, entry) or a document line."""

    layer: int | None = None  # derivation numbering: W^(layer), b^(layer)
    param: str | None = None  # "W", "b", or another symbol such as "delta"
    entry: tuple[int, ...] | None = None  # zero-based index into the parameter
    file: str | None = None
    line: int | None = None
    fragment: str | None = None  # the LaTeX (or code) fragment concerned

    def __str__(self) -> str:
        parts = []
        if self.file:
            parts.append(f"{self.file}:{self.line}" if self.line else self.file)
        elif self.line:
            parts.append(f"line {self.line}")
        if self.param and self.layer is not None:
            sym = f"{self.param}^({self.layer})"
            if self.entry is not None:
                sym += "[" + ", ".join(str(i) for i in self.entry) + "]"
            parts.append(sym)
        return " ".join(parts) or "-"


@dataclass
class Finding:
    """One thing that does not hold (or is worth noting), with its evidence."""

    source: str  # one of SOURCES
    kind: str  # e.g. gradient-mismatch, oracle-disagreement, index, missing-term, shape, arithmetic
    severity: str  # one of SEVERITIES
    message: str
    where: Location = field(default_factory=Location)
    check: str = ""  # name of the Check that produced it
    values: dict[str, Any] = field(default_factory=dict)  # e.g. subject, torch, jax, fd, document, exact
    tolerance: float | None = None
    diagnosis: str | None = None
    fix: str | None = None
    reproduce: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {SEVERITIES}")
        if self.source not in SOURCES:
            raise ValueError(f"source {self.source!r} is not one of {SOURCES}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (see findings.schema.json)."""
        d = asdict(self)
        d["where"] = {k: v for k, v in asdict(self.where).items() if v is not None}
        if self.where.entry is not None:
            d["where"]["entry"] = list(self.where.entry)
        return jsonable(d)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        """The inverse of :meth:`to_dict`."""
        where = dict(d.get("where", {}))
        if "entry" in where:
            where["entry"] = tuple(where["entry"])
        return cls(**{**d, "where": Location(**where)})


@dataclass
class Check:
    """One check that ran: passed or failed, with a short summary and its findings' count."""

    name: str
    source: str
    passed: bool
    summary: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def skipped(self) -> bool:
        """True when the check could not run (``details["skipped"]``, e.g. an oracle not installed)."""
        return bool(self.details.get("skipped"))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return jsonable(asdict(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Check:
        """The inverse of :meth:`to_dict`."""
        return cls(**d)


@dataclass
class Report:
    """Every check and finding of one run, plus sections of summary data for renderers.

    ``sections`` hold deterministic content (same seed, same content); anything
    that varies run to run (durations, machine) goes in ``timings``.
    """

    title: str = "manualbp report"
    checks: list[Check] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    sections: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)
    schema_version: str = SCHEMA_VERSION

    def add(self, check: Check, findings: list[Finding] = ()) -> None:
        """Record a check and the findings it produced."""
        self.checks.append(check)
        for f in findings:
            f.check = f.check or check.name
            self.findings.append(f)

    def merge(self, other: Report) -> None:
        """Append another report's checks, findings and sections."""
        self.checks += other.checks
        self.findings += other.findings
        self.sections.update(other.sections)
        self.timings.update(other.timings)

    @property
    def errors(self) -> list[Finding]:
        """Findings of severity 'error'."""
        return [f for f in self.findings if f.severity == "error"]

    @property
    def failed_checks(self) -> list[Check]:
        """Checks that ran and did not pass (skipped checks are not failures)."""
        return [c for c in self.checks if not c.passed and not c.skipped]

    def findings_of(self, check: str) -> list[Finding]:
        """The findings a check (by name) produced."""
        return [f for f in self.findings if f.check == check]

    def counts(self) -> dict[str, int]:
        """Checks run, passed, failed and skipped, and findings per severity."""
        out = {"checks": len(self.checks), "passed": sum(c.passed for c in self.checks)}
        out["skipped"] = sum(c.skipped and not c.passed for c in self.checks)
        out["failed"] = out["checks"] - out["passed"] - out["skipped"]
        out["findings"] = len(self.findings)
        for sev in SEVERITIES:
            out[sev] = sum(f.severity == sev for f in self.findings)
        return out

    def counts_by_source(self) -> dict[str, dict[str, int]]:
        """:meth:`counts` for each source that has checks or findings, in SOURCES order."""
        out = {}
        for src in SOURCES:
            part = Report(checks=[c for c in self.checks if c.source == src],
                          findings=[f for f in self.findings if f.source == src])
            if part.checks or part.findings:
                out[src] = part.counts()
        return out

    def to_json(self, *, timings: bool = True) -> str:
        """Deterministic JSON text of :meth:`to_dict` (without ``timings`` when ``timings=False``)."""
        d = self.to_dict()
        if not timings:
            d.pop("timings")
        return json.dumps(d, indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Report:
        """The inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (see findings.schema.json)."""
        return {
            "schema_version": self.schema_version,
            "title": self.title,
            "checks": [c.to_dict() for c in self.checks],
            "findings": [f.to_dict() for f in self.findings],
            "sections": jsonable(self.sections),
            "timings": jsonable(self.timings),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Report:
        """The inverse of :meth:`to_dict`."""
        return cls(
            title=d.get("title", ""),
            checks=[Check.from_dict(c) for c in d.get("checks", [])],
            findings=[Finding.from_dict(f) for f in d.get("findings", [])],
            sections=d.get("sections", {}),
            timings=d.get("timings", {}),
            schema_version=d.get("schema_version", SCHEMA_VERSION),
        )


def schema() -> dict[str, Any]:
    """The JSON schema of :meth:`Report.to_dict` (shipped as ``oracles/findings.schema.json``)."""
    return json.loads(resources.files("oracles").joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


def validate(report: Report | dict[str, Any]) -> None:
    """Raise ValueError naming the first offending path when ``report`` does not match the schema."""
    import jsonschema

    data = report.to_dict() if isinstance(report, Report) else report
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        first = errors[0]
        path = "/".join(str(p) for p in first.absolute_path) or "(root)"
        raise ValueError(f"report does not match {SCHEMA_FILE} v{SCHEMA_VERSION} at {path}: {first.message}"
                         + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))
