"""Writes the fuzz targets' seed corpus (tests/fuzz/corpus/{graph,tensor,run_request}/):
serialized FunctionSpecs of small real graphs (elementwise, broadcasting, reductions, dot,
indexing, scan, ifelse, random draws, casts, a fused-looking chain), Tensors of every dtype, and
RunRequests as the clients write them (inputs, args of every kind, releases, output slots). Run it again
after changing the wire format:

    clients/python/.venv/bin/python tests/fuzz/make_corpus.py
"""

import os

import numpy as np

import tensord as theano
import tensord.tensor as T
from tensord import _dtypes, _run_wire
from tensord._proto.v1 import tensor_pb2
from tensord.compile.function import build_spec
from tensord.ifelse import ifelse

HERE = os.path.dirname(os.path.abspath(__file__))


def graphs():
    x, y = T.dmatrix("x"), T.dvector("y")
    i = T.lscalar("i")
    yield "add", [x, y], x + y
    yield "chain", [x], T.tanh(T.exp(-x) * 2 + 1).sum(axis=1)
    yield "reduce", [x], [x.max(axis=0), x.mean(), T.argmax(x, axis=1)]
    yield "dot", [x, y], T.dot(x, y)
    yield "index", [x, i], [x[i], x[1:, ::-1], T.inc_subtensor(x[0], 1.0)]
    yield "cast", [x], T.cast(x, "int32") // 3
    yield "ifelse", [i, x], ifelse(T.gt(i, 0), x * 2, x - 1)
    out, _ = theano.scan(lambda a, acc: acc + a, sequences=y, outputs_info=T.constant(np.float64(0.0)))
    yield "scan", [y], out
    yield "shape", [x], [x.reshape((-1,)), x.T, T.concatenate([x, x], axis=0), x.shape]


def tensors():
    for dtype in ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                  "uint64", "float32", "float64"):
        yield dtype, np.arange(6).reshape(2, 3).astype(dtype)
    yield "scalar", np.float64(2.5)
    yield "empty", np.zeros((0, 4), "float32")


def run_requests():
    prefix = _run_wire.request_prefix("session-1", "fn-1")
    arrays = [value for _, value in tensors()]
    yield "inputs", _run_wire.request_parts(prefix, arrays)
    yield "args", _run_wire.request_parts(prefix, arrays[:3] + [
        _run_wire.ShmValue("region", 64, 11, (2, 3))], as_args=True) + [
        _run_wire.output_slot("region", 128, 24), _run_wire.output_slot("", 0, 0)] + \
        _run_wire.release_parts(["da-1", "da-2"])


def main():
    for kind in ("graph", "tensor", "run_request"):
        os.makedirs(os.path.join(HERE, "corpus", kind), exist_ok=True)
    for name, inputs, outputs in graphs():
        spec = build_spec(inputs, outputs)[0]
        with open(os.path.join(HERE, "corpus", "graph", name), "wb") as f:
            f.write(spec.SerializeToString())
    for name, value in tensors():
        proto = tensor_pb2.Tensor()
        _dtypes.array_to_tensor(value, proto)
        with open(os.path.join(HERE, "corpus", "tensor", name), "wb") as f:
            f.write(proto.SerializeToString())
    for name, parts in run_requests():
        with open(os.path.join(HERE, "corpus", "run_request", name), "wb") as f:
            f.write(b"".join(bytes(p) for p in parts))


if __name__ == "__main__":
    main()
