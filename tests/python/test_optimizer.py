"""The server's graph optimizer seen from Python: DescribeFunction / debugprint show the optimized
graph, stabilized formulas stay finite where the naive ones overflow, optimizer_excluding and
FAST_COMPILE turn rewrites off, and optimized results equal unoptimized ones."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors
from tensord._proto import compute_pb2
from tensord.compile.function import build_spec
from tensord.connection import get_client

pytestmark = pytest.mark.usefixtures("server")


def debugprint(obj):
    """Lower-cased, so checks do not depend on Theano's capitalised op class names."""
    return theano.printing.debugprint(obj, file="str").lower()


def log_softmax(x):
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def test_log1p_shows_in_the_optimized_graph_and_is_exact_for_tiny_x():
    x = T.dvector("x")
    y = T.log(1 + x)
    f = theano.function([x], y)
    text = debugprint(f)
    assert "log1p" in text, text
    assert "add" not in text, text
    # The variable's own debugprint is the graph as built.
    assert "add" in debugprint(y)
    v = np.array([1e-20, 0.5, 3.0])
    out = f(v)
    np.testing.assert_allclose(out, np.log1p(v), rtol=1e-15)
    assert out[0] == 1e-20  # log(1 + 1e-20) would be 0


def test_expm1_and_log_one_minus():
    x = T.dvector("x")
    f = theano.function([x], [T.exp(x) - 1, T.log(1 - x)])
    assert "expm1" in debugprint(f) and "log1p" in debugprint(f)
    v = np.array([1e-18, -0.25, 0.5])
    a, b = f(v)
    np.testing.assert_allclose(a, np.expm1(v), rtol=1e-15)
    np.testing.assert_allclose(b, np.log1p(-v), rtol=1e-15)


def test_log_sigmoid_is_finite():
    x = T.vector("x")
    f = theano.function([x], [T.log(T.nnet.sigmoid(x)), T.log(1 - T.nnet.sigmoid(x))])
    assert "softplus" in debugprint(f)
    v = np.array([-1000, -3, 0, 3, 1000], dtype="float32")
    a, b = f(v)
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(b))
    np.testing.assert_allclose(a, -np.logaddexp(0, -v), rtol=1e-6)
    np.testing.assert_allclose(b, -np.logaddexp(0, v), rtol=1e-6)


def test_binary_crossentropy_of_a_sigmoid_is_finite():
    x, t = T.vectors("x", "t")
    cost = T.nnet.binary_crossentropy(T.nnet.sigmoid(x), t).sum()
    f = theano.function([x, t], cost)
    v = np.array([-200, 0.5, 200], dtype="float32")
    target = np.array([1, 0, 0], dtype="float32")
    expected = np.sum(target * np.logaddexp(0, -v) + (1 - target) * np.logaddexp(0, v))
    np.testing.assert_allclose(f(v, target), expected, rtol=1e-5)


def test_log_softmax_and_categorical_crossentropy_are_stable():
    x = T.matrix("x")
    y = T.lvector("y")
    sm = T.nnet.softmax(x)
    f = theano.function([x, y], [T.log(sm), T.nnet.categorical_crossentropy(sm, y)])
    v = np.array([[0, 200, 1000], [1, 2, 3]], dtype="float32")
    labels = np.array([0, 2])
    logp, ce = f(v, labels)
    want = log_softmax(v.astype("float64"))
    assert np.all(np.isfinite(logp))
    np.testing.assert_allclose(logp, want, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(ce, -want[[0, 1], labels], rtol=1e-5)


def test_log_sum_exp_does_not_overflow():
    x = T.dmatrix("x")
    f = theano.function([x], T.log(T.sum(T.exp(x), axis=1)))
    assert "max" in debugprint(f)
    v = np.array([[1000.0, 1000.0], [-np.inf, -np.inf], [0.0, 1.0]])
    out = f(v)
    np.testing.assert_allclose(out[0], 1000 + np.log(2))
    assert out[1] == -np.inf
    np.testing.assert_allclose(out[2], np.log(np.exp(0) + np.exp(1)))


def test_optimizer_excluding_disables_a_pass():
    x = T.dvector("x")
    theano.config.optimizer_excluding = "stabilize"
    f = theano.function([x], T.log(1 + x))
    assert "log1p" not in debugprint(f)
    assert f(np.array([1e-20]))[0] == 0  # the naive result
    theano.config.optimizer_excluding = "stabilize:specialize"
    g = theano.function([x], T.log(1 + x) + x ** 2)
    text = debugprint(g)
    assert "log1p" not in text and "sqr" not in text, text


def test_unknown_pass_names_are_refused_listing_the_known_ones():
    x = T.dvector("x")
    theano.config.optimizer_excluding = "no_such_pass"
    with pytest.raises(errors.InvalidArgument, match="no_such_pass.*stabilize"):
        theano.function([x], T.log(1 + x))


def test_fast_compile_skips_the_rewrites():
    x = T.dvector("x")
    f = theano.function([x], T.log(1 + x * 1), mode="FAST_COMPILE")
    text = debugprint(f)
    assert "log1p" not in text and "mul" in text, text


def test_optimizer_none_runs_no_pass():
    x = T.dvector("x")
    theano.config.mode = "Mode"
    theano.config.optimizer = "None"
    e = T.exp(x)
    f = theano.function([x], e + T.exp(x))  # two exp nodes: not even merged
    assert debugprint(f).count("exp") == 2
    np.testing.assert_allclose(f(np.array([0.0, 1.0])), 2 * np.exp([0.0, 1.0]))


def test_optimized_results_equal_unoptimized_ones(rng):
    # A small MLP training step: gradients through softmax cross-entropy, updates.
    floatX = "float64"
    x = T.dmatrix("x")
    y = T.lvector("y")
    w1 = theano.shared(rng.normal(size=(5, 8)), name="w1")
    b1 = theano.shared(np.zeros(8), name="b1")
    w2 = theano.shared(rng.normal(size=(8, 3)), name="w2")
    h = T.tanh(T.dot(x, w1) + b1)
    p = T.nnet.softmax(T.dot(h, w2))
    cost = T.nnet.categorical_crossentropy(p, y).mean() + 0.01 * (w1 ** 2).sum()
    grads = T.grad(cost, [w1, b1, w2])
    xv = rng.normal(size=(4, 5)).astype(floatX)
    yv = np.array([0, 2, 1, 2])
    results = []
    for optimizer in ("fast_run", "None"):
        theano.config.mode = "Mode"
        theano.config.optimizer = optimizer
        f = theano.function([x, y], [cost] + grads)
        results.append(f(xv, yv))
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_compile_reports_the_optimizer_time_and_node_counts():
    x = T.dvector("x")
    y = T.log(1 + x * 1) + x * 0.0 + T.exp(x) * T.exp(x)
    spec, *_ = build_spec([x], y, name="optimizer-stats", mode="FAST_RUN")
    client = get_client()
    resp = client.call("Compile", compute_pb2.CompileRequest(session_id=client.session_id,
                                                            spec=spec))
    assert resp.nodes_before_optimization > resp.node_count
    if not resp.cache_hit:
        assert resp.optimizer_ns > 0
    again = client.call("Compile", compute_pb2.CompileRequest(session_id=client.session_id,
                                                             spec=spec))
    assert again.cache_hit and again.optimizer_ns == 0
    assert again.nodes_before_optimization == resp.nodes_before_optimization
