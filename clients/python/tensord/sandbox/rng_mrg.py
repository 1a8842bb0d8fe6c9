"""Theano's MRG_RandomStreams: MRG31k3p (L'Ecuyer and Touzin, 2000) with Theano's stream
layout, drawn by the server's random ops.

Seeding follows theano.sandbox.rng_mrg: the instance state starts as [seed] * 6; each random
variable gets `n_streams` substreams spaced 2^72 draws apart (the first is the instance
state), then the instance state jumps 2^134 draws ahead for the next variable. Draw j of a
variable comes from substream j % n_streams, so uniforms equal Theano's for the same seed.
"""

import numpy as np

from tensord import _dtypes
from tensord.config import config
from tensord.tensor import basic
from tensord.tensor.raw_random import RandomStreamsBase

__all__ = ["MRG_RandomStreams", "guess_n_streams", "ff_2p72", "ff_2p134", "M1", "M2"]

M1 = 2147483647  # 2^31 - 1
M2 = 2147462579  # 2^31 - 21069

# The generator's transition matrices raised to 2^72 and 2^134 (first component mod M1,
# second mod M2), from L'Ecuyer's RngStreams tables as Theano uses them.
A1p72 = np.array([[1516919229, 758510237, 499121365],
                  [1884998244, 1516919229, 335398200],
                  [601897748, 1884998244, 358115744]], dtype=np.int64)
A2p72 = np.array([[1228857673, 1496414766, 954677935],
                  [1133297478, 1407477216, 1496414766],
                  [2002613992, 1639496704, 1407477216]], dtype=np.int64)
A1p134 = np.array([[1702500920, 1849582496, 1656874625],
                   [828554832, 1702500920, 1512419905],
                   [1143731069, 828554832, 102237247]], dtype=np.int64)
A2p134 = np.array([[796789021, 1464208080, 607337906],
                   [1241679051, 1431130166, 1464208080],
                   [1401213391, 1178684362, 1431130166]], dtype=np.int64)


def _mat_vec_mod(A, s, m):
    """(A @ s) % m for rows of s (shape (..., 3)) without int64 overflow: each product is below
    2^62, and the sum of three reduced terms below 2^33."""
    s = np.asarray(s, dtype=np.int64)
    terms = (A[np.newaxis, :, :] * s.reshape(-1, 1, 3)) % m
    return (terms.sum(axis=2) % m).reshape(s.shape)


def _mat_mat_mod(A, B, m):
    out = np.zeros((3, 3), dtype=np.int64)
    for i in range(3):
        for j in range(3):
            out[i, j] = sum(int(A[i, k]) * int(B[k, j]) for k in range(3)) % m
    return out


def _jump(states, A1, A2):
    states = np.asarray(states, dtype=np.int64)
    out = np.empty_like(states)
    out[..., :3] = _mat_vec_mod(A1, states[..., :3], M1)
    out[..., 3:] = _mat_vec_mod(A2, states[..., 3:], M2)
    return out


def ff_2p72(rstate):
    """The state 2^72 draws after `rstate` (one substream further)."""
    return _jump(rstate, A1p72, A2p72).astype(np.int32)


def ff_2p134(rstate):
    """The state 2^134 draws after `rstate` (one stream further)."""
    return _jump(rstate, A1p134, A2p134).astype(np.int32)


def substream_states(rstate, n_streams):
    """Rows rstate, ff_2p72(rstate), ff_2p72^2(rstate), ...: Theano's get_substream_rstates,
    computed by doubling (the next block is the current one jumped by 2^72 * len(block))."""
    states = np.asarray(rstate, dtype=np.int64).reshape(1, 6)
    A1, A2 = A1p72, A2p72
    while len(states) < n_streams:
        states = np.concatenate([states, _jump(states, A1, A2)])
        A1, A2 = _mat_mat_mod(A1, A1, M1), _mat_mat_mod(A2, A2, M2)
    return states[:n_streams].astype(np.int32)


def guess_n_streams(size, warn=False):
    """Theano's stream count: a sixth of the sample count when size is all Python ints (at most
    60 * 256), else 60 * 256."""
    if isinstance(size, (tuple, list)) and all(
            isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in size):
        r = 1
        for s in size:
            r *= int(s)
        if r > 6:
            r = r // 6
        return max(1, min(r, 60 * 256))
    return 60 * 256


def _check_seed(seed):
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed == 0:
            raise ValueError("seed should not be 0", seed)
        if seed < 0 or seed >= M2:
            raise ValueError("seed should be in [1, %i)" % M2, seed)
        return np.asarray([seed] * 6, dtype=np.int32)
    if isinstance(seed, (list, tuple, np.ndarray)) and len(seed) == 6:
        seed = [int(v) for v in seed]
        if not any(seed[:3]) or not any(seed[3:]):
            raise ValueError("The first 3 and the last 3 values of seed should not be all 0",
                             seed)
        if any(not 0 <= v < M1 for v in seed[:3]) or any(not 0 <= v < M2 for v in seed[3:]):
            raise ValueError("seed values should be in [0, %i) (first 3) and [0, %i) (last 3)"
                             % (M1, M2), seed)
        return np.asarray(seed, dtype=np.int32)
    raise TypeError("seed should be 1 integer or 6 integers")


class MRG_RandomStreams(RandomStreamsBase):
    """Theano's MRG_RandomStreams(seed=12345): uniform, normal, binomial, multinomial and
    choice with Theano's signatures and defaults, plus permutation."""

    def __init__(self, seed=12345):
        super().__init__()
        self.default_instance_seed = seed
        self.set_rstate(seed)

    def set_rstate(self, seed):
        self.rstate = _check_seed(seed)

    def inc_rstate(self):
        self.rstate = ff_2p134(self.rstate)

    def get_substream_rstates(self, n_streams, dtype=None, inc_rstate=True):
        if n_streams < 1:
            raise ValueError("n_streams must be positive, got %r" % (n_streams,))
        rval = substream_states(self.rstate, n_streams)
        if inc_rstate:
            self.inc_rstate()
        return rval

    def n_streams(self, size):
        return guess_n_streams(size)

    def _initial_states(self, n_streams):
        return self.get_substream_rstates(n_streams)

    def _restart(self, seed):
        self.set_rstate(self.default_instance_seed if seed is None else seed)

    def _n(self, nstreams, size):
        return int(nstreams) if nstreams is not None else self.n_streams(size)

    def _uniform01(self, size, ndim, dtype, nstreams):
        u, state, new = self._draw("mrg_uniform", size, [], dtype, self._n(nstreams, size),
                                   ndim=ndim, allow_zero=False)
        return u, state, new

    def uniform(self, size, low=0.0, high=1.0, ndim=None, dtype=None, nstreams=None, **kwargs):
        """Uniforms in (low, high); dtype at least as precise as floatX (Theano's rule)."""
        _no_kwargs("uniform", kwargs)
        low, high = basic.as_tensor_variable(low), basic.as_tensor_variable(high)
        if dtype is None:
            dtype = _dtypes.upcast(config.floatX, low.dtype, high.dtype)
        dtype = _float_dtype(dtype, "uniform")
        u, state, new = self._uniform01(size, ndim, dtype, nstreams)
        low, high = basic.cast(low, dtype), basic.cast(high, dtype)
        return self._tag(u * (high - low) + low, state, new)

    def normal(self, size, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None,
               truncate=False, **kwargs):
        """avg + std * z with z standard normals (Box-Muller, Theano's layout): gradients
        reach avg and std."""
        _no_kwargs("normal", kwargs)
        if truncate:
            raise NotImplementedError("MRG_RandomStreams.normal(truncate=True)")
        avg, std = basic.as_tensor_variable(avg), basic.as_tensor_variable(std)
        if dtype is None:
            dtype = _dtypes.upcast(config.floatX, avg.dtype, std.dtype)
        dtype = _float_dtype(dtype, "normal")
        # Theano draws the uniforms for normal with a symbolic size: 60 * 256 streams.
        n_streams = int(nstreams) if nstreams is not None else 60 * 256
        z, state, new = self._draw("random_normal", size, [], dtype, n_streams, ndim=ndim,
                                   allow_zero=False)
        return self._tag(z * basic.cast(std, dtype) + basic.cast(avg, dtype), state, new)

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", nstreams=None,
                 **kwargs):
        """n == 1 is Theano's cast(uniform < p, dtype) (dropout masks); larger n uses the
        server's binomial (Theano raised NotImplementedError)."""
        _no_kwargs("binomial", kwargs)
        p = basic.as_tensor_variable(p)
        if isinstance(n, (int, np.integer)) and n == 1:
            u, state, new = self._uniform01(size, ndim, _dtypes.normalize(config.floatX),
                                            nstreams)
            return self._tag(basic.cast(u < p, dtype), state, new)
        n = basic.as_tensor_variable(n)
        sample, state, new = self._draw("random_binomial", size, [n, p], dtype,
                                        self._n(nstreams, size), ndim=ndim, allow_zero=False)
        return self._tag(sample, state, new)

    def multinomial(self, size=None, n=1, pvals=None, ndim=None, dtype="int64", nstreams=None,
                    **kwargs):
        """Counts of n draws per row of the matrix pvals, shape pvals.shape."""
        _no_kwargs("multinomial", kwargs)
        if pvals is None:
            raise TypeError("You have to specify pvals")
        pvals = basic.as_tensor_variable(pvals)
        if size is not None:
            raise ValueError("Provided a size argument to MRG_RandomStreams.multinomial, "
                             "which does not use the size argument.")
        if ndim is not None:
            raise ValueError("Provided an ndim argument to MRG_RandomStreams.multinomial, "
                             "which does not use the ndim argument.")
        if pvals.ndim != 2:
            raise NotImplementedError("MRG_RandomStreams.multinomial only implemented for "
                                      "pvals.ndim = 2")
        sample, state, new = self._draw(
            "random_multinomial", (pvals.shape[0],), [basic.as_tensor_variable(n), pvals],
            dtype, self._n(nstreams, None), extra_dims=1)
        return self._tag(sample, state, new)

    def choice(self, size=1, a=None, replace=True, p=None, ndim=None, dtype="int64",
               nstreams=None, **kwargs):
        """`size` indices per row of the matrix p, shape (p.shape[0], size); Theano's form
        (replace=True, which Theano refused, is allowed)."""
        _no_kwargs("choice", kwargs)
        if a is not None:
            raise TypeError("For now, a has to be None in MRG_RandomStreams.choice. Sampled "
                            "values are between 0 and p.shape[1]-1")
        if p is None:
            raise TypeError("For now, p has to be specified in MRG_RandomStreams.choice.")
        if ndim is not None:
            raise ValueError("ndim argument to MRG_RandomStreams.choice is not used.")
        p = basic.as_tensor_variable(p)
        if p.ndim != 2:
            raise NotImplementedError("MRG_RandomStreams.choice is only implemented for "
                                      "p.ndim = 2")
        sample, state, new = self._draw("random_choice", (size,), [p.shape[1], p], dtype,
                                        self._n(nstreams, None), extra_dims=1, replace=replace)
        return self._tag(sample, state, new)

    def permutation(self, size=(), n=1, ndim=None, dtype="int64", nstreams=None):
        """Permutations of range(n), shape size + (n,) (not in Theano's MRG_RandomStreams)."""
        sample, state, new = self._draw("random_permutation", size,
                                        [basic.as_tensor_variable(n)], dtype,
                                        self._n(nstreams, size), extra_dims=1, ndim=ndim)
        return self._tag(sample, state, new)


def _no_kwargs(method, kwargs):
    if kwargs:
        raise TypeError("MRG_RandomStreams.%s got unexpected keyword arguments %s"
                        % (method, sorted(kwargs)))


def _float_dtype(dtype, method):
    dtype = _dtypes.normalize(dtype)
    if dtype not in ("float32", "float64"):
        raise TypeError("MRG_RandomStreams.%s: dtype must be float32 or float64, got %s"
                        % (method, dtype))
    return dtype
