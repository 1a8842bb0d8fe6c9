"""theano.sparse.basic's names (Theano code imports some of them from here, private helpers
such as _is_sparse_variable included); the code lives in the modules of tensord.sparse."""

import numpy as np

from tensord.sparse.arithmetic import *  # noqa: F401,F403
from tensord.sparse.arithmetic import __all__ as _arithmetic_names
from tensord.sparse.construct import *  # noqa: F401,F403
from tensord.sparse.construct import __all__ as _construct_names
from tensord.sparse.construct import as_format
from tensord.sparse.products import *  # noqa: F401,F403
from tensord.sparse.products import __all__ as _product_names
from tensord.sparse.structured import *  # noqa: F401,F403
from tensord.sparse.structured import __all__ as _structured_names
from tensord.sparse.type import SparseType, SparseValue, is_scipy_sparse
from tensord.sparse.variable import (SparseConstant, SparseVariable, as_sparse,
                                     as_sparse_or_tensor_variable, as_sparse_variable,
                                     is_dense_variable, is_sparse_variable)
from tensord.sparse.verify import verify_grad_sparse

__all__ = (["SparseType", "SparseValue", "SparseVariable", "SparseConstant", "as_sparse",
            "as_sparse_variable", "as_sparse_or_tensor_variable", "as_format",
            "verify_grad_sparse"]
           + list(_arithmetic_names) + list(_construct_names) + list(_product_names)
           + list(_structured_names))


def _is_sparse_variable(x):
    """Whether x is a symbolic sparse matrix."""
    return is_sparse_variable(x)


def _is_dense_variable(x):
    """Whether x is a symbolic dense tensor."""
    return is_dense_variable(x)


def _is_sparse(x):
    """Whether x is a sparse matrix value (scipy's, or a tensord SparseValue)."""
    return is_scipy_sparse(x) or isinstance(x, SparseValue)


def _is_dense(x):
    """Whether x is a dense array value."""
    return isinstance(x, np.ndarray)
