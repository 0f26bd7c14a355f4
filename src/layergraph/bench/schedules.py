"""Learning-rate schedules that a search space can choose by name (``Choice(["constant", "step", ...])``).

Each maps the tuned peak rate ``lr`` and the run's total number of steps ``T`` to a
schedule of :mod:`layergraph.optim.schedules`, applied before every step:

* ``"constant"``: ``lr`` throughout;
* ``"step"``: ``lr``, divided by 10 after 50% and again after 75% of the steps;
* ``"warmup_cosine"``: linear warm-up over the first 5% of the steps, then cosine decay to 0.
"""

from __future__ import annotations

__all__ = ["SCHEDULES", "make_schedule"]

#: Schedule names accepted as the ``"schedule"`` hyperparameter.
SCHEDULES = ("constant", "step", "warmup_cosine")


def make_schedule(name: str, lr: float, total_steps: int):
    """The schedule ``name`` for peak rate ``lr`` over ``total_steps`` steps, a callable ``step -> lr``."""
    from ..optim.schedules import ConstantLR, MultiStepLR, WarmupCosineLR

    if name == "constant":
        return ConstantLR(lr)
    if name == "step":
        return MultiStepLR(lr, sorted({max(1, total_steps // 2), max(2, (3 * total_steps) // 4)}), gamma=0.1)
    if name == "warmup_cosine":
        warm = max(1, total_steps // 20)
        return WarmupCosineLR(lr, warm, max(total_steps, warm + 1))
    raise ValueError(f"make_schedule: unknown schedule {name!r}; expected one of {SCHEDULES}")
