"""The connection to a tensord server: one channel and one session per process.

TENSORD_ADDRESS (host:port) names a running server. Without it the client starts a private server
process (the embedded default) on a free loopback port and stops it at interpreter exit.
"""

import atexit
import collections
import ipaddress
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings

import grpc

from tensord.config import config
from tensord.errors import (ServerNotFound, ServerStartError, TensordError, Unavailable,
                            from_rpc_error)
from tensord._proto import compute_pb2, compute_pb2_grpc

__all__ = ["Client", "get_client", "find_server_binary", "LocalServer", "server_info"]

# The metadata key carrying a session's routing key (the C++ client's kSessionRoutingHeader).
ROUTING_HEADER = "x-tensord-session"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0
_BINARY_RELPATH = os.path.join("build", "default", "server", "tensord")


def find_server_binary():
    """TENSORD_SERVER_BIN, else `tensord` on PATH, else build/default/server/tensord in a parent
    directory of this package (a source checkout)."""
    env = os.environ.get("TENSORD_SERVER_BIN")
    if env:
        if os.path.isfile(env) and os.access(env, os.X_OK):
            return env
        raise ServerNotFound("TENSORD_SERVER_BIN=%s is not an executable file" % env)
    on_path = shutil.which("tensord")
    if on_path:
        return on_path
    searched = []
    here = os.path.dirname(os.path.abspath(__file__))
    while True:
        candidate = os.path.join(here, _BINARY_RELPATH)
        searched.append(candidate)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    raise ServerNotFound(
        "no tensord server to use: TENSORD_ADDRESS is unset, TENSORD_SERVER_BIN is unset, "
        "`tensord` is not on PATH, and none of these exists: %s" % ", ".join(searched[:6]))


class LocalServer:
    """A tensord process started by this client, listening on a free loopback port."""

    def __init__(self, binary, extra_args=()):
        self.binary = binary
        self.workdir = tempfile.mkdtemp(prefix="tensord-")
        self.port_file = os.path.join(self.workdir, "port")
        self.log_path = os.path.join(self.workdir, "server.log")
        # A private server: no metrics listener, which would contend for the default port.
        self.args = [binary, "--listen=127.0.0.1:0", "--port_file=%s" % self.port_file,
                     "--metrics_listen=",
                     "--floatX=%s" % config.floatX, "--device=%s" % config.device]
        if config.contexts:
            self.args.append("--contexts=%s" % config.contexts)
        self.args.extend(extra_args)
        self.process = None
        self.address = None

    def start(self, timeout=START_TIMEOUT_S):
        # The server stops when this process dies without running atexit: it asks the kernel
        # for SIGTERM on its parent's death itself (TENSORD_DIE_WITH_PARENT). Not a preexec_fn:
        # Python code between fork and exec runs gRPC's fork handlers in the child, which can
        # abort it while this process has channels open. PDEATHSIG follows the *thread* that
        # forked, so only from the main one.
        env = dict(os.environ)
        if threading.current_thread() is threading.main_thread():
            env["TENSORD_DIE_WITH_PARENT"] = str(os.getpid())
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerStartError("tensord server %s exited with status %s before "
                                       "reporting its port; its output ends with:\n%s"
                                       % (self.binary, self.process.returncode, self.log_tail()))
            port = self._read_port()
            # The file may be caught half-written: accept a value only once it reads the same
            # twice in a row.
            if port is not None and port == last:
                self.address = "127.0.0.1:%d" % port
                return self.address
            last = port
            time.sleep(0.02)
        self.stop()
        raise ServerStartError("tensord server %s did not write its port to %s within %.0f s; "
                               "its output ends with:\n%s"
                               % (self.binary, self.port_file, timeout, self.log_tail()))

    def _read_port(self):
        try:
            with open(self.port_file) as f:
                text = f.read().strip()
        except OSError:
            return None
        if text.isdigit() and 0 < int(text) < 65536:
            return int(text)
        return None

    def log_tail(self, max_bytes=4000):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - max_bytes))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return "(no output)"

    def stop(self, timeout=STOP_TIMEOUT_S):
        proc = self.process
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _parse_address(address):
    """(host:port, tls) from 'grpcs://host:port' (TLS), 'grpc://host:port' (plaintext) or
    'host:port' (TLS when config.tls_ca is set)."""
    if address.startswith("grpcs://"):
        return address[len("grpcs://"):], True
    if address.startswith("grpc://"):
        return address[len("grpc://"):], False
    return address, bool(config.tls_ca)


def _is_loopback(target):
    host = target.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:  # an address, not a name: "127.example.com" may resolve anywhere
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _read(path, option):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise ValueError("cannot read tensord.config.%s %r: %s" % (option, path, exc)) from None


def _tls_credentials():
    roots = _read(config.tls_ca, "tls_ca") if config.tls_ca else None  # None: system CAs
    if bool(config.tls_cert) != bool(config.tls_key):
        raise ValueError("tensord.config.tls_cert and tls_key go together (mutual TLS)")
    key = _read(config.tls_key, "tls_key") if config.tls_key else None
    chain = _read(config.tls_cert, "tls_cert") if config.tls_cert else None
    return grpc.ssl_channel_credentials(root_certificates=roots, private_key=key,
                                        certificate_chain=chain)


class _BearerToken(grpc.UnaryUnaryClientInterceptor):
    """Adds 'authorization: Bearer <token>' to every call (the server's --auth_tokens_file)."""

    def __init__(self, token):
        self._metadata = ("authorization", "Bearer " + token)

    def intercept_unary_unary(self, continuation, details, request):
        metadata = list(details.metadata or []) + [self._metadata]
        details = _CallDetails(details.method, details.timeout, metadata, details.credentials,
                               details.wait_for_ready, details.compression)
        return continuation(details, request)


class _CallDetails(grpc.ClientCallDetails):
    def __init__(self, method, timeout, metadata, credentials, wait_for_ready, compression):
        self.method, self.timeout, self.metadata = method, timeout, metadata
        self.credentials, self.wait_for_ready, self.compression = (credentials, wait_for_ready,
                                                                   compression)


class Client:
    """A channel to one server plus this process's session on it (opened on first use).

    `address` is host:port (plaintext), grpc://host:port, or grpcs://host:port (TLS; see
    config.tls_ca, tls_cert, tls_key). The bearer token is `token`, else config.token, else
    $TENSORD_TOKEN."""

    def __init__(self, address, server=None, token=None):
        self.address = address
        self.server = server
        self._pid = os.getpid()
        # Graphs and tensors can be large: gRPC's 4 MiB default is far too small.
        limit = int(config.max_message_bytes)
        options = [("grpc.max_send_message_length", limit),
                   ("grpc.max_receive_message_length", limit)]
        target, tls = _parse_address(address)
        if tls:
            channel = grpc.secure_channel(target, _tls_credentials(), options=options)
        else:
            channel = grpc.insecure_channel(target, options=options)
        if token is None:
            token = config.token or os.environ.get("TENSORD_TOKEN", "")
        if token:
            if not tls and not _is_loopback(target):
                warnings.warn("sending a bearer token to %s without TLS: anyone on the path can "
                              "read it (use a grpcs:// address or config.tls_ca)" % target,
                              stacklevel=2)
            channel = grpc.intercept_channel(channel, _BearerToken(token))
        self.channel = channel
        self.stub = compute_pb2_grpc.ComputeStub(self.channel)
        # Run with the request and the reply as bytes (tensord/_run_wire.py writes and reads
        # them): no message to build, and big outputs copied once.
        self._run_bytes = self.channel.unary_unary(
            "/tensord.v1.Compute/Run", request_serializer=None, response_deserializer=None)
        # Sent with every call, OpenSession included: a proxy hashing on it (HAProxy, Envoy)
        # sends all of this session's calls to the replica that holds it. Not a credential. A
        # server this client started is reached directly, with no proxy to read the header,
        # and leaving it out saves a small call about 13 us (docs/performance.md).
        self.routing_metadata = (None if server is not None
                                 else ((ROUTING_HEADER, secrets.token_hex(16)),))
        self._session_id = None
        self._to_release = collections.deque()
        self._arrays_to_release = collections.deque()  # (session id, device array id)
        self._session_lock = threading.Lock()
        self._shared_memory = None  # (pid, SharedMemoryPool): a forked child makes its own
        self._closed = threading.Event()
        self._keepalive = None

    def wait_ready(self, timeout):
        try:
            grpc.channel_ready_future(self.channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            tail = ("\nserver output ends with:\n" + self.server.log_tail()) if self.server else ""
            raise Unavailable("could not connect to tensord at %s within %.0f s%s"
                              % (self.address, timeout, tail)) from None

    def release_later(self, function_id):
        """Queues a garbage function's server handle for release (a finalizer must not call
        the server itself: it may run inside another call, or in any thread)."""
        self._to_release.append(function_id)

    def _release_garbage(self, most=64):
        # A bounded batch per compile, so a slow server cannot stall one compile for long;
        # popleft may race with another compiling thread: whoever gets an id releases it.
        for _ in range(most):
            try:
                function_id = self._to_release.popleft()
            except IndexError:
                return
            if self._session_id is None:
                return
            try:
                self.stub.ReleaseFunction(compute_pb2.ReleaseFunctionRequest(
                    session_id=self._session_id, function_id=function_id), timeout=2,
                    metadata=self.routing_metadata)
            except grpc.RpcError:
                pass  # the session is gone, or the server: nothing left to release

    def release_array_later(self, session_id, array_id):
        """Queues a garbage DeviceArray for release before this client's next call."""
        self._arrays_to_release.append((session_id, array_id))

    def release_arrays_again(self, ids):
        """Requeues ids a Run carried without an answer (the server may not have seen them;
        releasing them twice is harmless: releases ignore ids already gone)."""
        self._arrays_to_release.extend((self._session_id, i) for i in ids)

    def take_arrays_to_release(self, most=4096):
        """Garbage device arrays of the current session, for a Run to release (its
        RunRequest.release) or a ReleaseRefs call."""
        ids = []
        if not self._arrays_to_release:  # the common call: nothing queued
            return ids
        while len(ids) < most:
            try:
                session_id, array_id = self._arrays_to_release.popleft()
            except IndexError:
                break
            if session_id == self._session_id:  # another session's died with it
                ids.append(array_id)
        return ids

    def _release_arrays(self):
        ids = self.take_arrays_to_release()
        if not ids:
            return
        try:
            self.stub.ReleaseRefs(compute_pb2.ReleaseRefsRequest(
                session_id=self._session_id, ids=ids, ignore_unknown=True), timeout=10,
                metadata=self.routing_metadata)
        except grpc.RpcError:
            pass  # the session is gone, or the server: nothing left to release

    def call(self, rpc, request, timeout=None):
        """Calls one RPC; gRPC errors become tensord exceptions carrying the server's text."""
        if rpc == "Compile" and self._to_release:
            self._release_garbage()
        # (Function's Runs go through run() and carry them in the request instead.)
        if self._arrays_to_release and self._session_id is not None:
            self._release_arrays()
        try:
            # GetServerInfo belongs to no session: a proxy may send it to any replica.
            metadata = None if rpc == "GetServerInfo" else self.routing_metadata
            return getattr(self.stub, rpc)(request, timeout=timeout, metadata=metadata)
        except grpc.RpcError as err:
            raise from_rpc_error(err, rpc) from None

    def run(self, request_bytes):
        """Calls Run with a serialized RunRequest; returns the RunResponse's bytes. The
        Function's own path: it carries its garbage device arrays in the request, so nothing
        else to send."""
        try:
            return self._run_bytes(request_bytes, metadata=self.routing_metadata)
        except grpc.RpcError as err:
            raise from_rpc_error(err, "Run") from None

    def shared_memory_pool(self):
        """This process's shared-memory regions in the session (config.shared_memory)."""
        pid = os.getpid()
        with self._session_lock:
            if self._shared_memory is None or self._shared_memory[0] != pid:
                from tensord.shared_memory import SharedMemoryPool
                self._shared_memory = (pid, SharedMemoryPool(self))
            return self._shared_memory[1]

    @property
    def session_id(self):
        if self._session_id is None:
            with self._session_lock:
                if self._session_id is None:
                    name = "python:%s[%d]" % (os.path.basename(sys.argv[0] or "python"),
                                              os.getpid())
                    resp = self._open_session(compute_pb2.OpenSessionRequest(client=name))
                    self._session_id = resp.session_id
                    if resp.idle_timeout_seconds > 0:
                        self._start_keepalive(resp.idle_timeout_seconds)
        return self._session_id

    def _open_session(self, request, attempts=10):
        # Behind a proxy that hashes routing keys (docs/operations.md, "Scale-out"), a key that
        # lands on a replica that is down gets the proxy's 503 (UNAVAILABLE, before any server
        # saw the call): another key lands elsewhere. Any other UNAVAILABLE may come after the
        # server opened the session, so it is not retried here.
        for attempt in range(attempts):
            try:
                return self.call("OpenSession", request)
            except Unavailable as exc:
                if (attempt == attempts - 1 or "status: 503" not in str(exc)
                        or self.routing_metadata is None):
                    raise
                self.routing_metadata = ((ROUTING_HEADER, secrets.token_hex(16)),)
                time.sleep(0.02 * (attempt + 1))

    def _start_keepalive(self, idle_timeout):
        # A session idle past the server's timeout is closed with its shared variables; a quiet
        # interactive user should not lose them, so touch the session well before that.
        period = max(1.0, idle_timeout / 3.0)

        def loop():
            while not self._closed.wait(period):
                try:
                    self.call("ListShared",
                              compute_pb2.ListSharedRequest(session_id=self._session_id),
                              timeout=10)
                except TensordError:
                    pass
                except ValueError:  # the channel was closed under it: nothing left to keep
                    return
        self._keepalive = threading.Thread(target=loop, name="tensord-keepalive", daemon=True)
        self._keepalive.start()

    def close(self):
        if self._closed.is_set() or os.getpid() != self._pid:
            return  # a forked child must not close its parent's session or server
        self._closed.set()
        if self._session_id is not None:
            try:
                self.call("CloseSession",
                          compute_pb2.CloseSessionRequest(session_id=self._session_id), timeout=2)
            except (TensordError, ValueError):  # ValueError: its channel was closed already
                pass
        self.channel.close()
        if self.server is not None:
            self.server.stop()


_client = None
_client_lock = threading.Lock()


def get_client():
    """The process-wide client, connecting (and starting a local server) on first use."""
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                _client = _connect()
    return _client


def _connect():
    address = os.environ.get("TENSORD_ADDRESS")
    server = None
    if not address:
        server = LocalServer(find_server_binary())
        try:
            address = server.start()
        except BaseException:
            server.stop()  # also removes its temp dir (port file, log)
            raise
    client = Client(address, server)
    try:
        # TENSORD_CONNECT_TIMEOUT_S: how long to wait for TENSORD_ADDRESS to answer (a script
        # may rather fail fast than wait the default).
        client.wait_ready(float(os.environ.get("TENSORD_CONNECT_TIMEOUT_S", START_TIMEOUT_S)))
    except BaseException:
        client.close()
        raise
    atexit.register(client.close)
    return client


def _after_fork_in_child():
    # gRPC channels do not survive fork; the child reconnects to the same server on first use.
    global _client, _client_lock
    if _client is not None:
        os.environ.setdefault("TENSORD_ADDRESS", _client.address)
    _client = None
    _client_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def server_info():
    """The server's GetServerInfo answer (version, contexts, floatX, cache statistics ...)."""
    return get_client().call("GetServerInfo", compute_pb2.GetServerInfoRequest())


def save_session():
    """Writes this process's session (shared variables and functions) to the server's
    --state_dir now, and returns the SaveSessionResponse (bytes, shared_variables, functions).

    A server with --state_dir also saves changed sessions every --snapshot_interval_s and when it
    stops, and restores them when it starts again: calls made after a restart reach the same
    shared variables and functions. FailedPrecondition without --state_dir."""
    client = get_client()
    return client.call("SaveSession", compute_pb2.SaveSessionRequest(session_id=client.session_id))
