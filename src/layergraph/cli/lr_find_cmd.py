"""``layergraph lr-find``: a learning-rate range test (Smith 2017) on a dataset; prints a suggested rate."""


import numpy as np

from .build import ACTIVATIONS, build_mlp, make_optimizer, optimizer_names, parse_arch, resolve_optimizer
from .datasets import DATASETS, is_file_spec, load_dataset
from .options import (add_data_options, arch_spec, check_data_options, nonneg_float, nonneg_int, optimizer_name,
                      positive_float, positive_int, refuse_overwriting_inputs)

DEFAULT_HIDDEN = (128, 64)
PLOT_HINT = 'lr-find plot skipped: matplotlib is not installed (pip install "layergraph[plot]")'


def register(sub):
    p = sub.add_parser(
        "lr-find", help="learning-rate range test: suggest a learning rate",
        description="Train an MLP (as `layergraph train` builds it) for --steps mini-batches while the learning "
                    "rate grows geometrically from --start to --end, print the smoothed loss along the way and a "
                    "suggested rate (where the smoothed loss falls fastest; a tenth of the rate at its minimum "
                    "when the curve is too short), and save a plot of loss against rate.")
    add_data_options(p, f"dataset: one of {', '.join(DATASETS)} (default digits), or your own PATH.npz / PATH.csv "
                        "as for `layergraph train` (its training part is used; samples are flattened)")
    p.add_argument("--arch", type=arch_spec, default=None, metavar="WIDTHS",
                   help="layer widths, e.g. 784-100-100-10 (default: <features>-128-64-<classes>)")
    p.add_argument("--activation", choices=list(ACTIVATIONS), default="relu", help="activation (default relu)")
    p.add_argument("--optimizer", type=optimizer_name, default="Adam", metavar="NAME",
                   help=f"one of {', '.join(optimizer_names())}, any case (default Adam)")
    p.add_argument("--weight-decay", type=nonneg_float, default=0.0, metavar="WD", help="weight decay (default 0)")
    p.add_argument("--batch-size", type=positive_int, default=32, help="mini-batch size (default 32)")
    p.add_argument("--seed", type=nonneg_int, default=0, help="seed of the weights and the batch order (default 0)")
    p.add_argument("--start", type=positive_float, default=1e-7, help="first learning rate (default 1e-7)")
    p.add_argument("--end", type=positive_float, default=10.0, help="last learning rate (default 10)")
    p.add_argument("--steps", type=positive_int, default=100, help="number of updates (default 100)")
    p.add_argument("--plot", default="lr-find.png", metavar="FILE",
                   help="where to save the plot (default lr-find.png; needs matplotlib)")
    p.set_defaults(run=run)


def run(args):
    from ..train import Trainer

    name = args.data or "digits"
    check_data_options(name, args.data_dir, args.target_column)
    refuse_overwriting_inputs("--plot", args.plot, [("--data file", name if is_file_spec(name) else None)])
    data = load_dataset(name, args.data_dir, args.target_column)
    widths = [data.n_features, *DEFAULT_HIDDEN, data.n_classes] if args.arch is None else parse_arch(args.arch)
    if widths[0] != data.n_features or widths[-1] != data.n_classes:
        raise ValueError(f"--arch {args.arch}: {data.name} has {data.n_features} input features and "
                         f"{data.n_classes} classes, so the widths must be {data.n_features}-...-{data.n_classes}")
    name = resolve_optimizer(args.optimizer).__name__
    net = build_mlp(widths, args.activation, seed=args.seed)
    trainer = Trainer(net, make_optimizer(name, args.start, args.weight_decay), batch_size=args.batch_size,
                      seed=args.seed, verbose=0)
    x = data.x_train.reshape(len(data.x_train), -1)
    result = trainer.lr_find(x, data.t_train, start=args.start, end=args.end, steps=args.steps)
    print(f"lr-find: {name} on {data.description}, {'-'.join(map(str, widths))} MLP, batch size "
          f"{args.batch_size}, {len(result.lrs)} of {args.steps} steps from {args.start:g} to {args.end:g}"
          + (" (stopped: the loss diverged)" if result.stopped_early else ""))
    for i in np.unique(np.linspace(0, len(result.lrs) - 1, min(len(result.lrs), 12)).astype(int)):
        print(f"  lr {result.lrs[i]:<10.3g} smoothed loss {result.smoothed[i]:.4f}")
    how = "steepest descent of the smoothed loss" if result.method == "steepest" else \
        "a tenth of the rate at the minimum of the smoothed loss"
    print(f"suggested learning rate: {result.suggestion:.3g} ({how}; minimum at {result.min_lr:.3g})")
    path = plot_lr_find(result, args.plot, title=f"{name}, {data.name}")
    print(f"plot: {path}" if path else PLOT_HINT)
    return 0


def plot_lr_find(result, path, title=""):
    """Save the smoothed (and raw) loss against the learning rate, log scale, with the suggestion marked.

    Returns
    -------
    str or None
        *path*, or None when matplotlib is not installed.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return None
    from .._atomic import atomic_write

    fig = Figure(figsize=(6, 4), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(result.lrs, result.losses, color="0.75", lw=0.8, label="loss")
    ax.plot(result.lrs, result.smoothed, label="smoothed loss")
    ax.axvline(result.suggestion, color="C3", ls="--", label=f"suggested {result.suggestion:.3g}")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss")
    finite = result.smoothed[np.isfinite(result.smoothed)]
    if len(finite):
        ax.set_ylim(top=min(float(finite.max()), 4 * float(finite.min()) + 1e-12) * 1.05)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=100)
    return path
