"""tensord.tensor.nnet — Theano's `T.nnet` namespace (the elementwise activations so far)."""

from tensord.tensor.elemwise import sigmoid, softplus

__all__ = ["sigmoid", "softplus"]
