"""The ops that exist for differentiation, forward: sum_to_like against NumPy (the inverse of
broadcasting) and the identity ops that only steer gradients."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from harness import check
from tensord.errors import InvalidArgument
from tensord.gradient import disconnected_grad, grad_clip, zero_grad
from tensord.graph import Apply, Op

OPS = {"sum_to_like", "disconnected_grad", "zero_grad", "grad_clip"}

pytestmark = pytest.mark.usefixtures("server")


class SumToLike(Op):
    wire_name = "sum_to_like"

    def make_node(self, g, model):
        return Apply(self, [g, model], [T.TensorType(g.dtype, model.broadcastable)()])


def _sum_to_shape(g, shape):
    lead = g.ndim - len(shape)
    out = g.sum(axis=tuple(range(lead))) if lead else g
    axes = tuple(d for d, n in enumerate(shape) if n == 1 and out.shape[d] != 1)
    return out.sum(axis=axes, keepdims=True) if axes else out


@pytest.mark.parametrize("g_shape,model_shape", [
    ((3, 4), (3, 4)), ((3, 4), (1, 4)), ((3, 4), (3, 1)), ((3, 4), (1, 1)), ((2, 3, 4), (3, 4)),
    ((2, 3, 4), (4,)), ((2, 3, 4), ()), ((0, 3), (1, 3)), ((5,), (5,))])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_sum_to_like_is_numpy_broadcasting_undone(g_shape, model_shape, dtype):
    rng = np.random.RandomState(0)
    g = (rng.rand(*g_shape) * 10).astype(dtype)
    model = np.zeros(model_shape, dtype="float64")
    check(lambda a, m: SumToLike()(a, m),
          lambda a, m: _sum_to_shape(a, m.shape).astype(a.dtype), g, model,
          rtol=1e-5)


def test_sum_to_like_refuses_shapes_broadcasting_cannot_explain():
    g, model = T.dmatrix("g"), T.dmatrix("m")
    f = theano.function([g, model], SumToLike()(g, model))
    with pytest.raises(InvalidArgument, match="cannot come from broadcasting"):
        f(np.zeros((3, 4)), np.zeros((2, 4)))


@pytest.mark.parametrize("wrap", [disconnected_grad, zero_grad,
                                  lambda x: grad_clip(x, -1.0, 1.0)])
def test_gradient_steering_ops_are_the_identity_forward(wrap):
    x = np.arange(12.0).reshape(3, 4)[:, ::2]  # strided
    check(wrap, lambda a: a, x)
