"""The 3-2-2 network several audit tests write derivations about, and how they write its numbers in LaTeX."""

from __future__ import annotations

import numpy as np

W1 = np.array([[0.1, 0.2, -0.1], [-0.3, 0.1, 0.2]])
B1 = np.array([0.0, 0.1])
W2 = np.array([[0.5, -0.4], [0.3, 0.8]])
B2 = np.array([-0.1, 0.2])
X = np.array([0.5, -1.0, 2.0])


def col(v, fmt: str = ".4f") -> str:
    """A column vector of numbers in ``fmt``."""
    return "\\begin{pmatrix} " + " \\\\ ".join(format(x, fmt) for x in v) + " \\end{pmatrix}"


def mat(m) -> str:
    """A matrix of numbers as short as they are."""
    return "\\begin{pmatrix} " + " \\\\ ".join(" & ".join(f"{x:g}" for x in r) for r in m) + " \\end{pmatrix}"
