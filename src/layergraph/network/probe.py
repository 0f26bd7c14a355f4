"""Running a network on a probe input (for a summary or a picture) without disturbing it.

A probe forward pass, like any forward pass, rebinds the caches that ``backward`` reads, a stateful layer's carried
state and the graph's recorded shapes, and writes into the layers' reused scratch arrays and into the clones that
run a graph's shared layers at their later nodes. :func:`probing` undoes
all of that: a summary taken between ``forward`` and ``backward``, or between two calls of a stateful network,
changes nothing.
"""

import contextlib
import warnings

from .membership import parts_of



@contextlib.contextmanager
def probing(net):
    """Within this block *net* may run forward passes; on leaving it every layer's attributes are put back.

    Warnings raised inside the block are not shown: they concern the probe sample, not the user's data.

    Each layer's attributes are restored as they were (caches, carried state, recorded shapes), the entries of
    its dict attributes too. Attributes whose class sets ``SCRATCH = True`` (scratch arrays, a graph's per-use
    clones of shared layers) are replaced by new, empty ones of their class during the block, so that what the
    caches point into is not overwritten.
    """
    saved = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            for layer in list(parts_of(net)):
                attrs = dict(vars(layer))
                entries = {k: dict(v) for k, v in attrs.items() if type(v) is dict}
                saved.append((layer, attrs, entries))
                for key, value in attrs.items():
                    if getattr(type(value), "SCRATCH", False) is True:
                        setattr(layer, key, type(value)())
            yield net
        finally:
            for layer, attrs, entries in saved:
                vars(layer).clear()
                vars(layer).update(attrs)
                for key, content in entries.items():
                    attrs[key].clear()
                    attrs[key].update(content)
