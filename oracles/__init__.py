"""oracles: independent judges of gradients, the derivation audit, reports and the CLI.

torch and jax are imported lazily, only by the oracle that needs them.
"""

__version__ = "0.1.0"
