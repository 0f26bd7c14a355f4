"""Parameter groups: per-parameter learning-rate scale and weight-decay overrides.

A group selects parameters by their dotted name (``"fc1.W"``, ``"bn1.gamma"``) with a
shell-style pattern (:func:`fnmatch.fnmatchcase`), a sequence of patterns, or a predicate
``name -> bool``. The first group of an optimizer that matches a name decides that
parameter's settings; names matched by no group use the optimizer's own.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from ._checks import check_nonneg

__all__ = ["ParamGroup", "no_decay", "NO_DECAY_PATTERNS"]

#: Names of biases and BatchNorm scale/shift, at top level or inside a container.
NO_DECAY_PATTERNS = ("b", "*.b", "gamma", "*.gamma", "beta", "*.beta")


class ParamGroup:
    """Settings shared by the parameters whose names match ``match``.

    Parameters
    ----------
    match : str, sequence of str, or callable
        Shell-style pattern(s) on the dotted name (``"*.b"``, ``"bn*"``), or a predicate
        ``f(name) -> bool``.
    lr_scale : float, optional
        Multiplies the optimizer's ``lr`` for these parameters (so schedules that change
        ``opt.lr`` keep acting on them). ``None`` keeps 1.
    weight_decay : float, optional
        Replaces the optimizer's ``weight_decay`` for these parameters (``0`` disables it).
        ``None`` keeps the optimizer's value.

    Examples
    --------
    >>> g = ParamGroup(["*.b", "bn*.*"], weight_decay=0.0)
    >>> g.matches("fc1.b"), g.matches("fc1.W"), g.matches("bn1.gamma")
    (True, False, True)
    """

    def __init__(self, match, *, lr_scale=None, weight_decay=None):
        if isinstance(match, str):
            patterns = (match,)
            self._pred = None
        elif callable(match):
            patterns = None
            self._pred = match
        else:
            try:
                patterns = tuple(match)
            except TypeError:
                raise TypeError(
                    "ParamGroup: argument 'match' must be a pattern string, a sequence of "
                    f"patterns or a callable, got {type(match).__name__}"
                ) from None
            if not patterns or not all(isinstance(p, str) for p in patterns):
                raise TypeError(
                    f"ParamGroup: argument 'match' must contain only pattern strings, got {match!r}"
                )
            self._pred = None
        self.patterns = patterns
        self.lr_scale = None if lr_scale is None else check_nonneg("ParamGroup", "lr_scale", lr_scale)
        self.weight_decay = (
            None if weight_decay is None else check_nonneg("ParamGroup", "weight_decay", weight_decay)
        )

    def matches(self, name: str) -> bool:
        """Whether the parameter called ``name`` belongs to this group."""
        if self._pred is not None:
            return bool(self._pred(name))
        return any(fnmatchcase(name, p) for p in self.patterns)

    def __repr__(self) -> str:
        what = self.patterns if self._pred is None else self._pred
        return f"ParamGroup({what!r}, lr_scale={self.lr_scale!r}, weight_decay={self.weight_decay!r})"


def no_decay(patterns=NO_DECAY_PATTERNS, *, lr_scale=None) -> ParamGroup:
    """Group that turns weight decay off, by default for biases and BatchNorm gamma/beta.

    Parameters
    ----------
    patterns : str, sequence of str or callable
        Which names to exclude from decay (default :data:`NO_DECAY_PATTERNS`).
    lr_scale : float, optional
        Learning-rate multiplier for the same parameters.

    Returns
    -------
    ParamGroup
    """
    return ParamGroup(patterns, lr_scale=lr_scale, weight_decay=0.0)
