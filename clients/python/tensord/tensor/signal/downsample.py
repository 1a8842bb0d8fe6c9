"""Theano's older pooling module, `theano.tensor.signal.downsample` (removed in Theano 0.9,
still in much published code): max_pool_2d, the same server op as pool.pool_2d."""

from tensord.tensor.signal.pool import pool_2d

__all__ = ["max_pool_2d"]


def max_pool_2d(input, ds, ignore_border=None, st=None, padding=(0, 0), mode="max"):
    """pool_2d with the old argument names: ds the window, st the stride, padding the pad."""
    return pool_2d(input, ws=ds, ignore_border=ignore_border, stride=st, pad=padding, mode=mode)
