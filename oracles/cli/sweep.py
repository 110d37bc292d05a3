"""``manualbp sweep``: N random architectures against every oracle, grouped, vectorised, in parallel."""

from __future__ import annotations

import argparse
import json
import sys


def _oracle_list(text: str) -> tuple[str, ...]:
    from oracles.base import ORACLE_NAMES

    names = tuple(n.strip() for n in text.split(",") if n.strip())
    bad = [n for n in names if n not in ORACLE_NAMES]
    if not names or bad:
        raise argparse.ArgumentTypeError(f"unknown oracle(s) {bad or text!r}; choose from {','.join(ORACLE_NAMES)}")
    return names


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` subcommand."""
    p = sub.add_parser("sweep", help="check N random architectures against torch, JAX and finite differences",
                       description="Check manualbp's gradients on N random architectures (1-4 weight layers, "
                                   "widths 1-8, every activation and cost, float64 and float32) against every "
                                   "oracle; failures are shrunk by Hypothesis before they are reported.")
    p.add_argument("--cases", type=_positive, default=1000, metavar="N", help="number of random cases (default 1000)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the random architectures (default 0)")
    p.add_argument("--workers", type=_positive, default=1, metavar="K", help="processes to spread the chunks over")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the chunks on an existing Dask cluster, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--oracles", type=_oracle_list, default=("torch", "jax", "fd"), metavar="LIST",
                   help="comma-separated oracles (default torch,jax,fd)")
    p.add_argument("--out", default=None, metavar="DIR", help="write the report (index.md, findings.json, …) here")
    p.add_argument("--format", choices=("text", "json"), default="text", help="what to print on stdout")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def _write(report, outdir: str) -> dict:
    """Write through the report generator when it is there, else findings.json alone."""
    from pathlib import Path

    try:
        from oracles.render import write_all
    except ImportError:
        write_all = None
    if write_all is not None:
        return {k: str(v) for k, v in write_all(report, Path(outdir)).items()}
    path = Path(outdir)
    path.mkdir(parents=True, exist_ok=True)
    (path / "findings.json").write_text(json.dumps(report.to_dict(), indent=2))
    return {"findings.json": str(path / "findings.json")}


def _print_text(report) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    s, t = report.sections["sweep"], report.timings.get("sweep", {})
    console.print(f"[bold]sweep[/]: {s['cases']} cases (seed {s['seed']}, {s['architectures']} distinct "
                  f"architectures), oracles {escape(', '.join(s['oracles']))}")
    table = Table(title="verdicts")
    table.add_column("status")
    table.add_column("cases", justify="right")
    for status, n in sorted(s["by_status"].items()):
        table.add_row(escape(status), str(n))
    console.print(table)
    agree = ", ".join(f"{k} {v:.1e}" for k, v in s["oracle_agreement"].items())
    rel = ", ".join(f"{k} {v:.1e}" for k, v in s["max_rel_err"].items())
    console.print(f"max relative error of the subject: {rel}\noracle agreement (max relative difference): {agree}")
    if t:
        console.print(f"{t['seconds']:.1f} s, {t['cases_per_second']:.0f} cases/s, workers {t['workers']}"
                      f"{', scheduler ' + t['scheduler'] if t.get('scheduler') else ''}"
                      f"{', JAX compilations ' + str(t['compile_count']) if 'jax' in s['oracles'] else ''}")
    for check in report.checks:
        if not check.passed:
            console.print(f"[red]FAIL[/] {escape(check.name)}: {escape(check.summary)}")
    for f in report.errors[:20]:
        console.print(f"  [red]{escape(f.kind)}[/] {escape(str(f.where))}: {escape(f.message)}")
        if f.reproduce:
            console.print(f"    reproduce: {escape(f.reproduce)}")


def run(args: argparse.Namespace) -> int:
    """Run the sweep; exit code 1 when the subject failed on some case."""
    from oracles.sweep import run_sweep

    report = run_sweep(args.cases, seed=args.seed, oracles=args.oracles, workers=args.workers,
                       scheduler=args.scheduler, progress=not args.no_progress and args.format == "text")
    written = _write(report, args.out) if args.out else {}
    if args.format == "json":
        json.dump({**report.to_dict(), "written": written}, sys.stdout, indent=2)
        print()
    else:
        _print_text(report)
        for name, path in written.items():
            print(f"wrote {name}: {path}")
    return 0 if all(c.passed for c in report.checks) else 1
