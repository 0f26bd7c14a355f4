"""Metrics of padded sequences do not depend on the batch size; accuracy only for classification losses."""

import numpy as np
import pytest

import layergraph as lg
from layergraph.train import Trainer, evaluate
from train_support import SGD, make_data, make_net

PAD, IGNORE = 0, -100


class Frozen:
    """An optimizer that changes nothing: the epoch averages are then means over one fixed network."""

    lr = 0.0

    def update(self, params, grads):
        pass


def padded_tokens(n=11, length=7, seed=1):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(1, 20, (n, length))
    lengths = rng.permutation(np.arange(n) % length + 1)   # very uneven: 1 to 7 real tokens
    for i, m in enumerate(lengths):
        tokens[i, m:] = PAD
    return tokens, np.where(tokens == PAD, IGNORE, tokens % 5)


def tagger():
    return lg.Sequential([("emb", lg.Embedding(20, 8, padding_idx=PAD, rng=0)), ("rnn", lg.GRU(8, 16, rng=1)),
                          ("head", lg.TimeDistributed(lg.Affine(16, 5, rng=2)))],
                         loss=lg.SoftmaxWithLoss(ignore_index=IGNORE))


def token_means(logits, targets):
    """Loss and accuracy over every non-ignored token, one token at a time (float64)."""
    total = hits = count = 0.0
    for row, labels in zip(np.asarray(logits, dtype=np.float64), targets):
        for z, label in zip(row, labels):
            if label == IGNORE:
                continue
            z = z - z.max()
            total += np.log(np.exp(z).sum()) - z[label]
            hits += int(np.argmax(z) == label)
            count += 1
    return total / count, hits / count


@pytest.mark.parametrize("batch_size", [1, 2, 3, 5, 1000])
def test_evaluate_on_padded_sequences_is_the_token_weighted_mean(batch_size):
    tokens, targets = padded_tokens()
    net = tagger()
    loss, acc = token_means(net.forward(tokens, train=False), targets)
    got = Trainer(net, SGD(0.1), eval_batch_size=batch_size, verbose=0).evaluate(tokens, targets)
    assert got["loss"] == pytest.approx(loss, rel=1e-6) and got["accuracy"] == pytest.approx(acc, rel=1e-12)
    assert got["accuracy"] == pytest.approx(net.accuracy(tokens, targets), rel=1e-12)


def test_training_epoch_averages_on_padded_sequences_are_token_weighted():
    tokens, targets = padded_tokens()
    net = tagger()
    loss, acc = token_means(net.forward(tokens, train=False), targets)   # no dropout: train outputs are the same
    hist = Trainer(net, Frozen(), batch_size=2, seed=0, verbose=0).fit(tokens, targets, epochs=1,
                                                                        validation_data=(tokens, targets))
    assert hist["loss"][0] == pytest.approx(loss, rel=1e-6) and hist["accuracy"][0] == pytest.approx(acc, rel=1e-12)
    assert hist["val_loss"][0] == pytest.approx(loss, rel=1e-6)


def two_taggers():
    g = lg.Graph(inputs=("tok",))
    g.add("emb", lg.Embedding(20, 8, padding_idx=PAD, rng=0), "tok")
    g.add("rnn", lg.GRU(8, 16, rng=1), "emb")
    g.add("a", lg.TimeDistributed(lg.Affine(16, 5, rng=2)), "rnn")
    g.add("b", lg.TimeDistributed(lg.Affine(16, 3, rng=3)), "rnn")
    g.set_outputs("a", "b")
    g.set_loss({"a": lg.SoftmaxWithLoss(ignore_index=IGNORE), "b": lg.SoftmaxWithLoss(ignore_index=IGNORE)},
               weights={"b": 0.5})
    return g


def test_several_outputs_with_padding_weight_each_output_by_its_own_tokens():
    tokens, ta = padded_tokens()
    tb = np.where(ta == IGNORE, IGNORE, tokens % 3)
    tb[:, -2:] = IGNORE                                   # output b counts other positions than a
    g = two_taggers()
    y = g.forward(tokens, train=False)
    (la, acc_a), (lb, acc_b) = token_means(y["a"], ta), token_means(y["b"], tb)
    got = Trainer(g, SGD(0.1), eval_batch_size=2, verbose=0).evaluate(tokens, {"a": ta, "b": tb})
    assert got["a_loss"] == pytest.approx(la, rel=1e-6) and got["b_loss"] == pytest.approx(lb, rel=1e-6)
    assert got["loss"] == pytest.approx(la + 0.5 * lb, rel=1e-6)
    assert got["a_accuracy"] == pytest.approx(acc_a, rel=1e-12)
    assert got["b_accuracy"] == pytest.approx(acc_b, rel=1e-12)


def test_without_padding_the_batch_size_weighting_is_unchanged():
    x, t = make_data(50)
    net = make_net()
    one = evaluate(net, x, t, batch_size=1000)
    assert evaluate(net, x, t, batch_size=7) == pytest.approx(one, rel=1e-6)
    assert one["accuracy"] == net.accuracy(x, t)


# -- accuracy only for classification losses -------------------------------------------------------------------

def regression_data(n=40):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 4))
    return x, x @ np.array([[1.0], [-2.0], [0.5], [0.0]])


def test_default_metrics_of_a_regression_network_have_no_accuracy():
    x, y = regression_data()
    net = lg.Sequential(lg.Affine(4, 1, rng=0, dtype=np.float64), loss=lg.MeanSquaredError())
    trainer = Trainer(net, SGD(0.05), batch_size=8, seed=0, verbose=0)
    assert set(trainer.evaluate(x, y)) == {"loss"}
    hist = trainer.fit(x, y, epochs=2, validation_data=(x, y))
    assert "accuracy" not in hist and "val_accuracy" not in hist
    assert set(evaluate(net, x, y)) == {"loss"}


@pytest.mark.parametrize("loss", [lg.SoftmaxWithLoss(), lg.SigmoidWithLoss()])
def test_default_metrics_of_a_classifier_keep_accuracy(loss):
    x, t = make_data(30)
    n_out = 3 if isinstance(loss, lg.SoftmaxWithLoss) else 1
    targets = t if n_out == 3 else (t[:, None] == 0).astype(float)
    net = lg.Sequential(lg.Affine(4, n_out, rng=0), loss=loss)
    assert set(Trainer(net, SGD(0.1), verbose=0).evaluate(x, targets)) == {"loss", "accuracy"}


def test_a_two_output_graph_gets_accuracy_only_for_its_classification_head():
    x, t = make_data(30)
    g = lg.Graph()
    g.add("h", lg.Affine(4, 6, rng=0), "x")
    g.add("a", lg.Affine(6, 3, rng=1), "h")
    g.add("b", lg.Affine(6, 1, rng=2), "h")
    g.set_outputs("a", "b")
    g.set_loss({"a": lg.SoftmaxWithLoss(), "b": lg.MeanSquaredError()})
    targets = {"a": t, "b": x[:, :1].astype(np.float32)}
    hist = Trainer(g, SGD(0.1), batch_size=10, seed=0, verbose=0).fit(x, targets, epochs=1)
    assert "a_accuracy" in hist and "b_accuracy" not in hist
    assert "b_accuracy" not in Trainer(g, SGD(0.1), metrics=["accuracy"], verbose=0).metrics


def test_explicit_accuracy_on_a_regression_loss_is_refused():
    net = lg.Sequential(lg.Affine(4, 1, rng=0), loss=lg.MeanSquaredError())
    with pytest.raises(ValueError, match=r"'accuracy' needs a classification loss.*MeanSquaredError") as info:
        Trainer(net, SGD(0.1), metrics=["accuracy"], verbose=0)
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="classification loss"):
        evaluate(net, *regression_data(), metrics=["accuracy"])
    g = lg.Graph()
    g.add("a", lg.Affine(4, 1, rng=1), "x")
    g.add("b", lg.Affine(4, 1, rng=2), "x")
    g.set_outputs("a", "b")
    g.set_loss({"a": lg.MeanSquaredError(), "b": lg.MeanSquaredError()})
    with pytest.raises(ValueError, match="no output has one"):
        Trainer(g, SGD(0.1), metrics=["accuracy"], verbose=0)


def test_a_loss_says_it_judges_labels_with_an_attribute():
    class Hinge(lg.Loss):   # keeps the base arg-max label rules
        judges_labels = True

        def forward(self, x, t):
            self.x = x
            return 0.0

        def backward(self, dout=1.0):
            return np.zeros_like(self.x)

    class Plain(Hinge):
        judges_labels = None

    x, t = make_data(20)
    assert "accuracy" in Trainer(lg.Sequential(lg.Affine(4, 3, rng=0), loss=Hinge()), SGD(), verbose=0).metrics
    assert Trainer(lg.Sequential(lg.Affine(4, 3, rng=0), loss=Plain()), SGD(), verbose=0).metrics == {}
