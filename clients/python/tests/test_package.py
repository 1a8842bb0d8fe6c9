"""Packaging checks for the tensord client (no server): the generated stubs import under
tensord._proto.v1 and match the wire contract in proto/."""

import importlib.util
import os
import re
import subprocess
import sys

import pytest

import tensord
from tensord._proto import compute_pb2, graph_pb2, op_schema_pb2, tensor_pb2

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.dirname(HERE)
PROTO_ROOT = os.path.join(CLIENT, "..", "..", "proto")


def test_stubs_live_under_the_package():
    assert compute_pb2.__name__ == "tensord._proto.v1.compute_pb2"
    # protoc's own module path would shadow this package; the generator rewrites it away.
    assert "tensord.v1" not in sys.modules
    assert compute_pb2.DESCRIPTOR.services_by_name["Compute"].full_name == "tensord.v1.Compute"
    assert graph_pb2.Graph.DESCRIPTOR.full_name == "tensord.v1.Graph"
    assert tensor_pb2.DT_FLOAT32 == 11


@pytest.mark.skipif(importlib.util.find_spec("grpc_tools") is None,
                    reason="grpcio-tools is not installed")
def test_stubs_are_up_to_date_with_the_protos(tmp_path):
    protos = [os.path.join("tensord", "v1", n)
              for n in ("tensor.proto", "graph.proto", "op_schema.proto", "compute.proto")]
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", PROTO_ROOT,
                    "--descriptor_set_out=%s" % (tmp_path / "set.pb")] + protos, check=True)
    from google.protobuf import descriptor_pb2
    fresh = descriptor_pb2.FileDescriptorSet()
    fresh.ParseFromString((tmp_path / "set.pb").read_bytes())
    by_name = {f.name: f for f in fresh.file}
    for module in (tensor_pb2, graph_pb2, op_schema_pb2, compute_pb2):
        current = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(current)
        expected = by_name[module.DESCRIPTOR.name]
        _drop_json_names(expected.message_type)  # CopyToProto leaves them out
        assert current == expected, (
            "%s is stale: run clients/python/generate_protos.sh" % module.__name__)


def _drop_json_names(messages):
    for message in messages:
        for field in message.field:
            field.ClearField("json_name")
        _drop_json_names(message.nested_type)


def test_version_matches_pyproject():
    with open(os.path.join(CLIENT, "pyproject.toml")) as f:
        version = re.search(r'^version = "([^"]+)"', f.read(), re.M).group(1)
    assert tensord.__version__ == version
