"""tensord.tensor.signal — Theano's `theano.tensor.signal` namespace: pooling (`pool`, and the
older `downsample.max_pool_2d`)."""

from tensord.tensor.signal import downsample, pool  # noqa: F401

__all__ = ["pool", "downsample"]
