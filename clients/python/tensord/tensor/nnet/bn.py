"""Batch normalization as Theano's `theano.tensor.nnet.bn`: batch_normalization_train,
batch_normalization_test and batch_normalization.

Training is the server op batch_norm_train (statistics and output in three passes; its
gradient, through the batch statistics, one op more); the test-time forms are elementwise
expressions the server fuses.
Parameters (gamma, beta, means, variances) come either with the input's rank, size 1 on the
normalized axes, or with only the other axes; results come back in the parameters' form.
"""

import functools
import operator

from tensord.graph import Apply, Op
from tensord.tensor import basic
from tensord.tensor.elemwise import sqrt
from tensord.tensor.type import TensorType

__all__ = ["batch_normalization_train", "batch_normalization_test", "batch_normalization"]


class BatchNormTrain(Op):
    """(x, gamma, beta) -> (out, mean, invstd), the statistics over `axes` kept as size-1 dims
    and the parameters given so (Theano's AbstractBatchNormTrain)."""

    wire_name = "batch_norm_train"

    def __init__(self, axes, epsilon):
        self.axes, self.epsilon = tuple(axes), float(epsilon)

    def attrs(self):
        return {"axis": list(self.axes), "epsilon": self.epsilon}

    def make_node(self, x, gamma, beta):
        from tensord import _dtypes
        x, gamma, beta = (basic.as_tensor_variable(v) for v in (x, gamma, beta))
        dtype = _dtypes.upcast(x.dtype, gamma.dtype, beta.dtype)
        if dtype not in ("float32", "float64"):
            raise TypeError("batch normalization needs float32 or float64 operands, got %s"
                            % x.type)
        stats = tuple(True if d in self.axes else b for d, b in enumerate(x.broadcastable))
        return Apply(self, [x, gamma, beta], [TensorType(dtype, x.broadcastable)(),
                                              TensorType(dtype, stats)(),
                                              TensorType(dtype, stats)()])

    def __str__(self):
        return "AbstractBatchNormTrain{axes=%s}" % (self.axes,)


def _axes(axes, ndim):
    if axes == "per-activation":
        return (0,)
    if axes == "spatial":
        return (0,) + tuple(range(2, ndim))
    if isinstance(axes, str) or not all(isinstance(a, int) for a in axes):
        raise ValueError("axes must be 'per-activation', 'spatial' or a tuple of axes, got %r"
                         % (axes,))
    if not axes or not all(-ndim <= a < ndim for a in axes):
        raise ValueError("axes %r are not axes of a %d-d input" % (axes, ndim))
    return tuple(sorted({a % ndim for a in axes}))


class _Params:
    """Reads parameters in either form and writes results back in the same form."""

    def __init__(self, inputs, axes, first):
        self.ndim, self.axes = inputs.ndim, axes
        self.kept = [d for d in range(inputs.ndim) if d not in axes]
        first = basic.as_tensor_variable(first)
        if first.ndim not in (inputs.ndim, len(self.kept)):
            raise TypeError("batch normalization parameters must have %d dims (size 1 on axes "
                            "%s) or %d (the other axes), got %s"
                            % (inputs.ndim, axes, len(self.kept), first.type))
        self.full = first.ndim == inputs.ndim

    def read(self, p, name):
        p = basic.as_tensor_variable(p)
        if self.full:
            if p.ndim != self.ndim:
                raise TypeError("%s has %d dims, gamma %d" % (name, p.ndim, self.ndim))
            return p
        if p.ndim != len(self.kept):
            raise TypeError("%s has %d dims, gamma %d" % (name, p.ndim, len(self.kept)))
        it = iter(range(p.ndim))
        return p.dimshuffle(["x" if d in self.axes else next(it) for d in range(self.ndim)])

    def write(self, v):
        return v if self.full else v.dimshuffle(self.kept)


def _check_epsilon(epsilon):
    if epsilon < 1e-5:
        raise ValueError("epsilon must be at least 1e-5, got %r" % (epsilon,))


def batch_normalization_train(inputs, gamma, beta, axes="per-activation", epsilon=1e-4,
                              running_average_factor=0.1, running_mean=None, running_var=None):
    """Normalizes `inputs` over `axes` with the batch's statistics:
    out = (inputs - mean) * gamma / sqrt(var + epsilon) + beta.

    Returns (out, mean, invstd), and with running_mean and running_var also their updated
    values: running * (1 - factor) + batch statistic * factor, the variance unbiased (m / (m-1)
    for m normalized elements)."""
    inputs = basic.as_tensor_variable(inputs)
    axes = _axes(axes, inputs.ndim)
    _check_epsilon(epsilon)
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must be given together")
    params = _Params(inputs, axes, gamma)
    gamma, beta = params.read(gamma, "gamma"), params.read(beta, "beta")
    out, mean, invstd = BatchNormTrain(axes, epsilon)(inputs, gamma, beta)
    results = [out, params.write(mean), params.write(invstd)]
    if running_mean is not None:
        factor = running_average_factor
        count = basic.cast(functools.reduce(operator.mul, [inputs.shape[a] for a in axes]),
                           invstd.dtype)
        var = 1.0 / (invstd * invstd) - epsilon
        unbiased = var * (count / (count - 1))
        running_mean = params.read(running_mean, "running_mean")
        running_var = params.read(running_var, "running_var")
        results += [params.write(running_mean * (1 - factor) + mean * factor),
                    params.write(running_var * (1 - factor) + unbiased * factor)]
    return tuple(results)


def batch_normalization_test(inputs, gamma, beta, mean, var, axes="per-activation",
                             epsilon=1e-4):
    """Normalizes `inputs` with given statistics (the running averages at inference):
    out = (inputs - mean) * gamma / sqrt(var + epsilon) + beta."""
    inputs = basic.as_tensor_variable(inputs)
    axes = _axes(axes, inputs.ndim)
    _check_epsilon(epsilon)
    params = _Params(inputs, axes, gamma)
    gamma, beta = params.read(gamma, "gamma"), params.read(beta, "beta")
    mean, var = params.read(mean, "mean"), params.read(var, "var")
    return (inputs - mean) * (gamma / sqrt(var + epsilon)) + beta


def batch_normalization(inputs, gamma, beta, mean, std, mode="low_mem"):
    """(inputs - mean) * (gamma / std) + beta, broadcasting as any elementwise expression
    (Theano's original batch_normalization; `mode` only chose its GPU memory use)."""
    if mode not in ("low_mem", "high_mem"):
        raise ValueError("mode must be 'low_mem' or 'high_mem', got %r" % (mode,))
    return (inputs - mean) * (gamma / std) + beta
