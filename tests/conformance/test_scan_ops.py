"""scan and scan_grad against NumPy loops, over dtypes and edge sizes (empty sequences, zero
steps, matrices per step); the full client-side behaviour is in tests/python/test_scan_*.py."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from harness import sample, symbolic
from tensord import errors
from tensord.graph import io_toposort

OPS = {"scan", "scan_grad"}
# scan_grad has a grad rule whose answer is a clear error (no second derivatives through scan).
GRAD_OPS = {"scan", "scan_grad"}

pytestmark = pytest.mark.usefixtures("server")


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
@pytest.mark.parametrize("shape", [(5,), (0,), (4, 3), (0, 2), (3, 2, 2)])
def test_running_sum_matches_numpy_cumsum(dtype, shape):
    rng = np.random.default_rng(7)
    xv = sample(rng, shape, dtype)
    x = symbolic(xv, "x")
    init = T.zeros_like(x[0]) if shape[0] else T.zeros(shape[1:], dtype=dtype)
    init = T.cast(init, dtype)
    res, _ = theano.scan(lambda v, acc: acc + v, sequences=x, outputs_info=init)
    got = theano.function([x], res)(xv)
    assert got.dtype == xv.dtype and got.shape == xv.shape
    np.testing.assert_allclose(got, np.cumsum(xv, axis=0, dtype=xv.dtype), rtol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_map_with_non_sequence_and_zero_steps(dtype):
    rng = np.random.default_rng(3)
    xv, wv = sample(rng, (4, 3), dtype), sample(rng, (3, 2), dtype)
    x, w = symbolic(xv, "x"), symbolic(wv, "w")
    n = T.iscalar("n")
    res, _ = theano.scan(lambda row, w_: T.dot(row, w_), sequences=x, non_sequences=w, n_steps=n)
    f = theano.function([x, w, n], res)
    np.testing.assert_allclose(f(xv, wv, 4), xv.dot(wv), rtol=1e-5)
    # With no step run the row shape is unknown: an empty result of the right rank.
    empty = f(xv, wv, 0)
    assert empty.ndim == 2 and empty.shape[0] == 0 and empty.size == 0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_scan_grad_matches_finite_differences(dtype):
    rng = np.random.RandomState(5)
    pt = [rng.uniform(-1, 1, (4, 2)).astype(dtype), rng.uniform(-1, 1, (2, 2)).astype(dtype)]

    def rnn(x, w):
        hs, _ = theano.scan(lambda xt, h, w_: T.tanh(T.dot(h, w_) + xt), sequences=x,
                            outputs_info=T.zeros_like(x[0]), non_sequences=w)
        return hs

    T.verify_grad(rnn, pt, rng=rng)


def test_scan_grad_has_no_gradient_and_says_so():
    x, w = T.dvector("x"), T.dscalar("w")
    hs, _ = theano.scan(lambda xt, h, w_: T.tanh(h * w_ + xt), sequences=x,
                        outputs_info=T.constant(0.0, dtype="float64"), non_sequences=w)
    gw = T.grad(hs.sum(), w)
    assert any(v.owner is not None and v.owner.op.wire_name == "scan_grad"
               for v in io_toposort([gw]))
    with pytest.raises((errors.InvalidArgument, errors.Unimplemented),
                       match="second derivatives through scan"):
        T.grad(gw, w)
