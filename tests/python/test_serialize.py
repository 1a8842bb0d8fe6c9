"""Pure client tests: the FunctionSpec that function() sends to Compile."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import _dtypes
from tensord.compile.function import build_spec
from tensord.errors import MissingInputError, UnusedInputError
from tensord.sharedvar import SharedVariable
from tensord.tensor import TensorType


def _fake_shared(value, name=None):
    """A shared variable as if the server had created it (no server needed to serialize)."""
    value = np.asarray(value)
    return SharedVariable(TensorType(value.dtype, (False,) * value.ndim), "sv-" + str(id(value)),
                          name=name)


def _by_id(graph):
    return {v.id: v for v in graph.variables}


def _check_topological(graph):
    defined = {v.id for v in graph.variables if v.WhichOneof("source") != "output"}
    for app in graph.applies:
        assert all(i in defined for i in app.inputs), app
        defined.update(app.outputs)
    assert all(o in defined for o in graph.outputs)


def test_addition_graph():
    x, y = T.matrices("x", "y")
    spec, *_ = build_spec([x, y], [x + y], name="n")
    g = spec.graph
    vars_ = _by_id(g)
    assert len(g.variables) == 3 and len(g.applies) == 1
    assert 0 not in vars_  # ids start at 1
    assert [vars_[i].name for i in g.inputs] == ["x", "y"]
    assert all(vars_[i].WhichOneof("source") == "input" for i in g.inputs)
    app = g.applies[0]
    assert app.op == "add" and list(app.inputs) == list(g.inputs)
    assert list(g.outputs) == list(app.outputs)
    out = vars_[g.outputs[0]]
    assert out.WhichOneof("source") == "output"
    assert out.type.dtype == _dtypes.to_proto("float32")
    assert list(out.type.broadcastable) == [False, False]
    assert spec.name == "n" and spec.mode == "FAST_RUN" and not spec.allow_input_downcast
    _check_topological(g)


def test_constants_and_dimshuffle_attrs():
    a = T.matrix("a")
    spec, *_ = build_spec([a], a * 2)
    g = spec.graph
    vars_ = _by_id(g)
    assert [app.op for app in g.applies] == ["dimshuffle", "mul"]
    assert list(g.applies[0].attrs["new_order"].ints.values) == [-1, -1]
    const = vars_[g.applies[0].inputs[0]]
    assert const.WhichOneof("source") == "constant"
    assert const.constant.dtype == _dtypes.to_proto("int8")
    assert _dtypes.tensor_to_array(const.constant) == 2
    assert list(const.type.broadcastable) == []
    _check_topological(g)


def test_attrs_encoding():
    x = T.matrix("x")
    spec, *_ = build_spec([x], [T.sum(x, axis=1, dtype="float64"), T.cast(x, "int32"),
                                x.reshape((4, -1)), T.max(x)])
    apps = {a.op: a for a in spec.graph.applies}
    assert list(apps["sum"].attrs["axis"].ints.values) == [1]
    assert apps["sum"].attrs["dtype"].dtype == _dtypes.to_proto("float64")
    assert apps["cast"].attrs["dtype"].dtype == _dtypes.to_proto("int32")
    assert apps["reshape"].attrs["ndim"].i == 2
    shape = _by_id(spec.graph)[apps["reshape"].inputs[1]]
    assert _dtypes.tensor_to_array(shape.constant).tolist() == [4, -1]
    assert shape.constant.dtype == _dtypes.to_proto("int64")
    assert "axis" not in apps["max"].attrs
    assert len(spec.graph.outputs) == 4


def test_constant_bytes_are_little_endian_c_order():
    data = np.arange(6, dtype=">f8").reshape(2, 3).T  # big-endian, Fortran-ordered view
    c = T.constant(data)
    msg = _dtypes.array_to_tensor(c.data)
    assert list(msg.shape) == [3, 2]
    assert msg.data == np.ascontiguousarray(data, dtype="<f8").tobytes()
    np.testing.assert_array_equal(_dtypes.tensor_to_array(msg), data)


def test_shared_updates_and_givens():
    w = _fake_shared(1.0, name="w")
    x = T.scalar("x")
    spec, _, outs, return_list = build_spec([x], None, updates=[(w, w * x)])
    assert outs == [] and return_list
    g = spec.graph
    vars_ = _by_id(g)
    (upd,) = spec.updates
    assert vars_[upd.variable].WhichOneof("source") == "shared"
    assert vars_[upd.variable].shared.id == w.shared_id
    assert vars_[upd.value].type.dtype == _dtypes.to_proto("float64")
    assert list(g.outputs) == []
    _check_topological(g)

    y, z = T.vectors("y", "z")
    data = _fake_shared(np.zeros(3, dtype="float32"))
    spec, *_ = build_spec([z], y + z, givens={y: data})
    (given,) = spec.givens
    vars_ = _by_id(spec.graph)
    assert vars_[given.variable].name == "y"
    assert vars_[given.value].WhichOneof("source") == "shared"
    assert [vars_[i].name for i in spec.graph.inputs] == ["z"]


def test_update_type_must_match():
    w = _fake_shared(np.zeros(2, dtype="float32"))
    with pytest.raises(TypeError, match="An update must have the same type"):
        build_spec([], None, updates=[(w, w * 2.0 + np.ones(2))])  # float64 value
    with pytest.raises(TypeError, match="update target must be a SharedVariable"):
        build_spec([], None, updates=[(T.vector(), w)])
    # A plain value becomes a constant of the shared variable's type.
    spec, *_ = build_spec([], None, updates={w: [1, 2]})
    value = _by_id(spec.graph)[spec.updates[0].value]
    assert value.constant.dtype == _dtypes.to_proto("float32")


def test_unused_and_missing_inputs():
    x, y = T.vectors("x", "y")
    with pytest.raises(UnusedInputError, match="index 1"):
        build_spec([x, y], x * 2)
    spec, *_ = build_spec([x, y], x * 2, on_unused_input="ignore")
    assert len(spec.graph.inputs) == 2
    with pytest.warns(UserWarning):
        build_spec([x, y], x * 2, on_unused_input="warn")
    with pytest.raises(MissingInputError, match="y"):
        build_spec([x], x + y)


def test_input_checks():
    x = T.vector("x")
    with pytest.raises(TypeError, match="contained in a list"):
        build_spec(x, x)
    with pytest.raises(ValueError, match="twice"):
        build_spec([x, x], x)
    with pytest.raises(TypeError, match="shared variable"):
        build_spec([_fake_shared([1.0])], x)
    with pytest.raises(TypeError):
        build_spec([x], [x, 3])


def test_intermediate_input_cuts_the_graph():
    x = T.vector("x")
    h = T.exp(x)
    spec, *_ = build_spec([h], h * 2)
    vars_ = _by_id(spec.graph)
    assert [a.op for a in spec.graph.applies] == ["dimshuffle", "mul"]
    assert vars_[spec.graph.inputs[0]].WhichOneof("source") == "input"


def test_modes():
    x = T.vector()
    assert build_spec([x], x, mode="FAST_COMPILE")[0].mode == "FAST_COMPILE"
    assert build_spec([x], x, mode="DEBUG_MODE")[0].mode == "DebugMode"
    assert build_spec([x], x, profile=True)[0].profile
    with pytest.raises(ValueError):
        build_spec([x], x, mode="NoSuchMode")
    theano.config.optimizer = "fast_compile"  # used because config.mode is 'Mode'
    assert build_spec([x], x)[0].mode == "FAST_COMPILE"
    theano.config.mode = "FAST_RUN"
    assert build_spec([x], x)[0].mode == "FAST_RUN"


def test_given_values_precede_their_targets():
    # The server substitutes givens and then runs applies in order, so each given's value must
    # be computed before anything that reads the variable it replaces.
    x, y, z = T.scalars("x", "y", "z")
    spec, *_ = build_spec([z], x + y, givens=[(x, z * 2), (y, z + 1)])
    subst = {g.variable: g.value for g in spec.givens}
    g = spec.graph
    defined = {v.id for v in g.variables if v.WhichOneof("source") != "output"}
    for app in g.applies:
        assert all(subst.get(i, i) in defined for i in app.inputs), app
        defined.update(app.outputs)
