"""The subject: someone's backprop, what it claims to compute, and adapters to its layout.

A subject is a Python callable that returns ∂C/∂W and ∂C/∂b of a fully
connected network.  The plain form (layout ``"standard"``)::

    def backprop(weights, biases, x, y):
        # weights[l]: (n_{l+1}, n_l); biases[l]: (n_{l+1},); x: (n_0,); y: (n_L,)
        return dW, db          # lists, same shapes as weights and biases

The subject *declares* what it computes (users never edit their code to match
ours): the hidden and output activations, and the cost as one of manualbp's
named costs times a constant ``scale`` (¼·Σ(a−y)² is ``half_sse`` × 0.5; the
seed's ½·Σ(a−y)²/n_L is ``half_mse``).  A batched subject declares whether it
averages (``reduction="mean"``, manualbp's convention) or sums over samples.

Layouts (small documented adapters, see :data:`LAYOUTS`):

``standard``  as above.
``columns``   Nielsen's network.py: biases, x and y are column vectors (n, 1); db is returned as (n, 1).
``xw``        the ``x @ W`` style: weights[l] is stored (n_l, n_{l+1}) and dW is returned that way.
``flat``      ``backprop(theta, sizes, x, y) -> grad``: theta and grad are one vector holding, layer by
              layer, W^(L) row by row (shape (n_{L+1}, n_L)) then b^(L) (:meth:`Gradients.flat` order);
              sizes is the list of widths [n_1, ..., n_N].

Batches (``batch``): ``None`` (one sample, x of shape (n_1,)), ``"columns"`` (x of shape (n_1, B), one
column per sample, the derivation's convention) or ``"rows"`` (x of shape (B, n_1), one row per sample).
With ``returns="db,dW"`` the subject returns the biases' gradients first (Nielsen's ``nabla_b, nabla_w``).

A subject can be given as ``"path/to/file.py:function"`` or ``"package.module:function"``
(``function`` may be a dotted attribute path such as ``Network.backprop`` for a static method).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from manualbp import Architecture, Case, Gradients

LAYOUTS = ("standard", "columns", "xw", "flat")
"""Parameter layouts a subject may use (see the module docstring)."""

BATCHES = (None, "columns", "rows")
"""How a batched subject lays out samples: None (single sample), one column or one row per sample."""

REDUCTIONS = ("mean", "sum")
"""How a batched subject reduces the per-sample costs."""

RETURNS = ("dW,db", "db,dW")
"""Order of the two returned lists (layouts other than ``flat``)."""


class SubjectLoadError(ValueError):
    """A subject spec could not be resolved to a callable (the message says why)."""


class SubjectSignatureError(TypeError):
    """The callable cannot be called the way its declared layout calls it (e.g. a class, or a method)."""


def call_signature(layout: str) -> str:
    """How a subject of ``layout`` is called, as a line of Python."""
    return "f(theta, sizes, x, y) -> grad" if layout == "flat" else "f(weights, biases, x, y) -> (dW, db)"


def signature_problem(func: Callable[..., Any], layout: str) -> str | None:
    """Why ``func`` cannot take the four positional arguments of ``layout``'s call, or None when it can.

    None as well when Python cannot tell (a builtin without a signature): the call itself will say.
    """
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or type(func).__name__
    try:
        sig.bind(*range(4))
    except TypeError as exc:
        if inspect.isclass(func):
            what = (f"{name} is a class (its constructor takes {sig}), not a function that returns gradients; "
                    "give a function, e.g. one that builds the object, runs forward and backward and returns "
                    "the gradients")
        else:
            what = f"{name}{sig} cannot be called with 4 positional arguments ({exc})"
        return f"{what}. With --layout {layout}, the subject is called as {call_signature(layout)}"
    return None


class SubjectOutputError(Exception):
    """The subject returned something that is not gradients in its declared layout.

    ``kind`` is ``"none"`` (returned None), ``"type"`` (not arrays / not two lists) or ``"shape"``.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class Subject:
    """A backprop under test and what it declares to compute."""

    func: Callable[..., Any]
    hidden: str = "sigmoid"
    output: str | None = None  # None: same as hidden
    cost: str = "half_sse"
    scale: float = 1.0
    layout: str = "standard"
    batch: str | None = None
    reduction: str = "mean"
    returns: str = "dW,db"
    dtype: str = "float64"
    name: str = ""
    spec: str | None = field(default=None, compare=False)  # "path.py:func" / "pkg.mod:func" it was loaded from

    def __post_init__(self) -> None:
        if not callable(self.func):
            raise TypeError(f"the subject must be callable; got {type(self.func).__name__}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"unknown layout {self.layout!r}; valid layouts: {', '.join(LAYOUTS)}")
        if self.batch not in BATCHES:
            raise ValueError(f"unknown batch layout {self.batch!r}; use None, 'columns' or 'rows'")
        if self.reduction not in REDUCTIONS:
            raise ValueError(f"unknown reduction {self.reduction!r}; use 'mean' or 'sum'")
        if self.returns not in RETURNS:
            raise ValueError(f"returns must be one of {RETURNS}; got {self.returns!r}")
        if isinstance(self.scale, bool) or not isinstance(self.scale, (int, float, np.floating, np.integer)):
            raise TypeError(f"scale must be a number; got {self.scale!r}")
        if not math.isfinite(float(self.scale)) or float(self.scale) == 0.0:
            raise ValueError(f"scale must be a finite non-zero number; got {self.scale!r}")
        object.__setattr__(self, "scale", float(self.scale))
        problem = signature_problem(self.func, self.layout)
        if problem is not None:
            raise SubjectSignatureError(problem)
        # Validates activation names, softmax placement, cost/output pairing and dtype (clear errors).
        self.architecture((1, 1, 1))
        if not self.name:
            object.__setattr__(self, "name", self.spec or _callable_name(self.func))

    # -- what it declares ---------------------------------------------------------------------------------------
    @property
    def output_activation(self) -> str:
        """The output layer's activation."""
        return self.output or self.hidden

    def architecture(self, widths: Sequence[int]) -> Architecture:
        """The declared architecture for these widths (hidden on layers 2..N−1, output on layer N)."""
        return Architecture.uniform(tuple(widths), hidden=self.hidden, output=self.output_activation,
                                    cost=self.cost, dtype=self.dtype)

    def describe(self) -> str:
        """One line: activations, cost convention, layout."""
        scale = "" if self.scale == 1.0 else f" × {self.scale:g}"
        batch = "single sample" if self.batch is None else f"batch of {self.batch}, {self.reduction} over samples"
        return (f"hidden {self.hidden}, output {self.output_activation}, cost {self.cost}{scale}, "
                f"layout {self.layout}, {batch}, {self.dtype}")

    def factor(self, case: Case) -> float:
        """Subject's gradient ÷ manualbp's gradient for a correct subject: scale (× B when summing)."""
        B = case.x.shape[1] if case.batched else 1
        return self.scale * (B if self.reduction == "sum" else 1)

    # -- adapters -----------------------------------------------------------------------------------------------
    def check_case(self, case: Case) -> None:
        """ValueError when the case does not match what the subject declares."""
        want = self.architecture(case.arch.widths)
        if case.arch != want:
            raise ValueError(f"case architecture {case.arch} does not match the subject's declaration {want}")
        if (self.batch is None) == case.batched:
            raise ValueError("a batched subject needs batched cases (x of shape (n_1, B)) and vice versa")

    def inputs(self, case: Case) -> tuple:
        """The arguments the subject is called with: fresh, writable arrays in its layout and the case's dtype."""
        Ws = [np.array(W) for W in case.weights]
        bs = [np.array(b) for b in case.biases]
        x, y = np.array(case.x), np.array(case.y)
        if self.batch == "rows":
            x, y = np.ascontiguousarray(x.T), np.ascontiguousarray(y.T)
        if self.layout == "flat":
            theta = Gradients(tuple(Ws), tuple(bs)).flat().copy()
            return (theta, list(case.arch.widths), x, y)
        if self.layout == "columns":
            bs = [b[:, None] for b in bs]
            if self.batch is None:
                x, y = x[:, None], y[:, None]
        if self.layout == "xw":
            Ws = [np.ascontiguousarray(W.T) for W in Ws]
        return (Ws, bs, x, y)

    def to_layout(self, g: Gradients, case: Case) -> tuple | np.ndarray:
        """Gradients in manualbp's convention → what a correct subject returns (its layout, its cost convention).

        Two lists in the subject's order, or one vector for the ``flat`` layout.
        """
        k = self.factor(case)
        dW = [np.asarray(a, dtype=float) * k for a in g.dW]
        db = [np.asarray(a, dtype=float) * k for a in g.db]
        if self.layout == "flat":
            return Gradients(tuple(dW), tuple(db)).flat()
        if self.layout == "columns":
            db = [b[:, None] for b in db]
        if self.layout == "xw":
            dW = [W.T for W in dW]
        return (db, dW) if self.returns == "db,dW" else (dW, db)

    def decode(self, result: Any, case: Case) -> Gradients:
        """The subject's return value as :class:`Gradients` in manualbp's layout and convention.

        Raises :class:`SubjectOutputError` naming the layer and shapes when it is not what the layout promises.
        """
        if result is None:
            raise SubjectOutputError("none", "the subject returned None (a missing `return`?)")
        widths = case.arch.widths
        n = len(widths) - 1
        if self.layout == "flat":
            flat = _as_array(result, "the returned gradient vector")
            want = case.arch.n_params
            if flat.shape != (want,):
                raise SubjectOutputError(
                    "shape", f"the returned gradient vector has shape {flat.shape}; expected ({want},) "
                             f"(all W^(L) and b^(L) entries of widths {list(widths)})")
            dW, db, i = [], [], 0
            for m, k in zip(widths[:-1], widths[1:]):
                dW.append(flat[i:i + k * m].reshape(k, m))
                i += k * m
                db.append(flat[i:i + k])
                i += k
        else:
            if isinstance(result, np.ndarray) or not isinstance(result, (tuple, list)) or len(result) != 2:
                what = type(result).__name__ + (f" of length {len(result)}" if isinstance(result, (tuple, list))
                                                else "")
                raise SubjectOutputError("type", f"the subject returned a {what}; expected two lists "
                                                 f"({self.returns.replace(',', ', ')})")
            first, second = result
            raw_W, raw_b = (second, first) if self.returns == "db,dW" else (first, second)
            dW = self._layer_list(raw_W, "dW", n)
            db = self._layer_list(raw_b, "db", n)
            for L, (m, k) in enumerate(zip(widths[:-1], widths[1:]), start=1):
                want_W = (m, k) if self.layout == "xw" else (k, m)
                want_b = (k, 1) if self.layout == "columns" else (k,)
                got_W, got_b = dW[L - 1], db[L - 1]
                if got_W.shape != want_W:
                    hint = " (transposed?)" if got_W.shape == want_W[::-1] else ""
                    raise SubjectOutputError("shape", f"dW[{L - 1}] (∂C/∂W^({L})) has shape {got_W.shape}; "
                                                      f"expected {want_W}{hint}")
                if got_b.shape != want_b:
                    raise SubjectOutputError("shape", f"db[{L - 1}] (∂C/∂b^({L})) has shape {got_b.shape}; "
                                                      f"expected {want_b}")
            if self.layout == "xw":
                dW = [W.T for W in dW]
            if self.layout == "columns":
                db = [b[:, 0] for b in db]
        k = self.factor(case)
        dW = tuple(np.asarray(W, dtype=np.float64) / k for W in dW)
        db = tuple(np.asarray(b, dtype=np.float64) / k for b in db)
        return Gradients(dW, db, self.name)

    def _layer_list(self, value: Any, what: str, n: int) -> list[np.ndarray]:
        if value is None:
            raise SubjectOutputError("none", f"the returned {what} is None")
        if isinstance(value, np.ndarray) and value.dtype != object:
            raise SubjectOutputError("type", f"the returned {what} is one array of shape {value.shape}; "
                                             f"expected a list with one array per layer ({n})")
        try:
            items = list(value)
        except TypeError:
            raise SubjectOutputError("type", f"the returned {what} is a {type(value).__name__}, not a list "
                                             f"of {n} arrays") from None
        if len(items) != n:
            raise SubjectOutputError("shape", f"the returned {what} has {len(items)} entries; the network has "
                                              f"{n} layers of weights")
        return [_as_array(v, f"{what}[{i}]") for i, v in enumerate(items)]

    # -- reproducer text ----------------------------------------------------------------------------------------
    def import_lines(self) -> list[str]:
        """Python lines that make the subject importable as its own name in a fresh script."""
        fname = self.func_name()
        if self.spec and ":" in self.spec:
            target, attr = _split_spec(self.spec)
            head = attr.split(".")[0]
            if _looks_like_path(target):
                path = Path(target).resolve()
                lines = ["import sys", f"sys.path.insert(0, {str(path.parent)!r})",
                         f"from {path.stem} import {head}"]
            else:
                lines = [f"from {target} import {head}"]
            if attr != head:
                lines.append(f"{fname} = {attr}")
            return lines
        module = getattr(self.func, "__module__", None)
        qual = getattr(self.func, "__qualname__", "")
        if module and module != "__main__" and qual and "<" not in qual:
            head = qual.split(".")[0]
            lines = [f"from {module} import {head}"]
            if qual != head:
                lines.append(f"{fname} = {qual}")
            return lines
        return [f"# {fname} = ...  # your backprop function (it could not be imported by name)"]

    def func_name(self) -> str:
        """A Python identifier for the subject in generated code."""
        if self.spec and ":" in self.spec:
            name = _split_spec(self.spec)[1].split(".")[-1]
        else:
            name = getattr(self.func, "__name__", "backprop")
        return name if name.isidentifier() else "backprop"

    def call_text(self) -> str:
        """The call line of the reproducer, with the subject's argument names."""
        f = self.func_name()
        if self.layout == "flat":
            return f"grad = {f}(theta, sizes, x, y)"
        lhs = "db, dW" if self.returns == "db,dW" else "dW, db"
        return f"{lhs} = {f}(weights, biases, x, y)"


def _callable_name(func: Callable) -> str:
    module = getattr(func, "__module__", None) or ""
    qual = getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or type(func).__name__
    return f"{module}:{qual}" if module and module != "__main__" else qual


def _as_array(value: Any, what: str) -> np.ndarray:
    if value is None:
        raise SubjectOutputError("none", f"{what} is None")
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise SubjectOutputError("type", f"{what} is not an array ({exc})") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise SubjectOutputError("type", f"{what} has dtype {arr.dtype}; expected real numbers")
    return arr


def _looks_like_path(target: str) -> bool:
    return target.endswith(".py") or "/" in target or "\\" in target


def _split_spec(spec: str) -> tuple[str, str]:
    if ":" not in spec:
        raise SubjectLoadError(f"subject {spec!r} must look like 'path/to/file.py:function' or "
                               f"'package.module:function'")
    target, attr = spec.rsplit(":", 1)
    if not target or not attr:
        raise SubjectLoadError(f"subject {spec!r} must look like 'path/to/file.py:function' or "
                               f"'package.module:function'")
    return target, attr


def _load_file(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(f"subject file {str(path)!r} does not exist")
    name = f"_manualbp_subject_{path.stem}_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SubjectLoadError(f"cannot import {str(path)!r} as a Python module")
    module = importlib.util.module_from_spec(spec)
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)  # so the student's file can import its neighbours
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise SubjectLoadError(f"importing {str(path)!r} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        try:
            sys.path.remove(folder)
        except ValueError:
            pass
    return module


def load_callable(spec: str) -> Callable[..., Any]:
    """The callable named by ``"path/to/file.py:function"`` or ``"package.module:function"``."""
    return _resolve(spec)[1]


def _fitting(module: Any, layout: str) -> list[str]:
    """Names of the module's own functions that take the four arguments of ``layout``'s call."""
    out = []
    for n, v in vars(module).items():
        if (not n.startswith("_") and inspect.isfunction(v) and getattr(v, "__module__", None) == module.__name__
                and signature_problem(v, layout) is None):
            out.append(n)
    return out


def _resolve(spec: str) -> tuple[Any, Callable[..., Any]]:
    """(the module, the callable) named by a spec."""
    if not isinstance(spec, str):
        raise TypeError(f"a subject spec is a string; got {type(spec).__name__}")
    target, attr = _split_spec(spec)
    if _looks_like_path(target):
        module = _load_file(Path(target))
    else:
        try:
            module = importlib.import_module(target)
        except ModuleNotFoundError as exc:
            raise SubjectLoadError(f"cannot import module {target!r} ({exc}); for a file, give its path "
                                   f"ending in .py") from exc
        except Exception as exc:
            raise SubjectLoadError(f"importing {target!r} failed: {type(exc).__name__}: {exc}") from exc
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            names = sorted(n for n in dir(obj) if not n.startswith("_") and callable(getattr(obj, n, None)))
            raise SubjectLoadError(f"{target!r} has no attribute {part!r}; callables there: {', '.join(names)}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise SubjectLoadError(f"{spec!r} is a {type(obj).__name__}, not a function")
    return module, obj


def as_subject(subject: Subject | Callable[..., Any] | str, **declared: Any) -> Subject:
    """A :class:`Subject` from a Subject (declared fields override), a callable or a spec string."""
    declared = {k: v for k, v in declared.items() if v is not None or k == "output"}
    if "output" in declared and declared["output"] is None:
        declared.pop("output")
    if isinstance(subject, Subject):
        return replace(subject, **declared) if declared else subject
    if isinstance(subject, str):
        module, func = _resolve(subject)
        try:
            return Subject(func, spec=subject, **declared)
        except SubjectSignatureError as exc:
            names = _fitting(module, declared.get("layout", "standard"))
            if not names:
                raise
            target = _split_spec(subject)[0]
            raise SubjectSignatureError(f"{exc}. Functions of {target} that take 4 arguments: {', '.join(names)} "
                                        f"(e.g. {target}:{names[0]})") from None
    return Subject(subject, **declared)
