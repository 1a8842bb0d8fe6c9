"""Pickling as Theano allows (issue 17, item 3): variables and graphs, shared variables with their
values, and compiled functions, unpickled in this process or another one connected to the same
or another server; an unpickled function updates its unpickled shared variables."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord.connection import get_client
from tensord.ifelse import ifelse
from tensord.tensor.nnet import conv2d
from tensord.tensor.signal.pool import pool_2d

pytestmark = pytest.mark.usefixtures("server")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Model:
    """A model object as Theano code keeps one: shared parameters, symbolic expressions and a
    compiled training step."""

    def __init__(self):
        self.x, self.y = T.dmatrix("x"), T.ivector("y")
        self.w = theano.shared(np.zeros((3, 2)), name="w")
        self.b = theano.shared(np.zeros(2), name="b")
        p = T.nnet.softmax(T.dot(self.x, self.w) + self.b)
        self.cost = -T.mean(T.log(p)[T.arange(self.y.shape[0]), self.y])
        gw, gb = T.grad(self.cost, [self.w, self.b])
        self.train = theano.function([self.x, self.y], self.cost,
                                     updates=[(self.w, self.w - 0.5 * gw),
                                              (self.b, self.b - 0.5 * gb)])


DATA = (np.array([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]]), np.array([0, 1, 0, 1], "int32"))


def test_graphs_of_every_kind_pickle_and_compute_the_same():
    x, im = T.dmatrix("x"), T.tensor4("im")
    k = theano.shared(np.ones((2, 1, 3, 3), "float32"))
    scanned, _ = theano.scan(lambda v, acc: acc + v, sequences=x, outputs_info=T.zeros_like(x[0]))
    exprs = [T.grad((T.tanh(x) ** 2).sum(), x), scanned[-1],
             ifelse(T.lt(x.sum(), 0), x, x * 2),
             pool_2d(conv2d(im, k), (2, 2), ignore_border=True).mean()]
    back = pickle.loads(pickle.dumps((x, im, exprs)))
    xv = np.arange(6.0).reshape(2, 3) - 2
    iv = np.ones((1, 1, 6, 6), "float32")
    for want, got in zip(exprs[:3], back[2][:3]):
        np.testing.assert_allclose(theano.function([back[0]], got)(xv),
                                   theano.function([x], want)(xv))
    np.testing.assert_allclose(theano.function([back[1]], back[2][3])(iv),
                               theano.function([im], exprs[3])(iv))


def test_a_step_through_the_gradient_of_a_scan_pickles():
    # The gradient of a scan comes back from the server with its bodies (wire graphs).
    x = T.dvector("x")
    w = theano.shared(np.float64(0.5), name="w")
    h, _ = theano.scan(lambda v, acc: T.tanh(acc * w + v), sequences=x,
                       outputs_info=T.constant(np.float64(0)))
    step = theano.function([x], h[-1], updates=[(w, w - 0.1 * T.grad(h[-1], w))])
    again, w2 = pickle.loads(pickle.dumps((step, w)))
    xv = np.array([0.1, -0.2, 0.3])
    assert again(xv) == step(xv)
    np.testing.assert_allclose(w2.get_value(), w.get_value())


def test_shared_variables_come_back_independent_with_their_value():
    s = theano.shared(np.arange(3.0), name="s")
    t = pickle.loads(pickle.dumps(s))
    assert t.name == "s" and t.type == s.type and t.shared_id != s.shared_id
    np.testing.assert_array_equal(t.get_value(), [0, 1, 2])
    t.set_value(np.zeros(3))
    np.testing.assert_array_equal(s.get_value(), [0, 1, 2])


def test_a_model_object_trains_on_after_unpickling_here():
    model = Model()
    model.train(*DATA)
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(copy.w.get_value(), model.w.get_value())
    before = model.w.get_value()
    cost = copy.train(*DATA)
    assert cost == model.train(*DATA)  # the same step from the same values
    assert not np.array_equal(copy.w.get_value(), before)  # the copy updated its own w
    np.testing.assert_array_equal(copy.w.get_value(), model.w.get_value())


def test_copies_and_in_defaults_survive_pickling():
    state = theano.shared(0)
    inc = T.iscalar("inc")
    acc = theano.function([theano.In(inc, value=5)], state, updates=[(state, state + inc)])
    frozen = acc.copy(delete_updates=True, name="frozen")
    acc2, frozen2, state2 = pickle.loads(pickle.dumps((acc, frozen, state)))
    acc2()
    assert state2.get_value() == 5 and state.get_value() == 0
    assert frozen2() == 5 and state2.get_value() == 5 and frozen2.name == "frozen"


def _run_elsewhere(env_updates, blob):
    code = ("import pickle, sys, numpy as np\n"
            "model = pickle.loads(sys.stdin.buffer.read())\n"
            "x = np.array([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]])\n"
            "y = np.array([0, 1, 0, 1], 'int32')\n"
            "print(model.train(x, y)); print(model.w.get_value().sum())\n")
    # The pickle names Model by this module, which the other process imports as pytest did.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(ROOT, "clients", "python"),
                                                       os.path.dirname(__file__)]))
    env.pop("TENSORD_ADDRESS", None)
    env.update(env_updates)
    return subprocess.run([sys.executable, "-c", code], input=blob, env=env,
                          capture_output=True, timeout=120)


def test_another_process_on_this_server_and_on_its_own():
    model = Model()
    model.train(*DATA)
    blob = pickle.dumps(model)
    want = model.train(*DATA)
    for env in ({"TENSORD_ADDRESS": get_client().address}, {}):  # {}: it starts its own
        out = _run_elsewhere(env, blob)
        assert out.returncode == 0, out.stderr.decode()[-2000:]
        cost, w_sum = (float(v) for v in out.stdout.split())
        assert cost == pytest.approx(want, rel=1e-12)
        assert w_sum == pytest.approx(model.w.get_value().sum(), rel=1e-12)


def test_unpickling_without_a_reachable_server_is_a_clear_error():
    out = _run_elsewhere({"TENSORD_ADDRESS": "127.0.0.1:1", "TENSORD_CONNECT_TIMEOUT_S": "1"},
                         pickle.dumps(Model()))
    assert out.returncode != 0
    assert "127.0.0.1:1" in out.stderr.decode(), out.stderr.decode()[-2000:]


def test_functions_made_otherwise_refuse_pickling_clearly():
    x = T.dscalar()
    f = theano.function([x], x + 1)
    f._recipe = None
    with pytest.raises(pickle.PicklingError, match="not made by tensord.function"):
        pickle.dumps(f)
