"""``manualbp report``: the main job; writes index.md, index.html, findings.json and junit.xml."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand."""
    from ..mainjob import DEFAULT_SWEEP_CASES

    p = sub.add_parser(
        "report",
        help="run the worked example, a sweep and the derivation audit; write reports/",
        description="The main job: the derivation's worked example through manualbp and every oracle, a sweep of "
                    "manualbp against the oracles over random architectures, the audit of a derivation (default: "
                    "the seed shipped with manualbp) and optional subject checks. Writes index.md, index.html, "
                    "findings.json and junit.xml. The exit code is 0 even when there are findings: reporting them "
                    "is the job (use `manualbp audit` or `manualbp check` to gate CI).",
    )
    p.add_argument("--out", default="reports", metavar="DIR", help="output directory (default: reports)")
    p.add_argument("--derivation", metavar="FILE", help="Markdown derivation to audit (default: the shipped seed)")
    p.add_argument("--subject", action="extend", nargs="+", default=[], metavar="SPEC",
                   help="subject(s) to check: path/to/file.py:function or package.module:function")
    claims = p.add_argument_group("what the subjects compute (see `manualbp check --help`)")
    claims.add_argument("--hidden", metavar="ACT", help="activation of the hidden layers (default: sigmoid)")
    claims.add_argument("--output", metavar="ACT", help="activation of the output layer (default: as --hidden)")
    claims.add_argument("--cost", metavar="COST", help="cost, one of manualbp's named costs (default: half_mse)")
    claims.add_argument("--scale", type=float, metavar="K", help="the subject's cost is K times the named cost")
    claims.add_argument("--layout", metavar="LAYOUT", help="standard | columns | xw | flat")
    p.add_argument("--cases", type=int, default=DEFAULT_SWEEP_CASES, metavar="N",
                   help=f"number of random cases in the sweep, 0 to skip it (default: {DEFAULT_SWEEP_CASES})")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the sweep and checks (default: 0)")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Build the report, write the four files, print a summary; 0 unless the job could not run."""
    from rich.console import Console

    from ..mainjob import build_report
    from ..render import write_all
    from ..render.terminal import print_summary

    if args.cases < 0:
        raise ValueError(f"--cases must be >= 0, got {args.cases}")
    declared = {k: getattr(args, k) for k in ("hidden", "output", "cost", "scale", "layout")
                if getattr(args, k) is not None}
    report = build_report(derivation=args.derivation, subject=args.subject or None, sweep_cases=args.cases,
                          seed=args.seed, progress=args.progress, declared=declared)
    paths = write_all(report, args.out)
    print_summary(report, console=Console(), paths=paths)
    return 0
