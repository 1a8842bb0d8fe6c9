"""The ops the optimizer makes, sent directly by a client: composite (a fused elementwise program,
Theano's Elemwise{Composite{...}}) and gemm (beta * z + alpha * dot(x, y)), against NumPy over
dtypes, broadcasting, 0-d and empty shapes; malformed programs and misaligned products fail
cleanly. (The optimizer's own use of them is covered by every other suite, which compiles in
FAST_RUN.)"""

import numpy as np
import pytest

from tensord import errors
from tensord.graph import Apply, Op
from tensord.tensor.type import TensorType
from harness import check, run, sample

OPS = {"composite", "gemm"}

pytestmark = pytest.mark.usefixtures("server")

# Opcodes of engine/ops/defs/composite.h (part of the wire format: new ones are appended).
CONST, ADD, SUB, MUL, EXP, TANH, SWITCH, GT, FILL = 0, 1, 2, 3, 7, 20, 39, 40, 48


def _broadcast_type(dtype, inputs):
    ndim = max(v.ndim for v in inputs)
    bcast = tuple(all(v.broadcastable[d - ndim + v.ndim] if d >= ndim - v.ndim else True
                      for v in inputs) for d in range(ndim))
    return TensorType(dtype, bcast)()


class Composite(Op):
    wire_name = "composite"

    def __init__(self, dtype, program, constants=(), reduce=None):
        self.dtype, self.program, self.constants = dtype, program, constants
        self.reduce = reduce

    def attrs(self):
        attrs = {"dtype": np.dtype(self.dtype), "program": [int(v) for v in self.program]}
        if self.constants:
            attrs["constants"] = [float(c) for c in self.constants]
        if self.reduce:
            attrs["reduce"] = self.reduce
        return attrs

    def make_node(self, *inputs):
        if self.reduce:
            return Apply(self, inputs, [TensorType(self.dtype, ())()])
        return Apply(self, inputs, [_broadcast_type(self.dtype, inputs)])


class Gemm(Op):
    wire_name = "gemm"

    def make_node(self, z, alpha, x, y, beta):
        bcast = (x.broadcastable[0], y.broadcastable[1])
        bcast = tuple(b and (d < 2 - z.ndim or z.broadcastable[d - 2 + z.ndim])
                      for d, b in enumerate(bcast))
        return Apply(self, [z, alpha, x, y, beta], [TensorType(x.dtype, bcast)()])


# ((i0 + i1) * exp(i0)) and Switch(GT(i0, 0.5), i0, i1 * 2 - tanh(i1)): registers 0, 1 are the
# inputs, instruction j defines register 2 + j.
PROGRAM_A = [ADD, 0, 1, -1, EXP, 0, -1, -1, MUL, 2, 3, -1]
PROGRAM_B = [CONST, 0, -1, -1, GT, 0, 2, -1, CONST, 1, -1, -1, MUL, 1, 4, -1, TANH, 1, -1, -1,
             SUB, 5, 6, -1, SWITCH, 3, 0, 7]


def _program_b(a, b):
    return np.where(a > 0.5, a, b * 2 - np.tanh(b))


SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 5), (3, 1)), ((), ()), ((), (5,)),
          ((0, 3), (3,)), ((4,), (0, 4))]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_composite_programs(rng, dtype, shapes):
    a, b = sample(rng, shapes[0], dtype), sample(rng, shapes[1], dtype)
    check(lambda x, y: Composite(dtype, PROGRAM_A)(x, y),
          lambda x, y: ((x + y) * np.exp(x)).astype(dtype), a, b, rtol=1e-6)
    check(lambda x, y: Composite(dtype, PROGRAM_B, (0.5, 2))(x, y),
          lambda x, y: _program_b(x, y).astype(dtype), a, b, rtol=1e-6)


def test_composite_casts_its_inputs_and_fill_reads_only_shapes(rng):
    # int32 and bool inputs are read as float32; second(model, v) takes the model's shape only.
    a = sample(rng, (3, 4), "int32")
    b = sample(rng, (4,), "bool")
    check(lambda x, y: Composite("float32", [ADD, 0, 1, -1])(x, y),
          lambda x, y: (x + y).astype("float32"), a, b)
    check(lambda x, y: Composite("float64", [CONST, 0, -1, -1, FILL, 0, 2, -1], (1.5,))(x, y),
          lambda x, y: np.full(np.broadcast_shapes(x.shape, y.shape), 1.5), a, b)


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_composite_reductions(rng, dtype, shapes):
    a, b = sample(rng, shapes[0], dtype), sample(rng, shapes[1], dtype)
    value = ((a + b) * np.exp(a)).astype("float64")  # float32 sums accumulate in double
    empty = value.size == 0
    for reduce, ref in [("sum", np.sum), ("mean", np.mean), ("max", np.max), ("min", np.min)]:
        if empty and reduce in ("max", "min"):
            with pytest.raises(errors.InvalidArgument, match="has no identity"):
                run(lambda x, y: Composite(dtype, PROGRAM_A, reduce=reduce)(x, y), a, b)
            continue
        check(lambda x, y: Composite(dtype, PROGRAM_A, reduce=reduce)(x, y),
              lambda x, y: np.asarray(ref(value)).astype(dtype), a, b, rtol=1e-6)


def test_composite_reduce_must_name_a_known_reduction(rng):
    a = sample(rng, (3,), "float32")
    with pytest.raises(errors.InvalidArgument,
                       match="'reduce' must be 'sum', 'mean', 'max' or 'min', got 'prod'"):
        run(lambda x: Composite("float32", [EXP, 0, -1, -1], reduce="prod")(x), a)


@pytest.mark.parametrize("program,message", [
    ([99, 0, -1, -1], "unknown opcode"),
    ([ADD, 0, 7, -1], "before it is defined"),
    ([EXP, 0, 1, -1], "must be -1"),
    ([ADD, 0, 1], "four ints"),
    ([CONST, 2, -1, -1], "constant 2"),
])
def test_malformed_programs_are_refused(rng, program, message):
    a = sample(rng, (3,), "float32")
    with pytest.raises(errors.InvalidArgument, match=message):
        run(lambda x, y: Composite("float32", program)(x, y), a, a)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("zshape", [(3, 5), (5,), (), (1, 5)], ids=str)
def test_gemm(rng, dtype, zshape):
    z, x, y = sample(rng, zshape, dtype), sample(rng, (3, 4), dtype), sample(rng, (4, 5), dtype)
    alpha, beta = np.asarray(0.5, dtype), np.asarray(-2, dtype)
    check(lambda *v: Gemm()(*v), lambda z, a, x, y, b: (b * z + a * (x @ y)).astype(dtype),
          z, alpha, x, y, beta, rtol=1e-5, atol=1e-5)


def test_gemm_of_transposed_and_empty_operands(rng):
    z = sample(rng, (3, 5), "float64")
    xt, yt = sample(rng, (4, 3), "float64"), sample(rng, (5, 4), "float64")
    one = np.asarray(1.0)
    check(lambda z, a, x, y, b: Gemm()(z, a, x.T, y.T, b),
          lambda z, a, x, y, b: b * z + a * (x.T @ y.T), z, one, xt, yt, one, rtol=1e-12)
    xe, ye = sample(rng, (3, 0), "float64"), sample(rng, (0, 5), "float64")
    check(lambda *v: Gemm()(*v), lambda z, a, x, y, b: b * z + a * (x @ y), z, one, xe, ye, one)


def test_gemm_misaligned_fails_cleanly(rng):
    z, x, y = (sample(rng, s, "float32") for s in [(3, 5), (3, 4), (3, 5)])
    one = np.asarray(1, "float32")
    with pytest.raises(errors.InvalidArgument, match="not aligned"):
        run(lambda *v: Gemm()(*v), z, one, x, y, one)
