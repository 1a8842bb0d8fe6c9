"""The random ops and the machinery both random-stream classes share.

Every draw is one server op over a generator state (an int32 (streams, 6) MRG31k3p matrix held
in a shared variable): `op(state, size, *params) -> (new_state, sample)`. The state's shared
variable gets `default_update = new_state`, so `function()` advances it after each call (unless
no_default_updates), as Theano's RandomStreams and MRG_RandomStreams do. Seeding and the
jumps between streams are MRG31k3p arithmetic done here (tensord.sandbox.rng_mrg's helpers).
"""

import numpy as np

from tensord import _dtypes
from tensord.graph import Apply, Op, Variable
from tensord.tensor import basic
from tensord.tensor.type import TensorType

__all__ = ["RandomFunction", "size_vector", "RandomStreamsBase"]

_INTS = _dtypes.INT_DTYPES + _dtypes.UINT_DTYPES


class RandomFunction(Op):
    """One random op of the server: `wire_name` in mrg_uniform, random_normal, random_binomial,
    random_multinomial, random_choice, random_permutation. `ndim` is len(size); the sample has
    `ndim + extra_dims` dims (multinomial and permutation add one, per-row choice adds one)."""

    def __init__(self, wire_name, dtype, ndim, extra_dims=0, replace=None):
        self.wire_name = wire_name
        self.dtype = _dtypes.normalize(dtype)
        self.ndim = int(ndim)
        self.extra_dims = extra_dims
        self.replace = replace

    def attrs(self):
        attrs = {"dtype": np.dtype(self.dtype), "ndim": self.ndim}
        if self.replace is not None:
            attrs["replace"] = bool(self.replace)
        return attrs

    def make_node(self, state, size, *params):
        if state.dtype != "int32" or state.ndim != 2:
            raise TypeError("the generator state must be an int32 matrix, got %s" % state.type)
        sample = TensorType(self.dtype, (False,) * (self.ndim + self.extra_dims))()
        return Apply(self, [state, size] + list(params), [state.type(), sample])

    def __str__(self):
        # Theano prints mrg_uniform{TensorType(float32, vector),no_inplace}.
        out_type = TensorType(self.dtype, (False,) * (self.ndim + self.extra_dims))
        return "%s{%s,no_inplace}" % (self.wire_name, out_type)


def _check_entry(entry, allow_zero):
    if isinstance(entry, Variable):
        entry = basic.as_tensor_variable(entry)
        if entry.ndim != 0 or entry.dtype not in _INTS:
            raise TypeError("size entries must be integer scalars, got %s" % (entry.type,))
        return entry
    if isinstance(entry, (bool, np.bool_)) or not isinstance(entry, (int, np.integer)):
        raise TypeError("size must be a tuple of ints or an integer vector variable, got the "
                        "entry %r of type %s" % (entry, type(entry).__name__))
    if entry < 0 or (entry == 0 and not allow_zero):
        raise ValueError("The specified size contains a dimension with value %s %s"
                         % ("<" if allow_zero else "<=", "0"), entry)
    return int(entry)


def size_vector(size, ndim=None, allow_zero=True):
    """(int64 size vector, ndim, static shape tuple or None) from Theano's size forms: an int,
    a tuple/list of ints and integer scalars, or an integer vector variable (e.g. `h.shape`)."""
    from tensord.tensor.shape_ops import shape_vector, vector_entries
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (size,)
    if isinstance(size, (tuple, list)):
        entries = [_check_entry(e, allow_zero) for e in size]
        if ndim is not None and ndim != len(entries):
            raise ValueError("ndim=%d does not match the size %r" % (ndim, tuple(size)))
        static = tuple(entries) if all(isinstance(e, int) for e in entries) else None
        if static is not None:
            vec = basic.constant(np.asarray(static, dtype="int64").reshape(len(static)))
            return vec, len(entries), static
        return shape_vector(entries), len(entries), None
    if isinstance(size, Variable):
        size = basic.as_tensor_variable(size)
        if size.dtype not in _INTS:
            raise TypeError("size must be an integer vector, got %s" % (size.type,))
        if size.ndim == 0:
            return size_vector((size,), ndim, allow_zero)
        if size.ndim != 1:
            raise ValueError("size must be a vector (1 dimension), got %s" % (size.type,))
        entries = vector_entries(size)
        length = len(entries) if entries is not None else ndim
        if length is None:
            raise ValueError("cannot tell the length of size %s; pass ndim" % (size,))
        if ndim is not None and ndim != length:
            raise ValueError("ndim=%d does not match the length of size (%d)" % (ndim, length))
        if size.dtype != "int64":
            size = basic.cast(size, "int64")
        return size, length, None
    raise TypeError("size must be a tuple of ints or an integer vector variable, got %r of "
                    "type %s" % (size, type(size).__name__))


class RandomStreamsBase:
    """State bookkeeping shared by RandomStreams and MRG_RandomStreams.

    `state_updates` lists (state shared variable, new state) pairs, one per random variable,
    in creation order; subclasses define `_initial_states(n_streams)` (the next state) and
    `_restart(seed)` (reset whatever `_initial_states` draws from)."""

    # The class of the shared variables holding the states (None: SharedVariable).
    _state_class = None

    def __init__(self):
        self.state_updates = []
        self._stream_counts = []

    def updates(self):
        return list(self.state_updates)

    def seed(self, seed=None):
        """Re-initializes every random variable's state from `seed` (the constructor's seed when
        None), in creation order, so the streams replay what they gave after construction."""
        self._restart(seed)
        for (state, _), n_streams in zip(self.state_updates, self._stream_counts):
            state.set_value(self._initial_states(n_streams))

    def _draw(self, wire_name, size, params, dtype, n_streams, extra_dims=0, replace=None,
              ndim=None, allow_zero=True):
        from tensord.sharedvar import shared
        size_var, ndim, _ = size_vector(size, ndim, allow_zero)
        state = shared(self._initial_states(n_streams), _variable_class=self._state_class)
        op = RandomFunction(wire_name, dtype, ndim, extra_dims, replace)
        new_state, sample = op(state, size_var, *params)
        state.default_update = new_state
        self.state_updates.append((state, new_state))
        self._stream_counts.append(n_streams)
        return sample, state, new_state

    @staticmethod
    def _tag(out, state, new_state):
        """Theano's attributes of a random variable: its state (`rng`, MRG's `rstate`) and the
        (state, new state) update pair."""
        out.rng = state
        out.rstate = state
        out.update = (state, new_state)
        return out
