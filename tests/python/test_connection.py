"""Pure client tests: finding and starting a local server, and mapping gRPC errors."""

import os
import stat
import time

import grpc
import pytest

from tensord import connection, errors


def _script(tmp_path, name, body):
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_server_bin_env_wins(tmp_path, monkeypatch):
    binary = _script(tmp_path, "tensord", "exit 0\n")
    monkeypatch.setenv("TENSORD_SERVER_BIN", binary)
    assert connection.find_server_binary() == binary
    monkeypatch.setenv("TENSORD_SERVER_BIN", str(tmp_path / "missing"))
    with pytest.raises(errors.ServerNotFound, match="not an executable"):
        connection.find_server_binary()


def test_local_server_passes_flags_and_reads_port(tmp_path):
    # A stand-in server: records its arguments, writes the port file as tensord does
    # (write a temp file, then rename), then waits to be stopped.
    args_file = tmp_path / "args"
    binary = _script(tmp_path, "tensord", f"""
echo "$@" > {args_file}
for a in "$@"; do case "$a" in --port_file=*) pf="${{a#--port_file=}}";; esac; done
echo 43210 > "$pf.tmp" && mv "$pf.tmp" "$pf"
exec sleep 60
""")
    server = connection.LocalServer(binary)
    try:
        assert server.start(timeout=10) == "127.0.0.1:43210"
        args = args_file.read_text().split()
        assert args[0] == "--listen=127.0.0.1:0"
        assert args[1].startswith("--port_file=")
        assert "--floatX=float32" in args and "--device=cpu" in args
    finally:
        server.stop(timeout=5)
    assert server.process.poll() is not None
    assert not os.path.exists(server.workdir)


def test_local_server_that_exits_early_reports_its_output(tmp_path):
    binary = _script(tmp_path, "tensord", "echo 'bad flag --frobnicate' >&2\nexit 3\n")
    server = connection.LocalServer(binary)
    with pytest.raises(errors.ServerStartError) as info:
        server.start(timeout=10)
    assert "exited with status 3" in str(info.value)
    assert "bad flag --frobnicate" in str(info.value)
    server.stop()


def test_local_server_timeout(tmp_path):
    binary = _script(tmp_path, "tensord", "exec sleep 60\n")
    server = connection.LocalServer(binary)
    start = time.monotonic()
    with pytest.raises(errors.ServerStartError, match="did not write its port"):
        server.start(timeout=0.5)
    assert time.monotonic() - start < 10
    assert server.process.poll() is not None  # it was stopped


class _FakeRpcError(grpc.RpcError):
    def __init__(self, code, details):
        self._code, self._details = code, details

    def code(self):
        return self._code

    def details(self):
        return self._details


@pytest.mark.parametrize("code,cls,builtin", [
    (grpc.StatusCode.INVALID_ARGUMENT, errors.InvalidArgument, ValueError),
    (grpc.StatusCode.INVALID_ARGUMENT, errors.InvalidArgument, TypeError),
    (grpc.StatusCode.NOT_FOUND, errors.NotFound, KeyError),
    (grpc.StatusCode.FAILED_PRECONDITION, errors.FailedPrecondition, RuntimeError),
    (grpc.StatusCode.UNIMPLEMENTED, errors.Unimplemented, NotImplementedError),
    (grpc.StatusCode.RESOURCE_EXHAUSTED, errors.ResourceExhausted, MemoryError),
    (grpc.StatusCode.DEADLINE_EXCEEDED, errors.DeadlineExceeded, TimeoutError),
    (grpc.StatusCode.UNAVAILABLE, errors.Unavailable, ConnectionError),
])
def test_rpc_errors_map_to_python_exceptions(code, cls, builtin):
    exc = errors.from_rpc_error(_FakeRpcError(code, "node 3 (add): shapes differ"), "Run")
    assert isinstance(exc, cls) and isinstance(exc, builtin)
    assert isinstance(exc, errors.TensordError)
    assert str(exc) == "node 3 (add): shapes differ"
    assert exc.code == code and exc.rpc == "Run"


def test_unknown_codes_keep_the_code_name():
    exc = errors.from_rpc_error(_FakeRpcError(grpc.StatusCode.DATA_LOSS, "oops"))
    assert type(exc) is errors.TensordError
    assert str(exc) == "DATA_LOSS: oops"


def test_a_local_server_stops_when_its_python_parent_is_killed(tmp_path):
    """The server asks for SIGTERM on its parent's death (TENSORD_DIE_WITH_PARENT): a Python
    program killed with SIGKILL, which runs no atexit, leaves no server behind."""
    import signal
    import subprocess
    import sys
    try:
        binary = connection.find_server_binary()
    except errors.ServerNotFound as exc:
        pytest.skip(str(exc))
    script = ("import sys, time\n"
              "from tensord.connection import LocalServer\n"
              "s = LocalServer(sys.argv[1]); s.start()\n"
              "print(s.process.pid, flush=True); time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", script, binary], stdout=subprocess.PIPE,
                              text=True)
    try:
        server_pid = int(parent.stdout.readline())
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.kill(server_pid, 0)
            except ProcessLookupError:
                return  # gone
            try:
                with open("/proc/%d/stat" % server_pid) as f:
                    if f.read().split()[2] == "Z":
                        return  # exited; a zombie until its reaper collects it
            except FileNotFoundError:
                return
            time.sleep(0.1)
        os.kill(server_pid, signal.SIGKILL)
        pytest.fail("the server outlived its killed parent")
    finally:
        parent.kill()
