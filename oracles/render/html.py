"""The report as ONE self-contained HTML page: embedded CSS and SVG plots, no external resources."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

import numpy as np

from .. import __version__
from ..findings import Finding, Report
from . import plots
from .common import (
    COLUMN_TITLES,
    PART_TITLES,
    TIMINGS_BEGIN,
    TIMINGS_END,
    as_ratio_array,
    by_source,
    check_findings,
    count_columns,
    fmt_num,
    fmt_value,
    headline,
    result_label,
    scalar_values,
    timing_rows,
)

MAX_HEATMAPS = 12
MAX_OPEN_CHECKS = 25

CSS = """
:root { --ink:#1f2933; --muted:#52606d; --line:#e4e7eb; --bg:#f5f7fa; --card:#fff;
  --err:#b42318; --err-bg:#fef3f2; --warn:#93370d; --warn-bg:#fffaeb; --info:#1d4f91; --info-bg:#eff6ff;
  --ok:#1e6b3e; --ok-bg:#ecfdf3; --accent:#2457a6; }
* { box-sizing: border-box; }
html { font-size: 16px; -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--ink); line-height: 1.55;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
a { color: var(--accent); }
a:focus-visible, summary:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; }
header.top { background: var(--ink); color: #fff; padding: 2rem 0 1.5rem; }
header.top h1 { margin: 0 0 .25rem; font-size: 1.9rem; letter-spacing: -.01em; }
header.top p { margin: 0; color: #cbd2d9; }
header.top code.cmd { color: #fff; background: rgba(255,255,255,.12); padding: .05rem .4rem; border-radius: .3rem; }
.wrap { max-width: 72rem; margin: 0 auto; padding: 0 1.25rem; }
.stats { display: flex; flex-wrap: wrap; gap: .75rem; margin-top: 1.25rem; padding: 0; list-style: none; }
.stats li { background: rgba(255,255,255,.08); border: 1px solid rgba(255,255,255,.18); border-radius: .6rem;
  padding: .55rem .9rem; min-width: 7.5rem; }
.stats b { display: block; font-size: 1.5rem; line-height: 1.2; font-variant-numeric: tabular-nums; }
.stats span { font-size: .85rem; color: #cbd2d9; }
.stats .bad b { color: #fda29b; } .stats .good b { color: #75e0a7; } .stats .warn b { color: #fec84b; }
nav.toc { background: var(--card); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 2; }
nav.toc ul { display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; margin: 0 auto; padding: .6rem 1.25rem;
  list-style: none; max-width: 72rem; }
nav.toc a { text-decoration: none; font-weight: 600; font-size: .95rem; }
nav.toc a:hover { text-decoration: underline; }
main section { background: var(--card); border: 1px solid var(--line); border-radius: .75rem;
  padding: 1.25rem 1.5rem 1.5rem; margin: 1.5rem 0; }
h2 { font-size: 1.4rem; margin: 0 0 .75rem; scroll-margin-top: 3.5rem; }
h3 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
p.lead { color: var(--muted); margin-top: 0; max-width: 60rem; }
.table-scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .93rem; margin: .5rem 0 1rem; }
caption { text-align: left; color: var(--muted); font-size: .9rem; padding-bottom: .35rem; }
th, td { text-align: left; padding: .45rem .65rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f0f3f7; font-weight: 600; }
tbody tr:nth-child(even) td { background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 700; border-top: 2px solid var(--ink); }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace;
  font-size: .88em; }
td.mono { white-space: nowrap; }
pre { background: #f0f3f7; border: 1px solid var(--line); border-radius: .4rem; padding: .6rem .8rem;
  overflow-x: auto; margin: .35rem 0 .75rem; white-space: pre; }
pre.wrap { white-space: pre-wrap; overflow-wrap: anywhere; }
pre.fix { background: var(--ok-bg); border-color: #abefc6; }
.badge { display: inline-block; border-radius: 999px; padding: .05rem .6rem; font-size: .8rem; font-weight: 700;
  letter-spacing: .02em; border: 1px solid transparent; white-space: nowrap; }
.badge.error, .badge.fail { color: var(--err); background: var(--err-bg); border-color: #fecdca; }
.badge.warning { color: var(--warn); background: var(--warn-bg); border-color: #fedf89; }
.badge.info { color: var(--info); background: var(--info-bg); border-color: #c3dafe; }
.badge.skip { color: var(--muted); background: #f0f3f7; border-color: var(--line); }
.badge.pass { color: var(--ok); background: var(--ok-bg); border-color: #abefc6; }
article.finding { border: 1px solid var(--line); border-left: 5px solid var(--info); border-radius: .5rem;
  padding: .75rem 1rem .5rem; margin: .9rem 0; scroll-margin-top: 3.5rem; }
article.finding.error { border-left-color: var(--err); }
article.finding.warning { border-left-color: #dc6803; }
article.finding h4 { margin: 0 0 .35rem; font-size: 1rem; display: flex; flex-wrap: wrap; gap: .5rem;
  align-items: center; }
article.finding h4 .label { font-family: ui-monospace, "DejaVu Sans Mono", monospace; color: var(--muted); }
article.finding .where { font-weight: 400; color: var(--muted); }
article.finding p.msg { margin: .25rem 0 .5rem; font-size: 1.02rem; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .25rem 0 .6rem;
  font-size: .93rem; }
dl.kv dt { color: var(--muted); font-weight: 600; }
dl.kv dd { margin: 0; overflow-wrap: anywhere; }
.vals { display: flex; flex-wrap: wrap; gap: .3rem .5rem; }
.val { background: #f0f3f7; border-radius: .3rem; padding: 0 .45rem; white-space: nowrap; }
.val b { font-weight: 600; color: var(--muted); }
figure { margin: 1rem 0 1.5rem; }
figure img { max-width: 100%; height: auto; display: block; border: 1px solid var(--line); border-radius: .4rem;
  background: #fff; }
figcaption { color: var(--muted); font-size: .9rem; margin-top: .4rem; max-width: 60rem; }
details > summary { cursor: pointer; font-weight: 600; margin: .5rem 0; }
.none { color: var(--muted); font-style: italic; }
footer { color: var(--muted); font-size: .85rem; padding: 0 0 2rem; }
@media (max-width: 40rem) { main section { padding: 1rem; } header.top h1 { font-size: 1.5rem; } }
@media print { nav.toc { position: static; } main section { break-inside: avoid-page; } }
"""


def e(x: Any) -> str:
    """HTML-escaped text."""
    return escape(str(x), quote=True)


def render(report: Report) -> str:
    """The whole report as one HTML document (timings last, between comment markers)."""
    sections = [
        ("summary", "Summary", ""),
        ("example", "Worked example", _example(report)),
        ("gradients", "Failing gradients", _heatmaps(report)),
        ("sweep", "Sweep", _sweep(report.sections.get("sweep"))),
        ("audit", "Derivation audit", _findings_part(report, "audit")),
        ("check", "Subject checks", _findings_part(report, "check")),
        ("findings", "Other findings", _findings_part(report, "example", "sweep")),
        ("checks", "All checks", _checks(report)),
    ]
    present = {i for i, _, body in sections if body}
    sections[0] = ("summary", "Summary", _summary(report, present))
    sections = [(i, t, body) for i, t, body in sections if body]
    toc = "".join(f'<li><a href="#{i}">{e(t)}</a></li>' for i, t, _ in sections)
    if report.timings:
        toc += '<li><a href="#timings">Timings</a></li>'
    body = "\n".join(f'<section id="{i}" aria-labelledby="{i}-h"><h2 id="{i}-h">{e(t)}</h2>\n{b}\n</section>'
                     for i, t, b in sections)
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="manualbp {e(__version__)}">',
        f"<title>{e(report.title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        '<a class="skip" href="#main">Skip to the report</a>',
        _header(report),
        f'<nav class="toc" aria-label="Sections"><ul>{toc}</ul></nav>',
        f'<main id="main" class="wrap">\n{body}\n{_timings(report.timings)}\n</main>',
        f'<footer class="wrap">Generated by manualbp {e(__version__)} · findings schema v{e(report.schema_version)}'
        " · the same seed gives the same report (timings aside).</footer>",
        "</body>",
        "</html>",
    ]) + "\n"


def _header(report: Report) -> str:
    c = report.counts()
    stats = [("checks", c["checks"], ""), ("passed", c["passed"], "good"),
             ("failed", c["failed"], "bad" if c["failed"] else "good"),
             *([("skipped", c["skipped"], "warn")] if c["skipped"] else []),
             ("errors", c["error"], "bad" if c["error"] else "good"),
             ("warnings", c["warning"], "warn" if c["warning"] else ""), ("info", c["info"], "")]
    items = "".join(f'<li class="{cls}"><b>{n}</b><span>{e(label)}</span></li>' for label, n, cls in stats)
    run = report.sections.get("run") or {}
    sub = f"<p>{e(headline(report))}</p>"
    if run.get("command"):
        sub += (f'<p>Made by <code class="cmd">{e(run["command"])}</code>'
                + (f" · derivation {e(run['derivation'])}" if run.get("derivation") else "")
                + (f" · seed {e(run['seed'])}" if "seed" in run else "") + "</p>")
    return (f'<header class="top"><div class="wrap"><h1>{e(report.title)}</h1>{sub}'
            f'<ul class="stats" aria-label="Totals">{items}</ul></div></header>')


def _table(header: list[tuple[str, str]], rows: Iterable[list[str]], caption: str = "",
           row_class: Iterable[str] | None = None) -> str:
    """A table; ``header`` items are (text, css class) and ``rows`` hold ready HTML cells."""
    head = "".join(f'<th scope="col" class="{c}">{e(t)}</th>' if c else f'<th scope="col">{e(t)}</th>'
                   for t, c in header)
    classes = list(row_class) if row_class is not None else None
    body = []
    for k, r in enumerate(rows):
        cells = "".join(f'<td class="{header[i][1]}">{v}</td>' if header[i][1] else f"<td>{v}</td>"
                        for i, v in enumerate(r))
        cls = f' class="{classes[k]}"' if classes and classes[k] else ""
        body.append(f"<tr{cls}>{cells}</tr>")
    cap = f"<caption>{e(caption)}</caption>" if caption else ""
    return (f'<div class="table-scroll"><table>{cap}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


def _badge(kind: str, text: str | None = None) -> str:
    return f'<span class="badge {e(kind)}">{e(text or kind)}</span>'


def _links(items: list[tuple[str, Finding]]) -> str:
    return ", ".join(f'<a href="#{lab}">{lab}</a>' for lab, _ in items) or "–"


def _summary(report: Report, present: set[str]) -> str:
    rows = []
    cols = count_columns(report)
    for src, c in report.counts_by_source().items():
        title = e(PART_TITLES.get(src, src))
        rows.append([f'<a href="#{src}">{title}</a>' if src in present else title, *(str(c[k]) for k in cols)])
    c = report.counts()
    rows.append(["Total", *(str(c[k]) for k in cols)])
    out = [_table([("Part", ""), *((COLUMN_TITLES[k], "num") for k in cols)], rows, "Checks and findings by part",
                  row_class=[""] * (len(rows) - 1) + ["total"])]
    failed = report.failed_checks
    if failed:
        by_check = check_findings(report)
        out.append("<h3>Failed checks</h3>")
        out.append(_table([("Check", ""), ("Part", ""), ("Findings", ""), ("Summary", "")],
                          [[e(ch.name), e(PART_TITLES.get(ch.source, ch.source)), _links(by_check.get(ch.name, [])),
                            e(ch.summary)] for ch in failed]))
    else:
        out.append('<p class="none">Every check passed.</p>')
    return "\n".join(out)


def _matrix(v: Any, spec: str) -> str:
    """A vector or matrix as monospace text, one matrix row per line."""
    arr = np.asarray(v, dtype=float)
    if arr.ndim <= 1:
        return e(fmt_value(arr.tolist(), spec, max_items=10**6))
    return "<br>".join(e(fmt_value(row.tolist(), spec, max_items=10**6)) for row in arr)


def _example(report: Report) -> str:
    ex = report.sections.get("example")
    if not ex:
        return ""
    out = []
    net = ex.get("network", {})
    if net:
        out.append(f'<p class="lead">The derivation\'s worked example: widths <code>{e(net.get("widths"))}</code>, '
                   f'activations <code>{e(", ".join(net.get("activations", [])))}</code>, cost '
                   f'<code>{e(net.get("cost"))}</code>, {e(net.get("dtype", ""))}. manualbp computes every '
                   "intermediate; each oracle computes the gradients independently.</p>")
    oracles = ex.get("oracles") or {}
    if oracles:
        rows = [[e(name), _badge("pass" if o.get("passed", o.get("status") == "pass") else "fail",
                                 o.get("status", "")),
                 fmt_num(o.get("max_abs_diff", float("nan")), ".2g"),
                 fmt_num(o.get("max_rel_err", float("nan")), ".2g"),
                 e(o.get("method", "") or "")] for name, o in oracles.items()]
        out.append(_table([("Oracle", ""), ("Verdict", ""), ("max |manualbp − oracle|", "num"),
                           ("max relative difference", "num"), ("Method", "")], rows,
                          "manualbp's gradients on the worked example against each oracle"))
    ratios = ex.get("error_ratio") or []
    if ratios:
        panels = [plots.Panel(f"{r['param']}^({r['layer']})", a) for r in ratios
                  if (a := as_ratio_array(r.get("ratio"))) is not None]
        worst = max((float(np.nanmax(p.ratio)) for p in panels), default=float("nan"))
        out.append(_figure(plots.error_heatmaps(panels, "the worked example, worst over the oracles"),
                           "Every gradient entry of the worked example: |manualbp − oracle| / tolerance, the worst "
                           f"over the oracles (largest {fmt_num(worst, '.2g')}; over 1 would be a failure). Rows "
                           "index the unit of layer L+1, columns the unit of layer L (zero-based)."))
    problem = ex.get("problem") or {}
    if problem:
        out.append("<details><summary>The problem: parameters, input and target</summary>")
        out.append(_table([("Symbol", ""), ("Value", "mono")],
                          [[e(k), _matrix(v, "g")] for k, v in problem.items()]))
        out.append("</details>")
    steps = ex.get("steps") or []
    if steps:
        rows = [[f"<b>{e(s['symbol'])}</b>", _matrix(s["value"], ".10g"),
                 _matrix(s.get("rounded", s["value"]), f".{int(s.get('decimals', 2))}f")] for s in steps]
        out.append(_table([("Symbol", ""), ("manualbp (10 significant digits)", "mono"),
                           ("Rounded as the derivation rounds", "mono")], rows,
                          "Every intermediate, in the derivation's order"))
    return "\n".join(out)


def _figure(plot: plots.Plot | None, caption: str) -> str:
    if plot is None:
        return ""
    return (f'<figure><img src="{plot.uri}" alt="{e(plot.alt)}" width="{plot.width}" height="{plot.height}">'
            f"<figcaption>{e(caption)}</figcaption></figure>")


def _heatmaps(report: Report) -> str:
    by_check = check_findings(report)
    groups = [(name, items) for name, items in by_check.items()
              if any(as_ratio_array(f.values.get("error_ratio")) is not None for _, f in items)]
    if not groups:
        return ""
    out = ['<p class="lead">Each cell is one gradient entry, coloured by |error| / tolerance on a log scale: '
           "blue entries agree with the oracles, orange to red ones are over the tolerance; the boxed cell is the "
           "worst entry. "
           "Rows index the unit of layer L+1, columns the unit of layer L (zero-based); a bias is one column.</p>"]
    for name, items in groups[:MAX_HEATMAPS]:
        fs = [f for _, f in items if as_ratio_array(f.values.get("error_ratio")) is not None]
        plot = plots.error_heatmaps(plots.finding_panels(fs), name)
        out.append(f"<h3>{e(name)}</h3>")
        out.append(_figure(plot, f"Findings {', '.join(lab for lab, _ in items)}. "
                           + "; ".join(f"{f.where.param}^({f.where.layer}): {f.values.get('n_wrong', '?')} wrong"
                                       for f in fs)))
    if len(groups) > MAX_HEATMAPS:
        out.append(f'<p class="none">{len(groups) - MAX_HEATMAPS} more failing checks are listed with their '
                   "findings below.</p>")
    return "\n".join(out)


def _sweep(sw: dict | None) -> str:
    if not sw:
        return ""
    out = [f'<p class="lead">{e(sw.get("cases", "?"))} random cases (seed {e(sw.get("seed", "?"))}): random '
           "architectures, activations, costs and dtypes, manualbp against every oracle.</p>"]
    tables = []
    if sw.get("by_status"):
        tables.append(_table([("Verdict", ""), ("Cases", "num")],
                             [[_badge("pass" if k == "pass" else ("fail" if k == "fail" else "info"), k), str(v)]
                              for k, v in sw["by_status"].items()], "Cases by verdict"))
    if sw.get("by_dtype"):
        rows = [[e(k), str(sum(x for x in v.values() if isinstance(x, int))), e(fmt_value(v))]
                if isinstance(v, dict) else [e(k), e(fmt_value(v)), ""] for k, v in sw["by_dtype"].items()]
        tables.append(_table([("dtype", ""), ("Cases", "num"), ("By verdict", "")], rows, "Cases by dtype"))
    if tables:
        out.append('<div style="display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:1rem">'
                   + "".join(f"<div>{t}</div>" for t in tables) + "</div>")
    ratios = [v for v in sw.get("error_ratio") or [] if isinstance(v, (int, float))]
    finite = np.array([v for v in ratios if np.isfinite(v)], dtype=float)
    if finite.size:
        over = int(np.sum(finite > 1))
        out.append(_figure(plots.sweep_distribution(ratios, cases=sw.get("cases")),
                           f"The worst |error| / tolerance of each case. {over} of {finite.size} cases are over the "
                           f"tolerance (ratio > 1); the median is {fmt_num(float(np.median(finite)), '.2g')}."))
    agreement, max_rel = sw.get("oracle_agreement") or {}, sw.get("max_rel_err") or {}
    if agreement or max_rel:
        out.append(_figure(plots.oracle_agreement(agreement, max_rel),
                           "How closely manualbp and the oracles agree with each other over the whole sweep: the "
                           "largest relative difference of any gradient entry, float32 cases included. An entry "
                           "near zero can have a large relative difference and a tiny absolute one, which is why "
                           "verdicts use the tolerance model of the distribution above."))
        rows = [[f"manualbp ~ {e(k)}", fmt_num(v, ".3g") if v is not None else "–"] for k, v in max_rel.items()]
        rows += [[e(k.replace("~", " ~ ")), fmt_num(v, ".3g") if v is not None else "–"]
                 for k, v in agreement.items()]
        out.append(_table([("Pair", ""), ("max relative difference", "num")], rows, "The numbers of the chart"))
    return "\n".join(out)


def _findings_part(report: Report, *sources: str) -> str:
    groups = by_source(report)
    items = [it for s in sources for it in groups.get(s, [])]
    if not items:
        if sources == ("audit",) and "audit" in report.sections:
            return f'<p class="none">The audit found nothing to report{e(_coverage(report))}.</p>'
        return ""
    out = []
    if sources == ("audit",):
        info = report.sections.get("audit") or {}
        name = info.get("file") or next((f.where.file for _, f in items if f.where.file), "")
        if name:
            out.append(f'<p class="lead">The equations and numbers of <code>{e(name)}</code>, checked against '
                       f"manualbp{e(_coverage(report))}; each finding gives the line, the LaTeX concerned and, "
                       "where one exists, the smallest fix.</p>")
    out += [_finding(lab, f) for lab, f in items]
    return "\n".join(out)


def _coverage(report: Report) -> str:
    """' (12 of 20 equations evaluated, 15 checkable, 3 not evaluable; worked example read)', or '' without
    coverage data."""
    cov = (report.sections.get("audit") or {}).get("coverage")
    if not cov:
        return ""
    worked = "worked example read" if cov.get("worked_example_read") else "no worked example read"
    checkable = f", {cov['checkable']} checkable" if "checkable" in cov else ""
    return (f" ({cov['evaluated']} of {cov['read']} equations evaluated{checkable}, {cov['not_evaluable']} not "
            f"evaluable; {worked})")


def _finding(label: str, f: Finding) -> str:
    where = str(f.where)
    head = (f'<h4><span class="label">{e(label)}</span>{_badge(f.severity)}<span>{e(f.kind)}</span>'
            + (f'<span class="where">{e(where)}</span>' if where != "-" else "") + "</h4>")
    kv = []
    if f.check and f.source != "audit":  # the audit section names its one document already
        kv.append(("Check", e(f.check)))
    vals = scalar_values(f)
    if vals:
        kv.append(("Values", '<span class="vals">' + "".join(
            f'<span class="val"><b>{e(k)}</b> <code>{e(fmt_value(v, ".10g"))}</code></span>' for k, v in vals.items())
            + "</span>"))
    ratio = as_ratio_array(f.values.get("error_ratio"))
    if ratio is not None:
        kv.append(("|error| / tol", f"{int(np.sum(ratio > 1))} of {ratio.size} entries over the tolerance, worst "
                                    f"{e(fmt_num(float(np.nanmax(ratio)), '.3g'))}"))
    if f.tolerance is not None:
        kv.append(("Tolerance", e(fmt_num(f.tolerance, ".3g"))))
    if f.diagnosis:
        kv.append(("Diagnosis", e(f.diagnosis)))
    parts = [head, f'<p class="msg">{e(f.message)}</p>']
    if kv:
        parts.append('<dl class="kv">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in kv) + "</dl>")
    if f.where.fragment:
        parts.append(f'<div><b>Fragment</b><pre class="wrap">{e(f.where.fragment)}</pre></div>')
    if f.fix:
        parts.append(f'<div><b>Fix</b><pre class="fix wrap">{e(f.fix)}</pre></div>')
    if f.reproduce:
        parts.append(f"<details><summary>Reproduce</summary><pre>{e(f.reproduce)}</pre></details>")
    return f'<article class="finding {e(f.severity)}" id="{e(label)}">{"".join(parts)}</article>'


def _checks(report: Report) -> str:
    if not report.checks:
        return ""
    by_check = check_findings(report)
    rows = [[_badge(result_label(c)), e(c.name), e(PART_TITLES.get(c.source, c.source)),
             _links(by_check.get(c.name, [])), e(c.summary)] for c in report.checks]
    tbl = _table([("Result", ""), ("Check", ""), ("Part", ""), ("Findings", ""), ("Summary", "")], rows)
    if len(rows) > MAX_OPEN_CHECKS:
        return f"<details><summary>Show all {len(rows)} checks</summary>{tbl}</details>"
    return tbl


def _timings(timings: dict) -> str:
    if not timings:
        return ""
    rows = [[e(k), e(v)] for k, v in timing_rows(timings)]
    return (f'{TIMINGS_BEGIN}\n<section id="timings" aria-labelledby="timings-h"><h2 id="timings-h">Timings</h2>'
            '<p class="lead">These vary run to run and are ignored when reports are compared.</p>'
            f'{_table([("Phase", ""), ("Time", "num")], rows)}</section>\n{TIMINGS_END}')
