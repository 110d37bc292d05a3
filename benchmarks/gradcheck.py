"""The baseline: ``torch.autograd.gradcheck`` on a case, in float64 (how torch users check a gradient).

The network is rebuilt from plain torch ops in the derivation's layout (one column per sample, the
batch cost the mean over columns), so gradcheck perturbs exactly the case's W^(L) and b^(L).
"""

from __future__ import annotations

from manualbp import Case
from oracles.torch_oracle import _activation


def cost_function(case: Case):
    """(f, params): f(*params) is C of the case in float64; params are W^(1), b^(1), W^(2), …"""
    import torch

    c64 = case.astype("float64")
    x = torch.tensor(c64.x if c64.batched else c64.x[:, None])
    y = torch.tensor(c64.y if c64.batched else c64.y[:, None])
    acts, cost = c64.arch.activations, c64.arch.cost
    n_out = c64.arch.widths[-1]

    def f(*params):
        a = x
        for k, name in enumerate(acts):
            z = params[2 * k] @ a + params[2 * k + 1][:, None]
            a = _activation(torch, name, z)  # the oracle's σ: one column per sample, softmax over the units
        if cost == "half_mse":
            per = 0.5 * ((a - y) ** 2).sum(0) / n_out
        elif cost == "half_sse":
            per = 0.5 * ((a - y) ** 2).sum(0)
        elif cost == "mse":
            per = ((a - y) ** 2).sum(0) / n_out
        elif cost == "bce":
            zero = torch.zeros_like(z)
            per = (y * torch.logaddexp(zero, -z) + (1 - y) * torch.logaddexp(zero, z)).sum(0)
        else:  # softmax_ce
            per = -(y * torch.log_softmax(z, dim=0)).sum(0)
        return per.mean()

    params = []
    for W, b in zip(c64.weights, c64.biases):
        params += [torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)]
    return f, params


def gradcheck(case: Case, *, fast_mode: bool = False) -> bool:
    """torch.autograd.gradcheck of the case's cost in float64 (raise_exception=False: True/False).

    Runs with one torch intra-op thread (restored afterwards): on these tiny tensors more threads only
    add wake-ups, and on this machine torch.softmax with 2 threads takes milliseconds a call instead of
    about a microsecond, which would make the baseline look far slower than it need be.
    """
    import torch

    f, params = cost_function(case)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return bool(torch.autograd.gradcheck(f, params, raise_exception=False, fast_mode=fast_mode))
    finally:
        torch.set_num_threads(threads)
