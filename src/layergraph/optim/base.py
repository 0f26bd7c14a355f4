"""The :class:`Optimizer` base class: validation, lazy per-name state, groups, checkpoints.

Subclasses only declare their hyperparameters, how to create one parameter's state
(``_init_state``), how to step one parameter (``_apply``) and whether that rule is
element-wise (``elementwise``); see docs/optimizers.md, "Writing your own optimizer".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from ._checks import as_real, check_nonneg
from .flat import FlatPlan
from .groups import ParamGroup
from .state_io import StateDictMixin

__all__ = ["Optimizer", "Hyper", "NonFiniteGradientError", "NONFINITE_POLICIES"]

#: Accepted values of ``on_nonfinite``.
NONFINITE_POLICIES = ("raise", "skip", "ignore")


class NonFiniteGradientError(ValueError):
    """A gradient holds NaN or +-inf; ``key`` is the offending parameter name."""

    def __init__(self, message: str, key: str):
        super().__init__(message)
        self.key = key


class Hyper:
    """Class-level declaration of an optimizer hyperparameter, validated on every assignment.

    The value lives in ``obj._hp[name]``: it is listed by ``hyperparameters()``, shown by
    ``repr`` and saved / restored by ``state_dict()`` / ``load_state_dict()``.

    Parameters
    ----------
    check : callable ``(owner, name, value) -> value``, optional
        Validates and converts an assigned value (``owner`` is the class name, for the error
        message); it should return a plain Python float or int. Default: any finite real
        number, converted to float.

    Examples
    --------
    >>> from layergraph.optim import Hyper, Optimizer
    >>> class Scaled(Optimizer):
    ...     scale = Hyper()
    """

    def __init__(self, check=None):
        self.check = as_real if check is None else check

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return obj._hp[self.name]

    def __set__(self, obj, value):
        obj._hp[self.name] = self.check(type(obj).__name__, self.name, value)


def _is_finite(g: np.ndarray) -> bool:
    # Fast path: one BLAS dot product is finite unless some element is NaN/inf (or the squares overflow).
    # Only then the exact test: min/max propagate NaN and expose +-inf, with no allocation and no overflow.
    if g.size == 0:
        return True
    flat = g.reshape(-1)
    with np.errstate(over="ignore", invalid="ignore"):
        square_sum = float(np.dot(flat, flat))
    if math.isfinite(square_sum):
        return True
    return math.isfinite(float(g.min())) and math.isfinite(float(g.max()))


class Optimizer(StateDictMixin):
    """Base class of all optimizers: ``opt.update(params, grads)`` steps every parameter.

    Parameters
    ----------
    lr : float
        Learning rate (``>= 0``); may be changed between steps (``opt.lr = ...``).
    weight_decay : float
        Coupled L2 coefficient: the rule sees ``g + weight_decay * p`` (``>= 0``; skipped
        entirely when 0). :class:`AdamW` overrides this with decoupled decay.
    groups : sequence of ParamGroup
        Per-name ``lr_scale`` / ``weight_decay`` overrides; the first matching group wins.
    on_nonfinite : {"raise", "skip", "ignore"}
        What ``update`` does when a gradient holds NaN or inf: ``"raise"`` (default) a
        :class:`NonFiniteGradientError` naming the key, before any parameter is changed;
        ``"skip"`` the whole update (no parameter or state changes, ``skipped_steps`` += 1,
        ``update`` returns False); ``"ignore"`` does not check (fastest; NaN propagates).

    Notes
    -----
    **Subclass interface.** A subclass implements two hooks and may set two class attributes:

    * ``_init_state(param) -> dict``: the state of one parameter (arrays shaped like
      ``param``, and Python ints/floats such as a step count), created at its first update;
    * ``_apply(param, grad, state, work, lr, weight_decay, hp)``: update ``param`` (and
      ``state``) in place; ``work`` holds ``n_work`` scratch arrays shaped like ``param``,
      ``hp`` the hyperparameters (``self.hyperparameters()``), ``grad`` already includes
      coupled weight decay;
    * ``n_work``: how many scratch arrays ``_apply`` needs;
    * ``elementwise``: True only if every output element depends on the same element of
      ``param``, ``grad`` and the state arrays alone (no norms, sums or shapes of a whole
      tensor). Then, when the parameters are packed in one buffer
      (``Sequential.flatten_parameters()``, done by the ``Trainer``), ``_apply`` runs once
      on the whole buffer; otherwise it always runs on each parameter's own array. The
      default is False, and a class that defines its own ``_apply`` is per-tensor unless it
      sets ``elementwise = True`` in its own body (subclassing an element-wise optimizer
      and replacing its rule does not inherit the flag).

    Hyperparameters declared as :class:`Hyper` descriptors are validated on assignment and
    saved by :meth:`state_dict` together with the per-name state.

    State is created lazily, per parameter name, at the first ``update`` that sees the name;
    scratch arrays are shared by parameters of equal shape and dtype, so a step allocates no
    full-size arrays once every shape has been seen. Arithmetic runs in each parameter's
    own dtype, except for float16 parameters: their update is computed in float32 (with
    float32 state, so second moments and ``eps`` do not underflow) and stored in float16.
    """

    lr = Hyper(check_nonneg)
    weight_decay = Hyper(check_nonneg)

    #: Scratch arrays the rule needs (one more is used for coupled weight decay).
    n_work = 1
    #: True if the rule is element-wise, so it may run once on packed parameters (see Notes).
    elementwise = False
    #: True when ``weight_decay`` is applied by the rule itself (AdamW).
    decoupled_weight_decay = False
    #: Constructor options that fix the state layout (checked by ``load_state_dict``).
    _config_names: tuple = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "elementwise" in cls.__dict__:
            flag = cls.__dict__["elementwise"]
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"{cls.__name__}: class attribute 'elementwise' must be True or False, "
                                f"got {type(flag).__name__}")
            cls.elementwise = bool(flag)
        else:
            # the rule that runs is the first _apply in the MRO; an element-wise flag counts only when the rule's
            # class or a more derived one declared it (a rule mixed in ahead of an element-wise optimizer is
            # per-tensor until a class says otherwise)
            for c in cls.__mro__:
                if "elementwise" in vars(c):
                    break
                if "_apply" in vars(c):
                    cls.elementwise = False
                    break

    def __init__(self, lr, *, weight_decay=0.0, groups=(), on_nonfinite="raise"):
        self._hp = {}
        self.lr = lr
        self.weight_decay = weight_decay
        groups = tuple(groups)
        for i, g in enumerate(groups):
            if not isinstance(g, ParamGroup):
                raise TypeError(
                    f"{type(self).__name__}: argument 'groups' must hold ParamGroup objects, "
                    f"item {i} is {type(g).__name__}"
                )
        self.groups = groups
        if on_nonfinite not in NONFINITE_POLICIES:
            raise ValueError(
                f"{type(self).__name__}: argument 'on_nonfinite' must be one of "
                f"{NONFINITE_POLICIES}, got {on_nonfinite!r}"
            )
        self.on_nonfinite = on_nonfinite
        self._state: dict = {}
        self._state_gen = 0  # bumped whenever _state is replaced or cleared: invalidates a flat plan
        self._plan = None
        self._unchecked: set = set()
        self._resolved: dict = {}
        self._work: dict = {}
        self.steps = 0
        self.skipped_steps = 0

    def __repr__(self) -> str:
        args = [f"{k}={v!r}" for k, v in self._hp.items()]
        args += [f"{k}={getattr(self, k)!r}" for k in self._config_names]
        if self.groups:
            args.append(f"groups={list(self.groups)!r}")
        return f"{type(self).__name__}({', '.join(args)})"

    # ------------------------------------------------------------------ subclass hooks
    def _init_state(self, param: np.ndarray) -> dict:
        """Return the state of one parameter, created at its first update (subclasses implement it).

        Parameters
        ----------
        param : ndarray
            The parameter (float32 for a float16 parameter, whose update runs in float32).

        Returns
        -------
        dict
            ``str -> ndarray`` (shaped like *param*, usually ``np.zeros_like(param)``) or Python
            int/float (step counts). Saved by :meth:`state_dict`; loaded state is checked against it.
        """
        raise NotImplementedError(f"{type(self).__name__}: an Optimizer subclass must implement _init_state(param)")

    def _apply(self, param, grad, state, work, lr, weight_decay, hp) -> None:
        """Update *param* and *state* in place for one step (subclasses implement it).

        Parameters
        ----------
        param : ndarray
            The parameter, or (``elementwise = True`` and packed parameters) the whole packed buffer.
        grad : ndarray
            Its gradient, coupled weight decay included; do not modify it.
        state : dict
            What :meth:`_init_state` returned, as left by the previous step.
        work : list of ndarray
            ``n_work`` scratch arrays shaped like *param* (contents undefined).
        lr, weight_decay : float
            This parameter's rate (group ``lr_scale`` applied) and decay coefficient.
        hp : dict
            All hyperparameters by name.
        """
        raise NotImplementedError(
            f"{type(self).__name__}: an Optimizer subclass must implement "
            "_apply(param, grad, state, work, lr, weight_decay, hp)"
        )

    # ------------------------------------------------------------------ public API
    @property
    def state(self) -> Mapping:
        """Read-only view ``name -> state dict`` of the parameters seen so far."""
        return MappingProxyType(self._state)

    def hyperparameters(self) -> dict:
        """Current hyperparameters (``lr``, ``weight_decay``, ...) as plain numbers."""
        return dict(self._hp)

    def scratch_nbytes(self) -> int:
        """Bytes held in reusable scratch arrays (created once per shape/dtype, not saved)."""
        return sum(b.nbytes for bufs in self._work.values() for b in bufs)

    def reset(self) -> None:
        """Forget all per-parameter state and counters (hyperparameters are kept)."""
        self._state.clear()
        self._state_gen += 1
        self._unchecked.clear()
        self.steps = 0
        self.skipped_steps = 0

    def update(self, params: Mapping, grads: Mapping) -> bool:
        """Apply one step to every parameter, in place.

        Parameters
        ----------
        params : dict of str -> ndarray
            Floating, writeable arrays, updated in place (the same objects afterwards).
        grads : dict of str -> ndarray
            Same keys and shapes as ``params``; never modified.

        Returns
        -------
        bool
            True if the step was applied, False if it was skipped (``on_nonfinite="skip"``).

        Raises
        ------
        TypeError
            Non-mapping arguments, non-array values, non-floating dtypes.
        ValueError
            Different keys or shapes (the message names the key), read-only parameters.
        NonFiniteGradientError
            A NaN/inf gradient with ``on_nonfinite="raise"``; nothing has been changed.
        """
        self._validate(params, grads)
        if self._unchecked:
            for name in list(self._unchecked):
                if name in params:
                    self._adopt_loaded(name, params[name], self._state[name])
        plan = self._flat_plan(params, grads)
        if self.on_nonfinite != "ignore" and not (plan is not None and _is_finite(plan.g_flat)):
            for name, g in grads.items():
                if not _is_finite(g):
                    if self.on_nonfinite == "skip":
                        self.skipped_steps += 1
                        return False
                    raise NonFiniteGradientError(
                        f"{type(self).__name__}.update: gradient '{name}' contains NaN or inf "
                        "(use on_nonfinite='skip' to skip such steps)",
                        name,
                    )
        if plan is not None:
            self._step_flat(plan)
            return True
        hp = self._hp
        base_lr, base_wd = hp["lr"], hp["weight_decay"]
        coupled = not self.decoupled_weight_decay
        for name, p in params.items():
            g = grads[name]
            lr_scale, wd = self._settings(name)
            lr = base_lr if lr_scale is None else base_lr * lr_scale
            if wd is None:
                wd = base_wd
            half = p.dtype == np.float16
            if half:  # compute in float32, store float16: the moments and eps underflow in half precision
                p_out, p, g = p, p.astype(np.float32), g.astype(np.float32)
            state = self._state.get(name)
            if state is None:
                state = self._state[name] = self._init_state(p)
            work = self._scratch(p, self.n_work + (1 if coupled and wd != 0.0 else 0))
            if coupled and wd != 0.0:
                gw = work[-1]
                np.multiply(p, wd, out=gw)
                gw += g
                g = gw
            self._apply(p, g, state, work, lr, wd, hp)
            if half:
                np.copyto(p_out, p, casting="same_kind")
        self.steps += 1
        return True

    def _flat_plan(self, params, grads):
        """The packed-buffer plan for these arguments (see :mod:`.flat`), or None for the per-parameter path."""
        if not self.elementwise:
            return None  # a per-tensor rule must see each parameter's own array
        plan = self._plan
        if plan is not None and plan.still_valid(params, grads, self._state_gen):
            return plan
        self._plan = plan = FlatPlan.build(self, params, grads, self._state_gen)
        return plan

    def _step_flat(self, plan) -> None:
        """One step on the whole packed buffers: the same elementwise arithmetic as the per-parameter loop."""
        hp = self._hp
        lr = hp["lr"] if plan.lr_scale is None else hp["lr"] * plan.lr_scale
        wd = hp["weight_decay"] if plan.weight_decay is None else plan.weight_decay
        p, g = plan.p_flat, plan.g_flat
        coupled = not self.decoupled_weight_decay and wd != 0.0
        work = self._scratch(p, self.n_work + (1 if coupled else 0))
        if coupled:
            gw = work[-1]
            np.multiply(p, wd, out=gw)
            gw += g
            g = gw
        self._apply(p, g, plan.state, work, lr, wd, hp)
        plan.sync_scalars(self._state)
        self.steps += 1

    # ------------------------------------------------------------------ internals
    def _validate(self, params, grads) -> None:
        owner = f"{type(self).__name__}.update"
        if not isinstance(params, Mapping):
            raise TypeError(f"{owner}: argument 'params' must be a dict of arrays, got {type(params).__name__}")
        if not isinstance(grads, Mapping):
            raise TypeError(f"{owner}: argument 'grads' must be a dict of arrays, got {type(grads).__name__}")
        if params.keys() != grads.keys():
            missing = sorted(set(params) - set(grads))
            extra = sorted(set(grads) - set(params))
            if missing:
                raise ValueError(f"{owner}: no gradient for parameter key '{missing[0]}' (missing: {missing})")
            raise ValueError(f"{owner}: gradient key '{extra[0]}' has no parameter (extra: {extra})")
        for name, p in params.items():
            g = grads[name]
            if not isinstance(p, np.ndarray):
                raise TypeError(f"{owner}: params['{name}'] must be a numpy array, got {type(p).__name__}")
            if not isinstance(g, np.ndarray):
                raise TypeError(f"{owner}: grads['{name}'] must be a numpy array, got {type(g).__name__}")
            if p.dtype.kind != "f":
                raise TypeError(f"{owner}: params['{name}'] must have a floating dtype, got {p.dtype}")
            if g.dtype.kind != "f":
                raise TypeError(f"{owner}: grads['{name}'] must have a floating dtype, got {g.dtype}")
            if p.shape != g.shape:
                raise ValueError(
                    f"{owner}: shape mismatch for key '{name}': param {p.shape} vs grad {g.shape}"
                )
            if not p.flags.writeable:
                raise ValueError(f"{owner}: params['{name}'] is read-only; it must be updated in place")

    def _settings(self, name: str):
        try:
            return self._resolved[name]
        except KeyError:
            pass
        out = (None, None)
        for grp in self.groups:
            if grp.matches(name):
                out = (grp.lr_scale, grp.weight_decay)
                break
        self._resolved[name] = out
        return out

    def _scratch(self, p: np.ndarray, n: int) -> list:
        key = (p.shape, p.dtype.str)
        bufs = self._work.get(key)
        if bufs is None:
            bufs = self._work[key] = []
        while len(bufs) < n:
            bufs.append(np.empty(p.shape, dtype=p.dtype))
        return bufs if len(bufs) == n else bufs[:n]
