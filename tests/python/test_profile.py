"""function(..., profile=True): f.profile.summary() in Theano's layout, Chrome traces, reset,
and the errors for functions compiled without profiling."""

import json
import re

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors
from tensord._proto import compute_pb2

pytestmark = pytest.mark.usefixtures("server")


def _profiled(name="prof_fn", **kwargs):
    x, y = T.vectors("x", "y")
    return theano.function([x, y], T.exp(x) * y + x, profile=True, name=name, **kwargs)


def _run(f, n):
    a = np.arange(5, dtype=theano.config.floatX)
    for _ in range(n):
        f(a, a)


def test_summary_has_theanos_three_tables_with_call_counts(capsys):
    f = _profiled()
    _run(f, 3)
    f.profile.summary()
    text = capsys.readouterr().out
    assert text.startswith("Function profiling\n==================\n  Message: prof_fn\n")
    assert "Time in 3 calls to Function.__call__: " in text
    assert re.search(r"Time in Function\.fn\.__call__: \S+s \(\d+\.\d+%\)", text)
    assert re.search(r"Time in thunks: \S+s \(\d+\.\d+%\)", text)
    assert "Total compile time: " in text and "Number of Apply nodes: " in text
    for header in ("<Class name>", "<Op name>", "<#call> <id> <Apply name>"):
        assert header in text
    data = f.profile.data()
    assert data.calls == 3 and len(data.applies) == data.node_count == f.node_count
    apply_table = text.split("<Apply name>\n", 1)[1]
    for a in data.applies:
        assert a.calls == 3
        assert a.label in apply_table
        # Apply rows: ... <#call> <id> <name>
        assert re.search(r"\s3\s+%d\s+%s\n" % (a.id, re.escape(a.label)), apply_table), a.label
    assert any(a.op_name.startswith("Elemwise{") for a in data.applies)
    assert any(a.class_name == "theano.tensor.elemwise.Elemwise" for a in data.applies)
    # The client's own time leads: it includes the RPC round trips.
    assert f.profile.fct_callcount == 3
    assert f.profile.fct_call_time * 1e9 >= data.time_in_calls_ns >= data.time_in_thunks_ns


def test_chrome_trace_has_one_complete_event_per_node(tmp_path):
    f = _profiled()
    assert f.profile.chrome_trace() == ""  # no run yet
    _run(f, 2)
    path = tmp_path / "trace.json"
    text = f.profile.chrome_trace(str(path))
    events = json.loads(path.read_text())["traceEvents"]
    assert json.loads(text)["traceEvents"] == events
    assert len(events) == f.node_count
    assert all(e["ph"] == "X" and e["dur"] >= 0 and e["pid"] == 1 for e in events)
    starts = [e["ts"] for e in events]
    assert starts == sorted(starts)
    assert {e["name"] for e in events} == {a.label for a in f.profile.data().applies}


def test_reset_zeroes_the_profile(capsys):
    f = _profiled()
    _run(f, 2)
    f.profile.reset()
    data = f.profile.data()
    assert data.calls == 0 and data.time_in_thunks_ns == 0
    assert all(a.calls == 0 for a in data.applies)
    assert f.profile.fct_callcount == 0
    _run(f, 1)
    f.profile.summary()
    assert "Time in 1 calls to Function.__call__" in capsys.readouterr().out


def test_profile_off_means_no_profile_and_the_server_says_why():
    x = T.vector("x")
    f = theano.function([x], x * 2, name="plain_fn")
    assert f.profile is None
    client = f._client
    req = compute_pb2.GetProfileRequest(session_id=client.session_id, function_id=f.function_id)
    with pytest.raises(errors.FailedPrecondition, match="plain_fn was compiled without profile=True"):
        client.call("GetProfile", req)
    with pytest.raises(errors.FailedPrecondition):
        client.call("ResetProfile", compute_pb2.ResetProfileRequest(
            session_id=client.session_id, function_id=f.function_id))


def test_config_profile_turns_profiling_on():
    x = T.vector("x")
    before = theano.config.profile
    theano.config.profile = True
    try:
        f = theano.function([x], x + 1)
        g = theano.function([x], x + 2, profile=False)
    finally:
        theano.config.profile = before
    assert f.profile is not None and g.profile is None
    f(np.ones(3, dtype=theano.config.floatX))
    assert f.profile.data().calls == 1


def test_failed_calls_are_not_counted():
    f = _profiled()
    _run(f, 1)
    with pytest.raises(errors.TensordError):
        f(np.ones(3, dtype=theano.config.floatX), np.ones(4, dtype=theano.config.floatX))
    assert f.profile.data().calls == 1


def test_apply_names_print_intermediates_as_theano_does():
    x, y = T.vectors("x", "y")
    W = T.matrix("W")
    f = theano.function([x, y, W], T.dot(W, T.exp(x) * y).sum(), profile=True)
    a = np.ones(4, dtype=theano.config.floatX)
    f(a, a, np.ones((3, 4), dtype=theano.config.floatX))
    labels = [p.label for p in f.profile.data().applies]
    # Unnamed intermediates read "<producer's op name>.<output index>", as Theano's str().
    assert any(re.search(r"\(W, Elemwise\{.*\}\.0\)$", label) for label in labels), labels
    assert any(re.search(r"^Sum\{.*\}\(dot\.0\)$", label) for label in labels), labels


def test_profile_optimizer_adds_the_pass_table(capsys):
    f = _profiled()
    data = f.profile.data()
    assert len(data.optimizer_passes) > 0
    assert "Optimizer Profile" not in data.summary
    before = theano.config.profile_optimizer
    theano.config.profile_optimizer = True
    try:
        f.profile.summary()
    finally:
        theano.config.profile_optimizer = before
    text = capsys.readouterr().out
    assert "Optimizer Profile" in text
    for p in data.optimizer_passes:
        assert p.name in text


def _memory_profiled(allow_gc=True, **kwargs):
    before = theano.config.profile_memory, theano.config.allow_gc
    theano.config.profile_memory, theano.config.allow_gc = True, allow_gc
    try:
        x = T.vector("x")
        # No optimizer: exp, neg and add each get an output buffer of their own.
        return theano.function([x], -T.exp(x) + x, profile=True, name="mem_fn",
                               mode=theano.Mode(optimizer=None), **kwargs)
    finally:
        theano.config.profile_memory, theano.config.allow_gc = before


@pytest.mark.parametrize("allow_gc", [True, False])
def test_profile_memory_reports_peaks_as_theanos_memory_section(capsys, allow_gc):
    f = _memory_profiled(allow_gc)
    a = np.linspace(0, 1, 1000).astype(theano.config.floatX)
    np.testing.assert_allclose(f(a), -np.exp(a) + a, rtol=1e-6)
    data = f.profile.data()
    assert data.profile_memory and [m.context for m in data.memory] == ["cpu"]
    mem = data.memory[0]
    # Reference from NumPy's sizes: the input and three results of its size. Freeing each
    # intermediate after its last reader (allow_gc, the default) leaves at most three alive at
    # once; without it all four live until the run ends.
    current = 3 * a.nbytes if allow_gc else 4 * a.nbytes
    assert mem.peak_bytes == current
    assert mem.peak_bytes_without_inplace == current
    assert mem.peak_bytes_with_gc == 3 * a.nbytes
    assert mem.peak_bytes_without_gc == 4 * a.nbytes
    assert sorted(p.output_bytes for p in data.applies) == [a.nbytes] * 3
    assert {p.output_shapes for p in data.applies} == {"[(1000,)]"}
    assert {p.output_kinds for p in data.applies} == {"c"}
    f.profile.summary()
    text = capsys.readouterr().out
    section = text.split("Memory Profile\n", 1)[1]
    assert section.startswith("(Sparse variables are ignored)\n---\n")
    kb = lambda n: int(round(n / 1024.0))  # noqa: E731 - Theano's rounding
    assert ("    Max peak memory with current setting\n        CPU: %dKB\n" % kb(current)
            in section)
    assert ("    Max peak memory if allow_gc=False (linker don't make a difference)\n"
            "        CPU: %dKB\n" % kb(4 * a.nbytes)) in section
    assert "<Sum apply outputs (bytes)> <Apply outputs shape> <created/inplace/view>" in section
    for p in data.applies:
        assert "%9dB  [(1000,)] c %s\n" % (p.output_bytes, p.label) in section
    assert text.index("<Apply name>") < text.index("Memory Profile")


def test_profile_memory_off_by_default_and_validate_linker_times():
    f = _profiled()
    _run(f, 1)
    data = f.profile.data()
    assert not data.profile_memory and len(data.memory) == 0
    assert "Memory Profile" not in data.summary
    assert all(p.output_bytes == 0 for p in data.applies)
    assert data.validate_ns > 0 and data.linker_ns > 0
    assert data.validate_ns + data.optimizer_ns + data.linker_ns <= data.compile_ns
    assert re.search(r"    Theano Optimizer time: \S+s\n       Theano validate time: \S+s\n"
                     r"    Theano Linker time \(includes C, CUDA code generation/compiling\): "
                     r"\S+s\n", data.summary)


def test_profile_memory_without_profile_is_ignored():
    before = theano.config.profile_memory
    theano.config.profile_memory = True
    try:
        x = T.vector("x")
        f = theano.function([x], x * 2)
    finally:
        theano.config.profile_memory = before
    assert f.profile is None and not f.spec.profile_memory
