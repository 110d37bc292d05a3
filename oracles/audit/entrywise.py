"""A worked example given entry by entry: w^{(1)}_{12} = 0.8, b^{(1)}_2 = 0.1, x_1 = 0.5, y_1 = 1.

Each weight entry w^{(l)}_{jk} is read as the weight from input unit k to unit j of the layer W^{(l)} maps into
(Nielsen's convention), unless the document's own sums say the first subscript is the input unit
(z_j = Σ_i w_{ij} a_i). Subscripts are 1-based, or 0-based when the document writes an index 0. A matrix or
vector is assembled only when every one of its entries is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .extract import Equation
from .semantics import sym_kind
from .tree import Deriv, Neg, Node, Num, Paren, Sum, Sym


@dataclass
class Entries:
    """The entry-wise values a document gives, and what is missing from them."""

    values: dict = field(default_factory=dict)  # (kind, doc layer) -> {subscripts: (value, equation)}
    gaps: list[str] = field(default_factory=list)  # "w^{(2)}_{21}, w^{(2)}_{22}" for each partly given quantity

    def assembled(self, input_first: bool) -> dict:
        """(kind, doc layer) -> (array, first equation) of each fully given quantity; sets ``gaps`` for the rest."""
        base = 0 if any(0 in subs for group in self.values.values() for subs in group) else 1
        extent = self._extents(input_first)
        out: dict = {}
        self.gaps = []
        for key, group in sorted(self.values.items()):
            kind, _ = key
            ndim = 2 if kind == "w" else 1
            if any(len(s) != ndim for s in group):
                continue  # b_{11}, x_{12}: not the entries this reading knows
            hi = [extent[slot] for slot in self._slots(key, input_first)]
            missing = [tuple(i + base for i in t) for t in np.ndindex(*[h - base + 1 for h in hi])
                       if tuple(i + base for i in t) not in group]
            if missing:
                self.gaps.append(", ".join(_name(key, m) for m in missing))
                continue
            arr = np.zeros([h - base + 1 for h in hi])
            for subs, (val, _) in group.items():
                arr[tuple(i - base for i in subs)] = val
            if kind == "w" and input_first:
                arr = arr.T
            first = min((eq for _, eq in group.values()), key=lambda e: e.index)
            out[key] = (arr, first)
        return out

    def _slots(self, key: tuple, input_first: bool) -> tuple:
        """The unit layer (0 = input, one per weight layer after it) each subscript of ``key`` counts."""
        kind, layer = key
        order = sorted(k for kd, k in self.values if kd == "w")
        pos = order.index(layer) if layer in order else (len(order) - 1 if kind == "b" and order else 0)
        if kind == "w":
            return (pos, pos + 1) if input_first else (pos + 1, pos)
        if kind == "b":
            return (pos + 1,) if layer in order else (("b", layer),)
        return (0,) if kind == "x" else (len(order),)

    def _extents(self, input_first: bool) -> dict:
        """The largest subscript written for each unit layer, over every quantity that counts its units."""
        extent: dict = {}
        for key, group in self.values.items():
            slots = self._slots(key, input_first)
            for subs in group:
                if len(subs) == len(slots):
                    for slot, i in zip(slots, subs):
                        extent[slot] = max(extent.get(slot, 0), i)
        return extent


def _name(key: tuple, subs: tuple[int, ...]) -> str:
    kind, layer = key
    sup = f"^{{({layer})}}" if kind in ("w", "b") else ""
    return f"{kind}{sup}_{{{''.join(str(s) for s in subs)}}}"


def _number(node: Node) -> float | None:
    """The value of a literal number (−0.2 too); None for anything else."""
    while isinstance(node, Paren):
        node = node.x
    if isinstance(node, Neg):
        v = _number(node.x)
        return None if v is None else -v
    return node.value if isinstance(node, Num) else None


def entry_key(s: Sym) -> tuple | None:
    """((kind, doc layer), subscripts) when ``s`` names one entry of W, b, x or y with literal subscripts."""
    kind = sym_kind(s)
    if kind not in ("w", "b", "x", "y") or not s.sub or s.transpose or s.prime:
        return None
    if not all(isinstance(n, Num) and float(n.value).is_integer() and n.value >= 0 for n in s.sub):
        return None
    if kind in ("w", "b"):
        if not isinstance(s.layer, Num):
            return None
        key = (kind, int(s.layer.value))
    elif s.layer is not None:
        return None
    else:
        key = (kind, 0)
    return key, tuple(int(n.value) for n in s.sub)


def read_entries(eqs: list[Equation]) -> Entries:
    """Every equation 'entry = number' (the first value given for each entry)."""
    found = Entries()
    for eq in eqs:
        if len(eq.members) < 2:
            continue
        lhs = eq.members[0]
        while isinstance(lhs, Paren):
            lhs = lhs.x
        if not isinstance(lhs, Sym):
            continue
        vals = [_number(m) for m in eq.members[1:]]
        if any(v is None for v in vals):
            continue
        ek = entry_key(lhs)
        if ek is None:
            continue
        key, subs = ek
        found.values.setdefault(key, {}).setdefault(subs, (vals[-1], eq))
    return found


def weights_input_first(eqs: list[Equation]) -> bool | None:
    """True when the document's sums make w_{jk}'s first subscript the input unit (Σ_j w_{jk} a_j), False when
    the second (Σ_k w_{jk} a_k, Nielsen), None when it never says."""
    votes = {True: 0, False: 0}
    for eq in eqs:
        for m in eq.members:
            for n in m.walk():
                if isinstance(n, Sum):
                    _vote_sum(n, votes)
    if votes[True] == votes[False]:
        return None
    return votes[True] > votes[False]


def _vote_sum(s: Sum, votes: dict) -> None:
    """In Σ_v w_{..} a_v: which subscript of w is the summed (input) index."""
    ins = [n for n in s.body.walk() if isinstance(n, Sym) and sym_kind(n) in ("a", "x") and len(n.sub) == 1
           and isinstance(n.sub[0], Sym) and n.sub[0].name == s.var]
    if not ins:
        return
    for n in s.body.walk():
        if isinstance(n, Deriv):
            return
        if isinstance(n, Sym) and sym_kind(n) == "w" and len(n.sub) == 2:
            pos = [i for i, x in enumerate(n.sub) if isinstance(x, Sym) and x.name == s.var]
            if len(pos) == 1:
                votes[pos[0] == 0] += 1
