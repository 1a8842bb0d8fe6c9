"""The print op (theano.printing.Print) is the identity on values and on gradients; what it
prints is tested in tests/python/test_print_and_monitor.py."""

import numpy as np
import pytest

from harness import check, grad_check
from tensord.printing import Print

OPS = {"print"}
GRAD_OPS = OPS

pytestmark = pytest.mark.usefixtures("server")


def _silent(op, value):
    pass


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "bool"])
def test_print_is_the_identity(rng, dtype):
    x = (rng.standard_normal((3, 4)) * 3).astype(dtype)
    check(lambda a: Print("x", global_fn=_silent)(a), lambda a: a, x)


def test_print_passes_gradients_through(rng):
    grad_check(lambda a: Print("x", global_fn=_silent)(a) ** 2, rng.standard_normal((2, 3)))
