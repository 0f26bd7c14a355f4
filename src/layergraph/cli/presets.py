"""Models ``layergraph train`` can build besides MLPs: named presets (``--arch lenet``) and user factories
(``--model package.module:function``).

A preset is a function ``build(input_shape, num_classes, seed) -> Sequential`` for image inputs ``(C, H, W)``;
:func:`register_preset` adds your own. A factory is any importable function returning a network with a loss layer;
it receives, among ``input_shape``, ``num_classes`` and ``seed``, the keyword arguments its signature accepts.
"""

import importlib
import inspect
import os
import sys

import numpy as np

from .. import layers as L
from ..network import Sequential

_PRESETS = {}


def register_preset(name, build, help="", *, replace=False):
    """Make ``--arch NAME`` build ``build(input_shape, num_classes, seed)`` (a network taking ``(N, C, H, W)``).

    Parameters
    ----------
    name : str
        Not starting with a digit (``"lenet"``, ``"resnet-small"``); matched case-insensitively.
    build : callable
    help : str
        One line shown by ``layergraph train --help``.
    replace : bool, default False
        Allow replacing a preset of the same name that builds with another function (as ``register_optimizer``).
    """
    if not isinstance(name, str) or not name or name[0].isdigit():
        raise ValueError(f"register_preset: 'name' must be a non-empty name not starting with a digit, got {name!r}")
    if not callable(build):
        raise TypeError(f"register_preset: 'build' must be callable, got {type(build).__name__}")
    old = _PRESETS.get(name.lower())
    if old is not None and old[0] is not build and not replace:
        raise ValueError(f"register_preset: {name.lower()!r} is already a preset built by another function; pass "
                         "replace=True or choose another name")
    _PRESETS[name.lower()] = (build, help)


def preset_names():
    """The registered ``--arch`` preset names."""
    return list(_PRESETS)


def preset_help():
    return "; ".join(f"{k}: {h}" for k, (_, h) in _PRESETS.items())


def is_preset(arch):
    return isinstance(arch, str) and arch.lower() in _PRESETS


def build_preset(name, input_shape, num_classes, seed=0):
    """Build preset *name* for images of shape *input_shape* ``(C, H, W)`` and *num_classes* classes."""
    if not is_preset(name):
        raise ValueError(f"--arch: unknown preset {name!r}; expected widths like 64-100-10 or one of "
                         f"{', '.join(_PRESETS)}")
    if len(input_shape) != 3:
        raise ValueError(f"--arch {name}: needs image inputs (C, H, W), got samples of shape {tuple(input_shape)}")
    return _PRESETS[name.lower()][0](tuple(int(d) for d in input_shape), int(num_classes), int(seed))


def _flat_size(net, input_shape, dtype=np.float32):
    return int(np.prod(net.forward(np.zeros((1, *input_shape), dtype=dtype), train=False).shape[1:]))


def _conv_stack(input_shape, channels, kernel, pad, seed):
    net = Sequential()
    c_in = input_shape[0]
    for i, c_out in enumerate(channels):
        net.add(f"conv{i + 1}", L.Conv2D(c_in, c_out, kernel, pad=pad, rng=seed * 1000 + i))
        net.add(f"relu{i + 1}", L.ReLU())
        net.add(f"pool{i + 1}", L.MaxPool2D(2))
        c_in = c_out
    net.add("flatten", L.Flatten())
    return net


def _head(net, input_shape, widths, num_classes, seed, first):
    n_in = _flat_size(net, input_shape)
    for j, n_out in enumerate([*widths, num_classes]):
        net.add(f"fc{j + 1}", L.Affine(n_in, n_out, rng=seed * 1000 + first + j))
        if j < len(widths):
            net.add(f"relu_fc{j + 1}", L.ReLU())
        n_in = n_out
    net.set_loss(L.SoftmaxWithLoss())
    return net


def lenet(input_shape, num_classes, seed=0):
    """LeNet-5 style: two 5x5 convolutions (6, 16 channels, padding 2) with ReLU and 2x2 max pooling, then
    Affine layers of 120 and 84 units and the classifier."""
    net = _conv_stack(input_shape, (6, 16), 5, 2, seed)
    return _head(net, input_shape, (120, 84), num_classes, seed, 10)


def convnet(input_shape, num_classes, seed=0):
    """Two 3x3 convolutions (16, 32 channels, padding 1) with ReLU and 2x2 max pooling, a 128-unit Affine layer
    and the classifier."""
    net = _conv_stack(input_shape, (16, 32), 3, 1, seed)
    return _head(net, input_shape, (128,), num_classes, seed, 10)


def _basic_block(c_in, c_out, stride, rng):
    return Sequential([("conv1", L.Conv2D(c_in, c_out, 3, stride=stride, pad=1, rng=rng)),
                       ("bn1", L.BatchNorm(c_out)), ("relu", L.ReLU()),
                       ("conv2", L.Conv2D(c_out, c_out, 3, pad=1, rng=rng + 1)), ("bn2", L.BatchNorm(c_out))])


def resnet_small(input_shape, num_classes, seed=0):
    """A small ResNet: a 3x3 stem (16 channels) with batch norm, a residual block at 16 channels, a residual
    block down-sampling to 32 channels (stride 2, 1x1 projection), global average pooling and the classifier."""
    s = seed * 1000
    net = Sequential([("stem", L.Conv2D(input_shape[0], 16, 3, pad=1, rng=s)), ("bn", L.BatchNorm(16)),
                      ("relu", L.ReLU())])
    net.add("res1", L.Residual(_basic_block(16, 16, 1, s + 10)))
    net.add("relu1", L.ReLU())
    projection = Sequential([("conv", L.Conv2D(16, 32, 1, stride=2, rng=s + 30)), ("bn", L.BatchNorm(32))])
    net.add("res2", L.Residual(_basic_block(16, 32, 2, s + 20), projection))
    net.add("relu2", L.ReLU())
    net.add("pool", L.GlobalAvgPool())
    net.add("fc", L.Affine(32, num_classes, rng=s + 40))
    net.set_loss(L.SoftmaxWithLoss())
    return net


register_preset("lenet", lenet, "LeNet-5 style convolutional network")
register_preset("convnet", convnet, "two conv + max-pool stages (16, 32 channels), a 128-unit layer")
register_preset("resnet-small", resnet_small, "stem + two residual blocks (16, 32 channels), global average pool")


# -- --model package.module:function ----------------------------------------------------------------------------

def load_factory(spec):
    """The function named by ``"package.module:function"`` (the working directory is importable).

    Importing runs the module's code: call this only with a spec the user typed (``--model``), never with one
    read from a file such as a checkpoint.
    """
    module_name, sep, attr = str(spec).partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"--model: expected package.module:function, got {spec!r}")
    added = os.getcwd() not in sys.path and "" not in sys.path
    if added:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        missing = getattr(err, "name", None) or ""
        hint = ""
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            hint = (f"; the module must be importable: run from the directory holding "
                    f"{module_name.split('.')[0]} (the training directory) or add that directory to PYTHONPATH")
        raise ValueError(f"--model {spec}: cannot import module {module_name!r} ({err}){hint}") from None
    finally:
        if added:
            sys.path.remove(os.getcwd())
    fn = module
    for part in attr.split("."):
        fn = getattr(fn, part, None)
        if fn is None:
            raise ValueError(f"--model {spec}: module {module_name!r} has no attribute {attr!r}")
    if not callable(fn):
        raise ValueError(f"--model {spec}: {attr!r} is not a function")
    return fn


def build_from_factory(spec, input_shape, num_classes, seed=0):
    """Call the factory named *spec* with the arguments it accepts; check that it returned a trainable network."""
    fn = load_factory(spec)
    offered = {"input_shape": tuple(input_shape), "num_classes": int(num_classes), "seed": int(seed)}
    try:
        params = inspect.signature(fn).parameters
        takes_all = any(p.kind == p.VAR_KEYWORD for p in params.values())
        kwargs = {k: v for k, v in offered.items() if takes_all or k in params}
    except (TypeError, ValueError):
        kwargs = {}
    net = fn(**kwargs)
    if not (callable(getattr(net, "forward", None)) and hasattr(net, "params")):
        raise ValueError(f"--model {spec}: the factory returned {type(net).__name__}, not a network")
    if getattr(net, "loss_layer", None) is None:
        raise ValueError(f"--model {spec}: the network has no loss layer (pass loss=SoftmaxWithLoss() to Sequential)")
    return net
