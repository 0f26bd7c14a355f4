"""Checkpoints of networks with convolution, normalisation, dropout and residual blocks rebuild exactly."""

from collections import OrderedDict

import numpy as np

import layergraph as lg
from layergraph.layers import BatchNorm, Conv2D, Dropout, GlobalAvgPool, MaxPool2D, Residual


def small_resnet():
    body = lg.Sequential(OrderedDict(conv1=Conv2D(4, 8, 3, stride=2, pad=1, rng=1), bn1=BatchNorm(8),
                                     relu=lg.ReLU(), conv2=Conv2D(8, 8, (3, 1), pad=(1, 0), rng=2), bn2=BatchNorm(8)))
    projection = lg.Sequential(OrderedDict(conv=Conv2D(4, 8, 1, stride=2, rng=3), bn=BatchNorm(8)))
    return lg.Sequential(OrderedDict(
        stem=Conv2D(1, 4, 3, pad=1, rng=0), relu=lg.ReLU(), pool=MaxPool2D(2, stride=1), res=Residual(body, projection),
        gap=GlobalAvgPool(), drop=Dropout(0.25, rng=4), fc=lg.Affine(8, 3, rng=5)), loss=lg.SoftmaxWithLoss())


def test_composite_network_rebuilds_from_checkpoint(tmp_path):
    net = small_resnet()
    x = np.random.default_rng(0).random((5, 1, 9, 9), dtype=np.float32)
    t = np.array([0, 1, 2, 0, 1])
    lg.Trainer(net, lg.optim.Adam(), batch_size=5, seed=0, verbose=0).fit(x, t, epochs=2)  # moves BN buffers
    path = tmp_path / "ck.npz"
    lg.save_checkpoint(path, net)
    rebuilt = lg.load_checkpoint(path).build_network()
    assert list(rebuilt.params) == list(net.params) and list(rebuilt.buffers) == list(net.buffers)
    assert rebuilt["res.block.conv2"].params["W"].shape == (8, 8, 3, 1)
    rebuilt.load_state_dict(net.state_dict())
    np.testing.assert_array_equal(rebuilt.predict(x), net.predict(x))
    assert rebuilt["drop"].p == 0.25 and rebuilt["res.block.bn1"].momentum == net["res.block.bn1"].momentum
