"""``assert_gradients``: a gradient check that raises on failure, for use inside tests."""

import numpy as np

from ..gradcheck import gradcheck


def assert_gradients(layer, x, t=None, **options):
    """Gradient-check *layer* on input *x* (and targets *t*); raise :class:`~layergraph.GradCheckError` on failure.

    Parameters
    ----------
    layer : Layer
        Any object following the layer protocol, a loss layer, or a container.
    x : array_like, shape (N, ...)
    t : array_like, optional
    **options
        Passed to :func:`layergraph.gradcheck` (``mode``, ``seed``, ``train``, ``precision``, ``eps``, ``rtol``,
        ``atol``, ``samples``, ``hygiene``, ``strict``, ``workers``).

    Returns
    -------
    GradCheckReport or GradCheckReports
        The passing report, for further assertions (e.g. on ``report.kinks``).

    Raises
    ------
    GradCheckError
        An ``AssertionError`` whose message is the report table plus one line reproducing the run.

    Examples
    --------
    >>> assert_gradients(Swish(), np.random.default_rng(0).standard_normal((4, 3)))
    """
    options["raise_on_fail"] = True
    return gradcheck(layer, x, t, **options)


def check_case(case, *, seed=0, **options):
    """Build a registered :class:`~layergraph.gradcheck.GradCase` with ``np.random.default_rng(seed)`` and assert
    its gradients in every ``train`` flag the case lists. Returns the list of reports."""
    reports = []
    for train in case.modes:
        layer, x, t = case.build(np.random.default_rng(seed))
        reports.append(assert_gradients(layer, x, t, seed=seed, train=train, **options))
    return reports
