"""layergraph: neural networks built from layer objects on NumPy.

``import layergraph as lg`` gives the layers, the :class:`Sequential` container and :func:`gradcheck`.
"""

from . import _cli_start  # noqa: F401 (first: a Ctrl-C while the command imports prints one line)
from . import bench, data, errors, export, layers, optim, testing, threads, train
from .data import load_digits, load_mnist, load_mnist_test_split
from .errors import CallOrderError, NonFiniteError, ShapeError, StateDictError
from .gradcheck import GradCheckError, GradCheckReport, GradCheckReports, gradcheck
from .layers import (ELU, GELU, Affine, AvgPool2D, BatchNorm, Conv2D, Dropout, Flatten, GlobalAvgPool, Layer,
                     LayerNorm, LeakyReLU, Loss, MaxPool2D, MeanSquaredError, ReLU, Residual, Sigmoid, SigmoidWithLoss,
                     SiLU, Softmax, SoftmaxWithLoss, Softplus, Swish, Tanh)
from .layers import Add, Average, Concat, Merge, Multiply
from .layers import GRU, LSTM, RNN, Embedding, TimeDistributed
from .network import Graph, Sequential
from .threads import get_num_threads, set_num_threads
from .train import CheckpointError, DivergenceError, Trainer, load_checkpoint, save_checkpoint

__version__ = "0.1.0"

__all__ = ["Layer", "Loss", "Affine", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "SoftmaxWithLoss",
           "SigmoidWithLoss", "MeanSquaredError", "Dropout", "BatchNorm", "LayerNorm", "Conv2D", "MaxPool2D", "AvgPool2D",
           "GlobalAvgPool", "Flatten", "Residual", "Embedding", "RNN", "LSTM", "GRU", "TimeDistributed", "ELU", "GELU", "SiLU", "Swish", "Softplus", "Sequential", "gradcheck", "GradCheckReport", "GradCheckReports", "GradCheckError", "testing",
           "ShapeError", "NonFiniteError", "CallOrderError", "StateDictError", "errors", "export", "layers", "optim", "bench", "train", "Trainer", "save_checkpoint", "load_checkpoint", "CheckpointError",
           "DivergenceError", "data", "load_digits", "load_mnist", "load_mnist_test_split",
           "Graph", "Merge", "Add", "Multiply", "Average", "Concat", "threads", "get_num_threads", "set_num_threads"]
