"""The report table labels every column; saving a case warns when a layer could not be rebuilt by replay."""

import re
import warnings

import numpy as np
import pytest

import layergraph as lg
from layergraph.gradcheck import GradCheckError


def _table(report):
    lines = str(report).splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("tensor "))
    rows = [re.split(r"\s{2,}", line.strip()) for line in lines[start:start + 1 + len(report.tensors)]]
    return rows[0], rows[1:]


@pytest.mark.parametrize("mode", ["directional", "full"])
def test_every_report_column_has_a_header(mode):
    report = lg.gradcheck(lg.Affine(3, 2, dtype=np.float64, rng=0), np.ones((2, 3)), mode=mode)
    header, rows = _table(report)
    assert all(header)
    assert len(rows) == 3 and all(len(row) == len(header) for row in rows)
    assert header[-1] == "result" and {row[-1] for row in rows} == {"ok"}


class KeepsD(lg.Layer):
    """y = x * w, with the wrong sign in the gradient of w; keeps its constructor argument ``d``."""

    def __init__(self, d):
        super().__init__()
        self.d = d
        self.params = {"w": np.linspace(0.5, 1.5, d)}
        self.grads = {"w": np.zeros(d)}

    def forward(self, x, train=True):
        self.x = x
        return x * self.params["w"]

    def backward(self, dout):
        self.grads["w"] = -np.sum(dout * self.x, axis=0)
        return dout * self.params["w"]


class WrongSign(KeepsD):
    """The same layer without the attribute ``d``."""

    def __init__(self, d):
        super().__init__(d)
        del self.d


def _failing(cls):
    report = lg.gradcheck(cls(3), np.random.default_rng(0).standard_normal((4, 3)))
    assert not report.ok
    return report


def test_save_warns_when_a_required_argument_is_not_recorded_and_replay_says_what_to_do(tmp_path):
    report = _failing(WrongSign)
    with pytest.warns(UserWarning, match=r"WrongSign: required constructor argument\(s\) 'd' not recorded.*"
                                         r"self\.<name> = <name>"):
        path = GradCheckError(report).save(tmp_path / "wrong.npz")
    with pytest.raises(ValueError) as info:
        lg.gradcheck.replay(path, custom_objects={"WrongSign": WrongSign})
    message = str(info.value)
    assert "\n" not in message and "'d'" in message
    assert "keep each __init__ argument as self.<name> = <name>" in message


def test_a_layer_keeping_its_arguments_saves_silently_and_replays_the_failure(tmp_path):
    report = _failing(KeepsD)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = GradCheckError(report).save(tmp_path / "keeps.npz")
    again = lg.gradcheck.replay(path, custom_objects={"KeepsD": KeepsD})
    assert not again.ok and again.failures() == report.failures()


def test_builtin_layers_save_without_warnings(tmp_path):
    net = lg.Sequential(lg.Affine(4, 3, dtype=np.float64, rng=0), lg.LeakyReLU(0.2), loss=lg.SoftmaxWithLoss())
    report = lg.gradcheck(net, np.random.default_rng(1).standard_normal((5, 4)), np.array([0, 1, 2, 1, 0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = GradCheckError(report).save(tmp_path / "net.npz")
    assert lg.gradcheck.replay(path).ok


def test_unknown_class_keeps_its_custom_objects_message(tmp_path):
    path = GradCheckError(_failing(KeepsD)).save(tmp_path / "keeps.npz")
    with pytest.raises(ValueError, match=r"unknown layer class 'KeepsD'; pass it in custom_objects"):
        lg.gradcheck.replay(path)


def test_a_saved_case_that_declares_more_than_it_holds_is_refused_before_allocating(tmp_path):
    """An entry whose header declares 10**11 float64 values in a file of a few hundred bytes."""
    import io
    import zipfile

    import numpy as np
    import pytest

    from layergraph.gradcheck.replay import load_case

    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000,), }"
    header += b" " * (118 - len(header)) + b"\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("format.npy", _npy(np.array("x")))
        z.writestr("x.npy", b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + b"\0" * 64)
    path = tmp_path / "bomb.npz"
    path.write_bytes(buf.getvalue())
    with pytest.raises(ValueError, match="gradcheck.replay: .*declares"):
        load_case(path)


def _npy(array):
    import io

    import numpy as np

    out = io.BytesIO()
    np.save(out, array, allow_pickle=False)
    return out.getvalue()
