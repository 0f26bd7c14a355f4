"""The tests find the real data through LAYERGRAPH_DATA, and fall back to ../shared/data."""

from pathlib import Path

from conftest import mnist_dir, shared_data_dir


def test_layergraph_data_is_honoured(tmp_path):
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz").write_bytes(b"")
    env = {"LAYERGRAPH_DATA": str(tmp_path)}
    assert shared_data_dir(env) == tmp_path
    assert mnist_dir(env) == tmp_path / "mnist"


def test_files_directly_in_layergraph_data(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(b"")
    assert mnist_dir({"LAYERGRAPH_DATA": str(tmp_path)}) == tmp_path


def test_fallback_is_shared_data_next_to_the_repository():
    expected = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    assert shared_data_dir({}) == expected
    assert shared_data_dir({"LAYERGRAPH_DATA": ""}) == expected
