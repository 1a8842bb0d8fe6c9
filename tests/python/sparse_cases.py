"""Sparse matrices the tensord.sparse tests build, and how they compare results with scipy's."""

import numpy as np
import scipy.sparse as sp

FORMATS = ("csr", "csc")


def rand_sparse(rows, cols, fmt="csr", density=0.4, seed=0, dtype="float64"):
    """A random matrix with an empty row and column, so that edge slices are exercised."""
    m = sp.random(rows, cols, density=density, format="lil", random_state=seed, dtype=dtype)
    m[0, :] = 0
    m[:, cols - 1] = 0
    return m.asformat(fmt)


def assert_sparse_equal(got, want, fmt=None):
    assert sp.issparse(got), type(got)
    if fmt is not None:
        assert got.format == fmt
    assert got.shape == want.shape
    np.testing.assert_allclose(got.toarray(), want.toarray() if sp.issparse(want) else want,
                               rtol=1e-6)
