"""layergraph: neural networks built from layer objects on NumPy.

``import layergraph as lg`` gives the layers, the :class:`Sequential` container and :func:`gradcheck`.
"""

from . import data, errors, layers, optim, testing, train
from .data import load_digits, load_mnist, load_mnist_test_split
from .errors import CallOrderError, NonFiniteError, ShapeError, StateDictError
from .gradcheck import GradCheckError, GradCheckReport, GradCheckReports, gradcheck
from .layers import (Affine, Layer, LeakyReLU, Loss, MeanSquaredError, ReLU, Sigmoid, SigmoidWithLoss, Softmax,
                     SoftmaxWithLoss, Tanh)
from .network import Sequential
from .train import CheckpointError, DivergenceError, Trainer, load_checkpoint, save_checkpoint

__version__ = "0.1.0"

__all__ = ["Layer", "Loss", "Affine", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "SoftmaxWithLoss",
           "SigmoidWithLoss", "MeanSquaredError", "Sequential", "gradcheck", "GradCheckReport", "GradCheckReports", "GradCheckError", "testing",
           "ShapeError", "NonFiniteError", "CallOrderError", "StateDictError", "errors", "layers", "optim", "train", "Trainer", "save_checkpoint", "load_checkpoint", "CheckpointError",
           "DivergenceError", "data", "load_digits", "load_mnist", "load_mnist_test_split"]
