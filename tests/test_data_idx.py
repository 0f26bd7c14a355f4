"""IDX reader/writer against byte layouts built here with ``struct``."""

import gzip
import io
import os
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layergraph.data import IDXFormatError, read_idx, write_idx

# type code -> (struct format char, native dtype, value range for test data)
TYPES = {
    0x08: ("B", np.uint8, (0, 255)),
    0x09: ("b", np.int8, (-128, 127)),
    0x0B: ("h", np.int16, (-32768, 32767)),
    0x0C: ("i", np.int32, (-(2**31), 2**31 - 1)),
    0x0D: ("f", np.float32, (-1e6, 1e6)),
    0x0E: ("d", np.float64, (-1e300, 1e300)),
}


def idx_bytes(code, shape, values):
    """The IDX encoding of a flat list ``values``, built element by element."""
    fmt = TYPES[code][0]
    header = bytes([0, 0, code, len(shape)]) + b"".join(d.to_bytes(4, "big") for d in shape)
    return header + b"".join(struct.pack(">" + fmt, v) for v in values)


def sample_values(code, count, rng):
    fmt, dtype, (lo, hi) = TYPES[code]
    if fmt in "fd":
        vals = rng.uniform(lo, hi, size=count)
        if fmt == "f":
            vals = vals.astype(np.float32)
        return [float(v) for v in vals]
    # include both extremes of the range to catch sign/width mistakes
    vals = [int(v) for v in rng.integers(lo, hi, size=count, endpoint=True)]
    if count >= 2:
        vals[0], vals[-1] = lo, hi
    return vals


@pytest.mark.parametrize("compressed", [False, True], ids=["raw", "gzip"])
@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 4), (2, 1, 3, 2)], ids=str)
@pytest.mark.parametrize("code", sorted(TYPES), ids=lambda c: f"0x{c:02X}")
def test_read_every_type_and_rank(tmp_path, code, shape, compressed):
    rng = np.random.default_rng(code * 31 + len(shape))
    count = int(np.prod(shape, dtype=np.int64))
    values = sample_values(code, count, rng)
    blob = idx_bytes(code, shape, values)
    path = tmp_path / ("f.idx.gz" if compressed else "f.idx")
    path.write_bytes(gzip.compress(blob) if compressed else blob)

    arr = read_idx(path)

    dtype = TYPES[code][1]
    assert arr.dtype == np.dtype(dtype)
    assert arr.dtype.isnative
    assert arr.shape == shape
    assert arr.flags.writeable
    np.testing.assert_array_equal(arr.reshape(-1), np.array(values, dtype=dtype))


def test_gzip_detected_from_content_not_name(tmp_path):
    blob = idx_bytes(0x0B, (3,), [1, -2, 300])
    plain_named_gz = tmp_path / "plain.gz"
    plain_named_gz.write_bytes(blob)
    gz_named_plain = tmp_path / "packed.idx"
    gz_named_plain.write_bytes(gzip.compress(blob))
    expected = np.array([1, -2, 300], dtype=np.int16)
    np.testing.assert_array_equal(read_idx(plain_named_gz), expected)
    np.testing.assert_array_equal(read_idx(gz_named_plain), expected)


def test_read_from_file_objects():
    blob = idx_bytes(0x0D, (2, 2), [0.5, -1.25, 3.0, 1e-3])
    expected = np.array([[0.5, -1.25], [3.0, 1e-3]], dtype=np.float32)
    np.testing.assert_array_equal(read_idx(io.BytesIO(blob)), expected)
    np.testing.assert_array_equal(read_idx(io.BytesIO(gzip.compress(blob))), expected)


@pytest.mark.parametrize("code", sorted(TYPES), ids=lambda c: f"0x{c:02X}")
def test_writer_produces_the_documented_layout(tmp_path, code):
    rng = np.random.default_rng(code)
    values = sample_values(code, 6, rng)
    arr = np.array(values, dtype=TYPES[code][1]).reshape(2, 3)
    before = arr.copy()
    write_idx(tmp_path / "a.idx", arr)
    write_idx(tmp_path / "a.idx.gz", arr)
    expected = idx_bytes(code, (2, 3), values)
    assert (tmp_path / "a.idx").read_bytes() == expected
    assert gzip.decompress((tmp_path / "a.idx.gz").read_bytes()) == expected
    np.testing.assert_array_equal(arr, before)
    # only the two targets: no temporary files left behind
    assert sorted(os.listdir(tmp_path)) == ["a.idx", "a.idx.gz"]


def test_writer_compress_flag_overrides_suffix(tmp_path):
    arr = np.arange(4, dtype=np.uint8)
    write_idx(tmp_path / "x.idx", arr, compress=True)
    write_idx(tmp_path / "y.gz", arr, compress=False)
    assert (tmp_path / "x.idx").read_bytes()[:2] == b"\x1f\x8b"
    assert (tmp_path / "y.gz").read_bytes() == idx_bytes(0x08, (4,), [0, 1, 2, 3])


@settings(max_examples=40, deadline=None)
@given(
    code=st.sampled_from(sorted(TYPES)),
    shape=st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple),
    compressed=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_write_read_round_trip(tmp_path_factory, code, shape, compressed, seed):
    rng = np.random.default_rng(seed)
    count = int(np.prod(shape, dtype=np.int64))
    arr = np.array(sample_values(code, count, rng), dtype=TYPES[code][1]).reshape(shape)
    path = tmp_path_factory.mktemp("rt") / ("r.idx.gz" if compressed else "r.idx")
    write_idx(path, arr)
    back = read_idx(path)
    assert back.dtype == arr.dtype and back.shape == arr.shape
    np.testing.assert_array_equal(back, arr)


def test_writer_accepts_non_contiguous_and_big_endian_input(tmp_path):
    base = np.arange(12, dtype=">i4").reshape(3, 4)
    view = base[:, ::2]
    write_idx(tmp_path / "v.idx", view)
    np.testing.assert_array_equal(read_idx(tmp_path / "v.idx"), np.array(view, dtype=np.int32))


@pytest.mark.parametrize("dtype", [np.int64, np.uint16, np.bool_, np.complex64, np.float16])
def test_writer_rejects_types_without_idx_code(tmp_path, dtype):
    with pytest.raises(TypeError, match="IDX element type"):
        write_idx(tmp_path / "bad.idx", np.zeros(3, dtype=dtype))
    assert not any(tmp_path.iterdir())


# ---------------------------------------------------------------- corrupted files


def _corrupt(tmp_path, blob, name="bad-idx3-ubyte"):
    path = tmp_path / name
    path.write_bytes(blob)
    return path


GOOD = idx_bytes(0x08, (2, 3), [1, 2, 3, 4, 5, 6])


@pytest.mark.parametrize(
    "blob, pattern",
    [
        (b"\x01\x00" + GOOD[2:], "bad magic number.*first two bytes must be zero"),
        (b"\x00\x00\x0a" + GOOD[3:], "bad magic number.*unknown element type code 0x0A"),
        (GOOD[:3], "truncated header.*magic"),
        (GOOD[:9], "truncated header.*rank 2 needs 8 bytes"),
        (GOOD[:-1], "truncated data.*need 6 bytes.*5"),
        (GOOD[:12], "truncated data"),
        (GOOD + b"\x00\x07", "length mismatch.*2 trailing"),
        (idx_bytes(0x08, (7,), [0, 1, 2, 3, 4, 5]), "truncated data.*need 7 bytes"),
        (b"", "truncated header"),
    ],
    ids=["magic-nonzero", "magic-type", "short-magic", "short-dims", "short-data-1",
         "no-data", "trailing", "count-mismatch", "empty"],
)
@pytest.mark.parametrize("compressed", [False, True], ids=["raw", "gzip"])
def test_corrupted_files_raise_clear_errors(tmp_path, blob, pattern, compressed):
    path = _corrupt(tmp_path, gzip.compress(blob) if compressed else blob)
    with pytest.raises(IDXFormatError, match=pattern) as info:
        read_idx(path)
    assert isinstance(info.value, ValueError)
    assert str(path) in str(info.value)


def test_truncated_gzip_stream(tmp_path):
    packed = gzip.compress(idx_bytes(0x0C, (50,), list(range(50))))
    path = _corrupt(tmp_path, packed[: len(packed) // 2], name="cut.gz")
    with pytest.raises(IDXFormatError, match="cut.gz") as info:
        read_idx(path)
    assert "gzip" in str(info.value)


def test_huge_dims_in_a_small_file_fail_without_allocating(tmp_path):
    header = bytes([0, 0, 0x0E, 3]) + (2**32 - 1).to_bytes(4, "big") * 3
    path = _corrupt(tmp_path, header + b"\x00" * 16)
    with pytest.raises(IDXFormatError, match="truncated data"):
        read_idx(path)
    path_gz = _corrupt(tmp_path, gzip.compress(header), name="huge.gz")
    with pytest.raises(IDXFormatError):
        read_idx(path_gz)


def test_bad_source_types(tmp_path):
    with pytest.raises(TypeError, match="source"):
        read_idx(12345)
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "missing.idx")
