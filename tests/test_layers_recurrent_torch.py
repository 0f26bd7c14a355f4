"""Parameter layouts and gate orders checked against torch.nn.RNN / LSTM / GRU (values and gradients)."""

import numpy as np
import pytest

import layergraph as lg

torch = pytest.importorskip("torch")


def _torch_twin(layer):
    d, h = layer.input_size, layer.hidden_size
    if isinstance(layer, lg.LSTM):
        twin = torch.nn.LSTM(d, h, batch_first=True)
    elif isinstance(layer, lg.GRU):
        twin = torch.nn.GRU(d, h, batch_first=True)
    else:
        twin = torch.nn.RNN(d, h, nonlinearity=layer.nonlinearity, batch_first=True)
    twin = twin.double()
    p = layer.params
    with torch.no_grad():
        twin.weight_ih_l0.copy_(torch.from_numpy(p["Wx"].T.copy()))
        twin.weight_hh_l0.copy_(torch.from_numpy(p["Wh"].T.copy()))
        twin.bias_ih_l0.copy_(torch.from_numpy(p["bx" if "bx" in p else "b"].copy()))
        if "bh" in p:
            twin.bias_hh_l0.copy_(torch.from_numpy(p["bh"].copy()))
        else:
            twin.bias_hh_l0.zero_()
    return twin


@pytest.mark.parametrize("make", [lambda: lg.LSTM(3, 4, forget_bias=1.0, dtype=np.float64, rng=0),
                                  lambda: lg.GRU(3, 4, dtype=np.float64, rng=0),
                                  lambda: lg.RNN(3, 4, dtype=np.float64, rng=0),
                                  lambda: lg.RNN(3, 4, "relu", dtype=np.float64, rng=0)],
                         ids=["lstm", "gru", "rnn-tanh", "rnn-relu"])
def test_matches_torch(make):
    layer = make()
    twin = _torch_twin(layer)
    rng = np.random.default_rng(5)
    x, R = rng.standard_normal((3, 6, 3)), rng.standard_normal((3, 6, 4))
    y = layer.forward(x)
    dx = layer.backward(R)
    xt = torch.from_numpy(x).requires_grad_(True)
    yt, _ = twin(xt)
    (yt * torch.from_numpy(R)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(layer.grads["Wx"], twin.weight_ih_l0.grad.numpy().T, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(layer.grads["Wh"], twin.weight_hh_l0.grad.numpy().T, rtol=1e-10, atol=1e-13)
    key = "bx" if "bx" in layer.params else "b"
    np.testing.assert_allclose(layer.grads[key], twin.bias_ih_l0.grad.numpy(), rtol=1e-10, atol=1e-13)
    if "bh" in layer.params:
        np.testing.assert_allclose(layer.grads["bh"], twin.bias_hh_l0.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_embedding_matches_torch():
    emb = lg.Embedding(7, 3, padding_idx=2, dtype=np.float64, rng=0)
    twin = torch.nn.Embedding(7, 3, padding_idx=2).double()
    with torch.no_grad():
        twin.weight.copy_(torch.from_numpy(emb.params["W"]))
    idx = np.array([[1, 2, 2, 6], [1, 1, 0, 2]])
    R = np.random.default_rng(0).standard_normal((2, 4, 3))
    y = emb.forward(idx)
    emb.backward(R)
    yt = twin(torch.from_numpy(idx))
    (yt * torch.from_numpy(R)).sum().backward()
    np.testing.assert_array_equal(y, yt.detach().numpy())
    np.testing.assert_allclose(emb.grads["W"], twin.weight.grad.numpy(), rtol=1e-13, atol=1e-15)
