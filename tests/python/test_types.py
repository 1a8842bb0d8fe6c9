"""Pure client tests (no server): types, constructors, variables and their reprs, config."""

import subprocess
import sys

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord.tensor import TensorType


def test_tensor_type_repr_follows_theano():
    assert repr(TensorType("float32", ())) == "TensorType(float32, scalar)"
    assert repr(TensorType("float32", (False,))) == "TensorType(float32, vector)"
    assert repr(TensorType("float64", (False, False))) == "TensorType(float64, matrix)"
    assert repr(TensorType("int8", (True, False))) == "TensorType(int8, row)"
    assert repr(TensorType("int8", (False, True))) == "TensorType(int8, col)"
    assert repr(TensorType("float32", (False,) * 3)) == "TensorType(float32, 3D)"
    assert repr(TensorType("int64", (False,) * 4)) == "TensorType(int64, 4D)"
    assert repr(TensorType("float32", (True,))) == "TensorType(float32, (True,))"
    assert repr(TensorType("float32", (False, True, False))) == \
        "TensorType(float32, (False, True, False))"


def test_tensor_type_equality_and_dtype_names():
    assert TensorType("float32", (False,)) == TensorType(np.float32, [0])
    assert TensorType("float32", (False,)) != TensorType("float32", (True,))
    assert TensorType("float32", (False,)) != TensorType("float64", (False,))
    assert len({TensorType("int8", ()), TensorType("int8", ())}) == 1
    with pytest.raises(TypeError):
        TensorType("complex64", ())


def test_seed_scalar_constructors():
    assert repr(T.scalar()) == "<TensorType(float32, scalar)>"
    assert repr(T.iscalar()) == "<TensorType(int32, scalar)>"
    assert repr(T.fscalar()) == "<TensorType(float32, scalar)>"
    assert repr(T.dscalar()) == "<TensorType(float64, scalar)>"


def test_floatx_changes_unprefixed_constructors_only():
    theano.config.floatX = "float64"
    assert repr(T.scalar()) == "<TensorType(float64, scalar)>"
    assert repr(T.fscalar()) == "<TensorType(float32, scalar)>"
    theano.config.floatX = "float32"
    assert repr(T.scalar()) == "<TensorType(float32, scalar)>"


@pytest.mark.parametrize("kind,bcast", [("scalar", ()), ("vector", (False,)),
                                        ("matrix", (False, False)), ("row", (True, False)),
                                        ("col", (False, True)), ("tensor3", (False,) * 3),
                                        ("tensor4", (False,) * 4)])
@pytest.mark.parametrize("prefix,dtype", [("b", "int8"), ("w", "int16"), ("i", "int32"),
                                          ("l", "int64"), ("f", "float32"), ("d", "float64")])
def test_prefixed_constructors(kind, bcast, prefix, dtype):
    var = getattr(T, prefix + kind)("v")
    assert (var.dtype, var.broadcastable, var.ndim, var.name) == (dtype, bcast, len(bcast), "v")
    assert var.owner is None
    plural = {"matrix": "matrices"}.get(kind, kind + "s")
    a, b = getattr(T, prefix + plural)("a", "b")
    assert (a.name, b.name, a.type) == ("a", "b", var.type)


def test_plural_forms():
    x, y, z = T.matrices("x", "y", "z")
    assert [v.name for v in (x, y, z)] == ["x", "y", "z"]
    assert all(v.type == TensorType("float32", (False, False)) for v in (x, y, z))
    three = T.vectors(3)
    assert len(three) == 3 and all(v.name is None for v in three)
    single = T.scalars("s")
    assert single.name == "s"


def test_tensor_generic_constructor():
    v = T.tensor("float64", (False, True, False), name="t")
    assert (v.name, v.dtype, v.broadcastable) == ("t", "float64", (False, True, False))
    w = T.tensor(dtype="int32", broadcastable=())
    assert repr(w) == "<TensorType(int32, scalar)>"


def test_variable_repr():
    x = T.matrix("x")
    assert repr(x) == "x" and str(x) == "x"
    assert repr(T.matrix()) == "<TensorType(float32, matrix)>"
    assert repr(x + x) == "Elemwise{add,no_inplace}.0"
    assert str(T.constant(2)) == "TensorConstant{2}"
    assert str(T.constant(np.ones((2, 2)))) == "TensorConstant{(2, 2) of 1.0}"


def test_truth_as_theano_and_no_iteration():
    # Every variable is true but the result of a comparison operator, which raises.
    x, y, z = T.vector(), T.vector(), T.vector()
    assert bool(x) and bool(x + 1) and bool(T.constant(0))
    assert (x or None) is x and (None or x) is x
    assert not (not x)
    assert bool(T.lt(x, y))  # the function, as in Theano; only the operators refuse
    for compare in (x < y, x <= y, x > y, x >= y, 2 < x):
        with pytest.raises(TypeError, match="boolean operations"):
            bool(compare)
    with pytest.raises(TypeError, match="T.and_"):
        x < y < z  # noqa: B015 (Python's (x < y) and (y < z))
    with pytest.raises(TypeError):
        list(x)


def test_config_defaults_and_assignment():
    assert theano.config.floatX == "float32"
    assert theano.config.device == "cpu"
    theano.config.floatX = "float64"
    assert theano.config.floatX == "float64"
    with pytest.raises(ValueError):
        theano.config.floatX = "float128"
    with pytest.raises(AttributeError):
        theano.config.no_such_option = 1
    theano.config.profile = "True"
    assert theano.config.profile is True
    assert theano.config.gpuarray.preallocate == 0.0
    text = str(theano.config)
    assert "floatX" in text and "Value:  float64" in text and "device" in text


def test_theano_alias_and_exports():
    from tensord import theano as alias
    assert alias is theano
    for name in ("config", "function", "shared", "pp", "printing", "tensor"):
        assert hasattr(theano, name)


def test_tensord_flags_env_is_read_at_import():
    code = ("import tensord, tensord.tensor as T; print(tensord.config.floatX, "
            "tensord.config.device, tensord.config.contexts, T.matrix().dtype)")
    env = {"TENSORD_FLAGS": "floatX=float64,device=cuda0,contexts=dev0->cuda0;dev1->cpu",
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["float64", "cuda0", "dev0->cuda0;dev1->cpu", "float64"]


def test_parse_config_string():
    from tensord.config import parse_config_string
    assert parse_config_string("a=1, b = x ,,c=d=e") == {"a": "1", "b": "x", "c": "d=e"}
    with pytest.warns(UserWarning):
        assert parse_config_string("novalue") == {}
