"""JAX as an oracle: ``jax.value_and_grad`` of the derivation's network, compiled few times per sweep.

The network is the derivation's z^(L+1) = W^(L) a^(L) + b^(L), a^(L+1) = σ(z^(L+1)),
one column per sample, the costs of :mod:`manualbp.costs`, the batch cost the
mean over columns.  Everything runs inside ``jax.enable_x64(True)`` — a
thread-local context manager — so float64 cases are computed in float64 while
the user's global JAX configuration is left as it was; float32 cases keep
float32 arrays and are computed in float32.

Few compilations, whatever the sweep:

* **Small cases** (every width <= ``max_bucket_width``, batch <= ``max_bucket_batch``)
  go into *shape buckets*: every layer is padded to one width P (a power of two,
  at least ``min_width``), the number of weight layers to a power of two (at
  least ``min_layers``) by prepending identity layers (W = I, b = 0, σ = identity:
  exact copies), the batch to a power of two (at least ``min_batch``).  Padded
  units are masked to 0 after every activation (σ(0) = ½ would otherwise leak
  into the next layer), padded outputs are kept out of the cost, of softmax and
  of n_N, padded batch columns out of the batch mean.  Activations and the cost
  are *data* (integer codes), not part of the compiled program, so random
  architectures of one bucket share one executable; many cases are ``vmap``-ed
  into one call (the case count is padded to 1, 8 or ``chunk`` by repeating a
  case).  Gradients of padded entries are dropped.  The hidden layers run in a
  ``lax.scan``, unrolled in shallow buckets (:data:`UNROLL_LAYERS`).
* **Large cases** are compiled at their exact shapes, keyed by architecture and
  batch shape.

Executables are compiled ahead of time (``jit(...).lower(...).compile()``) and
cached by key; :attr:`JaxOracle.compile_count` counts the cache misses, an upper
bound on real XLA compilations (JAX's own in-process cache may serve a program
another oracle instance already compiled).  Bucket programs are tiny and run
microseconds, so by default they are compiled with cheap backend options
(``FAST_COMPILE``: about half the compile time, slightly slower code).

:meth:`JaxOracle.submit` dispatches the calls and returns without waiting (XLA's
CPU client runs them on its own threads), so a caller can compute something else
before collecting the gradients.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np

from manualbp import Case, Gradients

from . import _netspec as spec
from .base import require

__all__ = ["JaxOracle"]

FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}
"""XLA options for the bucket programs: compile time dominates their cost in a sweep."""

UNROLL_LAYERS = 4
"""Bucket programs with at most this many weight layers unroll the hidden-layer loop: XLA then fuses
across layers (measured, 4 layers × 8 wide: about half the run time, and faster to compile, not slower)."""

_SOFTMAX = spec.act_code("softmax")


def _choose(jnp, code, branches: dict[int, Callable[[], object]]):
    """The branch named by ``code``: only that one when ``code`` is a Python int, else a select over all."""
    if isinstance(code, int):
        return branches[code]()
    out = None
    for c, thunk in branches.items():
        value = thunk()
        out = value if out is None else jnp.where(code == c, value, out)
    return out


def _softplus(jnp, z):
    """log(1 + e^z) without overflow; its derivative is σ(z)."""
    return jnp.logaddexp(0.0, z)


def _elementwise(jax, jnp, z) -> dict[int, Callable[[], object]]:
    """σ(z) for every elementwise activation, by code (see oracles._netspec.ELEMENTWISE)."""
    fns = {
        "sigmoid": lambda: jax.nn.sigmoid(z),
        "tanh": lambda: jnp.tanh(z),
        "relu": lambda: jnp.where(z > 0, z, 0.0),  # subgradient 0 at z = 0, as manualbp
        "leaky_relu": lambda: jnp.where(z > 0, z, spec.LEAKY_SLOPE * z),
        "softplus": lambda: _softplus(jnp, z),
        "identity": lambda: z,
    }
    return {spec.act_code(name): fn for name, fn in fns.items()}


def _softmax_parts(jax, jnp, z, mask):
    """(softmax(z), log softmax(z)) over the unit axis 0, restricted to ``mask`` (None: all units)."""
    zm = z if mask is None else jnp.where(mask, z, -jnp.inf)
    m = jax.lax.stop_gradient(zm.max(axis=0, keepdims=True))  # a shift: no effect on the value's gradient
    e = jnp.exp(zm - m)
    if mask is not None:
        e = jnp.where(mask, e, 0.0)
    s = e.sum(axis=0, keepdims=True)
    log_a = zm - m - jnp.log(s)
    if mask is not None:
        log_a = jnp.where(mask, log_a, 0.0)
    return e / s, log_a


def _layer(jax, jnp, W, b, a, code, mask, *, output: bool):
    """(z^(L+1), a^(L+1)) from a^(L); ``mask`` (or None) zeroes padded units of a^(L+1)."""
    z = W @ a + b[:, None]  # z^(L+1) = W^(L) a^(L) + b^(L)
    branches = _elementwise(jax, jnp, z)
    if output:
        branches[_SOFTMAX] = lambda: _softmax_parts(jax, jnp, z, mask)[0]
    a = _choose(jnp, code, branches)  # a^(L+1) = σ(z^(L+1))
    if mask is not None:
        a = jnp.where(mask, a, 0.0)  # padded units carry exactly 0 forward (σ(0) need not be 0)
    return z, a


def _network_cost(jax, jnp, Ws, bs, x, y, *, acts, cost, factor, div, batch, units=None, cols=None,
                  unroll: bool = False):
    """C of one case.  ``acts``/``cost`` are static ints (exact shapes) or traced codes (buckets).

    Ws[l], bs[l] map position l to l+1; x, y are (n, B) columns.  Exact shapes (``units`` None):
    a Python loop over layers of any widths.  Buckets: ``units[l]`` masks the units of position
    l, ``cols`` the real batch columns, and the hidden layers (all P × P) run in one ``lax.scan``,
    so the compiled program does not grow with depth; ``unroll`` unrolls that scan (see
    :data:`UNROLL_LAYERS`).
    """
    a = x
    if units is None:
        for l in range(len(Ws) - 1):
            _, a = _layer(jax, jnp, Ws[l], bs[l], a, acts[l], None, output=False)
        mask = None
    else:
        def hidden(a, layer):
            W, b, code, keep = layer
            return _layer(jax, jnp, W, b, a, code, keep[:, None], output=False)[1], None

        a, _ = jax.lax.scan(hidden, a, (Ws[:-1], bs[:-1], acts[:-1], units[1:-1]), unroll=unroll)
        mask = units[-1][:, None]
    z, a = _layer(jax, jnp, Ws[-1], bs[-1], a, acts[-1], mask, output=True)

    def keep(v):
        return v if mask is None else jnp.where(mask, v, 0.0)

    per_sample = _choose(jnp, cost, {
        spec.COST_CODES["squared"]: lambda: factor * keep((a - y) ** 2).sum(axis=0) / div,
        # −[y log σ(z) + (1−y) log(1−σ(z))] = y·softplus(−z) + (1−y)·softplus(z): finite for any z
        spec.COST_CODES["bce"]: lambda: keep(y * _softplus(jnp, -z) + (1 - y) * _softplus(jnp, z)).sum(axis=0),
        spec.COST_CODES["softmax_ce"]: lambda: -keep(y * _softmax_parts(jax, jnp, z, mask)[1]).sum(axis=0),
    })
    if cols is not None:
        per_sample = jnp.where(cols, per_sample, 0.0)
    return per_sample.sum() / batch  # the mean over the real batch columns


class JaxOracle:
    """∂C/∂W^(L), ∂C/∂b^(L) by ``jax.value_and_grad``; float64 in a scoped x64 context."""

    name = "jax"
    kind = "autodiff"

    def __init__(
        self,
        *,
        max_bucket_width: int = 64,
        max_bucket_batch: int = 64,
        min_width: int = 8,
        min_layers: int = 4,
        min_batch: int = 4,
        chunk: int = 64,
        fast_compile: bool = True,
    ) -> None:
        for name, value in [("max_bucket_width", max_bucket_width), ("max_bucket_batch", max_bucket_batch),
                            ("min_width", min_width), ("min_layers", min_layers), ("min_batch", min_batch),
                            ("chunk", chunk)]:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        self._jax = require("jax", "jax")
        self._jnp = require("jax.numpy", "jax")
        self.max_bucket_width = max_bucket_width
        self.max_bucket_batch = max_bucket_batch
        self.min_width = min_width
        self.min_layers = min_layers
        self.min_batch = min_batch
        self.chunk = chunk
        self.fast_compile = bool(fast_compile)
        self._compiled: dict[tuple, object] = {}
        self._exported: dict[tuple, tuple | None] = {}  # None: could not be serialized
        self._lock = threading.Lock()
        self.compile_count = 0
        """Compilations this oracle asked XLA for (its cache misses); real compilations are at most this."""

    # ----------------------------------------------------------------- public API
    def gradients(self, case: Case) -> Gradients:
        """Gradients of one case (source "jax")."""
        return self.submit([case])()[0]

    def cost(self, case: Case) -> float:
        """C at the case's parameters."""
        return self._submit([case])()[0][0]

    def gradients_many(self, cases: Sequence[Case]) -> list[Gradients]:
        """Gradients of many cases: small ones padded into shape buckets and vmap-ed, one call per bucket chunk."""
        return self.submit(cases)()

    def submit(self, cases: Sequence[Case]) -> Callable[[], list[Gradients]]:
        """Start the work of :meth:`gradients_many` now; the returned function waits for it and returns it.

        Validates the cases (ValueError/TypeError here, as :meth:`gradients_many`), compiles any missing
        program and dispatches every program call: XLA's CPU client runs them on its own threads (all but
        programs too cheap to be worth a thread switch), so the caller can do other work meanwhile.  The
        returned function must be called exactly once (a second call raises RuntimeError); it returns the
        gradients in the order of ``cases``, the same values as ``gradients_many(cases)``.
        """
        collect = self._submit(cases)
        return lambda: [g for _, g in collect()]

    def bucket(self, case: Case) -> tuple | None:
        """The shape bucket (dtype, width P, weight layers, batch) of a small case; None for a large one."""
        return spec.bucket_key(case, max_width=self.max_bucket_width, max_batch=self.max_bucket_batch,
                               min_width=self.min_width, min_layers=self.min_layers, min_batch=self.min_batch)

    def export_programs(self) -> dict[tuple, tuple]:
        """The bucket programs compiled so far, serialized for :meth:`load_programs` in another process.

        Only for processes of the same machine and JAX build (a sweep's worker processes): a worker that
        adopts them skips its own compilations, about a second per process.  A program this JAX build
        cannot serialize is left out (the worker compiles it).
        """
        from jax.experimental import serialize_executable

        with self._lock:
            for key, exe in self._compiled.items():
                if key[0] == "bucket" and key not in self._exported:
                    try:
                        self._exported[key] = serialize_executable.serialize(exe)
                    except Exception:  # noqa: BLE001 - not serializable here: left to the worker to compile
                        self._exported[key] = None
            return {key: blob for key, blob in self._exported.items() if blob is not None}

    def load_programs(self, programs: dict[tuple, tuple]) -> int:
        """Adopt programs from another process's :meth:`export_programs`; the number adopted.

        A program already here is kept; one that does not load (another JAX build or machine) is left out
        and compiled when first needed, as without this call.  Adopting is not compiling:
        :attr:`compile_count` does not change.
        """
        from jax.experimental import serialize_executable

        adopted = 0
        with self._lock:
            for key, blob in programs.items():
                if key in self._compiled:
                    continue
                try:
                    self._compiled[key] = serialize_executable.deserialize_and_load(*blob)
                except Exception:  # noqa: BLE001 - unusable here: compiled on demand instead
                    continue
                adopted += 1
        return adopted

    # ------------------------------------------------------------------ internals
    def _submit(self, cases: Sequence[Case]) -> Callable[[], list[tuple[float, Gradients]]]:
        """Validate, dispatch every call now; the returned function (call it once) gives (C, gradients) per case."""
        cases = [spec.validate(c, self.name) for c in cases]
        pending: list[tuple[list[int], Callable[[], list[tuple[float, Gradients]]]]] = []  # (indices, finish)
        with self._jax.enable_x64(True):  # thread-local; the global config is untouched
            for key, idx in spec.group_indices(cases, self.bucket).items():
                if key is None:
                    pending += [([i], self._exact(cases[i])) for i in idx]
                    continue
                for start in range(0, len(idx), self.chunk):
                    part = idx[start:start + self.chunk]
                    pending.append((part, self._bucketed(key, [cases[i] for i in part])))
        jobs: list | None = pending

        def collect() -> list[tuple[float, Gradients]]:
            # Outside the x64 context on purpose: reading finished buffers into numpy keeps their dtype
            # (float64 stays float64); only creating arrays and tracing depend on the x64 setting.
            nonlocal jobs
            if jobs is None:
                raise RuntimeError("these results were already collected: call the function submit returned once")
            todo, jobs = jobs, None  # let the device buffers go once read
            out: list[tuple[float, Gradients] | None] = [None] * len(cases)
            for idx, finish in todo:
                for i, result in zip(idx, finish()):
                    out[i] = result
            return out  # type: ignore[return-value]

        return collect

    def _compile(self, key: tuple, build: Callable[[], Callable], args: tuple, options: dict | None = None):
        """The executable for ``key``; on a cache miss, compiles ``build()`` for the shapes of ``args``."""
        with self._lock:
            exe = self._compiled.get(key)
            if exe is None:
                exe = self._jax.jit(build()).lower(*args).compile(compiler_options=options)
                self._compiled[key] = exe
                self.compile_count += 1
        return exe

    def _exact(self, case: Case) -> Callable[[], list[tuple[float, Gradients]]]:
        """Dispatch one large case at its exact shapes (compiled once per architecture and batch shape);
        the returned function waits for its [(C, gradients)]."""
        jax, jnp, arch = self._jax, self._jnp, case.arch

        def build():
            code, factor, div = spec.cost_params(case)
            acts = tuple(spec.act_code(a) for a in arch.activations)

            def cost(Ws, bs, x, y):
                return _network_cost(jax, jnp, Ws, bs, x, y, acts=acts, cost=code, factor=factor, div=div,
                                     batch=x.shape[1])

            return jax.value_and_grad(cost, argnums=(0, 1))

        args = (tuple(case.weights), tuple(case.biases), spec.as_columns(case.x), spec.as_columns(case.y))
        exe = self._compile(("exact", arch, case.x.shape), build, args)
        C, (dW, db) = exe(*args)  # dispatched; runs asynchronously

        def finish() -> list[tuple[float, Gradients]]:
            return [(float(C), Gradients(tuple(np.array(g) for g in dW), tuple(np.array(g) for g in db), "jax"))]

        return finish

    def _bucket_program(self, n_layers: int) -> Callable:
        """value_and_grad of a padded case's cost (see oracles._netspec.Packed), vmap-ed over cases."""
        jax, jnp = self._jax, self._jnp
        unroll = n_layers <= UNROLL_LAYERS

        def cost(Ws, bs, x, y, units, cols, acts, code, factor, div, batch):
            return _network_cost(jax, jnp, Ws, bs, x, y, acts=acts, cost=code, factor=factor, div=div,
                                 batch=batch, units=units, cols=cols, unroll=unroll)

        return jax.vmap(jax.value_and_grad(cost, argnums=(0, 1)))

    def _bucketed(self, key: tuple, cases: list[Case]) -> Callable[[], list[tuple[float, Gradients]]]:
        """Dispatch small cases of one bucket in one vmap-ed call (the case count padded to 1, 8 or ``chunk``);
        the returned function waits for their [(C, gradients)]."""
        size = 1 if len(cases) == 1 else 8 if len(cases) <= 8 else max(self.chunk, len(cases))
        p = spec.pack(cases, key, size)
        args = (p.W, p.b, p.x, p.y, p.units, p.cols, p.acts, p.cost, p.factor, p.divisor, p.batch)
        exe = self._compile(("bucket", *key, size), lambda: self._bucket_program(key[2]), args,
                            FAST_COMPILE if self.fast_compile else None)
        C, (gW, gb) = exe(*args)  # dispatched; XLA runs it asynchronously

        def finish() -> list[tuple[float, Gradients]]:
            costs = np.asarray(C)
            grads = spec.unpack(cases, p, np.asarray(gW), np.asarray(gb))
            return [(float(costs[k]), Gradients(dW, db, "jax")) for k, (dW, db) in enumerate(grads)]

        return finish
