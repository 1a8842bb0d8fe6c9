"""scan through the server: every example of the seed's "Loops in symbolic computing" section
with its printed result, and the examples of Theano's scan tutorial, each against NumPy."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T

pytestmark = pytest.mark.usefixtures("server")

floatX = "float32"


def test_seed_map_over_rows():
    a = T.matrix()

    def fn(x):
        return x + 1

    results, updates = theano.scan(fn, sequences=a)
    f = theano.function([a], results, updates=updates)
    got = f(np.ones((2, 3)).astype(theano.config.floatX))
    assert got.dtype == np.float32 and got.shape == (2, 3)
    np.testing.assert_array_equal(got, np.full((2, 3), 2.0, dtype=np.float32))


def test_seed_cumulative_sum():
    a = T.vector()
    s0 = T.scalar("s0")

    def fn(current_element, prior):
        return prior + current_element

    results, updates = theano.scan(fn=fn, outputs_info=s0, sequences=a)
    f = theano.function([a, s0], results, updates=updates)
    got = f([0, 3, 5], 0)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.array([0., 3., 8.], dtype=np.float32))


def test_seed_vector_per_step():
    a = T.matrix()
    s0 = T.scalar("s0")

    def fn(current_element, prior):
        return prior + current_element.sum()

    results, updates = theano.scan(fn=fn, outputs_info=s0, sequences=a)
    f = theano.function([a, s0], results, updates=updates)
    got = f(np.ones((20, 5)).astype(theano.config.floatX), 0)
    np.testing.assert_array_equal(got, np.arange(5, 101, 5, dtype=np.float32))


def _seed_non_sequences_scan():
    a = T.vector()
    s0 = T.scalar("s0")

    def fn(current_element, prior, non_seq):
        return non_seq * prior + current_element

    results, updates = theano.scan(fn=fn, n_steps=10, sequences=a,
                                   outputs_info=T.constant(0.0), non_sequences=s0)
    return a, s0, results, updates


_SEED_NON_SEQUENCES = np.array(
    [1.0, 6.0, 31.0, 156.0, 781.0, 3906.0, 19531.0, 97656.0, 488281.0, 2441406.0],
    dtype=np.float32)


def test_seed_non_sequences_and_n_steps():
    a, s0, results, updates = _seed_non_sequences_scan()
    f = theano.function([a, s0], results, updates=updates)
    got = f(np.ones((20)).astype(theano.config.floatX), 5)
    assert got.dtype == np.float32 and got.shape == (10,)
    np.testing.assert_allclose(got, _SEED_NON_SEQUENCES, rtol=1e-6)


# The seed's "Configuration, profiling and debugging" section runs on that scan.
def test_seed_fast_compile_gives_the_same_values():
    a, s0, results, updates = _seed_non_sequences_scan()
    f = theano.function([a, s0], results, updates=updates, mode="FAST_COMPILE")
    got = f(np.ones((20), dtype=theano.config.floatX), 5)
    np.testing.assert_allclose(got, _SEED_NON_SEQUENCES, rtol=1e-6)


def test_seed_profiled_scan_summary_names_the_scan_op(capsys):
    saved = (theano.config.profile, theano.config.profile_memory,
             theano.config.profile_optimizer)
    theano.config.profile = True
    theano.config.profile_memory = True
    theano.config.profile_optimizer = True
    try:
        a, s0, results, _ = _seed_non_sequences_scan()
        f = theano.function([a, s0], results, profile=True)
        got = f(np.ones((20), dtype=theano.config.floatX), 5)
        f.profile.summary()
    finally:
        (theano.config.profile, theano.config.profile_memory,
         theano.config.profile_optimizer) = saved
    np.testing.assert_allclose(got, _SEED_NON_SEQUENCES, rtol=1e-6)
    text = capsys.readouterr().out
    assert "theano.scan_module.scan_op.Scan" in text
    assert "for{cpu,scan_fn}" in text
    assert "Memory Profile" in text
    assert "Optimizer Profile" in text
    assert "Theano validate time" in text and "Theano Linker time" in text


def test_tutorial_power_of_a_vector():
    k = T.iscalar("k")
    A = T.vector("A")
    result, updates = theano.scan(fn=lambda prior_result, A: prior_result * A,
                                  outputs_info=T.ones_like(A), non_sequences=A, n_steps=k)
    power = theano.function(inputs=[A, k], outputs=result[-1], updates=updates)
    np.testing.assert_array_equal(power(np.arange(10, dtype=np.float32), 2),
                                  np.arange(10, dtype=np.float32) ** 2)
    np.testing.assert_array_equal(power(np.arange(4, dtype=np.float32), 3),
                                  np.arange(4, dtype=np.float32) ** 3)


def test_tutorial_polynomial():
    coefficients = T.vector("coefficients")
    x = T.scalar("x")
    full_range = T.arange(10000)
    components, updates = theano.scan(
        fn=lambda coefficient, power, free_variable: coefficient * (free_variable ** power),
        outputs_info=None, sequences=[coefficients, full_range], non_sequences=x)
    calculate_polynomial = theano.function(inputs=[coefficients, x], outputs=components.sum())
    test_coefficients = np.asarray([1, 0, 2], dtype=np.float32)
    assert calculate_polynomial(test_coefficients, 3) == pytest.approx(19.0)
    coeffs = np.asarray([0.5, -1, 0.25, 2], dtype=np.float32)
    assert calculate_polynomial(coeffs, 1.5) == pytest.approx(
        np.polyval(coeffs[::-1].astype(np.float64), 1.5), rel=1e-6)


def test_tutorial_triangular_numbers():
    up_to = T.iscalar("up_to")
    seq = T.arange(up_to)
    outputs_info = T.as_tensor_variable(np.asarray(0, seq.dtype))
    scan_result, _ = theano.scan(fn=lambda v, total: total + v, outputs_info=outputs_info,
                                 sequences=seq)
    triangular_sequence = theano.function(inputs=[up_to], outputs=scan_result)
    got = triangular_sequence(15)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, np.cumsum(np.arange(15)))
    assert triangular_sequence(0).shape == (0,)


def test_tutorial_set_values_at_positions():
    location = T.imatrix("location")
    values = T.vector("values")
    output_model = T.matrix("output_model")

    def set_value_at_position(a_location, a_value, output_model):
        zeros = T.zeros_like(output_model)
        zeros_subtensor = zeros[a_location[0], a_location[1]]
        return T.set_subtensor(zeros_subtensor, a_value)

    result, _ = theano.scan(fn=set_value_at_position, outputs_info=None,
                            sequences=[location, values], non_sequences=output_model)
    f = theano.function(inputs=[location, values, output_model], outputs=result)
    locs = np.asarray([[1, 1], [2, 3]], dtype=np.int32)
    vals = np.asarray([42, 50], dtype=np.float32)
    expected = np.zeros((2, 5, 5), dtype=np.float32)
    expected[0, 1, 1], expected[1, 2, 3] = 42, 50
    np.testing.assert_array_equal(f(locs, vals, np.zeros((5, 5), dtype=np.float32)), expected)


def test_tutorial_until_powers_of_two():
    def power_of_2(previous_power, max_value):
        return previous_power * 2, theano.scan_module.until(previous_power * 2 > max_value)

    max_value = T.scalar()
    values, _ = theano.scan(power_of_2, outputs_info=T.constant(1.), non_sequences=max_value,
                            n_steps=1024)
    f = theano.function([max_value], values)
    np.testing.assert_array_equal(f(45), np.array([2., 4., 8., 16., 32., 64.], np.float32))
    np.testing.assert_array_equal(f(0.5), np.array([2.], np.float32))


def test_tutorial_elementwise_tanh_and_row_norms(rng):
    X, W, b = T.matrix("X"), T.matrix("W"), T.vector("b_sym")
    results, _ = theano.scan(lambda v: T.tanh(T.dot(v, W) + b), sequences=X)
    f = theano.function([X, W, b], results)
    x = rng.standard_normal((4, 3)).astype(floatX)
    w = rng.standard_normal((3, 2)).astype(floatX)
    bv = rng.standard_normal(2).astype(floatX)
    np.testing.assert_allclose(f(x, w, bv), np.tanh(x.dot(w) + bv), rtol=1e-5, atol=1e-6)
    norms, _ = theano.scan(lambda x_i: T.sqrt((x_i ** 2).sum()), sequences=[X])
    np.testing.assert_allclose(theano.function([X], norms)(x), np.sqrt((x ** 2).sum(1)),
                               rtol=1e-6)


def test_tutorial_trace_with_two_index_sequences(rng):
    X = T.matrix("X")
    results, _ = theano.scan(lambda i, j, t_f: T.cast(X[i, j] + t_f, floatX),
                             sequences=[T.arange(X.shape[0]), T.arange(X.shape[1])],
                             outputs_info=np.asarray(0., dtype=floatX))
    f = theano.function([X], results[-1])
    x = rng.standard_normal((5, 4)).astype(floatX)  # steps = the shorter sequence (4)
    assert f(x) == pytest.approx(np.trace(x), rel=1e-5)


def test_tutorial_recurrence_with_reversed_sequence(rng):
    X, W, U, V = T.vector("X"), T.matrix("W"), T.matrix("U"), T.matrix("V")
    Y, P = T.matrix("Y"), T.matrix("P")
    results, _ = theano.scan(
        lambda y, p, x_tm1: T.tanh(T.dot(x_tm1, W) + T.dot(y, U) + T.dot(p, V)),
        sequences=[Y, P[::-1]], outputs_info=[X])
    f = theano.function([X, W, Y, U, P, V], results)
    x = np.zeros(2, dtype=floatX)
    w, u, v = (rng.standard_normal((2, 2)).astype(floatX) for _ in range(3))
    y, p = rng.standard_normal((5, 2)).astype(floatX), rng.standard_normal((5, 2)).astype(floatX)
    expected, state = [], x
    for t in range(5):
        state = np.tanh(state.dot(w) + y[t].dot(u) + p[4 - t].dot(v))
        expected.append(state)
    np.testing.assert_allclose(f(x, w, y, u, p, v), np.array(expected), rtol=1e-5, atol=1e-6)


def test_tutorial_two_taps_on_the_output(rng):
    X, W, U, V = T.matrix("X"), T.matrix("W"), T.matrix("U"), T.matrix("V")
    b, n = T.vector("b_sym"), T.iscalar("n_sym")
    results, _ = theano.scan(
        lambda x_tm2, x_tm1: T.dot(x_tm2, U) + T.dot(x_tm1, V) + T.tanh(T.dot(x_tm1, W) + b),
        n_steps=n, outputs_info=[dict(initial=X, taps=[-2, -1])])
    f = theano.function([X, U, V, W, b, n], results)
    x0 = rng.standard_normal((2, 2)).astype(floatX)
    u, v, w = (0.5 * rng.standard_normal((2, 2)).astype(floatX) for _ in range(3))
    bv = rng.standard_normal(2).astype(floatX)
    states = [x0[0], x0[1]]
    for _ in range(6):
        states.append(states[-2].dot(u) + states[-1].dot(v) + np.tanh(states[-1].dot(w) + bv))
    np.testing.assert_allclose(f(x0, u, v, w, bv, 6), np.array(states[2:]), rtol=1e-4,
                               atol=1e-5)


def test_tutorial_accumulate_in_a_shared_variable():
    k = theano.shared(0)
    n_sym = T.iscalar("n_sym")
    results, updates = theano.scan(lambda: {k: (k + 1)}, n_steps=n_sym)
    assert results is None and list(updates) == [k]
    accumulator = theano.function([n_sym], [], updates=updates)
    accumulator(5)
    assert k.get_value() == 5
    accumulator(10)
    assert k.get_value() == 15
