"""scan's features through the server, each against a NumPy loop: taps on sequences and
outputs, nit-sot and several outputs, go_backwards, n_steps, until, shared-variable updates
inside fn, nested scans, map / reduce / foldl / foldr, and run-time errors."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors

pytestmark = pytest.mark.usefixtures("server")

floatX = "float32"


def test_fibonacci_with_two_output_taps():
    f0 = T.vector("f0")
    n = T.iscalar("n")
    fib, updates = theano.scan(lambda a, b: a + b, outputs_info=dict(initial=f0, taps=[-2, -1]),
                               n_steps=n)
    f = theano.function([f0, n], fib, updates=updates)
    expected = [1, 1]
    for _ in range(10):
        expected.append(expected[-2] + expected[-1])
    np.testing.assert_array_equal(f(np.array([1, 1], floatX), 10), np.array(expected[2:], floatX))
    # Only the first -min(taps) rows of the initial buffer are used.
    np.testing.assert_array_equal(f(np.array([1, 1, 99], floatX), 3), np.array([2, 3, 5], floatX))


def test_sequence_taps_past_and_future():
    x = T.vector("x")
    res, _ = theano.scan(lambda xm2, x0, xp1: xm2 * 100 + x0 * 10 + xp1,
                         sequences=dict(input=x, taps=[-2, 0, 1]))
    xv = np.arange(1, 8, dtype=floatX)
    expected = [xv[t - 2] * 100 + xv[t] * 10 + xv[t + 1] for t in range(2, len(xv) - 1)]
    np.testing.assert_array_equal(theano.function([x], res)(xv), np.array(expected, floatX))
    only_past, _ = theano.scan(lambda xm1: xm1 * 2, sequences=dict(input=x, taps=[-1]))
    np.testing.assert_array_equal(theano.function([x], only_past)(xv), xv[:-1] * 2)


def test_rnn_with_several_taps_on_inputs_and_outputs(rng):
    # Theano's tutorial: "Multiple outputs, several taps values".
    u, x0, y0 = T.matrix("u"), T.matrix("x0"), T.vector("y0")
    W, W_in_1, W_in_2, W_feedback, W_out = T.matrices("W", "W_in_1", "W_in_2", "W_fb", "W_out")

    def one_step(u_tm4, u_t, x_tm3, x_tm1, y_tm1, W, W_in_1, W_in_2, W_feedback, W_out):
        x_t = T.tanh(T.dot(x_tm1, W) + T.dot(u_t, W_in_1) + T.dot(u_tm4, W_in_2)
                     + T.dot(y_tm1, W_feedback))
        y_t = T.dot(x_tm3, W_out)
        return [x_t, y_t]

    params = [W, W_in_1, W_in_2, W_feedback, W_out]
    (x_vals, y_vals), _ = theano.scan(
        fn=one_step, sequences=dict(input=u, taps=[-4, -0]),
        outputs_info=[dict(initial=x0, taps=[-3, -1]), y0], non_sequences=params, strict=True)
    f = theano.function([u, x0, y0] + params, [x_vals, y_vals])
    n_in, n_hid, n_out = 2, 3, 2
    uv = rng.standard_normal((8, n_in)).astype(floatX)
    x0v = rng.standard_normal((3, n_hid)).astype(floatX)
    y0v = rng.standard_normal(n_out).astype(floatX)
    shapes = [(n_hid, n_hid), (n_in, n_hid), (n_in, n_hid), (n_out, n_hid), (n_hid, n_out)]
    pv = [0.3 * rng.standard_normal(s).astype(floatX) for s in shapes]
    xs, ys, y_prev = list(x0v), [], y0v
    for t in range(4, 8):
        x_t = np.tanh(xs[-1].dot(pv[0]) + uv[t].dot(pv[1]) + uv[t - 4].dot(pv[2])
                      + y_prev.dot(pv[3]))
        y_prev = xs[-3].dot(pv[4])
        xs.append(x_t)
        ys.append(y_prev)
    got_x, got_y = f(uv, x0v, y0v, *pv)
    np.testing.assert_allclose(got_x, np.array(xs[3:]), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got_y, np.array(ys), rtol=1e-5, atol=1e-5)


def test_nit_sot_and_several_outputs(rng):
    x = T.vector("x")
    s0 = T.scalar("s0")
    (running, squares, flags), _ = theano.scan(
        lambda v, acc: [acc + v, v ** 2, T.gt(v, 0)], sequences=x,
        outputs_info=[s0, None, None])
    f = theano.function([x, s0], [running, squares, flags])
    xv = rng.standard_normal(6).astype(floatX)
    got_run, got_sq, got_flags = f(xv, 1.5)
    np.testing.assert_allclose(got_run, 1.5 + np.cumsum(xv), rtol=1e-5)
    np.testing.assert_allclose(got_sq, xv ** 2, rtol=1e-6)
    assert got_flags.dtype == np.bool_
    np.testing.assert_array_equal(got_flags, xv > 0)


def test_go_backwards_and_n_steps_smaller_than_the_sequence():
    x = T.vector("x")
    s0 = T.scalar("s0")
    back, _ = theano.scan(lambda v, acc: acc * 10 + v, sequences=x, outputs_info=s0,
                          go_backwards=True)
    xv = np.array([1, 2, 3, 4], floatX)
    np.testing.assert_array_equal(theano.function([x, s0], back)(xv, 0),
                                  np.array([4, 43, 432, 4321], floatX))
    first3, _ = theano.scan(lambda v, acc: acc + v, sequences=x, outputs_info=s0, n_steps=3)
    np.testing.assert_array_equal(theano.function([x, s0], first3)(xv, 0),
                                  np.array([1, 3, 6], floatX))
    n = T.iscalar("n")
    sym, _ = theano.scan(lambda v: v * 2, sequences=x, n_steps=n)
    g = theano.function([x, n], sym)
    np.testing.assert_array_equal(g(xv, 2), xv[:2] * 2)
    np.testing.assert_array_equal(g(xv, 9), xv * 2)  # the sequence is the shorter
    assert g(xv, 0).shape == (0,)


def test_until_stops_early_with_nit_sot():
    x = T.vector("x")
    res, _ = theano.scan(lambda v: (v * 3, theano.scan_module.until(T.ge(v, 4))), sequences=x)
    f = theano.function([x], res)
    np.testing.assert_array_equal(f(np.array([1, 2, 5, 7], floatX)), np.array([3, 6, 15],
                                                                                 floatX))
    np.testing.assert_array_equal(f(np.array([1, 2], floatX)), np.array([3, 6], floatX))


def test_updates_of_a_shared_variable_inside_fn():
    total = theano.shared(np.float32(0), name="total")
    count = theano.shared(0, name="count")
    x = T.vector("x")

    def step(v):
        return v * 2, [(total, total + v), (count, count + 1)]

    doubled, updates = theano.scan(step, sequences=x)
    assert list(updates) == [total, count]
    f = theano.function([x], doubled, updates=updates)
    np.testing.assert_array_equal(f(np.array([1, 2, 3], floatX)), np.array([2, 4, 6], floatX))
    assert total.get_value() == 6 and count.get_value() == 3
    f(np.array([10], floatX))
    assert total.get_value() == 16 and count.get_value() == 4


def test_shared_variable_read_inside_fn_is_a_non_sequence():
    W = theano.shared(np.array([[1, 2], [3, 4]], dtype=floatX), name="W")
    X = T.matrix("X")
    res, updates = theano.scan(lambda v: T.dot(v, W), sequences=X)
    assert len(updates) == 0
    xv = np.array([[1, 0], [0, 1], [1, 1]], floatX)
    np.testing.assert_array_equal(theano.function([X], res)(xv), xv.dot(W.get_value()))


def test_nested_scan(rng):
    M = T.matrix("M")
    k = T.scalar("k")

    def row_cumsum(row, k):
        inner, _ = theano.scan(lambda v, acc: acc + v * k, sequences=row,
                               outputs_info=T.constant(np.float32(0)))
        return inner

    res, _ = theano.scan(row_cumsum, sequences=M, non_sequences=k)
    mv = rng.standard_normal((3, 4)).astype(floatX)
    np.testing.assert_allclose(theano.function([M, k], res)(mv, 2), np.cumsum(mv * 2, axis=1),
                               rtol=1e-5, atol=1e-6)


def test_map_reduce_foldl_foldr(rng):
    x = T.vector("x")
    xv = rng.standard_normal(5).astype(floatX)
    mapped, _ = theano.map(lambda v: T.exp(v), sequences=x)
    np.testing.assert_allclose(theano.function([x], mapped)(xv), np.exp(xv), rtol=1e-6)
    zero = T.constant(np.float32(0))
    total, _ = theano.reduce(lambda v, acc: acc + v, sequences=x, outputs_info=zero)
    assert theano.function([x], total)(xv) == pytest.approx(xv.sum(), rel=1e-5)
    left, _ = theano.foldl(lambda v, acc: acc * 10 + v, x, zero)
    right, _ = theano.foldr(lambda v, acc: acc * 10 + v, x, zero)
    digits = np.array([1, 2, 3], floatX)
    f = theano.function([x], [left, right])
    assert [float(v) for v in f(digits)] == [123.0, 321.0]


def test_run_time_errors_are_clear():
    x = T.vector("x")
    n = T.iscalar("n")
    res, _ = theano.scan(lambda a: a * 2, outputs_info=x, n_steps=n)
    f = theano.function([x, n], res)
    with pytest.raises(errors.InvalidArgument, match="n_steps"):
        f(np.ones(2, floatX), -1)
    # A step whose result changes the state's shape is refused at run time.
    grow, _ = theano.scan(lambda a: T.concatenate([a, a]), outputs_info=x, n_steps=3)
    with pytest.raises(errors.InvalidArgument):
        theano.function([x], grow)(np.ones(2, floatX))
    np.testing.assert_array_equal(f(np.ones(2, floatX), 2), [[2, 2], [4, 4]])  # still serving


def test_default_update_of_a_shared_variable_read_inside_fn():
    # Random streams give their state a default_update; scan turns it into a shared out.
    step_count = theano.shared(np.float32(1), name="step_count")
    step_count.default_update = step_count + 1
    x = T.vector("x")
    res, updates = theano.scan(lambda v: v * step_count, sequences=x)
    assert list(updates) == [step_count]
    f = theano.function([x], res, updates=updates)
    np.testing.assert_array_equal(f(np.ones(3, floatX)), [1, 2, 3])
    assert step_count.get_value() == 4


def test_random_stream_inside_fn_advances_every_step_and_call():
    streams = pytest.importorskip("tensord.tensor.shared_randomstreams")
    srng = streams.RandomStreams(seed=234)
    X = T.matrix("X")
    res, updates = theano.scan(lambda x: x * srng.uniform(x.shape), sequences=X)
    assert len(updates) == 1  # the stream's state: a shared out of the scan
    f = theano.function([X], res, updates=updates)
    first, second = f(np.ones((3, 2), floatX)), f(np.ones((3, 2), floatX))
    for draw in (first, second):
        assert np.all((draw >= 0) & (draw < 1))
        assert len({tuple(row) for row in draw}) == 3  # a new draw at every step
    assert not np.array_equal(first, second)
