"""Checkpoints of an :class:`~layergraph.optim.base.Optimizer`: ``state_dict``, ``load_state_dict`` and the
checks of loaded state against the parameters at the next ``update``."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


class StateDictMixin:
    """``state_dict`` / ``load_state_dict`` of the optimizer base class (uses its ``_state``, ``_hp``,
    ``_config_names``, ``steps``, ``skipped_steps`` and ``_init_state``)."""

    def state_dict(self) -> dict:
        """Everything needed to resume bit-identically, as plain numbers and array copies.

        Returns
        -------
        dict
            ``{"optimizer": class name, "hyperparameters": {...}, "config": {...},
            "steps": int, "skipped_steps": int, "state": {name: {key: int|float|ndarray}}}``.
            Parameter groups and ``on_nonfinite`` are construction arguments and are not
            included: build the new optimizer with the same ones.
        """
        state = {
            name: {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in st.items()}
            for name, st in self._state.items()
        }
        return {
            "optimizer": type(self).__name__,
            "hyperparameters": dict(self._hp),
            "config": {k: getattr(self, k) for k in self._config_names},
            "steps": self.steps,
            "skipped_steps": self.skipped_steps,
            "state": state,
        }

    def load_state_dict(self, d: Mapping) -> None:
        """Restore a :meth:`state_dict` (copied; ``d`` is not modified or kept).

        Shapes of the loaded moments are checked against the parameters at the next
        ``update`` (a mismatch raises ``ValueError`` naming the key); their dtype is
        converted to the parameter's then.

        Raises
        ------
        TypeError
            ``d`` or one of its parts has the wrong type.
        ValueError
            Another optimizer class, other config options, unknown or missing entries.
        """
        owner = f"{type(self).__name__}.load_state_dict"
        if not isinstance(d, Mapping):
            raise TypeError(f"{owner}: argument 'd' must be a mapping, got {type(d).__name__}")
        expected = {"optimizer", "hyperparameters", "config", "steps", "skipped_steps", "state"}
        if set(d) != expected:
            raise ValueError(f"{owner}: keys must be {sorted(expected)}, got {sorted(d)}")
        if d["optimizer"] != type(self).__name__:
            raise ValueError(f"{owner}: state is for optimizer {d['optimizer']!r}, not {type(self).__name__!r}")
        config = {k: getattr(self, k) for k in self._config_names}
        if dict(d["config"]) != config:
            raise ValueError(f"{owner}: config {dict(d['config'])} differs from this optimizer's {config}")
        hps = d["hyperparameters"]
        if set(hps) != set(self._hp):
            raise ValueError(f"{owner}: hyperparameters must be {sorted(self._hp)}, got {sorted(hps)}")
        new_state = {}
        for name, st in dict(d["state"]).items():
            if not isinstance(st, Mapping):
                raise TypeError(f"{owner}: state of '{name}' must be a mapping, got {type(st).__name__}")
            new_state[name] = {
                k: (np.array(v, copy=True) if isinstance(v, np.ndarray) else v) for k, v in st.items()
            }
        for k, v in hps.items():
            setattr(self, k, v)
        self.steps = int(d["steps"])
        self.skipped_steps = int(d["skipped_steps"])
        self._state = new_state
        self._state_gen += 1
        self._unchecked = set(new_state)

    def _adopt_loaded(self, name: str, p: np.ndarray, state: dict) -> None:
        owner = f"{type(self).__name__}.update"
        if p.dtype == np.float16:
            p = np.empty(p.shape, np.float32)  # half-precision parameters keep float32 state
        template = self._init_state(p)
        if set(template) != set(state):
            raise ValueError(
                f"{owner}: loaded state of '{name}' has keys {sorted(state)}, expected {sorted(template)}"
            )
        for k, ref in template.items():
            v = state[k]
            if isinstance(ref, np.ndarray):
                if not isinstance(v, np.ndarray) or v.shape != ref.shape:
                    got = getattr(v, "shape", type(v).__name__)
                    raise ValueError(
                        f"{owner}: loaded state '{k}' of key '{name}' has shape {got}, parameter has {ref.shape}"
                    )
                if v.dtype != p.dtype:
                    state[k] = v.astype(p.dtype)
            elif isinstance(ref, int):
                state[k] = int(v)
            else:
                state[k] = float(v)
        self._unchecked.discard(name)
