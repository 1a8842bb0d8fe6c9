"""The wire contract's generated stubs (tensord._proto.v1), produced by generate_protos.sh.

The stubs are build outputs, not committed; importing this package without them gives a message
that says how to make them instead of a bare ModuleNotFoundError.
"""

try:
    from tensord._proto.v1 import compute_pb2 as compute_pb2  # noqa: F401
    from tensord._proto.v1 import compute_pb2_grpc as compute_pb2_grpc  # noqa: F401
    from tensord._proto.v1 import graph_pb2 as graph_pb2  # noqa: F401
    from tensord._proto.v1 import op_schema_pb2 as op_schema_pb2  # noqa: F401
    from tensord._proto.v1 import tensor_pb2 as tensor_pb2  # noqa: F401
except ModuleNotFoundError as exc:  # pragma: no cover - depends on the checkout's state
    if not (exc.name or "").startswith("tensord._proto.v1"):
        raise
    raise ImportError(
        "tensord's gRPC stubs are missing: run clients/python/generate_protos.sh "
        "(or clients/python/setup-venv.sh) before importing tensord") from exc
