"""MNIST-shaped data made on the spot, so the examples need no download (and the examples'
command line): 28x28 images in [0, 1], flattened to 784 floats, 10 classes. Each class is a fixed pattern of a few Gaussian
strokes (the same for every call); an example is its class's pattern shifted by up to 3 pixels,
rescaled and noised, so a model must learn shapes that move (what convolutions are for)."""

import argparse

import numpy as np

SIZE, CLASSES = 28, 10


def _patterns():
    rng = np.random.RandomState(1234)  # fixed: every split shares the classes
    rows, cols = np.mgrid[0:SIZE, 0:SIZE]
    patterns = np.zeros((CLASSES, SIZE, SIZE))
    for c in range(CLASSES):
        for _ in range(4):
            r, k = rng.uniform(7, 21, size=2)
            sr, sk = rng.uniform(1.5, 4, size=2)
            patterns[c] += np.exp(-((rows - r) ** 2 / (2 * sr ** 2) + (cols - k) ** 2 / (2 * sk ** 2)))
        patterns[c] /= patterns[c].max()
    return patterns


def make(n, seed, dtype="float32"):
    """(images (n, 784), labels (n,) int32)."""
    rng = np.random.RandomState(seed)
    patterns = _patterns()
    labels = rng.randint(0, CLASSES, size=n).astype("int32")
    images = np.empty((n, SIZE, SIZE))
    for i, label in enumerate(labels):
        dr, dk = rng.randint(-3, 4, size=2)
        images[i] = np.roll(np.roll(patterns[label], dr, axis=0), dk, axis=1)
    images *= rng.uniform(0.7, 1.3, size=(n, 1, 1))
    images += rng.normal(0, 0.25, size=images.shape)
    return np.clip(images, 0, 1).reshape(n, SIZE * SIZE).astype(dtype), labels


def command_line(main, doc):
    """The examples' command line: --short (the sizes CI runs) and --epochs."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="smaller model and data (CI)")
    parser.add_argument("--epochs", type=int)
    args = parser.parse_args()
    main(args.short, args.epochs)
