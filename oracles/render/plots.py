"""The report's figures (matplotlib), as self-contained SVG data URIs with alt text.

Figures are built with :class:`matplotlib.figure.Figure` (no pyplot, no global
state) and saved with fixed metadata and a fixed hash salt, so the same data
gives byte-identical SVG.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..findings import Finding
from .common import as_ratio_array, fmt_num

INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#d9dee4"
OK = "#2b7a4b"
BAD = "#b42318"
ACCENT = "#2457a6"

RC = {
    "svg.hashsalt": "manualbp",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlecolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.labelcolor": INK,
    "ytick.labelcolor": INK,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "hatch.linewidth": 0.6,
}


@dataclass(frozen=True)
class Plot:
    """An embedded figure: its data URI, alt text, and pixel size."""

    uri: str
    alt: str
    width: int
    height: int


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=96, layout="constrained")


def _save(fig, alt: str) -> Plot:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    w, h = (round(v * fig.dpi) for v in fig.get_size_inches())
    uri = "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return Plot(uri, alt, w, h)


def _rc():
    import matplotlib

    return matplotlib.rc_context(RC)


def _finite(values: Sequence) -> np.ndarray:
    arr = np.array([np.nan if v is None or isinstance(v, str) else float(v) for v in values], dtype=float)
    return arr[np.isfinite(arr)]


@dataclass(frozen=True)
class Panel:
    """One heatmap panel: a parameter's |error| / tolerance array and the entry to box (or None)."""

    label: str
    ratio: np.ndarray  # 2-D; a bias is one column
    entry: tuple[int, ...] | None = None


def finding_panels(findings: Sequence[Finding]) -> list[Panel]:
    """Panels of the findings that carry ``values['error_ratio']``."""
    out = []
    for f in findings:
        arr = as_ratio_array(f.values.get("error_ratio"))
        if arr is not None:
            out.append(Panel(f"{f.where.param or '?'}^({f.where.layer})", arr, f.where.entry))
    return out


def error_heatmaps(panels: Sequence[Panel], title: str) -> Plot | None:
    """Heatmaps of |error| / tolerance, one panel per (layer, parameter), on one log colour scale."""
    panels = [p for p in panels if p.ratio.size]
    if not panels:
        return None
    from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm

    cmap = LinearSegmentedColormap.from_list("tolerance", [
        (0.0, "#1d4f91"), (0.4999, "#e3ecf7"), (0.5, "#fdb863"), (0.75, "#e34a33"), (1.0, "#67000d")])
    logs = [np.log10(np.clip(np.nan_to_num(p.ratio, nan=0.0, posinf=1e300), 1e-3, None)) for p in panels]
    top = max(1.0, max(float(np.max(lg)) for lg in logs))
    norm = TwoSlopeNorm(vmin=-3.0, vcenter=0.0, vmax=top)
    widths = [max(p.ratio.shape[1], 1) for p in panels]
    rows = max(p.ratio.shape[0] for p in panels)
    fig_w = min(11.0, 1.6 + sum(0.55 * w + 0.9 for w in widths))
    fig_h = min(6.5, 1.9 + 0.45 * rows)
    with _rc():
        fig = _figure(fig_w, fig_h)
        axes = fig.subplots(1, len(panels), width_ratios=widths, squeeze=False)[0]
        image = None
        for ax, p, lg in zip(axes, panels, logs):
            arr = p.ratio
            image = ax.imshow(lg, cmap=cmap, norm=norm, aspect="equal", interpolation="nearest")
            ax.set_title(f"∂C/∂{p.label}", fontsize=10)
            ax.set_xticks(range(arr.shape[1]))
            ax.set_yticks(range(arr.shape[0]))
            ax.tick_params(length=0, labelsize=8)
            for s in ax.spines.values():
                s.set_visible(False)
            if arr.size <= 48:
                for (i, j), r in np.ndenumerate(arr):
                    pos = float(norm(lg[i, j]))
                    dark = pos < 0.2 or pos > 0.7
                    ax.text(j, i, _short(r), ha="center", va="center", fontsize=7,
                            color="white" if dark else INK)
            if p.entry is not None and len(p.entry) in (1, 2):
                i, j = (p.entry[0], 0) if len(p.entry) == 1 else p.entry
                ax.add_patch(_box(j, i, "white", 3.5))
                ax.add_patch(_box(j, i, INK, 1.5))
        cbar = fig.colorbar(image, ax=list(axes), shrink=0.9, pad=0.02)
        cbar.set_label("|error| / tolerance")
        step = max(1, math.ceil(math.floor(top) / 4))
        ticks = [-3, -2, -1, *range(0, int(math.floor(top)) + 1, step)]
        cbar.set_ticks(ticks, labels=[_pow10(t) for t in ticks])
        cbar.ax.axhline(0.0, color=INK, linewidth=1.2)
        worst = max(float(np.nanmax(p.ratio)) for p in panels)
        alt = (f"Heatmaps of |error|/tolerance for {title}: "
               + "; ".join(f"{p.label} {p.ratio.shape[0]}×{p.ratio.shape[1]}, "
                           f"{int(np.sum(p.ratio > 1))} entries over tolerance" for p in panels)
               + f". Worst ratio {fmt_num(worst, '.3g')}. Orange to red is over the tolerance, blue within"
               + ("; the boxed cell is the worst entry." if any(p.entry is not None for p in panels) else "."))
        return _save(fig, alt)


def _box(x: float, y: float, colour: str, width: float):
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.45, y - 0.45), 0.9, 0.9, fill=False, edgecolor=colour, linewidth=width)


def _short(r: float) -> str:
    if not math.isfinite(r):
        return "∞"
    if r == 0:
        return "0"
    if r < 0.01:
        return "<.01"
    return format(r, ".2g").replace("e+0", "e").replace("e+", "e")


def _pow10(t: int) -> str:
    return {0: "1 (tol)", 1: "10", -1: "0.1"}.get(t, f"1e{t}")


def sweep_distribution(error_ratio: Sequence, *, cases: int | None = None) -> Plot | None:
    """Histogram of each sweep case's max |error| / tolerance, with the tolerance marked."""
    vals = _finite(error_ratio)
    if vals.size == 0:
        return None
    positive = vals[vals > 0]
    floor = max(1e-20, 10.0 ** math.floor(np.log10(positive.min()))) if positive.size else 1e-20
    logs = np.log10(np.clip(vals, floor, None))
    lo = min(-3.0, math.floor(logs.min()))
    hi = max(1.0, math.ceil(logs.max()))
    bins = np.arange(lo, hi + 0.25, 0.25)
    n_over = int(np.sum(vals > 1))
    with _rc():
        fig = _figure(7.2, 3.2)
        ax = fig.subplots()
        below, above = logs[vals <= 1], logs[vals > 1]
        ax.hist(below, bins=bins, color=ACCENT, alpha=0.9, label=f"within tolerance ({below.size})")
        if above.size:
            ax.hist(above, bins=bins, color=BAD, hatch="///", edgecolor="white",
                    label=f"over tolerance ({above.size})")
        ax.axvline(0.0, color=INK, linewidth=1.5, linestyle="--")
        ax.text(0.0, 0.97, " tolerance", transform=ax.get_xaxis_transform(), va="top", ha="left",
                color=INK, fontsize=9)
        step = max(1, math.ceil((hi - lo) / 10))
        ticks = np.arange(lo, hi + 1, step)
        ax.set_xticks(ticks, labels=[("≤" if t == lo and vals.min() <= floor else "") + _pow10(int(t))
                                     .replace(" (tol)", "") for t in ticks])
        ax.set_xlabel("max |error| / tolerance over the case's gradient entries (log scale)")
        ax.set_ylabel("cases")
        ax.grid(axis="y", color=GRID, linewidth=0.8)
        ax.set_axisbelow(True)
        ax.legend(frameon=True, framealpha=0.9, edgecolor=GRID, loc="best")
        n = cases if cases is not None else vals.size
        ax.set_title(f"Errors against the tolerance over {n} random cases")
        alt = (f"Histogram of the worst |error|/tolerance ratio of each of {vals.size} sweep cases on a log scale: "
               f"median {fmt_num(float(np.median(vals)), '.2g')}, largest {fmt_num(float(vals.max()), '.2g')}; "
               f"{n_over} case(s) over the tolerance line at 1.")
        return _save(fig, alt)


def oracle_agreement(agreement: dict, max_rel_err: dict | None = None) -> Plot | None:
    """Horizontal bars (log scale) of the max relative difference between oracles and against manualbp."""
    rows: list[tuple[str, float, str]] = []
    for name, v in (max_rel_err or {}).items():
        rows.append((f"manualbp ~ {name}", v, ACCENT))
    for name, v in (agreement or {}).items():
        rows.append((name.replace("~", " ~ "), v, OK))
    rows = [(n, float(v), c) for n, v, c in rows if v is not None and not isinstance(v, str)
            and math.isfinite(float(v))]
    if not rows:
        return None
    eps64, eps32 = float(np.finfo(np.float64).eps), float(np.finfo(np.float32).eps)
    floor = 1e-18
    with _rc():
        fig = _figure(7.2, 0.9 + 0.42 * len(rows))
        ax = fig.subplots()
        ys = np.arange(len(rows))[::-1]
        vals = [max(v, floor) for _, v, _ in rows]
        ax.barh(ys, vals, color=[c for *_, c in rows], height=0.6)
        ax.set_xscale("log")
        ax.set_yticks(ys, labels=[n for n, *_ in rows])
        for eps, label in ((eps64, "float64 ε"), (eps32, "float32 ε")):
            ax.axvline(eps, color=MUTED, linestyle=":", linewidth=1.2)
            ax.text(eps, 1.0, f" {label}", transform=ax.get_xaxis_transform(), va="bottom", ha="left",
                    color=MUTED, fontsize=8)
        for y, (_, v, _) in zip(ys, rows):
            ax.text(max(v, floor), y, f"  {fmt_num(v, '.2g')}", va="center", ha="left", fontsize=8, color=INK)
        ax.set_xlim(min(floor, min(vals)) / 2, max(1e-2, max(vals) * 1e3))
        ax.set_xlabel("max relative difference over the sweep (log scale)")
        ax.grid(axis="x", color=GRID, linewidth=0.8)
        ax.set_axisbelow(True)
        ax.set_title("Oracle agreement", pad=18)
        alt = "Bar chart of maximum relative differences: " + "; ".join(
            f"{n}: {fmt_num(v, '.2g')}" for n, v, _ in rows) + "."
        return _save(fig, alt)
