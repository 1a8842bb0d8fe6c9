"""tensord.tensor — Theano's `theano.tensor` (use as `import tensord.tensor as T`)."""

from tensord.tensor.type import TensorType
from tensord.tensor.var import AsTensorError, TensorConstant, TensorVariable
from tensord.tensor.basic import (add, alloc, as_tensor, as_tensor_variable, cast, constant,
                                  dimshuffle, dot, exp, fill, log, max, mul, neg, ones,
                                  ones_like, pow, reshape, second, sub, sum, transpose,
                                  true_div, truediv, zeros, zeros_like)
from tensord.tensor.constructors import *  # noqa: F401,F403 - scalar, matrix, fvector ...
from tensord.tensor.constructors import __all__ as _ctor_names, tensor

__all__ = ["TensorType", "TensorVariable", "TensorConstant", "AsTensorError", "add", "alloc",
           "as_tensor", "as_tensor_variable", "cast", "constant", "dimshuffle", "dot", "exp",
           "fill", "log", "max", "mul", "neg", "ones", "ones_like", "pow", "reshape", "second",
           "sub", "sum", "transpose", "true_div", "truediv", "zeros", "zeros_like",
           "tensor"] + list(_ctor_names)
