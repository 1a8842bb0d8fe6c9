"""tensord.sparse (issue 17 item 10): Theano's sparse tutorial, sparse matrices as function
inputs, outputs, updates and givens, sparse shared variables, pickling, the path without scipy,
the errors, and theano.sparse through theano-compat. Operations against scipy are in
test_sparse_math.py, gradients in test_sparse_grad.py."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

import tensord as theano
import tensord.tensor as T
from tensord import sparse
from tensord.connection import get_client
from tensord.errors import InvalidArgument
from sparse_cases import assert_sparse_equal, rand_sparse

pytestmark = pytest.mark.usefixtures("server")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ---- Theano's sparse tutorial ------------------------------------------------------------

def test_tutorial_dense_round_trip():
    x = sparse.csc_matrix(name="x", dtype="float32")
    y = sparse.dense_from_sparse(x)
    z = sparse.csc_from_dense(y)
    a = sp.csc_matrix(np.asarray([[0, 1, 1], [0, 0, 0], [1, 0, 0]], dtype="float32"))
    dense, back = theano.function([x], [y, z])(a)
    np.testing.assert_array_equal(dense, a.toarray())
    assert_sparse_equal(back, a, "csc")
    assert back.nnz == 3 and back.dtype == np.float32


def test_tutorial_csm_properties_rebuilt_as_csr_is_the_transpose():
    x = sparse.csc_matrix(name="x", dtype="int64")
    data, indices, indptr, shape = sparse.csm_properties(x)
    y = sparse.CSR(data, indices, indptr, shape)
    f = theano.function([x], y)
    a = sp.csc_matrix(np.asarray([[0, 1, 1], [0, 0, 0], [1, 0, 0]]))
    out = f(a)
    assert out.format == "csr"
    np.testing.assert_array_equal(out.toarray(), a.toarray().T)


def test_tutorial_structured_add_touches_stored_entries_only():
    x = sparse.csc_matrix(name="x", dtype="float32")
    y = sparse.structured_add(x, 2)
    f = theano.function([x], y)
    a = sp.csc_matrix(np.asarray([[0, 0, -1], [0, -2, 1], [3, 0, 0]], dtype="float32"))
    np.testing.assert_array_equal(f(a).toarray(), [[0, 0, 1], [0, 0, 3], [5, 0, 0]])


def test_tutorial_components_and_properties():
    x = sparse.csr_matrix("x")
    assert (x.format, x.dtype, x.ndim, x.type) == ("csr", theano.config.floatX, 2,
                                                    sparse.SparseType("csr", theano.config.floatX))
    assert str(x.type) == "Sparse[%s, csr]" % theano.config.floatX
    assert [c.name for c in x.components] == ["x.data", "x.indices", "x.indptr", "x.shape"]
    assert [c.dtype for c in x.components[1:]] == ["int32", "int32", "int64"]
    assert sparse.csm_data(x) is x.components[0] and sparse.csm_shape(x) is x.shape
    assert x.T.format == "csc" and sparse.transpose(x.T).format == "csr"
    assert bool(x) and sparse._is_sparse_variable(x) and not sparse._is_sparse_variable(T.dmatrix())
    assert sparse.matrix("csc", "m", "float64").type == sparse.csc_dmatrix
    assert theano.pp(x * 2) == ("CSM{csr}((x.data * TensorConstant{2}), x.indices, x.indptr, "
                                "x.shape)")
    printed = theano.printing.debugprint(x.T, file="str")
    assert "x.data" in printed and "MakeVector" in printed


# ---- functions: inputs, outputs, updates, givens ------------------------------------------

def test_inputs_by_keyword_in_any_format_and_as_plain_arrays():
    x = sparse.csr_matrix("x", "float64")
    y = T.dmatrix("y")
    f = theano.function([x, y], sparse.dot(x, y))
    a = rand_sparse(3, 4, "csr", seed=11)
    ym = np.ones((4, 2))
    want = a @ ym
    np.testing.assert_allclose(f(y=ym, x=a), want)
    np.testing.assert_allclose(f(a.tocsc(), ym), want)
    np.testing.assert_allclose(f(a.tocoo(), ym), want)
    np.testing.assert_allclose(f(sp.csr_array(a), ym), want)
    np.testing.assert_allclose(f((a.data, a.indices, a.indptr, a.shape), ym), want)
    value = sparse.SparseValue("csc", a.tocsc().data, a.tocsc().indices, a.tocsc().indptr,
                               a.shape)
    np.testing.assert_allclose(f(value, ym), want)
    np.testing.assert_allclose(value.toarray(), a.toarray())
    # int64 indices (scipy uses them for big matrices) are narrowed when they fit.
    wide = (a.data, a.indices.astype("int64"), a.indptr.astype("int64"), a.shape)
    np.testing.assert_allclose(f(wide, ym), want)


def test_in_wrapped_sparse_input_takes_name_default_and_strict():
    x = sparse.csr_matrix("x", "float64")
    a = rand_sparse(2, 2, "csr", seed=12)
    f = theano.function([theano.In(x, name="m", value=a)], sparse.sp_sum(x))
    np.testing.assert_allclose(f(), a.sum())
    np.testing.assert_allclose(f(m=2 * a), 2 * a.sum())
    g = theano.function([theano.In(x, strict=True)], sparse.sp_sum(x))
    with pytest.raises(TypeError, match="dtype"):
        g(a.astype("float32"))
    with pytest.raises(TypeError, match=r"expected a csr matrix \(strict\), got a csc matrix"):
        g(a.tocsc())  # strict converts nothing, the format included
    np.testing.assert_allclose(g(a), a.sum())


def test_a_sparse_input_used_only_through_its_shape_is_used():
    x = sparse.csc_matrix("x")
    f = theano.function([x], x.shape)
    np.testing.assert_array_equal(f(sp.csc_matrix((3, 7), dtype="float32")), [3, 7])


def test_givens_replace_a_sparse_matrix():
    x = sparse.csr_matrix("x", "float64")
    d = T.dmatrix("d")
    out = sparse.sp_sum(x * 2, axis=0)
    f = theano.function([d], out, givens=[(x, sparse.csr_from_dense(d))])
    dv = np.array([[0.0, 1.0], [2.0, 0.0]])
    np.testing.assert_allclose(f(dv), 2 * dv.sum(0))
    const = rand_sparse(2, 2, "csr", seed=13)
    g = theano.function([], out, givens={x: const})
    np.testing.assert_allclose(g(), 2 * const.toarray().sum(0))


def test_sparse_shared_variable_values_updates_and_copies():
    a = rand_sparse(4, 3, "csr", seed=14)
    w = theano.shared(a, name="w")
    assert isinstance(w, sparse.SparseSharedVariable) and w.type == sparse.csr_dmatrix
    assert_sparse_equal(w.get_value(), a, "csr")
    step = theano.function([], sparse.sp_sum(w), updates=[(w, w * 2)])
    assert step() == pytest.approx(a.sum())
    assert step() == pytest.approx(2 * a.sum())
    assert_sparse_equal(w.get_value(), 4 * a, "csr")
    # An update may change the pattern (the shape too).
    grow = theano.function([], [], updates={w: w + sparse.sp_ones_like(w.T).T})
    grow()
    assert_sparse_equal(w.get_value(), 4 * a + (a != 0), "csr")
    w.set_value(a.tocsc())  # converted to the variable's format
    assert_sparse_equal(w.get_value(), a, "csr")
    w.set_value(sp.csr_matrix(np.ones((2, 5))))  # another pattern and shape, in one write
    assert_sparse_equal(w.get_value(), sp.csr_matrix(np.ones((2, 5))), "csr")
    w.set_value(a)
    other = theano.shared(2 * a, name="other")
    copy = step.copy(swap={w: other})
    assert copy() == pytest.approx(2 * a.sum())
    assert_sparse_equal(other.get_value(), 4 * a, "csr")
    assert_sparse_equal(w.get_value(), a, "csr")
    assert_sparse_equal(sparse.shared(a.tocsc()).get_value(), a, "csc")


def test_sparse_shared_update_with_a_constant_and_an_input():
    w = theano.shared(sp.csc_matrix(np.eye(3)), name="w")
    x = sparse.csc_matrix("x", "float64")
    theano.function([x], [], updates=[(w, x)])(sp.csc_matrix(np.ones((2, 2))))
    assert_sparse_equal(w.get_value(), np.ones((2, 2)), "csc")
    theano.function([], [], updates=[(w, sp.csc_matrix(np.eye(2)))])()
    assert_sparse_equal(w.get_value(), np.eye(2), "csc")


def test_sparse_variables_shared_and_functions_pickle():
    a = rand_sparse(3, 3, "csr", seed=15)
    w = theano.shared(a, name="w")
    x = sparse.csr_matrix("x", "float64")
    f = theano.function([x], sparse.sp_sum(x * w), updates=[(w, w + x)])
    f2, w2, x2 = pickle.loads(pickle.dumps((f, w, x)))
    assert isinstance(w2, sparse.SparseSharedVariable) and w2.name == "w"
    assert x2.name == "x" and x2.format == "csr"
    assert w2.components[0].shared_id != w.components[0].shared_id
    assert f2(a) == pytest.approx(f(a))
    assert_sparse_equal(w2.get_value(), w.get_value(), "csr")
    expr = pickle.loads(pickle.dumps(sparse.dot(x, T.dmatrix("d"))))
    assert expr.owner.op.wire_name == "sparse_dense_dot"


def test_without_scipy_outputs_are_sparse_values(monkeypatch):
    a = rand_sparse(3, 4, "csr", seed=16)
    x = sparse.csr_matrix("x", "float64")
    f = theano.function([x], [x * 2, sparse.sp_sum(x)])
    w = theano.shared(a, name="w")
    value = sparse.SparseValue("csr", a.data, a.indices, a.indptr, a.shape)
    # scipy.sparse fails to import from here on (and values of its types are not recognized).
    monkeypatch.setitem(sys.modules, "scipy.sparse", None)
    doubled, total = f(value)
    assert isinstance(doubled, sparse.SparseValue) and doubled.format == "csr"
    np.testing.assert_allclose(doubled.toarray(), 2 * a.toarray())
    assert total == pytest.approx(a.sum())
    got = w.get_value()
    assert isinstance(got, sparse.SparseValue)
    np.testing.assert_allclose(got.toarray(), a.toarray())
    made = theano.shared(value)
    assert isinstance(made, sparse.SparseSharedVariable)
    np.testing.assert_allclose(made.get_value().asformat("csc").toarray(), a.toarray())


# ---- errors -----------------------------------------------------------------------------------

def test_unsupported_formats_dtypes_and_operations_are_clear_errors():
    with pytest.raises(NotImplementedError, match="format 'coo'"):
        sparse.matrix("coo", "x")
    with pytest.raises(NotImplementedError, match="bool"):
        sparse.SparseType("csr", "bool")
    x, y = sparse.csr_matrix("x"), sparse.csc_matrix("y")
    with pytest.raises(NotImplementedError, match="csr and a csc"):
        x + y
    with pytest.raises(NotImplementedError, match="csr and a csc"):
        x * y
    with pytest.raises(NotImplementedError, match="indexing"):
        x[0]
    with pytest.raises(NotImplementedError, match="division"):
        x / 2
    with pytest.raises(TypeError, match="sparse matrix, not a tensor"):
        T.exp(x)
    with pytest.raises(TypeError, match="not iterable"):
        list(x)
    with pytest.raises(TypeError, match="cost must be a scalar"):
        theano.grad(x, x)
    with pytest.raises(TypeError, match="dense variable"):
        sparse.csm_properties(T.dmatrix())
    with pytest.raises(ValueError, match="int32"):
        sparse.CSR([1.0], [2 ** 31], [0, 1], (1, 2 ** 32))


def test_wrong_python_values_for_a_sparse_input_name_it():
    x = sparse.csr_matrix("x", "float32")
    f = theano.function([x], sparse.sp_sum(x))
    with pytest.raises(TypeError, match=r'(?s)index 0\(0-based\) \(x\).*dense ndarray'):
        f(np.ones((2, 2), "float32"))
    with pytest.raises(TypeError, match="expected a sparse matrix"):
        f({"data": 1})
    with pytest.raises(TypeError, match="allow_input_downcast"):
        f(sp.csr_matrix(np.ones((2, 2))))  # float64 data into float32
    assert theano.function([x], sparse.sp_sum(x), allow_input_downcast=True)(
        sp.csr_matrix(np.ones((2, 2)))) == 4
    with pytest.raises(ValueError, match="int32"):
        f((np.ones(1, "float32"), np.array([2 ** 31]), np.array([0, 1]), (1, 2 ** 32)))
    with pytest.raises(TypeError, match="indices must be integers"):
        f((np.ones(1, "float32"), np.array([0.5]), np.array([0, 1]), (1, 2)))


def test_the_server_refuses_malformed_structure_naming_it():
    x = sparse.csr_matrix("x", "float64")
    f = theano.function([x], sparse.dense_from_sparse(x))
    data, indices = np.ones(2), np.array([0, 1], "int32")
    with pytest.raises(InvalidArgument, match="indptr"):
        f((data, indices, np.array([0, 2, 1]), (2, 2)))  # decreasing
    with pytest.raises(InvalidArgument, match="indptr"):
        f((data, indices, np.array([0, 2]), (2, 2)))  # one entry too few
    with pytest.raises(InvalidArgument, match="indices"):
        f((data, np.array([0, 5], "int32"), np.array([0, 1, 2]), (2, 2)))  # column 5 of 2
    with pytest.raises(InvalidArgument, match="nnz|data"):
        f((np.ones(3), indices, np.array([0, 1, 2]), (2, 2)))  # 3 data for 2 entries


def test_symbolic_indices_that_could_wrap_are_refused():
    d, i64, p32, i32 = T.dvector(), T.lvector(), T.ivector(), T.ivector()
    with pytest.raises(TypeError, match="indices must be a vector of integers that fit int32"):
        sparse.CSR(d, i64, p32, (2, 3))  # a cast would wrap an index of 2**32 + 5 to 5
    with pytest.raises(TypeError, match="indptr must be a vector of integers that fit int32"):
        sparse.CSC(d, i32, T.lvector(), (2, 3))
    x = sparse.CSR(d, i32, p32, (2, 3))  # int32 and narrower are taken as they are
    assert x.format == "csr" and x.dtype == "float64"


def test_huge_shapes_in_python_values_name_the_problem():
    x = sparse.csr_matrix("x", "float64")
    f = theano.function([x], sparse.sp_sum(x))
    with pytest.raises(TypeError, match="int64"):
        f((np.ones(1), np.array([0], "int32"), np.array([0, 1], "int32"), (1, 2 ** 70)))


def test_sparse_operands_of_different_shapes_are_refused_as_scipy_does():
    # (4, 4) + (4, 3): the narrower pattern fits inside the wider one, so only the shapes
    # themselves show the mismatch.
    x, y = sparse.csr_matrix("x", "float64"), sparse.csr_matrix("y", "float64")
    f = theano.function([x, y], [x + y, x * y])
    a, b = sp.csr_matrix(np.eye(4)), sp.csr_matrix(np.ones((4, 3)))
    with pytest.raises(InvalidArgument, match=r"shapes \(4, 4\) and \(4, 3\) differ"):
        f(a, b)
    total, product = f(a, sp.csr_matrix(np.ones((4, 4))))
    np.testing.assert_array_equal(total.toarray(), np.eye(4) + 1)
    np.testing.assert_array_equal(product.toarray(), np.eye(4))


def test_updates_and_swaps_need_the_same_sparse_type():
    w = theano.shared(sp.csr_matrix(np.eye(2)), name="w")
    with pytest.raises(TypeError, match="csr_from_csc"):
        theano.function([], [], updates=[(w, sparse.csc_from_csr(w))])
    with pytest.raises(TypeError, match="its value must be a sparse matrix"):
        theano.function([], [], updates=[(w, T.dmatrix())])
    with pytest.raises(TypeError, match="SharedVariable"):
        theano.function([], [], updates=[(sparse.csr_matrix(), w)])
    with pytest.raises(TypeError, match="explicit input"):
        theano.function([w], sparse.sp_sum(w))
    with pytest.raises(ValueError, match="share"):
        x = sparse.csr_matrix("x")
        theano.function([x, x.T], sparse.sp_sum(x))
    f = theano.function([], sparse.sp_sum(w))
    with pytest.raises(TypeError, match="type"):
        f.copy(swap={w: theano.shared(sp.csc_matrix(np.eye(2)))})
    with pytest.raises(ValueError, match="structure|indptr"):
        w.set_value((np.ones(1), np.array([0]), np.array([0, 1]), (2, 2)))


# ---- theano.sparse through the theano-compat package ------------------------------------------

THEANO_SPARSE_PROGRAM = '''
import numpy as np
import scipy.sparse as sp
import theano
from theano import sparse
import theano.tensor as T
from theano.sparse.basic import _is_sparse_variable
from theano.sparse.sharedvar import sparse_constructor
x = sparse.csc_matrix(name="x", dtype="float64")
y = T.dmatrix("y")
f = theano.function([x, y], sparse.structured_dot(x, y))
a = sp.csc_matrix(np.asarray([[0, 1, 1], [0, 0, 0], [1, 0, 0]], dtype="float64"))
import tensord
print(f(a, np.eye(3)).tolist(), _is_sparse_variable(x), theano.sparse is tensord.sparse)
'''


def test_theano_sparse_is_tensord_sparse():
    compat = os.path.join(ROOT, "clients", "python", "theano-compat")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([compat, os.path.join(ROOT, "clients",
                                                                            "python")]),
               TENSORD_ADDRESS=get_client().address)
    out = subprocess.run([sys.executable, "-c", THEANO_SPARSE_PROGRAM], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == (
        "[[0.0, 1.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]] True True")
