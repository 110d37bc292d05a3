"""Sums with a number for their upper limit: \\sum_{k=1}^{2} states the width of the layer k runs over.

Such an equation is a statement about this network, so it is checked on the worked example and on
random networks of the same widths only; where the number disagrees with the width of what the index
runs over, the limit itself is the mistake (:func:`wrong_limits`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .semantics import Env, EvalError, index_extent
from .tree import IndexRange, Node, Num, Sum, rebuild


def literal_limit_sums(members: list[Node]) -> list[Sum]:
    """The sums whose upper limit is a number (\\sum_{k=1}^{2}), in source order."""
    return [n for m in members for n in m.walk() if isinstance(n, Sum) and isinstance(n.hi, Num)]


@dataclass
class WrongLimit:
    """A literal upper limit that is not the width its index runs over."""

    node: Sum
    written: int
    widths: dict[str, int]  # context description -> the width there
    env: Env  # a context where they differ

    @property
    def right(self) -> int | None:
        """The one width the index runs over in every context, if there is one."""
        values = set(self.widths.values())
        return values.pop() if len(values) == 1 else None


def extent(s: Sum, env: Env) -> int | None:
    """How far the index of ``s`` runs where its body uses it, or None when that cannot be told."""
    try:
        return index_extent(s.body, s.var, env)
    except EvalError:
        return None


def context_text(env: Env) -> str:
    """'worked example at l=3': the instance and the index values of a context."""
    where = ", ".join(f"{k}={v}" for k, v in sorted(env.assign.items()))
    return f"{env.inst.label}" + (f" at {where}" if where else "")


def wrong_limits(members: list[Node], envs: list[Env], holds, layer_vars: set[str] = frozenset()) -> list[WrongLimit]:
    """Literal limits that differ from the width their index runs over, where running the sum over that width
    instead makes the equation hold (``holds(members)`` says whether a chain holds in every context).  The
    widths are told per value of the layer variables (``layer_vars``), on the first instance."""
    out = []
    for s in literal_limit_sums(members):
        written = int(s.hi.value)
        widths: dict[str, int] = {}
        bad: Env | None = None
        for env in envs:
            n = extent(s, env)
            if n is None:
                continue
            if env.inst is envs[0].inst:
                where = ", ".join(f"{k}={v}" for k, v in sorted(env.assign.items()) if k in layer_vars)
                widths[f"at {where}" if where else "here"] = n
            if n != written and bad is None:
                bad = env
        if bad is None:
            continue
        opened = replace(s, hi=IndexRange(s.var, span=s.hi.span))
        if holds([rebuild(m, s, opened) for m in members]):
            out.append(WrongLimit(s, written, widths, bad))
    return out
