"""`--arch` presets, `--model` factories, `--early-stopping` and `--save-best` on short runs."""

import json

import numpy as np
import pytest
from test_cli_errors import assert_one_line_error, call, workdir  # noqa: F401 (fixture)

from layergraph.data import load_digits
from layergraph.train import load_checkpoint


@pytest.mark.parametrize("preset, first", [("lenet", "conv1.W"), ("convnet", "conv1.W"), ("resnet-small", "stem.W")])
def test_presets_train_on_digits_images_and_predict_reshapes_flat_rows(workdir, capsys, preset, first):
    status, out, err = call(["train", "--arch", preset, "--epochs", "1", "--max-steps", "3", "--out", "p", "-q"],
                            capsys)
    assert status == 0, err
    ckpt = load_checkpoint(workdir / "p" / "checkpoint.npz")
    assert ckpt.meta["input_shape"] == [1, 8, 8] and ckpt.meta["cli"]["arch"] == preset
    assert ckpt.params[first].ndim == 4 and ckpt.meta["trainer"]["step"] == 3
    net = ckpt.build_network()
    (_, _), (xt, _) = load_digits()
    np.save("x.npy", xt[:6])
    status, out, err = call(["predict", str(workdir / "p" / "checkpoint.npz"), "x.npy"], capsys)
    assert status == 0, err
    expected = net.predict_labels(xt[:6].reshape(6, 1, 8, 8))
    assert [int(line.split(",")[1]) for line in out.splitlines()[1:]] == expected.tolist()


def test_preset_on_non_image_data_fails_in_one_line(workdir, capsys):
    assert_one_line_error(*call(["train", "--arch", "lenet", "--data", "spiral"], capsys),
                          "--arch lenet: needs images, but spiral has samples of shape (2,)")


FACTORY = '''
import numpy as np
import layergraph as lg


class Scale(lg.Layer):
    """y = a * x with one learnt scalar (a layer class layergraph does not know)."""

    def __init__(self):
        super().__init__()
        self.params = {"a": np.ones(1, dtype=np.float32)}
        self.grads = {"a": np.zeros(1, dtype=np.float32)}

    def forward(self, x, train=True):
        self.x = x
        return x * self.params["a"]

    def backward(self, dout):
        self.grads["a"][...] = np.sum(dout * self.x)
        return dout * self.params["a"]


def build(input_shape, num_classes, seed):
    return lg.Sequential([("fc", lg.Affine(input_shape[0], num_classes, rng=seed)), ("scale", Scale())],
                         loss=lg.SoftmaxWithLoss())


def not_a_net():
    return 42
'''


def test_model_factory_with_a_custom_layer_is_rebuilt_by_evaluate_and_predict(workdir, capsys):
    (workdir / "mymodels.py").write_text(FACTORY)
    status, out, err = call(["train", "--model", "mymodels:build", "--epochs", "2", "--out", "m", "-q"], capsys)
    assert status == 0, err
    ckpt = load_checkpoint(workdir / "m" / "checkpoint.npz")
    assert ckpt.meta["cli"]["model"] == "mymodels:build" and set(ckpt.params) == {"fc.W", "fc.b", "scale.a"}
    assert ckpt.params["scale.a"][0] != 1.0  # the custom parameter was trained
    status, out, err = call(["evaluate", str(workdir / "m" / "checkpoint.npz")], capsys)
    assert status != 0 and "--model mymodels:build" in err   # the checkpoint's own record is never imported
    status, out, err = call(["evaluate", str(workdir / "m" / "checkpoint.npz"), "--model", "mymodels:build"], capsys)
    assert status == 0, err
    assert "weighted avg" in out
    (_, _), (xt, _) = load_digits()
    np.save("x.npy", xt[:4])
    status, out, err = call(["predict", str(workdir / "m" / "checkpoint.npz"), "x.npy", "--proba", "--model",
                             "mymodels:build"], capsys)
    assert status == 0, err
    p = ckpt.params
    z = (xt[:4].astype(np.float64) @ p["fc.W"] + p["fc.b"]) * p["scale.a"]
    proba = np.exp(z - z.max(1, keepdims=True))
    proba /= proba.sum(1, keepdims=True)
    got = np.array([[float(v) for v in line.split(",")[2:]] for line in out.splitlines()[1:]])
    np.testing.assert_allclose(got, proba, rtol=1e-4, atol=1e-6)


def test_model_errors_name_the_spec(workdir, capsys):
    (workdir / "mymodels2.py").write_text(FACTORY)
    assert_one_line_error(*call(["train", "--model", "nomodule:build"], capsys),
                          "--model nomodule:build: cannot import module 'nomodule'")
    assert_one_line_error(*call(["train", "--model", "mymodels2:nothing"], capsys), "has no attribute 'nothing'")
    assert_one_line_error(*call(["train", "--model", "mymodels2:not_a_net"], capsys), "returned int, not a network")
    assert_one_line_error(*call(["train", "--model", "mymodels2"], capsys), "expected package.module:function")


def test_early_stopping_and_save_best(workdir, capsys):
    # lr 0: val_loss never improves after epoch 1, so patience 2 stops at epoch 3 and the best is epoch 1
    status, out, err = call(["train", "--lr", "0", "--epochs", "10", "--early-stopping", "2", "--save-best",
                             "--out", "e", "-q"], capsys)
    assert status == 0, err
    assert load_checkpoint(workdir / "e" / "checkpoint.npz").meta["trainer"]["epoch"] == 3
    assert load_checkpoint(workdir / "e" / "best.npz").meta["trainer"]["epoch"] == 1
    results = json.loads((workdir / "e" / "results.json").read_text())
    assert results["status"] == "stopped early" and results["best"]["epoch"] == 1
    assert "early stopping at epoch 3" in results["stop_reason"]


def test_clip_norm_reaches_the_trainer(workdir, capsys, monkeypatch):
    from layergraph.train import trainer as trainer_module

    seen = []
    original = trainer_module.Trainer.__init__

    def spy(self, *a, **k):
        seen.append(k.get("clip_norm"))
        original(self, *a, **k)

    monkeypatch.setattr(trainer_module.Trainer, "__init__", spy)
    assert call(["train", "--clip-norm", "0.5", "--epochs", "1", "--out", "c", "-q"], capsys)[0] == 0
    assert seen == [0.5]
    assert_one_line_error(*call(["train", "--clip-norm", "0"], capsys), "argument --clip-norm: expected a finite")
