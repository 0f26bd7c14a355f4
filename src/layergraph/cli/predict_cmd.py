"""``layergraph predict CHECKPOINT INPUT``: labels (and probabilities) of a saved classifier for new samples."""

import csv
import io
import os

import numpy as np

from .._atomic import atomic_write
from .options import add_model_option, positive_int, refuse_overwriting_inputs


def register(sub):
    p = sub.add_parser(
        "predict", help="predict the classes of new samples with a saved network",
        description="Rebuild the network saved in a checkpoint and print, as CSV with a header row, the predicted "
                    "label of every sample of INPUT (and with --proba the probability of every class). The class "
                    "names stored in the checkpoint (or given with --classes) label the output.")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="a .npz checkpoint (e.g. runs/<run>/checkpoint.npz)")
    p.add_argument("input", metavar="INPUT",
                   help="samples: a .npy array (N, ...), a .npz archive (key x, or the --key array, or its only "
                        "array) or a .csv file (one sample per row, optional header; a training run's target "
                        "column is dropped and its feature columns are picked by name)")
    p.add_argument("--proba", action="store_true", help="also write the probability of each class")
    p.add_argument("--classes", default=None, metavar="FILE",
                   help="text file with one class name per line (default: the names in the checkpoint, else the "
                        "class numbers)")
    p.add_argument("--out", default=None, metavar="FILE", help="write the CSV to FILE (atomically) instead of "
                                                               "printing it; never one of the files read")
    p.add_argument("--key", default=None, help="for .npz input: the array to read (default x)")
    add_model_option(p)
    p.add_argument("--batch-size", type=positive_int, default=1000, help="rows per forward pass (default 1000)")
    p.set_defaults(run=run)


def run(args):
    from ..network.predict import predict_labels, predict_proba
    from ..train import load_checkpoint
    from .build import rebuild_network, run_options, trained_columns

    if args.out:
        refuse_overwriting_inputs("--out", args.out, [("CHECKPOINT", args.checkpoint), ("INPUT", args.input),
                                                      ("--classes file", args.classes)])
    if args.key is not None and not args.input.lower().endswith(".npz"):
        raise ValueError(f"--key applies to .npz input only, not {args.input}")
    ckpt = load_checkpoint(args.checkpoint)
    net = rebuild_network(ckpt, args.model)
    trained_on, columns = run_options(ckpt.meta).get("data"), trained_columns(ckpt.meta)
    shape = ckpt.meta.get("input_shape")
    x = read_samples(args.input, args.key, columns.features, columns.target,
                     int(np.prod(shape)) if shape and str(trained_on).lower().endswith(".csv") else None)
    x = _shape_for(net, x, ckpt.meta.get("input_shape"), args)
    proba = predict_proba(net, x, args.batch_size)
    labels = predict_labels(net, x, args.batch_size)
    names = _class_names(args, ckpt, proba.shape[1])
    text = format_predictions(labels, proba if args.proba else None, names)
    if args.out:
        with atomic_write(args.out, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        print(f"wrote {len(labels):,} predictions to {args.out}")
    else:
        print(text, end="")
    return 0


def read_samples(path, key=None, feature_names=None, target_column=None, n_features=None):
    """Samples from a ``.npy``, ``.npz`` or ``.csv`` file as float32 ``(N, ...)``; errors name the file and key."""
    from ..data.csv_files import column_index, feature_columns, numeric_columns, read_csv_table, table_width
    from ..data.npy_files import read_npy, read_npz
    from .own_data import features

    lower = path.lower()
    if os.path.isdir(path):
        raise ValueError(f"{path}: is a directory, not a .npy, .npz or .csv file")
    if lower.endswith(".npy"):
        x = read_npy(path)
        if x.ndim == 1:
            x = x[None, :]
        return features(path, x, "the array")
    if lower.endswith(".npz"):
        arrays = read_npz(path)
        if key is None:
            key = "x" if "x" in arrays or len(arrays) != 1 else next(iter(arrays))
        if key not in arrays:
            raise ValueError(f"{path}: no key {key!r} (the archive holds {', '.join(map(repr, arrays)) or 'nothing'});"
                             " choose one with --key")
        return features(path, arrays[key], key)
    if lower.endswith(".csv"):
        header, rows = read_csv_table(path)
        width, target = table_width(header, rows), None
        if not (header and feature_names):  # (with both, the features are picked by name)
            if header and target_column is not None and str(target_column) in header:
                target = column_index(path, header, width, target_column)
            elif n_features is not None and width == n_features + 1:  # the training file, labels included
                target = column_index(path, header, width, -1 if target_column is None else target_column)
        cols = feature_columns(path, header, width, feature_names, target)
        if not rows:
            raise ValueError(f"{path}: the file holds no samples")
        return numeric_columns(path, header, rows, cols)
    raise ValueError(f"{path}: expected a .npy, .npz or .csv file")


def _shape_for(net, x, input_shape, args):
    """*x* in the network's dtype and sample shape: only flat rows ``(N, prod(shape))`` are reshaped; samples of
    any other shape must have the training shape (the same number of values in another layout, e.g. channels-last
    images, would be scrambled by a reshape)."""
    dtype = next(iter(net.params.values())).dtype if net.params else np.float32
    x = x.astype(dtype, copy=False)
    if not isinstance(input_shape, (list, tuple)) or not input_shape:
        return x
    shape = tuple(int(d) for d in input_shape)
    size = int(np.prod(shape))
    if x.shape[1:] == shape:
        return x
    if x.ndim == 2 and x.shape[1] == size:
        return x.reshape(len(x), *shape)
    if len(shape) == 1:
        hint = f"; give {size} values per sample, as flat rows (N, {size})"
    else:
        hint = f" or flat rows (N, {size})"
        if len(shape) == 3 and x.shape[1:] == (shape[1], shape[2], shape[0]):
            hint += "; these look channels-last: transpose them with x.transpose(0, 3, 1, 2)"
    raise ValueError(f"{args.input}: samples have shape {x.shape[1:]} but the network takes {shape}{hint}")


def _class_names(args, ckpt, n_columns):
    from .build import known_classes

    n = 2 if n_columns == 1 else n_columns  # a one-output sigmoid head has two classes, 0 and 1
    if args.classes:
        names = _read_class_names(args.classes)
        source = args.classes
    else:
        names, source = known_classes(ckpt.meta, args.checkpoint).names, args.checkpoint
    if names is None:
        return [str(i) for i in range(n)]
    names = [str(c) for c in names]
    if len(names) != n:
        raise ValueError(f"--classes: {source} names {len(names)} classes but the network predicts {n}")
    return names


def _read_class_names(path):
    """The non-empty lines of the ``--classes`` file; errors name the option and the file."""
    if os.path.isdir(path):
        raise ValueError(f"--classes {path}: is a directory, not a text file")
    try:
        with open(path, encoding="utf-8-sig") as f:
            return [line.strip() for line in f if line.strip()]
    except FileNotFoundError:
        raise ValueError(f"--classes {path}: no such file") from None
    except UnicodeDecodeError as err:
        raise ValueError(f"--classes {path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    except OSError as err:
        raise ValueError(f"--classes {path}: cannot read it ({err.strerror or err})") from None


def format_predictions(labels, proba, names):
    """CSV text: a header row, then ``index,label[,proba_<name>...]`` per sample.

    Parameters
    ----------
    labels : ndarray of int, shape (N,) or (N, C) for multi-label heads
    proba : ndarray, shape (N, C), or None
    names : list of str
        Class names; multi-label rows list the names of their positive labels joined by ``;``.
    """
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    head = ["index", "label"]
    if proba is not None:
        cols = [names[1]] if proba.shape[1] == 1 and len(names) == 2 else names
        head += [f"proba_{c}" for c in cols]
    w.writerow(head)
    for i, lab in enumerate(labels):
        label = ";".join(names[j] for j in np.flatnonzero(lab)) if np.ndim(lab) else names[int(lab)]
        row = [i, label]
        if proba is not None:
            row += [f"{p:.6g}" for p in proba[i]]
        w.writerow(row)
    return buf.getvalue()


__all__ = ["register", "run", "read_samples", "format_predictions"]
