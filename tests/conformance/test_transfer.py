"""transfer on the suite's server (host contexts only: every transfer there is the identity),
its gradient, and its refusals. Placement across device contexts is tested against a server with
simulated devices in tests/python/test_device_contexts.py."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors
from harness import ALL_DTYPES, SHAPES, check, grad_check, sample, smooth

OPS = {"transfer"}
GRAD_OPS = {"transfer"}

pytestmark = pytest.mark.usefixtures("server")


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_transfer_to_the_default_context_keeps_values(rng, dtype, shape):
    x = sample(rng, SHAPES[shape], dtype)
    check(lambda a: a.transfer(None), lambda a: a, x)
    if dtype != "bool":  # neg refuses bool, as NumPy's negative does
        check(lambda a: T.neg(a.transfer("cpu")).transfer(None), np.negative, x)


def test_transfer_to_cpu_of_a_host_value_is_the_value_itself():
    a = T.matrix("a")
    assert a.transfer("cpu") is a


def test_gradient_flows_through_a_transfer(rng):
    grad_check(lambda a: T.exp(a.transfer(None)) * 3, smooth(rng, (3, 4)))


def test_transfer_to_an_unknown_context_is_refused_by_name(rng):
    a = T.matrix("a")
    with pytest.raises(errors.FailedPrecondition,
                       match=r"^transfer to unknown context 'dev9' \(this server has: cpu"):
        theano.function([a], (a + 1).transfer("dev9"))


def test_transfer_target_must_be_a_name():
    with pytest.raises(TypeError, match="context name or None"):
        T.matrix().transfer(0)
