"""Audit a backprop derivation written in Markdown + LaTeX.

``audit_file(path)`` / ``audit_text(text, name)`` read every math block,
check every equation (symbolic ones for every index value, on the worked
example and on random networks; numeric ones against manualbp at the
document's own rounding) and report each problem as a
:class:`~oracles.findings.Finding` (source ``"audit"``) with its line, the
LaTeX fragment, a kind (malformed, layout, notation, index, symbol, shape,
missing-term, relation, sign, arithmetic, rounding, mismatch), a severity and,
where one exists, the smallest edit that fixes it as LaTeX to paste.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

from oracles.findings import Check, Finding, Location, Report

from .augmented import read_augmentation
from .coverage import (
    COVERAGE_BAR,
    DATA,
    EVALUATED,
    NOT_EVALUABLE,
    Coverage,
    unread_worked_example,
    verdict_reason,
)
from .extract import Equation, extract
from .fixes import splice_text
from .markdown import Document, MathBlock, split_markdown
from .model import (
    Model,
    build_worked,
    configure_named,
    defines_e,
    detect_activation,
    detect_cost,
    detect_layer_activations,
    find_bindings,
    find_constants,
    infer_widths,
    is_numeric,
    match_cost,
    own_e,
)
from .notation import (
    preactivation_a,
    read_named_derivative_prefix,
    read_notation,
    stated_input_layer,
    stated_weight_offset,
    structural_input_layer,
)
from .numbers import named_formulas
from .semantics import Convention, sym_kind
from .tree import Deriv, Sym

__all__ = ["audit_file", "audit_text", "SEVERITY"]

SEVERITY = {"malformed": "error", "layout": "warning", "notation": "warning", "rounding": "info",
            "internal": "error", "not-evaluable": "warning", "coverage": "error", "model": "warning",
            "consequence": "info"}
WORKED_ONLY = re.compile(r"\b(?:at|for) (?:this|that) (?:input|point|example|sample)\b|\bin this (?:example|case)\b|"
                         r"\bfor these (?:numbers|values)\b")
HERE_AFTER = re.compile(r"^\$?\s*(?:holds\s+)?(?:exactly|only|just)?\s*here\b")
KNOWN_SYMBOLS = {"a", "z", "w", "W", "b", "y", "x", "C", "delta", "sigma", "n", "e", "partial", "A", "Z", "J",
                 "E", "L", "N", "T"}


def audit_file(path: str | Path) -> Report:
    """Audit the Markdown derivation at ``path``."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such derivation file: {p}")
    return audit_text(p.read_text(encoding="utf-8", errors="replace"), str(p))


def audit_text(text: str, name: str = "<text>") -> Report:
    """Audit a Markdown derivation given as text."""
    t0 = time.perf_counter()
    auditor = _Auditor(text, name)
    try:
        auditor.run()
    except Exception as exc:  # noqa: BLE001 - last resort: the auditor reports, it never crashes
        auditor.add("internal", f"the auditor stopped early: {type(exc).__name__}: {exc}", 1, None)
    try:
        auditor._report_coverage()
    except Exception as exc:  # noqa: BLE001 - as above
        auditor.add("internal", f"the auditor could not tally what it checked: {type(exc).__name__}: {exc}", 1,
                    None)
    report = Report(title=f"Derivation audit: {name}")
    errors = sum(1 for f in auditor.findings if f.severity == "error")
    cov = auditor.coverage
    check = Check(name=f"audit {name}", source="audit", passed=errors == 0,
                  summary=f"{cov.summary()}; {len(auditor.findings)} findings ({errors} errors)",
                  details={"network": auditor.network_summary(), "notes": auditor.model.notes,
                           "coverage": cov.to_dict()})
    report.add(check, auditor.findings)
    report.sections["audit"] = {"file": name, "equations": cov.read, "checked": cov.evaluated,
                                "coverage": cov.to_dict(), "network": auditor.network_summary(),
                                "notes": list(auditor.model.notes)}
    report.timings["audit_seconds"] = time.perf_counter() - t0
    return report


class _Auditor:
    def __init__(self, text: str, name: str):
        self.text = text
        self.name = name
        self.findings: list[Finding] = []
        self._seen: set = set()
        self.model = Model()
        self.equations: list[Equation] = []
        self.coverage = Coverage()
        self.doc: Document | None = None
        self._splices: list[tuple[int, int, str]] = []  # every fix's edits, in file offsets
        self.model_problem: str | None = None  # why no network model fits, when none does
        self.preactivation_a: Equation | None = None  # the document's z = h(a), when it writes a for z

    # ------------------------------------------------------------------ helpers
    def line(self, block: MathBlock, pos: int) -> int:
        return self.doc.block_line(block, pos)

    def add(self, kind: str, message: str, line: int, fragment: str | None, *, fix: str | None = None,
            severity: str | None = None, values: dict | None = None, diagnosis: str | None = None,
            splices: list | None = None) -> None:
        key = (kind, line, (fragment or "")[:200], message[:80])
        if key in self._seen:
            return
        self._seen.add(key)
        if splices:
            self._splices.extend(tuple(x) for x in splices)
        self.findings.append(Finding(
            source="audit", kind=kind, severity=severity or SEVERITY.get(kind, "error"), message=message,
            where=Location(file=self.name, line=line, fragment=fragment), check=f"audit {self.name}",
            values=values or {}, fix=fix, diagnosis=diagnosis))

    def network_summary(self) -> dict:
        m = self.model
        acts = list(m.worked.case.arch.activations) if m.worked is not None and not m.conv.named else None
        return {"widths": list(m.widths()), "activation": m.activation, "layer_activations": acts,
                "cost": m.cost if m.cost_expr is None else "document's own C",
                "convention": m.conv.describe(), "worked_example": m.worked is not None}

    # ------------------------------------------------------------------ the run
    def run(self) -> None:
        self.doc = split_markdown(self.text, self.name)
        for line, delim in self.doc.unclosed:
            self.add("malformed", f"math opened with {delim} is never closed", line, delim,
                     fix=f"close it with {delim}")
        ex = extract(self.doc)
        self.equations = ex.equations
        for block, p in ex.problems:
            line = self.line(block, p.start)
            frag = block.text[p.start:p.end]
            fix = None
            if p.edit is not None:
                s, e, r = p.edit
                lo, hi = min(p.start, s), max(p.end, e)
                fix = splice_text(block.text[lo:hi], [(s - lo, e - lo, r)])
                frag = block.text[lo:hi]
                offsets = [block.offset + lo, block.offset + hi]
            else:
                offsets = [block.offset + p.start, block.offset + p.end]
            spl = None
            if p.edit is not None:
                spl = [(block.offset + p.edit[0], block.offset + p.edit[1], p.edit[2])]
            if p.kind == "layout":
                fix = self._layout_fix(block, p)
                spl = [(offsets[0], offsets[1], fix)]
            self.add(p.kind, p.message, line, _clip(frag), fix=fix, values={"offsets": offsets}, splices=spl)
        self._configure()
        for eq in self.equations:
            line = self.line(eq.block, eq.span[0])
            if eq.index in self.model.binding_eqs:
                self.coverage.set(eq.index, line, DATA)
                continue
            try:
                self._check(eq)
            except Exception as exc:  # noqa: BLE001 - one equation must not stop the audit
                self.coverage.set(eq.index, line, NOT_EVALUABLE, "the auditor failed on it (reported above)")
                self.add("internal", f"the auditor could not check this equation: {type(exc).__name__}: {exc}",
                         line, _clip(eq.block.text[eq.span[0]:eq.span[1]]))
        self._merge_fixes()

    def _report_coverage(self) -> None:
        """Findings for what could not be evaluated: each equation, unread numbers, and nothing at all."""
        cov = self.coverage
        cov.worked_example = self.model.worked is not None
        if self.model_problem:
            self.add("model", self.model_problem, 1, None)
        if not cov.worked_example:
            line, why = unread_worked_example(self.equations, self.model, self.line)
            if line is not None:
                cov.unread_numbers, cov.unread_reason = line, why
                self.add("not-evaluable", "these numbers look like a worked example, but the auditor could not "
                         f"read one ({why}), so no stated number was checked", line, None)
        for idx, st in sorted(cov.statuses.items()):
            if st.state == NOT_EVALUABLE and not st.silent:
                eq = next((e for e in self.equations if e.index == idx), None)
                frag = None if eq is None else _clip(eq.block.text[eq.span[0]:eq.span[1]])
                self.add("not-evaluable", f"not checked: {st.reason}", st.line, frag,
                         severity="info" if st.minor else "warning")
        if cov.evaluated == 0:
            what = (f"none of the {cov.read} equations read" if cov.read else "no equation was found")
            self.add("coverage", f"nothing in this document could be evaluated ({what}): the audit cannot "
                     "vouch for any of it", 1, None)
        elif not cov.enough:
            self.add("coverage", f"only {cov.evaluated} of {cov.checkable} equations could be evaluated (the bar is "
                     f"{COVERAGE_BAR:.0%}; the not-evaluable findings say why): the audit cannot vouch for this "
                     "document", 1, None)

    def _merge_fixes(self) -> None:
        """Each fix becomes its fragment with every edit that falls inside it applied (paste-ready)."""
        chosen: list[tuple[int, int, str]] = []
        for s, e, r in sorted(set(self._splices), key=lambda t: (-(t[1] - t[0]), t[0])):
            if any(_conflict((s, e), (a, b)) for a, b, _ in chosen):
                continue
            chosen.append((s, e, r))
        for f in self.findings:
            off = f.values.get("offsets")
            if f.fix is None or not off:
                continue
            lo, hi = off
            inner = [(a - lo, b - lo, r) for a, b, r in chosen if lo <= a and b <= hi and (a, b) != (lo, hi)]
            whole = [r for a, b, r in chosen if (a, b) == (lo, hi)]
            if whole:
                f.fix = whole[0]
            elif inner:
                f.fix = splice_text(self.text[lo:hi], inner)

    def _layout_fix(self, block: MathBlock, p) -> str:
        seg = block.text[p.start:p.end]
        lines = [ln.strip() for ln in seg.splitlines() if ln.strip()]
        return "\\begin{aligned} " + " \\\\\n".join(lines) + " \\end{aligned}"

    # ------------------------------------------------------------------ configuration
    def _configure(self) -> None:
        m = self.model
        eqs = self.equations
        prose = "\n".join(t for _, t in self.doc.prose) + "\n" + self.text
        m.output_letter = read_notation(eqs, prose).output_letter
        self.preactivation_a = preactivation_a(eqs)  # z = h(a): a is this document's pre-activation
        m.euler = not defines_e(eqs)  # e(n) = d(n) − o(n): the document's e, not Euler's number
        if not m.euler:
            own_e(eqs)
        if configure_named(m, eqs, prose):  # u = x W_1 + b_1, h = tanh(u): the document's own names
            # dW_2 = ∂L/∂W_2, unless the document writes differentials (dL = …)
            m.worked.graph.differentials = read_named_derivative_prefix(eqs, m.worked.graph.knows)
            m.formulas = named_formulas(eqs, m.env(m.worked))  # dW_2 = h^T ds: how a stated dW_2 follows
            m.notes.append("convention: " + m.conv.describe())
            return
        find_constants(m, eqs)
        find_bindings(m, eqs)
        folded = read_augmentation(eqs, prose, m.bindings)
        m.binding_eqs.update(folded.definitions)
        if folded.problem is not None:
            line = next((self.line(eq.block, eq.span[0]) for key, (_, eq) in sorted(m.bindings.items())
                         if key[0] == "w"), 1)
            self.add("not-evaluable", folded.problem, line, None)
        detect_activation(m, eqs, prose)
        detect_layer_activations(m, eqs, "\n".join(t for _, t in self.doc.prose))
        has_cost = detect_cost(m, eqs, prose)
        out = m.stated_output()
        if m.cost == "bce" and getattr(m, "cost_rhs", None) is None and out not in (None, "sigmoid"):
            self.model_problem = (f"the document says cross-entropy, but its output layer is {out} (cross-entropy "
                                  "needs a sigmoid output): the equations were checked with a squared-error cost")
            m.cost, has_cost = "half_mse", False
        wmin = min((k for (kind, k) in m.bindings if kind == "w"), default=None)
        base = stated_input_layer(prose)
        base = self._input_layer() if base is None else base
        base = structural_input_layer(eqs, wmin) if base is None else base
        if wmin is None and base is not None and stated_weight_offset(prose) is not None:
            wmin = base + stated_weight_offset(prose)
        delta = self._delta_meaning()
        cands = []
        for b in ([base] if base is not None else [1, 0]):
            for w in ([wmin] if wmin is not None else [b, b + 1]):
                for d in ([delta] if delta else ["a", "z"]):
                    cands.append(Convention(b, w, d, augmented=folded.augmentation))
        m.conv = cands[0]
        self._alias()
        worked, problems = build_worked(m, eqs)
        for msg in problems:
            eq = next(iter(m.bindings.values()))[1] if m.bindings else None
            if eq is not None:
                self.add("shape", f"the worked example's values do not fit together: {msg}",
                         self.line(eq.block, eq.span[0]), None)
        m.worked = worked
        if worked is None:
            infer_widths(m, eqs)
        elif worked.case.batched and _uses_d_prefix(eqs):  # Ng's dZ over a batch: per sample, or of the mean?
            cands += [replace(c, per_sample=True) for c in cands]
        own_cost = has_cost and getattr(m, "cost_rhs", None) is not None
        if len(cands) > 1 or not has_cost or own_cost:
            self._choose(cands, costs=None if has_cost else ["half_mse", "half_sse", "mse"], own_cost=own_cost)
        elif m.worked is not None and m.worked.case.arch.cost != m.cost:
            try:
                m.worked = _recost(m.worked, m, m.cost)
            except (ValueError, TypeError) as exc:
                self.model_problem = f"the worked example cannot take the cost {m.cost}: {exc}"
        if m.worked is not None:
            m.worked.cost_expr = m.cost_expr
        m.notes.append("convention: " + m.conv.describe())

    def _input_layer(self) -> int | None:
        for eq in self.equations:
            syms = [mm for mm in eq.members if isinstance(mm, Sym)]
            xs = [s for s in syms if sym_kind(s) == "x" and not s.sub]
            as_ = [s for s in syms if sym_kind(s) == "a" and not s.sub and s.layer is not None]
            if xs and as_:
                from .tree import Num
                if isinstance(as_[0].layer, Num):
                    return int(as_[0].layer.value)
        for eq in self.equations:
            for mm in eq.members:
                for n in mm.walk():
                    if isinstance(n, Sym) and sym_kind(n) in ("a", "z") and n.layer is not None:
                        from .tree import Num
                        if isinstance(n.layer, Num) and n.layer.value == 0:
                            return 0
        return None

    def _delta_meaning(self) -> str | None:
        for eq in self.equations:
            lhs = eq.members[0]
            if isinstance(lhs, Sym) and sym_kind(lhs) == "delta" and len(eq.members) >= 2:
                d = eq.members[1]
                if isinstance(d, Deriv) and isinstance(d.num, Sym) and sym_kind(d.num) == "C":
                    v = d.var
                    if isinstance(v, Sym) and sym_kind(v) in ("a", "z"):
                        return sym_kind(v)
        return None

    def _alias(self) -> None:
        """Unknown symbols that are a case-slip of a known one (∂c for ∂C): a notation finding each."""
        for eq in self.equations:
            for mem in eq.members:
                for n in mem.walk():
                    if isinstance(n, Deriv) and isinstance(n.num, Sym):
                        s = n.num
                        if s.name not in KNOWN_SYMBOLS and not s.sub and s.layer is None and (
                                s.name.swapcase() in ("C",)):
                            self.model.alias[s.name] = s.name.swapcase()
                            frag = eq.block.text[n.span[0]:n.span[1]]
                            ln = len(s.name)
                            fix = eq.block.text[n.span[0]:s.span[0]] + s.name.swapcase() + \
                                eq.block.text[s.span[0] + ln:n.span[1]]
                            off = [eq.block.offset + n.span[0], eq.block.offset + n.span[1]]
                            self.add("notation", f"'{s.name}' is not defined in the document; the cost is "
                                     f"'{s.name.swapcase()}'", self.line(eq.block, s.span[0]), frag, fix=fix,
                                     values={"offsets": off},
                                     splices=[(eq.block.offset + s.span[0], eq.block.offset + s.span[0] + ln,
                                               s.name.swapcase())])

    def _choose(self, cands: list[Convention], costs: list[str] | None, own_cost: bool = False) -> None:
        """The convention (and cost) under which the fewest equations fail; the document's own definition
        of C, when it has one, is matched to a named cost under each convention in turn."""
        m = self.model
        best = None
        rejected: list[str] = []
        worked0 = m.worked
        first = (m.conv, m.cost, m.cost_expr, worked0)
        notes0 = list(m.notes)
        for conv in cands:
            m.conv = conv
            if own_cost:
                try:
                    m.worked = None if worked0 is None else _recost(worked0, m, "bce")  # a in (0, 1)
                except (ValueError, TypeError) as exc:
                    try:  # the document's own output layer (a linear one) cannot take cross-entropy
                        m.worked = _recost(worked0, m, "half_mse")
                    except (ValueError, TypeError):
                        rejected.append(f"{conv.describe()}: {exc}")
                        m.worked = None
                match_cost(m)
                m.notes[:] = notes0 + m.notes[len(notes0):][-1:]
                options = [(m.cost, m.cost_expr)]
            else:
                options = [(c, m.cost_expr) for c in (costs or [m.cost])]
            for cost, expr in options:
                m.cost, m.cost_expr, m._randoms, m.worked = cost, expr, None, worked0
                if worked0 is not None and cost != worked0.case.arch.cost:
                    try:
                        m.worked = _recost(worked0, m, cost)
                    except (ValueError, TypeError) as exc:
                        rejected.append(f"{conv.describe()}, cost {cost}: {exc}")
                        continue
                if m.worked is not None:
                    m.worked.cost_expr = expr
                # a convention under which the document's C is a named cost beats one under which it is not
                key = (expr is not None and own_cost, self._failing(), cands.index(conv))
                if best is None or key < best[0]:
                    best = (key, conv, cost, expr, m.worked, list(m.notes))
        if best is None:
            m.conv, m.cost, m.cost_expr, m.worked = first
            self.model_problem = "no network model fits the document: " + "; ".join(rejected)
        else:
            _, m.conv, m.cost, m.cost_expr, m.worked, notes = best
            m.notes[:] = notes
        m._randoms = None

    def _failing(self) -> int:
        """How many equations fail or cannot be evaluated (on a sample of contexts) under the model as it stands."""
        from .equations import contexts, judge
        m = self.model
        fails = 0
        for eq in self.equations:
            if eq.index in m.binding_eqs:
                continue
            mem = [x for x in eq.members if not is_numeric(x)]
            if len(mem) < 2:
                continue
            envs = contexts(m, mem, "fixed")[:24]
            try:
                o = judge(mem, envs)
            except Exception:  # noqa: BLE001 - a candidate model that cannot evaluate counts as failing
                fails += 1
                continue
            # an equation no layer value makes apply counts as failing: a wrong layer numbering must not win
            fails += bool(o.failures) or verdict_reason(o, len(mem)) is not None
        return fails

    # ------------------------------------------------------------------ checking
    def _check(self, eq: Equation) -> None:
        from .equations import contexts, describe_failure, find_fix, judge
        from .numbers import check_numbers, is_literal

        m = self.model
        text = eq.block.text
        members = eq.members
        eq_line = self.line(eq.block, eq.span[0])
        cov = self.coverage
        if any(r == "other" for r in eq.rels):
            cov.set(eq.index, eq_line, NOT_EVALUABLE, "relations other than = and ≈ (≠, ≤, →, …) are not checked",
                    minor=True, checkable=False)
            return
        numeric = [i for i, x in enumerate(members) if is_numeric(x) or is_literal(x)]
        if numeric and len(numeric) == len(members):
            cov.set(eq.index, eq_line, NOT_EVALUABLE, "numbers only: no side names a quantity to check them against",
                    minor=True, checkable=False)
            return
        numbers_reason, said = None, False
        if numeric:
            if m.worked is None:
                sym_members = [x for x in members if not is_numeric(x)]
                numbers_reason = "its numbers need a worked example, and none was read"
            else:
                issues, _, numbers_reason = check_numbers(members, m, self._docvals, text)
                said = any(iss.kind == "not-evaluable" for iss in issues)
                for iss in issues:
                    line = self.line(eq.block, iss.node.span[0])
                    frag = text[iss.node.span[0]:iss.node.span[1]]
                    off = [eq.block.offset + iss.node.span[0], eq.block.offset + iss.node.span[1]]
                    message = iss.message
                    if iss.cause is not None:
                        then = (f"this becomes {iss.fix_text}" if iss.fix_text is not None else
                                "recompute this")
                        message += (f"; it follows from the wrong {self._number_text(iss.cause)} at line "
                                    f"{self._number_line(iss.cause) or '?'}: fix that one and {then}")
                    self.add(iss.kind, message, line, _clip(frag), fix=iss.fix_text,
                             values={**iss.values, "offsets": off},
                             splices=[(off[0], off[1], iss.fix_text)] if iss.fix_text is not None else None)
                sym_members = [x for x in members if not (is_numeric(x) or is_literal(x))]
                if numbers_reason is None:
                    cov.set(eq.index, eq_line, EVALUATED, numbers=True)
            scope = "worked"
        else:
            sym_members = members
            scope = "worked" if m.worked is not None and self._about_worked_example(eq) else "fixed"
        if len(sym_members) < 2:
            if numbers_reason is not None:
                # without a worked example this is one of many: the document-level finding on it is the warning
                cov.set(eq.index, eq_line, NOT_EVALUABLE, numbers_reason, silent=said, minor=m.worked is None)
            return
        envs = contexts(m, sym_members, scope)
        outcome = judge(sym_members, envs)
        blocked = verdict_reason(outcome, len(sym_members))
        if blocked is None:
            cov.set(eq.index, eq_line, EVALUATED)
        else:
            reason, kind, node = blocked
            if node is not None and not any(n is node for mem in sym_members for n in mem.walk()):
                line = self._number_line(node)  # e.g. the document's own C, which this equation differentiates
                if line:
                    reason += f" (on line {line}, which this equation depends on)"
            cov.set(eq.index, eq_line, NOT_EVALUABLE, reason,
                    silent=kind == "missing" and self._malformed_in(eq.block) and reason == blocked[0])
        if not outcome.failures:
            return
        if blocked is not None and cov.statuses[eq.index].state != EVALUATED:
            return  # reported once, as a not-evaluable equation, by _report_coverage
        if self._wrong_limits(eq, sym_members, envs):
            return
        fix, targets = find_fix(eq, sym_members, outcome, envs, m, text)
        if fix is not None and self._renames_preactivation(fix):
            z = self.preactivation_a
            edits = "; ".join(e.what for e in fix.edits)
            cov.withdraw(eq.index, eq_line,
                         f"it holds only with a read as z ({edits}): this document writes a for the pre-activation "
                         f"({z.block.text[z.span[0]:z.span[1]]}, line {self.line(z.block, z.span[0])}), the auditor "
                         "reads a = σ(z)")
            return
        first_fail = next(iter(outcome.failures.values()))[0]
        detail = describe_failure(first_fail)
        if fix is None:
            for i, fl in outcome.failures.items():
                node = sym_members[i]
                f0 = fl[0]
                kind = "shape" if f0.error is not None and f0.error.kind == "shape" else (
                    "index" if f0.error is not None and f0.error.kind in ("range",) else "mismatch")
                if f0.error is not None and f0.error.kind in ("missing", "unsupported", "unbound"):
                    if f0.error.kind == "missing":
                        continue  # already reported as malformed
                    if f0.error.kind == "unsupported":
                        self.add("not-evaluable", f"this side could not be evaluated: {f0.error}",
                                 self.line(eq.block, node.span[0]), _clip(text[node.span[0]:node.span[1]]))
                        continue
                    kind = "notation"
                verb = "uses a symbol the document does not define" if kind == "notation" else "does not hold"
                self.add(kind, f"this side {verb}: {describe_failure(f0)}",
                         self.line(eq.block, node.span[0]), _clip(text[node.span[0]:node.span[1]]),
                         values=_values(f0))
            return
        repairs = self._repairs(eq)
        for e in fix.edits:
            tgt = e.target
            lo, hi = tgt.span
            lo, hi = min(lo, e.splice[0]), max(hi, e.splice[1])
            inner = [x.splice for x in fix.edits if lo <= x.splice[0] and x.splice[1] <= hi]
            inner += [r for r in repairs if lo <= r[0] <= hi and lo <= r[1] <= hi]
            fixed = splice_text(text[lo:hi], [(s - lo, en - lo, r) for s, en, r in inner])
            frag = text[lo:hi]
            others = [x.what for x in fix.edits if x is not e]
            also = f" (together with: {'; '.join(others)})" if others else ""
            msg = f"{e.what}: with this change{also} the equation holds; as written, {detail}"
            off = eq.block.offset
            self.add(e.kind, msg, self.line(eq.block, e.splice[0]), _clip(frag), fix=fixed,
                     values={**_values(first_fail), "edit": e.what, "offsets": [off + lo, off + hi]},
                     splices=[(off + a, off + b, r) for a, b, r in [x.splice for x in fix.edits] + repairs])

    def _renames_preactivation(self, fix) -> bool:
        """Whether ``fix`` only turns this document's a (its pre-activation, see :func:`preactivation_a`) into the
        auditor's z (or z into a), with any layer shift that takes: the document's notation, not an error."""
        return self.preactivation_a is not None and all(
            isinstance(e.target, Sym) and sym_kind(e.target) in ("a", "z") for e in fix.edits) and any(
            isinstance(e.new, Sym) and {sym_kind(e.target), sym_kind(e.new)} == {"a", "z"} for e in fix.edits)

    def _wrong_limits(self, eq: Equation, members: list, envs: list) -> bool:
        """Index findings for sums whose literal upper limit is not the width they run over; True if any."""
        from .equations import free_letters, judge
        from .limits import context_text, extent, wrong_limits

        text = eq.block.text
        layer_vars = free_letters(members)[0]
        found = wrong_limits(members, envs, lambda ms: not judge(ms, envs).failures, layer_vars)
        for w in found:
            s, hi = w.node, w.node.hi
            where = context_text(w.env)
            n = extent(s, w.env)
            right = w.right
            what = f"should be {right}" if right is not None else "must be the width of what it sums over (" + \
                "; ".join(f"{n_} {k}" for k, n_ in sorted(w.widths.items())) + f" on the {envs[0].inst.label})"
            msg = (f"the sum over {s.var} runs to {w.written}, but {s.var} runs over {n} entries ({where}); "
                   f"the upper limit {what}")
            off = eq.block.offset
            fix = None if right is None else splice_text(text[s.span[0]:s.span[1]],
                                                         [(hi.span[0] - s.span[0], hi.span[1] - s.span[0],
                                                           str(right))])
            self.add("index", msg, self.line(eq.block, hi.span[0]), _clip(text[s.span[0]:s.span[1]]), fix=fix,
                     values={"written": w.written, "width": n, "offsets": [off + s.span[0], off + s.span[1]]},
                     splices=None if right is None else [(off + hi.span[0], off + hi.span[1], str(right))])
        return bool(found)

    def _about_worked_example(self, eq: Equation) -> bool:
        """True for inline math its sentence confines to the worked example ('… so $δ^{(1)} = W^T δ^{(2)}$
        exactly here', 'at this input', 'in this example'): it is checked there, not on random networks."""
        blk = eq.block
        if blk.display:
            return False
        start = self.text.rfind(".", 0, blk.offset) + 1
        stops = [i for i in (self.text.find(". ", blk.offset), self.text.find(".\n", blk.offset),
                             self.text.find("\n\n", blk.offset)) if i >= 0]
        sentence = self.text[start:min(stops, default=len(self.text))].lower()
        before, after = sentence[:blk.offset - start], sentence[blk.offset - start + len(blk.text):]
        return bool(WORKED_ONLY.search(before) or WORKED_ONLY.search(after) or HERE_AFTER.search(after))

    def _malformed_in(self, block: MathBlock) -> bool:
        """True when a malformed finding was reported on one of the block's lines."""
        lo, hi = self.line(block, 0), self.line(block, len(block.text))
        return any(f.kind == "malformed" and lo <= (f.where.line or 0) <= hi for f in self.findings)

    def _number_line(self, node) -> int | None:
        """The file line of a node of any equation (a first wrong number, the document's C, …)."""
        blk = self._block_of(node)
        return self.line(blk, node.span[0]) if blk is not None else None

    def _number_text(self, node) -> str:
        blk = self._block_of(node)
        return blk.text[node.span[0]:node.span[1]].strip() if blk is not None else "number"

    def _block_of(self, node) -> MathBlock | None:
        for eq in self.equations:
            for mem, blk in zip(eq.members, eq.member_blocks or [eq.block] * len(eq.members)):
                if any(n is node for n in mem.walk()):
                    return blk
        return None

    def _repairs(self, eq: Equation) -> list[tuple[int, int, str]]:
        from .latex import structure
        _, probs = structure(eq.block.text)
        return [p.edit for p in probs if p.edit is not None]

    @property
    def _docvals(self) -> dict:
        if not hasattr(self, "_dv"):
            self._dv: dict = {}
        return self._dv


def _recost(inst, model: Model, cost: str):
    """The worked example ``inst`` with another cost (a sigmoid output layer for cross-entropy, unless the document
    says otherwise) and the model's activation for each layer."""
    from manualbp import Case

    from .semantics import Instance
    c = inst.case
    case = Case.create(c.weights, c.biases, c.x, c.y, activations=model.layer_activations(c.arch.depth, cost),
                       cost=cost, label="worked example")
    return Instance(case, "worked example", vector_weights=inst.vector_weights)


def _uses_d_prefix(eqs: list[Equation]) -> bool:
    """True when some equation writes Ng's dZ^{[l]} / dA^{[l]} shorthand."""
    from .semantics import D_PREFIX
    return any(isinstance(n, Deriv) and isinstance(n.num, Sym) and n.num.font == D_PREFIX
               for eq in eqs for mem in eq.members for n in mem.walk())


def _conflict(x: tuple[int, int], y: tuple[int, int]) -> bool:
    (s1, e1), (s2, e2) = x, y
    if s1 == e1 and s2 == e2:
        return s1 == s2
    if s1 == e1:
        return s2 <= s1 <= e2
    if s2 == e2:
        return s1 <= s2 <= e1
    return s1 < e2 and s2 < e1


def _values(f) -> dict:
    import numpy as np
    out = {"context": ", ".join(f"{k}={v}" for k, v in sorted(f.env.assign.items())),
           "instance": f.env.inst.label}
    if f.got is not None:
        out["document"] = np.real(f.got)
        out["expected"] = np.real(f.want)
    if f.error is not None:
        out["error"] = str(f.error)
    return out


def _clip(s: str | None, n: int = 600) -> str | None:
    if s is None:
        return None
    s = s.strip()
    return s if len(s) <= n else s[:n] + " …"
