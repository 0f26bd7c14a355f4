"""The datasets ``layergraph train`` / ``evaluate`` can use, by name, as train and held-out arrays."""

from dataclasses import dataclass

import numpy as np

#: ``--data`` choices.
DATASETS = ("digits", "mnist", "spiral", "xor", "circles")

#: The toy sets are generated with this seed (whatever ``--seed`` is) and split 80 / 20 with the same seed.
TOY_SEED = 0
TOY_SIZE = 1000


@dataclass
class Dataset:
    """Arrays of one dataset, as used by the commands.

    Attributes
    ----------
    name : str
    x_train, t_train : ndarray, shapes (N, D) float32 and (N,) int64
    x_test, t_test : ndarray, shapes (M, D) float32 and (M,) int64
        The held-out part (the test set, or the validation images of the MNIST test-set split).
    description : str
        One line saying what was loaded (shown by the commands).
    held_out : str
        What the held-out part is called ("test" or "validation").
    image_shape : tuple, optional
        ``(C, H, W)`` of image data sets, used by the convolutional presets.
    class_names : list of str, optional
        Names of the classes ``0..C-1`` (string labels, renumbered integer labels, or names given by the file).
    feature_names : list of str, optional
        CSV header names of the feature columns, when the file has a header.
    held_out_rows : str, optional
        Which rows of a file were held out when the file has no test set of its own (said by ``evaluate``).
    """

    name: str
    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray
    description: str
    held_out: str = "test"
    image_shape: tuple = None
    class_names: list = None
    feature_names: list = None
    held_out_rows: str = None

    @property
    def n_features(self):
        return int(np.prod(self.x_train.shape[1:]))

    @property
    def sample_shape(self):
        """Shape of one sample as stored, e.g. ``(64,)`` or ``(1, 28, 28)``."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def n_classes(self):
        if self.class_names is not None:
            return len(self.class_names)
        return int(max(self.t_train.max(initial=0), self.t_test.max(initial=0))) + 1


def load_dataset(name, data_dir=None, target_column=None, known=None, split=True, trained=None):
    """Load dataset *name* (see :data:`DATASETS`).

    Parameters
    ----------
    name : str
    data_dir : str, optional
        Only for ``mnist``: the directory holding the IDX files (otherwise ``$LAYERGRAPH_DATA`` and the cache
        directory are searched). With all four files, the standard 60,000 / 10,000 split is used; with only the
        two ``t10k-*`` files, the 8,000 / 2,000 split of the test images.
    target_column : str or int, optional
        Only for ``.csv`` files: the column holding the class labels (name or 0-based index; default the last).
    known : layergraph.data.class_labels.KnownClasses, optional
        Only for ``.npz`` / ``.csv`` files: map their labels to the classes of a trained network (its class names)
        instead of reading the classes from the file.
    split : bool
        Only for ``.npz`` / ``.csv`` files without a test set: hold out 20% of the rows (True) or keep them all in
        the training part (the test part is then empty).
    trained : layergraph.data.csv_files.TrainedColumns, optional
        Only for ``.csv`` files: read the target and feature columns as the training run of a network did (its
        target column when the file has it, its feature columns by header name).

    Returns
    -------
    Dataset

    Raises
    ------
    FileNotFoundError
        MNIST files not found (one-line message saying where the command looked and how to get them).
    ValueError
        A file refused by a check (one-line message naming the file and the key, line or column).
    """
    from .. import data

    if name == "digits":
        (x, t), (xt, tt) = data.load_digits()
        return Dataset(name, x, t, xt, tt,
                       f"UCI 8x8 digits shipped with layergraph: {len(x):,} train / {len(xt):,} test",
                       image_shape=(1, 8, 8))
    if name == "mnist":
        ds = _load_mnist(data_dir)
        ds.image_shape = (1, 28, 28)
        return ds
    if name in ("spiral", "xor", "circles"):
        return _toy(name)
    if is_file_spec(name):
        from .own_data import load_file

        return load_file(name, target_column, known, split, trained)
    raise ValueError(f"--data: expected one of {', '.join(DATASETS)} or a .npz / .csv file, got {name!r}")


def is_file_spec(name):
    """True for ``--data`` values naming a file (``.npz`` or ``.csv``) rather than a built-in data set."""
    return isinstance(name, str) and name.lower().endswith((".npz", ".csv"))


def data_choice(text):
    """``type=`` for ``--data``: a built-in name or a path ending in ``.npz`` / ``.csv``."""
    import argparse

    if text in DATASETS or is_file_spec(text):
        return text
    raise argparse.ArgumentTypeError(f"expected one of {', '.join(DATASETS)} or a .npz / .csv file, got {text!r}")


def _load_mnist(data_dir):
    from .. import data

    try:
        files = data.find_mnist_files(data_dir)
    except FileNotFoundError:
        files = None
    if files is not None:
        (x, t), (xt, tt) = data.load_mnist(data_dir)
        where = files["train-images-idx3-ubyte"].parent
        return Dataset("mnist", x, t, xt, tt, f"MNIST from {where}: {len(x):,} train / {len(xt):,} test")
    try:
        files = data.find_mnist_files(data_dir, splits=("test",))
    except FileNotFoundError:
        dirs = ", ".join(str(d) for d, _ in data.mnist_search_dirs(data_dir))
        raise FileNotFoundError(
            f"MNIST files not found (looked in {dirs}); download them with `layergraph data fetch mnist`, "
            "or pass --data-dir DIR holding t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz"
        ) from None
    (x, t), (xt, tt) = data.load_mnist_test_split(data_dir)
    where = files["t10k-images-idx3-ubyte"].parent
    return Dataset("mnist", x, t, xt, tt,
                   f"MNIST test images only, from {where}: split {len(x):,} train / {len(xt):,} validation "
                   "(the training files are absent; `layergraph data fetch mnist` gets the full set)",
                   held_out="validation")


def _toy(name):
    from .. import data

    if name == "spiral":
        x, t = data.make_spiral(TOY_SIZE // 3 + 1, 3, seed=TOY_SEED)
    elif name == "xor":
        x, t = data.make_xor(TOY_SIZE, seed=TOY_SEED)
    else:
        x, t = data.make_circles(TOY_SIZE, seed=TOY_SEED)
    n_test = len(x) // 5
    order = np.random.default_rng(TOY_SEED).permutation(len(x))
    test, train = np.sort(order[:n_test]), np.sort(order[n_test:])
    return Dataset(name, x[train], t[train], x[test], t[test],
                   f"{name} (2-D toy set, seed {TOY_SEED}): {len(train):,} train / {n_test:,} test")
