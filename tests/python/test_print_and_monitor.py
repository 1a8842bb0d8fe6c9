"""theano.printing.Print and theano.compile.MonitorMode (issue 17, item 5), including the
detect_nan recipe of Theano's debugging FAQ."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord.compile import MonitorMode
from tensord.printing import Print

pytestmark = pytest.mark.usefixtures("server")


def test_print_shows_the_value_each_call_and_passes_it_on(capsys):
    x = T.dvector("x")
    f = theano.function([x], Print("this is x")(x) * 2)
    np.testing.assert_array_equal(f([1.0, 2.0]), [2, 4])
    assert capsys.readouterr().out == "this is x __str__ = [1. 2.]\n"
    g = theano.function([x], [Print("x", attrs=("shape", "sum"))(x).sum(), x + 1])
    total, plus = g([1.0, 2.0, 3.0])
    assert total == 6 and list(plus) == [2, 3, 4]
    assert capsys.readouterr().out == "x shape = (3,)\nx sum = 6.0\n"
    assert "Print{this is x}" in theano.printing.debugprint(f, file="str")


def test_print_with_a_global_fn_and_in_an_update():
    seen = []
    s = theano.shared(np.float64(1.0))
    step = Print("step", global_fn=lambda op, value: seen.append((op.message, float(value))))
    f = theano.function([], [], updates=[(s, step(s * 2))])
    f()
    f()
    assert seen == [("step", 2.0), ("step", 4.0)] and s.get_value() == 4.0
    # Its gradient passes through.
    x = T.dscalar("x")
    assert theano.function([x], T.grad(Print("x")(x) ** 2, x))(3.0) == 6.0


def detect_nan(i, node, fn):
    for output in fn.outputs:
        if np.isnan(output[0]).any():
            print("*** NaN detected ***")
            theano.printing.debugprint(node)
            print("Inputs : %s" % [input[0] for input in fn.inputs])
            print("Outputs: %s" % [output[0] for output in fn.outputs])
            break


def test_detect_nan_as_the_faq(capsys):
    x = T.dscalar("x")
    f = theano.function([x], [T.log(x) * x], mode=MonitorMode(post_func=detect_nan))
    assert np.isnan(f(0)[0])
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "*** NaN detected ***"
    assert out[1].startswith("Elemwise{mul,no_inplace}") and "Elemwise{log" in out[2]
    assert out[-2:] == ["Inputs : [array(-inf), array(0.)]", "Outputs: [array(nan)]"]
    f(1.0)
    assert capsys.readouterr().out == ""


def test_print_under_monitor_mode_prints_once_and_inputs_cut_the_graph(capsys):
    x = T.dvector("x")
    seen = []
    f = theano.function([x], Print("px")(x) * 2,
                        mode=MonitorMode(post_func=lambda i, node, fn: seen.append(i)))
    f([1.0])
    assert capsys.readouterr().out == "px __str__ = [1.]\n"
    assert seen == list(range(len(seen))) and len(seen) >= 2  # Print, mul (and the 2's pad)
    a = T.dvector("a")
    mid = Print("p")(a) * 2  # a function of mid alone never computes the Print
    g = theano.function([mid], mid + 1)
    assert list(g([1.0])) == [2.0] and capsys.readouterr().out == ""


def test_monitor_mode_takes_inputs_as_the_function_does_and_survives_copy():
    x = T.fvector("x")
    s = theano.shared(np.float32(1.0))
    values = []
    mode = MonitorMode(post_func=lambda i, node, fn: values.append(float(fn.outputs[0][0][0]))
                       if str(node.op).startswith("Elemwise{mul") else None)
    f = theano.function([x], x * s, allow_input_downcast=True, mode=mode)
    f(np.ones(1))  # float64 data, downcast as the function allows
    t = theano.shared(np.float32(3.0))
    f.copy(swap={s: t})(np.ones(1))
    assert values == [1.0, 3.0]


def test_pre_and_post_funcs_walk_the_nodes_in_order():
    calls = []
    mode = MonitorMode(pre_func=lambda i, node, fn: calls.append(("pre", i, fn.outputs[0][0])),
                       post_func=lambda i, node, fn: calls.append(("post", i, float(
                           fn.outputs[0][0])))).excluding("fusion")
    assert isinstance(mode, MonitorMode)
    x = T.dscalar("x")
    f = theano.function([x], T.exp(x) + 1, mode=mode)
    assert f(0.0) == 2.0
    assert calls == [("pre", 0, None), ("post", 0, 1.0), ("pre", 1, None), ("post", 1, 2.0)]


def test_a_callback_that_raises_stops_the_call_before_its_updates():
    s = theano.shared(np.float64(0.0))

    def refuse_nan(i, node, fn):
        if any(np.isnan(o[0]).any() for o in fn.outputs):
            raise FloatingPointError("NaN from %s" % node.op)
    x = T.dscalar("x")
    f = theano.function([x], s, updates=[(s, s + T.log(x))], mode=MonitorMode(
        post_func=refuse_nan))
    f(np.e)
    assert s.get_value() == pytest.approx(1.0)
    with pytest.raises(FloatingPointError, match="NaN from Elemwise{log"):
        f(-1.0)
    assert s.get_value() == pytest.approx(1.0)
