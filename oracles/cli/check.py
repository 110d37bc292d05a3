"""``manualbp check``: is someone's backprop right, and if not, what did they get wrong?

    manualbp check path/to/student.py:backprop --hidden sigmoid --output sigmoid --cost half_sse

Exit codes: 0 correct, 1 wrong (or misbehaving), 2 usage error (bad arguments, subject not found).
"""

from __future__ import annotations

import argparse
import sys

LAYOUTS = ("standard", "columns", "xw", "flat")
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity", "softmax")
COSTS = ("half_mse", "half_sse", "mse", "bce", "softmax_ce")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``check`` subcommand."""
    p = sub.add_parser(
        "check", help="check a backprop function against the oracles; minimal counterexample and diagnosis",
        description="Check someone's backprop against the oracles on Hypothesis-generated networks. Declare "
                    "what the function computes; do not change its code. Exit 0 correct, 1 wrong, 2 usage error.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  manualbp check student.py:backprop --hidden sigmoid --output sigmoid --cost half_sse\n"
               "  manualbp check student.py:backprop --cost half_sse --scale 0.5      # C = 1/4 sum (a - y)^2\n"
               "  manualbp check network.py:backprop --layout columns --returns db,dW  # Nielsen's style\n"
               "  manualbp check mypkg.nn:grads --layout xw --batch rows --format json")
    p.add_argument("subject", help="path/to/file.py:function or package.module:function")
    p.add_argument("--hidden", default="sigmoid", choices=ACTIVATIONS[:-1], help="hidden-layer activation")
    p.add_argument("--output", default=None, choices=ACTIVATIONS, help="output activation (default: --hidden)")
    p.add_argument("--cost", default="half_sse", choices=COSTS,
                   help="the cost, as one of manualbp's (half_sse = 1/2 sum (a-y)^2, half_mse = the seed's "
                        "1/2 sum (a-y)^2 / n_L, mse, bce, softmax_ce); default half_sse")
    p.add_argument("--scale", type=float, default=1.0,
                   help="your cost is this constant times --cost (e.g. 0.5 for 1/4 sum (a-y)^2)")
    p.add_argument("--layout", default="standard", choices=LAYOUTS,
                   help="standard: W (n_out, n_in), b (n_out,); columns: Nielsen's (n, 1) biases and column "
                        "vectors; xw: W stored (n_in, n_out); flat: f(theta, sizes, x, y) -> grad")
    p.add_argument("--batch", default="none", choices=("none", "columns", "rows"),
                   help="x holds one sample (none), one sample per column, or one per row")
    p.add_argument("--reduction", default="mean", choices=("mean", "sum"),
                   help="a batched cost averages (mean) or sums the per-sample costs")
    p.add_argument("--returns", default="dW,db", choices=("dW,db", "db,dW"), help="order of the returned lists")
    p.add_argument("--dtype", default="float64", choices=("float64", "float32"),
                   help="dtype of the generated cases")
    p.add_argument("--max-examples", type=int, default=None,
                   help="Hypothesis examples (default: the active profile's; see --profile)")
    p.add_argument("--profile", default=None, choices=("ci", "thorough", "dev"),
                   help="Hypothesis profile (default: $MANUALBP_HYPOTHESIS_PROFILE or ci)")
    p.add_argument("--oracles", default="torch,fd", help="comma-separated judges among torch, jax, fd")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds allowed per call of the subject")
    p.add_argument("--seed", type=int, default=None, help="Hypothesis seed (default: derandomized)")
    p.add_argument("--max-layers", type=int, default=4, help="largest number of layers N generated, input and "
                   "output included (N − 1 weight matrices; default 4)")
    p.add_argument("--max-width", type=int, default=4, help="largest layer width generated")
    p.add_argument("--edge-cases", action=argparse.BooleanOptionalAction, default=True,
                   help="after the random search, try numerical edge cases: relu/leaky_relu units exactly at the "
                        "kink (z = 0), saturated sigmoid/tanh/softmax units, inputs of magnitude 2^±24 (a third as "
                        "many examples, at least 10; default on)")
    p.add_argument("--rtol", type=float, default=0.0,
                   help="also accept gradients within RTOL of the oracles, relative to each entry's scale (the sum "
                        "of |terms| that build it), beyond the rounding of the derivation's formulas: for a backprop "
                        "known to compute less exactly (default 0: rounding only)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(run=run)


def _validate(args: argparse.Namespace) -> list[str]:
    oracles = [o.strip() for o in args.oracles.split(",") if o.strip()]
    bad = [o for o in oracles if o not in ("torch", "jax", "fd")]
    if not oracles or bad:
        raise ValueError(f"--oracles must name some of torch, jax, fd; got {args.oracles!r}")
    if args.max_examples is not None and args.max_examples < 1:
        raise ValueError(f"--max-examples must be at least 1; got {args.max_examples}")
    if args.timeout <= 0:
        raise ValueError(f"--timeout must be positive; got {args.timeout}")
    if args.max_layers < 2 or args.max_width < 1:
        raise ValueError("--max-layers must be at least 2 and --max-width at least 1")
    if not 0 <= args.rtol < float("inf"):
        raise ValueError(f"--rtol must be a finite number >= 0; got {args.rtol}")
    return oracles


def run(args: argparse.Namespace) -> int:
    """Check the subject; print the verdict, minimal case, diagnosis and reproducer."""
    from oracles.base import MissingDependency
    from oracles.checker import check
    from oracles.profiles import load_profile
    from oracles.subject import as_subject

    oracles = _validate(args)
    subject = as_subject(args.subject, hidden=args.hidden, output=args.output, cost=args.cost, scale=args.scale,
                         layout=args.layout, batch=None if args.batch == "none" else args.batch,
                         reduction=args.reduction, returns=args.returns, dtype=args.dtype)
    load_profile(args.profile)
    try:
        result = check(subject, max_examples=args.max_examples, oracles=oracles, timeout=args.timeout,
                       seed=args.seed, max_layers=args.max_layers, max_width=args.max_width,
                       edge_cases=args.edge_cases, rtol=args.rtol)
    except MissingDependency as exc:
        print(f"manualbp check: error: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(result.to_report().to_json(), end="")
        return 0 if result.passed else 1
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    text = result.text()
    head, _, body = text.partition("\n")
    console.print(("[bold green]" if result.passed else "[bold red]") + _escape(head) + "[/]")
    console.print(body, markup=False)
    return 0 if result.passed else 1


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
