"""Theano's `T.nnet.neighbours`: images2neibs (the patches of images as rows) and
neibs2images (patches summed back into images), each a server op and the other's gradient."""

import numpy as np

from tensord.graph import Apply, Op, Variable
from tensord.tensor.type import TensorType

__all__ = ["images2neibs", "neibs2images", "Images2Neibs"]

MODES = ("valid", "ignore_borders", "half", "full", "wrap_centered")


def _basic():
    from tensord.tensor import basic
    return basic


def _pair(value, what):
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                  and v >= 1 for v in value):
        raise ValueError("%s must be 2 integers >= 1 (constants), got %r" % (what, value))
    return tuple(int(v) for v in value)


class _NeibsOp(Op):
    def __init__(self, neib_shape, neib_step=None, mode="valid"):
        if mode not in MODES:
            raise ValueError("mode must be one of %s, got %r" % (", ".join(MODES), mode))
        self.neib_shape = _pair(neib_shape, "neib_shape")
        self.neib_step = _pair(self.neib_shape if neib_step is None else neib_step, "neib_step")
        self.mode = mode
        if mode == "wrap_centered" and not all(s % 2 for s in self.neib_shape):
            raise TypeError("images2neibs: mode 'wrap_centered' needs a patch of odd sizes, got %r"
                            % (self.neib_shape,))

    def attrs(self):
        return {"neib_shape": list(self.neib_shape), "neib_step": list(self.neib_step),
                "mode": self.mode}

    def __str__(self):
        return "%s{%r}" % (self._theano_name, self.mode)


class Images2Neibs(_NeibsOp):
    """(N, C, H, W) -> (N*C*patches, rows*cols), one patch per row (row-major), rows ordered by
    image, channel, patch row, patch column."""

    wire_name = "images2neibs"
    _theano_name = "Images2Neibs"

    def make_node(self, ten4):
        ten4 = _basic().as_tensor_variable(ten4)
        if ten4.ndim != 4:
            raise TypeError("images2neibs needs a 4-d input (batch, channels, rows, cols), got %s"
                            % ten4.type)
        return Apply(self, [ten4], [TensorType(ten4.dtype, (False, False))()])


class Neibs2Images(_NeibsOp):
    wire_name = "neibs2images"
    _theano_name = "Neibs2Images"

    def make_node(self, neibs, shape):
        from tensord.tensor.shape_ops import shape_vector
        neibs = _basic().as_tensor_variable(neibs)
        if neibs.ndim != 2:
            raise TypeError("neibs2images needs a matrix of patches, got %s" % neibs.type)
        if not isinstance(shape, Variable):
            shape = tuple(shape)
            if len(shape) != 4:
                raise ValueError("original_shape must give 4 dims, got %r" % (shape,))
            shape = shape_vector(shape)
        return Apply(self, [neibs, shape], [TensorType(neibs.dtype, (False,) * 4)()])


def images2neibs(ten4, neib_shape, neib_step=None, mode="valid"):
    """The (rows, cols) = neib_shape patches of a 4-d input taken every neib_step (default
    neib_shape), as rows of a matrix. mode 'valid' needs the patches to tile each image exactly,
    'ignore_borders' drops what is left over, 'half' and 'full' pad with zeros first (by
    neib_shape // 2 and neib_shape - 1), 'wrap_centered' centres odd patches on every step-th
    pixel and reads across each edge from the opposite one (ceil(size / step) patches a dim)."""
    return Images2Neibs(neib_shape, neib_step, mode)(ten4)


def neibs2images(neibs, neib_shape, original_shape, mode="valid"):
    """images2neibs' inverse for non-overlapping patches (neib_step = neib_shape): each row
    written back where its patch came from, in an image of original_shape."""
    return Neibs2Images(neib_shape, None, mode)(neibs, original_shape)
