"""tensord.tensor.signal — Theano's `theano.tensor.signal` namespace (pooling)."""

from tensord.tensor.signal import pool  # noqa: F401

__all__ = ["pool"]
