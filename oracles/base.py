"""What an oracle is, and how to get one by name without importing torch or jax early."""

from __future__ import annotations

import importlib
from typing import Protocol, runtime_checkable

from manualbp import Case, Gradients

ORACLE_NAMES = ("torch", "jax", "fd")
"""The independent judges: PyTorch autograd, JAX grad, finite differences."""

_MODULES = {
    "torch": ("oracles.torch_oracle", "TorchOracle", "torch"),
    "jax": ("oracles.jax_oracle", "JaxOracle", "jax"),
    "fd": ("oracles.fd", "FiniteDifferenceOracle", None),
}


class MissingDependency(ImportError):
    """An optional dependency (torch, jax) is not installed; the message says how to install it."""


@runtime_checkable
class Oracle(Protocol):
    """An independent judge: gradients of a case in manualbp's layout."""

    name: str
    kind: str  # "autodiff" or "fd"

    def gradients(self, case: Case) -> Gradients:
        """∂C/∂W^(L), ∂C/∂b^(L) for every layer, same shapes and dtype as the case."""
        ...

    def cost(self, case: Case) -> float:
        """C at the case's parameters."""
        ...


def require(module: str, extra: str) -> object:
    """Import an optional dependency or raise MissingDependency naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependency(
            f"the {extra!r} oracle needs {module}, which is not installed; "
            f"install it with: pip install 'manualbp[{extra}]'"
        ) from exc


_CACHE: dict[str, Oracle] = {}


def get_oracle(name: str) -> Oracle:
    """The oracle called ``name`` (one of ORACLE_NAMES), created once and reused."""
    if name not in _MODULES:
        raise ValueError(f"unknown oracle {name!r}; valid names: {', '.join(ORACLE_NAMES)}")
    if name not in _CACHE:
        module, cls, dep = _MODULES[name]
        if dep:
            require(dep, dep)
        _CACHE[name] = getattr(importlib.import_module(module), cls)()
    return _CACHE[name]
