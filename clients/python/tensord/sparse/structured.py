"""Elementwise functions of a sparse matrix's stored entries (Theano's structured_monoid
functions): f applied to data, the pattern unchanged. For the functions with f(0) = 0 (sin,
sqrt ...) this is f of the whole matrix; structured_exp and the like touch the stored entries
only, as in Theano."""

import numpy as np

from tensord.sparse.construct import _make
from tensord.sparse.variable import as_sparse_variable
from tensord.tensor import basic
from tensord.tensor import elemwise as T
from tensord.tensor.nnet import sigmoid as _sigmoid

__all__ = ["structured_sigmoid", "structured_exp", "structured_log", "structured_pow",
           "structured_minimum", "structured_maximum", "structured_add", "sin", "tan",
           "arcsin", "arctan", "sinh", "arcsinh", "tanh", "arctanh", "rint", "sgn", "ceil",
           "floor", "log1p", "expm1", "deg2rad", "rad2deg", "trunc", "sqr", "sqrt", "abs_"]


def _float_constant(value, dtype):
    """`value` in the data's float dtype (float64 for integer data), so that float64 data is
    not scaled by a float32-rounded constant."""
    dtype = dtype if dtype in ("float32", "float64") else "float64"
    return basic.constant(np.asarray(value, dtype=dtype))


def _arcsinh(x):
    # Odd: sgn(x) asinh(|x|). For a = |x|, asinh(a) = log1p(a + a^2 / (1 + sqrt(1 + a^2))),
    # exact near 0; past 1e8 (where a^2 would overflow float32 before float64) it is
    # log(2a) to the last bit.
    a = T.abs_(x)
    near = T.log1p(a + T.sqr(a) / (1 + T.sqrt(1 + T.sqr(a))))
    far = basic.log(a) + _float_constant(np.log(2.0), x.dtype)
    return T.sgn(x) * T.switch(T.gt(a, 1e8), far, near)


def _arctanh(x):
    return 0.5 * (T.log1p(x) - T.log1p(-x))


def _monoid(name, fn, n_scalars=0):
    """A function (x, *scalars) -> x with fn(data, *scalars) as data."""
    def structured(x, *scalars):
        if len(scalars) != n_scalars:
            raise TypeError("%s takes a sparse matrix%s, got %d extra argument(s)"
                            % (name, " and %d scalar(s)" % n_scalars if n_scalars else "",
                               len(scalars)))
        x = as_sparse_variable(x)
        args = [basic.as_tensor_variable(s) for s in scalars]
        for s in args:
            if s.ndim != 0:
                raise TypeError("%s applies a scalar to the stored entries, got %s (for a "
                                "vector per column see structured_add_s_v / mul_s_v)"
                                % (name, s.type))
        data, indices, indptr, shape = x.components
        return _make(x.format, fn(data, *args), indices, indptr, shape)
    structured.__name__ = name
    structured.__doc__ = "%s of the stored entries of a sparse matrix." % name
    return structured


structured_sigmoid = _monoid("structured_sigmoid", _sigmoid)
structured_exp = _monoid("structured_exp", basic.exp)
structured_log = _monoid("structured_log", basic.log)
structured_pow = _monoid("structured_pow", basic.pow, 1)
structured_minimum = _monoid("structured_minimum", T.minimum, 1)
structured_maximum = _monoid("structured_maximum", T.maximum, 1)
structured_add = _monoid("structured_add", basic.add, 1)

# f(0) = 0: the same as f of the whole matrix.
sin = _monoid("sin", T.sin)
tan = _monoid("tan", T.tan)
arcsin = _monoid("arcsin", T.arcsin)
arctan = _monoid("arctan", T.arctan)
sinh = _monoid("sinh", T.sinh)
arcsinh = _monoid("arcsinh", _arcsinh)
tanh = _monoid("tanh", T.tanh)
arctanh = _monoid("arctanh", _arctanh)
rint = _monoid("rint", T.round_half_to_even)
sgn = _monoid("sgn", T.sgn)
ceil = _monoid("ceil", T.ceil)
floor = _monoid("floor", T.floor)
log1p = _monoid("log1p", T.log1p)
expm1 = _monoid("expm1", T.expm1)
deg2rad = _monoid("deg2rad", lambda d: d * _float_constant(np.pi / 180, d.dtype))
rad2deg = _monoid("rad2deg", lambda d: d * _float_constant(180 / np.pi, d.dtype))
trunc = _monoid("trunc", T.trunc)
sqr = _monoid("sqr", T.sqr)
sqrt = _monoid("sqrt", T.sqrt)
abs_ = _monoid("abs_", T.abs_)
