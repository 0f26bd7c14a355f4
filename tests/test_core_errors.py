"""Bad input gets an error that names the layer, the argument, and expected vs actual."""

import numpy as np
import pytest

import layergraph as lg


def test_affine_wrong_feature_size_names_layer_and_shapes():
    net = lg.Sequential([("fc1", lg.Affine(784, 10))])
    with pytest.raises(lg.ShapeError, match=r"Affine 'fc1': argument 'x' must be \(N, 784\).*got shape \(32, 100\)"):
        net.forward(np.zeros((32, 100)))


def test_backward_before_forward():
    for layer in (lg.Affine(2, 2), lg.ReLU(), lg.Sigmoid(), lg.Softmax(), lg.SoftmaxWithLoss(), lg.MeanSquaredError()):
        with pytest.raises(lg.CallOrderError, match="backward\\(\\) called before forward"):
            layer.backward(np.ones((1, 2)))
    assert issubclass(lg.CallOrderError, ValueError)


def test_wrong_dout_shape():
    layer = lg.Affine(3, 2)
    layer.forward(np.ones((4, 3)))
    with pytest.raises(lg.ShapeError, match=r"'dout'.*\(4, 2\), got \(4, 3\)"):
        layer.backward(np.ones((4, 3)))


def test_label_errors():
    sl = lg.Sequential(lg.Affine(3, 4), loss=lg.SoftmaxWithLoss())
    x = np.ones((5, 3))
    with pytest.raises(lg.ShapeError, match=r"SoftmaxWithLoss 'loss': argument 't' has 4 labels, expected N = 5"):
        sl.loss(x, np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match=r"label 7 out of range \[0, 4\)"):
        sl.loss(x, np.array([0, 1, 2, 3, 7]))
    with pytest.raises(ValueError, match=r"label -1 out of range"):
        sl.loss(x, np.array([0, 1, 2, 3, -1]))
    with pytest.raises(lg.ShapeError, match=r"\(N, C\) = \(5, 4\), got shape \(5, 3\)"):
        sl.loss(x, np.ones((5, 3)))
    with pytest.raises(ValueError, match="whole numbers"):
        sl.loss(x, np.array([0.5, 1, 2, 3, 0]))
    with pytest.raises(TypeError, match="integer labels"):
        sl.loss(x, np.array(["a"] * 5))
    with pytest.raises(lg.ShapeError, match=r"\(N, C\) logits"):
        lg.SoftmaxWithLoss().forward(np.ones(3), np.zeros(3, dtype=int))


def test_sigmoid_loss_target_errors():
    with pytest.raises(lg.ShapeError, match="argument 't' must have the shape"):
        lg.SigmoidWithLoss().forward(np.ones((3, 2)), np.ones(3))
    with pytest.raises(ValueError, match=r"targets in \[0, 1\]"):
        lg.SigmoidWithLoss().forward(np.ones(3), np.array([0, 1, 2]))


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(in_features=0, out_features=3), ValueError, "'in_features' must be a positive int, got 0"),
    (dict(in_features=2.5, out_features=3), TypeError, "'in_features' must be a positive int, got float"),
    (dict(in_features=2, out_features=3, init="glorot"), ValueError, "'init' must be 'he', 'xavier'"),
    (dict(in_features=2, out_features=3, init=-1.0), ValueError, "positive and finite"),
    (dict(in_features=2, out_features=3, dtype=np.int32), TypeError, "floating dtype"),
    (dict(in_features=2, out_features=3, rng="seed"), TypeError, "'rng' must be an int seed"),
])
def test_affine_constructor_validation(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        lg.Affine(**kwargs)


def test_leaky_relu_validation():
    with pytest.raises(ValueError, match="finite"):
        lg.LeakyReLU(float("nan"))
    with pytest.raises(TypeError, match="real number"):
        lg.LeakyReLU("0.1")


def test_gradient_without_loss_layer():
    with pytest.raises(ValueError, match="no loss layer"):
        lg.Sequential(lg.ReLU()).gradient(np.ones((1, 2)), np.zeros(1, dtype=int))


def test_accuracy_length_mismatch():
    net = lg.Sequential(lg.Affine(2, 3), loss=lg.SoftmaxWithLoss())
    with pytest.raises(lg.ShapeError, match="'x' has 4 samples but 't' has 3"):
        net.accuracy(np.ones((4, 2)), np.zeros(3, dtype=int))
