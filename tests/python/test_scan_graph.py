"""scan's client side without a server: the node and body it builds (docs/wire-protocol.md,
"scan"), what fn may return, and the errors Theano raises while building."""

from collections import OrderedDict

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord.compile.runtime import Function
from tensord.errors import MissingInputError
from tensord.scan_module import Scan, until
from tensord.scan_module.scan_utils import get_updates_and_outputs
from tensord.serialize import GraphBuilder


def _scan_node(var):
    node = var.owner
    while not isinstance(node.op, Scan):
        node = node.inputs[0].owner
    return node


def _apply_proto(inputs, outputs):
    graph = GraphBuilder(inputs, outputs).graph
    return next(a for a in graph.applies if a.op == "scan"), graph


def test_sit_sot_layout_matches_the_contract():
    a, s0 = T.vector("a"), T.scalar("s0")
    res, upd = theano.scan(lambda cur, prior, k: k * prior + cur, sequences=a,
                           outputs_info=s0, non_sequences=T.scalar("k"))
    assert upd == {} and res.type == T.vector().type
    app, graph = _apply_proto([a, s0], [res])
    attrs = {k: app.attrs[k] for k in app.attrs}
    assert attrs["n_seqs"].i == 1 and list(attrs["mit_sot_taps"].ints.values) == [-1]
    assert list(attrs["mit_sot_tap_counts"].ints.values) == [1]
    assert attrs["n_nit_sot"].i == 0 and attrs["n_shared_outs"].i == 0
    assert attrs["until"].b is False and attrs["truncate_gradient"].i == -1
    assert len(app.bodies) == 1
    body = app.bodies[0]
    # Body inputs: a[t], s0[t-1], k_copy, all float32 scalars, no outer ids inside.
    by_id = {v.id: v for v in body.variables}
    assert [by_id[i].name for i in body.inputs] == ["a[t]", "s0[t-1]", "k_copy"]
    assert all(by_id[i].WhichOneof("source") == "input" for i in body.inputs)
    assert all(v.WhichOneof("source") != "shared" for v in body.variables)
    assert len(body.outputs) == 1
    # Outer inputs: n_steps, the sequence, s0 with a leading dim of 1, k.
    outer = {v.id: v for v in graph.variables}
    types = [len(outer[i].type.broadcastable) for i in app.inputs]
    assert types == [0, 1, 1, 0]


def test_sequence_taps_are_sliced_and_named_as_theano():
    x = T.vector("x")
    seen = []

    def step(xm2, xm1, xp1):
        seen.extend([xm2.name, xm1.name, xp1.name])
        return xm2 + xm1 + xp1

    res, _ = theano.scan(step, sequences=dict(input=x, taps=[-2, -1, 1]))
    assert seen == ["x[t-2]", "x[t-1]", "x[t+1]"]
    node = _scan_node(res)
    assert node.op.n_seqs == 3 and len(node.inputs) == 4


def test_mit_sot_and_nit_sot_order():
    f0 = T.vector("f0")
    x = T.vector("x")

    def step(xt, f2, f1):
        return f1 + f2, xt * 2, T.cast(xt, "int32")

    fib, doubled, ints = theano.scan(step, sequences=x, outputs_info=[
        dict(initial=f0, taps=[-2, -1]), None, dict()])[0]
    node = _scan_node(fib)
    assert node.op.taps == [[-2, -1]] and node.op.n_nit_sot == 2
    assert fib is node.outputs[0] and doubled is node.outputs[1] and ints is node.outputs[2]
    assert ints.type == T.ivector().type and fib.type == T.vector().type


def test_outer_values_are_hoisted_into_non_sequences():
    x, W = T.matrix("x"), T.matrix("W")
    W2 = W ** 2  # does not depend on the step: computed once, outside

    res, _ = theano.scan(lambda xt: T.dot(xt, W2) + T.exp(W).sum(), sequences=x)
    node = _scan_node(res)
    outer_non_seqs = node.inputs[2:]
    assert W2 in outer_non_seqs
    assert len(outer_non_seqs) == 2  # W ** 2 and exp(W).sum() (broadcast to the row)
    app, _ = _apply_proto([x, W], [res])
    assert len(app.bodies[0].inputs) == 1 + len(outer_non_seqs)
    assert not any(a.op in ("pow", "exp", "sum") for a in app.bodies[0].applies)
    # What only constants feed (broadcasting's DimShuffle of 2) stays in the body.
    doubled, _ = theano.scan(lambda xt: xt * 2, sequences=x)
    assert len(_scan_node(doubled).inputs) == 2
    app, _ = _apply_proto([x], [doubled])
    assert [a.op for a in app.bodies[0].applies] == ["dimshuffle", "mul"]


def test_return_forms_follow_theano():
    x = T.vector("x")
    single, _ = theano.scan(lambda v: v * 2, sequences=x)
    assert isinstance(single, T.TensorVariable)
    listed, _ = theano.scan(lambda v: v * 2, sequences=x, return_list=True)
    assert isinstance(listed, list) and len(listed) == 1
    pair, _ = theano.scan(lambda v: [v * 2, v + 1], sequences=x)
    assert isinstance(pair, list) and len(pair) == 2
    cond, _ = theano.scan(lambda v: (v * 2, until(T.gt(v, 3))), sequences=x)
    assert str(_scan_node(cond).op) == "do_while{cpu,scan_fn}"


def test_get_updates_and_outputs_accepts_theanos_combinations():
    a, b, c = T.scalars("a", "b", "c")
    upd = OrderedDict([(a, b)])
    assert get_updates_and_outputs(a) == (None, [a], OrderedDict())
    assert get_updates_and_outputs([a, b])[1] == [a, b]
    assert get_updates_and_outputs(upd)[2] == upd
    assert get_updates_and_outputs([(a, b)])[2] == upd
    assert get_updates_and_outputs(([a], upd))[1:] == ([a], upd)
    cond = until(T.lt(c, 1))
    assert get_updates_and_outputs((a, cond))[0] is cond.condition
    assert get_updates_and_outputs((upd, cond))[2] == upd
    assert get_updates_and_outputs(([a], upd, cond))[0] is cond.condition
    with pytest.raises(ValueError, match="always return first the outputs"):
        get_updates_and_outputs((upd, [a]))
    with pytest.raises(ValueError, match="may only be made of lists, tuples"):
        get_updates_and_outputs([a, 1.0])
    with pytest.raises(TypeError, match="must be a scalar"):
        until(T.vector())


def test_errors_raised_while_building():
    x = T.vector("x")
    with pytest.raises(ValueError, match="No information about the number of steps"):
        theano.scan(lambda s: s + 1, outputs_info=T.scalar())
    with pytest.raises(ValueError, match="n_steps is -3"):
        theano.scan(lambda s: s + 1, outputs_info=T.scalar(), n_steps=-3)
    with pytest.raises(ValueError, match="n_steps is -1"):
        theano.scan(lambda s: s + 1, outputs_info=T.scalar(), n_steps=T.constant(-1))
    with pytest.raises(ValueError, match="n_steps must be an int"):
        theano.scan(lambda s: s + 1, outputs_info=T.scalar(), n_steps=T.scalar())
    with pytest.raises(ValueError, match="Please provide None as outputs_info"):
        theano.scan(lambda v, s: [s + v, v * 2], sequences=x, outputs_info=T.scalar())
    with pytest.raises(ValueError, match="Can not use future taps of outputs"):
        theano.scan(lambda s: s, outputs_info=dict(initial=x, taps=[1]), n_steps=2)
    with pytest.raises(ValueError, match="you need to provide a initial state"):
        theano.scan(lambda s: s, outputs_info=dict(taps=[-1]), n_steps=2)
    with pytest.raises(ValueError, match="is a scalar: scan iterates"):
        theano.scan(lambda s: s, sequences=T.scalar("s"))
    with pytest.raises(ValueError, match="needs a leading dimension of at least 2 rows"):
        theano.scan(lambda a, b: a + b, outputs_info=dict(initial=T.scalar(), taps=[-2, -1]),
                    n_steps=3)


def test_state_dtype_and_ndim_mismatch_messages():
    x = T.vector("x")
    s64 = T.dscalar("s64")
    with pytest.raises(ValueError) as info:
        theano.scan(lambda v, s: T.cast(s + v, "float32"), sequences=x, outputs_info=s64)
    assert "outputs_info[0] has dtype float64 but the step function returns float32" in str(
        info.value)
    assert "upcast or downcast" in str(info.value)
    with pytest.raises(ValueError, match="has 0 dimension.s. per step but the step function "
                                         "returns 1"):
        theano.scan(lambda v, s: s + x, sequences=x, outputs_info=T.scalar())


def test_compiled_function_and_non_callable_are_refused():
    fake = Function.__new__(Function)
    with pytest.raises(TypeError, match="compiled tensord function"):
        theano.scan(fake, sequences=T.vector())
    with pytest.raises(TypeError, match="must be callable"):
        theano.scan(3, sequences=T.vector())


def test_strict_refuses_variables_not_passed():
    x, w = T.vector("x"), T.scalar("w")
    with pytest.raises(MissingInputError, match="ScanOp is missing an input: w"):
        theano.scan(lambda v: v * w, sequences=x, strict=True)
    res, _ = theano.scan(lambda v, w_: v * w_, sequences=x, non_sequences=w, strict=True)
    assert _scan_node(res).inputs[-1] is w


def test_debugprint_and_pp_show_the_loop_and_its_inner_graph():
    x, W = T.vector("x"), T.matrix("W")
    res, _ = theano.scan(lambda v, h, W_: T.tanh(T.dot(W_, h) + v), sequences=T.matrix("X"),
                         outputs_info=x, non_sequences=W, name="rnn")
    text = theano.printing.debugprint(res, file="str")
    head, inner = text.split("Inner graphs of the scan ops:")
    assert head.startswith("for{cpu,rnn} [id A]")
    assert "for{cpu,rnn} [id A]" in inner and " >Elemwise{tanh,no_inplace}" in inner
    assert "W_copy" in inner and "-> [id" in inner and "x[t-1]" in inner
    assert theano.pp(res).startswith("for{cpu,rnn}(")


def test_nested_scan_inner_graphs_are_printed():
    M = T.matrix("M")
    res, _ = theano.scan(lambda row: theano.scan(lambda v: v * 2, sequences=row)[0].sum(),
                         sequences=M)
    text = theano.printing.debugprint(res, file="str")
    assert text.count("for{cpu,scan_fn}") >= 4  # outer + inner, in the graph and the section


def test_server_bodies_survive_a_round_trip():
    from tensord.deserialize import extend_graph
    x = T.vector("x")
    res, _ = theano.scan(lambda v: v * 2, sequences=x)
    app, graph = _apply_proto([x], [res])
    reply = type(graph)()
    known = {}
    for v in graph.variables:
        if v.WhichOneof("source") == "input":
            known[v.id] = x
        else:
            reply.variables.add().CopyFrom(v)
    reply.applies.extend(graph.applies)
    extend_graph(reply, known)
    decoded = known[app.outputs[0]]
    assert str(decoded.owner.op) == "for{cpu,scan_fn}"
    again, _ = _apply_proto([x], [decoded])
    assert again.bodies[0] == app.bodies[0]
    assert "Inner graphs of the scan ops:" in theano.printing.debugprint(decoded, file="str")


def test_views_and_jacobian_argument_checks():
    x = T.vector("x")
    last, _ = theano.reduce(lambda v, acc: acc + v, sequences=x, outputs_info=T.constant(
        np.float32(0)))
    assert last.ndim == 0 and "Subtensor" in str(last.owner.op)
    mapped, _ = theano.map(lambda v: v * 2, sequences=x)
    assert _scan_node(mapped).op.n_nit_sot == 1
    left, _ = theano.foldl(lambda v, acc: acc + v, x, T.constant(np.float32(0)))
    right, _ = theano.foldr(lambda v, acc: acc + v, x, T.constant(np.float32(0)))
    assert left.ndim == right.ndim == 0
    with pytest.raises(ValueError, match="1 dimensional variable"):
        T.jacobian(T.matrix(), x)
    with pytest.raises(ValueError, match="0 dimensional variable"):
        T.hessian(x, x)
    assert theano.scan_module.scan is theano.scan and callable(theano.gradient.jacobian)


def test_name_mode_and_truncate_gradient_travel_as_attributes():
    x = T.vector("x")
    res, _ = theano.scan(lambda v: v * 2, sequences=x, name="loop", mode="FAST_COMPILE",
                         truncate_gradient=3, profile=True, allow_gc=False)
    app, _ = _apply_proto([x], [res])
    assert app.attrs["name"].s == "loop" and app.attrs["mode"].s == "FAST_COMPILE"
    assert app.attrs["truncate_gradient"].i == 3
    plain, _ = theano.scan(lambda v: v * 2, sequences=x)
    app, _ = _apply_proto([x], [plain])
    assert "name" not in app.attrs and "mode" not in app.attrs
