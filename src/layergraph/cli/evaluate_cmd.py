"""``layergraph evaluate CHECKPOINT``: loss, accuracy and confusion matrix of a saved network on a dataset."""

import os

import numpy as np

from ..train.metrics import classification_report, confusion_matrix
from .datasets import DATASETS, is_file_spec, load_dataset
from .options import add_data_options, add_model_option, check_data_options, positive_int
from .outputs import format_confusion


def register(sub):
    p = sub.add_parser(
        "evaluate", help="evaluate a saved network on a dataset",
        description="Rebuild the network saved in a checkpoint, run it in inference mode on a dataset and print "
                    "the loss, the accuracy and the confusion matrix (rows: true class, columns: predicted class, "
                    "with each class's recall), and the per-class precision, recall and F1 table; class names "
                    "stored in the checkpoint label the table, and the labels of a .npz / .csv file are mapped "
                    "through them.")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="a .npz checkpoint (e.g. runs/<run>/checkpoint.npz)")
    add_data_options(p, f"dataset: {', '.join(DATASETS)} or a .npz / .csv file as for train (default: the one the "
                        "checkpoint was trained on by `layergraph train`); the feature columns of a .csv file with a "
                        "header are picked by the names the network was trained on",
                     target_default="the training run's, when the file has it, else the last column",
                     dir_default="the training run's, then $LAYERGRAPH_DATA, then ~/.cache/layergraph")
    rows = p.add_mutually_exclusive_group()
    rows.add_argument("--split", choices=["test", "train"], default="test",
                      help="evaluate on the held-out part (default: the file's test set, or the 20%% of its rows "
                           "that train holds out; the validation images for the MNIST test-set split) or on the "
                           "training part")
    rows.add_argument("--all", action="store_true",
                      help="evaluate on every sample: every row of a .npz / .csv file (with its test set, if it has "
                           "one), or both parts of a built-in dataset")
    p.add_argument("--batch-size", type=positive_int, default=1000, help="rows per forward pass (default 1000)")
    add_model_option(p)
    p.set_defaults(run=run)


def run(args):
    from ..train import evaluate, load_checkpoint
    from .build import known_classes, rebuild_network, run_options, trained_columns

    ckpt = load_checkpoint(args.checkpoint)
    saved = run_options(ckpt.meta)
    name = args.data or saved.get("data")
    if name is None:
        raise ValueError(f"{args.checkpoint} does not say which data it was trained on; pass --data")
    check_data_options(name, args.data_dir, args.target_column)
    same = args.data is None or (is_file_spec(name) and os.path.abspath(name) == saved.get("data")) \
        or name == saved.get("data")
    data_dir = args.data_dir if args.data_dir is not None else (saved.get("data_dir") if same else None)
    net = rebuild_network(ckpt, args.model)
    _check_single_classifier(net, args.checkpoint)
    known = known_classes(ckpt.meta, args.checkpoint)
    names = known.names
    data = load_dataset(name, data_dir, args.target_column, known=known, split=not args.all,
                        trained=trained_columns(ckpt.meta))
    x, t, scored = _rows(args, data, name)
    shape = ckpt.meta.get("input_shape")
    if shape and int(np.prod(shape)) == data.n_features:
        x = x.reshape(len(x), *[int(d) for d in shape])
    def misfit(err):
        return ValueError(f"the network in {args.checkpoint} does not fit {name} ({data.n_features} features, "
                          f"{data.n_classes} classes): {err}")

    try:
        n_out = int(net.forward(x[:1], train=False).shape[1])
    except ValueError as err:
        raise misfit(err) from None
    _check_labels(t, 2 if n_out == 1 else n_out, name, args.checkpoint)
    try:
        result = evaluate(net, x, t, batch_size=args.batch_size)
    except ValueError as err:
        raise misfit(err) from None
    pred = np.concatenate([net.loss_layer.predicted_labels(net.forward(x[i:i + args.batch_size], train=False))
                           for i in range(0, len(x), args.batch_size)]).reshape(len(x))
    k = max(data.n_classes, n_out, 2)
    cm = confusion_matrix(t, pred, k)
    names = names or data.class_names
    names = [str(c) for c in names] if names and len(names) == k else None
    epoch = ckpt.meta.get("trainer", {}).get("epoch") if isinstance(ckpt.meta.get("trainer"), dict) else None
    trained = f" after {epoch} epoch(s)" if epoch is not None else ""
    print(f"checkpoint: {args.checkpoint}{trained}")
    print(f"data: {data.description}")
    print(scored)
    print(f"loss: {result['loss']:.4f}")
    print(f"accuracy: {result['accuracy']:.2%} ({int(np.trace(cm)):,} of {len(x):,} correct)")
    print("confusion matrix (rows: true class, columns: predicted class):")
    print(format_confusion(cm))
    if names:
        print("classes: " + ", ".join(f"{i} = {n}" for i, n in enumerate(names)))
    print()
    print(classification_report(t, pred, class_names=names, num_classes=k))
    return 0


def _rows(args, data, name):
    """The samples and labels to score and the line saying which they are."""
    file = os.path.basename(str(name))
    if args.all:
        x, t = np.concatenate([data.x_train, data.x_test]), np.concatenate([data.t_train, data.t_test])
        if is_file_spec(name) and not len(data.x_test):
            return x, t, f"scored: all {len(x):,} rows of {file}"
        return x, t, (f"scored: all {len(x):,} samples ({len(data.x_train):,} train + {len(data.x_test):,} "
                             f"{data.held_out})")
    if args.split == "train":
        x, t, label = data.x_train, data.t_train, "train"
    else:
        x, t, label = data.x_test, data.t_test, data.held_out
    scored = f"{label} set: {len(x):,} samples"
    if data.held_out_rows:
        part = f"the rows outside {data.held_out_rows}" if label == "train" else \
            f"{data.held_out_rows}, as train holds them out"
        scored += f" ({part}; --all scores every row)"
    return x, t, scored


def _check_labels(t, n_classes, name, path):
    """Every label must be a class of the network (one-line error naming the first that is not)."""
    if len(t) and int(t.max()) >= n_classes:
        raise ValueError(f"{name}: the label {int(t.max())} is not a class of the network in {path}, which has "
                         f"{n_classes} classes (0..{n_classes - 1})")


def _check_single_classifier(net, path):
    """One-line error for networks this command cannot score: several inputs or outputs, or no loss layer."""
    inputs, outputs = tuple(getattr(net, "inputs", ("x",))), tuple(getattr(net, "outputs", ("y",)))
    if len(inputs) > 1 or len(outputs) > 1:
        raise ValueError(f"the network in {path} has {len(inputs)} input(s) {list(inputs)} and {len(outputs)} "
                         f"output(s) {list(outputs)}; `layergraph evaluate` scores networks with one input and one "
                         "output: use Trainer.evaluate with dicts of arrays in Python")
    if getattr(net, "loss_layer", None) is None:
        raise ValueError(f"the network in {path} has no loss layer, so it cannot be scored; set one before saving")
