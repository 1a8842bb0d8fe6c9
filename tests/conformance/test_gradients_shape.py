"""Gradients of the shape ops (dimshuffle, reshape, flatten, fill, alloc, join, make_vector,
tile, repeat, arange, cast), of ifelse and of indexing (basic slices with negative steps,
advanced indexing with repeated indices and masks, inc/set_subtensor of each kind) against
central finite differences."""

import numpy as np
import pytest

import tensord.tensor as T
from tensord.ifelse import ifelse
from harness import grad_check, off_integers, smooth

pytestmark = pytest.mark.usefixtures("server")

GRAD_OPS = {"dimshuffle", "reshape", "flatten", "fill", "alloc", "join", "make_vector", "tile",
            "repeat", "arange", "cast", "ifelse", "subtensor", "advanced_subtensor1",
            "advanced_subtensor", "inc_subtensor", "advanced_inc_subtensor1",
            "advanced_inc_subtensor"}

# (shape of the input, the expression): each case sees the input x.
SHAPE_CASES = {
    "transpose": ((2, 3, 4), lambda x: x.T),
    "permute": ((2, 3, 4), lambda x: x.dimshuffle(2, 0, 1)),
    "new_axes": ((2, 3), lambda x: x.dimshuffle("x", 1, "x", 0) * np.arange(6.0).reshape(
        1, 3, 1, 2)),
    "drop_broadcastable": ((3, 1, 4), lambda x: x.dimshuffle(2, 0)),
    "swapaxes": ((2, 3, 2), lambda x: T.swapaxes(x, 0, 2)),
    "squeeze_pad": ((1, 4), lambda x: T.shape_padright(T.squeeze(x)) * np.ones((4, 2))),
    "reshape": ((2, 3), lambda x: x.reshape((3, 2))),
    "reshape_minus_one": ((2, 3, 2), lambda x: T.reshape(x, (-1, 3))),
    "reshape_symbolic": ((2, 3), lambda x: x.reshape((x.shape[1], x.shape[0]))),
    "reshape_to_scalar": ((1,), lambda x: x.reshape(()) * 3.0),
    "reshape_from_scalar": ((), lambda x: x.reshape((1, 1)) ** 2),
    "flatten": ((2, 3, 2), lambda x: x.flatten()),
    "flatten_2": ((2, 3, 2), lambda x: T.flatten(x, 2)),
    "flatten_3": ((2, 3, 2), lambda x: T.flatten(x, 3) ** 2),
    "tile_rows": ((2, 3), lambda x: T.tile(x, (2, 1))),
    "tile_both": ((2, 3), lambda x: T.tile(x, (2, 3))),
    "tile_vector": ((3,), lambda x: T.tile(x, (3,))),
    "tile_new_dim": ((2, 3), lambda x: T.tile(x, (2, 1, 2))),
    "repeat_flat": ((2, 3), lambda x: T.repeat(x, 2)),
    "repeat_axis0": ((2, 3), lambda x: T.repeat(x, 3, axis=0)),
    "repeat_vector_counts": ((2, 3), lambda x: T.repeat(x, np.array([1, 0, 2]), axis=1)),
    "repeat_vector_flat": ((3,), lambda x: T.repeat(x, np.array([2, 1, 3]))),
    "repeat_negative_axis": ((2, 2, 2), lambda x: x.repeat(2, axis=-1)),
    "cast_up": ((2, 3), lambda x: T.cast(x, "float64") ** 2),
    "cast_to_int": ((2, 3), lambda x: x * T.cast(T.cast(x, "int64"), "float64")),
    "fill_constant": ((2, 3), lambda x: T.fill(x, 2.0) * x),
    "zeros_like": ((2, 3), lambda x: (T.zeros_like(x) + 1.5) * x ** 2),
    "ones_like": ((2, 3), lambda x: T.ones_like(x) * T.sin(x)),
    "alloc_scalar_shape": ((), lambda x: T.alloc(x, 2, 3) * np.arange(6.0).reshape(2, 3)),
    "alloc_vector": ((3,), lambda x: T.alloc(x, 2, 3) * np.arange(6.0).reshape(2, 3)),
    "alloc_row": ((1, 3), lambda x: T.alloc(x, 4, 3) ** 2),
    "alloc_new_dims": ((2, 1), lambda x: T.alloc(x, 3, 2, 4) * np.arange(24.0).reshape(3, 2, 4)),
    "alloc_symbolic": ((2, 3), lambda x: T.alloc(x[0], x.shape[0] + 1, 3) ** 2),
    "zeros_plus": ((2, 3), lambda x: T.zeros((2, 3)) + x ** 2),
}

# Integer array indices repeat on purpose: gradients must accumulate.
INDICES = {
    "int": 1,
    "negative_int": -1,
    "slice": slice(1, 3),
    "reversed": slice(None, None, -1),
    "step_minus_2": slice(None, None, -2),
    "column": (slice(None), -1),
    "reversed_strided": (slice(None, None, -1), slice(1, None, 2)),
    "backward_range": (slice(3, 0, -2), slice(-2, None)),
    "element": (0, 1),
    "ellipsis": (Ellipsis, 0),
    "newaxis": (None, 1),
    "tail_reversed": (slice(-2, None), slice(None, None, -3)),
    "list": [0, 2, 0, 3],
    "list_negative": [-1, 1, 1],
    "two_lists": ([0, 1, 0], [2, 2, 2]),
    "slice_then_list": (slice(None), [2, 0, 2]),
    "list_then_slice": ([1, 0, 1], slice(1, None)),
    "list_then_reversed": ([3, 3, 0], slice(None, None, -1)),
    "2d_index": np.array([[0, 1], [1, 1]]),
    "mask": np.array([True, False, True, True]),
    "mask_2d": np.arange(20).reshape(4, 5) % 3 == 0,
}


@pytest.mark.parametrize("case", sorted(SHAPE_CASES))
def test_shape_ops(rng, case):
    shape, fn = SHAPE_CASES[case]
    grad_check(fn, smooth(rng, shape))


def test_fill_and_alloc_value_gradients(rng):
    # The value's gradient sums over the broadcast; the model's is zero.
    model, value = smooth(rng, (2, 3)), smooth(rng, ())
    grad_check(lambda m, v: T.fill(m, v) * m, model, value)
    grad_check(lambda m, v: T.fill(m, v ** 2), model, smooth(rng, (3,)))
    grad_check(lambda m, v: T.second(m, v) * 2.0, model, smooth(rng, (2, 1)))
    grad_check(lambda v: T.alloc(v, 2, 3, 2), smooth(rng, (3, 1)))
    grad_check(lambda v: T.alloc(v, 2, 3) ** 2, smooth(rng, (3,)).astype("float32"))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_join(rng, axis):
    a, b, c = smooth(rng, (2, 3)), smooth(rng, (2, 3)), smooth(rng, (2, 3))
    grad_check(lambda x, y: T.concatenate([x, y], axis=axis), a, b)
    grad_check(lambda x, y, z: T.join(axis, x, y ** 2, z, x), a, b, c)
    grad_check(lambda x, y: T.stack([x, y], axis=axis), a, b)


def test_join_unequal_sizes_and_3d(rng):
    grad_check(lambda x, y: T.concatenate([x, y], axis=0), smooth(rng, (1, 3)),
               smooth(rng, (3, 3)))
    grad_check(lambda x, y: T.concatenate([x, y, x], axis=1), smooth(rng, (2, 1)),
               smooth(rng, (2, 4)))
    grad_check(lambda x, y: T.concatenate([x, y], axis=2), smooth(rng, (2, 2, 1)),
               smooth(rng, (2, 2, 3)))
    grad_check(lambda x, y: T.concatenate([x, y]), smooth(rng, (2,)).astype("float32"),
               smooth(rng, (3,)).astype("float32"))


def test_make_vector(rng):
    a, b, c = smooth(rng, ()), smooth(rng, ()), smooth(rng, ())
    grad_check(lambda x, y, z: T.stack(x, y, z) * [1.0, 2.0, 3.0], a, b, c)
    grad_check(lambda x, y: T.stack([x, 2 * x, y ** 2, x * y]), a, b)
    grad_check(lambda x: T.stack([x[0], x[2], x[0] * x[1]]), smooth(rng, (3,)))
    grad_check(lambda x, y: T.stack(x, y), a.astype("float32"), b.astype("float32"))


def test_arange(rng):
    # Float arange: d/dstart = sum(g), d/dstep = sum(g * i), stop only sets the length.
    start, stop, step = np.float64(0.3), np.float64(3.55), np.float64(0.7)
    weights = np.linspace(0.5, 1.5, 5)
    grad_check(lambda a, b, s: T.arange(a, b, s) * weights, start, stop, step)
    grad_check(lambda a: T.arange(a, 10.2, 2.1) ** 2, np.float64(-0.05))
    grad_check(lambda s: T.sin(T.arange(0.0, 3.1, s)), np.float64(0.45))


def test_cast_precisions(rng):
    grad_check(lambda x: T.cast(x, "float64") ** 3, smooth(rng, (2, 3)).astype("float32"))
    # float64 -> float32 loses the default step: a larger one, float32's tolerance.
    grad_check(lambda x: T.cast(x, "float32") ** 3, smooth(rng, (2, 3)), eps=1e-3,
               abs_tol=1e-2, rel_tol=1e-2)
    grad_check(lambda x: x * T.cast(T.round(x), "int32"), off_integers(rng, (5,)))


@pytest.mark.parametrize("branch", [True, False])
def test_ifelse(rng, branch):
    a, b = smooth(rng, (2, 3), 0.5, 2), smooth(rng, (2, 3))
    sign = 1.0 if branch else -1.0
    # A condition computed from the inputs: its gradient is zero, only the taken branch counts.
    grad_check(lambda x, y: ifelse(T.gt(sign * T.sum(x), 0), x * y ** 2, T.exp(y) - x), a, b)
    grad_check(lambda x, y: ifelse(np.int8(branch), T.sin(x), y.T.T), a, b)
    grad_check(lambda x, y: T.sum(ifelse(np.int64(branch), [x, y], [y * 2, x ** 2])[1] * x),
               a, b)


@pytest.mark.parametrize("name", sorted(INDICES))
def test_indexing(rng, name):
    idx = INDICES[name]
    x = smooth(rng, (4, 5))
    grad_check(lambda a: a[idx] ** 2, x)


@pytest.mark.parametrize("idx", [(slice(None), [0, 2, 0], slice(None, None, -1)),
                                 ([1, 1], slice(None), [3, 0]), (1, slice(None, None, -2), 1),
                                 (Ellipsis, [2, 2])], ids=str)
def test_indexing_3d(rng, idx):
    grad_check(lambda a: a[idx] * 3.0, smooth(rng, (2, 3, 4)))


def test_indexing_with_computed_bounds_and_take(rng):
    x = smooth(rng, (4, 5))
    grad_check(lambda a: a[a.shape[0] - 3:, ::a.shape[1] - 7], x)
    grad_check(lambda a: T.take(a, [2, 0, 2], axis=1), x)
    grad_check(lambda a: T.take(a, [7, 7, 19]), x)
    grad_check(lambda a: a[1:, [4, 4, 0]], x.astype("float32"))


# (index, shape of y): each inc/set case updates x[index] with y.
UPDATES = {
    "slice": (slice(1, 3), (2, 5)),
    "slice_scalar_y": (slice(1, 3), ()),
    "slice_row_y": (slice(1, 3), (5,)),
    "reversed_strided": ((slice(None, None, -2), 1), (2,)),
    "negative_int": (-1, (5,)),
    "reversed_columns": ((slice(1, None), slice(None, None, -1)), (3, 5)),
    "list": ([0, 2, 3], (3, 5)),
    "list_broadcast_y": ([3, 1], (1, 5)),
    "two_lists": (([0, 1, 3], [2, 2, 4]), (3,)),
    "slice_then_list": ((slice(None), [0, 3]), (4, 2)),
    "mask": (np.array([True, False, True, True]), (5,)),
}
# Repeated indices accumulate under inc (numpy.add.at); set with repeats is order-dependent, so
# only inc gets them.
REPEATED = {
    "list_repeated": ([0, 2, 0], (3, 5)),
    "list_repeated_scalar_y": ([1, 1, 1], ()),
    "two_lists_repeated": (([0, 1, 0], [2, 2, 2]), (3,)),
    "slice_then_list_repeated": ((slice(None), [4, 0, 4]), (4, 3)),
}


@pytest.mark.parametrize("op,name", [("inc", n) for n in sorted(UPDATES) + sorted(REPEATED)]
                         + [("set", n) for n in sorted(UPDATES)])
def test_inc_and_set_subtensor(rng, op, name):
    idx, y_shape = {**UPDATES, **REPEATED}[name]
    fn = T.inc_subtensor if op == "inc" else T.set_subtensor
    x, y = smooth(rng, (4, 5)), smooth(rng, y_shape)
    grad_check(lambda a, b: fn(a[idx], b) ** 2, x, y)
    grad_check(lambda a, b: fn(a[idx], T.tanh(b) * 2)[1:] * np.arange(15.0).reshape(3, 5), x, y)


def test_inc_subtensor_float32_and_chained(rng):
    x, y = smooth(rng, (4, 5)).astype("float32"), smooth(rng, (2, 5)).astype("float32")
    grad_check(lambda a, b: T.inc_subtensor(a[[3, 3]], b) ** 2, x, y)
    x, y = smooth(rng, (4, 5)), smooth(rng, (5,))
    grad_check(lambda a, b: T.set_subtensor(T.inc_subtensor(a[1], b)[::-1][0], b ** 2), x, y)
