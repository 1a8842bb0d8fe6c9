"""Gradients through scan (backpropagation through time) and T.jacobian / T.hessian built on
scan, against NumPy derivatives and finite differences (T.verify_grad)."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors

pytestmark = pytest.mark.usefixtures("server")


def test_tutorial_jacobian_with_scan_and_T_jacobian():
    x = T.dvector("x")
    y = x ** 2
    J, updates = theano.scan(lambda i, y, x: T.grad(y[i], x), sequences=T.arange(y.shape[0]),
                             non_sequences=[y, x])
    f = theano.function([x], J, updates=updates)
    np.testing.assert_array_equal(f([4, 4]), [[8., 0.], [0., 8.]])
    g = theano.function([x], T.jacobian(y, x))
    xv = np.array([1.5, -2., 3.])
    np.testing.assert_allclose(g(xv), np.diag(2 * xv))


def test_jacobian_of_a_layer_referencing_outer_variables(rng):
    v, A = T.dvector("v"), T.dmatrix("A")
    y = T.tanh(T.dot(v, A))
    J, _ = theano.scan(lambda i: T.grad(y[i], v), sequences=T.arange(y.shape[0]))
    f = theano.function([v, A], [J, T.jacobian(y, v), T.jacobian(y, [v, A])[1]])
    vv, av = rng.standard_normal(3), rng.standard_normal((3, 4))
    yv = np.tanh(vv.dot(av))
    expected = ((1 - yv ** 2)[:, None] * av.T)  # J[i, j] = (1 - y_i^2) A[j, i]
    got_scan, got_T, got_A = f(vv, av)
    np.testing.assert_allclose(got_scan, expected, rtol=1e-10)
    np.testing.assert_allclose(got_T, expected, rtol=1e-10)
    expected_A = np.zeros((4, 3, 4))  # d y_i / d A[j, k] = (1 - y_i^2) v_j [i == k]
    for i in range(4):
        expected_A[i, :, i] = (1 - yv[i] ** 2) * vv
    np.testing.assert_allclose(got_A, expected_A, rtol=1e-10)


def test_hessian_matches_the_analytic_one(rng):
    x = T.dvector("x")
    cost = (x ** 3).sum() + x[0] * x[1]
    H = T.hessian(cost, x)
    xv = rng.standard_normal(3)
    expected = np.diag(6 * xv)
    expected[0, 1] = expected[1, 0] = 1
    np.testing.assert_allclose(theano.function([x], H)(xv), expected, rtol=1e-10)
    listed = T.hessian(cost, [x])
    assert isinstance(listed, list) and len(listed) == 1


def test_grad_of_the_seed_cumulative_sum():
    a = T.vector("a")
    s0 = T.scalar("s0")
    results, _ = theano.scan(lambda cur, prior: prior + cur, outputs_info=s0, sequences=a)
    ga, gs = T.grad(results.sum(), [a, s0])
    # The server's scan_grad node comes back with its body: printable, and sent again as is.
    text = theano.printing.debugprint(ga, file="str")
    assert "for{cpu,grad_of_scan_fn}" in text and "Inner graphs of the scan ops:" in text
    f = theano.function([a, s0], [ga, gs])
    got_a, got_s = f(np.array([1, 2, 3, 4], "float32"), 0)
    np.testing.assert_allclose(got_a, [4, 3, 2, 1])
    assert got_s == pytest.approx(4)


def _rnn(x, W, h0, truncate_gradient=-1):
    hs, _ = theano.scan(lambda xt, h, W: T.tanh(T.dot(h, W) + xt), sequences=x,
                        outputs_info=h0, non_sequences=W, truncate_gradient=truncate_gradient)
    return hs


def test_verify_grad_rnn_step(rng):
    x = rng.standard_normal((5, 3))
    W = 0.5 * rng.standard_normal((3, 3))
    h0 = rng.standard_normal(3)
    T.verify_grad(lambda x, W, h0: _rnn(x, W, h0), [x, W, h0], rng=np.random.RandomState(1))


def test_verify_grad_several_taps_and_nit_sot(rng):
    def fn(x, y0, a):
        (ys, zs), _ = theano.scan(
            lambda xt, y2, y1, a: [a * y2 + T.tanh(y1) + xt, T.sin(y1 * xt)],
            sequences=x, outputs_info=[dict(initial=y0, taps=[-2, -1]), None],
            non_sequences=a)
        return ys.sum() + zs.sum() * 2

    pt = [rng.standard_normal(6), rng.standard_normal(2), np.array(0.7)]
    T.verify_grad(fn, pt, rng=np.random.RandomState(2))


def test_truncate_gradient_zeroes_early_steps(rng):
    x = T.dmatrix("x")
    W = T.dmatrix("W")
    h0 = T.dvector("h0")
    full = T.grad(_rnn(x, W, h0)[-1].sum(), x)
    cut = T.grad(_rnn(x, W, h0, truncate_gradient=2)[-1].sum(), x)
    f = theano.function([x, W, h0], [full, cut])
    xv = rng.standard_normal((6, 3))
    wv = 0.5 * rng.standard_normal((3, 3))
    g_full, g_cut = f(xv, wv, rng.standard_normal(3))
    assert np.all(g_cut[:4] == 0)
    np.testing.assert_allclose(g_cut[4:], g_full[4:], rtol=1e-10)
    assert np.any(g_full[:4] != 0)


def test_gradient_errors_name_the_scan():
    x = T.dvector("x")
    W = T.dscalar("W")
    hs, _ = theano.scan(lambda xt, h, W: T.tanh(h * W + xt), sequences=x,
                        outputs_info=T.constant(0.0, dtype="float64"), non_sequences=W,
                        name="loop")
    gW = T.grad(hs.sum(), W)
    with pytest.raises((errors.InvalidArgument, errors.Unimplemented),
                       match="second derivatives through scan"):
        T.grad(gW, W)
    total = theano.shared(0.0, name="total")
    _, updates = theano.scan(lambda v: {total: total + v * W}, sequences=x)
    with pytest.raises((errors.InvalidArgument, errors.Unimplemented), match="scan"):
        T.grad(updates[total], W)


def test_rnn_training_loop_decreases_the_loss(rng):
    # Parameters are shared variables read inside fn (non-sequences); their gradients flow
    # through scan_grad and SGD updates them between calls.
    W = theano.shared(0.1 * rng.standard_normal((3, 3)), name="W")
    U = theano.shared(0.1 * rng.standard_normal((2, 3)), name="U")
    x, target = T.dmatrix("x"), T.dvector("target")
    hs, _ = theano.scan(lambda xt, h: T.tanh(T.dot(h, W) + T.dot(xt, U)), sequences=x,
                        outputs_info=T.zeros((3,), dtype="float64"))
    loss = ((hs[-1] - target) ** 2).sum()
    gW, gU = T.grad(loss, [W, U])
    train = theano.function([x, target], loss, updates=[(W, W - 0.2 * gW), (U, U - 0.2 * gU)])
    xv, tv = rng.standard_normal((6, 2)), np.array([0.5, -0.3, 0.2])
    losses = [float(train(xv, tv)) for _ in range(40)]
    assert losses[-1] < 0.1 * losses[0]


def test_gradient_wrt_a_non_sequence_the_step_never_reads_is_disconnected():
    # scan's connection pattern (from its body) tells the grad driver what reaches the cost.
    x = T.vector("x")
    used, unused = T.scalar("used"), T.scalar("unused")
    h0 = T.scalar("h0")
    hs, _ = theano.scan(lambda x_t, h, w, _unused: h * w + x_t, sequences=x, outputs_info=h0,
                        non_sequences=[used, unused])
    cost = hs.sum()
    with pytest.raises(theano.gradient.DisconnectedInputError):
        T.grad(cost, unused)
    g_used, g_unused = T.grad(cost, [used, unused], disconnected_inputs="ignore")
    f = theano.function([x, used, unused, h0], g_used)
    xs = np.array([1.0, 2.0, 3.0], dtype=theano.config.floatX)
    # h_t = w h_{t-1} + x_t from h0 = 0, w = 2: h = 1, 4, 11; dh_t/dw = h_{t-1} + w dh_{t-1}/dw
    # = 0, 1, 4 + 2 * 1 = 6, so d(sum h)/dw = 7.
    np.testing.assert_allclose(f(xs, 2.0, 9.0, 0.0), 7.0, rtol=1e-6)
    assert g_unused.eval({unused: 9.0}) == 0
