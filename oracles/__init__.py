"""oracles: independent judges of gradients, the derivation audit, reports and the CLI.

The main entry points are importable from here; torch, jax and Hypothesis are
imported only when one of them is first used.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_LAZY = {
    "check": ("oracles.checker", "check"),
    "assert_backprop": ("oracles.checker", "assert_backprop"),
    "get_oracle": ("oracles.base", "get_oracle"),
    "audit_file": ("oracles.audit", "audit_file"),
    "audit_text": ("oracles.audit", "audit_text"),
    "run_sweep": ("oracles.sweep", "run_sweep"),
    "build_report": ("oracles.mainjob", "build_report"),
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'oracles' has no attribute {name!r}")
