"""Theano's theano.sandbox: rng_mrg (MRG_RandomStreams)."""

from tensord.sandbox import rng_mrg  # noqa: F401

__all__ = ["rng_mrg"]
