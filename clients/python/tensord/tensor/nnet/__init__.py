"""tensord.tensor.nnet — Theano's `T.nnet` namespace: activations (`activations`), the usual
losses, convolution (`abstract_conv`: conv2d, conv3d and their gradients, each a server op),
batch normalization (`bn`) and image patches (`neighbours`).

softmax and the cross-entropies are composed from elementwise ops and reductions, so the
server differentiates them like any graph (the optimizer is where fused, stabilized forms
belong).
"""

from tensord.tensor import basic
from tensord.tensor.elemwise import sigmoid, softplus
from tensord.tensor.nnet import abstract_conv, bn, conv, neighbours  # noqa: F401 - as in Theano
from tensord.tensor.nnet.abstract_conv import conv2d, conv3d
from tensord.tensor.nnet.activations import (elu, hard_sigmoid, selu, softsign,
                                             ultra_fast_sigmoid)
from tensord.tensor.nnet.neighbours import images2neibs, neibs2images

__all__ = ["sigmoid", "softplus", "softmax", "log_softmax", "relu", "binary_crossentropy",
           "categorical_crossentropy", "conv2d", "conv3d", "ultra_fast_sigmoid", "hard_sigmoid",
           "softsign", "elu", "selu", "images2neibs", "neibs2images"]


def _rows(x, what):
    x = basic.as_tensor_variable(x)
    if x.ndim not in (1, 2):
        raise TypeError("%s needs a vector or a matrix (one row per example), got %s"
                        % (what, x.type))
    return x


def log_softmax(c):
    """log(softmax(c)) along the last axis, computed as c - max - log(sum(exp(c - max)))."""
    c = _rows(c, "log_softmax")
    shifted = c - basic.max(c, axis=-1, keepdims=True)
    return shifted - basic.log(basic.sum(basic.exp(shifted), axis=-1, keepdims=True))


def softmax(c):
    """exp(c) / sum(exp(c)) along the last axis (shifted by the row max, so it cannot
    overflow)."""
    c = _rows(c, "softmax")
    e = basic.exp(c - basic.max(c, axis=-1, keepdims=True))
    return e / basic.sum(e, axis=-1, keepdims=True)


def relu(x, alpha=0):
    """max(x, 0), or x where x > 0 and alpha * x elsewhere (leaky) as Theano's relu."""
    from tensord.tensor.elemwise import maximum, switch
    x = basic.as_tensor_variable(x)
    if alpha == 0:
        return maximum(x, 0)
    return switch(x > 0, x, alpha * x)


def binary_crossentropy(output, target):
    """-(target * log(output) + (1 - target) * log(1 - output)), elementwise."""
    return -(target * basic.log(output) + (1.0 - target) * basic.log(1.0 - output))


def categorical_crossentropy(coding_dist, true_dist):
    """-sum(true_dist * log(coding_dist)) per row when true_dist is one-hot / a distribution
    (same rank); -log(coding_dist[i, true_dist[i]]) when it is an integer label vector."""
    coding_dist = _rows(coding_dist, "categorical_crossentropy")
    true_dist = basic.as_tensor_variable(true_dist)
    if true_dist.ndim == coding_dist.ndim:
        return -basic.sum(true_dist * basic.log(coding_dist), axis=-1)
    if true_dist.ndim == coding_dist.ndim - 1 and true_dist.dtype.startswith(("int", "uint")):
        from tensord.tensor.shape_ops import arange
        picked = coding_dist[arange(coding_dist.shape[0]), true_dist]
        return -basic.log(picked)
    raise TypeError("categorical_crossentropy: true_dist must be a distribution of the same "
                    "rank as coding_dist or an integer label vector, got %s for %s"
                    % (true_dist.type, coding_dist.type))
