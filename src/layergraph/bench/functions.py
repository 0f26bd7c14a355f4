"""Two-dimensional test functions for watching optimizers move.

Every function is an :class:`Objective`: a value, an analytic gradient, its known
minimum (or minima), a default start point and a plotting box.  Points are arrays
whose last axis has length 2, so the same call evaluates one point of shape
``(2,)`` or a whole contour grid of shape ``(H, W, 2)``.

:class:`Noisy` wraps any objective and adds seeded Gaussian noise to the gradient,
which turns a deterministic trajectory into a stochastic-gradient one.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

__all__ = [
    "Objective",
    "Bowl",
    "Rosenbrock",
    "Beale",
    "Rastrigin",
    "Himmelblau",
    "IllConditionedQuadratic",
    "Noisy",
    "FUNCTIONS",
    "get_function",
    "function_names",
]


def _as_points(p, who: str) -> np.ndarray:
    """Return ``p`` as a float array whose last axis has length 2."""
    if isinstance(p, (str, bytes)) or p is None:
        raise TypeError(f"{who}: expected an array of points with last axis 2, got {type(p).__name__}")
    arr = np.asarray(p)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{who}: expected a real numeric array, got dtype {arr.dtype}")
    if arr.ndim == 0 or arr.shape[-1] != 2:
        raise ValueError(f"{who}: expected points of shape (..., 2), got shape {arr.shape}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    return arr


class Objective:
    """A smooth function of two variables with known minima.

    Subclasses implement :meth:`_value` and :meth:`_grad` on the two coordinate
    arrays; the public :meth:`value` and :meth:`grad` check the input.

    Attributes
    ----------
    name : str
        Short identifier, e.g. ``"rosenbrock"``.
    minima : ndarray, shape (m, 2)
        All global minimizers (several for Himmelblau).
    min_value : float
        The function value at every point of ``minima``.
    start : ndarray, shape (2,)
        Default starting point for trajectories.
    box : tuple of 4 floats
        ``(xmin, xmax, ymin, ymax)`` for contour plots.
    """

    name: str = "objective"
    minima: np.ndarray
    min_value: float = 0.0
    start: np.ndarray
    box: tuple[float, float, float, float]

    # -- public API -----------------------------------------------------------------
    def value(self, p) -> np.ndarray:
        """Function value.

        Parameters
        ----------
        p : array_like, shape (..., 2)
            Points ``(x, y)``.

        Returns
        -------
        ndarray, shape (...)
        """
        arr = _as_points(p, f"{type(self).__name__}.value")
        return self._value(arr[..., 0], arr[..., 1])

    def grad(self, p) -> np.ndarray:
        """Analytic gradient.

        Parameters
        ----------
        p : array_like, shape (..., 2)

        Returns
        -------
        ndarray, shape (..., 2)
            ``(df/dx, df/dy)`` stacked on the last axis.
        """
        arr = _as_points(p, f"{type(self).__name__}.grad")
        gx, gy = self._grad(arr[..., 0], arr[..., 1])
        return np.stack(np.broadcast_arrays(gx, gy), axis=-1)

    def distance_to_minimum(self, p) -> np.ndarray:
        """Euclidean distance from ``p`` (shape (..., 2)) to the nearest minimizer; shape (...)."""
        arr = _as_points(p, f"{type(self).__name__}.distance_to_minimum")
        diff = arr[..., None, :] - self.minima  # (..., m, 2)
        return np.sqrt(np.min(np.sum(diff * diff, axis=-1), axis=-1))

    def restarted(self) -> "Objective":
        """Return an objective that behaves like a fresh copy (self when deterministic)."""
        return self

    def describe(self) -> dict:
        """JSON-friendly description: the name and the constructor parameters."""
        return {"name": self.name, **self._params()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"

    # -- for subclasses -------------------------------------------------------------
    def _params(self) -> dict:
        return {}

    def _value(self, x, y):  # pragma: no cover - abstract
        raise NotImplementedError

    def _grad(self, x, y):  # pragma: no cover - abstract
        raise NotImplementedError


class Bowl(Objective):
    """The elongated bowl ``f(x, y) = x**2 / 20 + y**2`` (minimum 0 at the origin).

    Its curvature differs by a factor 20 between the axes, so plain gradient
    descent zig-zags along ``y`` while creeping along ``x``.
    """

    name = "bowl"

    def __init__(self):
        self.minima = np.zeros((1, 2))
        self.start = np.array([-7.0, 2.0])
        self.box = (-10.0, 10.0, -5.0, 5.0)

    def _value(self, x, y):
        return x * x / 20.0 + y * y

    def _grad(self, x, y):
        return x / 10.0, 2.0 * y


class Rosenbrock(Objective):
    """Rosenbrock's valley ``(a - x)**2 + b * (y - x**2)**2``; minimum 0 at ``(a, a**2)``."""

    name = "rosenbrock"

    def __init__(self, a: float = 1.0, b: float = 100.0):
        self.a = float(a)
        self.b = float(b)
        if not self.b > 0:
            raise ValueError(f"Rosenbrock: b must be > 0, got {b!r}")
        self.minima = np.array([[self.a, self.a * self.a]])
        self.start = np.array([-1.5, 2.0])
        self.box = (-2.0, 2.0, -1.0, 3.0)

    def _params(self):
        return {"a": self.a, "b": self.b}

    def _value(self, x, y):
        return (self.a - x) ** 2 + self.b * (y - x * x) ** 2

    def _grad(self, x, y):
        r = y - x * x
        return -2.0 * (self.a - x) - 4.0 * self.b * x * r, 2.0 * self.b * r


class Beale(Objective):
    """Beale's function; minimum 0 at ``(3, 0.5)``, with flat plateaus and steep walls."""

    name = "beale"
    _C = (1.5, 2.25, 2.625)

    def __init__(self):
        self.minima = np.array([[3.0, 0.5]])
        self.start = np.array([1.0, 1.5])
        self.box = (-4.5, 4.5, -4.5, 4.5)

    def _value(self, x, y):
        total = 0.0
        for k, c in enumerate(self._C, start=1):
            total = total + (c - x + x * y**k) ** 2
        return total

    def _grad(self, x, y):
        gx = 0.0
        gy = 0.0
        for k, c in enumerate(self._C, start=1):
            t = c - x + x * y**k
            gx = gx + 2.0 * t * (y**k - 1.0)
            gy = gy + 2.0 * t * k * x * y ** (k - 1)
        return gx, gy


class Rastrigin(Objective):
    """Rastrigin's function ``2A + sum(x_i**2 - A cos(2 pi x_i))``; minimum 0 at the origin.

    A bowl covered with regularly spaced local minima: a test of whether an
    optimizer escapes them.
    """

    name = "rastrigin"

    def __init__(self, A: float = 10.0):
        self.A = float(A)
        if not self.A >= 0:
            raise ValueError(f"Rastrigin: A must be >= 0, got {A!r}")
        self.minima = np.zeros((1, 2))
        self.start = np.array([-2.0, 3.5])
        self.box = (-4.5, 4.5, -4.5, 4.5)

    def _params(self):
        return {"A": self.A}

    def _value(self, x, y):
        two_pi = 2.0 * math.pi
        return 2.0 * self.A + x * x - self.A * np.cos(two_pi * x) + y * y - self.A * np.cos(two_pi * y)

    def _grad(self, x, y):
        two_pi = 2.0 * math.pi
        k = two_pi * self.A
        return 2.0 * x + k * np.sin(two_pi * x), 2.0 * y + k * np.sin(two_pi * y)


class Himmelblau(Objective):
    """Himmelblau's function ``(x**2 + y - 11)**2 + (x + y**2 - 7)**2``; four minima of value 0."""

    name = "himmelblau"

    def __init__(self):
        self.minima = np.array(
            [
                [3.0, 2.0],
                [-2.805118086952745, 3.131312518250573],
                [-3.779310253377747, -3.2831859912861696],
                [3.5844283403304917, -1.8481265269644036],
            ]
        )
        self.start = np.array([0.0, 0.0])
        self.box = (-5.0, 5.0, -5.0, 5.0)

    def _value(self, x, y):
        return (x * x + y - 11.0) ** 2 + (x + y * y - 7.0) ** 2

    def _grad(self, x, y):
        u = x * x + y - 11.0
        v = x + y * y - 7.0
        return 4.0 * x * u + 2.0 * v, 2.0 * u + 4.0 * y * v


class IllConditionedQuadratic(Objective):
    """``f(p) = 0.5 * p^T H p`` with Hessian eigenvalues ``1/condition`` and ``1``.

    The eigenvectors are the coordinate axes rotated by ``angle`` radians, so a
    non-zero angle denies per-coordinate methods (AdaGrad, Adam) the easy
    axis-aligned case.  The largest curvature is 1 for every condition number,
    so one learning rate is stable across all of them (plain gradient descent
    needs ``lr < 2``).

    Parameters
    ----------
    condition : float, >= 1
        Ratio of largest to smallest Hessian eigenvalue.
    angle : float
        Rotation of the eigenvectors, in radians.
    """

    name = "quadratic"

    def __init__(self, condition: float = 100.0, angle: float = math.pi / 6):
        if isinstance(condition, bool) or not isinstance(condition, (int, float, np.integer, np.floating)):
            raise TypeError(f"IllConditionedQuadratic: condition must be a number, got {type(condition).__name__}")
        if not (math.isfinite(condition) and condition >= 1.0):
            raise ValueError(f"IllConditionedQuadratic: condition must be a finite number >= 1, got {condition!r}")
        self.condition = float(condition)
        self.angle = float(angle)
        c, s = math.cos(self.angle), math.sin(self.angle)
        rot = np.array([[c, -s], [s, c]])
        self.hessian = rot @ np.diag([1.0 / self.condition, 1.0]) @ rot.T
        self.minima = np.zeros((1, 2))
        # Start far out along the slow direction, a little off it along the fast one.
        self.start = rot @ np.array([-5.0, 1.0])
        self.box = (-6.0, 6.0, -6.0, 6.0)

    def _params(self):
        return {"condition": self.condition, "angle": self.angle}

    def _value(self, x, y):
        h = self.hessian
        return 0.5 * (h[0, 0] * x * x + 2.0 * h[0, 1] * x * y + h[1, 1] * y * y)

    def _grad(self, x, y):
        h = self.hessian
        return h[0, 0] * x + h[0, 1] * y, h[1, 0] * x + h[1, 1] * y


class Noisy(Objective):
    """An objective whose gradient carries seeded Gaussian noise.

    ``grad(p) = base.grad(p) + sigma * N(0, I)``; the value is the base value, so
    progress is still measured on the true function.  The noise stream advances
    with every call to :meth:`grad`; :meth:`restarted` gives a new object whose
    stream starts again from ``seed``, so the same seed replays the same noise
    bit for bit.

    Parameters
    ----------
    base : Objective
    sigma : float, >= 0
        Standard deviation of the noise on each coordinate.
    seed : int or numpy.random.Generator
        An int makes the object restartable; a Generator is used as is.
    """

    def __init__(self, base: Objective, sigma: float, seed):
        if not isinstance(base, Objective):
            raise TypeError(f"Noisy: base must be an Objective, got {type(base).__name__}")
        if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.integer, np.floating)):
            raise TypeError(f"Noisy: sigma must be a number, got {type(sigma).__name__}")
        if not (math.isfinite(sigma) and sigma >= 0):
            raise ValueError(f"Noisy: sigma must be a finite number >= 0, got {sigma!r}")
        if isinstance(seed, np.random.Generator):
            self._seed = None
            self._rng = seed
        elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            self._seed = int(seed)
            self._rng = np.random.default_rng(self._seed)
        else:
            raise TypeError(f"Noisy: seed must be an int or numpy.random.Generator, got {type(seed).__name__}")
        self.base = base
        self.sigma = float(sigma)
        self.name = f"noisy-{base.name}"
        self.minima = base.minima
        self.min_value = base.min_value
        self.start = base.start
        self.box = base.box

    def _params(self):
        return {"base": self.base.describe(), "sigma": self.sigma, "seed": self._seed}

    def _value(self, x, y):
        return self.base._value(x, y)

    def grad(self, p) -> np.ndarray:
        g = self.base.grad(p)
        if self.sigma > 0:
            g += self.sigma * self._rng.standard_normal(g.shape)
        return g

    def restarted(self) -> "Noisy":
        if self._seed is None:
            raise ValueError("Noisy.restarted: this object was built from a Generator; pass an int seed to replay")
        return Noisy(self.base, self.sigma, self._seed)


FUNCTIONS: dict[str, Callable[..., Objective]] = {
    "bowl": Bowl,
    "rosenbrock": Rosenbrock,
    "beale": Beale,
    "rastrigin": Rastrigin,
    "himmelblau": Himmelblau,
    "quadratic": IllConditionedQuadratic,
}


def function_names() -> list[str]:
    """Names accepted by :func:`get_function`, in a stable order."""
    return list(FUNCTIONS)


def get_function(name: str, *, noise: float = 0.0, seed=None, **params) -> Objective:
    """Build a test function by name.

    Parameters
    ----------
    name : str
        One of :func:`function_names`.
    noise : float, default 0
        When > 0, wrap the function in :class:`Noisy` with this sigma (``seed`` is then required).
    seed : int or numpy.random.Generator, optional
        Seed of the gradient noise.
    **params
        Constructor parameters, e.g. ``condition=1000`` for ``"quadratic"``.

    Returns
    -------
    Objective
    """
    if not isinstance(name, str):
        raise TypeError(f"get_function: name must be a str, got {type(name).__name__}")
    if name not in FUNCTIONS:
        raise ValueError(f"get_function: unknown function {name!r}; expected one of {function_names()}")
    fn = FUNCTIONS[name](**params)
    if noise:
        if seed is None:
            raise ValueError("get_function: noise > 0 needs an explicit seed")
        fn = Noisy(fn, noise, seed)
    return fn
