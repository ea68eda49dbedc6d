"""The sequence ops' buffer pool: reuse for the same shapes, bounded, least recently used
shapes evicted first, and emptied on request (ops/buffer_pool.py)."""

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course import nn
from tinygrad_course.ops import recurrent
from tinygrad_course.ops.buffer_pool import LIMIT_BYTES, MAX_SHAPES, BufferPool


def arrays(n, size=10):
    return [np.empty(size, dtype=np.float32) for _ in range(n)]  # 40 bytes each by default


def test_a_freed_array_is_taken_again_for_its_key_only():
    pool = BufferPool(limit_bytes=1000, max_shapes=4)
    a, b = arrays(2)
    pool.give_back("a", a)
    pool.give_back("b", b)
    assert pool.nbytes == 80 and pool.take("c") is None
    assert pool.take("a") is a and pool.take("a") is None
    assert pool.keys() == ["b"] and pool.nbytes == 40


def test_the_least_recently_used_key_goes_first_when_bytes_run_out():
    pool = BufferPool(limit_bytes=200, max_shapes=10)
    for key, array in zip("abcde", arrays(5)):
        pool.give_back(key, array)
    assert pool.keys() == ["a", "b", "c", "d", "e"] and pool.nbytes == 200
    pool.give_back("a", arrays(1)[0])  # "a" used again: "b" is now the oldest, and goes
    assert pool.keys() == ["c", "d", "e", "a"] and pool.nbytes == 200
    pool.give_back("f", arrays(1)[0])
    assert pool.keys() == ["d", "e", "a", "f"] and pool.nbytes == 200
    pool.take("a")  # taking counts as a use too ("a" keeps its second array)
    pool.give_back("g", arrays(1)[0])
    pool.give_back("h", arrays(1)[0])
    assert pool.keys() == ["e", "f", "a", "g", "h"] and pool.nbytes == 200


def test_the_number_of_keys_is_bounded_and_a_huge_array_is_not_kept():
    pool = BufferPool(limit_bytes=10_000, max_shapes=3)
    for key, array in zip(range(7), arrays(7)):
        pool.give_back(key, array)
    assert pool.keys() == [4, 5, 6] and pool.nbytes == 120
    pool.give_back("huge", np.empty(20_000, dtype=np.uint8))
    assert pool.keys() == [4, 5, 6] and pool.nbytes == 120  # nothing evicted for it either
    assert pool.clear() == 120 and pool.nbytes == 0 and pool.keys() == []


def train_step(layer, length, batch=2, seed=0):
    x = tg.tensor(np.random.default_rng(seed).standard_normal((length, batch, 3)))
    output, _ = layer(x)
    (output * output).sum().backward()


@pytest.fixture
def empty_pool():
    recurrent.clear_buffer_pool()
    yield recurrent._buffer_pool
    recurrent.clear_buffer_pool()


def test_training_with_the_same_shapes_keeps_a_constant_pool(empty_pool):
    layer = nn.LSTM(3, 4, seed=0)
    train_step(layer, 6)
    held, keys = recurrent.buffer_pool_bytes(), empty_pool.keys()
    assert held > 0
    for step in range(5):
        train_step(layer, 6, seed=step)
        assert recurrent.buffer_pool_bytes() == held and sorted(empty_pool.keys()) == sorted(keys)


@pytest.mark.parametrize("kind", [nn.LSTM, nn.GRU, nn.RNN])
def test_many_sequence_lengths_evict_the_old_shapes(empty_pool, kind):
    layer = kind(3, 4, seed=0)
    for length in range(1, 41):  # ~3 shapes per length: 120 > MAX_SHAPES
        train_step(layer, length)
        assert len(empty_pool.keys()) <= MAX_SHAPES
        assert recurrent.buffer_pool_bytes() <= LIMIT_BYTES
    lengths = {key[0][0] for key in empty_pool.keys()}
    assert 40 in lengths and 1 not in lengths and len(empty_pool.keys()) > 0
    assert recurrent.clear_buffer_pool() > 0
    assert recurrent.buffer_pool_bytes() == 0 and empty_pool.keys() == []


def test_the_byte_limit_holds_for_long_sequences(empty_pool, monkeypatch):
    monkeypatch.setattr(empty_pool, "limit_bytes", 64 * 1024)
    layer = nn.LSTM(3, 16, seed=0)
    for length in (10, 20, 40, 80, 20, 10):
        train_step(layer, length, batch=8)
        assert 0 < recurrent.buffer_pool_bytes() <= 64 * 1024
        lengths = {key[0][0] for key in empty_pool.keys()}
        assert lengths == {length}  # the previous length was the least recently used
        if length == 80:  # a (80, 8, 16) float32 buffer is 40 KiB: one fits, (80, 8, 32) not
            assert [key[:2] for key in empty_pool.keys()] == [((80, 8, 16), "<f4")]
