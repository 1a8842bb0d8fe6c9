"""Every op the server registers has conformance cases: each test module declares the wire op
names it covers in OPS; and every differentiable op has gradient cases (T.verify_grad): the
gradient modules declare the ops whose gradients they verify in GRAD_OPS."""

import importlib.util
import pathlib

import pytest

from tensord._proto import compute_pb2

pytestmark = pytest.mark.usefixtures("server")


def covered_ops(attribute="OPS"):
    """The union of `attribute` (OPS or GRAD_OPS) over the conformance test modules."""
    ops = set()
    for path in sorted(pathlib.Path(__file__).parent.glob("test_*.py")):
        if path.name == pathlib.Path(__file__).name:
            continue
        spec = importlib.util.spec_from_file_location("conformance_" + path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        ops |= set(getattr(module, attribute, ()))
    return ops


def test_every_registered_op_has_conformance_cases(server):
    info = server.stub.GetServerInfo(compute_pb2.GetServerInfoRequest())
    missing = sorted(set(info.ops) - covered_ops())
    assert not missing, "ops without conformance cases: %s" % ", ".join(missing)


def test_every_differentiable_op_has_gradient_cases(server):
    info = server.stub.GetServerInfo(compute_pb2.GetServerInfoRequest())
    assert info.differentiable_ops, "the server lists no differentiable ops"
    assert set(info.differentiable_ops) <= set(info.ops)
    missing = sorted(set(info.differentiable_ops) - covered_ops("GRAD_OPS"))
    assert not missing, "differentiable ops without gradient cases: %s" % ", ".join(missing)


def test_grad_ops_name_differentiable_ops(server):
    # A GRAD_OPS entry that is not (or no longer) differentiable is a stale claim.
    info = server.stub.GetServerInfo(compute_pb2.GetServerInfoRequest())
    stale = sorted(covered_ops("GRAD_OPS") - set(info.differentiable_ops))
    assert not stale, "GRAD_OPS lists ops the server cannot differentiate: %s" % ", ".join(stale)
