"""Trainer(clip_norm=...): global gradient-norm clipping before each update, checked against a hand-written loop."""

import numpy as np
import pytest
from scipy.special import log_softmax

import layergraph as lg
from layergraph.train import Trainer
from train_support import SGD, make_data


def _softmax_regression():
    return lg.Sequential([("fc", lg.Affine(4, 3, rng=0, dtype=np.float64))], loss=lg.SoftmaxWithLoss())


@pytest.mark.parametrize("clip", [0.05, 1e6])
def test_clip_norm_matches_per_step_reference(clip):
    x, t = make_data(12)
    x = x.astype(np.float64) * 5.0  # large inputs: large gradients, so a small clip is active
    net = _softmax_regression()
    W, b = net.params["fc.W"].copy(), net.params["fc.b"].copy()
    lr = 0.5
    Trainer(net, SGD(lr), batch_size=4, shuffle=False, verbose=0, metrics=(), clip_norm=clip).fit(x, t, epochs=2)
    clipped_any = False
    for _ in range(2):
        for i in range(0, 12, 4):
            xb, tb = x[i:i + 4], t[i:i + 4]
            d = np.exp(log_softmax(xb @ W + b, axis=1))
            d[np.arange(len(tb)), tb] -= 1
            d /= len(tb)
            gW, gb = xb.T @ d, d.sum(axis=0)
            norm = np.sqrt(np.sum(gW ** 2) + np.sum(gb ** 2))
            if norm > clip:
                gW, gb, clipped_any = gW * (clip / norm), gb * (clip / norm), True
            W, b = W - lr * gW, b - lr * gb
    np.testing.assert_allclose(net.params["fc.W"], W, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(net.params["fc.b"], b, rtol=1e-12, atol=1e-14)
    assert clipped_any == (clip < 1)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), "1"])
def test_clip_norm_rejects_bad_values(bad):
    with pytest.raises((ValueError, TypeError), match="clip_norm"):
        Trainer(_softmax_regression(), SGD(0.1), clip_norm=bad)
