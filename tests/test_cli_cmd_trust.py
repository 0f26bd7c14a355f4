"""Opening a checkpoint never imports the `--model` factory it names: the network is rebuilt from the saved
architecture, and a factory runs only when the user names it on the command line."""

import os
import subprocess
import sys

import numpy as np
from test_cli_errors import assert_one_line_error, call, workdir  # noqa: F401 (fixture)

import layergraph as lg
from layergraph.data import load_digits
from layergraph.optim import Adam
from layergraph.train import Trainer, load_checkpoint

# Importing this module leaves a marker file: the proof that a command ran code named by a checkpoint.
SNEAKY = '''
import os
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "IMPORTED"), "w").close()


def build(input_shape, num_classes, seed=0):
    raise RuntimeError("never to be called")
'''

CUSTOM = '''
import numpy as np
import layergraph as lg


class Twice(lg.Layer):
    """y = 2 x (a layer class layergraph does not know)."""

    def forward(self, x, train=True):
        return 2 * x

    def backward(self, dout):
        return 2 * dout


def build(input_shape, num_classes, seed=0):
    return lg.Sequential([("fc", lg.Affine(input_shape[0], num_classes, rng=seed)), ("twice", Twice())],
                         loss=lg.SoftmaxWithLoss())
'''


def _digits_net():
    return lg.Sequential([("fc1", lg.Affine(64, 16, rng=0)), ("act1", lg.ReLU()), ("fc2", lg.Affine(16, 10, rng=1))],
                         loss=lg.SoftmaxWithLoss())


def _run(argv, cwd):
    env = {**os.environ, "CI": "1", "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.run([sys.executable, "-m", "layergraph", *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def _evil_checkpoint(workdir):
    """A checkpoint of a plain MLP whose run options name the factory sneaky:build, next to sneaky.py."""
    (workdir / "sneaky.py").write_text(SNEAKY)
    net = _digits_net()
    cli = {"data": "digits", "model": "sneaky:build", "seed": 0, "epochs": 1, "batch_size": 32}
    Trainer(net, Adam(), verbose=0).save_checkpoint(str(workdir / "evil.npz"), cli=cli, input_shape=[64],
                                                    num_classes=10)
    return net


def test_evaluate_and_predict_rebuild_from_the_architecture_without_importing(workdir):
    net = _evil_checkpoint(workdir)
    (_, _), (xt, _) = load_digits()
    np.save(workdir / "x.npy", xt[:5])
    done = _run(["predict", "evil.npz", "x.npy"], workdir)
    assert not (workdir / "IMPORTED").exists(), "predict imported the module the checkpoint names"
    assert done.returncode == 0, done.stderr
    labels = [int(line.split(",")[1]) for line in done.stdout.splitlines()[1:]]
    assert labels == net.predict_labels(xt[:5]).tolist()
    done = _run(["evaluate", "evil.npz"], workdir)
    assert not (workdir / "IMPORTED").exists(), "evaluate imported the module the checkpoint names"
    assert done.returncode == 0, done.stderr


def test_resume_does_not_import_the_recorded_factory(workdir):
    _evil_checkpoint(workdir)
    done = _run(["train", "--resume", "evil.npz", "--epochs", "2", "--out", "again", "-q"], workdir)
    assert not (workdir / "IMPORTED").exists(), "train --resume imported the module the checkpoint names"
    assert done.returncode == 0, done.stderr
    assert load_checkpoint(workdir / "again" / "checkpoint.npz").meta["trainer"]["epoch"] == 2


def test_custom_layers_need_the_factory_named_on_the_command_line(workdir, capsys):
    (workdir / "custom_lg_factory.py").write_text(CUSTOM)
    status, out, err = call(["train", "--model", "custom_lg_factory:build", "--epochs", "1", "--out", "m", "-q"],
                            capsys)
    assert status == 0, err
    (_, _), (xt, _) = load_digits()
    np.save("x.npy", xt[:4])
    status, out, err = call(["predict", "m/checkpoint.npz", "x.npy"], capsys)
    assert_one_line_error(status, out, err, "pass --model custom_lg_factory:build")
    assert "never imported" in err and "unknown layer class 'Twice'" in err
    status, out, err = call(["predict", "m/checkpoint.npz", "x.npy", "--proba", "--model", "custom_lg_factory:build"],
                            capsys)
    assert status == 0, err
    p = load_checkpoint(workdir / "m" / "checkpoint.npz").params
    z = 2 * (xt[:4].astype(np.float64) @ p["fc.W"] + p["fc.b"])
    proba = np.exp(z - z.max(1, keepdims=True))
    proba /= proba.sum(1, keepdims=True)
    got = np.array([[float(v) for v in line.split(",")[2:]] for line in out.splitlines()[1:]])
    np.testing.assert_allclose(got, proba, rtol=1e-4, atol=1e-6)
    # --resume too: refused without the factory, continued with it
    status, out, err = call(["train", "--resume", "m/checkpoint.npz", "--epochs", "2"], capsys)
    assert_one_line_error(status, out, err, "pass --model custom_lg_factory:build")
    status, out, err = call(["train", "--resume", "m/checkpoint.npz", "--epochs", "2", "--model",
                             "custom_lg_factory:build", "-q"], capsys)
    assert status == 0, err


def test_model_from_another_directory_says_the_module_must_be_importable(workdir, capsys, monkeypatch):
    (workdir / "custom_lg_factory2.py").write_text(CUSTOM)
    assert call(["train", "--model", "custom_lg_factory2:build", "--epochs", "1", "--out", "m", "-q"], capsys)[0] == 0
    (_, _), (xt, _) = load_digits()
    np.save("x.npy", xt[:4])
    (workdir / "elsewhere").mkdir()
    monkeypatch.chdir(workdir / "elsewhere")
    monkeypatch.delitem(sys.modules, "custom_lg_factory2")
    status, out, err = call(["predict", "../m/checkpoint.npz", "../x.npy", "--model", "custom_lg_factory2:build"],
                            capsys)
    assert_one_line_error(status, out, err, "cannot import module 'custom_lg_factory2'")
    assert "must be importable" in err and "PYTHONPATH" in err


class Unknown(lg.ReLU):
    """A layer class the checkpoint cannot name to layergraph."""


def test_a_network_that_cannot_be_rebuilt_is_named_once(workdir, capsys):
    net = lg.Sequential([("fc", lg.Affine(64, 10, rng=0)), ("odd", Unknown())], loss=lg.SoftmaxWithLoss())
    lg.save_checkpoint("odd.npz", net, input_shape=[64], num_classes=10)
    np.save("x.npy", np.zeros((2, 64), dtype=np.float32))
    status, out, err = call(["predict", "odd.npz", "x.npy"], capsys)
    assert_one_line_error(status, out, err, "odd.npz: cannot rebuild the network")
    assert err.count("odd.npz") == 1 and "--model MODULE:FUNCTION" in err
