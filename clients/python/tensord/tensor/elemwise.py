"""Elementwise math, comparisons and logic under Theano's names (T.int_div, T.sqrt, T.lt,
T.switch ...). Their arities, printed names and output types come from the server's op schema
(tensord._op_schema): upcast (NumPy promotion), upgrade_to_float (ints -> float32 up to 16 bits,
else float64), bool for comparisons, and the dtypes each op refuses (as Theano, while building)."""

import numpy as np

from tensord import _dtypes, _op_schema
from tensord.tensor import basic as _basic
from tensord.tensor import ops as _ops
from tensord.tensor.ops import Elemwise

__all__ = ["int_div", "intdiv", "floor_div", "mod", "abs_", "sgn", "sqr", "sqrt", "maximum",
           "minimum", "clip", "round", "round_half_to_even", "round_half_away_from_zero",
           "iround", "floor", "ceil", "trunc", "expm1", "log1p", "log2", "log10", "sin", "cos",
           "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh", "erf", "erfc",
           "gamma", "gammaln", "psi", "tri_gamma", "sigmoid", "softplus", "gt", "lt", "ge",
           "le", "eq", "neq", "isnan", "isinf", "isclose", "allclose", "and_", "or_", "xor",
           "invert", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "switch", "where"]


def _bool(dts):
    _dtypes.upcast(*dts)  # refuses what NumPy cannot promote
    return "bool"


class IsClose(Elemwise):
    """numpy.isclose as one op: tolerances are attributes, the output is bool. Its type rule is
    code on the server too (no `typing` in the schema)."""

    def __init__(self, rtol, atol, equal_nan):
        super().__init__("isclose", 2, _bool)
        self.rtol, self.atol, self.equal_nan = float(rtol), float(atol), bool(equal_nan)

    def attrs(self):
        return {"rtol": self.rtol, "atol": self.atol, "equal_nan": self.equal_nan}

    def __str__(self):
        return "Elemwise{isclose,rtol=%g,atol=%g}" % (self.rtol, self.atol)


_OPS = _ops.TYPED_ELEMWISE  # by wire name


def _apply(wire, *xs):
    return _basic._elemwise(_OPS[wire], *xs)


def int_div(a, b):
    """a // b with NumPy's floor_divide semantics (integers divided by 0 give 0)."""
    return _apply("int_div", a, b)


intdiv = floor_div = int_div


def mod(a, b):
    """a % b with the sign of b (numpy.remainder)."""
    return _apply("mod", a, b)


def abs_(a):
    return _apply("abs", a)


def sgn(a):
    return _apply("sgn", a)


def sqr(a):
    return _apply("sqr", a)


def sqrt(a):
    return _apply("sqrt", a)


def maximum(a, b):
    return _apply("maximum", a, b)


def minimum(a, b):
    return _apply("minimum", a, b)


def clip(x, min, max):  # noqa: A002 - Theano's argument names
    """minimum(maximum(x, min), max), in the promotion of all three (numpy.clip)."""
    return _apply("clip", x, min, max)


def round_half_to_even(a):
    return _apply("round_half_to_even", a)


def round_half_away_from_zero(a):
    return _apply("round_half_away_from_zero", a)


def round(a, mode=None):  # noqa: A001 - Theano's name
    """Theano's round: mode 'half_away_from_zero' (the default) or 'half_to_even' (NumPy's)."""
    if mode is None or mode == "half_away_from_zero":
        return round_half_away_from_zero(a)
    if mode == "half_to_even":
        return round_half_to_even(a)
    raise ValueError("round mode %r is not 'half_away_from_zero' or 'half_to_even'" % (mode,))


def iround(a, mode=None):
    """round(a, mode) cast to int64."""
    return _basic.cast(round(a, mode), "int64")


def _unary(wire):
    def fn(a):
        return _apply(wire, a)
    fn.__name__ = wire
    fn.__doc__ = "Elementwise %s (integers become floats)." % wire
    return fn


floor, ceil, trunc = _unary("floor"), _unary("ceil"), _unary("trunc")
expm1, log1p, log2, log10 = _unary("expm1"), _unary("log1p"), _unary("log2"), _unary("log10")
sin, cos, tan = _unary("sin"), _unary("cos"), _unary("tan")
arcsin, arccos, arctan = _unary("arcsin"), _unary("arccos"), _unary("arctan")
sinh, cosh, tanh = _unary("sinh"), _unary("cosh"), _unary("tanh")
erf, erfc, gamma, gammaln = _unary("erf"), _unary("erfc"), _unary("gamma"), _unary("gammaln")
psi, tri_gamma = _unary("psi"), _unary("tri_gamma")  # gammaln's first and second derivatives
sigmoid, softplus = _unary("sigmoid"), _unary("softplus")


def arctan2(a, b):
    return _apply("arctan2", a, b)


def _compare(wire):
    def fn(a, b):
        return _apply(wire, a, b)
    fn.__name__ = wire
    fn.__doc__ = "Elementwise %s as bool, comparing in the inputs' promotion." % wire
    return fn


gt, lt, ge, le = _compare("gt"), _compare("lt"), _compare("ge"), _compare("le")
eq, neq = _compare("eq"), _compare("neq")


def isnan(a):
    return _apply("isnan", a)


def isinf(a):
    return _apply("isinf", a)


def isclose(a, b, rtol=1.e-5, atol=1.e-8, equal_nan=False):
    """numpy.isclose: |a - b| <= atol + rtol * |b|, infinities equal only to themselves."""
    a, b = _basic.as_tensor_variable(a), _basic.as_tensor_variable(b)
    return IsClose(rtol, atol, equal_nan)(a, b)


def allclose(a, b, rtol=1.e-5, atol=1.e-8, equal_nan=False):
    """A 0-d bool: every element isclose (numpy.allclose)."""
    not_close = invert(isclose(a, b, rtol, atol, equal_nan))
    return eq(_basic.sum(not_close), np.asarray(0, dtype="int64"))


def and_(a, b):
    return _apply("and", a, b)


def or_(a, b):
    return _apply("or", a, b)


def xor(a, b):
    return _apply("xor", a, b)


def invert(a):
    return _apply("invert", a)


bitwise_and, bitwise_or, bitwise_xor, bitwise_not = and_, or_, xor, invert


def switch(cond, ift, iff):
    """ift where cond != 0, else iff (numpy.where); the dtype is ift and iff's promotion."""
    return _apply("switch", cond, ift, iff)


where = switch


def _schema_function(sig):
    arity = sig.min_inputs

    def fn(*xs):
        if len(xs) != arity:
            raise TypeError("%s takes %d inputs, got %d" % (sig.name, arity, len(xs)))
        return _apply(sig.name, *xs)
    fn.__name__ = sig.name
    fn.__doc__ = sig.doc
    return fn


# An elementwise op the schema declares and nothing above (or tensor/basic.py) defines reaches
# T.<name> as a plain function of its wire name: a new op needs no client change. Ops whose
# Theano name differs from the wire name (abs_, and_) are written by hand above.
for _sig in _op_schema.schema().ops:
    if (_sig.name in _ops.TYPED_ELEMWISE and _sig.theano_name == _sig.name
            and _sig.min_inputs == _sig.max_inputs and _sig.name not in globals()
            and not hasattr(_basic, _sig.name)):
        globals()[_sig.name] = _schema_function(_sig)
        __all__.append(_sig.name)
