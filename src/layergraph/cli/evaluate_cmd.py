"""``layergraph evaluate CHECKPOINT``: loss, accuracy and confusion matrix of a saved network on a dataset."""

import numpy as np

from .datasets import DATASETS, load_dataset
from .options import positive_int
from .outputs import confusion_matrix, format_confusion


def register(sub):
    p = sub.add_parser(
        "evaluate", help="evaluate a saved network on a dataset",
        description="Rebuild the network saved in a checkpoint, run it in inference mode on a dataset and print "
                    "the loss, the accuracy and the confusion matrix (rows: true class, columns: predicted class, "
                    "with each class's recall).")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="a .npz checkpoint (e.g. runs/<run>/checkpoint.npz)")
    p.add_argument("--data", choices=DATASETS, default=None,
                   help="dataset (default: the one the checkpoint was trained on by `layergraph train`)")
    p.add_argument("--data-dir", default=None, metavar="DIR",
                   help="directory of the MNIST files (default: the training run's, then $LAYERGRAPH_DATA, then "
                        "~/.cache/layergraph)")
    p.add_argument("--split", choices=["test", "train"], default="test",
                   help="evaluate on the held-out part (default; the validation images for the MNIST test-set "
                        "split) or on the training part")
    p.add_argument("--batch-size", type=positive_int, default=1000, help="rows per forward pass (default 1000)")
    p.set_defaults(run=run)


def run(args):
    from ..train import evaluate, load_checkpoint

    ckpt = load_checkpoint(args.checkpoint)
    saved = ckpt.meta.get("cli") if isinstance(ckpt.meta.get("cli"), dict) else {}
    name = args.data or saved.get("data")
    if name is None:
        raise ValueError(f"{args.checkpoint} does not say which data it was trained on; pass --data")
    data_dir = args.data_dir if args.data_dir is not None else (saved.get("data_dir") if name == saved.get("data")
                                                                else None)
    net = ckpt.build_network()
    data = load_dataset(name, data_dir)
    if args.split == "train":
        x, t, label = data.x_train, data.t_train, "train"
    else:
        x, t, label = data.x_test, data.t_test, data.held_out
    try:
        result = evaluate(net, x, t, batch_size=args.batch_size)
    except ValueError as err:
        raise ValueError(f"the network in {args.checkpoint} does not fit {name} ({x.shape[1]} features, "
                         f"{data.n_classes} classes): {err}") from None
    pred = np.concatenate([net.loss_layer.predicted_labels(net.forward(x[i:i + args.batch_size], train=False))
                           for i in range(0, len(x), args.batch_size)])
    n_out = int(net.forward(x[:1], train=False).shape[1])
    cm = confusion_matrix(t, pred, max(data.n_classes, n_out))
    epoch = ckpt.meta.get("trainer", {}).get("epoch") if isinstance(ckpt.meta.get("trainer"), dict) else None
    trained = f" after {epoch} epoch(s)" if epoch is not None else ""
    print(f"checkpoint: {args.checkpoint}{trained}")
    print(f"data: {data.description}")
    print(f"{label} set: {len(x):,} samples")
    print(f"loss: {result['loss']:.4f}")
    print(f"accuracy: {result['accuracy']:.2%} ({int(np.trace(cm)):,} of {len(x):,} correct)")
    print("confusion matrix (rows: true class, columns: predicted class):")
    print(format_confusion(cm))
    return 0
