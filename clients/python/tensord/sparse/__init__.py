"""tensord.sparse — Theano's theano.sparse: symbolic sparse matrices (csr and csc) in scipy's
compressed layout.

A SparseVariable is four ordinary symbolic tensors (its components: data, indices, indptr,
shape) plus a format; the server computes on those components with its sparse ops. Gradients
with respect to a sparse matrix are structured: grad(cost, x) is a sparse matrix with x's
pattern whose data is grad(cost, x's data). Functions take scipy sparse matrices for sparse
inputs and return them for sparse outputs (tensord.sparse.SparseValue without scipy).
"""

from tensord.sparse.basic import *  # noqa: F401,F403
from tensord.sparse.basic import __all__ as _basic_names
from tensord.sparse.basic import (_is_dense, _is_dense_variable, _is_sparse,  # noqa: F401
                                  _is_sparse_variable)
from tensord.sparse import basic, sharedvar  # noqa: F401 - theano.sparse.basic / .sharedvar
from tensord.sparse.sharedvar import (SparseSharedVariable, SparseTensorSharedVariable,
                                      sparse_constructor)

# Theano's theano.sparse.shared: a shared variable of a scipy sparse matrix (tensord.shared
# does the same when handed one).
shared = sparse_constructor

__all__ = list(_basic_names) + ["SparseSharedVariable", "SparseTensorSharedVariable",
                                "sparse_constructor", "shared", "basic", "sharedvar"]
