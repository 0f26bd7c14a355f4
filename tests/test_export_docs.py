"""docs/export.md: its Python blocks run as written, and the error it quotes is the one raised."""

import re
from pathlib import Path

import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "docs" / "export.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", TEXT, flags=re.S)


def test_the_page_has_runnable_examples():
    assert len(BLOCKS) >= 2
    assert any("register_exporter" in block for block in BLOCKS)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_block_runs(index, capsys):
    exec(compile(BLOCKS[index], f"docs/export.md block {index}", "exec"), {"__name__": "export_doc"})
    out = capsys.readouterr().out
    for expected in re.findall(r"^# (\[.*\])$", BLOCKS[index], flags=re.M):   # printed results shown in comments
        assert expected in out


def test_the_quoted_error_is_the_real_one():
    import numpy as np

    import layergraph as lg

    class Scale(lg.Layer):
        def forward(self, x, train=True):
            return 2 * x

    Scale.__module__, Scale.__qualname__ = "mymodule", "Scale"
    net = lg.Sequential([("fc", lg.Affine(4, 3, rng=0)), ("scale", Scale())])
    quoted = re.search(r"```text\n(.*?)\n```", TEXT, flags=re.S).group(1)
    with pytest.raises(lg.export.ExportError) as info:
        lg.export.to_onnx(net, None)
    assert str(info.value) == quoted
    assert np.isfinite(net.predict(np.ones((1, 4), dtype=np.float32))).all()
