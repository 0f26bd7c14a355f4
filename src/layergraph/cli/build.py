"""What ``layergraph train`` builds from its options: the MLP, the optimizer and the learning-rate schedule."""

import inspect
import math

from .. import layers as L
from ..network import Sequential

#: ``--activation`` choices -> (layer class, weight initialisation suited to it).
ACTIVATIONS = {
    "relu": (L.ReLU, "he"),
    "leaky_relu": (L.LeakyReLU, "he"),
    "tanh": (L.Tanh, "xavier"),
    "sigmoid": (L.Sigmoid, "xavier"),
}

#: ``--schedule`` choices with what each does (shown by ``--help``).
SCHEDULES = {
    "constant": "the same rate throughout",
    "step": "divide the rate by 10 after each third of the epochs",
    "cosine": "cosine decay to 0 over all steps",
    "warmup-cosine": "linear warm-up over the first 5% of steps, then cosine decay to 0",
    "onecycle": "one-cycle policy peaking at --lr after 30% of the steps",
    "plateau": "halve the rate after 3 epochs without a lower val_loss",
}


def parse_arch(text):
    """``"64-100-10"`` -> ``[64, 100, 10]``.

    Parameters
    ----------
    text : str
        Layer widths separated by ``-`` (or ``,``): input features, hidden widths, classes.

    Returns
    -------
    list of int
        At least two positive widths.
    """
    parts = [p.strip() for p in str(text).replace(",", "-").split("-")]
    try:
        widths = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"--arch: expected widths like 64-100-10, got {text!r}") from None
    if len(widths) < 2 or min(widths) < 1:
        raise ValueError(f"--arch: expected at least two positive widths like 64-100-10, got {text!r}")
    return widths


def build_mlp(widths, activation="relu", *, seed=0):
    """A ``Sequential`` of ``Affine`` layers with *activation* between them and ``SoftmaxWithLoss``.

    Parameters
    ----------
    widths : sequence of int
        ``[in_features, hidden..., n_classes]``.
    activation : {"relu", "leaky_relu", "tanh", "sigmoid"}
    seed : int
        Layer ``i`` (0-based) is initialised with ``rng=seed * 1000 + i``.

    Returns
    -------
    Sequential
        Layers named ``fc1, act1, fc2, ..., fcK``; float32 parameters.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"--activation: expected one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    act_cls, init = ACTIVATIONS[activation]
    net = Sequential(loss=L.SoftmaxWithLoss())
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        net.add(f"fc{i + 1}", L.Affine(n_in, n_out, init=init, rng=seed * 1000 + i))
        if i < len(widths) - 2:
            net.add(f"act{i + 1}", act_cls())
    return net


def optimizer_names():
    """The optimizer class names of :mod:`layergraph.optim`, as accepted by ``--optimizer``."""
    from ..optim import OPTIMIZERS

    return list(OPTIMIZERS)


def resolve_optimizer(name):
    """The optimizer class called *name* (case-insensitive)."""
    from ..optim import OPTIMIZERS

    by_lower = {k.lower(): cls for k, cls in OPTIMIZERS.items()}
    cls = by_lower.get(str(name).lower())
    if cls is None:
        raise ValueError(f"--optimizer: expected one of {', '.join(OPTIMIZERS)} (any case), got {name!r}")
    return cls


def default_lr(name):
    """The default learning rate of optimizer *name* (its constructor's default)."""
    return float(inspect.signature(resolve_optimizer(name)).parameters["lr"].default)


def default_weight_decay(name):
    """The default weight decay of optimizer *name* (its constructor's default: 0.01 for AdamW, else 0)."""
    return float(inspect.signature(resolve_optimizer(name)).parameters["weight_decay"].default)


def make_optimizer(name, lr, weight_decay=None):
    """Instantiate optimizer *name* with *lr* and (coupled, or decoupled for AdamW) *weight_decay*
    (None: the optimizer's own default)."""
    if weight_decay is None:
        weight_decay = default_weight_decay(name)
    return resolve_optimizer(name)(lr, weight_decay=weight_decay)


def make_schedule(name, lr, epochs, steps_per_epoch):
    """The learning-rate schedule called *name* for a run of *epochs* x *steps_per_epoch* updates.

    Returns
    -------
    (schedule, interval) : (callable or ReduceLROnPlateau or None, {"epoch", "step"})
        ``None`` for ``"constant"``. Pass both to ``Trainer(schedule=..., schedule_interval=...)``.
    """
    from ..optim import schedules as S

    total = epochs * steps_per_epoch
    if name == "constant":
        return None, "epoch"
    if name == "step":
        return S.StepLR(lr, step_size=max(1, math.ceil(epochs / 3)), gamma=0.1), "epoch"
    if name == "cosine":
        return S.CosineAnnealingLR(lr, total_steps=max(1, total)), "step"
    if name == "warmup-cosine":
        return S.WarmupCosineLR(lr, warmup_steps=max(1, round(0.05 * total)), total_steps=max(2, total)), "step"
    if name == "onecycle":
        return S.OneCycleLR(lr, total_steps=max(2, total)), "step"
    if name == "plateau":
        # patience=2: the rate is halved at the 3rd consecutive epoch without a lower val_loss.
        return S.ReduceLROnPlateau(lr, factor=0.5, patience=2), "epoch"
    raise ValueError(f"--schedule: expected one of {', '.join(SCHEDULES)}, got {name!r}")


def model_input_shape(config, data):
    """Shape of one sample as the model of *config* takes it: the data's own for ``--model``, ``(C, H, W)``
    for the convolutional presets (flat square samples are read as one-channel images), flat otherwise."""
    from .presets import is_preset

    if config.get("model"):
        return data.sample_shape
    if is_preset(config.get("arch")):
        if data.image_shape is not None:
            return tuple(data.image_shape)
        if len(data.sample_shape) == 3:
            return data.sample_shape
        side = math.isqrt(data.n_features)
        if side * side == data.n_features:
            return (1, side, side)
        raise ValueError(f"--arch {config['arch']}: needs images, but {data.name} has samples of shape "
                         f"{data.sample_shape} (give (N, C, H, W) arrays or square numbers of features)")
    return (data.n_features,)


def build_model(config, data, resumed=None):
    """The network *config* asks for (``--model`` factory, ``--arch`` preset or MLP widths), checked against
    *data*; returns ``(net, input_shape)``.

    *resumed* is the :class:`~layergraph.train.Checkpoint` a run resumes from when its ``--model`` factory comes
    from that checkpoint, not from the command line: the network is then rebuilt from the checkpoint's
    architecture, and the factory it names is never imported.
    """
    from .presets import build_from_factory, build_preset, is_preset

    shape = model_input_shape(config, data)
    if config.get("model") and resumed is not None:
        net = architecture_network(resumed)
        what = f"--resume {resumed.path}"
    elif config.get("model"):
        net = build_from_factory(config["model"], shape, data.n_classes, config["seed"])
        what = f"--model {config['model']}"
    elif is_preset(config.get("arch")):
        net = build_preset(config["arch"], shape, data.n_classes, config["seed"])
        what = f"--arch {config['arch']}"
    else:
        widths = parse_arch(config["arch"])
        if widths[0] != data.n_features or widths[-1] != data.n_classes:
            raise ValueError(f"--arch {config['arch']}: {data.name} has {data.n_features} input features and "
                             f"{data.n_classes} classes, so the widths must be {data.n_features}-...-"
                             f"{data.n_classes}")
        return build_mlp(widths, config["activation"], seed=config["seed"]), shape
    sample = data.x_train[:1].reshape(1, *shape)
    try:
        out = net.forward(sample.astype(next(iter(net.params.values())).dtype, copy=False), train=False)
    except ValueError as err:
        raise ValueError(f"{what}: the network does not accept {data.name} samples of shape {shape}: {err}") from None
    if out.shape != (1, data.n_classes):
        raise ValueError(f"{what}: the network outputs shape {out.shape[1:]} per sample but {data.name} has "
                         f"{data.n_classes} classes")
    return net, shape


def run_options(meta):
    """The run options a checkpoint's metadata *meta* records (``meta["cli"]``, written by ``layergraph train``);
    an empty dict for checkpoints written otherwise."""
    cli = meta.get("cli")
    return cli if isinstance(cli, dict) else {}


def known_classes(meta, source):
    """The classes of the network whose checkpoint metadata is *meta* (*source* names the checkpoint in messages),
    which the labels of a data file must be mapped to."""
    from ..data.class_labels import KnownClasses

    names, count = meta.get("class_names"), meta.get("num_classes")
    return KnownClasses([str(c) for c in names] if isinstance(names, (list, tuple)) else None, source,
                        count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else None)


def trained_columns(meta):
    """The CSV columns the network whose checkpoint metadata is *meta* was trained on: its run's target column
    and its feature names (:class:`~layergraph.data.csv_files.TrainedColumns`)."""
    from ..data.csv_files import TrainedColumns

    features = meta.get("feature_names")
    return TrainedColumns(run_options(meta).get("target_column"),
                          [str(f) for f in features] if isinstance(features, (list, tuple)) else None)


def recorded_factory(ckpt):
    """The ``--model`` spec the run options of checkpoint *ckpt* record (a string), or None."""
    spec = run_options(ckpt.meta).get("model")
    return spec if isinstance(spec, str) and spec else None


def architecture_network(ckpt):
    """The network of checkpoint *ckpt* rebuilt from its recorded architecture, without its weights.

    Never imports anything: when the architecture names layer classes layergraph does not know, the ValueError
    says to name the factory on the command line (``--model``), which the user then trusts by typing it.
    """
    import shlex

    from ..train import CheckpointError

    try:
        return ckpt.build_network(load=False)
    except CheckpointError as err:
        spec = recorded_factory(ckpt)
        if spec is None:
            raise ValueError(f"{err}; if a function of yours builds this network, pass it as --model "
                             "MODULE:FUNCTION") from None
        raise ValueError(f"{err}; the run was built by --model {shlex.quote(spec)}, which is never imported because "
                         f"a checkpoint names it: if you trust that module, pass --model {shlex.quote(spec)}") from None


def rebuild_network(ckpt, model=None):
    """The network saved in checkpoint *ckpt*, with its weights.

    Parameters
    ----------
    ckpt : Checkpoint
    model : str, optional
        A ``package.module:function`` factory the user named on the command line (``--model``): it builds the
        network, into which the weights are loaded. Without it, the network is rebuilt from the checkpoint's
        architecture (see :func:`architecture_network`): a factory recorded in the checkpoint is never imported.

    Returns
    -------
    network
    """
    from .presets import build_from_factory

    if model:
        cli = run_options(ckpt.meta)
        seed = cli.get("seed", 0) if isinstance(cli.get("seed", 0), int) else 0
        net = build_from_factory(model, ckpt.meta.get("input_shape") or (), ckpt.meta.get("num_classes") or 0, seed)
        try:
            ckpt.restore(net)
        except ValueError as err:
            raise ValueError(f"--model {model}: the network it builds does not match {err}") from None
        return net
    net = architecture_network(ckpt)
    ckpt.restore(net)
    return net
