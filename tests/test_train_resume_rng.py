"""Layers' random generators (Dropout, a user's noise layer) in checkpoints: resuming is bit for bit."""

import json

import numpy as np
import pytest

import layergraph as lg
from layergraph.train import CheckpointError, Trainer, load_checkpoint, save_checkpoint
from train_support import Momentum, params_equal


def build_dropout_net():
    return lg.Sequential(lg.Affine(64, 32, rng=0), lg.ReLU(), lg.Dropout(0.3, rng=7), lg.Affine(32, 10, rng=1),
                         loss=lg.SoftmaxWithLoss())


class Noise(lg.Layer):
    """A user's layer drawing from its own generator, kept in the documented attribute ``rng``."""

    def __init__(self, scale=0.5, seed=0):
        super().__init__()
        self.scale, self.rng = scale, np.random.default_rng(seed)

    def forward(self, x, train=True):
        return x + self.scale * self.rng.standard_normal(x.shape).astype(x.dtype) if train else x

    def backward(self, dout):
        return dout


class HiddenNoise(lg.Layer):
    """A user's layer keeping its generator elsewhere: it takes part by overriding get/set_rng_state."""

    def __init__(self, seed=0):
        super().__init__()
        self._gen = np.random.default_rng(seed)

    def forward(self, x, train=True):
        return x * (1.0 + 0.1 * self._gen.random(x.shape).astype(x.dtype)) if train else x

    def backward(self, dout):
        return dout

    def get_rng_state(self):
        return self._gen.bit_generator.state

    def set_rng_state(self, state):
        self._gen.bit_generator.state = state


def build_custom_net():
    return lg.Sequential([("fc1", lg.Affine(64, 16, rng=0)), ("noise", Noise(seed=3)), ("act", lg.Tanh()),
                          ("hidden", HiddenNoise(seed=4)), ("fc2", lg.Affine(16, 10, rng=1))],
                         loss=lg.SoftmaxWithLoss())


def make_data(n=120):
    rng = np.random.default_rng(0)
    t = rng.integers(0, 10, n)
    x = rng.standard_normal((n, 64)).astype(np.float32)
    x[np.arange(n), t] += 2.0
    return x, t


def trainer(build):
    return Trainer(build(), Momentum(0.05), batch_size=16, seed=3, verbose=0)


@pytest.mark.parametrize("build", [build_dropout_net, build_custom_net])
def test_interrupted_run_with_random_layers_resumes_bit_for_bit(tmp_path, build):
    x, t = make_data()
    full = trainer(build)
    full.fit(x, t, epochs=3, validation_data=(x[:30], t[:30]))

    first = trainer(build)
    first.fit(x, t, epochs=1, validation_data=(x[:30], t[:30]))
    first.save_checkpoint(tmp_path / "ck.npz")
    resumed = trainer(build)
    resumed.load_checkpoint(tmp_path / "ck.npz")
    resumed.fit(x, t, epochs=3, validation_data=(x[:30], t[:30]))

    assert resumed.history == full.history   # every logged float identical, epochs 2 and 3 included
    assert params_equal(resumed.net, full.net)


def test_without_the_generator_states_the_resumed_run_differs(tmp_path):
    # Control: the same resume with the Dropout generator put back to its seed diverges, so the test above
    # really depends on the stored generator state.
    x, t = make_data()
    full = trainer(build_dropout_net)
    full.fit(x, t, epochs=3)
    first = trainer(build_dropout_net)
    first.fit(x, t, epochs=1)
    first.save_checkpoint(tmp_path / "ck.npz")
    resumed = trainer(build_dropout_net)
    resumed.load_checkpoint(tmp_path / "ck.npz")
    resumed.net["Dropout1"].rng = np.random.default_rng(7)
    resumed.fit(x, t, epochs=3)
    assert resumed.history["loss"][0] == full.history["loss"][0]
    assert resumed.history["loss"][1:] != full.history["loss"][1:]


def test_checkpoint_stores_generator_states_as_plain_data(tmp_path):
    net = build_dropout_net()
    net.forward(np.ones((4, 64), dtype=np.float32))       # advance the Dropout generator
    state = net["Dropout1"].rng.bit_generator.state
    save_checkpoint(tmp_path / "ck.npz", net)
    with np.load(tmp_path / "ck.npz", allow_pickle=False) as z:
        header = json.loads(str(z["__checkpoint__"][()]))
    assert header["rngs"] == {"Dropout1": {"class": "Dropout", "state": state}}
    ckpt = load_checkpoint(tmp_path / "ck.npz")
    assert ckpt.rngs["Dropout1"]["state"] == state
    fresh = build_dropout_net()
    ckpt.restore(fresh)
    assert fresh["Dropout1"].rng.bit_generator.state == state
    assert ckpt.build_network()["Dropout1"].rng.bit_generator.state == state


def test_layer_rng_state_api():
    drop = lg.Dropout(0.5, rng=1)
    assert drop.get_rng_state() == np.random.default_rng(1).bit_generator.state
    assert lg.ReLU().get_rng_state() is None and lg.Affine(2, 3, rng=0).get_rng_state() is None
    before = drop.get_rng_state()
    with pytest.raises(ValueError, match=r"Dropout.*set_rng_state.*'state' must be a PCG64 state"):
        drop.set_rng_state({"bit_generator": "PCG64", "state": {"state": -1, "inc": 1}, "has_uint32": 0,
                            "uinteger": 0})
    assert drop.get_rng_state() == before   # a rejected state changes nothing
    other = np.random.default_rng(5)
    drop.set_rng_state(other.bit_generator.state)
    np.testing.assert_array_equal(drop.rng.random(4), other.random(4))
    with pytest.raises(ValueError, match="no random generator"):
        lg.ReLU().set_rng_state(before)


def rewrite_header(path, change):
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(str(arrays["__checkpoint__"][()]))
    change(header)
    arrays["__checkpoint__"] = np.array(json.dumps(header))
    np.savez(path, **arrays)


@pytest.mark.parametrize("change, message", [
    (lambda h: h["rngs"]["Dropout1"]["state"].update(bit_generator="MT19937"),
     r"generator state of layer 'Dropout1' is malformed \(.*PCG64"),
    (lambda h: h["rngs"]["Dropout1"]["state"].pop("state"), r"generator state of layer 'Dropout1' is malformed"),
    (lambda h: h["rngs"]["Dropout1"].update(state="not a state"), r"layer 'Dropout1' is malformed"),
    (lambda h: h["rngs"]["Dropout1"].pop("class"), r"generator state of layer 'Dropout1' is malformed"),
    (lambda h: h.update(rngs=[1, 2]), r"generator states \('rngs'\) must be an object"),
    (lambda h: h["rngs"].update(Dropout9=h["rngs"]["Dropout1"]), r"layer 'Dropout9', which the network does not"),
])
def test_a_malformed_rng_entry_fails_clearly_and_changes_nothing(tmp_path, change, message):
    x, t = make_data(40)
    first = trainer(build_dropout_net)
    first.fit(x, t, epochs=1)
    first.save_checkpoint(tmp_path / "ck.npz")
    rewrite_header(tmp_path / "ck.npz", change)

    other = trainer(build_dropout_net)
    weights, state = other.net.state_dict(), other.net["Dropout1"].rng.bit_generator.state
    with pytest.raises(CheckpointError, match=message) as info:
        other.load_checkpoint(tmp_path / "ck.npz")
    assert "\n" not in str(info.value) and str(tmp_path / "ck.npz") in str(info.value)
    after = other.net.state_dict()
    assert after.keys() == weights.keys() and all(np.array_equal(after[k], v) for k, v in weights.items())
    assert other.net["Dropout1"].rng.bit_generator.state == state and other.epoch == 0


def test_non_strict_load_skips_generator_states_without_a_layer(tmp_path):
    net = build_dropout_net()
    save_checkpoint(tmp_path / "ck.npz", net)
    rewrite_header(tmp_path / "ck.npz", lambda h: h["rngs"].update(Gone=h["rngs"]["Dropout1"]))
    with pytest.raises(CheckpointError, match="'Gone'"):
        load_checkpoint(tmp_path / "ck.npz", build_dropout_net())
    load_checkpoint(tmp_path / "ck.npz", build_dropout_net(), strict=False)


def test_checkpoints_without_generator_states_still_load(tmp_path):
    net = build_dropout_net()
    save_checkpoint(tmp_path / "ck.npz", net)
    rewrite_header(tmp_path / "ck.npz", lambda h: h.pop("rngs"))   # as written before states were stored
    fresh = build_dropout_net()
    state = fresh["Dropout1"].rng.bit_generator.state
    assert load_checkpoint(tmp_path / "ck.npz", fresh).rngs is None
    assert fresh["Dropout1"].rng.bit_generator.state == state


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_divergence_restores_the_dropout_generator_too():
    x, t = make_data(40)
    tr = Trainer(build_dropout_net(), Momentum(0.05), batch_size=8, seed=0, verbose=0)
    tr.fit(x, t, epochs=1)
    state = tr.net["Dropout1"].rng.bit_generator.state
    bad = x.copy()
    tr.net["Affine2"].params["W"][...] = np.inf   # the next forward gives non-finite logits
    with pytest.raises(lg.DivergenceError):
        tr.fit(bad, t, epochs=2)
    assert tr.net["Dropout1"].rng.bit_generator.state == state


def test_generator_states_are_keyed_by_path_in_the_saved_network(tmp_path):
    """A Dropout shared with another network is stored under its path in the network saved, like parameters."""
    enc = lg.Sequential([("fc", lg.Affine(4, 4, rng=0)), ("drop", lg.Dropout(0.5, rng=1))])
    train = lg.Sequential([("encoder", enc), ("head", lg.Affine(4, 2, rng=2))], loss=lg.SoftmaxWithLoss())
    infer = lg.Sequential([("enc", enc), ("out", lg.Affine(4, 3, rng=3))])
    assert enc["drop"].name == "encoder.drop" and train["encoder"] is enc
    path = tmp_path / "infer.npz"
    lg.save_checkpoint(path, infer)
    rebuilt = lg.load_checkpoint(path).build_network()
    assert rebuilt["enc.drop"].get_rng_state() == enc["drop"].get_rng_state()
