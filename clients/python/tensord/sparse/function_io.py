"""How tensord.function takes sparse matrices: the graph sent to the server holds only their
dense components, so sparse inputs, outputs, updates and givens are flattened into four
component entries each, and a call converts each sparse argument into four arrays and each
sparse result back into one matrix."""

import numpy as np

from tensord.sparse.type import from_components, is_scipy_sparse, SparseValue
from tensord.sparse.variable import SparseConstant, SparseVariable

__all__ = ["flatten", "expand_pairs", "input_arrays", "regroup_outputs"]


def flatten(variables):
    """`variables` with each sparse matrix replaced by its four components."""
    out = []
    for v in variables:
        if isinstance(v, SparseVariable):
            out.extend(v.components)
        else:
            out.append(v)
    return out


def expand_pairs(pairs, what):
    """(target, value) pairs of updates or givens with each sparse pair replaced by its four
    component pairs. A sparse target needs a sparse value of the same type (a scipy matrix or
    SparseValue becomes a constant of it); a dense target refuses a sparse value."""
    from tensord.sparse.sharedvar import SparseSharedVariable
    out = []
    for target, value in pairs:
        if isinstance(target, SparseVariable):
            if what == "updates" and not isinstance(target, SparseSharedVariable):
                raise TypeError("update target must be a SharedVariable", target)
            if is_scipy_sparse(value) or isinstance(value, SparseValue):
                value = SparseConstant(target.type, value)
            if not isinstance(value, SparseVariable):
                raise TypeError("%s: %s is a sparse matrix (%s); its value must be a sparse "
                                "matrix too, got %r (convert a dense one with "
                                "tensord.sparse.%s_from_dense)"
                                % (what, target, target.type, value, target.format))
            if value.type != target.type:
                raise TypeError("%s: %s of type %s cannot take %s of type %s (the formats and "
                                "dtypes must be the same; convert with tensord.sparse."
                                "csr_from_csc / csc_from_csr or cast)"
                                % (what, target, target.type, value, value.type))
            out.extend(zip(target.components, value.components))
        elif isinstance(value, SparseVariable):
            raise TypeError("%s: %s is dense (%s) and cannot take the sparse matrix %s; convert "
                            "it with tensord.sparse.dense_from_sparse"
                            % (what, target, getattr(target, "type", None), value))
        else:
            out.append((target, value))
    return out


def input_arrays(var, value, strict, allow_downcast):
    """The (data, indices, indptr, shape) arrays a call sends for the sparse input `var`:
    `value` is a scipy sparse matrix (any format; converted to var's), a SparseValue or a
    (data, indices, indptr, shape) tuple; data is converted as TensorType.filter converts an
    array, indices must fit int32. The structure itself is checked by the server."""
    from tensord.device_array import DeviceArray
    if isinstance(value, DeviceArray):
        raise TypeError("a device array cannot be passed for the sparse input %s; pass a "
                        "scipy sparse matrix" % (var,))
    filtered = var.type.filter(value, strict=strict, allow_downcast=allow_downcast)
    return [filtered.data, filtered.indices, filtered.indptr,
            np.asarray(filtered.shape, dtype="int64")]


def regroup_outputs(outputs, values):
    """The values of a call's wire outputs gathered back per output: four component arrays
    become one sparse matrix (scipy's when scipy is importable, else a SparseValue)."""
    it = iter(values)
    result = []
    for var in outputs:
        if isinstance(var, SparseVariable):
            arrays = [np.asarray(next(it)) for _ in range(4)]
            result.append(from_components(var.format, *arrays))
        else:
            result.append(next(it))
    return result
