"""manualbp: a hand-written NumPy backprop for fully connected networks.

Notation follows the derivation: layer 1 is the input, W^(L) and b^(L) map
layer L to L+1, δ^(L) = ∂C/∂a^(L).  numpy is the only dependency.
"""

from .activations import ACTIVATIONS, get_activation
from .case import Architecture, Case, Gradients
from .costs import COSTS, get_cost
from .network import Backward, Forward, backward, cost, forward, gradients

__all__ = [
    "ACTIVATIONS",
    "COSTS",
    "Architecture",
    "Backward",
    "Case",
    "Forward",
    "Gradients",
    "backward",
    "cost",
    "forward",
    "get_activation",
    "get_cost",
    "gradients",
]

__version__ = "0.1.0"
