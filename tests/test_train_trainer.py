import numpy as np
import pytest
from scipy.special import log_softmax

import layergraph as lg
from layergraph.train import Callback, Trainer, evaluate, top_k_accuracy
from train_support import SGD, make_data, make_net, params_equal


class Spy(lg.Layer):
    """Identity layer recording column 0 of every batch it sees, split by training / inference."""

    def __init__(self):
        super().__init__()
        self.train_rows, self.eval_rows, self.eval_sizes = [], [], []

    def forward(self, x, train=True):
        (self.train_rows if train else self.eval_rows).extend(x[:, 0].tolist())
        if not train:
            self.eval_sizes.append(len(x))
        return x

    def backward(self, dout):
        return dout


def softmax_regression(seed=0, dtype=np.float64):
    return lg.Sequential([("fc", lg.Affine(4, 3, rng=seed, dtype=dtype))], loss=lg.SoftmaxWithLoss())


def test_same_seed_gives_identical_history_and_weights_bit_for_bit():
    x, t = make_data(60)
    runs = []
    for _ in range(2):
        net = make_net(seed=3)
        trainer = Trainer(net, SGD(0.2), batch_size=8, seed=11, verbose=0)
        runs.append((trainer.fit(x, t, epochs=4, validation_split=0.25), net))
    (h1, n1), (h2, n2) = runs
    assert h1 == h2 and h1["loss"][-1] < h1["loss"][0]
    assert params_equal(n1, n2)
    net3 = make_net(seed=3)
    h3 = Trainer(net3, SGD(0.2), batch_size=8, seed=12, verbose=0).fit(x, t, epochs=4, validation_split=0.25)
    assert h3["loss"] != h1["loss"]  # the seed really drives the batch order


def test_training_steps_match_hand_written_minibatch_sgd():
    x, t = make_data(10)
    x = x.astype(np.float64)
    net = softmax_regression()
    W, b = net.params["fc.W"].copy(), net.params["fc.b"].copy()
    hist = Trainer(net, SGD(0.5), batch_size=4, shuffle=False, verbose=0, metrics=()).fit(x, t, epochs=2)
    losses = []
    for _ in range(2):
        total = 0.0
        for i in range(0, 10, 4):
            xb, tb = x[i:i + 4], t[i:i + 4]
            logp = log_softmax(xb @ W + b, axis=1)
            total += -logp[np.arange(len(tb)), tb].mean() * len(tb)
            d = np.exp(logp)
            d[np.arange(len(tb)), tb] -= 1
            d /= len(tb)
            W, b = W - 0.5 * xb.T @ d, b - 0.5 * d.sum(0)
        losses.append(total / 10)
    np.testing.assert_allclose(net.params["fc.W"], W, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(net.params["fc.b"], b, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(hist["loss"], losses, rtol=1e-12)
    assert hist["step"] == [3, 6] and hist["epoch"] == [1, 2]


def test_max_steps_budget_closes_the_epoch_early():
    x, t = make_data(60)
    opt = SGD(0.1)
    trainer = Trainer(make_net(), opt, batch_size=16, seed=0, verbose=0)  # 4 batches per epoch
    hist = trainer.fit(x, t, max_steps=6)
    assert trainer.step == 6 == len(opt.lrs) and hist["step"] == [4, 6] and trainer.epoch == 2
    trainer2 = Trainer(make_net(), SGD(0.1), batch_size=16, seed=0, verbose=0)
    assert trainer2.fit(x, t, epochs=1, max_steps=100)["step"] == [4]
    assert trainer2.fit(x, t, epochs=3, max_steps=9)["step"] == [4, 8, 9]


def test_fit_budgets_are_totals_so_a_second_fit_continues_the_run():
    x, t = make_data(40)
    net_a, net_b = make_net(), make_net()
    ta = Trainer(net_a, SGD(0.2), batch_size=8, seed=1, verbose=0)
    ta.fit(x, t, epochs=2)
    ta.fit(x, t, epochs=4)
    tb = Trainer(net_b, SGD(0.2), batch_size=8, seed=1, verbose=0)
    tb.fit(x, t, epochs=4)
    assert ta.history == tb.history and params_equal(net_a, net_b)
    assert ta.fit(x, t, epochs=3) is ta.history and ta.epoch == 4  # budget already spent: nothing happens


def test_validation_split_is_a_disjoint_seeded_subset_and_validation_data_is_used_as_given():
    n = 40
    x, t = make_data(n)
    x[:, 0] = np.arange(n)  # unique row ids in column 0
    seen = []
    for seed in (7, 7, 8):
        spy = Spy()
        net = lg.Sequential([("spy", spy), ("fc", lg.Affine(4, 3, rng=0))], loss=lg.SoftmaxWithLoss())
        trainer = Trainer(net, SGD(0.01), batch_size=5, seed=seed, verbose=0)
        trainer.fit(x, t, epochs=2, validation_split=0.2)
        train_ids, val_ids = set(spy.train_rows), set(spy.eval_rows)
        assert len(train_ids) == 32 and len(val_ids) == 8 and not train_ids & val_ids
        assert train_ids | val_ids == set(range(n))
        assert len(spy.train_rows) == 64  # each training sample once per epoch
        seen.append(val_ids)
    assert seen[0] == seen[1] and seen[0] != seen[2]

    spy = Spy()
    net = lg.Sequential([("spy", spy), ("fc", lg.Affine(4, 3, rng=0))], loss=lg.SoftmaxWithLoss())
    xv, tv = x[:10] + 1000, t[:10]
    hist = Trainer(net, SGD(0.01), batch_size=5, seed=0, verbose=0).fit(x, t, epochs=1, validation_data=(xv, tv))
    assert sorted(spy.eval_rows) == sorted(xv[:, 0].tolist()) and len(spy.train_rows) == n
    assert hist["val_loss"][0] == evaluate(net, xv, tv)["loss"]


def test_evaluation_runs_in_batches_and_matches_the_full_formula():
    x, t = make_data(23)
    x = x.astype(np.float64)
    spy = Spy()
    net = lg.Sequential([("spy", spy), ("fc", lg.Affine(4, 3, rng=2, dtype=np.float64))], loss=lg.SoftmaxWithLoss())

    def mean_max_logit(y, t):
        return float(np.max(y, axis=1).mean())

    trainer = Trainer(net, SGD(0.1), metrics=["accuracy", mean_max_logit, top_k_accuracy(2)], eval_batch_size=5,
                      verbose=0)
    got = trainer.evaluate(x, t)
    assert max(spy.eval_sizes) == 5 and sum(spy.eval_sizes) == 23
    logits = x @ net.params["fc.W"] + net.params["fc.b"]
    logp = log_softmax(logits, axis=1)
    np.testing.assert_allclose(got["loss"], -logp[np.arange(23), t].mean(), rtol=1e-12)
    assert got["accuracy"] == np.mean(np.argmax(logits, 1) == t)
    np.testing.assert_allclose(got["mean_max_logit"], logits.max(1).mean(), rtol=1e-12)
    rank = (logits > logits[np.arange(23), t][:, None]).sum(1)  # classes strictly above the target
    assert got["top2_accuracy"] == np.mean(rank < 2)


def test_user_metrics_appear_in_history_for_training_and_validation():
    x, t = make_data(30)

    def zero_one(y, t):
        return float(np.mean(np.argmax(y, 1) != t))

    hist = Trainer(make_net(), SGD(0.1), metrics={"err": zero_one}, batch_size=7, seed=0, verbose=0) \
        .fit(x, t, epochs=2, validation_data=(x, t))
    assert {"loss", "err", "val_loss", "val_err", "lr", "epoch", "step"} == set(hist)
    assert "accuracy" not in hist


def test_callbacks_see_every_hook_in_order():
    events = []

    class Recorder(Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch_begin {epoch}")

        def on_batch_begin(self, batch, logs=None):
            events.append(f"batch_begin {batch}")

        def on_batch_end(self, batch, logs=None):
            events.append(f"batch_end {batch} {logs['size']}")

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"epoch_end {epoch} {self.trainer.history['epoch'][-1]}")

        def on_train_end(self, logs=None):
            events.append("train_end")

    x, t = make_data(10)
    Trainer(make_net(), SGD(), batch_size=4, callbacks=[Recorder()], verbose=0).fit(x, t, epochs=2)
    epoch = ["batch_begin 0", "batch_end 0 4", "batch_begin 1", "batch_end 1 4", "batch_begin 2", "batch_end 2 2"]
    assert events == ["train_begin", "epoch_begin 1", *epoch, "epoch_end 1 1",
                      "epoch_begin 2", *epoch, "epoch_end 2 2", "train_end"]


def test_bad_arguments_raise_clear_errors():
    x, t = make_data(10)
    with pytest.raises(ValueError, match="loss layer"):
        Trainer(lg.Sequential(lg.Affine(4, 3)), SGD())
    with pytest.raises(TypeError, match="update"):
        Trainer(make_net(), object())
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        Trainer(make_net(), SGD(), metrics=["f1"])
    with pytest.raises(TypeError, match="Callback"):
        Trainer(make_net(), SGD(), callbacks=[print])
    trainer = Trainer(make_net(), SGD(), verbose=0)
    with pytest.raises(ValueError, match="'epochs' or 'max_steps'"):
        trainer.fit(x, t)
    with pytest.raises(ValueError, match="epochs"):
        trainer.fit(x, t, epochs=0)
    with pytest.raises(ValueError, match="not both"):
        trainer.fit(x, t, epochs=1, validation_split=0.2, validation_data=(x, t))
    with pytest.raises(ValueError, match=r"fraction in \(0, 1\), got 1.5"):
        trainer.fit(x, t, epochs=1, validation_split=1.5)
    with pytest.raises(ValueError, match="same number of samples"):
        trainer.fit(x, t[:5], epochs=1)
    with pytest.raises(ValueError, match="same number of samples"):
        trainer.fit(x, t, epochs=1, validation_data=(x, t[:3]))
    assert trainer.step == 0 and trainer.history == {}
