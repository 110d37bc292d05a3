"""The report as JUnit XML: one <testsuite> per part, one <testcase> per Check, failures carry their findings."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..findings import SOURCES, Finding, Report
from .common import PART_TITLES, check_findings, fmt_value, scalar_values


def _finding_text(label: str, f: Finding) -> str:
    lines = [f"[{label}] {f.severity} {f.kind} at {f.where}: {f.message}"]
    vals = scalar_values(f)
    if vals:
        lines.append("  values: " + ", ".join(f"{k}={fmt_value(v, '.10g')}" for k, v in vals.items()))
    if f.tolerance is not None:
        lines.append(f"  tolerance: {fmt_value(f.tolerance, '.3g')}")
    if f.where.fragment:
        lines.append(f"  fragment: {f.where.fragment}")
    for name in ("diagnosis", "fix"):
        if getattr(f, name):
            lines.append(f"  {name}: {getattr(f, name)}")
    if f.reproduce:
        lines.append("  reproduce:\n" + "\n".join("    " + ln for ln in f.reproduce.splitlines()))
    return "\n".join(lines)


def render(report: Report) -> str:
    """JUnit XML text (testsuite ``time`` attributes come from ``report.timings`` when present)."""
    by_check = check_findings(report)
    total_failed = len(report.failed_checks)
    root = ET.Element("testsuites", {"name": report.title, "tests": str(len(report.checks)),
                                     "failures": str(total_failed), "errors": "0"})
    for src in SOURCES:
        checks = [c for c in report.checks if c.source == src]
        if not checks:
            continue
        skipped = [c for c in checks if c.skipped]
        suite = ET.SubElement(root, "testsuite", {
            "name": f"manualbp.{src}", "tests": str(len(checks)),
            "failures": str(sum(not c.passed and not c.skipped for c in checks)), "errors": "0",
            "skipped": str(len(skipped)),
        })
        t = report.timings.get(src)
        if isinstance(t, (int, float)):
            suite.set("time", f"{t:.3f}")
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", {"name": "part", "value": PART_TITLES.get(src, src)})
        for c in checks:
            case = ET.SubElement(suite, "testcase", {"classname": f"manualbp.{src}", "name": c.name})
            items = by_check.get(c.name, [])
            text = "\n\n".join(_finding_text(lab, f) for lab, f in items)
            if c.skipped:
                ET.SubElement(case, "skipped", {"message": c.summary or "skipped"})
            elif not c.passed:
                worst = next((f for _, f in items if f.severity == "error"), items[0][1] if items else None)
                msg = c.summary or (worst.message if worst else "failed")
                fail = ET.SubElement(case, "failure", {"message": msg, "type": worst.kind if worst else "failure"})
                fail.text = text or c.summary
            elif text or c.summary:
                out = ET.SubElement(case, "system-out")
                out.text = "\n\n".join(s for s in (c.summary, text) if s)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
