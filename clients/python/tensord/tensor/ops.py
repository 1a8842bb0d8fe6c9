"""The ops the client can build, with Theano's client-side type inference.

Output types are computed here exactly as Theano would (dtype and broadcastable pattern) because
the server re-infers them and rejects a graph whose declared types disagree; elementwise ops take
their arity, printed name and type rule from the server's op schema (tensord._op_schema).
"""

import numpy as np

from tensord import _dtypes, _op_schema
from tensord.graph import Apply, Op
from tensord.tensor.type import TensorType

__all__ = ["Elemwise", "DimShuffle", "Reduce", "Dot", "Reshape", "Alloc", "constant_value"]


def constant_value(var):
    """The value of a constant scalar variable, or None if it is not a known constant."""
    from tensord.tensor.var import TensorConstant
    if isinstance(var, TensorConstant) and var.data.ndim == 0:
        return var.data.item()
    return None


def _out(dtype, broadcastable):
    return TensorType(dtype, broadcastable)()


class Elemwise(Op):
    """An elementwise op with NumPy broadcasting. Inputs of lower rank are padded on the left
    with broadcastable dims (a DimShuffle with 'x'), as Theano's Elemwise.make_node does, so every
    input the server sees has the output's rank."""

    def __init__(self, wire_name, nin, dtype_rule, theano_name=None, min_inputs=None):
        self.wire_name = wire_name
        self.nin = nin  # None: any number (>= min_inputs)
        self.min_inputs = min_inputs if min_inputs is not None else (nin or 2)
        self.dtype_rule = dtype_rule
        self.theano_name = theano_name or wire_name

    def make_node(self, *inputs):
        if self.nin is not None and len(inputs) != self.nin:
            raise TypeError("%s takes %d inputs, got %d" % (self.wire_name, self.nin, len(inputs)))
        if len(inputs) < self.min_inputs:
            raise TypeError("%s needs at least %d inputs, got %d"
                            % (self.wire_name, self.min_inputs, len(inputs)))
        dtype, bcast = self.output_type([v.dtype for v in inputs],
                                        [v.broadcastable for v in inputs])
        padded = []
        for v in inputs:
            if v.ndim < len(bcast):
                lead = len(bcast) - v.ndim
                v = DimShuffle(v.broadcastable, ["x"] * lead + list(range(v.ndim)))(v)
            padded.append(v)
        return Apply(self, padded, [_out(dtype, bcast)])

    def output_type(self, dtypes, broadcastables):
        """(dtype, broadcastable) of the output: NumPy broadcasting, the dtype by dtype_rule."""
        return self.dtype_rule(list(dtypes)), _op_schema.broadcast(broadcastables)

    def __str__(self):
        return "Elemwise{%s,no_inplace}" % self.theano_name


def _second_dtype(dtypes):
    """fill's dtype rule: the value's (a module-level function, so that graphs pickle)."""
    return dtypes[1]


class Cast(Elemwise):
    def __init__(self, dtype):
        self.dtype = _dtypes.normalize(dtype)
        super().__init__("cast", 1, None)

    def output_type(self, dtypes, broadcastables):
        return self.dtype, _op_schema.broadcast(broadcastables)

    def attrs(self):
        return {"dtype": np.dtype(self.dtype)}

    def __str__(self):
        return "Elemwise{Cast{%s}}" % self.dtype


class SchemaElemwise(Elemwise):
    """An elementwise op as the server's op schema declares it: arity, printed name and, where
    the schema gives one (`typing`), the type rule; `dtype_rule` only for ops whose rule is code."""

    def __init__(self, wire_name, dtype_rule=None):
        sig = _op_schema.signature(wire_name)
        super().__init__(wire_name, None if sig.max_inputs < 0 else sig.max_inputs, dtype_rule,
                         theano_name=sig.theano_name or None, min_inputs=sig.min_inputs)

    @property
    def signature(self):
        # Looked up, not stored: a protobuf message does not pickle, and graphs must.
        return _op_schema.signature(self.wire_name)

    def output_type(self, dtypes, broadcastables):
        if self.signature.HasField("typing"):
            return _op_schema.infer_elementwise(self.signature, dtypes, broadcastables)
        return super().output_type(dtypes, broadcastables)


# Every elementwise op whose type rule the schema gives, by wire name; tensor/elemwise.py
# exposes them under Theano's names.
TYPED_ELEMWISE = {sig.name: SchemaElemwise(sig.name) for sig in _op_schema.schema().ops
                  if sig.HasField("typing")}
add, mul, sub, pow_ = (TYPED_ELEMWISE[name] for name in ("add", "mul", "sub", "pow"))
true_div, neg, exp, log = (TYPED_ELEMWISE[name] for name in ("true_div", "neg", "exp", "log"))
# Theano's fill is the elementwise `second`: the value broadcast to the model, value's dtype.
fill = SchemaElemwise("fill", _second_dtype)


class DimShuffle(Op):
    """Reorders dims, inserts broadcastable dims ('x'), drops broadcastable ones."""

    wire_name = "dimshuffle"

    def __init__(self, input_broadcastable, new_order):
        self.input_broadcastable = tuple(input_broadcastable)
        order = []
        for entry in new_order:
            if entry == "x":
                order.append("x")
            elif isinstance(entry, (int, np.integer)) and not isinstance(entry, bool):
                order.append(int(entry))
            else:
                raise TypeError("DimShuffle pattern entries must be ints or 'x', got %r"
                                % (entry,))
        ndim = len(self.input_broadcastable)
        kept = [i for i in order if i != "x"]
        for i in kept:
            if not 0 <= i < ndim:
                raise ValueError("DimShuffle pattern %s refers to dim %d of a %d-d input"
                                 % (tuple(order), i, ndim))
        if len(set(kept)) != len(kept):
            raise ValueError("DimShuffle pattern %s repeats a dimension" % (tuple(order),))
        for i in range(ndim):
            if i not in kept and not self.input_broadcastable[i]:
                raise ValueError("You cannot drop a non-broadcastable dimension: pattern %s on "
                                 "input with broadcastable %s"
                                 % (tuple(order), self.input_broadcastable))
        self.new_order = tuple(order)

    def attrs(self):
        return {"new_order": [-1 if e == "x" else e for e in self.new_order]}

    def make_node(self, x):
        if x.broadcastable != self.input_broadcastable:
            raise TypeError("DimShuffle built for broadcastable %s applied to %s"
                            % (self.input_broadcastable, x.type))
        bcast = tuple(True if e == "x" else x.broadcastable[e] for e in self.new_order)
        return Apply(self, [x], [_out(x.dtype, bcast)])

    def __str__(self):
        return "InplaceDimShuffle{%s}" % ",".join(str(e) for e in self.new_order)


def normalize_axis(axis, ndim):
    """None -> None; int or sequence -> sorted tuple of distinct non-negative axes."""
    if axis is None:
        return None
    if isinstance(axis, (int, np.integer)):
        axis = [axis]
    out = []
    for a in axis:
        a = int(a)
        if not -ndim <= a < ndim:
            raise ValueError("axis %d is out of range for a %d-d tensor" % (a, ndim))
        out.append(a % ndim if ndim else a)
    if len(set(out)) != len(out):
        raise ValueError("duplicate axis in %s" % (tuple(axis),))
    return tuple(sorted(out))


class Reduce(Op):
    """sum / max over `axis` (None: all axes)."""

    def __init__(self, wire_name, axis=None, dtype=None):
        self.wire_name = wire_name
        self.axis = axis
        self.dtype = _dtypes.normalize(dtype) if dtype is not None else None

    def attrs(self):
        attrs = {}
        if self.axis is not None:
            attrs["axis"] = list(self.axis)
        if self.dtype is not None:
            attrs["dtype"] = np.dtype(self.dtype)
        return attrs

    def make_node(self, x):
        axes = range(x.ndim) if self.axis is None else self.axis
        bcast = tuple(b for i, b in enumerate(x.broadcastable) if i not in axes)
        dtype, = _op_schema.reduced_dtypes(self.wire_name, x.dtype, self.dtype)
        self._input_dtype = x.dtype
        return Apply(self, [x], [_out(dtype, bcast)])

    def __str__(self):
        axis = "" if self.axis is None else "axis=[%s], " % ", ".join(map(str, self.axis))
        if self.wire_name == "sum":
            acc = _dtypes.acc_dtype(getattr(self, "_input_dtype", "float64"))
            return "Sum{%sacc_dtype=%s}" % (axis, acc)
        return "Max{%s}" % axis.rstrip(", ") if axis else "Max"


class Dot(Op):
    """numpy.dot: sums x's last axis with y's second-to-last (its only one for a vector)."""

    wire_name = "dot"

    def make_node(self, x, y):
        if x.ndim == 0 or y.ndim == 0:
            bcast = x.broadcastable + y.broadcastable
        else:
            y_free = y.broadcastable[:-2] + y.broadcastable[-1:] if y.ndim > 1 else ()
            bcast = x.broadcastable[:-1] + y_free
        return Apply(self, [x, y], [_out(_dtypes.upcast(x.dtype, y.dtype), bcast)])

    def __str__(self):
        return "dot"


class Reshape(Op):
    """Inputs (x, shape): shape is an int64 vector; -1 once means 'whatever is left'."""

    wire_name = "reshape"

    def __init__(self, ndim):
        self.ndim = int(ndim)

    def attrs(self):
        return {"ndim": self.ndim}

    def make_node(self, x, shape):
        from tensord.tensor.var import TensorConstant
        if shape.ndim != 1 or shape.dtype not in _dtypes.INT_DTYPES + _dtypes.UINT_DTYPES:
            raise TypeError("reshape's shape must be an integer vector, got %s" % shape.type)
        if isinstance(shape, TensorConstant):
            if shape.data.shape[0] != self.ndim:
                raise ValueError("reshape: shape %s has %d entries but ndim=%d"
                                 % (shape.data.tolist(), shape.data.shape[0], self.ndim))
            # As Theano: a constant 1 makes that dim broadcastable.
            bcast = tuple(bool(s == 1) for s in shape.data)
        else:
            bcast = (False,) * self.ndim
        return Apply(self, [x, shape], [_out(x.dtype, bcast)])

    def __str__(self):
        return "Reshape{%d}" % self.ndim


class Alloc(Op):
    """Inputs (value, d0, d1, ...): value broadcast to the shape given by integer scalars."""

    wire_name = "alloc"

    def make_node(self, value, *dims):
        if value.ndim > len(dims):
            raise TypeError("The Alloc value to use has more dimensions (%d) than the specified "
                            "dimensions (%d)" % (value.ndim, len(dims)))
        for d in dims:
            if d.ndim != 0 or d.dtype not in _dtypes.INT_DTYPES + _dtypes.UINT_DTYPES:
                raise TypeError("alloc dims must be integer scalars, got %s" % d.type)
        # As Theano: a dim that is the constant 1 is broadcastable.
        bcast = tuple(constant_value(d) == 1 for d in dims)
        return Apply(self, [value] + list(dims), [_out(value.dtype, bcast)])

    def __str__(self):
        return "Alloc"


dot = Dot()
alloc = Alloc()
