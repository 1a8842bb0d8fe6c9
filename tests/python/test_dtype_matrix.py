"""Client and server must agree on every output type (the server rejects a graph whose declared
types differ from its own inference): every dtype pair through every binary elementwise op, and
every dtype through the unary ops and reductions. Values are checked against NumPy."""

import itertools

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T

pytestmark = pytest.mark.usefixtures("server")

# float16 is in the wire contract but the CPU backend has no float16 kernels yet.
DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float32", "float64"]
_SMALL_TO_FLOAT = {"bool": "float32", "int8": "float32", "int16": "float32",
                   "uint8": "float32", "uint16": "float32"}


def _expected_dtype(op, a, b):
    promoted = np.result_type(a, b).name
    if op == "true_div" and np.dtype(promoted).kind in "biu":
        return _SMALL_TO_FLOAT.get(promoted, "float64")
    return promoted


BINARY = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
          "true_div": lambda x, y: x / y, "pow": lambda x, y: x ** y}
NUMPY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "true_div": np.true_divide,
         "pow": np.power}


@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_ops_over_all_dtype_pairs(op):
    failures = []
    for a, b in itertools.product(DTYPES, DTYPES):
        if op == "sub" and a == b == "bool":
            continue  # NumPy refuses boolean subtract too
        x, y = T.tensor(a, (False,), name="x"), T.tensor(b, (False,), name="y")
        out = BINARY[op](x, y)
        assert out.dtype == _expected_dtype(op, a, b), (op, a, b)
        xv = np.array([1, 2, 3]).astype(a)
        yv = np.array([1, 1, 2]).astype(b)
        try:
            got = theano.function([x, y], out)(xv, yv)
        except Exception as exc:  # collect all disagreements, not just the first
            failures.append((a, b, repr(exc)))
            continue
        with np.errstate(all="ignore"):
            want = NUMPY[op](xv, yv)  # NumPy's own arithmetic (wrap-around included)
        if got.dtype != out.dtype or not np.allclose(got.astype("float64"),
                                                     want.astype("float64"), rtol=1e-6):
            failures.append((a, b, got.dtype, got.tolist(), want.tolist()))
    assert not failures, failures


@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_ops_and_reductions(dtype):
    x = T.tensor(dtype, (False, False), name="x")
    data = np.array([[1, 2], [3, 4]]).astype(dtype)
    as_f64 = data.astype("float64")
    cases = [(T.exp(x), np.exp(as_f64)), (T.log(x), np.log(as_f64)),
             (T.sum(x), as_f64.sum()), (T.sum(x, axis=0), as_f64.sum(axis=0)),
             (T.max(x, axis=1), as_f64.max(axis=1)), (x.T, as_f64.T),
             (T.dot(x, x), as_f64 @ as_f64 if dtype != "bool" else (data @ data))]
    if dtype != "bool":
        cases.append((-x, -as_f64 if dtype[0] != "u" else (-data)))
    cases += [(T.cast(x, target), data.astype(target)) for target in DTYPES]
    outs = theano.function([x], [c[0] for c in cases])(data)
    for (var, want), got in zip(cases, outs):
        assert got.dtype == var.dtype, (var, got.dtype, var.dtype)
        np.testing.assert_allclose(got.astype("float64"), np.asarray(want, dtype="float64"),
                                   rtol=1e-6, err_msg=str(var))
