"""PyTorch autograd as an oracle: the derivation's network rebuilt from plain torch ops.

No ``torch.nn`` layers (their conventions differ silently: row-major samples,
weight layout, softplus thresholds); from ``torch.nn.functional`` only ``leaky_relu``,
``mse_loss`` and ``binary_cross_entropy_with_logits``, exact formulas that
save autograd nodes (each node costs microseconds on these tiny tensors).  The network is the derivation's

    z^(L+1) = W^(L) a^(L) + b^(L),    a^(L+1) = σ(z^(L+1)),

with one column per sample, the per-sample cost as named in
:mod:`manualbp.costs` and the batch cost the mean over columns.

:meth:`TorchOracle.gradients` is that plain network, one case at a time.
:meth:`TorchOracle.gradients_many` stacks many cases along a leading case axis
and differentiates them in one call (their costs are independent, so the
gradient of their sum is each case's own gradient): large cases grouped by
identical architecture and batch shape; small cases of *different*
architectures padded into one shape bucket (:func:`oracles._netspec.pack`:
padded units masked to exactly 0, kept out of softmax, of the cost and of n_N;
padded batch columns out of the batch mean; activations and costs chosen per
case by integer code), so a sweep of random architectures is a few calls.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import numpy as np

from manualbp import Case, Gradients

from . import _netspec as spec
from .base import require

__all__ = ["TorchOracle"]


def _activation(torch, name: str, z):
    """σ(z) for z of shape (K, n, B) or (n, B); softmax runs over the unit axis -2.

    One autograd node each.  At the kinks, the subgradients are manualbp's: relu'(0) = 0 (torch.relu
    passes the gradient only where its output is > 0) and leaky_relu'(0) = LEAKY_SLOPE (torch's
    leaky_relu takes the slope wherever z > 0 is false).
    """
    if name == "sigmoid":
        return torch.sigmoid(z)
    if name == "tanh":
        return torch.tanh(z)
    if name == "relu":
        return torch.relu(z)
    if name == "leaky_relu":
        return torch.nn.functional.leaky_relu(z, spec.LEAKY_SLOPE)
    if name == "softplus":
        return torch.logaddexp(torch.zeros_like(z), z)  # exact log(1 + e^z), no threshold switch
    if name == "identity":
        return z
    if name == "softmax":
        return torch.softmax(z, dim=-2)
    raise AssertionError(name)  # pragma: no cover - validated by _netspec.validate


def _cost_terms(torch, cost: str, a, z, y, reduction: str):
    """(terms, factor): C = factor · Σ over the units (axis -2) and the batch columns (axis -1) of ``terms``.

    ``reduction`` "none": the terms themselves; "sum": their sum over every axis in the same autograd node
    (a stack of cases: the sum of their costs' terms).  The factor includes the batch mean's 1/B.
    """
    n, B = a.shape[-2], a.shape[-1]
    if cost in spec.SQUARED:
        factor, per_unit = spec.SQUARED[cost]
        # factor · Σ_k (a_k − y_k)² [/ n]; mse_loss is exactly (a − y)², its sum in the same node
        scale, terms = (factor / n if per_unit else factor), torch.nn.functional.mse_loss(a, y, reduction=reduction)
    elif cost == "bce":
        # −[y log σ(z) + (1−y) log(1−σ(z))] = (1−y)·z + softplus(−z), from z: finite for any z.  torch's fused
        # form evaluates exactly that (no threshold switch) and differentiates it to σ(z) − y in one node.
        scale, terms = 1.0, torch.nn.functional.binary_cross_entropy_with_logits(z, y, reduction=reduction)
    elif cost == "softmax_ce":
        scale, terms = -1.0, y * torch.log_softmax(z, dim=-2)  # −Σ_k y_k log a_k
        terms = terms.sum() if reduction == "sum" else terms
    else:  # pragma: no cover - validated by _netspec.validate
        raise AssertionError(cost)
    return terms, scale / B


def _costs(torch, cost: str, a, z, y):
    """C per case, shape (K,) for (K, n, B) inputs or () for (n, B): the per-sample cost sums over the unit
    axis -2, the batch cost is its mean over the batch axis -1 (here: the sum over both axes, divided by B)."""
    terms, factor = _cost_terms(torch, cost, a, z, y, "none")
    return terms.sum(dim=(-2, -1)) * factor


def _forward(torch, arch, Ws, bs, x):
    """(z, a) of the output layer: per case for stacked (K, ·, ·) tensors, of one case for (·, ·) ones.

    ``bs`` are bias columns (n, 1), broadcast over the batch columns of x.
    """
    affine = torch.addmm if x.dim() == 2 else torch.baddbmm  # b + W a in one autograd node
    a = z = x
    for W, b, act in zip(Ws, bs, arch.activations):
        z = affine(b, W, a)  # z^(L+1) = W^(L) a^(L) + b^(L)
        a = _activation(torch, act, z)  # a^(L+1) = σ(z^(L+1))
    return z, a


def _network_costs(torch, arch, Ws, bs, x, y):
    """C of the plain network: per case (K,) for stacked (K, ·, ·) tensors, a scalar for one case's (·, ·)."""
    z, a = _forward(torch, arch, Ws, bs, x)
    return _costs(torch, arch.cost, a, z, y)


def _network_gradients(torch, arch, Ws, bs, x, y):
    """∂C/∂W, ∂C/∂b of the plain network (of each case, for a stack: their costs are independent).

    The backward pass starts from the summed terms, seeded with C's factor: the products torch's own
    ``factor · Σ terms`` node would pass down, with two autograd nodes fewer.
    """
    z, a = _forward(torch, arch, Ws, bs, x)
    total, factor = _cost_terms(torch, arch.cost, a, z, y, "sum")
    return torch.autograd.grad(total, [*Ws, *bs], grad_outputs=torch.tensor(factor, dtype=total.dtype))


def _bucket_costs(torch, W, b, x, y, units, cols, acts, cost, factor, divisor, batch):
    """Per-case C, shape (K,), of padded cases (see oracles._netspec.Packed), every activation and cost by code."""
    a, n_layers = x, W.shape[1]
    for l in range(n_layers):
        z = torch.matmul(W[:, l], a) + b[:, l].unsqueeze(-1)  # z^(L+1) = W^(L) a^(L) + b^(L)
        mask = units[:, l + 1].unsqueeze(-1)  # (K, P, 1): the real units of this layer
        code = acts[:, l].view(-1, 1, 1)
        new = z
        for name in spec.ELEMENTWISE:
            new = torch.where(code == spec.act_code(name), _activation(torch, name, z), new)
        if l == n_layers - 1:
            zm = z.masked_fill(~mask, -torch.inf)  # padded outputs take no share of softmax
            new = torch.where(code == spec.act_code("softmax"), torch.softmax(zm, dim=1), new)
        a = torch.where(mask, new, 0.0)  # padded units carry exactly 0 forward (σ(0) need not be 0)

    def keep(v):
        return torch.where(mask, v, 0.0)

    squared = factor.unsqueeze(-1) * keep((a - y) ** 2).sum(dim=1) / divisor.unsqueeze(-1)
    zero = torch.zeros_like(z)
    bce = keep(y * torch.logaddexp(zero, -z) + (1 - y) * torch.logaddexp(zero, z)).sum(dim=1)
    ce = -(y * keep(torch.log_softmax(zm, dim=1))).sum(dim=1)
    c = cost.unsqueeze(-1)
    per_sample = torch.where(c == spec.COST_CODES["squared"], squared,
                             torch.where(c == spec.COST_CODES["bce"], bce, ce))
    return torch.where(cols, per_sample, 0.0).sum(dim=1) / batch  # mean over the real columns


class TorchOracle:
    """∂C/∂W^(L), ∂C/∂b^(L) by torch.autograd, in the case's dtype (float64 or float32)."""

    name = "torch"
    kind = "autodiff"

    def __init__(self, *, chunk: int = 256, max_bucket_width: int = 64, max_bucket_batch: int = 64,
                 min_width: int = 8, min_layers: int = 4, min_batch: int = 4, small_threads: int | None = 1) -> None:
        self._torch = require("torch", "torch")
        for name, value in [("chunk", chunk), ("max_bucket_width", max_bucket_width),
                            ("max_bucket_batch", max_bucket_batch), ("min_width", min_width),
                            ("min_layers", min_layers), ("min_batch", min_batch)]:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if small_threads is not None and (not isinstance(small_threads, int) or small_threads < 1):
            raise ValueError(f"small_threads must be None or an integer >= 1, got {small_threads!r}")
        self.chunk = chunk
        self.small_threads = small_threads
        """torch intra-op threads while working on small (bucket-sized) cases; None: torch's own setting."""
        self._bucket_sizes = dict(max_width=max_bucket_width, max_batch=max_bucket_batch, min_width=min_width,
                                  min_layers=min_layers, min_batch=min_batch)

    def gradients(self, case: Case) -> Gradients:
        """Gradients of one case (source "torch"), through the plain, unpadded network."""
        spec.validate(case, self.name)
        with self._threads(small=self.bucket(case) is not None):
            Ws, bs, x, y = self._tensors(case, True)
            grads = _network_gradients(self._torch, case.arch, Ws, bs, x, y)
        n = len(Ws)
        return Gradients(tuple(g.numpy() for g in grads[:n]), tuple(g.numpy()[:, 0] for g in grads[n:]), "torch")

    def cost(self, case: Case) -> float:
        """C at the case's parameters."""
        spec.validate(case, self.name)
        with self._torch.no_grad(), self._threads(small=self.bucket(case) is not None):
            return _network_costs(self._torch, case.arch, *self._tensors(case, False)).item()

    def gradients_many(self, cases: Sequence[Case]) -> list[Gradients]:
        """Gradients of many cases: one batched call per shape bucket (small) or architecture (large)."""
        cases = [spec.validate(c, self.name) for c in cases]
        out: list[Gradients | None] = [None] * len(cases)
        for key, idx in spec.group_indices(cases, self._group).items():
            for start in range(0, len(idx), self.chunk):
                part = idx[start:start + self.chunk]
                run = self._bucketed if key[0] == "bucket" else self._exact_many
                for i, (dW, db) in zip(part, run([cases[i] for i in part], key[1])):
                    out[i] = Gradients(dW, db, "torch")
        return out  # type: ignore[return-value]

    def bucket(self, case: Case) -> tuple | None:
        """The shape bucket (dtype, width P, weight layers, batch) of a small case; None for a large one."""
        return spec.bucket_key(case, **self._bucket_sizes)

    @contextlib.contextmanager
    def _threads(self, *, small: bool):
        """Cap torch's intra-op threads for small work: fork/join on tiny ops costs more than it saves
        (measured 8x slower batched calls on 2 busy cores); restored afterwards."""
        before = self._torch.get_num_threads()
        if small and self.small_threads is not None and self.small_threads != before:
            self._torch.set_num_threads(self.small_threads)
        try:
            yield
        finally:
            if self._torch.get_num_threads() != before:
                self._torch.set_num_threads(before)

    def _group(self, case: Case) -> tuple:
        bucket = self.bucket(case)
        return ("bucket", bucket) if bucket is not None else ("exact", (case.arch, case.x.shape))

    def _exact_many(self, cases: list[Case], key: object = None):
        """Cases of one architecture and batch shape, stacked, through the plain network."""
        with self._threads(small=self.bucket(cases[0]) is not None):
            dW, db = self._run(cases)
        return [(tuple(g[k].copy() for g in dW), tuple(g[k].copy() for g in db)) for k in range(len(cases))]

    def _bucketed(self, cases: list[Case], key: tuple):
        """Small cases of one shape bucket, padded and stacked, in one autograd call."""
        torch = self._torch
        p = spec.pack(cases, key)
        W = torch.from_numpy(p.W).requires_grad_(True)
        b = torch.from_numpy(p.b).requires_grad_(True)
        rest = [torch.from_numpy(v) for v in (p.x, p.y, p.units, p.cols, p.acts, p.cost, p.factor, p.divisor,
                                               p.batch)]
        with self._threads(small=True):
            C = _bucket_costs(torch, W, b, *rest)
            gW, gb = torch.autograd.grad(C.sum(), [W, b])
        return spec.unpack(cases, p, gW.numpy(), gb.numpy())

    def _run(self, cases: list[Case]):
        """Stacked gradients (dW, db) of K cases that share architecture and batch shape."""
        torch = self._torch
        arch = cases[0].arch

        def stack(arrays):
            return torch.from_numpy(np.stack(arrays))

        Ws = [stack([c.weights[i] for c in cases]).requires_grad_(True) for i in range(arch.depth - 1)]
        bs = [stack([c.biases[i][:, None] for c in cases]).requires_grad_(True) for i in range(arch.depth - 1)]
        x = stack([spec.as_columns(c.x) for c in cases])  # (K, n_1, B)
        y = stack([spec.as_columns(c.y) for c in cases])  # (K, n_N, B)
        grads = _network_gradients(torch, arch, Ws, bs, x, y)
        n = len(Ws)
        return [g.numpy() for g in grads[:n]], [g.numpy()[..., 0] for g in grads[n:]]

    def _tensors(self, case: Case, grad: bool):
        """(Ws, bs, x, y) of one case as tensors: the case's own arrays, not a stack of one (plain matrix
        products, fewer autograd nodes: about 1.4x faster per call on widths <= 8, measured); bias columns."""
        torch = self._torch

        def tensor(array, grad=False):  # a copy: the case's arrays are read-only, torch wants writeable ones
            return torch.from_numpy(np.array(array)).requires_grad_(grad)

        Ws = [tensor(W, grad) for W in case.weights]
        bs = [tensor(b[:, None], grad) for b in case.biases]
        return Ws, bs, tensor(spec.as_columns(case.x)), tensor(spec.as_columns(case.y))  # x (n_1, B), y (n_N, B)
