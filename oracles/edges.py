"""What makes a case a numerical edge case: exact kinks, saturated units, extreme magnitudes.

:func:`edge_features` reads them off a case's forward pass (in the case's dtype), so that a failure found
on an edge case (:func:`oracles.strategies.cases` with ``edge=True``) says which edge it needed, e.g.
"z^(2)[0] = 0 exactly (relu's kink), sample 0".
"""

from __future__ import annotations

import numpy as np

from manualbp import Case, forward
from manualbp.activations import KINKED

SATURATED_BELOW = 1e-15
"""A sigmoid/softmax output this close to 0 or 1 (or a tanh this close to ±1) counts as saturated."""

LARGE, SMALL = 2.0**20, 2.0**-20
"""|x| at least LARGE, or at most SMALL (and not 0), counts as an extreme magnitude."""

MAX_LISTED = 3
"""Features listed per kind; the rest are counted."""


def edge_kinds(hidden: str, output: str) -> str:
    """What the edge cases of a network with these activations try, as a phrase."""
    acts = {hidden, output}
    kinds = []
    kinked = sorted(acts & KINKED)
    if kinked:
        kinks = "/".join(kinked)
        kinds.append(f"{kinks} units at z = 0 exactly")
    sat = [a for a in ("sigmoid", "tanh", "softmax") if a in acts]
    if sat:
        kinds.append(f"saturated {'/'.join(sat)} units")
    kinds.append("tiny and huge inputs (2^±24)")
    return ", ".join(kinds)


def _unit(L: int, i: int, j: int | None) -> str:
    return f"z^({L})[{i}]" + ("" if j is None else f" (sample {j})")


def edge_features(case: Case) -> list[str]:
    """The case's numerical edges, one short phrase each (empty for a well-conditioned case)."""
    with np.errstate(all="ignore"):
        fwd = forward(case, with_cost=False)
    batched = case.batched
    kinks: list[str] = []
    saturated: list[str] = []
    for L in range(2, case.arch.depth + 1):
        act = case.arch.activations[L - 2]
        z = np.asarray(fwd.z[L], np.float64).reshape(case.arch.widths[L - 1], -1)
        a = np.asarray(fwd.a[L], np.float64).reshape(z.shape)
        if act in KINKED:
            for i, j in np.argwhere(z == 0):
                kinks.append(f"{_unit(L, int(i), int(j) if batched else None)} = 0 exactly ({act}'s kink)")
        elif act == "sigmoid":
            for i, j in np.argwhere((a <= SATURATED_BELOW) | (1 - a <= SATURATED_BELOW)):
                saturated.append(f"σ({_unit(L, int(i), int(j) if batched else None)}) = {a[i, j]:.3g} "
                                 f"(z = {z[i, j]:.3g}, saturated)")
        elif act == "softmax" and z.shape[0] > 1:  # one unit: softmax is 1 whatever z is
            for i, j in np.argwhere(1 - a <= SATURATED_BELOW):
                saturated.append(f"softmax output {i} = {a[i, j]:.3g}" + (f" (sample {j})" if batched else "")
                                 + f", saturated (the others ≤ {np.sort(a[:, j])[-2]:.2g})")
        elif act == "tanh":
            for i, j in np.argwhere(1 - np.abs(a) <= SATURATED_BELOW):
                saturated.append(f"tanh({_unit(L, int(i), int(j) if batched else None)}) = {a[i, j]:.3g} "
                                 f"(z = {z[i, j]:.3g}, saturated)")
    out = _listed(kinks) + _listed(saturated)
    top = float(np.max(np.abs(case.x), initial=0.0))
    if top >= LARGE or 0 < top <= SMALL:
        out.append(f"{'huge' if top >= LARGE else 'tiny'} inputs (max |x| = {top:.3g})")
    return out


def _listed(items: list[str]) -> list[str]:
    if len(items) <= MAX_LISTED:
        return items
    return [*items[:MAX_LISTED], f"and {len(items) - MAX_LISTED} more like these"]
