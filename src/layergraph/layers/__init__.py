"""Layers: the protocol (:class:`Layer`, :class:`Loss`) and the built-in layers."""

from .activations import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .activations_extra import ELU, GELU, SiLU, Softplus, Swish
from .affine import Affine
from .base import Layer, Loss
from .composite import Composite
from .conv import Conv2D
from .dropout import Dropout
from .merge import Add, Average, Concat, Merge, Multiply
from .embedding import Embedding
from .losses import MeanSquaredError, SigmoidWithLoss, SoftmaxWithLoss
from .normalization import BatchNorm, LayerNorm
from .pooling import AvgPool2D, Flatten, GlobalAvgPool, MaxPool2D
from .recurrent_gru import GRU
from .recurrent_lstm import LSTM
from .recurrent_rnn import RNN
from .residual import Residual
from .time_distributed import TimeDistributed

__all__ = ["Layer", "Loss", "Composite", "Affine", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "SoftmaxWithLoss",
           "SigmoidWithLoss", "MeanSquaredError", "ELU", "GELU", "SiLU", "Swish", "Softplus", "Dropout",
           "BatchNorm", "LayerNorm", "Conv2D", "MaxPool2D", "AvgPool2D", "GlobalAvgPool", "Flatten", "Residual",
           "Merge", "Add", "Multiply", "Average", "Concat",
           "Embedding", "RNN", "LSTM", "GRU", "TimeDistributed"]
