"""``manualbp example``: the derivation's worked example, every intermediate in its order."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``example`` subcommand."""
    p = sub.add_parser("example", help="print the derivation's worked example, computed by manualbp")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.set_defaults(run=run)


def example_dict(dtype: str = "float64") -> dict:
    """The worked example's problem and steps as plain JSON data."""
    from manualbp.example import seed_case, worked_example

    case = seed_case(dtype)
    problem = {}
    for L, (W, b) in enumerate(zip(case.weights, case.biases), start=1):
        problem[f"W^({L})"] = W.tolist()
        problem[f"b^({L})"] = b.tolist()
    problem["x"] = case.x.tolist()
    problem["y"] = case.y.tolist()
    return {
        "network": {"widths": list(case.arch.widths), "activations": list(case.arch.activations),
                    "cost": case.arch.cost, "dtype": case.dtype},
        "problem": problem,
        "steps": [
            {"symbol": s.symbol, "latex": s.latex, "value": s.value.tolist(),
             "decimals": s.decimals, "rounded": s.rounded().tolist()}
            for s in worked_example(case)
        ],
    }


def _fmt(value, spec: str) -> str:
    if isinstance(value, list):
        inner = ", ".join(_fmt(v, spec) for v in value)
        return f"[{inner}]"
    return format(value, spec)


def run(args: argparse.Namespace) -> int:
    """Print the worked example."""
    data = example_dict(args.dtype)
    if args.format == "json":
        print(json.dumps(data, indent=2))
        return 0
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    net = data["network"]
    console.print("[bold]Worked example[/]: " + escape(
        f"widths {net['widths']}, activations {net['activations']}, "
        f"cost {net['cost']} (C = ½·Σ_k (a_k − y_k)²/n_L), {net['dtype']}"))
    problem = Table(title="PROBLEM", show_lines=False)
    problem.add_column("symbol")
    problem.add_column("value")
    for k, v in data["problem"].items():
        problem.add_row(escape(k), escape(_fmt(v, "g")))
    console.print(problem)
    steps = Table(title="Intermediates, in the derivation's order", show_lines=True)
    steps.add_column("symbol", style="bold")
    steps.add_column("full precision")
    steps.add_column("as the derivation rounds")
    for s in data["steps"]:
        steps.add_row(escape(s["symbol"]), escape(_fmt(s["value"], ".17g")),
                      escape(_fmt(s["rounded"], f".{s['decimals']}f")))
    console.print(steps)
    return 0
