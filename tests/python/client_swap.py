"""Points the tensord API (theano.shared, theano.function, ...) at a client of a test's own for
a block. The API's client is process-wide, so blocks are serialized; functions compiled inside
one keep calling through their client afterwards."""

import contextlib
import threading

from tensord import connection

_lock = threading.RLock()


@contextlib.contextmanager
def using(client):
    with _lock:
        saved, connection._client = connection._client, client
        try:
            yield client
        finally:
            connection._client = saved
