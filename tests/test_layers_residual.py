"""Residual: identity and projection skips, dotted names, qualified names, astype, input-gradient skipping."""

from collections import OrderedDict

import numpy as np
import pytest

import layergraph as lg
from layergraph.errors import ShapeError
from layergraph.layers import BatchNorm, Conv2D, Residual


def block(seed=0, dtype=np.float64):
    return lg.Sequential(OrderedDict(fc1=lg.Affine(4, 3, dtype=dtype, rng=seed), act=lg.Tanh(),
                                     fc2=lg.Affine(3, 4, dtype=dtype, rng=seed + 1)))


def test_identity_forward_backward():
    rng = np.random.default_rng(0)
    x, dout = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    res, ref = Residual(block()), block()
    np.testing.assert_allclose(res.forward(x), x + ref.forward(x), rtol=1e-12)
    np.testing.assert_allclose(res.backward(dout), dout + ref.backward(dout), rtol=1e-12)
    np.testing.assert_allclose(res.grads["block.fc1.W"], ref.grads["fc1.W"], rtol=1e-12)


def test_projection_forward_backward_and_gradcheck():
    rng = np.random.default_rng(1)
    body = lg.Sequential(OrderedDict(conv1=Conv2D(2, 3, 3, stride=2, pad=1, dtype=np.float64, rng=0),
                                     bn=BatchNorm(3, dtype=np.float64), act=lg.ReLU(),
                                     conv2=Conv2D(3, 3, 3, pad=1, dtype=np.float64, rng=1)))
    proj = Conv2D(2, 3, 1, stride=2, dtype=np.float64, rng=2)
    res = Residual(body, proj)
    x = rng.standard_normal((2, 2, 5, 5))
    y = res.forward(x, train=False)
    np.testing.assert_allclose(y, body.forward(x, train=False) + proj.forward(x), rtol=1e-12)
    assert set(res.params) == {"block.conv1.W", "block.conv1.b", "block.bn.gamma", "block.bn.beta",
                               "block.conv2.W", "block.conv2.b", "projection.W", "projection.b"}
    assert set(res.buffers) == {"block.bn.running_mean", "block.bn.running_var"}
    for train in (True, False):
        report = lg.gradcheck(res, x, train=train)
        assert report.ok, str(report)


def test_names_inside_sequential():
    res = Residual(block(), lg.Affine(4, 4, rng=5))
    net = lg.Sequential(OrderedDict(res=res, head=lg.Affine(4, 2, rng=6)), loss=lg.SoftmaxWithLoss())
    assert "res.block.fc1.W" in net.params and "res.projection.W" in net.params
    assert net.params["res.block.fc1.W"] is res.block["fc1"].params["W"]    # the layer's own array
    assert res.name == "res" and res.block.name == "res.block" and res["block.fc1"].name == "res.block.fc1"
    assert res.projection.name == "res.projection"
    outer = lg.Sequential(OrderedDict(stage1=net))
    assert res["block.fc1"].name == "stage1.res.block.fc1"
    assert "stage1.res.block.fc2.b" in outer.params
    with pytest.raises(ShapeError, match="stage1.res.block.fc1"):
        outer.forward(np.zeros((2, 5)))


def test_state_dict_and_astype():
    body = lg.Sequential(OrderedDict(bn=BatchNorm(4), fc=lg.Affine(4, 4, rng=0)))
    net = lg.Sequential(OrderedDict(res=Residual(body)))
    net.forward(np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32))
    state = net.state_dict()
    assert {"res.block.bn.running_mean", "res.block.bn.running_var", "res.block.fc.W"} <= set(state)
    net.astype(np.float64)
    assert all(v.dtype == np.float64 for v in {**net.params, **net.buffers}.values())


def test_first_layer_skips_input_gradient():
    seen = []
    body = block()
    first = body["fc1"]
    original = first.backward
    first.backward = lambda d: seen.append(first.requires_input_grad) or original(d)
    net = lg.Sequential(OrderedDict(res=Residual(body), head=lg.Affine(4, 2, dtype=np.float64, rng=3)),
                        loss=lg.SoftmaxWithLoss())
    net.gradient(np.ones((3, 4)), np.array([0, 1, 0]))
    assert seen == [False] and first.requires_input_grad
    net.forward(np.ones((3, 4)))
    assert net.backward(np.ones((3, 2))).shape == (3, 4) and seen[-1] is True


def test_errors():
    with pytest.raises(TypeError, match="block"):
        Residual("not a layer")
    with pytest.raises(TypeError, match="projection"):
        Residual(block(), projection=3)
    res = Residual(lg.Affine(4, 3, rng=0))
    with pytest.raises(ShapeError, match=r"Residual.*\(2, 3\).*\(2, 4\)"):
        res.forward(np.zeros((2, 4)))
    with pytest.raises(lg.CallOrderError):
        Residual(block()).backward(np.zeros((2, 4)))
    with pytest.raises(KeyError, match="nope"):
        Residual(block())["nope"]
