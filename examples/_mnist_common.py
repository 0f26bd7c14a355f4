"""Shared pieces of the MNIST examples: the 8,000 / 2,000 split of the MNIST test set, and training with Adam."""

import os
import time

import layergraph as lg

DEFAULT_DATA_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mnist")


def load_split(data_dir, n_train=8000):
    """The MNIST test set (10,000 images): the first *n_train* to train, the rest to validate; images float32
    ``(N, 1, 28, 28)`` in [0, 1], labels int ``(N,)``."""
    return lg.data.load_mnist_test_split(data_dir, n_train, flatten=False)


def train(net, train_set, val_set, epochs, batch_size=100, lr=1e-3, seed=0):
    """Mini-batch training with Adam and the Trainer; returns the last validation accuracy."""
    trainer = lg.Trainer(net, lg.optim.Adam(lr=lr), batch_size=batch_size, seed=seed, eval_batch_size=500)
    start = time.perf_counter()
    history = trainer.fit(*train_set, epochs=epochs, validation_data=val_set)
    print(f"{epochs} epochs in {time.perf_counter() - start:.1f} s")
    return history["val_accuracy"][-1]
