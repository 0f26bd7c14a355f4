"""Shared layers: one layer object at several nodes shares its arrays; its gradient is the sum over the uses."""

import numpy as np
import pytest
from graph_helpers import check_graph_gradients

import layergraph as lg

F64 = np.float64


def siamese(encoder):
    g = lg.Graph(inputs=("l", "r"))
    g.add("el", encoder, "l").add("er", encoder, "r").add("m", lg.Multiply(), ["el", "er"])
    return g


def test_shared_arrays_listed_once_under_the_first_node():
    enc = lg.Sequential([("fc", lg.Affine(3, 4, rng=0, dtype=F64)), ("act", lg.Tanh())])
    g = siamese(enc)
    assert list(g.params) == ["el.fc.W", "el.fc.b"]
    assert g.params["el.fc.W"] is enc["fc"].params["W"]
    assert list(g.state_dict()) == ["el.fc.W", "el.fc.b"]
    assert g["er"] is g["el"] and enc.name == "el"
    assert g.shared_nodes() == {"el": ["er"]}


@pytest.mark.parametrize("make", [
    lambda: lg.Affine(3, 3, rng=0, dtype=F64),
    lambda: lg.Sequential([("fc", lg.Affine(3, 3, rng=0, dtype=F64)), ("act", lg.Tanh()),
                           ("fc2", lg.Affine(3, 3, rng=1, dtype=F64))]),
    lambda: lg.Residual(lg.Sequential(lg.Affine(3, 3, rng=2, dtype=F64), lg.Sigmoid())),
])
def test_shared_gradients_against_finite_differences(make):
    rng = np.random.default_rng(0)
    g = siamese(make())
    g.add("again", g["el"], "m")            # a third use, chained after the other two
    g.set_outputs("again", "el")
    x = {"l": rng.standard_normal((4, 3)), "r": rng.standard_normal((4, 3))}
    w = {"again": rng.standard_normal((4, 3)), "el": rng.standard_normal((4, 3))}
    check_graph_gradients(g, x, w)


def test_gradient_is_the_sum_of_the_per_use_gradients():
    rng = np.random.default_rng(1)
    fc = lg.Affine(3, 2, rng=0, dtype=F64)
    g = siamese(fc)
    xl, xr = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    g.forward({"l": xl, "r": xr})
    dout = rng.standard_normal((5, 2))
    g.backward(dout)
    W, b = fc.params["W"], fc.params["b"]
    yl, yr = xl @ W + b, xr @ W + b
    dyl, dyr = dout * yr, dout * yl
    np.testing.assert_allclose(g.grads["el.W"], xl.T @ dyl + xr.T @ dyr, rtol=1e-12)
    np.testing.assert_allclose(g.grads["el.b"], dyl.sum(0) + dyr.sum(0), rtol=1e-12)


def test_optimizer_updates_a_shared_array_once_and_flatten_keeps_sharing():
    rng = np.random.default_rng(2)
    fc = lg.Affine(3, 2, rng=0, dtype=F64)
    g = siamese(fc).set_loss(lg.MeanSquaredError())
    x = {"l": rng.standard_normal((4, 3)), "r": rng.standard_normal((4, 3))}
    t = rng.standard_normal((4, 2))
    before = fc.params["W"].copy()
    _, grads = g.loss_and_gradient(x, t)
    step = grads["el.W"].copy()
    lg.optim.SGD(lr=0.1).update(g.params, g.grads)
    np.testing.assert_allclose(fc.params["W"], before - 0.1 * step, rtol=1e-12)
    ref = g.gradient(x, t)["el.W"].copy()
    g.flatten_parameters()
    np.testing.assert_allclose(g.gradient(x, t)["el.W"], ref, rtol=1e-12)
    fc.params["W"] += 1.0                      # the clone sees the owner's arrays after packing too
    y = g.forward(x)
    W, b = fc.params["W"], fc.params["b"]
    np.testing.assert_allclose(y, (x["l"] @ W + b) * (x["r"] @ W + b), rtol=1e-12)


def test_astype_rebuilds_the_clones():
    g = siamese(lg.Affine(3, 2, rng=0, dtype=F64))
    x = {"l": np.ones((2, 3)), "r": np.ones((2, 3))}
    g.forward(x)
    g.astype(np.float32)
    y = g.forward({k: v.astype(np.float32) for k, v in x.items()})
    assert y.dtype == np.float32
    g.backward(np.ones((2, 2), np.float32))
    assert g.grads["el.W"].dtype == np.float32


def test_shared_batchnorm_updates_its_running_statistics_at_each_use():
    bn = lg.BatchNorm(2, momentum=0.5, dtype=F64)
    g = siamese(bn)
    rng = np.random.default_rng(3)
    xl, xr = rng.standard_normal((6, 2)), rng.standard_normal((6, 2)) + 3.0
    g.forward({"l": xl, "r": xr})
    want = 0.5 * (0.5 * 0.0 + 0.5 * xl.mean(0)) + 0.5 * xr.mean(0)
    np.testing.assert_allclose(bn.buffers["running_mean"], want, rtol=1e-12)
    assert list(g.buffers) == ["el.running_mean", "el.running_var"]


def test_shared_layer_matches_torch_applying_one_module_twice():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    g2 = lg.Graph(inputs=("a", "b"))       # conv3 is used three times, twice in a chain
    conv3 = lg.Conv2D(3, 3, 3, pad=1, rng=2, dtype=F64)
    g2.add("c1", conv3, "a").add("r", lg.ReLU()).add("c2", conv3, "r").add("s", lg.Add(), ["c2", "b"])
    g2.add("c3", conv3, "s").add("gap", lg.GlobalAvgPool()).add("fc", lg.Affine(3, 4, rng=1, dtype=F64))
    g2.set_loss(lg.SoftmaxWithLoss())
    xa, xb = rng.standard_normal((3, 3, 5, 5)), rng.standard_normal((3, 3, 5, 5))
    t = np.array([0, 3, 1])
    x = {"a": xa, "b": xb}
    loss, grads = g2.loss_and_gradient(x, t)

    tconv = torch.nn.Conv2d(3, 3, 3, padding=1).double()
    tfc = torch.nn.Linear(3, 4).double()
    with torch.no_grad():
        tconv.weight.copy_(torch.from_numpy(conv3.params["W"]))
        tconv.bias.copy_(torch.from_numpy(conv3.params["b"]))
        tfc.weight.copy_(torch.from_numpy(g2["fc"].params["W"].T.copy()))
        tfc.bias.copy_(torch.from_numpy(g2["fc"].params["b"]))
    ta, tb = torch.from_numpy(xa), torch.from_numpy(xb)
    h = tconv(torch.relu(tconv(ta))) + tb
    out = tfc(tconv(h).mean(dim=(2, 3)))
    tloss = torch.nn.functional.cross_entropy(out, torch.from_numpy(t))
    tloss.backward()
    assert loss == pytest.approx(float(tloss.detach()), rel=1e-12)
    np.testing.assert_allclose(grads["c1.W"], tconv.weight.grad.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(grads["c1.b"], tconv.bias.grad.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(grads["fc.W"], tfc.weight.grad.numpy().T, rtol=1e-10, atol=1e-13)
    assert list(grads) == ["c1.W", "c1.b", "fc.W", "fc.b"]


def test_gradcheck_covers_every_input_and_the_shared_parameters_once():
    enc = lg.Sequential([("fc", lg.Affine(3, 3, rng=0, dtype=F64)), ("act", lg.Tanh())])
    g = siamese(enc).set_loss(lg.MeanSquaredError())
    rng = np.random.default_rng(5)
    x = {"l": rng.standard_normal((2, 3)), "r": rng.standard_normal((2, 3))}
    report = lg.gradcheck(g, x, rng.standard_normal((2, 3)))
    assert report.ok, str(report)
    assert list(report.tensors) == ["l", "r", "el.fc.W", "el.fc.b"]
    broken = siamese(lg.Affine(3, 3, rng=0, dtype=F64))
    broken._sum_shared_grads = lambda: None          # drop the second use's gradient: the check must fail
    assert not lg.gradcheck(broken, x).ok
