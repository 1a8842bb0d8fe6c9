"""Theano's theano.sparse.verify_grad_sparse: verify_grad for functions of sparse matrices."""

from tensord.sparse.construct import CSM, _from_dense, dense_from_sparse
from tensord.sparse.type import SparseValue, is_scipy_sparse, to_value
from tensord.sparse.variable import SparseVariable, as_sparse_or_tensor_variable

__all__ = ["verify_grad_sparse"]


def verify_grad_sparse(op, pt, structured=False, *args, **kwargs):
    """verify_grad of `op` at `pt`, whose sparse entries (scipy matrices or SparseValues) are
    varied through their data (structured=True: the pattern stays, as tensord's structured
    gradients assume) or as dense matrices (structured=False: every entry varies, which checks
    a gradient outside the pattern; tensord's structured gradients fail that where the true
    gradient has entries there). A sparse result is compared as a dense one."""
    from tensord.verify_grad import verify_grad
    points, converters = [], []
    for p in pt:
        if not (is_scipy_sparse(p) or isinstance(p, SparseValue)):
            points.append(p)
            converters.append(lambda v: v)
            continue
        fmt = p.format if p.format in ("csr", "csc") else "csr"
        value = to_value(p, fmt)
        if structured:
            points.append(value.data)
            converters.append(lambda v, value=value, fmt=fmt: CSM(fmt)(
                v, value.indices, value.indptr, value.shape))
        else:
            points.append(value.toarray())
            converters.append(lambda v, fmt=fmt: _from_dense(fmt, v))
    output = op(*[as_sparse_or_tensor_variable(p) for p in pt])
    if isinstance(output, (list, tuple)):
        raise NotImplementedError("verify_grad_sparse can't deal with multiple outputs")
    to_dense = dense_from_sparse if isinstance(output, SparseVariable) else (lambda v: v)

    def converted_op(*inputs):
        return to_dense(op(*[conv(i) for conv, i in zip(converters, inputs)]))
    return verify_grad(converted_op, points, *args, **kwargs)
