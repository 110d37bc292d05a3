"""Sweeps: N random architectures checked against every oracle, grouped, vectorised, in parallel.

``run_sweep(n_cases, seed=...)`` draws case i of the sweep from :mod:`oracles.sweep_cases` (a pure
function of the seed and i), splits the indices into fixed-size chunks and checks each chunk:

1. the subject's gradients, case by case (manualbp's by default);
2. every autodiff oracle once per chunk through ``gradients_many`` (torch stacks cases of one
   architecture; JAX pads cases into a few shape buckets and vmaps them: a handful of compilations
   per sweep, whatever the number of architectures);
3. the finite differences in fast mode: the projection check of every case of the chunk in a few
   batched numpy forward passes (:mod:`oracles.fd_batch`: cases padded into one shape, every
   perturbed parameter set one row), a constant number of rows per case whatever its size;
4. the verdict, with :func:`oracles.compare.compare`'s semantics (tolerances, statuses, findings).

Chunks are independent and always the same (their size does not depend on the number of workers), so
a sweep gives identical results in one process, in ``workers`` processes, or on a Dask cluster
(``scheduler``).  Failures are collected as plain data in every case, then each failing architecture
is handed to Hypothesis, which searches around it and shrinks the failure to a minimal case before
it is reported.
"""

from __future__ import annotations

import math
import os
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from manualbp import Case, Gradients
from manualbp import gradients as manualbp_gradients

from .base import ORACLE_NAMES, get_oracle
from .findings import Check, Finding, Report
from .sweep_cases import DEFAULT, Distribution, describe, random_case, random_cases

CHUNK = 250
"""Cases per chunk: the unit of work sent to a process or a cluster worker (fixed, for identical results)."""

MAX_SHRINK = 3
"""At most this many failing architectures are shrunk by Hypothesis (the others are reported as found)."""

MAX_FAILURE_CHECKS = 20
"""At most this many failing cases get a Check of their own (the rest are counted in their group)."""

Subject = Callable[[Case], Gradients]


# --------------------------------------------------------------------------- per-case results


@dataclass
class CaseResult:
    """What one case of the sweep came to (plain data: it crosses process and network boundaries)."""

    index: int
    status: str
    dtype: str
    arch: str
    error_ratio: float  # max over entries and oracles of |subject − oracle| / tolerance
    rel_err: dict[str, float] = field(default_factory=dict)  # max relative error of the subject per oracle
    agreement: dict[str, float] = field(default_factory=dict)  # max relative difference between oracles
    findings: list[dict[str, Any]] = field(default_factory=list)  # Finding.to_dict() of a failing case
    notes: list[str] = field(default_factory=list)


@dataclass
class ChunkResult:
    """The results of one chunk, with what it cost."""

    chunk: int
    results: list[CaseResult]
    seconds: float
    cpu_seconds: float = 0.0  # CPU time of the whole process (all its threads) while on this chunk
    compile_count: int = 0
    worker: str = ""
    error: str | None = None  # the chunk itself failed (traceback): every case of it is unchecked


SUBJECT_TIMEOUT = 5.0
"""Seconds a subject other than manualbp's backprop gets per case before the call counts as hung."""

MAX_HANGS = 3
"""After this many hung calls, one subject is not called again in that chunk (or that shrinking search)."""


class SubjectHang(TimeoutError):
    """The subject did not return within its time limit."""


class SubjectSkipped(RuntimeError):
    """The subject was not called: it had hung too often already."""


class _TimeLimited:
    """A subject called with a time limit per case (in a thread, :func:`oracles.harness.run_with_timeout`):
    a hung call raises :class:`SubjectHang`, and once ``max_hangs`` calls hung every later one raises
    :class:`SubjectSkipped` without running (each would cost the time limit)."""

    def __init__(self, fn: Subject, timeout: float | None = None, max_hangs: int | None = None) -> None:
        self.fn = fn
        self.timeout = SUBJECT_TIMEOUT if timeout is None else timeout
        self.max_hangs = MAX_HANGS if max_hangs is None else max_hangs
        self.hangs = 0
        self._stuck: list[Any] = []  # threads of hung calls that could not be stopped

    def __call__(self, case: Case) -> Gradients:
        from .harness import run_with_timeout

        if self.hangs >= self.max_hangs:
            raise SubjectSkipped(f"not called: the subject already hung {self.hangs} times")
        status, value, _ = run_with_timeout(self.fn, (case,), self.timeout, self._stuck)
        if status == "hang":
            self.hangs += 1
            raise SubjectHang(f"the subject did not return within {self.timeout:g} s")
        if status == "raises":
            exc = value[0]
            raise exc if isinstance(exc, Exception) else RuntimeError(f"{type(exc).__name__}: {exc}")
        return value


def _resolve_subject(subject: Any) -> Subject:
    """A callable Case -> Gradients: manualbp's backprop by default (called directly), or anything else with
    a time limit per call (:class:`_TimeLimited`): a callable, or an object with ``.gradients``."""
    if subject is None:
        return manualbp_gradients
    if hasattr(subject, "gradients") and callable(subject.gradients):
        return _TimeLimited(subject.gradients)
    if callable(subject):
        return _TimeLimited(subject)
    raise TypeError(f"subject must be a callable Case -> Gradients (or have .gradients), got {type(subject).__name__}")


_TINY = float(np.finfo(np.float64).tiny)


def _max_rel(a: np.ndarray, b: np.ndarray) -> float:
    """max |a − b| / max(|b|, 1e-3·max|b|) over two flat gradients (b the reference), ignoring entries that
    are tiny next to the case's largest gradient (their relative error says nothing)."""
    if a.size == 0:
        return 0.0
    ab = np.abs(b)
    scale = np.maximum(ab, max(1e-3 * float(ab.max()), _TINY))
    return float((np.abs(a - b) / scale).max())


# --------------------------------------------------------------------------- one chunk


def _subject_gradients(subject: Subject, case: Case) -> Gradients | str:
    """The subject's gradients, or the reason there are none (its exception, a wrong shape)."""
    from .fd import check_gradient_shapes

    try:
        g = subject(case)
        check_gradient_shapes(case, g, "subject's gradients")
    except (SubjectHang, SubjectSkipped) as exc:
        return f"{'hang' if isinstance(exc, SubjectHang) else 'skipped'}: {exc}"
    except Exception as exc:  # noqa: BLE001 - a misbehaving subject is a finding, not a crash
        return f"{type(exc).__name__}: {exc}"
    return g


def _answer_all(subject: Subject, cases: Sequence[Case], answers: Any, stop: Any) -> None:
    """(In a worker thread.)  The subject's answer to each case in turn, until ``stop`` is set."""
    for case in cases:
        if stop.is_set():
            return
        answers.put(_subject_gradients(subject, case))


def _subject_answers(subject: _TimeLimited, cases: Sequence[Case]) -> list[Gradients | str]:
    """The answer of a time-limited subject to every case (its gradients, or why there are none).

    The calls run in turn in one worker thread (a thread per call would cost more than a small case's
    whole check), each within the subject's time limit: a call that hangs is asked to stop and the
    remaining cases go on in a new thread, until the subject's hang budget is spent.
    """
    import queue
    import threading

    from .harness import stop_thread

    out: list[Gradients | str] = []
    while len(out) < len(cases):
        if subject.hangs >= subject.max_hangs:
            why = f"skipped: not called: the subject already hung {subject.hangs} times"
            return out + [why] * (len(cases) - len(out))
        answers: Any = queue.SimpleQueue()
        stop = threading.Event()
        worker = threading.Thread(target=_answer_all, args=(subject.fn, cases[len(out):], answers, stop),
                                  name="manualbp-subject", daemon=True)
        worker.start()
        while len(out) < len(cases):
            try:
                out.append(answers.get(timeout=subject.timeout))
            except queue.Empty:
                stop.set()  # a late answer goes to this thread's queue, no longer read
                if worker.is_alive():
                    stop_thread(worker)
                subject.hangs += 1
                out.append(f"hang: the subject did not return within {subject.timeout:g} s")
                break
    return out


def _gradients_many(oracle: Any, cases: list[Case]) -> list[Gradients]:
    """``oracle.gradients_many(cases)``, with every shape bucket filled to the oracle's full call size.

    The JAX oracle vmaps a bucket's cases ``chunk`` at a time and compiles a smaller executable for a
    last call of 1–8 cases.  Topping such a remainder up with copies of one of its cases (results
    dropped) keeps a whole sweep on one executable per bucket: a few extra rows in a call that is
    padded to ``chunk`` rows anyway, instead of a compilation that costs seconds.
    """
    bucket, size = getattr(oracle, "bucket", None), getattr(oracle, "chunk", None)
    if not callable(bucket) or not isinstance(size, int) or size <= 8:
        return oracle.gradients_many(cases)
    groups: dict[Any, list[Case]] = {}
    for c in cases:
        groups.setdefault(bucket(c), []).append(c)
    extra = [g[0] for key, g in groups.items() if key is not None and 1 <= len(g) % size <= 8
             for _ in range(9 - len(g) % size)]
    return oracle.gradients_many(cases + extra)[:len(cases)]


def _error_bounds(cases: list[Case]) -> list[Any]:
    """The rounding-error bound (tolerance model) of every case of the chunk, small cases padded and batched."""
    from .bound_batch import error_bound_many

    return error_bound_many(cases)


def _projections(cases: list[Case], candidates: list[Gradients | str], bounds: list[Any],
                 flats: list[np.ndarray | None] | None = None) -> list[Any]:
    """The fast mode's FD projection check of every case with usable gradients, batched over the chunk
    (``flats``: the candidates' flat float64 vectors, shapes checked by :func:`_subject_gradients`)."""
    from .projection import projection_many

    ok = [k for k, g in enumerate(candidates) if not isinstance(g, str)]
    out: list[Any] = [None] * len(cases)
    for k, r in zip(ok, projection_many([cases[k] for k in ok], [candidates[k] for k in ok],
                                        bounds=[bounds[k] for k in ok],
                                        flats=None if flats is None else [flats[k] for k in ok])):
        out[k] = r
    return out


def check_chunk(seed: int, chunk: int, start: int, stop: int, oracles: Sequence[str], subject: Any = None,
                dist: Distribution = DEFAULT) -> ChunkResult:
    """Check cases ``start..stop-1`` of the sweep: subject, batched oracles, verdicts (runs in any process)."""
    t0, c0 = time.perf_counter(), time.process_time()
    worker = f"{os.uname().nodename}:{os.getpid()}"
    try:
        subject_fn = _resolve_subject(subject)
        cases = random_cases(seed, start, stop, dist)
        candidates = (_subject_answers(subject_fn, cases) if isinstance(subject_fn, _TimeLimited)
                      else [_subject_gradients(subject_fn, c) for c in cases])
        refs: dict[str, list[Gradients]] = {}
        compiles = 0
        for name in oracles:
            if name == "fd":
                continue
            oracle = get_oracle(name)
            before = getattr(oracle, "compile_count", 0)
            refs[name] = _gradients_many(oracle, cases)
            compiles += getattr(oracle, "compile_count", 0) - before
        bounds = _error_bounds(cases)
        flats = [None if isinstance(g, str) else g.flat().astype(np.float64) for g in candidates]
        projections = (_projections(cases, candidates, bounds, flats) if "fd" in oracles
                       else [None] * len(cases))
        results = [
            judge(start + k, case, candidates[k], {n: refs[n][k] for n in refs}, oracles=oracles,
                  subject=subject_fn, seed=seed, projection=projections[k], bound=bounds[k],
                  subject_flat=flats[k])
            for k, case in enumerate(cases)
        ]
    except Exception:  # noqa: BLE001 - reported as a failed chunk, identically on every executor
        return ChunkResult(chunk, [], time.perf_counter() - t0, worker=worker, error=traceback.format_exc())
    return ChunkResult(chunk, results, time.perf_counter() - t0, time.process_time() - c0, compiles, worker)


def _chunks(n_cases: int, size: int = CHUNK) -> list[tuple[int, int, int]]:
    """(chunk number, start, stop) covering 0..n_cases-1."""
    return [(k, s, min(n_cases, s + size)) for k, s in enumerate(range(0, n_cases, size))]


# --------------------------------------------------------------------------- executors


def _crashed(chunk: tuple[int, int, int], exc: BaseException) -> ChunkResult:
    """A chunk whose process or worker died: recorded like a chunk that raised."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return ChunkResult(chunk[0], [], 0.0, worker="?", error=text)


def _serial(chunks, args) -> Iterator[ChunkResult]:
    for k, start, stop in chunks:
        yield check_chunk(args[0], k, start, stop, *args[1:])


def _worker_init(workers: int) -> int | None:
    """Share the cores between the worker processes (torch's intra-op threads, if torch is there).

    Returns the previous thread count (None without torch).  Measured on 2 cores: a process whose torch
    had run a 2-thread operation slowed a 2-process sweep to half speed until it was given 1 thread.
    """
    try:
        import torch
    except ImportError:
        return None
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))
    return before


def _programs(oracles: Sequence[str]) -> dict[tuple, tuple] | None:
    """The JAX programs this process has compiled, serialized for its worker processes (None: none yet)."""
    if "jax" not in oracles:
        return None
    return get_oracle("jax").export_programs() or None  # type: ignore[attr-defined]


def _warm_up(oracles: Sequence[str]) -> None:
    """Import and create the oracles (a worker process's first task, while this process compiles)."""
    for name in oracles:
        get_oracle(name)


def _check_chunk_in_worker(programs: dict[tuple, tuple] | None, *args: Any) -> ChunkResult:
    """:func:`check_chunk` in a worker process, adopting the JAX programs this process sent (see _programs)."""
    if programs:
        try:
            get_oracle("jax").load_programs(programs)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - only costs compilations; check_chunk reports whatever really fails
            pass
    return check_chunk(*args)


def _spawn(workers: int, oracles: Sequence[str]) -> Any:
    """A pool of ``workers`` − 1 fresh processes (spawned: torch and JAX are not fork-safe), each already
    importing the oracles: its first task, started now, so that it overlaps whatever this process does next."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=workers - 1, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_init, initargs=(workers,))
    for _ in range(workers - 1):  # each submission while none is idle starts a process
        pool.submit(_warm_up, oracles)
    return pool


def _close(pool: Any) -> None:
    """Stop the pool's processes: whatever they still run is not needed (done here, or the sweep failed)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        proc.terminate()


def _processes(chunks, args, workers: int, *, speculate: bool = True, pool: Any = None) -> Iterator[ChunkResult]:
    """Chunks spread over this process and the ``workers`` − 1 processes of ``pool`` (:func:`_spawn`; a new one
    when None), which it closes at the end.

    This process works from the back of the list while the new processes start up and take chunks from
    the front, two queued per process.  The new processes first import the oracles while this one runs
    its first chunk (compiling its JAX programs, if not warm already); every chunk sent carries those
    programs, serialized, so the workers do not compile them again.  When the list is empty, this
    process re-runs the chunks still out (a chunk's result does not depend on where it runs) rather
    than wait for a slow process, and whichever copy ends first counts.
    """
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    todo = deque(chunks)
    running: dict[Any, tuple[int, int, int]] = {}
    yielded: set[int] = set()

    def here(chunk: tuple[int, int, int]) -> ChunkResult:
        yielded.add(chunk[0])
        return check_chunk(args[0], chunk[0], chunk[1], chunk[2], *args[1:])

    broken = False
    threads = None
    try:
        pool = pool or _spawn(workers, args[1])
        threads = _worker_init(workers)  # this process is one of the workers too
        programs = _programs(args[1])
        if programs is None and "jax" in args[1] and todo:
            yield here(todo.pop())  # compiles while the workers import; they get the programs with their chunks
            programs = _programs(args[1])
        while len(yielded) < len(chunks):
            while todo and not broken and len(running) < 2 * (workers - 1):
                try:
                    fut = pool.submit(_check_chunk_in_worker, programs, args[0], *todo[0], *args[1:])
                except BrokenProcessPool:  # a process died: the chunks it held are reported, the rest run here
                    broken = True
                    break
                running[fut] = todo.popleft()
            spare = [c for c in running.values() if c[0] not in yielded]
            if todo:
                yield here(todo.pop())
            elif spare and speculate:
                yield here(spare[-1])
            idle = not todo and not (spare and speculate)
            finished, _ = wait(list(running), timeout=None if idle else 0,
                               return_when=FIRST_COMPLETED) if running else ((), ())
            for fut in finished:
                chunk = running.pop(fut)
                if chunk[0] in yielded:
                    continue
                yielded.add(chunk[0])
                try:
                    yield fut.result()
                except Exception as exc:  # noqa: BLE001 - a dead process: its chunk is reported failed
                    yield _crashed(chunk, exc)
    finally:
        if threads is not None:
            import torch

            torch.set_num_threads(threads)
        if pool is not None:
            _close(pool)


def _dask(chunks, args, scheduler: Any) -> Iterator[ChunkResult]:
    """The same chunks on an existing Dask cluster (``scheduler``: its address, or a distributed.Client)."""
    from .base import require

    distributed = require("distributed", "dask")
    client = scheduler if isinstance(scheduler, distributed.Client) else distributed.Client(scheduler)
    try:
        futures = {
            client.submit(check_chunk, args[0], k, s, e, *args[1:], pure=False,
                          key=f"manualbp-sweep-{args[0]}-{k}-{os.getpid()}-{time.time_ns()}"): (k, s, e)
            for k, s, e in chunks
        }
        for fut in distributed.as_completed(futures):
            try:
                yield fut.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker: its chunk is reported failed
                yield _crashed(futures[fut], exc)
    finally:
        if client is not scheduler:
            client.close()


# --------------------------------------------------------------------------- the verdict of one case

AGREEMENT_EVERY = 25
"""Every this many cases (and on every failure) the full per-entry FD also runs, for the oracles' agreement."""


def reproduce_text(seed: int, index: int) -> str:
    """Python that rebuilds case ``index`` of the sweep and judges manualbp on it."""
    return (f"python -c \"from oracles.sweep_cases import random_case; from oracles.compare import compare; "
            f"import manualbp; c = random_case({seed}, {index}); print(compare(c, manualbp.gradients(c)))\"")


def _subject_error(index: int, case: Case, why: str) -> CaseResult:
    finding = Finding(source="sweep", kind="subject-error", severity="error",
                      message=f"the subject gave no usable gradients on {describe(case.arch)}: {why}",
                      check=f"sweep case {index}", values={"error": why})
    return CaseResult(index, "fail", case.dtype, describe(case.arch), math.inf, findings=[finding.to_dict()],
                      notes=[why])


def _agreement(grads: dict[str, np.ndarray]) -> dict[str, float]:
    """Max relative difference between every pair of oracles that produced per-entry (flat) gradients."""
    names = [n for n in ORACLE_NAMES if n in grads]
    return {f"{a}~{b}": _max_rel(grads[a], grads[b]) for i, a in enumerate(names) for b in names[i + 1:]}


def judge(index: int, case: Case, candidate: Gradients | str, refs: dict[str, Gradients], *,
          oracles: Sequence[str], subject: Subject, seed: int, projection: Any = None, bound: Any = None,
          subject_flat: np.ndarray | None = None) -> CaseResult:
    """The verdict of :func:`oracles.compare.compare` (fast mode) on one case, as plain data.

    ``refs`` are the autodiff oracles' gradients, ``projection`` the FD projection check and ``bound``
    the case's rounding-error bound, computed in batch for the whole chunk (``subject_flat``: the
    candidate's flat float64 vector, if already made).  A case that clearly passes
    (:func:`oracles.compare.clear_pass`) gets the same result without the whole verdict object.
    """
    from .compare import clear_pass, compare, fast_note

    if isinstance(candidate, str):
        return _subject_error(index, case, candidate)
    if subject_flat is None:
        subject_flat = candidate.flat().astype(np.float64)
    if refs and set(refs) | {"fd"} >= set(oracles) and index % AGREEMENT_EVERY != 0 and bound is not None:
        flat = {n: g.flat().astype(np.float64) for n, g in refs.items()}
        ratio = clear_pass(case, subject_flat, flat, projection, bound) if "fd" in oracles else None
        if ratio is not None:
            rel = {n: _max_rel(subject_flat, g) for n, g in flat.items()}
            return CaseResult(index, "pass", case.dtype, describe(case.arch), ratio, rel, _agreement(flat),
                              notes=[fast_note(projection)])
    verdict = compare(case, candidate, oracles=oracles, fast=True, precomputed=refs, projection=projection,
                      bound=bound, rerun=subject if case.dtype == "float32" else None)
    grads = dict(verdict.oracle_gradients)
    if "fd" in oracles and "fd" not in grads and index % AGREEMENT_EVERY == 0:
        grads["fd"] = get_oracle("fd").gradients(case)
    flat = {n: g.flat().astype(np.float64) for n, g in grads.items()}
    rel = {n: _max_rel(subject_flat, g) for n, g in flat.items()}
    result = CaseResult(index, verdict.status, case.dtype, describe(case.arch), verdict.max_error_ratio, rel,
                        _agreement(flat), notes=list(verdict.notes))
    if not verdict.passed:
        check = f"sweep case {index}"
        for f in verdict.to_findings(source="sweep", check=check):
            f.reproduce = f.reproduce or reproduce_text(seed, index)
            result.findings.append(f.to_dict())
    return result


# --------------------------------------------------------------------------- shrinking a failure

SHRINK_EXAMPLES = 300
"""Hypothesis examples searched around one failing architecture."""


@dataclass
class Shrunk:
    """A failure after Hypothesis's search and shrinking (or the original case when it found none)."""

    original: int  # sweep index
    case: Case
    findings: list[Finding]
    shrunk: bool
    note: str


def case_source(case: Case) -> str:
    """Python that rebuilds ``case`` exactly (repr of float64 values round-trips)."""
    def lst(a: np.ndarray) -> str:
        return repr(np.asarray(a, np.float64).tolist())

    return (f"Case.create({[np.asarray(W, np.float64).tolist() for W in case.weights]!r}, "
            f"{[np.asarray(b, np.float64).tolist() for b in case.biases]!r}, {lst(case.x)}, {lst(case.y)}, "
            f"activations={list(case.arch.activations)!r}, cost={case.arch.cost!r}, dtype={case.dtype!r})")


def shrink(case: Case, subject: Subject, oracles: Sequence[str], *, max_examples: int = SHRINK_EXAMPLES,
           original: int = -1) -> Shrunk:
    """Search with Hypothesis around ``case``'s architecture for a failing case and shrink it to a minimal one.

    The search space: at most the failing case's depth and widths, its hidden activations, its output
    activation, cost and dtype, one sample or a small batch (:mod:`oracles.strategies`).  Derandomized,
    so the same failure always shrinks to the same case.
    """
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis.errors import NoSuchExample

    from . import strategies as mst
    from .compare import compare

    arch = case.arch
    hidden = tuple(dict.fromkeys(arch.activations[:-1])) or None
    space = mst.cases(
        architectures=mst.architectures(min_layers=2, max_layers=arch.depth, max_width=max(arch.widths),
                                        activations=hidden, output_activations=(arch.activations[-1],),
                                        costs=(arch.cost,), dtypes=(arch.dtype,)),
        batch=(None, 1, 2, 4), label="shrunk")

    def fresh() -> Subject:  # a time-limited subject with a hang budget of its own (the sweep's may be spent)
        return _TimeLimited(subject.fn, subject.timeout, subject.max_hangs) if isinstance(subject, _TimeLimited) \
            else subject

    searching = fresh()

    def fails(c: Case) -> bool:
        g = _subject_gradients(searching, c)
        if isinstance(g, str):
            return not g.startswith("skipped:")  # not called: nothing known about this case
        return compare(c, g, oracles=oracles, fast=True, rerun=searching if c.dtype == "float32" else None
                       ).status == "fail"

    cfg = settings(max_examples=max_examples, database=None, derandomize=True, deadline=None,
                   phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
    try:
        small = find(space, fails, settings=cfg)
    except NoSuchExample:
        small, note = case, (f"Hypothesis found no failing case in {max_examples} examples around this architecture;"
                             " the sweep's case is reported as found")
    else:
        note = (f"shrunk by Hypothesis from sweep case {original} ({describe(arch)}) "
                f"to {describe(small.arch)}")
    subject = fresh()
    g = _subject_gradients(subject, small)
    check = f"sweep case {original}"
    if isinstance(g, str):
        findings = [Finding(source="sweep", kind="subject-error", severity="error",
                            message=f"the subject gave no usable gradients: {g}", check=check)]
    else:
        verdict = compare(small, g, oracles=oracles, fast=True,
                          rerun=subject if small.dtype == "float32" else None)
        findings = verdict.to_findings(source="sweep", check=check)
    for f in findings:
        f.reproduce = "from manualbp import Case; case = " + case_source(small)
        f.diagnosis = "; ".join(x for x in (f.diagnosis, note) if x)
    return Shrunk(original, small, findings, small is not case, note)


# --------------------------------------------------------------------------- the report


def _group(result: CaseResult) -> str:
    """The architecture group of a case: number of weight layers and dtype."""
    layers = result.arch.split(" ")[0].count("-")
    return f"sweep: {layers} weight layer{'s' if layers > 1 else ''}, {result.dtype}"


def _sections(results: list[CaseResult], n_cases: int, seed: int, oracles: Sequence[str]) -> dict[str, Any]:
    by_dtype: dict[str, Counter] = {}
    for r in results:
        by_dtype.setdefault(r.dtype, Counter())[r.status] += 1
    max_rel: dict[str, float] = {}
    max_rel_dtype: dict[str, dict[str, float]] = {}
    agreement: dict[str, float] = {}
    for r in results:
        per = max_rel_dtype.setdefault(r.dtype, {})
        for k, v in r.rel_err.items():
            max_rel[k] = max(max_rel.get(k, 0.0), v)
            per[k] = max(per.get(k, 0.0), v)
        for k, v in r.agreement.items():
            agreement[k] = max(agreement.get(k, 0.0), v)
    return {
        "cases": n_cases,
        "checked": len(results),
        "seed": seed,
        "oracles": list(oracles),
        "architectures": len({r.arch for r in results}),
        "by_status": dict(sorted(Counter(r.status for r in results).items())),
        "by_dtype": {d: dict(sorted(c.items())) for d, c in sorted(by_dtype.items())},
        "max_rel_err": {k: max_rel[k] for k in ORACLE_NAMES if k in max_rel},
        "max_rel_err_by_dtype": {d: {k: v[k] for k in ORACLE_NAMES if k in v}
                                 for d, v in sorted(max_rel_dtype.items())},
        "error_ratio": [r.error_ratio for r in results],
        "oracle_agreement": agreement,
        "failures": [r.index for r in results if r.status == "fail"],
    }


def _report(results: list[CaseResult], failed_chunks: list[ChunkResult], shrunk: list[Shrunk],
            sections: dict[str, Any]) -> Report:
    report = Report(title=f"manualbp sweep: {sections['cases']} random architectures, seed {sections['seed']}")
    groups: dict[str, list[CaseResult]] = {}
    for r in results:
        groups.setdefault(_group(r), []).append(r)
    for name in sorted(groups):
        rs = groups[name]
        statuses = Counter(r.status for r in rs)
        bad = [r.index for r in rs if r.status == "fail"]
        summary = (f"{len(rs)} cases: " + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
                   + (f"; failing cases {bad[:10]}{' …' if len(bad) > 10 else ''}" if bad else ""))
        report.add(Check(name, "sweep", not bad, summary,
                         {"cases": len(rs), "by_status": dict(statuses), "failures": bad,
                          "max_error_ratio": max((r.error_ratio for r in rs), default=0.0)}))
    shrunk_of = {s.original: s for s in shrunk}
    failing = [r for r in results if r.status == "fail"]
    shown = sorted(failing, key=lambda r: (r.index not in shrunk_of, r.index))[:MAX_FAILURE_CHECKS]
    for r in sorted(shown, key=lambda r: r.index):
        s = shrunk_of.get(r.index)
        name = f"sweep case {r.index}"
        if s is not None:
            report.add(Check(name, "sweep", False, f"{r.arch}: {s.note}",
                             {"index": r.index, "arch": r.arch, "shrunk_to": describe(s.case.arch)}), s.findings)
        else:
            report.add(Check(name, "sweep", False, f"{r.arch}: {'; '.join(r.notes) or 'fail'}",
                             {"index": r.index, "arch": r.arch}),
                       [Finding.from_dict(d) for d in r.findings])
    if len(failing) > MAX_FAILURE_CHECKS:
        report.add(Check("sweep: further failing cases", "sweep", False,
                         f"{len(failing) - MAX_FAILURE_CHECKS} more failing cases"
                         " (their indices are in sections['sweep']['failures'])"))
    warn = [r for r in results if r.status in ("oracle-disagreement", "inconclusive")]
    for r in warn[:MAX_FAILURE_CHECKS]:
        report.findings += [Finding.from_dict(d) for d in r.findings]
    for c in failed_chunks:
        report.add(Check(f"sweep chunk {c.chunk}", "sweep", False, "the chunk could not be checked",
                         {"error": c.error, "worker": c.worker}),
                   [Finding(source="sweep", kind="sweep-error", severity="error",
                            message=f"chunk {c.chunk} of the sweep failed on {c.worker}: "
                                    f"{(c.error or '').strip().splitlines()[-1:] or ['?']}",
                            values={"traceback": c.error})])
    report.sections["sweep"] = sections
    return report


# --------------------------------------------------------------------------- the sweep


def _progress(enabled: bool, total: int):
    """A rich progress bar on stderr (a no-op context when disabled)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("[bold]sweep[/]"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("cases · {task.fields[rate]} cases/s · [red]{task.fields[fails]} failing[/]"),
                    TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                    console=Console(stderr=True), disable=not enabled, transient=False)


def run_sweep(n_cases: int, *, seed: int = 0, oracles: Sequence[str] = ("torch", "jax", "fd"),
              subject: Any = None, workers: int = 1, scheduler: Any = None, progress: bool = True,
              shrink_failures: bool = True, chunk_size: int = CHUNK, dist: Distribution = DEFAULT) -> Report:
    """Check ``n_cases`` random architectures against ``oracles``; a Report with sections["sweep"].

    ``subject``: a callable Case -> Gradients (or an object with ``.gradients``); manualbp's by default.
    It must be picklable (a module-level function) for ``workers`` > 1 or a ``scheduler``.
    ``workers``: processes on this machine, this one included (``workers`` − 1 are spawned).
    ``scheduler``: the address of a Dask scheduler (or a ``distributed.Client``) to run the chunks on
    instead.  Results do not depend on either.
    """
    if isinstance(n_cases, bool) or not isinstance(n_cases, (int, np.integer)) or n_cases < 1:
        raise ValueError(f"n_cases must be a positive integer, got {n_cases!r}")
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    oracles = tuple(oracles)
    bad = [o for o in oracles if o not in ORACLE_NAMES]
    if not oracles or bad:
        raise ValueError(f"unknown oracle(s) {bad or list(oracles)}; valid names: {', '.join(ORACLE_NAMES)}")
    subject_fn = _resolve_subject(subject)
    # worker processes start first: their imports then overlap this process's own (seconds, cold)
    pool = _spawn(int(workers), oracles) if scheduler is None and workers > 1 else None
    try:
        for name in oracles:  # a missing dependency fails here, before any work is sent anywhere
            get_oracle(name)
    except BaseException:
        if pool is not None:
            _close(pool)
        raise
    chunks = _chunks(int(n_cases), int(chunk_size))
    args = (int(seed), oracles, subject, dist)
    if scheduler is not None:
        stream = _dask(chunks, args, scheduler)
    elif pool is not None:
        stream = _processes(chunks, args, int(workers), pool=pool)
    else:
        stream = _serial(chunks, args)

    t0 = time.perf_counter()
    done: dict[int, ChunkResult] = {}
    fails = 0
    try:
        with _progress(progress, int(n_cases)) as bar:
            task = bar.add_task("sweep", total=int(n_cases), rate="-", fails=0)
            for chunk in stream:
                done[chunk.chunk] = chunk
                fails += sum(r.status == "fail" for r in chunk.results) + (chunk.error is not None)
                n_done = sum(len(c.results) for c in done.values())
                rate = n_done / max(time.perf_counter() - t0, 1e-9)
                bar.update(task, advance=chunks[chunk.chunk][2] - chunks[chunk.chunk][1], rate=f"{rate:,.0f}",
                           fails=fails)
    finally:
        if pool is not None:  # also when the stream never started
            _close(pool)
    seconds = time.perf_counter() - t0

    ordered = [done[k] for k in sorted(done)]
    results = [r for c in ordered for r in c.results]
    failed_chunks = [c for c in ordered if c.error is not None]
    sections = _sections(results, int(n_cases), int(seed), oracles)
    shrunk: list[Shrunk] = []
    t_shrink = time.perf_counter()
    if shrink_failures:
        seen: set[str] = set()
        for r in results:
            if r.status != "fail":
                continue
            key = r.arch.split(" ", 1)[1]  # activations, cost, dtype: one search per kind of architecture
            if key in seen or len(shrunk) >= MAX_SHRINK:
                continue
            seen.add(key)
            shrunk.append(shrink(random_case(seed, r.index, dist), subject_fn, oracles, original=r.index))
        shrunk.sort(key=lambda s: s.original)
    report = _report(results, failed_chunks, shrunk, sections)
    report.timings["sweep"] = {
        "seconds": seconds,
        "cases_per_second": len(results) / seconds if seconds > 0 else math.inf,
        "workers": int(workers),
        "scheduler": str(getattr(scheduler, "scheduler_info", lambda: {})().get("address", scheduler))
        if scheduler is not None else None,
        "chunks": len(chunks),
        "chunk_seconds": [c.seconds for c in ordered],
        "compile_count": sum(c.compile_count for c in ordered),
        "processes": sorted({c.worker for c in ordered}),
        "shrink_seconds": time.perf_counter() - t_shrink,
    }
    return report
