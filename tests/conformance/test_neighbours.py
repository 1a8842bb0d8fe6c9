"""images2neibs / neibs2images against NumPy loops over the patches, every mode (wrap_centered's
patches as index arithmetic modulo the image size), overlapping and not; their gradients by
finite differences; shapes that do not fit refused."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors
from tensord.tensor.nnet import neighbours
from harness import check, grad_check, smooth

OPS = {"images2neibs", "neibs2images"}
GRAD_OPS = OPS

pytestmark = pytest.mark.usefixtures("server")


def _pads(neib_shape, mode):
    return {"half": [s // 2 for s in neib_shape], "full": [s - 1 for s in neib_shape]}.get(
        mode, [0, 0])


def ref_wrap_centered(x, neib_shape, step):
    """Odd patches centred on every step-th pixel, indices taken modulo the image size."""
    (h, w), rows = x.shape[2:], []
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(0, h, step[0]):
                for j in range(0, w, step[1]):
                    ii = (i - neib_shape[0] // 2 + np.arange(neib_shape[0])) % h
                    jj = (j - neib_shape[1] // 2 + np.arange(neib_shape[1])) % w
                    rows.append(x[n, c][np.ix_(ii, jj)].ravel())
    return np.array(rows, dtype=x.dtype).reshape(-1, neib_shape[0] * neib_shape[1])


def ref_images2neibs(x, neib_shape, neib_step=None, mode="valid"):
    step = neib_step or neib_shape
    if mode == "wrap_centered":
        return ref_wrap_centered(x, neib_shape, step)
    ph, pw = _pads(neib_shape, mode)
    xp = np.pad(x, [(0, 0), (0, 0), (ph, ph), (pw, pw)])
    rows = []
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(0, xp.shape[2] - neib_shape[0] + 1, step[0]):
                for j in range(0, xp.shape[3] - neib_shape[1] + 1, step[1]):
                    rows.append(xp[n, c, i:i + neib_shape[0], j:j + neib_shape[1]].ravel())
    return np.array(rows, dtype=x.dtype).reshape(-1, neib_shape[0] * neib_shape[1])


CASES = [((2, 3, 4, 6), (2, 2), None, "valid"),
         ((1, 2, 6, 6), (3, 2), (3, 2), "valid"),
         ((1, 1, 5, 7), (2, 3), (1, 2), "valid"),  # overlapping, tiling exactly
         ((2, 1, 5, 7), (2, 2), None, "ignore_borders"),
         ((1, 2, 5, 4), (3, 3), (2, 1), "half"),
         ((1, 1, 3, 4), (2, 3), (1, 1), "full"),
         ((1, 2, 5, 6), (3, 3), None, "wrap_centered"),
         ((2, 1, 4, 5), (3, 1), (1, 2), "wrap_centered"),  # overlapping, uneven steps
         ((1, 1, 3, 5), (3, 5), (1, 1), "wrap_centered")]  # the patch as large as the image


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_images2neibs_matches_loops(rng, case, dtype):
    shape, neib_shape, neib_step, mode = case
    x = rng.standard_normal(shape).astype(dtype)
    check(lambda v: neighbours.images2neibs(v, neib_shape, neib_step, mode),
          lambda v: ref_images2neibs(v, neib_shape, neib_step, mode), x)


@pytest.mark.parametrize("shape, mode", [((2, 3, 4, 6), "valid"), ((2, 3, 5, 7),
                                                                     "ignore_borders")])
def test_neibs2images_inverts_non_overlapping_patches(rng, shape, mode):
    x = rng.standard_normal(shape)
    xs = T.dtensor4()
    back = neighbours.neibs2images(neighbours.images2neibs(xs, (2, 3), mode=mode), (2, 3),
                                   xs.shape, mode)
    want = x.copy()
    want[:, :, 4:, :] = want[:, :, :, 6:] = 0  # the border ignore_borders drops
    np.testing.assert_array_equal(theano.function([xs], back)(x), want)


def test_integer_images():
    x = np.arange(2 * 1 * 4 * 4, dtype="int64").reshape(2, 1, 4, 4)
    check(lambda v: neighbours.images2neibs(v, (2, 2)), lambda v: ref_images2neibs(v, (2, 2)), x)


@pytest.mark.parametrize("op_shape, op_step, mode", [((3, 2), (1, 2), "valid"),
                                                     ((3, 3), (2, 1), "wrap_centered")])
def test_neibs2images_sums_overlapping_patches(rng, op_shape, op_step, mode):
    # The adjoint: <images2neibs(x), n> == <x, neibs2images(n)> for any x and n.
    x = rng.standard_normal((1, 2, 5, 6))
    n = rng.standard_normal(ref_images2neibs(x, op_shape, op_step, mode).shape)
    ns = T.dmatrix()
    back = neighbours.Neibs2Images(op_shape, op_step, mode)(ns, x.shape)
    got = theano.function([ns], back)(n)
    np.testing.assert_allclose((ref_images2neibs(x, op_shape, op_step, mode) * n).sum(),
                               (x * got).sum(), rtol=1e-12)


@pytest.mark.parametrize("case", [((1, 2, 4, 4), (2, 2), None, "valid"),
                                  ((1, 1, 5, 4), (3, 2), (1, 1), "half"),
                                  ((1, 1, 4, 5), (3, 3), (2, 2), "wrap_centered")], ids=str)
def test_gradients_by_finite_differences(rng, case):
    shape, neib_shape, neib_step, mode = case
    grad_check(lambda v: neighbours.images2neibs(v, neib_shape, neib_step, mode) ** 2,
               smooth(rng, shape))
    rows = ref_images2neibs(np.zeros(shape), neib_shape, neib_step, mode).shape
    op = neighbours.Neibs2Images(neib_shape, neib_step, mode)
    grad_check(lambda n: op(n, shape) ** 2, smooth(rng, rows))


def test_shape_rule_computes_no_patches():
    x = T.dtensor4("x")
    f = theano.function([x], neighbours.images2neibs(x, (2, 3), (1, 2), "ignore_borders").shape)
    assert "Images2Neibs" not in theano.printing.debugprint(f, file="str")
    assert tuple(f(np.zeros((2, 3, 5, 8)))) == (2 * 3 * 4 * 3, 6)
    g = theano.function([x], neighbours.images2neibs(x, (3, 1), (2, 3), "wrap_centered").shape)
    assert "Images2Neibs" not in theano.printing.debugprint(g, file="str")
    assert tuple(g(np.zeros((2, 3, 5, 8)))) == (2 * 3 * 3 * 3, 3)


def test_bad_arguments_and_shapes_are_refused():
    x = T.dtensor4()
    with pytest.raises(TypeError, match="odd sizes"):
        neighbours.images2neibs(x, (3, 2), mode="wrap_centered")
    even = neighbours.Images2Neibs((3, 3), None, "wrap_centered")
    even.neib_shape = (2, 3)  # past the client's check: the server refuses it too
    with pytest.raises(errors.InvalidArgument, match="odd sizes"):
        theano.function([x], even(x))
    wrap = theano.function([x], neighbours.images2neibs(x, (3, 3), mode="wrap_centered"))
    with pytest.raises(errors.InvalidArgument, match="at least as large as the patch"):
        wrap(np.zeros((1, 1, 2, 5)))
    with pytest.raises(ValueError, match="neib_shape"):
        neighbours.images2neibs(x, (2, 0))
    with pytest.raises(TypeError, match="4-d"):
        neighbours.images2neibs(T.dmatrix(), (2, 2))
    f = theano.function([x], neighbours.images2neibs(x, (2, 2)))
    with pytest.raises(errors.InvalidArgument, match="'valid', 'half' and 'full' need patches"):
        f(np.zeros((1, 1, 5, 4)))
    half = theano.function([x], neighbours.images2neibs(x, (3, 3), (2, 2), "half"))
    with pytest.raises(errors.InvalidArgument, match="need patches that tile"):
        half(np.zeros((1, 1, 4, 5)))  # (4 + 2 - 3) % 2 != 0
    huge = theano.function([x], neighbours.images2neibs(x, (1 << 20, 1 << 20), (1, 1), "full"))
    with pytest.raises(errors.ResourceExhausted):
        huge(np.zeros((1 << 12, 1, 1, 1)))
    with pytest.raises(errors.InvalidArgument, match="does not fit"):
        f(np.zeros((1, 1, 1, 4)))
    n = T.dmatrix()
    g = theano.function([n], neighbours.neibs2images(n, (2, 2), (1, 1, 4, 4)))
    with pytest.raises(errors.InvalidArgument, match="do not match the image shape"):
        g(np.zeros((3, 4)))
