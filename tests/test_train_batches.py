import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from layergraph.errors import ShapeError
from layergraph.train import Batcher, epoch_order, num_batches


@given(n=st.integers(1, 60), bs=st.integers(1, 70), seed=st.integers(0, 2**32 - 1))
def test_every_sample_exactly_once_per_epoch(n, bs, seed):
    x = np.arange(n, dtype=np.float64)[:, None] * np.ones((1, 3))
    t = np.arange(n)
    batcher = Batcher(x, t, bs)
    rng = np.random.default_rng(seed)
    for _ in range(2):
        seen_x, seen_t = [], []
        for xb, tb in batcher.batches(epoch_order(n, rng)):
            assert 1 <= len(xb) <= bs and len(xb) == len(tb)
            np.testing.assert_array_equal(xb[:, 0], tb)  # rows stay paired with their targets
            seen_x.append(xb[:, 0].copy())
            seen_t.append(tb.copy())
        assert len(seen_t) == -(-n // bs) == len(batcher)
        np.testing.assert_array_equal(np.sort(np.concatenate(seen_t)), np.arange(n))


def test_order_comes_from_the_generator_and_changes_between_epochs():
    rng1, rng2 = np.random.default_rng(5), np.random.default_rng(5)
    a1, a2 = epoch_order(50, rng1), epoch_order(50, rng1)
    np.testing.assert_array_equal(a1, epoch_order(50, rng2))
    np.testing.assert_array_equal(a2, epoch_order(50, rng2))
    assert not np.array_equal(a1, a2)
    np.testing.assert_array_equal(epoch_order(7, rng1, shuffle=False), np.arange(7))


def test_batches_follow_the_order_and_drop_last():
    x = np.arange(10.0)[:, None]
    t = np.arange(10) * 10
    order = np.array([3, 1, 4, 0, 9, 2, 6, 5, 8, 7])
    got = [(xb[:, 0].copy(), tb.copy()) for xb, tb in Batcher(x, t, 4).batches(order)]
    assert [len(g[1]) for g in got] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([g[0] for g in got]), order)
    np.testing.assert_array_equal(np.concatenate([g[1] for g in got]), order * 10)
    dropped = list(Batcher(x, t, 4, drop_last=True).batches(order))
    assert len(dropped) == 2 == num_batches(10, 4, drop_last=True)
    assert num_batches(10, 4) == 3 and num_batches(8, 4) == 2


def test_batcher_rejects_bad_input():
    with pytest.raises(ShapeError, match="same number of samples"):
        Batcher(np.zeros((5, 2)), np.zeros(4), 2)
    with pytest.raises(ValueError, match="batch_size"):
        Batcher(np.zeros((5, 2)), np.zeros(5), 0)
    with pytest.raises(TypeError, match="batch_size"):
        Batcher(np.zeros((5, 2)), np.zeros(5), 2.5)
    with pytest.raises(ValueError, match="no samples"):
        Batcher(np.zeros((0, 2)), np.zeros(0), 2)
