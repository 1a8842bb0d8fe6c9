"""The bad-input corpus (tests/bad_input/corpus.jsonl, written by make_corpus.py): every case
gets exactly its status code and a message with its words, never a crash, a hang or INTERNAL,
and the server serves on afterwards."""

import json
import os

import grpc
import numpy as np
import pytest
from google.protobuf import text_format

from tensord import _dtypes
from tensord._proto import compute_pb2, compute_pb2_grpc
from tensord.connection import LocalServer, find_server_binary
from tensord.errors import ServerNotFound

CORPUS = os.path.join(os.path.dirname(__file__), "..", "bad_input", "corpus.jsonl")
with open(CORPUS) as _f:
    CASES = [json.loads(line) for line in _f]
METHODS = compute_pb2.DESCRIPTOR.services_by_name["Compute"].methods_by_name


@pytest.fixture(scope="module")
def target():
    """A server of this module's own, a session there, a function adding two float32 matrices
    ($FUNCTION) and a float32 matrix shared variable ($SHARED)."""
    try:
        server = LocalServer(find_server_binary())
    except ServerNotFound as exc:
        pytest.skip(str(exc))
    server.start()
    channel = grpc.insecure_channel(server.address, options=[
        ("grpc.max_send_message_length", 1 << 26), ("grpc.max_receive_message_length", 1 << 26)])
    stub = compute_pb2_grpc.ComputeStub(channel)
    session = stub.OpenSession(compute_pb2.OpenSessionRequest(client="bad-input corpus"))
    request = compute_pb2.CompileRequest(session_id=session.session_id)
    matrix = 'type { dtype: DT_FLOAT32 broadcastable: [false, false] }'
    text_format.Parse(
        'graph { variables { id: 1 %s input {} } variables { id: 2 %s input {} } '
        'variables { id: 3 %s output {} } applies { op: "add" inputs: [1, 2] outputs: [3] } '
        'inputs: [1, 2] outputs: [3] }' % (matrix, matrix, matrix), request.spec)
    function = stub.Compile(request)
    shared = compute_pb2.CreateSharedRequest(session_id=session.session_id, name="m")
    _dtypes.array_to_tensor(np.zeros((2, 2), np.float32), shared.value)
    shared_info = stub.CreateShared(shared)
    yield stub, {"$SESSION": session.session_id, "$FUNCTION": function.function_id,
                 "$SHARED": shared_info.id}, server
    channel.close()
    server.stop()


def test_the_corpus_is_large_and_names_every_session_rpc():
    assert len(CASES) >= 200
    assert {c["rpc"] for c in CASES} >= {m for m in METHODS if m not in
                                         ("GetServerInfo", "OpenSession")}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_each_bad_input_gets_its_status(target, case):
    stub, placeholders, server = target
    text = case["request"]
    for key, value in placeholders.items():
        text = text.replace(key, value)
    request_class = getattr(compute_pb2, METHODS[case["rpc"]].input_type.name)
    request = text_format.Parse(text, request_class())
    try:
        getattr(stub, case["rpc"])(request, timeout=30)
        code, details = "OK", ""
    except grpc.RpcError as err:
        code, details = err.code().name, err.details() or ""
    assert (code, case["says"] in details) == (case["code"], True), details
    assert len(details) <= 4200  # echoes are cut short, whatever the request quoted
    assert server.process.poll() is None, server.log_tail()


def test_the_server_serves_on_after_the_corpus(target):
    stub, placeholders, server = target
    listed = stub.ListShared(compute_pb2.ListSharedRequest(session_id=placeholders["$SESSION"]))
    assert placeholders["$SHARED"] in [s.id for s in listed.shared]
    assert server.process.poll() is None
