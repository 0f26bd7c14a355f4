"""Gradient-check reports."""

from dataclasses import dataclass, field


@dataclass
class TensorReport:
    """The result for one tensor (``"x"`` for the input, or a dotted parameter name).

    Attributes
    ----------
    name : str
    shape : tuple
    checked : int
        Number of elements compared.
    max_abs_err, max_rel_err : float
        Over the checked elements; the relative error is ``|a - n| / max(|a|, |n|, floor)``.
    worst_index : tuple or None
        Index of the element with the largest relative error.
    analytic, numeric : float
        The two gradients at ``worst_index``.
    ok : bool
    problem : str
        Why the tensor failed beyond tolerance (wrong shape, missing gradient, non-finite values), else "".
    """

    name: str
    shape: tuple
    checked: int = 0
    max_abs_err: float = 0.0
    max_rel_err: float = 0.0
    worst_index: tuple = None
    analytic: float = float("nan")
    numeric: float = float("nan")
    ok: bool = True
    problem: str = ""


@dataclass
class GradCheckReport:
    """What :func:`~layergraph.gradcheck` found: ``ok``, per-tensor results, and any error raised by the layer."""

    layer: str
    mode: str
    train: bool
    rtol: float
    atol: float
    eps: float
    seed: int
    tensors: dict = field(default_factory=dict)
    error: str = ""

    @property
    def ok(self):
        """True when the layer raised nothing and every tensor is within tolerance."""
        return not self.error and all(t.ok for t in self.tensors.values())

    def __bool__(self):
        return self.ok

    def __str__(self):
        head = f"gradcheck {self.layer} (mode={self.mode}, train={self.train}, rtol={self.rtol:g}, " \
               f"floor={self.atol / self.rtol:g}, eps={self.eps:g}, seed={self.seed}): " \
               f"{'PASS' if self.ok else 'FAIL'}"
        lines = [head]
        if self.error:
            lines.append(f"  error raised by the layer: {self.error}")
        cols = ("tensor", "shape", "checked", "max abs err", "max rel err", "worst index", "analytic", "numeric", "")
        rows = [cols]
        for t in self.tensors.values():
            rows.append((t.name, str(t.shape), str(t.checked), f"{t.max_abs_err:.3g}", f"{t.max_rel_err:.3g}",
                         str(t.worst_index), f"{t.analytic:.6g}", f"{t.numeric:.6g}",
                         "ok" if t.ok else ("FAIL " + t.problem).strip()))
        widths = [max(len(r[i]) for r in rows) for i in range(len(cols))]
        lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        return "\n".join(lines)

    __repr__ = __str__


class GradCheckError(AssertionError):
    """Raised by ``gradcheck(..., raise_on_fail=True)``; carries the :class:`GradCheckReport` as ``report``."""

    def __init__(self, report):
        super().__init__(str(report))
        self.report = report
