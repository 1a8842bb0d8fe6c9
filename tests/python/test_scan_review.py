"""Adversarial review of scan (issue 6): corner cases of the layout, the kernels and the gradient,
each against NumPy or finite differences."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors

pytestmark = pytest.mark.usefixtures("server")


def test_sequence_taps_with_go_backwards_and_n_steps(rng):
    x = T.dvector("x")
    res, _ = theano.scan(lambda a, b, c: a + 10 * b + 100 * c,
                         sequences=dict(input=x, taps=[-2, 0, 1]), go_backwards=True, n_steps=3)
    xv = rng.standard_normal(7)
    # Theano's cut: tap k of the sequence is x[k + 2 : len - (1 - k)], reversed, first 3 steps.
    a, b, c = xv[0:4][::-1], xv[2:6][::-1], xv[3:7][::-1]
    np.testing.assert_allclose(theano.function([x], res)(xv), (a + 10 * b + 100 * c)[:3])


def test_sequences_of_different_lengths_and_a_larger_n_steps(rng):
    x, y = T.dvector("x"), T.dmatrix("y")
    res, _ = theano.scan(lambda a, b: a * b.sum(), sequences=[x, y], n_steps=10)
    xv, yv = rng.standard_normal(5), rng.standard_normal((3, 2))
    np.testing.assert_allclose(theano.function([x, y], res)(xv, yv), xv[:3] * yv.sum(axis=1))


def test_mixed_dtypes_integer_state_and_float_output(rng):
    x = T.ivector("x")
    w = T.dscalar("w")

    def step(xt, count, acc):
        return count + xt, acc * w + T.cast(xt, "float64")

    (counts, accs), _ = theano.scan(step, sequences=x,
                                    outputs_info=[T.constant(np.int32(0)),
                                                  T.constant(np.float64(0))])
    xv = np.array([3, -1, 4, 1, 5], dtype="int32")
    f = theano.function([x, w], [counts, accs, T.grad(accs[-1], w)])
    got_c, got_a, got_g = f(xv, 0.5)
    assert got_c.dtype == np.int32
    np.testing.assert_array_equal(got_c, np.cumsum(xv))
    acc, expected = 0.0, []
    for v in xv:
        acc = acc * 0.5 + v
        expected.append(acc)
    np.testing.assert_allclose(got_a, expected)
    # d acc_n / d w by finite differences
    eps = 1e-6

    def final(wv):
        a = 0.0
        for v in xv:
            a = a * wv + v
        return a
    np.testing.assert_allclose(got_g, (final(0.5 + eps) - final(0.5 - eps)) / (2 * eps),
                               rtol=1e-6)


def test_mit_sot_initial_state_with_more_rows_than_the_taps_need(rng):
    x0 = T.dvector("x0")
    res, _ = theano.scan(lambda a, b: a + b, outputs_info=dict(initial=x0, taps=[-3, -1]),
                         n_steps=4)
    f = theano.function([x0], [res, T.grad(res.sum(), x0)])
    xv = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    seq = list(xv[:3])
    for _ in range(4):
        seq.append(seq[-3] + seq[-1])
    got, grad = f(xv)
    np.testing.assert_allclose(got, seq[3:])
    eps = 1e-6
    num = []
    for i in range(5):
        d = np.zeros(5)
        d[i] = eps
        num.append((sum(_fib3(xv + d)) - sum(_fib3(xv - d))) / (2 * eps))
    np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-8)


def _fib3(xv):
    seq = list(xv[:3])
    for _ in range(4):
        seq.append(seq[-3] + seq[-1])
    return seq[3:]


def test_fn_returning_the_same_variable_twice(rng):
    x = T.dvector("x")
    w = T.dscalar("w")

    def step(xt, h):
        h2 = T.tanh(h * w + xt)
        return h2, h2

    (hs, copies), _ = theano.scan(step, sequences=x, outputs_info=[T.constant(np.float64(0)), None])
    cost = hs.sum() + 2 * copies[-1]
    f = theano.function([x, w], [hs, copies, T.grad(cost, w)])
    xv = rng.standard_normal(4)

    def forward(wv):
        h, out = 0.0, []
        for v in xv:
            h = np.tanh(h * wv + v)
            out.append(h)
        return np.array(out)
    got_h, got_c, got_g = f(xv, 0.7)
    np.testing.assert_allclose(got_h, forward(0.7))
    np.testing.assert_allclose(got_c, forward(0.7))
    eps = 1e-6
    c = lambda wv: forward(wv).sum() + 2 * forward(wv)[-1]
    np.testing.assert_allclose(got_g, (c(0.7 + eps) - c(0.7 - eps)) / (2 * eps), rtol=1e-6)


def test_fn_returning_an_input_unchanged(rng):
    x = T.dvector("x")
    h0 = T.dscalar("h0")
    # The state is carried unchanged; the second output is the sequence row itself.
    (hs, ys), _ = theano.scan(lambda xt, h: [h, xt], sequences=x, outputs_info=[h0, None])
    cost = (hs * ys).sum()
    f = theano.function([x, h0], [hs, ys, T.grad(cost, h0), T.grad(cost, x)])
    xv = rng.standard_normal(4)
    got_h, got_y, g_h0, g_x = f(xv, 1.5)
    np.testing.assert_allclose(got_h, np.full(4, 1.5))
    np.testing.assert_allclose(got_y, xv)
    np.testing.assert_allclose(g_h0, xv.sum())
    np.testing.assert_allclose(g_x, np.full(4, 1.5))


def test_jacobian_of_a_scan_output(rng):
    x = T.dvector("x")
    hs, _ = theano.scan(lambda xt, h: T.sin(h) + xt, sequences=x, outputs_info=T.constant(np.float64(0)))
    J = T.jacobian(hs, x)
    xv = rng.standard_normal(4)

    def forward(v):
        h, out = 0.0, []
        for xt in v:
            h = np.sin(h) + xt
            out.append(h)
        return np.array(out)
    eps = 1e-6
    num = np.stack([(forward(xv + eps * np.eye(4)[i]) - forward(xv - eps * np.eye(4)[i]))
                    / (2 * eps) for i in range(4)], axis=1)
    np.testing.assert_allclose(theano.function([x], J)(xv), num, rtol=1e-6, atol=1e-9)


def test_nested_scan_and_its_gradient(rng):
    m = T.dmatrix("m")
    w = T.dscalar("w")

    def row_step(row):
        inner, _ = theano.scan(lambda v, acc: acc * w + v, sequences=row,
                               outputs_info=T.constant(np.float64(0)))
        return inner[-1]
    outs, _ = theano.scan(row_step, sequences=m)
    f = theano.function([m, w], [outs, T.grad(outs.sum(), w)])
    mv = rng.standard_normal((3, 4))

    def forward(wv):
        res = []
        for row in mv:
            acc = 0.0
            for v in row:
                acc = acc * wv + v
            res.append(acc)
        return np.array(res)
    got, g = f(mv, 0.3)
    np.testing.assert_allclose(got, forward(0.3))
    eps = 1e-6
    np.testing.assert_allclose(g, (forward(0.3 + eps).sum() - forward(0.3 - eps).sum()) / (2 * eps),
                               rtol=1e-6)


def test_body_with_unused_inputs(rng):
    x, y = T.dvector("x"), T.dvector("y")
    c = T.dscalar("c")
    res, _ = theano.scan(lambda a, b, h, cc: h + a, sequences=[x, y],
                         outputs_info=T.constant(np.float64(0)), non_sequences=c)
    f = theano.function([x, y, c], [res, T.grad(res.sum(), x)], on_unused_input="ignore")
    xv, yv = rng.standard_normal(3), rng.standard_normal(3)
    got, g = f(xv, yv, 2.0)
    np.testing.assert_allclose(got, np.cumsum(xv))
    np.testing.assert_allclose(g, [3, 2, 1])


def test_zero_steps_outputs_and_gradient():
    x = T.dvector("x")
    h0 = T.dvector("h0")
    n = T.lscalar("n")
    (hs, ys), _ = theano.scan(lambda xt, h: [h * xt, (h * 2).sum()], sequences=x,
                              outputs_info=[h0, None], n_steps=n)
    cost = hs.sum() + ys.sum()
    f = theano.function([x, h0, n], [hs, ys, T.grad(cost, h0), T.grad(cost, x)])
    got_h, got_y, g_h0, g_x = f([1.0, 2.0], [3.0, 4.0], 0)
    assert got_h.shape == (0, 2)
    assert got_y.shape == (0,)
    np.testing.assert_array_equal(g_h0, [0, 0])
    np.testing.assert_array_equal(g_x, [0, 0])


def test_until_with_a_gradient_request_is_a_clear_error():
    x = T.dvector("x")

    def step(xt, h):
        return h + xt, theano.scan_module.until(h > 3)
    hs, _ = theano.scan(step, sequences=x, outputs_info=T.constant(np.float64(0)))
    with pytest.raises(errors.TensordError) as err:
        theano.function([x], T.grad(hs.sum(), x))
    assert "until" in str(err.value)


def test_truncate_gradient_with_two_taps(rng):
    x = T.dvector("x")
    w = T.dscalar("w")
    res, _ = theano.scan(lambda xt, a, b: w * a + b * xt, sequences=x,
                         outputs_info=dict(initial=T.constant(np.array([1.0, 0.5])),
                                           taps=[-2, -1]),
                         truncate_gradient=2)
    g = T.grad(res[-1], [w, x])
    xv = rng.standard_normal(5)
    got_w, got_x = theano.function([x, w], g)(xv, 0.8)

    # Reference: BPTT over the last 2 steps only, the earlier states taken as constants.
    wv, n = 0.8, 5
    s = [1.0, 0.5]
    for t in range(n):
        s.append(wv * s[-2] + s[-1] * xv[t])
    ds = np.zeros(n + 2)
    ds[-1] = 1.0
    gw, gx = 0.0, np.zeros(n)
    for t in range(n - 1, n - 3, -1):
        d = ds[t + 2]
        gw += d * s[t]
        gx[t] += d * s[t + 1]
        ds[t] += d * wv
        ds[t + 1] += d * xv[t]
    np.testing.assert_allclose(got_w, gw, rtol=1e-10)
    np.testing.assert_allclose(got_x, gx, rtol=1e-10)


def test_update_inside_fn_must_keep_the_variables_broadcastable_dims():
    # Found in review: a (True,) shared variable took a (5,) value through a scan update, which
    # later ops then read as a length-1 dim.
    s = theano.shared(np.zeros(1), name="s", broadcastable=(True,))
    v = T.dvector("v")
    with pytest.raises(TypeError, match="broadcastable where the variable is"):
        theano.scan(lambda: {s: s + v}, n_steps=1)
    # The server refuses the same node built by hand (a client that skips the check).
    from tensord.scan_module import Scan
    inner_s, inner_v = s.type(name="s_copy"), T.dvector("v_inner")
    op = Scan([inner_s, inner_v], [inner_s + inner_v], n_seqs=0, taps=[], n_nit_sot=0,
              n_shared_outs=1)
    node = op.make_node(T.constant(np.int64(1)), s, v)
    with pytest.raises(errors.InvalidArgument, match="shared state 0 has type"):
        theano.function([v], [], updates={s: node.outputs[0]})
    assert s.get_value().shape == (1,)
    # A broadcastable update of a non-broadcastable variable is fine.
    w = theano.shared(np.zeros(3), name="w")
    _, updates = theano.scan(lambda: {w: w + T.ones((1,), dtype="float64")}, n_steps=2)
    theano.function([], [], updates=updates)()
    np.testing.assert_array_equal(w.get_value(), [2, 2, 2])


def test_the_step_functions_mode_is_checked_and_aliases_resolve():
    x = T.dvector("x")
    step = lambda xt, h: T.log(h + xt)  # noqa: E731
    init = T.constant(np.float64(1))
    # Found in review: an unknown mode ran silently as FAST_RUN, and Theano's alias DEBUG_MODE
    # reached the server unresolved (so did not check anything).
    with pytest.raises(ValueError, match="unknown mode 'BOGUS'"):
        theano.scan(step, sequences=x, outputs_info=init, mode="BOGUS")
    hs, _ = theano.scan(step, sequences=x, outputs_info=init, mode="DEBUG_MODE")
    assert hs.owner.op.mode == "DebugMode"
    np.testing.assert_allclose(theano.function([x], hs)([1.0, 2.0]),
                               [np.log(2), np.log(np.log(2) + 2)])
    # The body's NanGuardMode applies even when the function's mode is FAST_RUN.
    hs, _ = theano.scan(step, sequences=x, outputs_info=init, mode="NanGuardMode")
    with pytest.raises(errors.InvalidArgument, match="NanGuardMode"):
        theano.function([x], hs)([-5.0, 2.0])
    # The server refuses an unknown body mode sent by hand.
    hs, _ = theano.scan(step, sequences=x, outputs_info=init)
    hs.owner.op.mode = "BOGUS"
    with pytest.raises(errors.InvalidArgument, match="unknown mode 'BOGUS'"):
        theano.function([x], hs)


def test_zero_steps_keeps_broadcastable_dims_of_non_recurrent_outputs():
    # Found in review: with no step run, a (n, 1) output (type col) came back (0, 0), so
    # ys.sum(axis=0), typed as a length-1 row, did not broadcast against b.
    x, b, n = T.dvector("x"), T.dvector("b"), T.lscalar("n")
    ys, _ = theano.scan(lambda xt: xt.dimshuffle("x") * 2, sequences=x, n_steps=n)
    assert ys.broadcastable == (False, True)
    f = theano.function([x, n, b], [ys, ys.sum(axis=0) + b])
    bv = np.arange(4.0)
    for steps in (2, 0):
        xs = np.array([1.0, 2.0])[:steps, None] * 2
        got_ys, got = f([1.0, 2.0], steps, bv)
        assert got_ys.shape == (steps, 1)
        np.testing.assert_allclose(got_ys, xs)
        np.testing.assert_allclose(got, xs.sum(axis=0) + bv)


def test_verify_grad_sequence_taps_go_backwards_and_three_step_state(rng):
    def fn(x, y0, m, a):
        (ys, zs), _ = theano.scan(
            lambda xm2, xp1, mt, y3, y1, a: [a * y3 + T.tanh(y1) * xm2 + xp1 * mt.sum(),
                                               T.sin(y1 * xp1) + mt],
            sequences=[dict(input=x, taps=[-2, 1]), m],
            outputs_info=[dict(initial=y0, taps=[-3, -1]), None],
            non_sequences=a, go_backwards=True)
        return (ys ** 2).sum() + zs.sum() * 2

    pt = [rng.standard_normal(7), rng.standard_normal(4), rng.standard_normal((3, 2)),
          np.array(0.7)]
    T.verify_grad(fn, pt, rng=np.random.RandomState(3))


def test_integer_sequence_and_int_state_with_float_gradient(rng):
    idx = T.lvector("idx")
    emb = T.dmatrix("emb")

    def step(i, count, h):
        return count + i, T.tanh(h + emb[i])
    (counts, hs), _ = theano.scan(step, sequences=idx,
                                  outputs_info=[T.constant(np.int64(0)), T.zeros((3,), "float64")])
    cost = (hs[-1] ** 2).sum()
    f = theano.function([idx, emb], [counts, T.grad(cost, emb)])
    iv, ev = np.array([2, 0, 2, 1]), rng.standard_normal((4, 3))

    def forward(e):
        h = np.zeros(3)
        for i in iv:
            h = np.tanh(h + e[i])
        return (h ** 2).sum()
    got_c, got_g = f(iv, ev)
    np.testing.assert_array_equal(got_c, np.cumsum(iv))
    eps = 1e-6
    num = np.zeros_like(ev)
    for k in np.ndindex(*ev.shape):
        d = np.zeros_like(ev)
        d[k] = eps
        num[k] = (forward(ev + d) - forward(ev - d)) / (2 * eps)
    np.testing.assert_allclose(got_g, num, rtol=1e-6, atol=1e-9)


def _length_delimited(field, payload):
    size, varint = len(payload), bytearray()
    while True:
        byte, size = size & 0x7F, size >> 7
        varint.append(byte | 0x80 if size else byte)
        if not size:
            return bytes([(field << 3) | 2]) + bytes(varint) + payload


def test_hostile_deeply_nested_bodies_are_refused_and_the_server_keeps_serving():
    import grpc
    from tensord.connection import get_client
    client = get_client()
    compile_raw = client.channel.unary_unary("/tensord.v1.Compute/Compile")
    for depth in (30, 200, 5000):
        graph = b""
        for _ in range(depth):  # Graph{applies: [Apply{op: "scan", bodies: [graph]}]}
            graph = _length_delimited(2, _length_delimited(1, b"scan")
                                      + _length_delimited(5, graph))
        request = (_length_delimited(1, client.session_id.encode())
                   + _length_delimited(2, _length_delimited(1, graph)))
        with pytest.raises(grpc.RpcError) as err:
            compile_raw(request, timeout=30)
        assert err.value.code() != grpc.StatusCode.UNAVAILABLE
    x = T.dvector("x")
    res, _ = theano.scan(lambda v: v * 2, sequences=x)
    np.testing.assert_allclose(theano.function([x], res)([1.0, 2.0]), [2.0, 4.0])


def test_an_outer_variable_as_sequence_twice_initial_state_and_closure():
    x = T.dvector("x")
    hs, _ = theano.scan(lambda p, q, h: h * p + q * x.sum(), sequences=[x, x],
                        outputs_info=x[0])
    f = theano.function([x], [hs, T.grad(hs.sum(), x)])
    xv = np.array([1.0, 2.0, 3.0])

    def forward(v):
        h, out = v[0], []
        for t in range(3):
            h = h * v[t] + v[t] * v.sum()
            out.append(h)
        return np.array(out)
    eps = 1e-6
    num = [(forward(xv + eps * e).sum() - forward(xv - eps * e).sum()) / (2 * eps)
           for e in np.eye(3)]
    got, grad = f(xv)
    np.testing.assert_allclose(got, forward(xv))
    np.testing.assert_allclose(grad, num, rtol=1e-6)
