"""Theano's theano.tensor.shared_randomstreams.RandomStreams, drawn on the server.

Theano kept a numpy RandomState per random variable; tensord keeps an MRG31k3p state (one
stream, an int32 (1, 6) matrix) in a shared variable instead, so the numbers are not numpy's
(bit-compatibility with numpy is not a goal). What is kept: the signatures and dtype defaults,
per-variable seeds drawn from numpy.random.RandomState(seed).randint(2**30) in creation order
(so two streams with the same seed give the same numbers, and seed(n) replays them), `rv.rng`
as the state's shared variable, whose value has Theano's RandomState methods (seed, get_state,
set_state: the tutorial's "Seeding Streams" and "Sharing Streams Between Functions"), and its
default_update advancing it on every call.
"""

import numpy as np

from tensord import _dtypes
from tensord.config import config
from tensord.sandbox.rng_mrg import ff_2p134
from tensord.sharedvar import SharedVariable
from tensord.tensor import basic
from tensord.tensor.raw_random import RandomStreamsBase
from tensord.tensor.var import TensorConstant

__all__ = ["RandomStreams", "RandomStateValue"]


class RandomStateValue(np.ndarray):
    """The value of a RandomStreams variable's `rng`: the MRG31k3p state array, with the
    methods of the numpy RandomState Theano kept there, so that Theano's idioms work:

        rng_val = rv.rng.get_value(borrow=True); rng_val.seed(89234)
        rv.rng.set_value(rng_val, borrow=True)
    """

    def seed(self, seed):
        """Resets the state in place to the one `seed` gives (as RandomStreams seeds it)."""
        self[...] = _state_from_seed(seed)

    def get_state(self):
        """A copy of the state, for set_state."""
        return np.array(self)

    def set_state(self, state):
        """Puts back a state from get_state (in place)."""
        state = np.asarray(state)
        if state.shape != self.shape:
            raise ValueError("set_state: a state of shape %s for a generator of shape %s"
                             % (state.shape, self.shape))
        self[...] = state


class _RandomStateVariable(SharedVariable):
    """A RandomStreams state: get_value gives a RandomStateValue."""

    def get_value(self, borrow=False, return_internal_type=False):
        return super().get_value(borrow, return_internal_type).view(RandomStateValue)


def _state_from_seed(seed):
    # [s] * 6 with small s starts in a low-entropy corner of the state space; one 2^134 jump
    # mixes it (and the +1 keeps 0, an invalid MRG seed, out).
    return ff_2p134(np.full(6, int(seed) + 1, dtype=np.int64)).reshape(1, 6)


def _broadcast_size(size, ndim, *params):
    """Theano's raw_random rule: without size, the sample takes the broadcast shape of the
    distribution's parameters."""
    if size is not None:
        return size, ndim
    out_ndim = max([p.ndim for p in params] + [0])
    if out_ndim == 0:
        return (), 0
    total = params[0]
    for p in params[1:]:
        total = total + p
    return total.shape, out_ndim


class RandomStreams(RandomStreamsBase):
    """Theano's RandomStreams(seed=None): uniform, normal, binomial, random_integers,
    multinomial, choice, permutation with Theano's signatures (dtype floatX for uniform/normal, int64 otherwise)."""

    _state_class = _RandomStateVariable

    def __init__(self, seed=None):
        super().__init__()
        self.default_instance_seed = seed
        self.gen_seedgen = np.random.RandomState(seed)

    def _initial_states(self, n_streams):
        return _state_from_seed(self.gen_seedgen.randint(2 ** 30))

    def _restart(self, seed):
        self.gen_seedgen = np.random.RandomState(
            self.default_instance_seed if seed is None else seed)

    def _sample(self, wire_name, size, ndim, params, dtype, extra_dims=0, replace=None):
        sample, state, new = self._draw(wire_name, size, params, dtype, 1,
                                        extra_dims=extra_dims, replace=replace, ndim=ndim)
        return sample, state, new

    def uniform(self, size=None, low=0.0, high=1.0, ndim=None, dtype=None):
        """Uniforms in [low, high), shape size (or the broadcast of low and high)."""
        low, high = basic.as_tensor_variable(low), basic.as_tensor_variable(high)
        dtype = _float(dtype if dtype is not None
                       else _dtypes.upcast(config.floatX, low.dtype, high.dtype), "uniform")
        size, ndim = _broadcast_size(size, ndim, low, high)
        u, state, new = self._sample("mrg_uniform", size, ndim, [], dtype)
        low, high = basic.cast(low, dtype), basic.cast(high, dtype)
        return self._tag(u * (high - low) + low, state, new)

    def normal(self, size=None, avg=0.0, std=1.0, ndim=None, dtype=None):
        """avg + std * z, z standard normal (Box-Muller on the server)."""
        avg, std = basic.as_tensor_variable(avg), basic.as_tensor_variable(std)
        dtype = _float(dtype if dtype is not None
                       else _dtypes.upcast(config.floatX, avg.dtype, std.dtype), "normal")
        size, ndim = _broadcast_size(size, ndim, avg, std)
        z, state, new = self._sample("random_normal", size, ndim, [], dtype)
        return self._tag(z * basic.cast(std, dtype) + basic.cast(avg, dtype), state, new)

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", prob=None):
        """Successes in n trials of probability p (numpy.random.binomial)."""
        if prob is not None:
            p = prob
        n, p = basic.as_tensor_variable(n), basic.as_tensor_variable(p)
        if n.dtype not in _dtypes.INT_DTYPES + _dtypes.UINT_DTYPES:
            raise TypeError("binomial: n must be an integer, got %s" % (n.type,))
        _check_probabilities(p, "binomial: p")
        size, ndim = _broadcast_size(size, ndim, n, p)
        out, state, new = self._sample("random_binomial", size, ndim, [n, p], dtype)
        return self._tag(out, state, new)

    def random_integers(self, size=None, low=0, high=1, ndim=None, dtype="int64"):
        """Integers in [low, high], both inclusive (numpy's random_integers): low plus the floor
        of a float64 uniform in (0, 1) times the range (31 random bits per draw)."""
        from tensord.tensor.elemwise import floor
        low, high = basic.as_tensor_variable(low), basic.as_tensor_variable(high)
        for what, v in (("low", low), ("high", high)):
            if v.dtype not in _dtypes.INT_DTYPES + _dtypes.UINT_DTYPES:
                raise TypeError("random_integers: %s must be an integer, got %s" % (what, v.type))
        size, ndim = _broadcast_size(size, ndim, low, high)
        u, state, new = self._sample("mrg_uniform", size, ndim, [], "float64")
        span = basic.cast(high, "float64") - basic.cast(low, "float64") + 1.0
        out = basic.cast(low, "int64") + basic.cast(floor(u * span), "int64")
        return self._tag(basic.cast(out, dtype), state, new)

    def multinomial(self, size=None, n=1, pvals=(0.5, 0.5), ndim=None, dtype="int64"):
        """Counts of n draws from each distribution pvals[..., :] (numpy.random.multinomial);
        shape size + (len(pvals[-1]),)."""
        n = basic.as_tensor_variable(n)
        pvals = basic.as_tensor_variable(list(pvals) if isinstance(pvals, tuple) else pvals)
        if pvals.ndim < 1:
            raise ValueError("multinomial: pvals must have at least 1 dimension, got %s"
                             % (pvals.type,))
        _check_probabilities(pvals, "multinomial: pvals", rows_sum_to_one=True)
        if size is None:
            size, ndim = _broadcast_size(None, ndim, n, basic.sum(pvals, axis=-1))
        out, state, new = self._sample("random_multinomial", size, ndim, [n, pvals], dtype,
                                       extra_dims=1)
        return self._tag(out, state, new)

    def choice(self, size=None, a=2, replace=True, p=None, ndim=None, dtype="int64"):
        """numpy.random.choice(a, size, replace, p): a is a population size or a vector."""
        a = basic.as_tensor_variable(a)
        if a.ndim > 1:
            raise ValueError("choice: a must be a scalar or a vector, got %s" % (a.type,))
        if p is None:
            p = basic.constant(np.zeros(0, dtype="float64"))
        else:
            p = basic.as_tensor_variable(p)
            if p.ndim != 1:
                raise ValueError("choice: p must be a vector, got %s" % (p.type,))
            _check_probabilities(p, "choice: p", rows_sum_to_one=True)
        if not isinstance(replace, (bool, np.bool_)):
            raise TypeError("choice: replace must be a Python bool, got %r" % (replace,))
        _check_population(a, p, replace, size)
        out, state, new = self._sample("random_choice", () if size is None else size, ndim,
                                       [a, p], dtype, replace=bool(replace))
        return self._tag(out, state, new)

    def permutation(self, size=None, n=1, ndim=None, dtype="int64"):
        """Permutations of range(n): shape size + (n,) (one permutation when size is None)."""
        n = basic.as_tensor_variable(n)
        out, state, new = self._sample("random_permutation", () if size is None else size, ndim,
                                       [n], dtype, extra_dims=1)
        return self._tag(out, state, new)


def _float(dtype, method):
    dtype = _dtypes.normalize(dtype)
    if dtype not in ("float32", "float64"):
        raise TypeError("RandomStreams.%s: dtype must be float32 or float64, got %s"
                        % (method, dtype))
    return dtype


def _check_probabilities(p, what, rows_sum_to_one=False):
    """Constant probabilities are checked while building, as numpy checks them at the call;
    symbolic ones are checked by the server when the function runs."""
    allowed = _dtypes.FLOAT_DTYPES if rows_sum_to_one else _dtypes.FLOAT_DTYPES + _dtypes.INT_DTYPES
    if p.dtype not in allowed:
        raise TypeError("%s must be a float tensor, got %s" % (what, p.type))
    if not isinstance(p, TensorConstant):
        return
    data = np.asarray(p.data, dtype="float64")
    if data.size and (np.isnan(data).any() or data.min() < 0 or data.max() > 1):
        raise ValueError("%s must be probabilities in [0, 1], got %s" % (what, data))
    # As the server: long rows may accumulate more rounding.
    row_length = data.shape[-1] if data.ndim else 1
    tol = (1e-4 if p.dtype == "float32" else 1e-6) * max(1.0, row_length / 100.0)
    if rows_sum_to_one and data.size and np.abs(data.sum(axis=-1) - 1).max() > tol:
        raise ValueError("%s must sum to 1 (within %g), got sums %s"
                         % (what, tol, data.sum(axis=-1)))


def _check_population(a, p, replace, size):
    """numpy.random.choice's build-time errors for constant a and size."""
    if not isinstance(a, TensorConstant):
        return
    pop = int(a.data) if a.ndim == 0 else len(a.data)
    p_data = p.data if isinstance(p, TensorConstant) else None
    if p_data is not None and p_data.size and len(p_data) != pop:
        raise ValueError("choice: a and p must have the same size (%d and %d)"
                         % (pop, len(p_data)))
    if replace or size is None or not isinstance(size, (int, tuple, list)):
        return
    dims = (size,) if isinstance(size, int) else size
    if all(isinstance(d, (int, np.integer)) for d in dims) and int(np.prod(dims)) > pop:
        raise ValueError("choice: cannot take a larger sample (%d) than the population (%d) "
                         "when replace=False" % (int(np.prod(dims)), pop))
