"""Compilation modes from Python (NanGuardMode, DebugMode, Mode objects) and the compile cache's
statistics and byte budget, through a real server."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors
from tensord._proto import compute_pb2
from tensord.compile.debugmode import DebugMode
from tensord.compile.function import build_spec
from tensord.compile.mode import Mode, get_mode
from tensord.compile.nanguardmode import NanGuardMode
from tensord.connection import Client, LocalServer, find_server_binary

pytestmark = pytest.mark.usefixtures("server")

GUARD = NanGuardMode(nan_is_error=True, inf_is_error=True, big_is_error=True)


def test_nanguardmode_names_the_node_that_produced_nan():
    x = T.vector("x")
    f = theano.function([x], T.log(x), mode=GUARD)
    with pytest.raises(errors.InvalidArgument,
                       match=r"NanGuardMode: log\(x\) produced nan at index 2"):
        f(np.array([1, 2, -1], dtype="float32"))


def test_nanguardmode_inf_from_division_by_zero():
    x = T.vector("x")
    f = theano.function([x], 1 / x, mode=GUARD)
    with pytest.raises(errors.InvalidArgument, match=r"NanGuardMode: .* produced inf at index 1"):
        f(np.array([1, 0], dtype="float32"))


def test_nanguardmode_big_values_and_float32_overflow():
    x = T.dvector("x")
    f = theano.function([x], x * x, mode=GUARD)
    with pytest.raises(errors.InvalidArgument, match=r"produced a big value 1e\+40"):
        f(np.array([1e20]))
    # In float32 the same product overflows: inf.
    y = T.vector("y")
    g = theano.function([y], y * y, mode=GUARD)
    with pytest.raises(errors.InvalidArgument, match=r"NanGuardMode: .* produced inf"):
        g(np.array([1e20], dtype="float32"))


def test_nanguardmode_is_silent_on_clean_data_and_honours_its_flags():
    x = T.dvector("x")
    out = theano.function([x], T.log(x) * 2, mode=GUARD)(np.array([1.0, np.e]))
    np.testing.assert_allclose(out, [0, 2])
    lenient = NanGuardMode(nan_is_error=False, inf_is_error=True, big_is_error=False)
    f = theano.function([x], T.log(x), mode=lenient)
    assert np.isnan(f(np.array([-1.0]))[0])
    with pytest.raises(errors.InvalidArgument, match="produced -inf"):
        f(np.array([0.0]))
    assert theano.function([x], x * x, mode=lenient)(np.array([1e20]))[0] == 1e40


def test_nanguardmode_by_name_and_from_config():
    x = T.dvector("x")
    with pytest.raises(errors.InvalidArgument, match="NanGuardMode"):
        theano.function([x], T.log(x), mode="NanGuardMode")(np.array([-1.0]))
    theano.config.mode = "NanGuardMode"
    theano.config.NanGuardMode.nan_is_error = False
    assert np.isnan(theano.function([x], T.log(x))(np.array([-1.0]))[0])
    theano.config.NanGuardMode.nan_is_error = True
    with pytest.raises(errors.InvalidArgument, match="NanGuardMode"):
        theano.function([x], T.log(x))(np.array([-1.0]))


def test_fast_run_does_not_guard():
    x = T.dvector("x")
    assert np.isnan(theano.function([x], T.log(x), mode="FAST_RUN")(np.array([-1.0]))[0])


@pytest.mark.parametrize("mode", ["DebugMode", "DEBUG_MODE", DebugMode()])
def test_debugmode_runs_clean_graphs(mode):
    x, y = T.matrices("x", "y")
    w = theano.shared(np.ones((2, 2), dtype="float32"), name="w")
    out = T.exp((x + y) * x).sum() + T.log1p(y * y).mean()
    f = theano.function([x, y], [out, (x + y) * x], updates=[(w, w - 0.1 * (x + y))], mode=mode)
    a = np.arange(4, dtype="float32").reshape(2, 2) / 4
    b = np.ones((2, 2), dtype="float32")
    got, prod = f(a, b)
    want = np.exp((a + b) * a).sum() + np.log1p(b * b).mean()
    np.testing.assert_allclose(got, want, rtol=1e-5)
    np.testing.assert_allclose(prod, (a + b) * a, rtol=1e-6)
    np.testing.assert_allclose(w.get_value(), 1 - 0.1 * (a + b), rtol=1e-6)


def test_debugmode_seed_gradient():
    a = T.scalar()
    g = theano.grad(a ** 2, a)
    f = theano.function([a], g, mode=DebugMode())
    assert f(3) == pytest.approx(6)


def test_mode_objects_reach_the_spec():
    x = T.vector("x")
    spec = build_spec([x], x * 2, mode=GUARD)[0]
    assert spec.mode == "NanGuardMode"
    assert (spec.nan_guard.nan_is_error, spec.nan_guard.inf_is_error,
            spec.nan_guard.big_is_error) == (True, True, True)
    spec = build_spec([x], x * 2, mode=NanGuardMode(big_is_error=False))[0]
    assert not spec.nan_guard.big_is_error and spec.nan_guard.nan_is_error
    spec = build_spec([x], x * 2, mode=Mode(optimizer=None))[0]
    assert spec.no_optimizer and spec.mode == "FAST_RUN"
    spec = build_spec([x], x * 2, mode=Mode(optimizer="fast_compile").excluding("dce"))[0]
    assert spec.mode == "FAST_COMPILE" and "dce" in spec.optimizer_excluding
    assert build_spec([x], x * 2, mode=DebugMode())[0].mode == "DebugMode"
    assert get_mode("DEBUG_MODE").name == "DebugMode"
    assert theano.Mode is Mode and theano.compile.NanGuardMode is NanGuardMode
    with pytest.raises(ValueError):
        Mode(optimizer="no_such_optimizer")


def test_mode_without_optimizer_still_computes():
    x = T.dvector("x")
    f = theano.function([x], T.log(1 + x) * 1, mode=Mode(optimizer=None))
    np.testing.assert_allclose(f(np.array([0.5])), np.log1p([0.5]))


def test_cache_hits_and_misses_in_server_info():
    before = theano.server_info()
    x = T.vector("cache_stats_x")
    theano.function([x], T.tanh(x) * 3 + 11)
    middle = theano.server_info()
    theano.function([x], T.tanh(x) * 3 + 11)
    after = theano.server_info()
    assert middle.cache_misses == before.cache_misses + 1
    assert after.cache_hits == middle.cache_hits + 1
    assert after.cache_misses == middle.cache_misses
    assert after.cache_bytes >= middle.cache_bytes > 0


def _compile(client, spec):
    return client.call("Compile", compute_pb2.CompileRequest(session_id=client.session_id,
                                                             spec=spec))


def test_cache_byte_budget_evicts_released_executables():
    try:
        binary = find_server_binary()
    except errors.ServerNotFound as exc:
        pytest.skip(str(exc))
    server = LocalServer(binary, ["--cache_max_bytes=1"])
    client = None
    try:
        client = Client(server.start(), server)
        client.wait_ready(30)
        x = T.vector("x")
        first = _compile(client, build_spec([x], x * 2)[0])
        info = client.call("GetServerInfo", compute_pb2.GetServerInfoRequest())
        # Over budget, but bound to a function: kept.
        assert info.cache_entries == 1 and info.cache_bytes > 1 and info.cache_evictions == 0
        client.call("ReleaseFunction", compute_pb2.ReleaseFunctionRequest(
            session_id=client.session_id, function_id=first.function_id))
        _compile(client, build_spec([x], x * 3)[0])
        info = client.call("GetServerInfo", compute_pb2.GetServerInfoRequest())
        assert info.cache_evictions == 1 and info.cache_entries == 1
        # The evicted graph compiles again (a miss), the held one still hits.
        assert not _compile(client, build_spec([x], x * 2)[0]).cache_hit
        assert _compile(client, build_spec([x], x * 3)[0]).cache_hit
    finally:
        if client is not None:
            client.close()
        server.stop()
