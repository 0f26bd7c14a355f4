"""Layers made of other layers: the bookkeeping shared by :class:`~layergraph.Sequential` and
:class:`~layergraph.layers.Residual`."""

from ..errors import describe
from .base import Layer


def set_qualname(layer, qualname):
    """Give *layer* its qualified name; a composite passes it on to its parts."""
    setter = getattr(layer, "_set_qualname", None)
    if setter is not None:
        setter(qualname)
    else:
        layer.name = qualname


def backward_part(part, dout, need_input_grad):
    """``part.backward(dout)``, letting *part* skip its input gradient when *need_input_grad* is False."""
    if need_input_grad or not getattr(part, "requires_input_grad", True):
        return part.backward(dout)
    part.requires_input_grad = False
    try:
        return part.backward(dout)
    finally:
        part.requires_input_grad = True


class Composite(Layer):
    """Base class of layers built from named parts (:meth:`_parts` yields ``(name, layer)`` pairs).

    ``params``, ``grads`` and ``buffers`` are flat dicts rebuilt on every read, keyed ``"<part>.<key>"``, whose
    values are the parts' own arrays. Parts are named ``"<own name>.<part>"``; ``layer["part.sub"]`` looks a
    sub-layer up; ``astype`` casts every part.
    """

    def _parts(self):
        raise NotImplementedError

    def _gather(self, kind):
        out = {}
        for prefix, part in self._parts():
            for key, value in getattr(part, kind, {}).items():
                out[f"{prefix}.{key}"] = value
        return out

    @property
    def params(self):
        """Flat dict ``"<part>.<key>" -> array`` of every trainable array (the parts' own objects)."""
        return self._gather("params")

    @property
    def grads(self):
        """Flat dict of the parts' gradients, same keys as :attr:`params` once backward has run."""
        return self._gather("grads")

    @property
    def buffers(self):
        """Flat dict of the parts' non-trainable state (e.g. BatchNorm running statistics)."""
        return self._gather("buffers")

    def _child_name(self, name):
        own = self.name
        return name if own == type(self).__name__ else f"{own}.{name}"

    def _set_qualname(self, qualname):
        self.name = qualname
        for name, part in self._parts():
            set_qualname(part, self._child_name(name))

    def astype(self, dtype):
        """Cast every part's parameters, gradients and buffers to *dtype*; return self."""
        for _, part in self._parts():
            part.astype(dtype)
        return self

    def __getitem__(self, key):
        head, _, rest = key.partition(".")
        parts = dict(self._parts())
        if head not in parts:
            raise KeyError(f"{describe(self)} has no part {key!r}; parts: {list(parts)}")
        return parts[head][rest] if rest else parts[head]

    def extra_repr(self):
        lines = [f"\n  ({name}): " + repr(part).replace("\n", "\n  ") for name, part in self._parts()]
        return "".join(lines) + ("\n" if lines else "")
