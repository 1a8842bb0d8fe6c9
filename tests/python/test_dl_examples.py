"""The deep-learning examples of clients/python/examples (issue 15) train in their short mode:
LeNet (conv2d + pool_2d) and the MLP with batch norm and dropout reach a validation error well
below chance (90 % for 10 classes), and the denoising autoencoder learns to reconstruct."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "clients", "python",
                                "examples"))
import denoising_autoencoder  # noqa: E402
import lenet  # noqa: E402
import mlp_dropout_bn  # noqa: E402
import synthetic_digits  # noqa: E402

pytestmark = pytest.mark.usefixtures("server")


def test_synthetic_digits_are_mnist_shaped_and_reproducible():
    images, labels = synthetic_digits.make(30, 0)
    assert images.shape == (30, 784) and images.dtype == "float32"
    assert images.min() >= 0 and images.max() <= 1
    assert set(labels) <= set(range(10))
    again, _ = synthetic_digits.make(30, 0)
    assert (again == images).all()


@pytest.mark.parametrize("example", [lenet, mlp_dropout_bn], ids=["lenet", "mlp_dropout_bn"])
def test_classifiers_learn_well_below_chance(example):
    history = example.main(short=True, log=lambda *_: None)
    assert history[-1] < 0.4, history
    assert history[-1] < history[0], history


def test_denoising_autoencoder_learns_to_reconstruct():
    costs, (before, after) = denoising_autoencoder.main(short=True, log=lambda *_: None)
    assert costs[-1] < costs[0]
    assert after < before / 2, (before, after)
