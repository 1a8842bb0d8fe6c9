"""TensorVariable and TensorConstant: symbolic tensors with Python operators, as in Theano."""

import numpy as np

from tensord.graph import Variable

__all__ = ["TensorVariable", "TensorConstant", "AsTensorError"]


class AsTensorError(TypeError):
    """Raised when something cannot be turned into a tensor variable."""


def _operator(module, fn_name, reflected=False):
    """A Python operator method calling `module.fn_name` (looked up at call time, since the
    op modules import this one)."""
    def method(self, other):
        fn = getattr(module(), fn_name)
        try:
            return fn(other, self) if reflected else fn(self, other)
        except AsTensorError:
            # Lets Python try the other operand's reflected operator.
            return NotImplemented
    method.__name__ = fn_name
    return method


def _binary(fn_name, reflected=False):
    return _operator(lambda: _basic, fn_name, reflected)


def _ew_binary(fn_name, reflected=False):
    """_binary for the functions of tensor/elemwise.py."""
    return _operator(lambda: _elemwise, fn_name, reflected)


def _comparison(fn_name):
    """A comparison operator: its result refuses truth (see TensorVariable.__bool__)."""
    compare = _ew_binary(fn_name)

    def method(self, other):
        result = compare(self, other)
        if result is not NotImplemented:
            result._is_nonzero = False
        return result
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
    __floordiv__ = _ew_binary("int_div")
    __rfloordiv__ = _ew_binary("int_div", reflected=True)
    __mod__ = _ew_binary("mod")
    __rmod__ = _ew_binary("mod", reflected=True)
    # Comparisons build graphs; `==` stays identity as in Theano (variables are dict keys), so
    # use T.eq / T.neq. Python turns `2 < x` into x.__gt__(2).
    __lt__ = _comparison("lt")
    __le__ = _comparison("le")
    __gt__ = _comparison("gt")
    __ge__ = _comparison("ge")
    __and__ = _ew_binary("and_")
    __rand__ = _ew_binary("and_", reflected=True)
    __or__ = _ew_binary("or_")
    __ror__ = _ew_binary("or_", reflected=True)
    __xor__ = _ew_binary("xor")
    __rxor__ = _ew_binary("xor", reflected=True)

    def __divmod__(self, other):
        return self // other, self % other

    def __rdivmod__(self, other):
        return other // self, other % self

    def __abs__(self):
        return _elemwise.abs_(self)

    def __invert__(self):
        return _elemwise.invert(self)

    def round(self, mode=None):
        return _elemwise.round(self, mode)

    def clip(self, a_min, a_max):
        return _elemwise.clip(self, a_min, a_max)

    def __neg__(self):
        return _basic.neg(self)

    # Theano's rule: every variable is true, so that `if not x:` and `x or default` work, but
    # the result of a comparison operator raises, so that `a < b < c` (Python's
    # `(a < b) and (b < c)`) fails instead of silently building only `b < c`.
    _is_nonzero = True

    def __bool__(self):
        if self._is_nonzero:
            return True
        raise TypeError("Variables do not support boolean operations: the truth of a symbolic "
                        "comparison is only known when a function runs (for a < b < c, write "
                        "T.and_(a < b, b < c)).")

    def __iter__(self):
        raise TypeError("TensorVariable objects are not iterable (their length is not known "
                        "until run time); index them instead.")

    def __getitem__(self, idx):
        from tensord.tensor import subtensor
        return subtensor.getitem(self, idx)

    def take(self, indices, axis=None, mode="raise"):
        from tensord.tensor import subtensor
        return subtensor.take(self, indices, axis=axis, mode=mode)

    # Theano's methods.
    def sum(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _basic.sum(self, axis=axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)

    def max(self, axis=None, keepdims=False):
        return _basic.max(self, axis=axis, keepdims=keepdims)

    def prod(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _reductions.prod(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return _reductions.min(self, axis=axis, keepdims=keepdims)

    def all(self, axis=None, keepdims=False):
        return _reductions.all(self, axis=axis, keepdims=keepdims)

    def any(self, axis=None, keepdims=False):
        return _reductions.any(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False):
        return _reductions.argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False):
        return _reductions.argmin(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _reductions.mean(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def var(self, axis=None, ddof=0, keepdims=False, corrected=False):
        return _reductions.var(self, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected)

    def std(self, axis=None, ddof=0, keepdims=False, corrected=False):
        return _reductions.std(self, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected)

    def ptp(self, axis=None, keepdims=False):
        return _reductions.ptp(self, axis=axis, keepdims=keepdims)

    def cumsum(self, axis=None):
        return _reductions.cumsum(self, axis=axis)

    def cumprod(self, axis=None):
        return _reductions.cumprod(self, axis=axis)

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
        return _shape_ops.flatten(self, ndim)

    ravel = flatten

    @property
    def shape(self):
        return _shape_ops.shape(self)

    def sort(self, axis=-1, kind="quicksort", order=None):
        return _shape_ops.sort(self, axis, kind, order)

    def argsort(self, axis=-1, kind="quicksort", order=None):
        return _shape_ops.argsort(self, axis, kind, order)

    def repeat(self, repeats, axis=None):
        return _shape_ops.repeat(self, repeats, axis)

    def squeeze(self, axis=None):
        return _shape_ops.squeeze(self, axis)

    def swapaxes(self, axis1, axis2):
        return _shape_ops.swapaxes(self, axis1, axis2)

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

    def transfer(self, target):
        """This value on context `target` ('cpu', 'dev0', ..., None: the default context)."""
        from tensord.tensor.transfer import transfer
        return transfer(self, target)

    def eval(self, inputs_to_values=None):
        """Compiles (once per set of inputs) a function computing this variable, and runs it."""
        from tensord.compile.function import evaluate
        return evaluate(self, inputs_to_values)

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
from tensord.tensor import shape_ops as _shape_ops  # noqa: E402
from tensord.tensor import elemwise as _elemwise  # noqa: E402
from tensord.tensor import reductions as _reductions  # noqa: E402
