"""Theano's test values (issue 17, item 5): config.compute_test_value computes tag.test_value
for every node as the graph is built, so an error surfaces at the line that builds the bad node
(the Theano FAQ's example); the modes for inputs without a test value; var.tag as an attribute
bag."""

import warnings

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors
from tensord.ifelse import ifelse
from tensord.test_value import get_test_value

pytestmark = pytest.mark.usefixtures("server")


@pytest.fixture
def mode():
    def set_mode(value):
        theano.config.compute_test_value = value
    yield set_mode
    theano.config.reset("compute_test_value")


def test_a_shape_error_surfaces_where_the_node_is_built(mode):
    mode("raise")
    x = T.matrix("x")
    x.tag.test_value = np.random.rand(5, 10).astype("float32")
    y = T.matrix("y")
    y.tag.test_value = np.random.rand(3, 4).astype("float32")
    with pytest.raises(errors.InvalidArgument, match=r"\(5, 10\) and \(3, 4\) not aligned"):
        T.dot(x, y)


def test_values_propagate_through_constants_shared_and_nodes(mode):
    mode("raise")
    x = T.dvector("x")
    x.tag.test_value = np.array([1.0, 2.0, 3.0])
    w = theano.shared(np.array([2.0, 2.0, 2.0]))
    z = T.tanh(x * w + 1).sum()
    np.testing.assert_allclose(z.tag.test_value, np.tanh(np.array([1.0, 2, 3]) * 2 + 1).sum())
    np.testing.assert_allclose(get_test_value(x * w), [2, 4, 6])
    assert get_test_value(T.constant(5.0)) == 5.0


def test_gradients_get_test_values_and_scan_and_ifelse_do_not_stop_the_program(mode):
    mode("raise")
    x = T.dvector("x")
    x.tag.test_value = np.array([0.5, -1.0])
    w = theano.shared(np.array([2.0, 3.0]))
    cost = (T.tanh(x * w) ** 2).sum()
    step = w - 0.1 * T.grad(cost, w)
    want = 2 * np.tanh(np.array([1.0, -3.0])) * (1 - np.tanh(np.array([1.0, -3.0])) ** 2)
    np.testing.assert_allclose(step.tag.test_value, [2, 3] - 0.1 * want * [0.5, -1.0])
    doubled, _ = theano.scan(lambda v: v * 2, sequences=x)  # no value inside the step
    chosen = ifelse(T.lt(x.sum(), 0), x, x * 2) * 2
    assert not hasattr(chosen.tag, "test_value") and doubled is not None


def test_computing_test_values_applies_no_default_update(mode):
    mode("raise")
    s = theano.shared(np.float64(0.0))
    s.default_update = s + 1
    x = T.dscalar("x")
    x.tag.test_value = 1.0
    assert (s * 2 + x).tag.test_value == 1.0
    assert s.get_value() == 0.0


def test_inputs_without_a_test_value_in_each_mode(mode):
    x, y = T.dvector("x"), T.dvector("y")
    x.tag.test_value = np.ones(2)
    mode("off")
    assert not hasattr((x + y).tag, "test_value") and not hasattr((x * 2).tag, "test_value")
    mode("ignore")
    assert not hasattr((x + y).tag, "test_value")
    mode("warn")
    with pytest.warns(UserWarning, match=r"input 1 \(y\) of Op .* missing default value"):
        x + y
    for strict in ("raise", "pdb"):
        mode(strict)
        with pytest.raises(ValueError, match=r"input 1 \(y\) .* missing default value"):
            x + y
    with pytest.raises(AttributeError, match="no test value"):
        get_test_value(y)
    with pytest.raises(ValueError, match="compute_test_value"):
        theano.config.compute_test_value = "sometimes"


def test_tag_is_an_attribute_bag():
    x = T.dscalar("x")
    x.tag.trace = "built here"
    x.tag.anything = [1, 2]
    assert x.tag.trace == "built here" and x.tag.anything == [1, 2]
    assert "anything" in repr(x.tag)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not hasattr((x + 1).tag, "test_value")  # off by default: nothing computed
