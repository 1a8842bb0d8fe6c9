"""Shared variables: values that live in this process's session on the server, between calls."""

import numpy as np

from tensord import _dtypes
from tensord._proto import compute_pb2
from tensord.config import config
from tensord.graph import Variable
from tensord.tensor.type import TensorType
from tensord.tensor.var import TensorVariable

__all__ = ["shared", "SharedVariable"]


class SharedVariable(TensorVariable):
    """A symbolic variable whose value is held by the server (CreateShared/GetShared/SetShared).

    In a graph it is a leaf whose source is the server-side id; function updates change it.
    """

    def __init__(self, type, shared_id, name=None, strict=False, allow_downcast=None,
                 context=""):
        super().__init__(type, name=name)
        self.shared_id = shared_id
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.context = context
        # Theano's default_update: the value function() stores here after each call unless the
        # function has an explicit update for it or no_default_updates (random streams' states).
        self.default_update = None

    def get_value(self, borrow=False, return_internal_type=False):
        """A copy of the current value (borrow is accepted for Theano compatibility)."""
        from tensord.connection import get_client
        client = get_client()
        resp = client.call("GetShared", compute_pb2.GetSharedRequest(
            session_id=client.session_id, id=self.shared_id))
        return _dtypes.tensor_to_array(resp.value)

    def set_value(self, new_value, borrow=False):
        """Replaces the value; converted to this variable's dtype only if that is lossless
        (or allow_downcast was given to shared()), as Theano's filter does."""
        from tensord.connection import get_client
        data = self.type.filter(new_value, strict=self.strict,
                                allow_downcast=self.allow_downcast)
        client = get_client()
        request = compute_pb2.SetSharedRequest(session_id=client.session_id, id=self.shared_id)
        _dtypes.array_to_tensor(data, request.value)
        client.call("SetShared", request)

    def delete(self):
        """Frees the server-side value; the variable is unusable afterwards."""
        from tensord.connection import get_client
        client = get_client()
        client.call("DeleteShared", compute_pb2.DeleteSharedRequest(
            session_id=client.session_id, id=self.shared_id))

    def clone(self):
        cp = SharedVariable(self.type, self.shared_id, self.name, self.strict,
                            self.allow_downcast, self.context)
        return cp

    def eval(self, inputs_to_values=None):
        if not inputs_to_values:
            return self.get_value()
        return super().eval(inputs_to_values)

    # Pickling, as Theano's: the value travels in the pickle, and unpickling (in this process
    # or another, connected to this server or another) makes a new, independent shared
    # variable holding it. Within one pickle every reference is the same object (pickle's
    # memo), so a graph or a function and its shared variables come back consistent.
    def __getstate__(self):
        state = dict(self.__dict__)
        del state["shared_id"]
        state["_value"] = self.get_value()
        return state

    def __setstate__(self, state):
        from tensord.errors import FailedPrecondition, InvalidArgument, NotFound
        value = state.pop("_value")
        self.__dict__.update(state)
        kwargs = dict(name=self.name, strict=self.strict, allow_downcast=True,
                      broadcastable=self.type.broadcastable)
        try:  # where it was, when this server has that context; else the default placement
            made = shared(value, target=self.context or None, **kwargs)
        except (FailedPrecondition, InvalidArgument, NotFound):  # no such context there
            made = shared(value, **kwargs)
        self.shared_id, self.type, self.context = made.shared_id, made.type, made.context


def _as_array(value):
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (bool, int, float, np.generic)):
        # Theano's scalar_constructor: Python int -> int64, float -> float64, numpy keeps dtype.
        return np.asarray(value)
    if isinstance(value, (list, tuple)):
        return np.asarray(value)
    raise TypeError("shared() needs a numeric value (ndarray, number or list), got %r"
                    % (type(value).__name__,))


def _on_device(client, context):
    """Whether the server's context `context` is a device (its memory is not host memory)."""
    devices = client.__dict__.get("_device_contexts")
    if devices is None:
        info = client.call("GetServerInfo", compute_pb2.GetServerInfoRequest())
        devices = {c.name for c in info.contexts if c.device != "cpu"}
        client.__dict__["_device_contexts"] = devices
    return context in devices


def shared(value, name=None, strict=False, allow_downcast=None, borrow=False, target=None,
           broadcastable=None, _variable_class=None):
    """Creates a shared variable on the server, initialized with a copy of `value` (a scipy
    sparse matrix makes a tensord.sparse SparseSharedVariable)."""
    from tensord.connection import get_client
    from tensord.sparse.sharedvar import sparse_constructor
    from tensord.sparse.type import is_sparse_value
    if isinstance(value, Variable):
        raise TypeError("Shared variable constructor needs numeric values and not symbolic "
                        "variables.")
    if is_sparse_value(value):  # a scipy sparse matrix: four shared components
        return sparse_constructor(value, name=name, strict=strict,
                                  allow_downcast=allow_downcast, target=target)
    # Theano's rule (its GPU constructor takes arrays only): a Python or NumPy scalar, such as a
    # step counter, stays in host memory unless a target is named.
    if target is None and not isinstance(value, np.ndarray):
        target = "cpu"
    data = _as_array(value)
    if data.dtype.kind == "c":
        raise TypeError("complex shared variables are not supported by tensord")
    dtype = _dtypes.normalize(data.dtype)
    if broadcastable is None:
        broadcastable = (False,) * data.ndim
    ttype = TensorType(dtype, broadcastable)
    data = ttype.filter(data, strict=False, allow_downcast=True)

    client = get_client()
    request = compute_pb2.CreateSharedRequest(session_id=client.session_id, name=name or "",
                                              target=target or config.chosen_device())
    if any(broadcastable):
        request.broadcastable.extend(bool(b) for b in broadcastable)
    _dtypes.array_to_tensor(data, request.value)
    info = client.call("CreateShared", request)
    if _on_device(client, info.context):
        ttype = ttype.on(target or "None")  # Theano names the default context None
    return (_variable_class or SharedVariable)(ttype, info.id, name=name, strict=strict,
                                               allow_downcast=allow_downcast,
                                               context=info.context)
