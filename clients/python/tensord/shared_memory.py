"""Big tensors through POSIX shared memory, for a client on the server's own host.

With config.shared_memory set (TENSORD_FLAGS=shared_memory=True), a Function call copies each
input array of at least MIN_BYTES into a shared-memory region this process made and registered
in its session, and asks the server to write outputs that large into the same region: the
request and reply carry only where the bytes are. Nothing else changes for the caller: outputs
are still fresh arrays of its own.

Each call takes a region of the pool for itself (so threads never share one), grows to what the
call needs, and gives it back; after a call the server may still be running (the client gave up
waiting), the region is never used again. A region's object is readable by this user only,
starts with 16 random bytes the registration sends along (the server opens the object with its
own rights, and only the object's readers know them), and is unlinked as soon as the server
has mapped it: nothing is left in /dev/shm when either side dies. A server refuses shared memory
to a client that is not on its host (PERMISSION_DENIED); one that holds all the regions it may
gets arrays in messages (a warning says so once); a restarted server has no regions, and the
pool registers new ones (see Function._call_through_shared_memory).
"""

import mmap
import os
import secrets
import threading
import warnings

import numpy as np

from tensord import _dtypes, _run_wire
from tensord._proto import compute_pb2
from tensord.errors import UNSETTLED, ResourceExhausted, TensordError

__all__ = ["MIN_BYTES", "SharedMemoryPool"]

# Smaller arrays go in the request as they always did: a few copies of them cost less than the
# bookkeeping.
MIN_BYTES = 1 << 16
_ALIGN = 64  # every array starts on a cache line
_SMALLEST_REGION = 1 << 20
_FREE_REGIONS_KEPT = 4


def _aligned(n):
    return (n + _ALIGN - 1) // _ALIGN * _ALIGN


class _Region:
    """One shared-memory object of this process, mapped here and registered in the session."""

    def __init__(self, client, byte_size):
        self.name = "tensord-py-" + secrets.token_hex(12)
        self.byte_size = byte_size
        path = "/dev/shm/" + self.name
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.ftruncate(fd, byte_size)
            self.map = mmap.mmap(fd, byte_size)
            # Shows the server that this caller can read the object (its name is visible to
            # every local user, and the server opens it with its own rights).
            proof = secrets.token_bytes(16)
            self.map[:16] = proof
            request = compute_pb2.RegisterSharedMemoryRequest(
                session_id=client.session_id, name=self.name, key="/" + self.name, offset=0,
                byte_size=byte_size, proof=proof)
            try:
                client.call("RegisterSharedMemory", request)
            except TensordError as exc:
                if getattr(exc.code, "name", None) in UNSETTLED:  # it may have registered it
                    _unregister(client, self.name)
                raise
        finally:
            os.close(fd)
            os.unlink(path)  # the server keeps its own mapping from here on

    def array(self, offset, dtype, shape):
        return np.ndarray(shape, dtype=dtype, buffer=self.map, offset=offset)


class _Call:
    """One call's use of a region: the inputs placed in it and the slots offered for outputs."""

    def __init__(self, pool, region, values, output_slots):
        self.pool = pool
        self.region = region
        self.values = values
        self.slot_parts = [_run_wire.output_slot(region.name if size else "", offset, size)
                           for offset, size in output_slots]

    def output(self, shm):
        """A Value.shm the server answered: a fresh array the caller owns."""
        if shm.region != self.region.name:
            raise ValueError("server wrote an output into region %r, which this call did not "
                             "offer" % shm.region)
        wire = _dtypes.wire_numpy(shm.dtype)
        return self.region.array(shm.offset, wire, tuple(shm.shape)).astype(
            _dtypes.native_numpy(shm.dtype), copy=True)

    def release(self, keep=True):
        """Ends the call's use of its region: back to the pool, or (`keep=False`) never used
        again and unregistered."""
        if keep:
            self.pool._give_back(self.region)
        else:
            self.pool._unregister(self.region)


class SharedMemoryPool:
    """The regions of one client's session, lent one per call."""

    def __init__(self, client):
        self._client = client
        self._lock = threading.Lock()
        self._free = []  # regions no call holds, smallest first
        self._warned = False

    def place(self, values, output_nbytes):
        """A _Call holding `values` (wire arrays and device arrays) with those of at least
        MIN_BYTES copied into a region, and slots for the outputs expected to be that large
        (`output_nbytes`: each output's size in the last call, or None); None when no value
        and no output is large enough to be worth it."""
        layout, end = [], 0
        for v in values:
            if isinstance(v, np.ndarray) and v.nbytes >= MIN_BYTES:
                layout.append(end)
                end += _aligned(v.nbytes)
            else:
                layout.append(None)
        slots = []
        for n in output_nbytes or ():
            if n is not None and n >= MIN_BYTES:
                slots.append((end, n))
                end += _aligned(n)
            else:
                slots.append((0, 0))
        if end == 0:
            return None
        try:
            region = self._take(end)
        except ResourceExhausted as exc:  # the session or server holds all the regions it may
            if not self._warned:
                self._warned = True
                warnings.warn("tensord: no shared-memory region (%s); arrays go in messages"
                              % exc, stacklevel=4)
            return None
        placed = list(values)
        for i, offset in enumerate(layout):
            if offset is None:
                continue
            arr, enum = _dtypes.wire_array(values[i])
            np.copyto(region.array(offset, arr.dtype, arr.shape), arr, casting="no")
            placed[i] = _run_wire.ShmValue(region.name, offset, enum, arr.shape)
        while slots and slots[-1][1] == 0:
            slots.pop()
        return _Call(self, region, placed, slots)

    def forget(self):
        """Drops every region: the server no longer has them (it restarted)."""
        with self._lock:
            self._free.clear()

    def _take(self, nbytes):
        with self._lock:
            for i, region in enumerate(self._free):
                if region.byte_size >= nbytes:
                    return self._free.pop(i)
        size = _SMALLEST_REGION
        while size < nbytes:
            size *= 2
        return _Region(self._client, size)

    def _give_back(self, region):
        with self._lock:
            self._free.append(region)
            self._free.sort(key=lambda r: r.byte_size)
            dropped = self._free[:-_FREE_REGIONS_KEPT]
            del self._free[:-_FREE_REGIONS_KEPT]
        for old in dropped:
            self._unregister(old)

    def _unregister(self, region):
        _unregister(self._client, region.name)


def _unregister(client, name):
    try:
        client.call("UnregisterSharedMemory", compute_pb2.UnregisterSharedMemoryRequest(
            session_id=client.session_id, name=name))
    except TensordError:
        pass  # the server dropped it already (it restarted, or the session closed), or is gone
