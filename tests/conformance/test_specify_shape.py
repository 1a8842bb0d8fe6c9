"""T.specify_shape as Theano's: the value itself when its shape is the stated one, a clear
error naming both shapes otherwise; shape inference answers `.shape` from the stated shape
without computing the value; the gradient passes through."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors
from harness import grad_check

OPS = {"specify_shape"}
GRAD_OPS = OPS

pytestmark = pytest.mark.usefixtures("server")


def test_returns_the_value_when_the_shape_is_the_stated_one(rng):
    x, n = T.matrix(), T.lscalar()
    f = theano.function([x, n], T.specify_shape(x, (n, 3)) * 2)
    value = rng.standard_normal((4, 3)).astype("float32")
    np.testing.assert_array_equal(f(value, 4), value * 2)
    assert "SpecifyShape" in theano.printing.debugprint(f, file="str")


def test_a_value_of_another_shape_is_refused_naming_both():
    x = T.matrix()
    f = theano.function([x], T.specify_shape(x, (2, 3)) + 1)
    with pytest.raises(errors.InvalidArgument, match=r"shape \(3, 2\) but the graph states "
                                                      r"\(2, 3\)"):
        f(np.zeros((3, 2), "float32"))
    v = T.lvector()
    g = theano.function([x, v], T.specify_shape(x, v))
    with pytest.raises(errors.InvalidArgument, match=r"states \(2, 3, 1\)"):
        g(np.zeros((2, 3), "float32"), [2, 3, 1])


def test_shape_inference_takes_the_stated_shape_without_computing():
    x = T.matrix()
    f = theano.function([x], (T.specify_shape(x, (5, 7)) ** 2).shape)
    text = theano.printing.debugprint(f, file="str")
    assert "sqr" not in text and "pow" not in text, text
    assert tuple(f(np.zeros((5, 7), "float32"))) == (5, 7)


def test_intermediate_shapes_come_from_the_inputs_as_theano_prints_them():
    x = T.matrix("x")
    f = theano.function([x], (x ** 2).shape)
    text = theano.printing.debugprint(f, file="str")
    assert "MakeVector{dtype='int64'}" in text and "Shape_i{0}" in text and "Shape_i{1}" in text
    assert "sqr" not in text and "pow" not in text, text
    assert tuple(f(np.zeros((2, 3), "float32"))) == (2, 3)


def test_gradient_passes_through(rng):
    grad_check(lambda a: T.specify_shape(a, (3, 2)) ** 2, rng.standard_normal((3, 2)))


def test_bad_arguments_are_refused_when_the_graph_is_built():
    x = T.matrix()
    with pytest.raises(ValueError, match="3 dims stated for a 2-d"):
        T.specify_shape(x, (1, 2, 3))
    with pytest.raises(TypeError, match="integer vector"):
        T.specify_shape(x, T.vector())
    with pytest.raises(TypeError, match="shape entries must be integers"):
        T.specify_shape(x, (2.5, 3))
