"""Layers: the protocol (:class:`Layer`, :class:`Loss`) and the built-in layers."""

from .activations import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .affine import Affine
from .base import Layer, Loss
from .losses import MeanSquaredError, SigmoidWithLoss, SoftmaxWithLoss

__all__ = ["Layer", "Loss", "Affine", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "SoftmaxWithLoss",
           "SigmoidWithLoss", "MeanSquaredError"]
