"""Malformed checkpoints of every kind give a one-line CheckpointError, checked before anything big is allocated."""

import io
import json
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import layergraph as lg
from layergraph.cli import main
from layergraph.train import CheckpointError, load_checkpoint, save_checkpoint
from train_support import make_net


def small_checkpoint(path, **meta):
    net = lg.Sequential([("fc", lg.Affine(3, 2, rng=0)), ("act", lg.ReLU()), ("out", lg.Affine(2, 2, rng=1))],
                        loss=lg.SoftmaxWithLoss())
    save_checkpoint(path, net, epoch=3, history={"loss": [1.0, 0.5]}, **meta)
    return path


def entries(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def rewrite(path, out, **changes):
    """Copy the checkpoint at *path* to *out*, replacing entries; a callable gets the parsed JSON to edit."""
    data = entries(path)
    for key, change in changes.items():
        key = {"header": "__checkpoint__", "arch": "__architecture__"}.get(key, key)
        if callable(change):
            tree = json.loads(str(data[key][()]))
            tree = change(tree) or tree
            data[key] = np.array(json.dumps(tree))
        else:
            data[key] = change
    np.savez(out, **data)
    return out


def load_one_line(path, **kw):
    with pytest.raises(CheckpointError) as info:
        ckpt = load_checkpoint(path, **kw)
        ckpt.build_network()
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_flipped_compression_method_in_the_zip_directory(tmp_path):
    path = small_checkpoint(tmp_path / "c.npz")
    raw = bytearray(path.read_bytes())
    central = raw.index(b"PK\x01\x02")  # first central-directory entry; method at offset 10
    raw[central + 10] ^= 0x5A
    path.write_bytes(bytes(raw))
    assert "compression method" in load_one_line(path)


@pytest.mark.parametrize("keep", [0.05, 0.3, 0.6, 0.9, 0.99])
def test_truncated_files(tmp_path, keep):
    path = small_checkpoint(tmp_path / "c.npz")
    raw = path.read_bytes()
    path.write_bytes(raw[:int(len(raw) * keep)])
    load_one_line(path)


def test_huge_shape_declared_by_the_architecture_is_refused_before_allocating(tmp_path):
    src = small_checkpoint(tmp_path / "c.npz")

    def huge_params(arch):
        layer = arch["layers"][0]
        layer["config"].update(in_features=20000, out_features=20000)
        layer["params"]["W"] = [[20000, 20000], "float32"]

    def huge_config_only(arch):
        arch["layers"][0]["config"].update(in_features=20000, out_features=20000)

    tracemalloc.start()
    try:
        m1 = load_one_line(rewrite(src, tmp_path / "a.npz", arch=huge_params))
        m2 = load_one_line(rewrite(src, tmp_path / "b.npz", arch=huge_config_only))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "(20000, 20000)" in m1 and "'fc.W'" in m1
    assert "refusing to build" in m2 and "'fc'" in m2
    assert peak < 50e6  # never allocated the 1.6 GB the description asks for


def test_array_header_that_disagrees_with_the_zip_entry_size(tmp_path):
    src = small_checkpoint(tmp_path / "c.npz")
    path = tmp_path / "lying.npz"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w") as zout:  # valid CRCs, lying .npy header
        for info in zin.infolist():
            body = zin.read(info)
            if info.filename == "params/fc.W.npy":
                buf = io.BytesIO()
                np.lib.format.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False,
                                                           "shape": (20000, 20000)})
                body = buf.getvalue() + np.zeros(6, np.float32).tobytes()
            zout.writestr(info.filename, body)
    tracemalloc.start()
    try:
        message = load_one_line(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "declares shape (20000, 20000)" in message and peak < 50e6


@pytest.mark.parametrize("edit", [
    lambda h: h.update(params="fc.W"),
    lambda h: h.update(params=[1, 2]),
    lambda h: h.update(params=["nope"]),
    lambda h: h.update(meta=[1, 2]),
    lambda h: h.update(meta={"__array__": 5}),
    lambda h: h.update(optimizer={"__items__": [[1]]}),
    lambda h: h.update(version="1"),
    lambda h: [h],
])
def test_wrong_types_in_the_header(tmp_path, edit):
    src = small_checkpoint(tmp_path / "c.npz")
    load_one_line(rewrite(src, tmp_path / "bad.npz", header=edit))


@pytest.mark.parametrize("edit", [
    lambda a: a.update(layers=5),
    lambda a: a["layers"][0].update(name=7),
    lambda a: a["layers"][0].update(params=[1]),
    lambda a: a["layers"][0].update(params={"W": [[3, 2]]}),
    lambda a: a["layers"][0].update(params={"W": [[3, -2], "float32"]}),
    lambda a: a["layers"][0].update(config="x"),
    lambda a: a["layers"][0].update({"class": "NoSuchLayer"}),
    lambda a: a["layers"][0].update({"class": "Affine", "config": {"in_features": "three"}}),
    lambda a: a["layers"][1].pop("name"),
    lambda a: a.update(format="other"),
    lambda a: [a],
])
def test_wrong_types_in_the_architecture(tmp_path, edit):
    src = small_checkpoint(tmp_path / "c.npz")
    load_one_line(rewrite(src, tmp_path / "bad.npz", arch=edit))


@pytest.mark.parametrize("depth", [300, 100_000])
def test_deep_nesting(tmp_path, depth):
    src = small_checkpoint(tmp_path / "c.npz")
    deep = "[" * depth + "]" * depth
    text = str(entries(src)["__checkpoint__"][()]).replace('"meta":{', f'"meta":{{"deep":{deep},', 1)
    load_one_line(rewrite(src, tmp_path / "m.npz", __checkpoint__=np.array(text)))
    arch = str(entries(src)["__architecture__"][()])
    nested = '{"name":"x","layers":' * depth + "[]" + "}" * depth
    arch = arch.replace('"layers":[', f'"layers":[{nested},', 1)
    load_one_line(rewrite(src, tmp_path / "a.npz", __architecture__=np.array(arch)))


def test_directory_is_named_as_such(tmp_path):
    small_checkpoint(tmp_path / "checkpoint.npz")
    message = load_one_line(tmp_path)
    assert "is a directory" in message and "checkpoint.npz" in message and "corrupt" not in message


def test_cli_evaluate_and_resume_print_one_line(tmp_path, capsys):
    path = small_checkpoint(tmp_path / "c.npz", cli={"data": "xor"})
    raw = bytearray(path.read_bytes())
    raw[raw.index(b"PK\x01\x02") + 10] ^= 0x5A
    path.write_bytes(bytes(raw))
    for argv in (["evaluate", str(path)], ["train", "--resume", str(path), "--out", str(tmp_path / "o")],
                 ["evaluate", str(tmp_path)]):
        capsys.readouterr()
        assert main(argv) != 0
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "is a directory" in err


def _mutate(raw, data):
    ops = data.draw(st.lists(st.tuples(st.sampled_from(["flip", "set", "cut", "insert", "delete"]),
                                       st.integers(0, len(raw) - 1), st.integers(0, 255)), min_size=1, max_size=4))
    raw = bytearray(raw)
    for op, at, value in ops:
        at %= max(len(raw), 1)
        if op == "flip":
            raw[at] ^= 1 << (value % 8)
        elif op == "set":
            raw[at] = value
        elif op == "cut":
            del raw[at:]
        elif op == "insert":
            raw[at:at] = bytes([value]) * (1 + value % 7)
        else:
            del raw[at:at + 1 + value % 7]
        if not raw:
            break
    return bytes(raw)


_FUZZ_SOURCE = {}


def _source(tmp_path_factory):
    if "raw" not in _FUZZ_SOURCE:
        p = small_checkpoint(tmp_path_factory.mktemp("fuzz") / "c.npz")
        _FUZZ_SOURCE["raw"] = p.read_bytes()
        _FUZZ_SOURCE["dir"] = p.parent
        # the header / metadata bytes are the interesting region: bias mutations there half the time
        _FUZZ_SOURCE["json_at"] = _FUZZ_SOURCE["raw"].index(b"__checkpoint__.npy") + 150
    return _FUZZ_SOURCE


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzzed_checkpoints_raise_only_checkpoint_error(tmp_path_factory, data):
    src = _source(tmp_path_factory)
    raw = src["raw"]
    if data.draw(st.booleans()):  # aim at the JSON header region
        at = src["json_at"] + data.draw(st.integers(0, 1200))
        raw = raw[:at] + bytes([data.draw(st.integers(0, 255))]) + raw[at + 1:]
    raw = _mutate(raw, data)
    path = src["dir"] / "mutated.npz"
    path.write_bytes(raw)
    try:
        ckpt = load_checkpoint(path)
        ckpt.build_network()
        ckpt.restore(make_net(), strict=False)
    except CheckpointError as err:
        assert "\n" not in str(err)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzzed_json_values_raise_only_checkpoint_error(tmp_path_factory, data):
    src = _source(tmp_path_factory)
    base = src["dir"] / "c.npz"
    json_values = st.recursive(st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats()
                               | st.text(max_size=8), lambda inner: st.lists(inner, max_size=3)
                               | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
    which = data.draw(st.sampled_from(["header", "arch"]))

    def edit(tree):
        node = tree
        for _ in range(data.draw(st.integers(0, 4))):  # walk down a random path, then replace a value there
            children = list(node.items()) if isinstance(node, dict) else list(enumerate(node)) \
                if isinstance(node, list) else []
            if not children:
                break
            key, child = data.draw(st.sampled_from(children))
            if not isinstance(child, (dict, list)) or not child:
                node[key] = data.draw(json_values)
                return tree
            node = child
        if isinstance(node, dict) and node:
            node[data.draw(st.sampled_from(sorted(node)))] = data.draw(json_values)
        elif isinstance(node, list) and node:
            node[data.draw(st.integers(0, len(node) - 1))] = data.draw(json_values)
        return tree

    path = rewrite(base, src["dir"] / "edited.npz", **{which: edit})
    try:
        ckpt = load_checkpoint(path)
        ckpt.build_network()
    except CheckpointError as err:
        assert "\n" not in str(err)


def test_zip_helpers_still_see_our_files_as_plain_stored_zips(tmp_path):
    path = small_checkpoint(tmp_path / "c.npz")
    with zipfile.ZipFile(path) as z:
        assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
    assert struct.calcsize("<H") == 2
