"""A bounded cache of freed arrays, by shape: machinery for speed only (the sequence ops').

What the sequence ops (ops/fused/sequence.py) save for their backward lives in a few (T, B, k)
arrays. When a backward has run and freed its op, the arrays come here, and the next call of
the same shapes takes them again instead of allocating: PyTorch's caching allocator in
miniature. Without it glibc hands the freed megabytes back to the kernel and every training
step pays for fresh zeroed pages (~1,100 page faults per LSTM benchmark step, about 20% of
its time, in a process that did not also run PyTorch).

A cache must not become a leak. A notebook that runs an LSTM over many sequence lengths
would otherwise keep arrays of every length it ever saw. So the pool is a least-recently-used
cache by key (shape, dtype, array module):

- it holds at most ``limit_bytes`` (64 MiB) and at most ``max_shapes`` (32) keys;
- taking an array or giving one back makes its key the most recently used;
- when either bound is exceeded, arrays of the least recently used key are dropped first
  (an array bigger than the whole limit is never kept);
- ``clear()`` drops everything (``tinygrad_course.ops.recurrent.clear_buffer_pool()``).

Training with the same shapes every step takes every array out in the forward and gives it
back in the backward, so nothing is ever evicted there. Dropped NumPy arrays go back to
malloc; CuPy arrays go back to CuPy's own memory pool (cupy.get_default_memory_pool()
.free_all_blocks() returns those to the GPU).
"""

from collections import OrderedDict

LIMIT_BYTES = 64 * 2**20
MAX_SHAPES = 32


class BufferPool:
    def __init__(self, limit_bytes=LIMIT_BYTES, max_shapes=MAX_SHAPES):
        self.limit_bytes, self.max_shapes = limit_bytes, max_shapes
        self._free = OrderedDict()  # key -> free arrays; least recently used key first
        self._nbytes = 0

    @property
    def nbytes(self):
        """Bytes held by the arrays waiting in the pool."""
        return self._nbytes

    def keys(self):
        """The keys held, least recently used first."""
        return list(self._free)

    def arrays(self):
        return [array for arrays in self._free.values() for array in arrays]

    def take(self, key):
        """A free array for ``key``, or None when there is none."""
        free = self._free.get(key)
        if not free:
            return None
        array = free.pop()
        self._nbytes -= array.nbytes
        if free:
            self._free.move_to_end(key)
        else:
            del self._free[key]
        return array

    def give_back(self, key, array):
        """Keep ``array`` for the next take(key), evicting least recently used arrays to stay
        within the bounds."""
        if array.nbytes > self.limit_bytes:
            return  # keeping it would evict everything else first
        self._free.setdefault(key, []).append(array)
        self._free.move_to_end(key)
        self._nbytes += array.nbytes
        while self._nbytes > self.limit_bytes or len(self._free) > self.max_shapes:
            oldest_key, oldest = next(iter(self._free.items()))
            self._nbytes -= oldest.pop().nbytes
            if not oldest:
                del self._free[oldest_key]

    def clear(self):
        """Drop every array; returns how many bytes were freed."""
        freed = self._nbytes
        self._free.clear()
        self._nbytes = 0
        return freed
