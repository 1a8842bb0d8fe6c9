"""TensorVariable and TensorConstant: symbolic tensors with Python operators, as in Theano."""

import numpy as np

from tensord.graph import Variable

__all__ = ["TensorVariable", "TensorConstant", "AsTensorError"]


class AsTensorError(TypeError):
    """Raised when something cannot be turned into a tensor variable."""


def _binary(fn_name, reflected=False):
    def method(self, other):
        fn = getattr(_basic, fn_name)
        try:
            return fn(other, self) if reflected else fn(self, other)
        except AsTensorError:
            # Lets Python try the other operand's reflected operator.
            return NotImplemented
    method.__name__ = fn_name
    return method


class TensorVariable(Variable):
    """A symbolic tensor: a TensorType plus the Apply that computes it (if any)."""

    # Makes numpy hand `ndarray <op> variable` to our reflected operators instead of
    # broadcasting over the variable as if it were an object scalar.
    __array_ufunc__ = None
    __array_priority__ = 1000

    @property
    def ndim(self):
        return self.type.ndim

    @property
    def dtype(self):
        return self.type.dtype

    @property
    def broadcastable(self):
        return self.type.broadcastable

    __add__ = _binary("add")
    __radd__ = _binary("add", reflected=True)
    __sub__ = _binary("sub")
    __rsub__ = _binary("sub", reflected=True)
    __mul__ = _binary("mul")
    __rmul__ = _binary("mul", reflected=True)
    __truediv__ = _binary("true_div")
    __rtruediv__ = _binary("true_div", reflected=True)
    __pow__ = _binary("pow")
    __rpow__ = _binary("pow", reflected=True)

    def __neg__(self):
        return _basic.neg(self)

    def __bool__(self):
        raise TypeError("Variables do not support boolean operations; compile a function and "
                        "look at its result instead.")

    def __iter__(self):
        raise TypeError("TensorVariable objects are not iterable (indexing is not supported "
                        "by tensord yet).")

    # Theano's methods.
    def sum(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _basic.sum(self, axis=axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)

    def max(self, axis=None, keepdims=False):
        return _basic.max(self, axis=axis, keepdims=keepdims)

    def dot(self, other):
        return _basic.dot(self, other)

    def __dot__(self, other):
        return _basic.dot(self, other)

    def __rdot__(self, other):
        return _basic.dot(other, self)

    def reshape(self, shape, ndim=None):
        return _basic.reshape(self, shape, ndim=ndim)

    def dimshuffle(self, *pattern):
        if len(pattern) == 1 and isinstance(pattern[0], (list, tuple)):
            pattern = pattern[0]
        return _basic.dimshuffle(self, pattern)

    def flatten(self, ndim=1):
        if ndim != 1:
            raise NotImplementedError("flatten(ndim>1) needs symbolic shapes, not supported yet")
        return _basic.reshape(self, (-1,))

    def transpose(self, *axes):
        if len(axes) == 0:
            return _basic.transpose(self)
        if len(axes) == 1 and isinstance(axes[0], (list, tuple)):
            axes = axes[0]
        return _basic.transpose(self, axes)

    @property
    def T(self):
        return _basic.transpose(self)

    def astype(self, dtype):
        return _basic.cast(self, dtype)

    def zeros_like(self, dtype=None):
        return _basic.zeros_like(self, dtype=dtype)

    def ones_like(self, dtype=None):
        return _basic.ones_like(self, dtype=dtype)

    def fill(self, value):
        return _basic.fill(self, value)

    def eval(self, inputs_to_values=None):
        """Compiles (once per set of inputs) a function computing this variable, and runs it."""
        from tensord.compile.function import function
        inputs_to_values = inputs_to_values or {}
        cache = self.__dict__.setdefault("_fn_cache", {})
        inputs = tuple(sorted(inputs_to_values, key=id))
        if inputs not in cache:
            cache[inputs] = function(list(inputs), self)
        return cache[inputs](*[inputs_to_values[v] for v in inputs])

    def clone(self):
        cp = self.__class__.__new__(self.__class__)
        cp.__dict__.update(self.__dict__)
        cp.owner, cp.index = None, None
        cp.__dict__.pop("_fn_cache", None)
        return cp


class TensorConstant(TensorVariable):
    """A constant tensor; its value travels inside the serialized graph."""

    def __init__(self, type, data, name=None):
        super().__init__(type, name=name)
        data = type.filter(data, strict=False, allow_downcast=True)
        data.setflags(write=False)
        self.data = data
        self.unique_value = None
        if data.ndim > 0 and data.size and bool(np.all(data.ravel() == data.ravel()[0])):
            self.unique_value = data.ravel()[0]

    @property
    def value(self):
        return self.data

    def __str__(self):
        if self.unique_value is not None:
            text = "%s of %s" % (self.data.shape, self.unique_value)
        else:
            text = "%s" % (self.data,)
        if len(text) > 20:
            text = text[:10] + ".." + text[-10:]
        return "TensorConstant{%s}" % text

    def eval(self, inputs_to_values=None):
        return self.data.copy()


# Imported last: basic imports this module (circular), and the operator methods above only look
# `_basic` up when called.
from tensord.tensor import basic as _basic  # noqa: E402
