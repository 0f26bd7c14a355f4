import os
import zipfile

import numpy as np
import pytest

import layergraph as lg
from layergraph.train import (CheckpointError, build_network, describe_network, load_checkpoint,
                              save_checkpoint)
from train_support import Momentum, make_data, make_net, params_equal


def trained(seed=0, **kw):
    net, opt = make_net(seed=seed, **kw), Momentum(0.1)
    x, t = make_data(20)
    for i in range(3):
        loss, grads = net.loss_and_gradient(x[i::3], t[i::3])
        opt.update(net.params, grads)
    return net, opt


def test_round_trip_of_params_buffers_optimizer_and_meta(tmp_path):
    net, opt = trained(buffer=True)
    assert np.any(net.buffers["norm.mean"] != 0)
    meta = {"epoch": 3, "history": {"loss": [1.5, float("nan"), 0.25]}, "note": "hi", "none": None,
            "flag": True, "pair": (1, 2.5), "ids": {0: "a", 7: np.arange(3)}, "f32": np.float32(0.1),
            "big": 2**100, "neg0": -0.0}
    path = save_checkpoint(tmp_path / "c.npz", net, opt, **meta)
    assert path == os.fspath(tmp_path / "c.npz") and os.listdir(tmp_path) == ["c.npz"]

    fresh, fresh_opt = make_net(seed=9, buffer=True), Momentum(0.5)
    ck = load_checkpoint(path, fresh, fresh_opt)
    assert params_equal(net, fresh)
    assert fresh_opt.steps == 3 and fresh_opt.lr == 0.1 and fresh_opt.state.keys() == opt.state.keys()
    for k, s in opt.state.items():
        assert fresh_opt.state[k]["v"].dtype == s["v"].dtype
        np.testing.assert_array_equal(fresh_opt.state[k]["v"], s["v"])
    assert ck.optimizer["config"] == {"betas": (0.9, 1.0)}  # tuples stay tuples
    m = ck.meta
    assert m["epoch"] == 3 and m["note"] == "hi" and m["none"] is None and m["flag"] is True
    assert m["history"]["loss"][0] == 1.5 and np.isnan(m["history"]["loss"][1]) and m["pair"] == (1, 2.5)
    assert set(m["ids"]) == {0, 7} and m["ids"][0] == "a" and np.array_equal(m["ids"][7], np.arange(3))
    assert type(m["f32"]) is np.float32 and m["f32"] == np.float32(0.1)
    assert m["big"] == 2**100 and str(m["neg0"]) == "-0.0"


def test_file_is_plain_arrays_loadable_without_pickle(tmp_path):
    net, opt = trained()
    save_checkpoint(tmp_path / "c.npz", net, opt, epoch=1)
    with np.load(tmp_path / "c.npz", allow_pickle=False) as z:
        assert all(z[k].dtype != object for k in z.files)
        assert z["__architecture__"].shape == () and z["__architecture__"].dtype.kind == "U"
        np.testing.assert_array_equal(z["params/fc1.W"], net.params["fc1.W"])


def test_architecture_description_rebuilds_the_network(tmp_path):
    net = lg.Sequential([("fc1", lg.Affine(4, 5, rng=0, dtype=np.float64)), ("act", lg.LeakyReLU(0.2)),
                         ("fc2", lg.Affine(5, 2, rng=1, dtype=np.float64))], loss=lg.SigmoidWithLoss())
    desc = describe_network(net)
    assert [(d["name"], d["class"]) for d in desc["layers"]] == [("fc1", "Affine"), ("act", "LeakyReLU"),
                                                                  ("fc2", "Affine")]
    assert desc["layers"][0]["config"] == {"in_features": 4, "out_features": 5, "dtype": "float64"}
    assert desc["layers"][1]["config"] == {"alpha": 0.2}
    save_checkpoint(tmp_path / "c.npz", net)
    rebuilt = load_checkpoint(tmp_path / "c.npz").build_network()
    assert params_equal(net, rebuilt) and type(rebuilt.loss_layer) is lg.SigmoidWithLoss
    x = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_array_equal(net.predict(x), rebuilt.predict(x))
    with pytest.raises(ValueError, match="unknown layer class 'Nope'"):
        build_network({**desc, "layers": [{"name": "a", "class": "Nope", "config": {}}]})


def test_different_architecture_lists_every_mismatch_and_changes_nothing(tmp_path):
    net, opt = trained(hidden=8)
    save_checkpoint(tmp_path / "c.npz", net, opt)
    other = make_net(hidden=5)
    other.add("extra", lg.Affine(3, 3))
    other._layers["act1"] = lg.ReLU()
    before = other.state_dict()
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(tmp_path / "c.npz", other, Momentum())
    msg = str(info.value)
    for part in ["layer 'act1': checkpoint has Tanh, network has ReLU",
                 "params 'fc1.W': checkpoint shape (4, 8), network shape (4, 5)",
                 "params 'fc1.b': checkpoint shape (8,), network shape (5,)",
                 "params 'fc2.W': checkpoint shape (8, 3), network shape (5, 3)",
                 "params 'extra.W' (3, 3) float32 is missing from the checkpoint",
                 "layer 'extra' (Affine) is in the network but not in the checkpoint"]:
        assert part in msg
    assert all(np.array_equal(before[k], v) for k, v in other.state_dict().items())
    smaller = lg.Sequential([("fc1", lg.Affine(4, 8))], loss=lg.SoftmaxWithLoss())
    with pytest.raises(CheckpointError, match=r"params 'fc2.W' \(8, 3\) is in the checkpoint but not in the"):
        load_checkpoint(tmp_path / "c.npz", smaller)


def test_wrong_dtype_is_an_error_naming_keys_and_dtypes(tmp_path):
    net, _ = trained()
    save_checkpoint(tmp_path / "c.npz", net.astype(np.float64))
    with pytest.raises(CheckpointError, match=r"params 'fc1.W': checkpoint dtype float64, network dtype float32"):
        load_checkpoint(tmp_path / "c.npz", make_net())
    load_checkpoint(tmp_path / "c.npz", make_net().astype(np.float64))  # matching dtype loads


def test_truncated_and_corrupt_files_give_clear_errors(tmp_path):
    net, opt = trained()
    good = tmp_path / "c.npz"
    save_checkpoint(good, net, opt, epoch=2)
    data = good.read_bytes()
    for name, content in [("half", data[:len(data) // 2]), ("tail", data[:-30]), ("empty", b""),
                          ("garbage", b"\x00not a zip at all" * 20)]:
        bad = tmp_path / f"{name}.npz"
        bad.write_bytes(content)
        with pytest.raises(CheckpointError, match="truncated or corrupt"):
            load_checkpoint(bad, make_net())
    flipped = bytearray(data)
    with zipfile.ZipFile(good) as z:
        info = z.getinfo("params/fc1.W.npy")
    pos = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    flipped[pos] ^= 0xFF
    (tmp_path / "flip.npz").write_bytes(bytes(flipped))
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(tmp_path / "flip.npz")
    with pytest.raises(FileNotFoundError, match="no checkpoint file"):
        load_checkpoint(tmp_path / "missing.npz")


def test_npz_files_that_are_not_checkpoints_are_rejected(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    with pytest.raises(CheckpointError, match="not a complete layergraph checkpoint"):
        load_checkpoint(tmp_path / "plain.npz")
    np.savez(tmp_path / "obj.npz", __checkpoint__=np.array([{"x": 1}], dtype=object))
    with pytest.raises(CheckpointError, match="holds Python objects"):  # pickled data is refused, never run
        load_checkpoint(tmp_path / "obj.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(CheckpointError, match="not an .npz archive"):
        load_checkpoint(tmp_path / "single.npy")
    net, _ = trained()
    save_checkpoint(tmp_path / "noopt.npz", net)
    with pytest.raises(CheckpointError, match="no optimizer state"):
        load_checkpoint(tmp_path / "noopt.npz", make_net(), Momentum())
    with pytest.raises(TypeError, match="cannot store a value of type set"):
        save_checkpoint(tmp_path / "bad.npz", net, things={1, 2})
    assert not (tmp_path / "bad.npz").exists()


def test_optimizer_that_rejects_the_state_gives_a_checkpoint_error(tmp_path):
    net, opt = trained()
    save_checkpoint(tmp_path / "c.npz", net, opt)

    class Other(Momentum):
        def load_state_dict(self, d):
            raise ValueError("state is for optimizer 'Momentum', not 'Other'")

    target = make_net(seed=5)
    before = target.state_dict()
    with pytest.raises(CheckpointError, match="optimizer state does not fit Other"):
        load_checkpoint(tmp_path / "c.npz", target, Other())
    assert all(np.array_equal(before[k], v) for k, v in target.state_dict().items())


@pytest.mark.parametrize("where", ["savez", "fsync", "replace"])
def test_interrupted_write_keeps_the_previous_checkpoint_and_leaves_no_temp_file(tmp_path, monkeypatch, where):
    path = tmp_path / "c.npz"
    old_net, old_opt = trained(seed=0)
    save_checkpoint(path, old_net, old_opt, epoch=1)
    old_bytes = path.read_bytes()
    new_net, new_opt = trained(seed=1)

    def half_written(f, **arrays):
        f.write(b"PK\x03\x04 partial zip data")
        raise OSError(28, "No space left on device")

    def fail(*args, **kwargs):
        raise OSError(5, "Input/output error")

    target = {"savez": (np, "savez", half_written), "fsync": (os, "fsync", fail), "replace": (os, "replace", fail)}
    monkeypatch.setattr(*target[where])
    with pytest.raises(OSError):
        save_checkpoint(path, new_net, new_opt, epoch=2)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["c.npz"] and path.read_bytes() == old_bytes
    restored = make_net(seed=7)
    assert load_checkpoint(path, restored).meta["epoch"] == 1 and params_equal(restored, old_net)
    save_checkpoint(path, new_net, new_opt, epoch=2)  # and a normal write then replaces it
    assert load_checkpoint(path).meta["epoch"] == 2 and os.listdir(tmp_path) == ["c.npz"]


def test_written_file_gets_normal_permissions(tmp_path):
    net, _ = trained()
    old = os.umask(0o022)
    try:
        save_checkpoint(tmp_path / "c.npz", net)
    finally:
        os.umask(old)
    assert (tmp_path / "c.npz").stat().st_mode & 0o777 == 0o644
