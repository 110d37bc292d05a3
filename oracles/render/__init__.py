"""Renderers of a :class:`~oracles.findings.Report`: Markdown, self-contained HTML, JSON, JUnit XML, terminal.

``write_all(report, outdir)`` writes index.md, index.html, findings.json and
junit.xml.  Rendering is deterministic: the same report gives byte-identical
files; run-to-run data (``report.timings``) sits in a separate, marked section.
"""

from __future__ import annotations

from pathlib import Path

from ..findings import Report

FILES = {"md": "index.md", "html": "index.html", "json": "findings.json", "junit": "junit.xml"}


def render_markdown(report: Report) -> str:
    """The report as Markdown (summary table first, then each finding)."""
    from .markdown import render

    return render(report)


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page with embedded plots."""
    from .html import render

    return render(report)


def render_junit(report: Report) -> str:
    """The report as JUnit XML, one test case per check."""
    from .junit import render

    return render(report)


def render_json(report: Report) -> str:
    """The report as JSON (see oracles/findings.schema.json); timings under "timings"."""
    return report.to_json()


RENDERERS = {"md": render_markdown, "html": render_html, "json": render_json, "junit": render_junit}


def write_all(report: Report, outdir: str | Path) -> dict[str, Path]:
    """Write the four files into ``outdir`` (created if needed); returns {'md'|'html'|'json'|'junit': path}."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    # Render from the JSON form, so every file shows exactly what findings.json holds.
    report = Report.from_json(report.to_json())
    paths = {}
    for kind, name in FILES.items():
        path = out / name
        path.write_text(RENDERERS[kind](report), encoding="utf-8", newline="\n")
        paths[kind] = path
    return paths


__all__ = ["FILES", "RENDERERS", "render_html", "render_json", "render_junit", "render_markdown", "write_all"]
