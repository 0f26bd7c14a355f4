"""Which losses get an accuracy: every loss layer except one that declares judges_labels = False."""

import numpy as np
import pytest

import layergraph as lg


class FocalLoss(lg.Loss):
    """A classification loss of the user's own that keeps the base class's arg-max labels."""

    def forward(self, x, t):
        z = x - x.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        self.p, self.t = p, t
        pt = p[np.arange(len(t)), t]
        return float(-np.mean((1 - pt) ** 2 * np.log(pt)))

    def backward(self, dout=1.0):   # not exercised by these tests
        return np.zeros_like(self.p)


class Huber(lg.Loss):
    judges_labels = False

    def forward(self, x, t):
        self.d = x - t
        return float(np.mean(np.where(abs(self.d) < 1, 0.5 * self.d ** 2, abs(self.d) - 0.5)))

    def backward(self, dout=1.0):
        return np.clip(self.d, -1, 1) / self.d.size * dout


def test_a_users_classification_loss_gets_accuracy_by_default_and_on_request():
    x = np.random.default_rng(0).standard_normal((30, 4))
    t = np.random.default_rng(1).integers(0, 3, 30)
    net = lg.Sequential(lg.Affine(4, 3, dtype=np.float64, rng=0), loss=FocalLoss())
    want = float(np.mean(np.argmax(net.forward(x, train=False), axis=1) == t))
    for metrics in ("auto", ["accuracy"]):
        result = lg.Trainer(net, lg.optim.SGD(lr=0.0), metrics=metrics, verbose=0).evaluate(x, t)
        assert result["accuracy"] == pytest.approx(want)


def test_regression_losses_get_no_accuracy_and_refuse_it():
    x = np.random.default_rng(2).standard_normal((20, 4))
    y = np.random.default_rng(3).standard_normal((20, 1))
    for loss in (lg.MeanSquaredError(), Huber()):
        net = lg.Sequential(lg.Affine(4, 1, dtype=np.float64, rng=0), loss=loss)
        assert set(lg.Trainer(net, lg.optim.SGD(lr=0.0), verbose=0).evaluate(x, y)) == {"loss"}
        with pytest.raises(ValueError, match="accuracy"):
            lg.Trainer(net, lg.optim.SGD(lr=0.0), metrics=["accuracy"], verbose=0)


def test_one_array_of_targets_for_the_one_output_with_a_loss_is_that_outputs_dict():
    g = lg.Graph()
    g.add("fc", lg.Affine(4, 3, dtype=np.float64, rng=0), "x").add("emb", lg.Tanh(), "fc")
    g.add("aux", lg.Affine(4, 2, dtype=np.float64, rng=1), "x")
    g.set_outputs("fc", "aux").set_loss({"fc": lg.SoftmaxWithLoss(ignore_index=-1)})
    x = np.random.default_rng(4).standard_normal((9, 4))
    t = np.array([0, 1, -1, 2, -1, 1, 0, -1, 2])
    want = g.loss(x, {"fc": t}, train=False)
    for batch in (1, 4, 9):
        got = lg.train.evaluate(g, x, t, batch_size=batch, metrics=None)["loss"]
        assert got == pytest.approx(want, rel=1e-12)
    assert lg.train.evaluate(g, x, t, batch_size=2)["fc_accuracy"] == pytest.approx(
        np.mean((np.argmax(g.predict(x)["fc"], axis=1) == t)[t >= 0]))
