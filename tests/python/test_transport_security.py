"""TLS, mutual TLS and bearer tokens end to end: a private server on loopback with certificates
made by openssl for the test, and the Python client's settings (grpcs:// addresses,
config.tls_ca / tls_cert / tls_key, tokens)."""

import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import threading
import time
import urllib.error
import urllib.request

import grpc
import numpy as np
import pytest

from tensord import _dtypes, config, errors
from tensord._proto import compute_pb2
from tensord.connection import Client, find_server_binary

ALICE = "alice-token-0123456789"
BOB = "bob-token-0123456789ab"
ADMIN = "admin-token-0123456789"
CAROL = "carol-token-0123456789"


def _self_signed(directory, name):
    """A self-signed certificate for localhost/127.0.0.1 and its key (the cert is its own CA)."""
    cert, key = str(directory / (name + ".pem")), str(directory / (name + ".key"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (deploy/install-deps.sh installs it)")
    d = tmp_path_factory.mktemp("certs")
    return {"server": _self_signed(d, "server"), "client": _self_signed(d, "client")}


@pytest.fixture
def secured(certs, tmp_path, private_server):
    """A TLS server with tokens: (server, port, tokens file)."""
    tokens = tmp_path / "tokens"
    tokens.write_text("%s alice\n%s bob\n%s ops admin\n" % (ALICE, BOB, ADMIN))
    cert, key = certs["server"]
    server = private_server(["--enable_admin_rpcs", "--tls_cert=" + cert, "--tls_key=" + key,
                             "--auth_tokens_file=" + str(tokens)])
    return server, server.address.split(":")[1], tokens


def _client(port, token, ca):
    config.tls_ca = ca
    client = Client("grpcs://127.0.0.1:" + port, token=token)
    client.wait_ready(20)
    return client


def _code(call):
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value.code(), err.value.details()


def test_tls_and_tokens_identify_callers_and_own_sessions(secured, certs):
    server, port, _ = secured
    ca = certs["server"][0]
    alice = _client(port, ALICE, ca)
    session = alice.stub.OpenSession(compute_pb2.OpenSessionRequest(client="a")).session_id
    listed = compute_pb2.ListSharedRequest(session_id=session)
    alice.stub.ListShared(listed)

    # No token, an unknown token: UNAUTHENTICATED before anything else is looked at.
    for token in ("", "not-a-known-token-at-all"):
        anonymous = _client(port, token, ca)
        code, details = _code(lambda: anonymous.stub.ListShared(listed))
        assert code == grpc.StatusCode.UNAUTHENTICATED, details
        assert "bearer token" in details

    # Another token sees alice's session exactly as a session that does not exist.
    bob = _client(port, BOB, ca)
    code, details = _code(lambda: bob.stub.ListShared(listed))
    assert code == grpc.StatusCode.NOT_FOUND
    missing = compute_pb2.ListSharedRequest(session_id="0" * 32)
    assert details.replace(session, "0" * 32) == _code(lambda: bob.stub.ListShared(missing))[1]
    assert _code(lambda: bob.stub.CloseSession(
        compute_pb2.CloseSessionRequest(session_id=session)))[0] == grpc.StatusCode.NOT_FOUND
    alice.stub.ListShared(listed)  # still there

    # Admin RPCs need an admin token.
    code, details = _code(lambda: alice.stub.ListSessions(compute_pb2.ListSessionsRequest()))
    assert code == grpc.StatusCode.PERMISSION_DENIED and "admin" in details
    admin = _client(port, ADMIN, ca)
    sessions = admin.stub.ListSessions(compute_pb2.ListSessionsRequest()).sessions
    assert session in [s.session_id for s in sessions]


def test_plaintext_and_unverified_clients_cannot_talk_to_a_tls_server(secured, certs):
    _, port, _ = secured
    config.tls_ca = ""
    plain = Client("127.0.0.1:" + port, token=ALICE)
    code, _ = _code(lambda: plain.stub.GetServerInfo(compute_pb2.GetServerInfoRequest(),
                                                     timeout=5))
    assert code == grpc.StatusCode.UNAVAILABLE
    # TLS, but trusting a different CA (the client's own certificate): the handshake fails.
    config.tls_ca = certs["client"][0]
    wrong_ca = Client("grpcs://127.0.0.1:" + port, token=ALICE)
    code, _ = _code(lambda: wrong_ca.stub.GetServerInfo(compute_pb2.GetServerInfoRequest(),
                                                        timeout=5))
    assert code == grpc.StatusCode.UNAVAILABLE


def test_sighup_reloads_tokens_and_a_bad_file_keeps_the_old_ones(secured, certs):
    server, port, tokens = secured
    ca = certs["server"][0]
    info = compute_pb2.GetServerInfoRequest()
    alice, bob, carol = (_client(port, t, ca) for t in (ALICE, BOB, CAROL))
    session = alice.stub.OpenSession(compute_pb2.OpenSessionRequest(client="a")).session_id
    bob.stub.GetServerInfo(info)
    tokens.write_text("%s alice\n%s carol\n" % (ALICE, CAROL))
    os.kill(server.process.pid, signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            carol.stub.GetServerInfo(info)
            break
        except grpc.RpcError:
            time.sleep(0.1)
    carol.stub.GetServerInfo(info)
    assert _code(lambda: bob.stub.GetServerInfo(info))[0] == grpc.StatusCode.UNAUTHENTICATED
    alice.stub.ListShared(compute_pb2.ListSharedRequest(session_id=session))  # kept its session
    # A malformed file is refused at reload; the tokens in force stay.
    tokens.write_text("short\n")
    os.kill(server.process.pid, signal.SIGHUP)
    time.sleep(0.5)
    carol.stub.GetServerInfo(info)
    assert server.process.poll() is None
    assert "previous tokens stay in force" in server.log_tail()


def test_mutual_tls_requires_a_client_certificate(certs, private_server):
    cert, key = certs["server"]
    client_cert, client_key = certs["client"]
    server = private_server(["--tls_cert=" + cert, "--tls_key=" + key,
                             "--tls_client_ca=" + client_cert])
    port = server.address.split(":")[1]
    config.tls_ca = cert
    config.tls_cert, config.tls_key = "", ""
    without = Client("grpcs://127.0.0.1:" + port)
    code, _ = _code(lambda: without.stub.GetServerInfo(compute_pb2.GetServerInfoRequest(),
                                                       timeout=5))
    assert code == grpc.StatusCode.UNAVAILABLE
    config.tls_cert, config.tls_key = client_cert, client_key
    with_cert = Client("grpcs://127.0.0.1:" + port)
    assert with_cert.stub.GetServerInfo(compute_pb2.GetServerInfoRequest(), timeout=10).version


@pytest.mark.parametrize("args,message", [
    # Never binds: the server refuses before listening (tests listen on loopback only).
    (["--listen=0.0.0.0:0"], "refusing to listen on 0.0.0.0:0 without TLS and bearer tokens"),
    (["--auth_tokens_file=/nonexistent/tokens"], "cannot read --auth_tokens_file"),
    (["--tls_cert=/nonexistent/cert.pem"], "TLS needs both --tls_cert and --tls_key"),
    (["--metrics_listen=0.0.0.0:0"], "refusing to serve metrics on 0.0.0.0:0 without TLS"),
])
def test_unsafe_or_broken_security_settings_stop_the_server(args, message):
    try:
        binary = find_server_binary()
    except errors.ServerNotFound as exc:
        pytest.skip(str(exc))
    proc = subprocess.run([binary, "--listen=127.0.0.1:0", "--metrics_listen="] + args,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    assert message in proc.stderr


def _scrape(port, context):
    url = "https://127.0.0.1:%d/metrics" % port
    with urllib.request.urlopen(url, context=context, timeout=10) as reply:
        return reply.status, reply.read().decode()


def _metrics_server(private_server, tmp_path, flags):
    port_file = tmp_path / "metrics_port"
    server = private_server(flags + ["--metrics_listen=127.0.0.1:0",
                                     "--metrics_port_file=%s" % port_file])
    return server, int(port_file.read_text())


def test_metrics_are_served_over_tls(certs, private_server, tmp_path):
    cert, key = certs["server"]
    _, port = _metrics_server(private_server, tmp_path,
                              ["--tls_cert=" + cert, "--tls_key=" + key])
    status, body = _scrape(port, ssl.create_default_context(cafile=cert))
    assert status == 200 and "tensord_sessions" in body
    # Plain HTTP gets no metrics, and a client that does not trust the certificate refuses it.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as plain:
        plain.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            answer = plain.recv(65536)  # a TLS alert, or nothing
        except ConnectionResetError:
            answer = b""
        assert b"tensord_" not in answer and b"HTTP/1.1 200" not in answer
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        _scrape(port, ssl.create_default_context())


def test_metrics_clients_that_reset_or_trickle_do_not_stop_the_server(certs, private_server,
                                                                     tmp_path):
    cert, key = certs["server"]
    server, port = _metrics_server(private_server, tmp_path,
                                   ["--tls_cert=" + cert, "--tls_key=" + key])
    context = ssl.create_default_context(cafile=cert)
    # Resets mid-handshake and mid-reply: OpenSSL writing to a reset socket must not raise a
    # SIGPIPE that kills the server.
    for send_request in (False, True):
        for _ in range(5):
            raw = socket.create_connection(("127.0.0.1", port), timeout=10)
            if send_request:
                tls = context.wrap_socket(raw, server_hostname="localhost")
                tls.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                raw = tls
            else:
                raw.sendall(b"\x16\x03\x01")  # the start of a ClientHello
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raw.close()
    assert server.process.poll() is None, server.log_tail()
    assert _scrape(port, context)[0] == 200
    # A client sending a byte every 2 s holds the one serving thread for 10 s at most.
    trickle = socket.create_connection(("127.0.0.1", port), timeout=30)
    stop = threading.Event()

    def drip():
        for b in b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03":
            if stop.wait(2):
                return
            try:
                trickle.sendall(bytes([b]))
            except OSError:
                return

    dripper = threading.Thread(target=drip)
    dripper.start()
    time.sleep(0.5)
    start = time.monotonic()
    try:
        assert _scrape_within(port, context, 20)[0] == 200
        assert time.monotonic() - start < 15
    finally:
        stop.set()
        dripper.join()
        trickle.close()


def _scrape_within(port, context, seconds):
    url = "https://127.0.0.1:%d/metrics" % port
    with urllib.request.urlopen(url, context=context, timeout=seconds) as reply:
        return reply.status, reply.read().decode()


def test_metrics_with_mutual_tls_need_a_client_certificate(certs, private_server, tmp_path):
    cert, key = certs["server"]
    client_cert, client_key = certs["client"]
    _, port = _metrics_server(private_server, tmp_path, [
        "--tls_cert=" + cert, "--tls_key=" + key, "--tls_client_ca=" + client_cert])
    without = ssl.create_default_context(cafile=cert)
    with pytest.raises((urllib.error.URLError, ssl.SSLError, ConnectionError)):
        _scrape(port, without)
    with_cert = ssl.create_default_context(cafile=cert)
    with_cert.load_cert_chain(client_cert, client_key)
    assert _scrape(port, with_cert)[0] == 200


def test_the_token_setting_is_never_printed():
    config.token = "very-secret-token-value"
    assert "very-secret-token-value" not in str(config)
    assert "very-secret-token-value" not in repr(config)
    assert "<set>" in str(config)


def test_shared_values_round_trip_over_tls(secured, certs):
    _, port, _ = secured
    alice = _client(port, ALICE, certs["server"][0])
    session = alice.stub.OpenSession(compute_pb2.OpenSessionRequest(client="a")).session_id
    value = np.arange(6, dtype="float64").reshape(2, 3)
    request = compute_pb2.CreateSharedRequest(session_id=session, name="w")
    _dtypes.array_to_tensor(value, request.value)
    info = alice.stub.CreateShared(request)
    got = alice.stub.GetShared(compute_pb2.GetSharedRequest(session_id=session, id=info.id))
    np.testing.assert_array_equal(_dtypes.tensor_to_array(got.value), value)
