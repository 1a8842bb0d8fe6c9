"""theano.grad through the server: the seed's example, Theano's options and error cases, the
gradient helpers, Lop/Rop and verify_grad itself. Expected values come from NumPy formulas."""

import warnings

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord.gradient import (DisconnectedInputError, DisconnectedType, GradientError,
                              disconnected_grad, grad_clip, zero_grad)

pytestmark = pytest.mark.usefixtures("server")


def test_seed_gradient_of_a_square_prints_and_evaluates_as_2a():
    a = T.scalar()
    pow_ = a ** 2
    g = theano.grad(pow_, a)
    # Theano prints exactly this for the chapter's example.
    assert theano.pp(g) == ("((fill((<TensorType(float32, scalar)> ** TensorConstant{2}), "
                            "TensorConstant{1.0}) * TensorConstant{2}) * "
                            "(<TensorType(float32, scalar)> ** (TensorConstant{2} - "
                            "TensorConstant{1})))")
    f = theano.function([a], g)
    assert f(3.0) == np.float32(6.0)
    assert g.type == a.type


def test_gradients_keep_dtype_and_broadcast_pattern():
    x = T.fmatrix("x")
    r = T.frow("r")
    cost = T.sum(T.exp(x * r))
    gx, gr = theano.grad(cost, [x, r])
    assert gx.type == x.type and gr.type == r.type
    xv = np.random.RandomState(0).rand(3, 4).astype("float32")
    rv = np.random.RandomState(1).rand(1, 4).astype("float32")
    gxv, grv = theano.function([x, r], [gx, gr])(xv, rv)
    np.testing.assert_allclose(gxv, rv * np.exp(xv * rv), rtol=1e-5)
    np.testing.assert_allclose(grv, (xv * np.exp(xv * rv)).sum(0, keepdims=True), rtol=1e-5)


def test_single_wrt_gives_a_variable_and_a_list_gives_a_list():
    x, y = T.dscalars("x", "y")
    cost = x * y
    assert not isinstance(theano.grad(cost, x), list)
    assert isinstance(theano.grad(cost, [x]), list)
    assert isinstance(theano.grad(cost, (x, y)), list)


def test_gradient_names_follow_theano():
    x = T.dvector("x")
    cost = T.sum(x ** 2)
    cost.name = "cost"
    assert theano.grad(cost, x).name == "(dcost/dx)"


def test_shared_variables_are_valid_wrt():
    w = theano.shared(np.array([1.0, -2.0]), name="w")
    cost = T.sum(w ** 3)
    g = theano.grad(cost, w)
    np.testing.assert_allclose(theano.function([], g)(), 3 * np.array([1.0, -2.0]) ** 2)


def test_intermediate_variables_are_valid_wrt():
    x = T.dvector("x")
    h = T.tanh(x)
    cost = T.sum(h * h)
    gh = theano.grad(cost, h)
    xv = np.array([0.1, -0.5, 2.0])
    np.testing.assert_allclose(theano.function([x], gh)(xv), 2 * np.tanh(xv))


def test_cost_must_be_a_scalar():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="scalar"):
        theano.grad(x * 2, x)


def test_wrt_must_be_variables_and_options_must_be_known():
    x = T.dscalar("x")
    with pytest.raises(TypeError, match="symbolic variables"):
        theano.grad(x * 2, 3.0)
    with pytest.raises(ValueError, match="disconnected_inputs"):
        theano.grad(x * 2, x, disconnected_inputs="maybe")
    with pytest.raises(ValueError, match="return_disconnected"):
        theano.grad(x * 2, x, return_disconnected="zeros")
    with pytest.raises(AssertionError):
        theano.grad(None, x)


def test_disconnected_inputs_raise_warn_or_ignore():
    x, y = T.dscalars("x", "y")
    cost = x * 3
    with pytest.raises(DisconnectedInputError, match="y"):
        theano.grad(cost, [x, y])
    with pytest.warns(UserWarning, match="not part of the computational graph"):
        gx, gy = theano.grad(cost, [x, y], disconnected_inputs="warn")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gx, gy = theano.grad(cost, [x, y], disconnected_inputs="ignore")
    assert theano.function([x, y], [gx, gy], on_unused_input="ignore")(2.0, 5.0) == [3.0, 0.0]
    _, none = theano.grad(cost, [x, y], disconnected_inputs="ignore", return_disconnected="None")
    assert none is None
    _, disc = theano.grad(cost, [x, y], disconnected_inputs="ignore",
                          return_disconnected="Disconnected")
    assert isinstance(disc.type, DisconnectedType)


def test_integer_wrt_gets_floatx_zeros():
    n = T.ivector("n")
    cost = T.sum(T.cast(n, "float32") * 2)
    g = theano.grad(cost, n)
    assert g.dtype == theano.config.floatX and g.broadcastable == n.broadcastable
    np.testing.assert_array_equal(theano.function([n], g)(np.array([1, 2], "int32")), [0, 0])


def test_consider_constant_and_known_grads():
    x = T.dvector("x")
    scale = x * 3
    g = theano.grad(T.sum(x * scale), x, consider_constant=[scale])
    np.testing.assert_allclose(theano.function([x], g)(np.array([1.0, 2.0])), [3.0, 6.0])
    y = x ** 2
    gy = T.dvector("gy")
    gx = theano.grad(None, x, known_grads={y: gy})
    np.testing.assert_allclose(
        theano.function([x, gy], gx)(np.array([1.0, 2.0]), np.array([10.0, 100.0])),
        [20.0, 400.0])


def test_gradient_steering_helpers():
    x = T.dvector("x")
    xv = np.array([0.5, -1.5, 2.0])
    # d/dx sum(x * stop(x)) = stop(x) = x.
    g = theano.grad(T.sum(x * disconnected_grad(x)), x)
    np.testing.assert_allclose(theano.function([x], g)(xv), xv)
    g = theano.grad(T.sum(x * zero_grad(x)), x)
    np.testing.assert_allclose(theano.function([x], g)(xv), xv)
    # d/dx sum(clipgrad(x)**2) = clip(2x, -1, 1)
    g = theano.grad(T.sum(grad_clip(x, -1.0, 1.0) ** 2), x)
    np.testing.assert_allclose(theano.function([x], g)(xv), np.clip(2 * xv, -1, 1))
    assert np.allclose(theano.function([x], grad_clip(x, -1.0, 1.0))(xv), xv)
    with pytest.raises(ValueError, match="lower_bound"):
        grad_clip(x, 1.0, -1.0)
    # A variable reached only through disconnected_grad is disconnected.
    with pytest.raises(DisconnectedInputError):
        theano.grad(T.sum(disconnected_grad(x)), x)


def test_second_derivatives():
    x = T.dscalar("x")
    y = x ** 3 + T.sin(x)
    d1 = theano.grad(y, x)
    d2 = theano.grad(d1, x)
    f = theano.function([x], [d1, d2])
    v = 0.7
    got = f(v)
    np.testing.assert_allclose(got, [3 * v ** 2 + np.cos(v), 6 * v - np.sin(v)], rtol=1e-12)


def test_lop_and_rop_match_the_jacobian():
    x = T.dvector("x")
    W = T.dmatrix("W")
    y = T.tanh(T.dot(W, x))
    v = T.dvector("v")
    u = T.dvector("u")
    rng = np.random.RandomState(3)
    Wv, xv, vv, uv = rng.randn(3, 4), rng.randn(4), rng.randn(4), rng.randn(3)
    jac = (1 - np.tanh(Wv @ xv) ** 2)[:, None] * Wv  # dy/dx
    rop = theano.function([W, x, v], T.Rop(y, x, v))(Wv, xv, vv)
    np.testing.assert_allclose(rop, jac @ vv, rtol=1e-10)
    lop = theano.function([W, x, u], T.Lop(y, x, u))(Wv, xv, uv)
    np.testing.assert_allclose(lop, uv @ jac, rtol=1e-10)


def test_verify_grad_accepts_right_and_rejects_wrong_gradients():
    rng = np.random.RandomState(0)
    T.verify_grad(lambda a, b: T.tanh(a) * b + a / b,
                  [rng.rand(3, 2) + 0.5, rng.rand(3, 2) + 0.5], rng=rng)
    # zero_grad hides half of d(x*x)/dx: the numeric gradient is twice the symbolic one.
    with pytest.raises(GradientError) as err:
        T.verify_grad(lambda a: zero_grad(a) * a, [rng.rand(4) + 1.0], rng=rng)
    assert "argument 0" in str(err.value)
    with pytest.raises(TypeError, match="floating point"):
        T.verify_grad(lambda a: a * 2, [np.arange(3)], rng=rng)


def _raw_request(cost, wrt):
    from tensord._proto import compute_pb2
    from tensord.connection import get_client
    from tensord.serialize import GraphBuilder
    builder = GraphBuilder((), [cost] + wrt)
    client = get_client()
    request = compute_pb2.DifferentiateRequest(
        session_id=client.session_id, graph=builder.graph, cost=builder.id_of(cost),
        wrt=[builder.id_of(w) for w in wrt])
    return client, request


def test_differentiate_rejects_bad_requests_by_name():
    from tensord import errors
    x = T.dvector("x")
    client, request = _raw_request(T.sum(x), [x])
    request.wrt.append(999)
    with pytest.raises(errors.InvalidArgument, match="wrt refers to unknown variable 999"):
        client.call("Differentiate", request)
    client, request = _raw_request(T.sum(x), [x])
    request.float_dtype = 4  # DT_INT32
    with pytest.raises(errors.InvalidArgument, match="float_dtype"):
        client.call("Differentiate", request)
    client, request = _raw_request(T.sum(x), [x])
    request.return_disconnected = "nothing"
    with pytest.raises(errors.InvalidArgument, match="return_disconnected"):
        client.call("Differentiate", request)
    client, request = _raw_request(T.sum(x), [x])
    request.session_id = "no-such-session"
    with pytest.raises(errors.NotFound):
        client.call("Differentiate", request)


def test_differentiate_returns_only_the_added_nodes():
    big = np.arange(10000.0)
    x = T.dvector("x")
    client, request = _raw_request(T.sum(x * big), [x])
    response = client.call("Differentiate", request)
    sent_ids = {v.id for v in request.graph.variables}
    assert all(v.id not in sent_ids for v in response.graph.variables)
    # The big constant is referenced by id, not sent back.
    assert response.ByteSize() < 2000
