"""TensorType: a dtype plus a broadcastable pattern, with Theano's printing and input filtering."""

import numpy as np

from tensord import _dtypes
from tensord._proto import tensor_pb2

__all__ = ["TensorType"]

_NAMED_PATTERNS = {(): "scalar", (False,): "vector", (False, True): "col",
                   (True, False): "row", (False, False): "matrix"}


def _values_eq(a, b):
    """Theano's TensorType.values_eq (force_same_dtype=False): equal values, NaN == NaN."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    with np.errstate(invalid="ignore"):
        eq = a == b
    if np.all(eq):
        return True
    try:
        return bool(np.all(eq | (np.isnan(a) & np.isnan(b))))
    except TypeError:
        return False


class TensorType:
    """Theano's TensorType. Calling it makes a new symbolic variable of this type."""

    def __init__(self, dtype, broadcastable, name=None, context=None):
        self.dtype = _dtypes.normalize(dtype)
        self.broadcastable = tuple(bool(b) for b in broadcastable)
        self.name = name
        # The device context a value of this type lives on (its name; "None" for the default
        # one, as Theano printed it), or None for host memory. Printing only: the server
        # places every node itself (docs/architecture.md, "Device contexts").
        self.context = context

    @property
    def ndim(self):
        return len(self.broadcastable)

    @property
    def numpy_dtype(self):
        return _dtypes.NUMPY[self.dtype]

    def __call__(self, name=None):
        from tensord.tensor.var import TensorVariable
        return TensorVariable(self, name=name)

    make_variable = __call__

    def clone(self, dtype=None, broadcastable=None):
        return TensorType(dtype or self.dtype,
                          self.broadcastable if broadcastable is None else broadcastable,
                          context=self.context)

    def on(self, context):
        """This type on a device context (None: host memory)."""
        return TensorType(self.dtype, self.broadcastable, context=context)

    def __eq__(self, other):
        return (type(self) is type(other) and self.dtype == other.dtype
                and self.broadcastable == other.broadcastable)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((TensorType, self.dtype, self.broadcastable))

    def __str__(self):
        if self.name:
            return self.name
        b = self.broadcastable
        if self.context is not None:
            return "GpuArrayType<%s>(%s, %s)" % (self.context, self.dtype, b)
        if b in _NAMED_PATTERNS:
            pattern = _NAMED_PATTERNS[b]
        elif any(b):
            pattern = str(b)
        else:
            pattern = "%iD" % len(b)  # Theano prints tensor3 as 3D
        return "TensorType(%s, %s)" % (self.dtype, pattern)

    __repr__ = __str__

    def to_proto(self, msg=None):
        msg = msg if msg is not None else tensor_pb2.TensorType()
        msg.dtype = _dtypes.to_proto(self.dtype)
        del msg.broadcastable[:]
        msg.broadcastable.extend(self.broadcastable)
        return msg

    @classmethod
    def from_proto(cls, msg):
        return cls(_dtypes.from_proto(msg.dtype), tuple(msg.broadcastable))

    def filter(self, data, strict=False, allow_downcast=None):
        """Theano's TensorType.filter: convert `data` to an ndarray this type can hold, or raise.

        Lossy conversions are refused unless allow_downcast is true; a Python float is the one
        exception (allow_downcast=None and dtype == floatX), as in Theano.
        """
        if type(data) is not np.ndarray or data.dtype != self.numpy_dtype:
            data = self._convert(data, strict, allow_downcast)
        if self.ndim != data.ndim:
            raise TypeError("Wrong number of dimensions: expected %s, got %s with shape %s."
                            % (self.ndim, data.ndim, data.shape))
        for axis, b in enumerate(self.broadcastable):
            if b and data.shape[axis] != 1:
                raise TypeError("Non-unit value on shape on a broadcastable dimension.",
                                data.shape, self.broadcastable)
        return data

    def _convert(self, data, strict, allow_downcast):
        """filter's conversion of anything but an ndarray of this dtype (which it passes as it
        is, the common call)."""
        from tensord.config import config
        from tensord.graph import Variable
        if isinstance(data, Variable):
            raise TypeError("Expected an array-like object, but found a Variable: maybe you are "
                            "trying to call a function on a (possibly shared) variable instead "
                            "of a numeric array?")
        if strict:
            if not isinstance(data, np.ndarray):
                raise TypeError("%s expected a ndarray object." % self, data, type(data))
            raise TypeError("%s expected a ndarray object with dtype = %s (got %s)."
                            % (self, self.dtype, data.dtype))
        elif allow_downcast:
            data = np.asarray(data, dtype=self.dtype)
        elif isinstance(data, np.ndarray):
            if _dtypes.upcast(self.dtype, str(data.dtype)) != self.dtype:
                raise TypeError(
                    '%s cannot store a value of dtype %s without risking loss of precision. '
                    'If you do not mind this loss, you can: 1) explicitly cast your data to %s, '
                    'or 2) set "allow_input_downcast=True" when calling "function".'
                    % (self, data.dtype, self.dtype), data)
            data = np.asarray(data, dtype=self.dtype)
        elif allow_downcast is None and type(data) is float and self.dtype == config.floatX:
            data = np.asarray(data, dtype=self.dtype)
        else:
            try:
                converted = np.asarray(data, dtype=self.dtype)
                lossless = _values_eq(np.asarray(data), converted)
            except (TypeError, ValueError, OverflowError):
                converted, lossless = None, False
            if not lossless:
                shown = str(data)
                if len(shown) > 80:
                    shown = shown[:75] + "(...)"
                raise TypeError(
                    '%s cannot store accurately value %s, it would be represented as %s. If you '
                    'do not mind this precision loss, you can: 1) explicitly convert your data '
                    'to a numpy array of dtype %s, or 2) set "allow_input_downcast=True" when '
                    'calling "function".' % (self, shown, converted, self.dtype), data)
            data = converted
        return data

    def is_valid_value(self, data):
        try:
            self.filter(data, strict=True)
            return True
        except TypeError:
            return False
