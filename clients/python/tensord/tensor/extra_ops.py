"""Theano's `theano.tensor.extra_ops`: the array helpers models use (one-hot targets, cumulative
sums and products, repeat)."""

from tensord.tensor import basic
from tensord.tensor.elemwise import eq
from tensord.tensor.reductions import cumprod, cumsum
from tensord.tensor.shape_ops import arange
from tensord.tensor.shape_ops_tile import repeat

__all__ = ["to_one_hot", "cumsum", "cumprod", "repeat"]


def to_one_hot(y, nb_class, dtype=None):
    """An integer vector of class labels as a (len(y), nb_class) matrix with a 1 in each row's
    label column (floatX unless `dtype` says otherwise)."""
    from tensord import config
    y = basic.as_tensor_variable(y)
    if y.ndim != 1 or not y.dtype.startswith(("int", "uint")):
        raise TypeError("to_one_hot needs an integer vector of labels, got %s" % y.type)
    hits = eq(y.dimshuffle(0, "x"), arange(nb_class).dimshuffle("x", 0))
    return basic.cast(hits, dtype or config.floatX)
