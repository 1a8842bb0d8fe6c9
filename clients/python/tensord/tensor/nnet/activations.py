"""Theano's activation functions beyond sigmoid/softplus/relu (nnet.sigm, nnet.nnet), each a
composition of elementwise ops that the server fuses into one pass and differentiates."""

from tensord.tensor import basic
from tensord.tensor.elemwise import abs_, clip, expm1, sgn, switch

__all__ = ["ultra_fast_sigmoid", "hard_sigmoid", "softsign", "elu", "selu"]

# selu's constants (Klambauer et al. 2017), as Theano spells them.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def ultra_fast_sigmoid(x):
    """Theano's piecewise approximation of sigmoid (max error about 0.02): a three-piece tanh
    approximation of x / 2, mapped to (0, 1)."""
    x = basic.as_tensor_variable(x)
    half = abs_(0.5 * x)
    z = switch(half < 1.7, 1.5 * half / (1 + half),
               switch(half < 3, 0.935409070603099 + 0.0458812946797165 * (half - 1.7),
                      0.99505475368673))
    return 0.5 * (sgn(x) * z + 1)


def hard_sigmoid(x):
    """clip(0.2 x + 0.5, 0, 1) (Theano's hard_sigmoid)."""
    x = basic.as_tensor_variable(x)
    return clip(0.2 * x + 0.5, 0, 1)


def softsign(x):
    """x / (1 + |x|)."""
    x = basic.as_tensor_variable(x)
    return x / (1 + abs_(x))


def elu(x, alpha=1):
    """x where x > 0, alpha * (exp(x) - 1) elsewhere."""
    x = basic.as_tensor_variable(x)
    return switch(x > 0, x, alpha * expm1(x))


def selu(x):
    """scale * elu(x, alpha) with the self-normalizing constants."""
    return _SELU_SCALE * elu(x, _SELU_ALPHA)

