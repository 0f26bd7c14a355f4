"""Gradient-check reports: per tensor results, hygiene checks, a readable table and :class:`GradCheckError`."""

from dataclasses import dataclass, field

import numpy as np


@dataclass
class DirectionalResult:
    """The derivative along one random direction of a whole tensor.

    Attributes
    ----------
    analytic : float
        ``sum(grad * v)``.
    numeric : float
        Richardson-extrapolated central difference along ``v``.
    estimate, allowed : float
        Numeric error estimate and the largest ``|analytic - numeric|`` accepted.
    kinked : bool
        The direction crossed a kink, so it was not judged (the tensor is then checked element-wise).
    ok : bool
    """

    analytic: float
    numeric: float
    estimate: float
    allowed: float
    kinked: bool
    ok: bool


@dataclass
class TensorReport:
    """The result for one tensor: ``"x"`` for the input, or a (dotted) parameter name.

    Attributes
    ----------
    name : str
    shape : tuple
    strategy : str
        What was done: ``"full"``, ``"sampled"``, ``"directional"``, or combinations such as
        ``"directional+sampled"``; ``"+localised"`` when a failing direction was bisected to one element.
    checked : int
        Elements compared (kinks excluded).
    kinks : int
        Elements at a kink (``kinks_checked + kinks_skipped + kinks_failed``); they are not in ``checked``.
    kinks_checked, kinks_skipped, kinks_failed : int
        Kinked elements whose analytic value lies in the one-sided interval; skipped because one perturbation
        changed several kink-signature entries; outside the interval.
    ties_checked : int
        Tie sets (equal-valued kinked elements) whose joint move was checked as a directional derivative.
    kink_failures : list of KinkFailure
    evaluations : int
        Forward evaluations spent on this tensor.
    max_abs_err, max_rel_err : float
        Over the compared elements; relative error ``|a - n| / max(|a|, |n|, floor)``.
    worst_index : tuple or None
        The element closest to (or furthest beyond) its allowed error.
    analytic, numeric, estimate, allowed : float
        At ``worst_index``: the two gradients, the numeric error estimate and the allowed ``|a - n|``.
    directional : DirectionalResult or None
    ok : bool
    problem : str
        Why the tensor failed beyond tolerance (missing gradient, wrong shape or dtype, non-finite values,
        too many kinks), else "".
    """

    name: str
    shape: tuple
    strategy: str = ""
    checked: int = 0
    kinks: int = 0
    kinks_checked: int = 0
    kinks_skipped: int = 0
    kinks_failed: int = 0
    ties_checked: int = 0
    kink_failures: list = field(default_factory=list)
    evaluations: int = 0
    max_abs_err: float = 0.0
    max_rel_err: float = 0.0
    worst_index: tuple = None
    analytic: float = float("nan")
    numeric: float = float("nan")
    estimate: float = float("nan")
    allowed: float = float("nan")
    directional: DirectionalResult = None
    ok: bool = True
    problem: str = ""
    _worst_ratio: float = field(default=-1.0, repr=False)

    def add_elements(self, indices, a, n, estimate, allowed, floor):
        """Fold compared elements (flat *indices* with arrays ``a``, ``n``, ``estimate``, ``allowed``) in."""
        if len(indices) == 0:
            return
        err = np.abs(a - n)
        rel = err / np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)
        ratio = err / np.maximum(allowed, 1e-300)
        self.checked += len(indices)
        self.max_abs_err = max(self.max_abs_err, float(err.max()))
        self.max_rel_err = max(self.max_rel_err, float(rel.max()))
        k = int(np.argmax(ratio))
        if ratio[k] > self._worst_ratio:
            self._worst_ratio = float(ratio[k])
            self.worst_index = tuple(int(i) for i in np.unravel_index(int(indices[k]), self.shape))
            self.analytic, self.numeric = float(a[k]), float(n[k])
            self.estimate, self.allowed = float(estimate[k]), float(allowed[k])
        if np.any(err > allowed):
            self.ok = False

    def fail(self, problem):
        """Mark the tensor failed for *problem* (kept with any earlier problem)."""
        self.ok = False
        self.problem = f"{self.problem}; {problem}" if self.problem else problem


@dataclass
class HygieneResult:
    """One protocol check beyond the gradient values (read-only arguments, repeatability, linearity...)."""

    name: str
    ok: bool
    detail: str = ""


@dataclass
class GradCheckReport:
    """What :func:`~layergraph.gradcheck` found for one ``train`` flag.

    Attributes
    ----------
    layer : str
    mode : str
    train : bool
    dtype : str
        Dtype of the numeric pass.
    tolerance : Tolerance
    seed : int
    tensors : dict[str, TensorReport]
    hygiene : list[HygieneResult]
    error : str
        The exception the layer raised during the check ("Type: message"), else "".
    evaluations : int
    reproduce : str
        One line of Python that reruns this check.
    paths : list of str
        The code paths exercised: ``["float64"]`` (a float64 copy), ``["float32"]`` (``precision="native"`` on a
        float32 layer), or ``["float64", "float32"]`` (a float32 layer under the default precision: its own
        float32 forward and backward are also checked, see :attr:`float32`).
    float32 : GradCheckReport or None
        The check of the layer's own float32 path, when it ran as a second path.
    """

    layer: str
    mode: str
    train: bool
    dtype: str
    tolerance: object
    seed: int
    tensors: dict = field(default_factory=dict)
    hygiene: list = field(default_factory=list)
    error: str = ""
    evaluations: int = 0
    reproduce: str = ""
    paths: list = field(default_factory=list)
    float32: object = None

    def __post_init__(self):
        if not self.paths:
            self.paths = [str(self.dtype)]

    rtol = property(lambda self: self.tolerance.rtol, doc="Relative tolerance used.")
    atol = property(lambda self: self.tolerance.atol, doc="Absolute tolerance used.")
    eps = property(lambda self: self.tolerance.eps, doc="Relative finite-difference step used.")

    @property
    def ok(self):
        """True when the layer raised nothing, every hygiene check passed and every tensor is within tolerance."""
        return (not self.error and all(h.ok for h in self.hygiene)
                and bool(self.tensors) and all(t.ok for t in self.tensors.values())
                and (self.float32 is None or self.float32.ok))

    @property
    def kinks(self):
        """Total number of elements at kinks (checked one-sided, skipped or failed)."""
        return sum(t.kinks for t in self.tensors.values())

    def kink_counts(self):
        """``(checked, skipped, failed)`` kinked elements over all tensors."""
        ts = self.tensors.values()
        return (sum(t.kinks_checked for t in ts), sum(t.kinks_skipped for t in ts), sum(t.kinks_failed for t in ts))

    def __bool__(self):
        return self.ok

    def failures(self):
        """Short descriptions of everything that failed."""
        out = [f"{self.layer}: error raised by the layer: {self.error}"] if self.error else []
        out += [f"{self.layer}: check {h.name!r} failed: {h.detail}" for h in self.hygiene if not h.ok]
        for t in self.tensors.values():
            if not t.ok:
                what = t.problem or (f"check 'finite differences' failed at element {t.worst_index}: analytic "
                                     f"{t.analytic:.6g} vs numeric {t.numeric:.6g} (allowed error {t.allowed:.3g})")
                if t.directional is not None and not t.directional.ok:
                    d = t.directional
                    what += f"; along a random direction analytic {d.analytic:.6g} vs numeric {d.numeric:.6g}"
                out.append(f"{self.layer}: tensor {t.name}: {what}")
        if self.float32 is not None:
            out += [f"float32 path: {f}" for f in self.float32.failures()]
        return out

    def __str__(self):
        tol = self.tolerance
        head = (f"gradcheck {self.layer} (mode={self.mode}, train={self.train}, numeric dtype={self.dtype}, "
                f"paths={'+'.join(self.paths)}, "
                f"rtol={tol.rtol:g}, atol={tol.atol:g}, eps={tol.eps:g}, seed={self.seed}, "
                f"evaluations={self.evaluations}): {'PASS' if self.ok else 'FAIL'}")
        lines = [head]
        if self.error:
            lines.append(f"  error raised by the layer: {self.error}")
        cols = ("tensor", "shape", "strategy", "checked", "kinks", "max abs err", "max rel err", "worst index",
                "analytic", "numeric", "est. err", "direction", "result")
        rows = [cols]
        for t in self.tensors.values():
            d = t.directional
            dtext = "-" if d is None else ("kink" if d.kinked else ("ok" if d.ok else "FAIL"))
            rows.append((t.name, str(t.shape), t.strategy, str(t.checked), str(t.kinks), f"{t.max_abs_err:.3g}",
                         f"{t.max_rel_err:.3g}", str(t.worst_index), f"{t.analytic:.6g}", f"{t.numeric:.6g}",
                         f"{t.estimate:.2g}", dtext, "ok" if t.ok else ("FAIL " + t.problem).strip()))
        widths = [max(len(r[i]) for r in rows) for i in range(len(cols))]
        lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        bad = [h for h in self.hygiene if not h.ok]
        if self.hygiene:
            lines.append(f"  hygiene: {len(self.hygiene) - len(bad)}/{len(self.hygiene)} passed"
                         + "".join(f"\n    FAIL {h.name}: {h.detail}" for h in bad))
        if self.kinks:
            c, sk, f = self.kink_counts()
            lines.append(f"  kinks: {self.kinks} elements at non-differentiable points: {c} checked one-sided, "
                         f"{sk} skipped (several kinks), {f} failed")
        if self.float32 is not None:
            lines.append("  float32 path (the layer's own float32 forward and backward):")
            lines += ["  " + line for line in str(self.float32).splitlines()]
        if not self.ok and self.reproduce:
            lines.append(f"  reproduce: {self.reproduce}")
        return "\n".join(lines)

    __repr__ = __str__


class GradCheckReports(list):
    """Reports for several ``train`` flags (``gradcheck(..., train="both")``); ``ok`` when all pass."""

    @property
    def ok(self):
        return all(r.ok for r in self)

    def __bool__(self):
        return self.ok

    @property
    def reproduce(self):
        return "; ".join(r.reproduce for r in self)

    def failures(self):
        return [f"train={r.train}: {f}" for r in self for f in r.failures()]

    def __str__(self):
        return "\n".join(str(r) for r in self)

    __repr__ = __str__


class GradCheckError(AssertionError):
    """Raised when a gradient check fails and the caller asked for an exception.

    Attributes
    ----------
    report : GradCheckReport or GradCheckReports
    reproduce : str
        One line of Python that reruns the check.
    """

    def __init__(self, report):
        self.report = report
        self.reproduce = report.reproduce
        super().__init__(f"{str(report)}\nreproduce with: {self.reproduce}")

    def save(self, path):
        """Write the failing case (architecture and state of the layer, inputs, targets, ``dout``, seed, mode and
        every option) to *path*, an ``.npz`` without pickled objects; rerun it with
        ``layergraph.gradcheck.replay(path, custom_objects=...)``. Returns the path.

        Raises
        ------
        ValueError
            When the report carries no case (built by hand) or the layer's architecture cannot be described.
        """
        from .replay import save_case

        case = getattr(self.report, "case", None)
        if case is None:
            raise ValueError("GradCheckError.save: the report carries no case to save (it was not produced by "
                             "layergraph.gradcheck)")
        return save_case(path, case)
