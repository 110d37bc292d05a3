"""The renderers: JSON against the shipped schema, JUnit, Markdown, self-contained HTML, determinism."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from importlib import resources

import jsonschema
import numpy as np
import pytest

from manualbp import gradients
from manualbp.example import seed_case
from oracles.cli.example import example_dict
from oracles.findings import SCHEMA_VERSION, Check, Finding, Location, Report, schema, validate
from oracles.render import FILES, render_html, render_junit, render_markdown, write_all
from oracles.render.common import TIMINGS_BEGIN, TIMINGS_END


def _mismatch_findings(check: str) -> list[Finding]:
    """Findings of a 'subject' that doubles ∂C/∂W^(2) and flips the sign of ∂C/∂b^(1) on the worked example."""
    case = seed_case()
    ref = gradients(case)
    subject_dW = [g.copy() for g in ref.dW]
    subject_db = [g.copy() for g in ref.db]
    subject_dW[1] *= 2.0
    subject_db[0] *= -1.0
    out = []
    for L, param, sub, exp in [(2, "W", subject_dW[1], ref.dW[1]), (1, "b", subject_db[0], ref.db[0])]:
        tol = 1e-9 + 1e-7 * np.abs(exp)
        ratio = np.abs(sub - exp) / tol
        worst = tuple(int(i) for i in np.unravel_index(np.argmax(ratio), ratio.shape))
        out.append(Finding(
            "check", "gradient-mismatch", "error", f"∂C/∂{param}^({L}) differs from the oracles",
            Location(L, param, worst),
            values={"subject": sub[worst], "torch": exp[worst], "abs_err": abs(sub[worst] - exp[worst]),
                    "error_ratio": ratio, "n_wrong": int(np.sum(ratio > 1))},
            tolerance=float(tol[worst]), diagnosis="a constant factor 2 on ∂C/∂W^(2)",
            reproduce="from manualbp.example import seed_case\ncase = seed_case()",
        ))
    return out


def synthetic_report() -> Report:
    """A report with every part a real run produces: example, sweep, a failing subject, audit findings."""
    rng = np.random.default_rng(0)
    report = Report()
    for name in ("torch", "jax", "fd"):
        report.add(Check(f"example: manualbp vs {name}", "example", True, "pass"))
    report.add(Check("example: manualbp vs nothing", "example", False, "skipped: not installed", {"skipped": True}))
    ex = example_dict()
    ex["oracles"] = {n: {"status": "pass", "passed": True, "max_abs_diff": 1e-17, "max_rel_err": 2e-16}
                     for n in ("torch", "jax", "fd")}
    ex["error_ratio"] = [{"layer": L, "param": p, "ratio": rng.uniform(0, 0.05, size=shape)}
                         for L, (shape_w, shape_b) in enumerate([((4, 3), (4,)), ((4, 4), (4,)), ((2, 4), (2,))], 1)
                         for p, shape in (("W", shape_w), ("b", shape_b))]
    report.sections["example"] = ex
    for i in range(4):
        report.add(Check(f"sweep: case {i}", "sweep", True, "pass"))
    report.add(Check("sweep: case 4", "sweep", False, "oracle-disagreement"), [Finding(
        "sweep", "oracle-disagreement", "warning", "fd disagrees with torch and jax at a relu kink",
        Location(2, "b", (1,)), values={"torch": 0.0, "jax": 0.0, "fd": 0.5}, tolerance=1e-6)])
    report.sections["sweep"] = {
        "cases": 5, "seed": 0, "by_status": {"pass": 4, "oracle-disagreement": 1}, "by_dtype": {"float64": 5},
        "max_rel_err": {"torch": 3e-16, "jax": 4e-16, "fd": 2e-11},
        "error_ratio": list(np.exp(rng.normal(-20, 3, size=50))) + [float("nan")],
        "oracle_agreement": {"torch~jax": 2e-16, "torch~fd": 1e-11, "jax~fd": 1e-11},
    }
    report.add(Check("check: student.py:backprop", "check", False, "wrong"), _mismatch_findings(""))
    report.add(Check("audit: seed-derivation.md", "audit", False, "1 error"), [
        Finding("audit", "index", "error", "δ_2^(4) uses y_1 where y_2 belongs | <b>not bold</b>",
                Location(file="seed-derivation.md", line=57, fragment=r"\delta_2^{(4)} = (a_2^{(4)} - y_1)"),
                values={"document": -2.13, "exact": -4.53}, fix=r"\delta_2^{(4)} = (a_2^{(4)} - y_2)"),
        Finding("audit", "rounding", "info", "0.94 is 0.9427 rounded from carried intermediates",
                Location(file="seed-derivation.md", line=120), values={"document": 0.95, "exact": 0.9427}),
    ])
    report.timings = {"example": 1.5, "sweep": 12.25, "total": 14.0}
    return report


@pytest.fixture(scope="module")
def report() -> Report:
    return synthetic_report()


# --- JSON and its schema ---------------------------------------------------------------------------------


def test_schema_is_package_data_and_versioned():
    text = resources.files("oracles").joinpath("findings.schema.json").read_text(encoding="utf-8")
    sch = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(sch)
    assert sch["properties"]["schema_version"]["const"] == SCHEMA_VERSION


def test_report_json_validates_and_round_trips(report):
    data = json.loads(report.to_json())
    jsonschema.validate(data, schema(), cls=jsonschema.Draft202012Validator)
    validate(report)
    back = Report.from_json(report.to_json())
    assert back.to_json() == report.to_json()
    assert data["sections"]["sweep"]["error_ratio"][-1] == "nan"
    assert data["timings"] == {"example": 1.5, "sweep": 12.25, "total": 14.0}
    assert "timings" not in json.loads(report.to_json(timings=False))


@pytest.mark.parametrize("mutate, path", [
    (lambda d: d["findings"][0].update(severity="fatal"), "findings/0/severity"),
    (lambda d: d["findings"][1]["where"].update(line=0), "findings/1/where/line"),
    (lambda d: d["checks"][0].pop("passed"), "checks/0"),
    (lambda d: d["sections"]["sweep"].update(error_ratio=[[1.0]]), "sections/sweep/error_ratio/0"),
    (lambda d: d.update(schema_version="0.9"), "schema_version"),
    (lambda d: d["sections"]["example"]["error_ratio"][0].update(param="delta"), "sections/example/error_ratio/0"),
])
def test_schema_rejects_malformed_reports(report, mutate, path):
    data = report.to_dict()
    mutate(data)
    with pytest.raises(ValueError, match=re.escape(path)):
        validate(data)


def test_counts(report):
    c = report.counts()
    assert (c["checks"], c["passed"], c["failed"], c["skipped"]) == (11, 7, 3, 1)
    assert (c["error"], c["warning"], c["info"]) == (3, 1, 1)
    assert list(report.counts_by_source()) == ["example", "sweep", "check", "audit"]


# --- JUnit -----------------------------------------------------------------------------------------------


def test_junit_has_one_testcase_per_check_and_failures_carry_findings(report):
    root = ET.fromstring(render_junit(report))
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == sorted(
        (ch.name for ch in report.checks), key=lambda n: [ch.name for ch in report.checks].index(n))
    assert {c.get("name") for c in cases} == {ch.name for ch in report.checks}
    assert int(root.get("tests")) == len(report.checks)
    failures = {c.get("name"): c.find("failure") for c in cases if c.find("failure") is not None}
    assert set(failures) == {"sweep: case 4", "check: student.py:backprop", "audit: seed-derivation.md"}
    assert int(root.get("failures")) == 3
    audit = failures["audit: seed-derivation.md"]
    assert audit.get("type") == "index"
    assert "seed-derivation.md:57" in audit.text and r"fix: \delta_2^{(4)} = (a_2^{(4)} - y_2)" in audit.text
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert [c.get("name") for c in skipped] == ["example: manualbp vs nothing"]
    assert root.find("testsuite[@name='manualbp.sweep']").get("time") == "12.250"


# --- Markdown ---------------------------------------------------------------------------------------------


def test_markdown_summary_table_first_then_each_finding(report):
    md = render_markdown(report)
    lines = md.splitlines()
    assert lines[0] == "# manualbp report"
    header = lines.index("| Part | Checks | Passed | Failed | Skipped | Errors | Warnings | Info |")
    first_finding = next(i for i, ln in enumerate(lines) if ln.startswith("#### "))
    assert header < first_finding
    assert "| Derivation audit | 1 | 0 | **1** | 0 | 1 | 0 | 1 |" in lines
    assert "| Worked example | 4 | 3 | 0 | 1 | 0 | 0 | 0 |" in lines
    assert "| **Total** | **11** | **7** | **3** | **1** | **3** | **1** | **1** |" in lines
    headings = [ln for ln in lines if ln.startswith("#### ")]
    assert len(headings) == len(report.findings)
    assert headings[-2] == "#### A1 · error · index · `seed-derivation.md:57`"
    # Markdown and HTML in a message are escaped, LaTeX goes into code blocks.
    assert r"y\_2 belongs \| \<b\>not bold\</b\>" in md
    assert "```latex\n\\delta_2^{(4)} = (a_2^{(4)} - y_2)\n```" in md
    assert md.index("## Timings") > md.index("## All checks")


# --- HTML ------------------------------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_html_is_self_contained_with_plots(report):
    page = render_html(report)
    parser = _Tags()
    parser.feed(page)
    tags = parser.tags
    assert not [t for t, a in tags if t in ("script", "link", "iframe", "object", "embed")]
    for tag, attrs in tags:
        for key in ("src", "href"):
            value = attrs.get(key)
            if value is not None:
                assert value.startswith(("data:", "#")), (tag, key, value[:60])
    assert "url(" not in page and "@import" not in page
    imgs = [a for t, a in tags if t == "img"]
    # heatmaps of the worked example and of the failing subject, the sweep's error distribution, oracle agreement
    assert len(imgs) == 4
    for a in imgs:
        assert a["src"].startswith("data:image/svg+xml;base64,")
        assert len(a["alt"]) > 40 and int(a["width"]) > 0 and int(a["height"]) > 0
    assert "<b>not bold</b>" not in page and "&lt;b&gt;not bold&lt;/b&gt;" in page
    ids = [a["id"] for _, a in tags if "id" in a]
    assert len(ids) == len(set(ids))
    for _, a in tags:
        if a.get("href", "").startswith("#"):
            assert a["href"][1:] in ids
    assert page.index("Worked example") < page.index("Derivation audit") < page.index(TIMINGS_BEGIN)


def test_html_heatmap_reflects_the_error_ratios(report):
    page = render_html(report)
    # W^(2) doubled: all 16 entries over the tolerance; b^(1) sign-flipped: all 4.
    assert "W^(2) 4×4, 16 entries over tolerance" in page
    assert "b^(1) 4×1, 4 entries over tolerance" in page


# --- files, determinism ----------------------------------------------------------------------------------


def _strip_timings(text: str) -> str:
    return re.sub(re.escape(TIMINGS_BEGIN) + ".*?" + re.escape(TIMINGS_END), "", text, flags=re.S)


def test_write_all_is_deterministic_and_timings_are_separate(report, tmp_path):
    a = write_all(report, tmp_path / "a")
    b = write_all(synthetic_report(), tmp_path / "b")
    assert set(a) == set(FILES) and all(p.name == FILES[k] for k, p in a.items())
    for kind in FILES:
        assert a[kind].read_bytes() == b[kind].read_bytes(), kind
    other = synthetic_report()
    other.timings = {"example": 9.0, "sweep": 99.0, "total": 120.0}
    c = write_all(other, tmp_path / "c")
    for kind in ("md", "html"):
        ta, tc = a[kind].read_text(encoding="utf-8"), c[kind].read_text(encoding="utf-8")
        assert ta != tc
        assert _strip_timings(ta) == _strip_timings(tc)
    ja, jc = (json.loads(p["json"].read_text(encoding="utf-8")) for p in (a, c))
    assert ja.pop("timings") != jc.pop("timings") and ja == jc


def test_terminal_summary_prints_counts(report):
    from rich.console import Console

    from oracles.render.terminal import print_summary

    console = Console(record=True, width=120)
    print_summary(report, console=console, paths={"md": "reports/index.md"})
    text = console.export_text()
    assert "11 checks: 7 passed, 3 failed, 1 skipped" in text
    assert "A1 error index seed-derivation.md:57" in text and "reports/index.md" in text


# --- the real main job, end to end -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """`manualbp report` with a small sweep: exit code, output directory, captured output."""
    import contextlib
    import io

    from oracles.cli import main

    out = tmp_path_factory.mktemp("reports")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["report", "--cases", "12", "--seed", "3", "--out", str(out), "--no-progress"])
    return code, out, buf.getvalue()


def test_real_report_writes_four_valid_files(real_run):
    code, out, printed = real_run
    assert code == 0  # the seed has findings, but the report's job is to report them
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES.values())
    data = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, schema(), cls=jsonschema.Draft202012Validator)
    report = Report.from_dict(data)
    assert data["sections"]["run"]["command"] == "manualbp report --cases 12 --seed 3"
    assert data["sections"]["sweep"]["cases"] == 12 and data["sections"]["sweep"]["seed"] == 3
    assert len(data["sections"]["sweep"]["error_ratio"]) == 12
    # the worked example: one check per oracle, manualbp agrees with each
    example = [c for c in report.checks if c.source == "example"]
    assert [c.name for c in example] == [f"example: manualbp vs {n}" for n in ("torch", "jax", "fd")]
    assert all(c.passed for c in example)
    assert [s["symbol"] for s in data["sections"]["example"]["steps"]][:2] == ["a^(1)", "z^(2)"]
    # the audit of the shipped seed derivation has findings with line numbers, in the seed's file
    audit = [f for f in report.findings if f.source == "audit"]
    assert audit and all(f.where.file == "seed-derivation.md" and f.where.line for f in audit)
    assert any(f.severity == "error" for f in audit)
    # counts are said on the terminal
    c = report.counts()
    assert f"{c['checks']} checks: {c['passed']} passed, {c['failed']} failed" in printed
    assert "timings" in data and data["timings"]["total"] > 0


def test_real_report_junit_lists_one_case_per_check(real_run):
    _, out, _ = real_run
    report = Report.from_json((out / "findings.json").read_text(encoding="utf-8"))
    root = ET.parse(out / "junit.xml").getroot()
    assert sorted(c.get("name") for c in root.iter("testcase")) == sorted(c.name for c in report.checks)
    failing = {c.get("name") for c in root.iter("testcase") if c.find("failure") is not None}
    assert failing == {c.name for c in report.failed_checks}


def test_real_report_markdown_and_html(real_run):
    _, out, _ = real_run
    md = (out / "index.md").read_text(encoding="utf-8")
    assert "| Part | Checks | Passed | Failed | Errors | Warnings | Info |" in md
    assert md.index("## Summary") < md.index("## Worked example") < md.index("## Sweep") < md.index("## Findings")
    page = (out / "index.html").read_text(encoding="utf-8")
    assert page.count('<img src="data:image/svg+xml;base64,') == 3  # example heatmap, sweep distribution, agreement
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
