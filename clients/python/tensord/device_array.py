"""DeviceArray: a function output the server keeps on a device context (Theano's GpuArray).

A function whose output is transferred to a device (`theano.function([a], b.transfer('dev0'))`)
returns one instead of a NumPy array. Its data stays on the server: `numpy.asarray(d)` or
`d.get()` fetches it, and passing it to another function of the same session uses it where it
lives. The server frees it when the object is garbage (released in a batch before this client's
next call), on `d.release()`, or when the session closes."""

import weakref

import numpy as np

from tensord import _dtypes
from tensord._proto import compute_pb2

__all__ = ["DeviceArray"]


class DeviceArray:
    def __init__(self, client, ref):
        self._client = client
        self._session_id = client.session_id
        self.id = ref.id
        self.context = ref.context
        self.dtype = np.dtype(_dtypes.from_proto(ref.dtype))
        self.shape = tuple(ref.shape)
        # A finalizer must not call the server (it may run inside another call, in any
        # thread): it queues the id for the client's next call to release.
        self._finalizer = weakref.finalize(self, client.release_array_later,
                                           self._session_id, self.id)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d DeviceArray")
        return self.shape[0]

    def get(self):
        """The value as a NumPy array, copied from the device (pygpu's GpuArray.get)."""
        resp = self._client.call("FetchRef", compute_pb2.FetchRefRequest(
            session_id=self._session_id, id=self.id))
        return _dtypes.tensor_to_array(resp.value)

    def __array__(self, dtype=None, copy=None):
        value = self.get()
        return value if dtype is None else value.astype(dtype, copy=False)

    def release(self):
        """Frees it on the server now; using it afterwards raises NotFound."""
        if self._finalizer.detach() is None:
            return  # released already
        self._client.call("ReleaseRefs", compute_pb2.ReleaseRefsRequest(
            session_id=self._session_id, ids=[self.id]))

    def __repr__(self):
        return "gpuarray." + repr(self.get())

    def __str__(self):
        return str(self.get())
