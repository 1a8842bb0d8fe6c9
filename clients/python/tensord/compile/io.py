"""Theano's theano.In and theano.Out: how a function takes an input (a default value, a keyword
name, strict typing, downcasting) and gives an output."""

from tensord.sparse.variable import SparseVariable
from tensord.tensor.var import TensorVariable

__all__ = ["In", "Out"]


def _symbolic(x):
    """What function() takes as an input or output: a tensor or a sparse matrix."""
    return isinstance(x, (TensorVariable, SparseVariable))


class In:
    """An input of tensord.function with its options, as Theano's theano.In.

    name: the keyword the function accepts for it (default: the variable's name); value: its
    default when a call leaves it out (None: no default); strict: values must have the input's
    exact type (no conversion); allow_downcast: this input's own allow_input_downcast.
    mutable and borrow are accepted: values cross the wire, so the function never writes into or
    keeps the caller's array either way. update / implicit (an input with state kept by the
    function) are not supported: a shared variable with an update does that.
    """

    def __init__(self, variable, name=None, value=None, update=None, mutable=None, strict=False,
                 allow_downcast=None, autoname=True, implicit=None, borrow=None, shared=False):
        if not _symbolic(variable):
            raise TypeError("In() wraps a symbolic tensor variable (or sparse matrix), "
                            "got %r" % (variable,))
        if update is not None or implicit or shared:
            raise NotImplementedError(
                "In(update=..., implicit=..., shared=...): an input whose state the function "
                "keeps is not supported; use a shared variable and the function's updates")
        if name is not None and not isinstance(name, str):
            raise TypeError("In(name=...) must be a string, got %r" % (name,))
        self.variable = variable
        self.name = name if name is not None else (variable.name if autoname else None)
        self.value = value
        self.strict = bool(strict)
        self.allow_downcast = allow_downcast
        self.mutable = bool(mutable)
        self.borrow = bool(borrow)

    @property
    def has_default(self):
        return self.value is not None

    def __repr__(self):
        return "In(%s)" % (self.variable,)


class Out:
    """An output of tensord.function, as Theano's theano.Out. borrow is accepted: every result
    arrives as a new array, which the caller owns either way."""

    def __init__(self, variable, borrow=False):
        if not _symbolic(variable):
            raise TypeError("Out() wraps a symbolic tensor variable (or sparse matrix), "
                            "got %r" % (variable,))
        self.variable = variable
        self.borrow = bool(borrow)

    def __repr__(self):
        return "Out(%s)" % (self.variable,)


def unwrap_inputs(inputs):
    """inputs as (variables, one In per input); plain variables get In's defaults."""
    if not isinstance(inputs, (list, tuple)):
        return inputs, None  # function() explains the error
    ins = [i if isinstance(i, In) else In(i) if _symbolic(i) else None
           for i in inputs]
    variables = [i.variable if isinstance(i, In) else i for i in inputs]
    return variables, ins


def unwrap_outputs(outputs):
    """outputs with every Out replaced by its variable (a list stays a list)."""
    if isinstance(outputs, Out):
        return outputs.variable
    if isinstance(outputs, (list, tuple)):
        return [o.variable if isinstance(o, Out) else o for o in outputs]
    return outputs
