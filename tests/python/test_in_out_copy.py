"""theano.In / theano.Out and Function.copy as Theano's tutorial uses them ("Using shared
variables", "Copying functions", "Setting a default value for an argument"), with their error
cases."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T

pytestmark = pytest.mark.usefixtures("server")


def test_default_values_and_keyword_names_as_the_tutorial():
    x, y, w = T.dscalars("x", "y", "w")
    z = (x + y) * w
    f = theano.function([x, theano.In(y, value=1), theano.In(w, value=2, name="w_by_name")], z)
    assert f(33) == 68.0
    assert f(33, 2) == 70.0
    assert f(33, 0, 1) == 33.0
    assert f(33, w_by_name=1) == 34.0
    assert f(33, w_by_name=1, y=0) == 33.0


def test_keyword_errors_name_the_input():
    x, y = T.dscalars("x", "y")
    f = theano.function([x, theano.In(y, value=1, name="offset")], x + y)
    with pytest.raises(TypeError, match="no input named 'y'"):  # renamed by In(name=...)
        f(1, y=2)
    with pytest.raises(TypeError, match="multiple values for input 'offset'"):
        f(1, 2, offset=3)
    g = theano.function([x, y], x + y)
    with pytest.raises(TypeError, match="missing: y"):
        g(1)


def test_in_arguments_that_are_refused():
    x, y = T.dscalars("x", "y")
    # A name two inputs share compiles (as in Theano) and is an error only when used.
    f = theano.function([theano.In(x, name="a"), theano.In(y, name="a", value=1.0)], x + y)
    assert f(2.0) == 3.0 and f(2.0, 5.0) == 7.0
    with pytest.raises(TypeError, match="ambiguous name 'a'"):
        f(a=1.0)
    a1, a2 = T.dscalar("a"), T.dscalar("a")
    g = theano.function([a1, theano.In(a2, value=1.0)], a1 - a2)
    assert g(5.0) == 4.0
    with pytest.raises(TypeError, match="ambiguous name 'a'"):
        g(1.0, a=5.0)
    with pytest.raises(NotImplementedError, match="shared variable"):
        theano.In(x, value=0, update=x + 1)
    with pytest.raises(TypeError, match="symbolic tensor variable"):
        theano.In(3)
    with pytest.raises(TypeError, match="string"):
        theano.In(x, name=5)


def test_strict_and_per_input_downcast():
    x, y = T.fvector("x"), T.fvector("y")
    f = theano.function([theano.In(x, strict=True), theano.In(y, allow_downcast=True)], x + y)
    f32 = np.ones(2, "float32")
    np.testing.assert_array_equal(f(f32, np.ones(2)), [2, 2])  # y downcasts from float64
    with pytest.raises(TypeError):
        f(np.ones(2), f32)  # strict: float64 is not x's type
    with pytest.raises(TypeError):
        f([1, 1], f32)  # strict: a list is not an array of x's type


def test_out_wraps_outputs():
    x = T.dvector("x")
    f = theano.function([x], theano.Out(x * 2, borrow=True))
    np.testing.assert_array_equal(f([1, 2]), [2, 4])
    g = theano.function([x], [theano.Out(x + 1), x - 1])
    a, b = g([1, 2])
    np.testing.assert_array_equal(a, [2, 3])
    np.testing.assert_array_equal(b, [0, 1])
    with pytest.raises(TypeError, match="symbolic tensor variable"):
        theano.Out([1])


def test_copy_swaps_shared_variables_and_drops_updates_as_the_tutorial():
    state = theano.shared(0)
    inc = T.iscalar("inc")
    accumulator = theano.function([inc], state, updates=[(state, state + inc)])
    accumulator(10)
    assert state.get_value() == 10
    new_state = theano.shared(0)
    new_accumulator = accumulator.copy(swap={state: new_state}, name="new")
    new_accumulator(100)
    assert new_state.get_value() == 100 and state.get_value() == 10
    assert new_accumulator.name == "new"
    null_accumulator = accumulator.copy(delete_updates=True)
    assert null_accumulator.name == accumulator.name + " copy"
    assert null_accumulator(9000) == 10
    assert state.get_value() == 10
    accumulator(1)  # the original still updates
    assert state.get_value() == 11


def test_copy_keeps_input_defaults_and_refuses_bad_swaps():
    s = theano.shared(np.float64(2.0))
    x = T.dscalar("x")
    f = theano.function([theano.In(x, value=3.0)], x * s)
    g = f.copy(share_memory=True)
    assert g() == 6.0 and g(4.0) == 8.0
    with pytest.raises(TypeError, match="has type"):
        f.copy(swap={s: theano.shared(np.zeros(2))})
    with pytest.raises(ValueError, match="does not use"):
        f.copy(swap={theano.shared(np.float64(1)): theano.shared(np.float64(5))})
    with pytest.raises(TypeError, match="shared variables to shared variables"):
        f.copy(swap={s: 5})
