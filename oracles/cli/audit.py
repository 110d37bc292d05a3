"""``manualbp audit FILE``: check a backprop derivation (Markdown + LaTeX) equation by equation."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``audit`` subcommand."""
    p = sub.add_parser("audit", help="audit a derivation: every equation, every number, with fixes",
                       description="Audit a Markdown + LaTeX backprop derivation. Exit code 1 when there are "
                                   "error-severity findings or when fewer than half of the checkable equations "
                                   "(all but definitions and given values) could be evaluated, 0 when at least "
                                   "half were and nothing is wrong, 2 on a usage error.")
    p.add_argument("file", help="the Markdown derivation")
    p.add_argument("--format", choices=("text", "md", "json", "html"), default="text")
    p.add_argument("-o", "--output", help="write the report here instead of stdout")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Audit the file, print the report, exit 1 when there are errors (nothing evaluable is one)."""
    from oracles.audit import audit_file

    report = audit_file(args.file)
    if args.format == "json":
        out = json.dumps(report.to_dict(), indent=2, ensure_ascii=False)
    elif args.format == "md":
        out = _markdown(report)
    elif args.format == "html":
        out = _html(report)
    else:
        out = None
    if out is None:
        _text(report, args.output)
    elif args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(out)
    else:
        sys.stdout.write(out + ("" if out.endswith("\n") else "\n"))
    return 1 if report.errors else 0


def _sorted(report):
    return sorted(report.findings, key=lambda f: (f.where.line or 0, f.kind))


def _markdown(report) -> str:
    try:
        from oracles.render import render_markdown  # the reports engineer's renderer, when present
        return render_markdown(report)
    except ImportError:
        pass
    lines = [f"# {report.title}", ""]
    for c in report.checks:
        lines += [f"**{c.summary}**", ""]
    if not report.findings:
        lines.append("No findings: every equation and number checks out.")
    for f in _sorted(report):
        lines.append(f"- **line {f.where.line}** · `{f.kind}` · {f.severity}: {f.message}")
        if f.where.fragment:
            lines.append(f"  - as written: `{_one_line(f.where.fragment)}`")
        if f.fix is not None:
            lines.append(f"  - fix: `{_one_line(f.fix)}`")
    return "\n".join(lines) + "\n"


def _html(report) -> str:
    try:
        from oracles.render import render_html
        return render_html(report)
    except ImportError:
        pass
    import html
    rows = []
    for f in _sorted(report):
        rows.append("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td>"
                    "<td><code>{}</code></td></tr>".format(
                        f.where.line, html.escape(f.kind), html.escape(f.severity), html.escape(f.message),
                        html.escape(f.where.fragment or ""), html.escape(f.fix or "")))
    summary = " ".join(html.escape(c.summary) for c in report.checks)
    return ("<!doctype html><html><head><meta charset='utf-8'><title>{t}</title></head><body>"
            "<h1>{t}</h1><p>{s}</p><table border='1'><tr><th>line</th><th>kind</th><th>severity</th>"
            "<th>message</th><th>as written</th><th>fix</th></tr>{r}</table></body></html>").format(
                t=html.escape(report.title), s=summary, r="".join(rows))


def _text(report, output: str | None) -> None:
    """The findings as a rich table; every string from the document is shown as written (never as markup)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    fh = open(output, "w", encoding="utf-8") if output else None
    try:
        console = Console(file=fh) if fh else Console()
        console.print(Text(report.title, style="bold"))
        for c in report.checks:
            console.print(Text(c.summary))
        if not report.findings:
            console.print(Text("No findings.", style="green"))
            return
        table = Table(show_lines=True)
        for col in ("line", "kind", "severity", "message", "fix"):
            table.add_column(col, overflow="fold")
        colour = {"error": "red", "warning": "yellow", "info": "cyan"}
        for f in _sorted(report):
            table.add_row(Text(str(f.where.line)), Text(f.kind), Text(f.severity, style=colour[f.severity]),
                          Text(f.message), Text(_one_line(f.fix or "")))
        console.print(table)
    finally:
        if fh:
            fh.close()


def _one_line(s: str) -> str:
    return " ".join(s.split())
