"""The engine's compile-time checks of `scan` (docs/wire-protocol.md, "scan"), reached with
nodes and requests that tensord.scan would never build: each is INVALID_ARGUMENT naming the scan
and what is wrong, and the server keeps serving."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors
from tensord._proto import compute_pb2
from tensord.compile.function import build_spec
from tensord.connection import get_client
from tensord.scan_module import Scan

pytestmark = pytest.mark.usefixtures("server")


def _compile(inputs, outputs, tamper=None):
    spec, *_ = build_spec(inputs, outputs, name="scan-wire-test")
    if tamper is not None:
        tamper(next(a for a in spec.graph.applies if a.op == "scan"))
    client = get_client()
    return client.call("Compile", compute_pb2.CompileRequest(session_id=client.session_id,
                                                             spec=spec))


def _int64(value):
    return T.constant(np.asarray(value, dtype="int64"))


def _doubling_scan():
    x = T.vector("x")
    res, _ = theano.scan(lambda v: v * 2, sequences=x, name="doubler")
    return x, res


def test_attribute_counts_that_disagree():
    x, res = _doubling_scan()

    def more_seqs(app):
        app.attrs["n_seqs"].i = 3

    def nit_count(app):
        app.attrs["n_nit_sot"].i = 2

    def tap_counts(app):
        app.attrs["mit_sot_tap_counts"].ints.values.append(1)

    for tamper in (more_seqs, nit_count, tap_counts):
        with pytest.raises(errors.InvalidArgument, match="scan"):
            _compile([x], res, tamper)


def test_missing_attribute_and_body():
    x, res = _doubling_scan()

    def no_attr(app):
        del app.attrs["n_shared_outs"]

    def no_body(app):
        del app.bodies[:]

    for tamper in (no_attr, no_body):
        with pytest.raises(errors.InvalidArgument):
            _compile([x], res, tamper)


def test_scalar_sequence():
    s = T.scalar("s")
    ph = T.scalar("s_row")
    node = Scan([ph], [ph * 2], n_seqs=1, taps=[], n_nit_sot=1, n_shared_outs=0,
                name="bad").make_node(_int64(2), s)
    with pytest.raises(errors.InvalidArgument, match="scan 'bad'.*sequence 0 is a scalar"):
        _compile([s], node.outputs[0])


def test_body_input_of_the_wrong_type():
    x = T.vector("x")
    ph = T.dscalar("wrong")
    node = Scan([ph], [ph * 2], n_seqs=1, taps=[], n_nit_sot=1, n_shared_outs=0,
                name="typed").make_node(_int64(2), x)
    with pytest.raises(errors.InvalidArgument, match="step function input 0 .sequence 0."):
        _compile([x], node.outputs[0])


def test_recurrent_output_dtype_differs_from_its_state():
    x0 = T.vector("x0")
    ph = T.scalar("state")
    node = Scan([ph], [T.cast(ph, "float64")], n_seqs=0, taps=[[-1]], n_nit_sot=0,
                n_shared_outs=0, name="drift").make_node(_int64(3), x0)
    with pytest.raises(errors.InvalidArgument,
                       match="has dtype float32 but the step function returns float64"):
        _compile([x0], node.outputs[0])


def test_constant_negative_n_steps():
    x0 = T.vector("x0")
    ph = T.scalar("state")
    node = Scan([ph], [ph + 1], n_seqs=0, taps=[[-1]], n_nit_sot=0, n_shared_outs=0,
                name="neg").make_node(_int64(-2), x0)
    with pytest.raises(errors.InvalidArgument, match="n_steps is -2"):
        _compile([x0], node.outputs[0])


def test_body_with_a_shared_variable():
    w = theano.shared(np.float32(3), name="w_in_body")
    x = T.vector("x")
    ph = T.scalar("row")
    node = Scan([ph], [ph * w], n_seqs=1, taps=[], n_nit_sot=1, n_shared_outs=0,
                name="leaky").make_node(_int64(2), x)
    with pytest.raises(errors.InvalidArgument, match="scan 'leaky'"):
        _compile([x], node.outputs[0])
    x2, res = _doubling_scan()  # the server still compiles and runs scans
    np.testing.assert_array_equal(theano.function([x2], res)(np.arange(3, dtype="float32")),
                                  [0, 2, 4])
