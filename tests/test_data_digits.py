"""The shipped UCI digits: format, the fixed split, and agreement with the source CSV."""

import gzip
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED_DATA
from layergraph.data import DIGITS_PATH, load_digits

ROOT = Path(__file__).resolve().parents[1]
SOURCE_CSV = SHARED_DATA / "digits" / "digits.csv.gz"


def stored():
    with np.load(DIGITS_PATH, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def test_shipped_file_is_small_and_plain():
    assert DIGITS_PATH.is_file()
    assert DIGITS_PATH.stat().st_size < 100_000
    arrays = stored()  # allow_pickle=False: no object arrays inside
    assert set(arrays) == {"images", "labels", "is_test"}
    assert arrays["images"].dtype == np.uint8 and arrays["images"].shape == (1797, 64)
    assert arrays["labels"].dtype == np.uint8 and arrays["labels"].shape == (1797,)
    assert arrays["images"].max() <= 16 and arrays["labels"].max() <= 9


def test_default_format_and_split():
    (x_tr, t_tr), (x_te, t_te) = load_digits()
    assert x_tr.shape == (1437, 64) and x_te.shape == (360, 64)
    assert x_tr.dtype == np.float32 and t_tr.dtype == np.int64
    assert 0.0 <= min(x_tr.min(), x_te.min()) and max(x_tr.max(), x_te.max()) == 1.0
    arrays = stored()
    mask = arrays["is_test"]
    np.testing.assert_allclose(x_tr, arrays["images"][~mask] / 16.0, rtol=1e-6)
    np.testing.assert_allclose(x_te, arrays["images"][mask] / 16.0, rtol=1e-6)
    np.testing.assert_array_equal(t_tr, arrays["labels"][~mask])
    np.testing.assert_array_equal(t_te, arrays["labels"][mask])


def test_split_is_stratified():
    (_, t_tr), (_, t_te) = load_digits()
    total = np.bincount(np.concatenate([t_tr, t_te]), minlength=10)
    test = np.bincount(t_te, minlength=10)
    share = total * 360 / 1797
    assert np.all(np.abs(test - share) < 1.0)  # every class within one sample of its share


def test_split_is_fixed_across_calls():
    (a, ta), (b, tb) = load_digits()
    (c, tc), (d, td) = load_digits()
    np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(tb, td)
    a[:] = -1.0  # the caller owns the arrays: mutating them changes nothing stored
    (e, _), _ = load_digits()
    assert e.min() >= 0.0


def test_options():
    (x_tr, t_tr), (x_te, t_te) = load_digits(normalize=False, flatten=False, one_hot=True)
    assert x_tr.dtype == np.uint8 and x_tr.shape == (1437, 1, 8, 8) and x_te.shape == (360, 1, 8, 8)
    (flat, labels), _ = load_digits(normalize=False)
    np.testing.assert_array_equal(x_tr.reshape(1437, 64), flat)
    assert t_tr.shape == (1437, 10) and t_tr.dtype == np.float32
    np.testing.assert_array_equal(t_tr, np.eye(10)[labels])
    with pytest.raises(TypeError, match="one_hot"):
        load_digits(one_hot=1)


needs_source = pytest.mark.skipif(not SOURCE_CSV.is_file(), reason=f"{SOURCE_CSV} not present")


@needs_source
def test_matches_the_source_csv():
    with gzip.open(SOURCE_CSV, "rt") as fh:
        table = np.loadtxt(fh, delimiter=",", dtype=np.int64)
    arrays = stored()
    np.testing.assert_array_equal(arrays["images"], table[:, :64])
    np.testing.assert_array_equal(arrays["labels"], table[:, 64])


@needs_source
def test_conversion_script_reproduces_the_shipped_arrays():
    spec = importlib.util.spec_from_file_location("make_digits", ROOT / "src" / "layergraph" / "data" / "_make_digits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    images, labels = module.read_csv(SOURCE_CSV)
    mask = module.stratified_test_mask(labels, module.N_TEST, module.SEED)
    arrays = stored()
    np.testing.assert_array_equal(images, arrays["images"])
    np.testing.assert_array_equal(mask, arrays["is_test"])
