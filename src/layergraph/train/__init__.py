"""Training: the :class:`Trainer`, callbacks, history, metrics, progress display and checkpoints.

>>> from layergraph.train import Trainer, EarlyStopping, ModelCheckpoint
>>> trainer = Trainer(net, optimizer, batch_size=64, seed=0,
...                   callbacks=[EarlyStopping(patience=3, restore_best_weights=True),
...                              ModelCheckpoint("run/checkpoint.npz")])
>>> history = trainer.fit(x, t, epochs=20, validation_split=0.1)
"""

from .architecture import build_network, describe_network
from .batches import Batcher, epoch_order, num_batches
from .callbacks import Callback, EarlyStopping, LRScheduler, ModelCheckpoint
from .checkpoint import Checkpoint, CheckpointError, LoadReport, load_checkpoint, save_checkpoint
from .history import History
from .metrics import Accuracy, evaluate, resolve_metrics, top_k_accuracy
from .progress import ProgressLogger
from .trainer import DivergenceError, Trainer

__all__ = ["Trainer", "DivergenceError", "Callback", "EarlyStopping", "LRScheduler", "ModelCheckpoint",
           "ProgressLogger", "History", "Accuracy", "top_k_accuracy", "evaluate", "resolve_metrics",
           "Batcher", "epoch_order", "num_batches", "save_checkpoint", "load_checkpoint", "Checkpoint",
           "CheckpointError", "LoadReport", "describe_network", "build_network"]
