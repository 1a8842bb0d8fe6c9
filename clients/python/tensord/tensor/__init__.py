"""tensord.tensor — Theano's `theano.tensor` (use as `import tensord.tensor as T`)."""

from tensord.tensor.type import TensorType
from tensord.tensor.var import AsTensorError, TensorConstant, TensorVariable
from tensord.tensor.basic import (add, alloc, as_tensor, as_tensor_variable, cast, constant,
                                  dimshuffle, dot, exp, fill, log, max, mul, neg, ones,
                                  ones_like, pow, reshape, second, sub, sum, transpose,
                                  true_div, truediv, zeros, zeros_like)
from tensord.tensor.reductions import (all, any, argmax, argmin, cumprod, cumsum,
                                       max_and_argmax, mean, min, prod, ptp, std, var)
from tensord.tensor.reductions import __all__ as _reduction_names
from tensord.tensor.elemwise import *  # noqa: F401,F403 - int_div, sqrt, lt, switch ...
from tensord.tensor.elemwise import __all__ as _elemwise_names
from tensord.tensor import nnet  # noqa: F401 - T.nnet.sigmoid as in Theano
from tensord.tensor import signal  # noqa: F401 - theano.tensor.signal.pool as in Theano
from tensord.tensor import extra_ops  # noqa: F401 - T.extra_ops.to_one_hot as in Theano
from tensord.tensor import raw_random, shared_randomstreams  # noqa: F401 - T.shared_randomstreams
from tensord.tensor.shape_ops import *  # noqa: F401,F403 - arange, join, sort ...
from tensord.tensor.shape_ops import __all__ as _shape_names
from tensord.tensor.subtensor import inc_subtensor, set_subtensor, take
from tensord.tensor.nlinalg import batched_dot, batched_tensordot, outer, tensordot
from tensord.tensor.constructors import *  # noqa: F401,F403 - scalar, matrix, fvector ...
from tensord.tensor.constructors import __all__ as _ctor_names, tensor
from tensord.gradient import Lop, Rop, grad, hessian, jacobian, verify_grad

__all__ = ["TensorType", "TensorVariable", "TensorConstant", "AsTensorError", "add", "alloc",
           "as_tensor", "as_tensor_variable", "cast", "constant", "dimshuffle", "dot", "exp",
           "fill", "log", "max", "mul", "neg", "ones", "ones_like", "pow", "reshape", "second",
           "sub", "sum", "transpose", "true_div", "truediv", "zeros", "zeros_like",
           "tensor", "inc_subtensor", "set_subtensor", "take", "batched_dot",
           "batched_tensordot", "outer", "tensordot", "grad", "Lop", "Rop", "verify_grad", "jacobian", "hessian"] + list(_ctor_names) + list(_shape_names) + list(_elemwise_names) + list(_reduction_names)
