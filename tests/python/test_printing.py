"""Pure client tests: pp / pprint / debugprint of unoptimized graphs."""

import numpy as np

import tensord as theano
import tensord.tensor as T


def test_seed_pp_examples():
    x = T.matrix("x")
    y = T.matrix("y")
    z = x + y
    assert theano.pp(z) == "(x + y)"
    assert theano.printing.pprint(z) == "(x + y)"
    a = T.matrix()
    b = T.matrix()
    assert theano.pp(a + b) == "(<TensorType(float32, matrix)> + <TensorType(float32, matrix)>)"
    x = T.matrix("x")
    x = x + x
    assert theano.pp(x) == "(x + x)"


def test_pp_operators_and_functions():
    x, y = T.matrices("x", "y")
    s = T.scalar("s")
    assert theano.pp(x - y) == "(x - y)"
    assert theano.pp(x * y) == "(x * y)"
    assert theano.pp(x / y) == "(x / y)"
    assert theano.pp(-x) == "(-x)"
    assert theano.pp(x ** y) == "(x ** y)"
    assert theano.pp((x + y) * x) == "((x + y) * x)"
    assert theano.pp(T.add(x, y, x)) == "(x + y + x)"
    assert theano.pp(T.exp(x)) == "exp(x)"
    assert theano.pp(T.log(x)) == "log(x)"
    # The broadcasting dimshuffle Elemwise inserts is hidden, as in Theano.
    assert theano.pp(x * s) == "(x * s)"
    assert theano.pp(x ** 2) == "(x ** TensorConstant{2})"
    assert theano.pp(x.T) == "x.T"
    assert theano.pp(T.fill(x, s)) == "fill(x, s)"
    assert theano.pp(T.dot(x, y)) == "(x \u00b7 y)"


def test_pp_other_ops_use_op_names():
    x = T.matrix("x")
    assert theano.pp(T.sum(x, axis=0)) == "Sum{axis=[0], acc_dtype=float64}(x)"
    assert theano.pp(T.cast(x, "int32")) == "Elemwise{Cast{int32}}(x)"
    assert theano.pp(x.reshape((4,))) == "Reshape{1}(x, TensorConstant{(1,) of 4})"
    assert theano.pp(x.reshape((2, -1))) == "Reshape{2}(x, TensorConstant{%s})" % np.array([2, -1])


def test_seed_debugprint():
    x = T.matrix("x")
    y = T.matrix("y")
    z = x + y
    text = theano.printing.debugprint(z, file="str")
    assert text == ("Elemwise{add,no_inplace} [id A] ''   \n"
                    " |x [id B]\n"
                    " |y [id C]\n")


def test_debugprint_nested_and_shared_nodes(capsys):
    x, y = T.matrices("x", "y")
    s = x + y
    z = s * s
    theano.printing.debugprint(z)
    out = capsys.readouterr().out
    assert out == ("Elemwise{mul,no_inplace} [id A] ''   \n"
                   " |Elemwise{add,no_inplace} [id B] ''   \n"
                   " | |x [id C]\n"
                   " | |y [id D]\n"
                   " |Elemwise{add,no_inplace} [id B] ''   \n")


def test_debugprint_dimshuffle_and_constants():
    a = T.matrix("a")
    text = theano.printing.debugprint(a * 2, file="str")
    assert text.splitlines() == ["Elemwise{mul,no_inplace} [id A] ''   ",
                                 " |a [id B]",
                                 " |InplaceDimShuffle{x,x} [id C] ''   ",
                                 "   |TensorConstant{2} [id D]"]
