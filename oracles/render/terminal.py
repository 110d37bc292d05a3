"""A terminal summary of a report with rich: totals by part, failed checks, the first findings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..findings import Report
from .common import COLUMN_TITLES, PART_TITLES, by_source, count_columns, headline

STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _clip(text: str, n: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def print_summary(report: Report, *, console=None, paths: Mapping[str, Path] | None = None,
                  max_findings: int = 5) -> None:
    """Print totals by part, up to ``max_findings`` findings of each part and the files written."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = console or Console()
    table = Table(title=report.title, title_style="bold", show_footer=True)
    table.add_column("Part", footer="Total")
    c = report.counts()
    cols = count_columns(report)
    for key in cols:
        table.add_column(COLUMN_TITLES[key], justify="right", footer=str(c[key]))
    style = {**STYLE, "failed": "red"}
    for src, n in report.counts_by_source().items():
        table.add_row(PART_TITLES.get(src, src),
                      *(f"[{style[k]}]{n[k]}[/]" if n[k] and k in style else str(n[k]) for k in cols))
    console.print(table)
    shown = 0
    for _src, items in by_source(report).items():
        for lab, f in items[:max_findings]:
            where = "" if str(f.where) == "-" else f" {escape(str(f.where))}"
            console.print(f"[{STYLE[f.severity]}]{lab} {f.severity}[/] [dim]{escape(f.kind)}[/]{where}: "
                          f"{escape(_clip(f.message))}", highlight=False)
            if f.fix:
                console.print(f"    [green]fix:[/] {escape(_clip(f.fix))}", highlight=False)
            shown += 1
    if len(report.findings) > shown:
        console.print(f"[dim]… and {len(report.findings) - shown} more findings in the written report[/]")
    console.print(f"[bold]{headline(report)}[/]", highlight=False)
    for kind, path in (paths or {}).items():
        console.print(f"  {kind:>5}: {path}", highlight=False)
