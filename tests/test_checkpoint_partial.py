"""load_checkpoint(path, net, strict=False): loads what matches by name and shape, reports the rest."""

import numpy as np
import pytest

import layergraph as lg
from layergraph.train import CheckpointError, LoadReport, load_checkpoint, save_checkpoint


def backbone_and_head(n_out, head="head", rng=0):
    return lg.Sequential([("fc1", lg.Affine(4, 6, rng=rng)), ("act", lg.ReLU()),
                          ("fc2", lg.Affine(6, 5, rng=rng + 1)), ("act2", lg.Tanh()),
                          (head, lg.Affine(5, n_out, rng=rng + 2))], loss=lg.SoftmaxWithLoss())


def test_new_head_with_another_number_of_classes(tmp_path):
    old = backbone_and_head(3, rng=0)
    save_checkpoint(tmp_path / "c.npz", old)
    new = backbone_and_head(7, rng=10)
    head_before = {k: new.params[k].copy() for k in ("head.W", "head.b")}
    with pytest.raises(CheckpointError):  # strict refuses
        load_checkpoint(tmp_path / "c.npz", new)
    assert not np.array_equal(new.params["fc1.W"], old.params["fc1.W"])  # and changed nothing
    report = load_checkpoint(tmp_path / "c.npz", new, strict=False).load_report
    assert isinstance(report, LoadReport)
    assert sorted(report.loaded) == ["fc1.W", "fc1.b", "fc2.W", "fc2.b"]
    assert report.mismatched == [("head.W", (5, 3), (5, 7)), ("head.b", (3,), (7,))]
    assert report.missing == [] and report.unexpected == []
    for k in report.loaded:
        np.testing.assert_array_equal(new.params[k], old.params[k])
    for k, v in head_before.items():
        np.testing.assert_array_equal(new.params[k], v)
    assert "shape mismatches head.W (5, 3) vs (5, 7)" in str(report)


def test_backbone_only_and_renamed_head(tmp_path):
    full = backbone_and_head(3, rng=0)
    save_checkpoint(tmp_path / "full.npz", full)
    backbone = lg.Sequential([("fc1", lg.Affine(4, 6, rng=5)), ("act", lg.ReLU())])
    report = load_checkpoint(tmp_path / "full.npz", backbone, strict=False).load_report
    assert report.loaded == ["fc1.W", "fc1.b"] and report.missing == []
    assert report.unexpected == ["fc2.W", "fc2.b", "head.W", "head.b"]
    np.testing.assert_array_equal(backbone.params["fc1.W"], full.params["fc1.W"])
    # the other way round: a backbone checkpoint into a network with a new, differently named head
    save_checkpoint(tmp_path / "bb.npz", backbone)
    net = backbone_and_head(3, head="classifier", rng=20)
    report = load_checkpoint(tmp_path / "bb.npz", net, strict=False).load_report
    assert report.loaded == ["fc1.W", "fc1.b"]
    assert report.missing == ["fc2.W", "fc2.b", "classifier.W", "classifier.b"]


def test_dtype_is_converted_when_names_and_shapes_match(tmp_path):
    src = backbone_and_head(3, rng=0).astype(np.float64)
    save_checkpoint(tmp_path / "c.npz", src)
    dst = backbone_and_head(3, rng=9)
    report = load_checkpoint(tmp_path / "c.npz", dst, strict=False).load_report
    assert ("fc1.W", "float64", "float32") in report.converted and len(report.loaded) == 6
    np.testing.assert_array_equal(dst.params["fc1.W"], src.params["fc1.W"].astype(np.float32))
    assert dst.params["fc1.W"].dtype == np.float32
