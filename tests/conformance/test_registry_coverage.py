"""Every op the server registers has conformance cases: each test module declares the wire op
names it covers in OPS."""

import importlib.util
import pathlib

import pytest

from tensord._proto import compute_pb2

pytestmark = pytest.mark.usefixtures("server")


def covered_ops():
    ops = set()
    for path in sorted(pathlib.Path(__file__).parent.glob("test_*.py")):
        if path.name == pathlib.Path(__file__).name:
            continue
        spec = importlib.util.spec_from_file_location("conformance_" + path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        ops |= set(getattr(module, "OPS", ()))
    return ops


def test_every_registered_op_has_conformance_cases(server):
    info = server.stub.GetServerInfo(compute_pb2.GetServerInfoRequest())
    missing = sorted(set(info.ops) - covered_ops())
    assert not missing, "ops without conformance cases: %s" % ", ".join(missing)
