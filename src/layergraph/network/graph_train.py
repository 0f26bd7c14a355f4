"""Losses, predictions and state of a :class:`~layergraph.Graph` (the API it shares with ``Sequential``)."""

import numbers

import numpy as np

from ..errors import ShapeError, describe
from ..layers.composite import set_qualname
from . import predict as _predict
from . import scoring, state
from .packing import flatten_parameters


class GraphTrainMixin:
    """set_loss / loss / loss_and_gradient / gradient / predict / accuracy / state of a graph."""

    @property
    def losses(self):
        """Dict output name -> loss layer (empty without a loss)."""
        if self._loss_single is not None:
            return {self.outputs[0]: self._loss_single} if self.outputs else {}
        return dict(self._loss_dict)

    @property
    def loss_layer(self):
        """The loss layer of a single-output graph (None without one, or when the graph has several outputs)."""
        if self._loss_single is not None:
            return self._loss_single
        if len(self._loss_dict) == 1 and tuple(self._loss_dict) == self.outputs:
            return next(iter(self._loss_dict.values()))
        return None

    @loss_layer.setter
    def loss_layer(self, loss):
        if loss is None:
            self._loss_single, self._loss_dict, self.loss_weights = None, {}, {}
        else:
            self.set_loss(loss)

    def set_loss(self, loss, weights=None):
        """Set the loss: one loss layer for a single output, or a dict output name -> loss layer.

        Parameters
        ----------
        loss : Loss or dict
            A loss layer is a :class:`~layergraph.Loss`, or any object with ``forward(x, t)``,
            ``backward(dout=1.0)`` and ``is_loss = True``; each output needs its own loss object.
        weights : dict output name -> float, optional
            The total loss is ``sum(weights.get(o, 1) * loss_o)``.

        Returns
        -------
        self

        Raises
        ------
        TypeError, ValueError
            Something that is not a loss, one loss object for two outputs, a name that is not an output, a weight
            that is not a finite number; the losses are left unchanged.
        """
        outputs = self.outputs
        single = not isinstance(loss, dict)
        if single:
            if len(outputs) > 1:
                raise ValueError(f"{describe(self)}.set_loss: the graph has outputs {list(outputs)}; give a dict "
                                 f"output name -> loss")
            losses = {"output": loss}
        else:
            losses = dict(loss)
        weights = dict(weights or {})
        for arg, keys in (("loss", {} if single else losses), ("weights", weights)):
            for key in keys:
                if key not in outputs:
                    raise ValueError(f"{describe(self)}.set_loss: {arg!r} names {key!r}, which is not an output "
                                     f"(outputs {list(outputs)})")
        for key, layer in losses.items():
            scoring.check_loss(self, layer, "argument 'loss'" if single else f"the loss of output {key!r}")
        scoring.check_distinct(self, losses)
        for key, w in weights.items():
            if not isinstance(w, numbers.Real) or isinstance(w, bool) or not np.isfinite(w):
                raise ValueError(f"{describe(self)}.set_loss: weight of {key!r} must be a finite number, got {w!r}")
        self._loss_single, self._loss_dict = (loss, {}) if single else (None, losses)
        self.loss_weights = {k: float(w) for k, w in weights.items()}
        for key, layer in losses.items():
            set_qualname(layer, self._child_name("loss" if self.loss_layer is not None else f"loss_{key}"))
        return self

    def _targets(self, t):
        """Targets as a dict output name -> array (only outputs that have a loss)."""
        losses = self.losses
        if not losses:
            raise ValueError(f"{describe(self)} has no loss; call set_loss()")
        stale = [k for k in losses if k not in self.outputs]
        if stale:
            raise ValueError(f"{describe(self)}: the losses name {stale}, which are no longer outputs "
                             f"(outputs {list(self.outputs)}); call set_loss again")
        names = list(losses)
        if isinstance(t, dict):
            missing = [k for k in names if k not in t]
            unexpected = [k for k in t if k not in self.outputs]
            if missing or unexpected:
                raise KeyError(f"{describe(self)}: argument 't' keys must be {names}: "
                               + ", ".join(([f"missing {missing}"] if missing else [])
                                           + ([f"unexpected {unexpected}"] if unexpected else [])))
            return {k: t[k] for k in names}
        if len(names) != 1:
            raise ValueError(f"{describe(self)}: argument 't' must be a dict by output name {names}, "
                             f"got {type(t).__name__}")
        return {names[0]: t}

    def _as_dict(self, y):
        return y if isinstance(y, dict) else {self.outputs[0]: y}

    def loss(self, x, t, train=True):
        """Forward and the weighted sum of the output losses (float); per-output values in :attr:`last_losses`."""
        targets = self._targets(t)
        y = self._as_dict(self.forward(x, train=train))
        losses = self.losses
        parts = {o: float(losses[o].forward(y[o], tt)) for o, tt in targets.items()}
        self.last_losses = parts
        return float(sum(self.loss_weights.get(o, 1.0) * v for o, v in parts.items()))

    def _loss_douts(self):
        douts, losses = {}, self.losses
        for o in self.outputs:
            if o in losses:
                d = losses[o].backward(1.0)
                w = self.loss_weights.get(o, 1.0)
                douts[o] = d if w == 1.0 else d * np.asarray(w, dtype=np.asarray(d).dtype)
            else:
                shape, dtype = self._shapes[o]
                douts[o] = np.zeros(shape, dtype=dtype)
        return douts

    def loss_and_gradient(self, x, t):
        """Training forward, loss and backward; return ``(total loss, grads)``. Input gradients are skipped."""
        value = self.loss(x, t, train=True)
        douts = self._loss_douts()
        saved = self.requires_input_grad
        self.requires_input_grad = False
        try:
            self.backward(douts if len(self.outputs) > 1 else douts[self.outputs[0]])
        finally:
            self.requires_input_grad = saved
        return value, self.grads

    def gradient(self, x, t):
        """Forward + loss + backward; return :attr:`grads`."""
        return self.loss_and_gradient(x, t)[1]

    def predict(self, x, batch_size=None):
        """Inference output ``forward(x, train=False)``, in chunks of *batch_size* rows if given."""
        feed = self._feed(x)
        sizes = {k: len(v) if np.ndim(v) else 0 for k, v in feed.items()}
        if len(set(sizes.values())) > 1:
            raise ShapeError(f"{describe(self)}.predict: argument 'x' must hold the same number of samples for every "
                             f"input, got {sizes}")
        n = next(iter(sizes.values()))
        if not _predict.chunked(n, batch_size, f"{describe(self)}.predict"):
            return self.forward(feed, train=False)
        chunks = [self._as_dict(self.forward({k: v[i:i + batch_size] for k, v in feed.items()}, train=False))
                  for i in range(0, n, batch_size)]
        out = {o: np.concatenate([c[o] for c in chunks]) for o in self.outputs}
        return out if len(self.outputs) > 1 else out[self.outputs[0]]

    def accuracy(self, x, t, batch_size=1000, output=None):
        """Fraction of correct predictions of one output; ``t`` that output's labels/one-hot rows, or the dict.

        Parameters
        ----------
        output : str, optional
            Which output to judge (required when there are several).
        """
        if output is None:
            if len(self.outputs) != 1:
                raise ValueError(f"{describe(self)}.accuracy: the graph has outputs {list(self.outputs)}; "
                                 f"pass output=...")
            output = self.outputs[0]
        if output not in self.outputs:
            raise ValueError(f"{describe(self)}.accuracy: 'output' {output!r} is not an output "
                             f"(outputs {list(self.outputs)})")
        if isinstance(t, dict):
            if output not in t:
                raise KeyError(f"{describe(self)}.accuracy: argument 't' has no key {output!r}")
            t = t[output]
        feed = self._feed(x)
        n = len(next(iter(feed.values())))

        def outputs_of(i, j):
            return self._as_dict(self.forward({k: v[i:j] for k, v in feed.items()}, train=False))[output]

        what = "the network" if len(self.outputs) == 1 else f"output {output!r}"
        return scoring.accuracy(self, outputs_of, n, t, self.losses.get(output), batch_size, what)

    # -- state -----------------------------------------------------------------------------------------------------

    def state_dict(self):
        """Copies of every parameter and buffer (shared arrays once, under their first node)."""
        return state.state_dict(self)

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays from *state_dict* into the graph's arrays; see :func:`layergraph.network.state.load_state_dict`."""
        return state.load_state_dict(self, state_dict, strict=strict)

    def flatten_parameters(self):
        """Pack every parameter and gradient into one buffer per dtype (see ``Sequential.flatten_parameters``)."""
        flatten_parameters(self)
        self._reset_exec()
        return self

    def astype(self, dtype):
        """Cast every layer's parameters, gradients and buffers to *dtype*; return self."""
        super().astype(dtype)
        self._reset_exec()
        return self
