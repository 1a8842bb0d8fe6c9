"""Deep-learning layers side by side (issue 15; docs/performance.md): a LeNet training step and
a ResNet-style block (conv-bn-relu, conv-bn, + skip, relu; 64 channels, 56x56, batch 32) forward
+ backward + SGD update, in tensord and in each installed peer (PyTorch eager, JAX jit), same
initial parameters, interleaved in one run. Prints one JSON line per case: median milliseconds
and tensord's speedup over each peer. Convolutions are cross-correlations (filter_flip=False)
so every framework computes the same loss, which the first call checks.

    clients/python/.venv/bin/python tests/bench/peers.py --install --torch   # once: peers venv
    TENSORD_SERVER_BIN=build/default/server/tensord PYTHONPATH=clients/python \\
        build/peers-venv/bin/python tests/bench/dl_layers.py [--repeats 10] [--smoke]
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import measure  # noqa: E402

LR = np.float32(0.01)


def resnet_params(rng, channels):
    w = lambda: (rng.standard_normal((channels, channels, 3, 3)) * 0.05).astype("float32")  # noqa
    ones, zeros = np.ones(channels, "float32"), np.zeros(channels, "float32")
    return [w(), ones, zeros, w(), ones.copy(), zeros.copy()]


def lenet_params(rng):
    s = lambda *shape: (rng.standard_normal(shape) * 0.1).astype("float32")  # noqa: E731
    return [s(20, 1, 5, 5), np.zeros(20, "float32"), s(50, 20, 5, 5), np.zeros(50, "float32"),
            s(800, 500), np.zeros(500, "float32"), s(500, 10), np.zeros(10, "float32")]


# ---- tensord ----

def _loss_of(f):
    """A step returning f's loss as a float; the compiled function stays reachable (.function)."""
    def step():
        return float(f())
    step.function = f
    return step


def tensord_resnet(x, params):
    import tensord as theano
    import tensord.tensor as T
    from tensord.tensor.nnet import bn, conv2d
    xs = theano.shared(x)
    ps = [theano.shared(p.copy()) for p in params]
    w1, g1, b1, w2, g2, b2 = ps
    conv = lambda h, w: conv2d(h, w, border_mode="half", filter_flip=False)  # noqa: E731
    h = T.nnet.relu(bn.batch_normalization_train(conv(xs, w1), g1, b1, "spatial", 1e-5)[0])
    h = bn.batch_normalization_train(conv(h, w2), g2, b2, "spatial", 1e-5)[0]
    loss = T.mean(T.nnet.relu(h + xs) ** 2)
    grads = T.grad(loss, ps)
    f = theano.function([], loss, updates=[(p, p - LR * g) for p, g in zip(ps, grads)])
    return _loss_of(f)


def tensord_lenet(x, y, params):
    import tensord as theano
    import tensord.tensor as T
    from tensord.tensor.nnet import conv2d
    from tensord.tensor.signal.pool import pool_2d
    xs, ys = theano.shared(x), theano.shared(y)
    ps = [theano.shared(p.copy()) for p in params]
    w1, b1, w2, b2, w3, b3, w4, b4 = ps
    h = xs
    for w, b in ((w1, b1), (w2, b2)):
        h = T.tanh(pool_2d(conv2d(h, w, filter_flip=False), (2, 2), ignore_border=True)
                   + b.dimshuffle("x", 0, "x", "x"))
    h = T.tanh(T.dot(h.flatten(2), w3) + b3)
    p = T.nnet.softmax(T.dot(h, w4) + b4)
    loss = -T.mean(T.log(p)[T.arange(ys.shape[0]), ys])
    grads = T.grad(loss, ps)
    f = theano.function([], loss, updates=[(q, q - LR * g) for q, g in zip(ps, grads)])
    return _loss_of(f)


# ---- PyTorch eager ----

def _torch_step(loss_fn, params):
    """A training step: loss_fn(*params) on tensors that require gradients, then SGD."""
    import torch
    ps = [torch.tensor(p, requires_grad=True) for p in params]

    def step():
        loss = loss_fn(*ps)
        grads = torch.autograd.grad(loss, ps)
        with torch.no_grad():
            for p, g in zip(ps, grads):
                p -= LR * g
        return float(loss.detach())
    return step


def torch_resnet(x, params):
    import torch
    import torch.nn.functional as F
    xt = torch.from_numpy(x)

    def loss(w1, g1, b1, w2, g2, b2):
        h = F.relu(F.batch_norm(F.conv2d(xt, w1, padding=1), None, None, g1, b1, True, 0.1, 1e-5))
        h = F.batch_norm(F.conv2d(h, w2, padding=1), None, None, g2, b2, True, 0.1, 1e-5)
        return (F.relu(h + xt) ** 2).mean()
    return _torch_step(loss, params)


def torch_lenet(x, y, params):
    import torch
    import torch.nn.functional as F
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype("int64"))

    def loss(w1, b1, w2, b2, w3, b3, w4, b4):
        h = xt
        for w, b in ((w1, b1), (w2, b2)):
            h = torch.tanh(F.max_pool2d(F.conv2d(h, w), 2) + b[None, :, None, None])
        h = torch.tanh(h.flatten(1) @ w3 + b3)
        return F.cross_entropy(h @ w4 + b4, yt)
    return _torch_step(loss, params)


# ---- JAX jit ----

def _jax_conv(h, w, pad):
    from jax import lax
    return lax.conv_general_dilated(h, w, (1, 1), [(pad, pad), (pad, pad)],
                                    dimension_numbers=("NCHW", "OIHW", "NCHW"))


def _jax_step(loss_fn, params):
    import jax
    grad_fn = jax.jit(jax.value_and_grad(loss_fn))
    state = {"params": [jax.numpy.asarray(p) for p in params]}

    @jax.jit
    def update(ps, gs):
        return [p - LR * g for p, g in zip(ps, gs)]

    def step():
        loss, grads = grad_fn(state["params"])
        state["params"] = update(state["params"], grads)
        return float(loss)
    return step


def jax_resnet(x, params):
    import jax.numpy as jnp
    xj = jnp.asarray(x)

    def bn(h, g, b):
        mean = h.mean(axis=(0, 2, 3), keepdims=True)
        var = h.var(axis=(0, 2, 3), keepdims=True)
        return (h - mean) / jnp.sqrt(var + 1e-5) * g[None, :, None, None] + b[None, :, None, None]

    def loss_fn(ps):
        w1, g1, b1, w2, g2, b2 = ps
        h = jnp.maximum(bn(_jax_conv(xj, w1, 1), g1, b1), 0)
        h = bn(_jax_conv(h, w2, 1), g2, b2)
        return jnp.mean(jnp.maximum(h + xj, 0) ** 2)
    return _jax_step(loss_fn, params)


def jax_lenet(x, y, params):
    import jax
    import jax.numpy as jnp
    from jax import lax
    xj, yj = jnp.asarray(x), jnp.asarray(y)

    def loss_fn(ps):
        w1, b1, w2, b2, w3, b3, w4, b4 = ps
        h = xj
        for w, b in ((w1, b1), (w2, b2)):
            pooled = lax.reduce_window(_jax_conv(h, w, 0), -jnp.inf, lax.max, (1, 1, 2, 2),
                                       (1, 1, 2, 2), "VALID")
            h = jnp.tanh(pooled + b[None, :, None, None])
        h = jnp.tanh(h.reshape(h.shape[0], -1) @ w3 + b3)
        logp = jax.nn.log_softmax(h @ w4 + b4)
        return -jnp.mean(logp[jnp.arange(yj.shape[0]), yj])
    return _jax_step(loss_fn, params)


def available(builders, *args):
    impls = {}
    for name, build in builders.items():
        try:
            impls[name] = build(*args)
        except ImportError:
            pass
    return impls


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repeat")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    batch, channels, size = (2, 4, 8) if args.smoke else (32, 64, 56)
    lenet_batch = 8 if args.smoke else 500
    repeats = 1 if args.smoke else args.repeats
    x = rng.standard_normal((batch, channels, size, size)).astype("float32")
    images = rng.uniform(0, 1, (lenet_batch, 1, 28, 28)).astype("float32")
    labels = rng.integers(0, 10, lenet_batch).astype("int32")
    cases = {
        "resnet_block_train_step_%dx%dx%dx%d" % x.shape: available(
            {"tensord": tensord_resnet, "torch": torch_resnet, "jax": jax_resnet},
            x, resnet_params(rng, channels)),
        "lenet_train_step_batch%d" % lenet_batch: available(
            {"tensord": tensord_lenet, "torch": torch_lenet, "jax": jax_lenet},
            images, labels, lenet_params(rng)),
    }
    from tensord.connection import server_info
    for name, impls in cases.items():
        ms = measure(impls, repeats, reference="tensord", rtol=1e-3, settle=0 if args.smoke else 0.2)
        print(json.dumps({"case": name, "median_ms": {k: round(v, 2) for k, v in ms.items()},
                          "tensord_speedup": {k: round(v / ms["tensord"], 2)
                                              for k, v in ms.items() if k != "tensord"},
                          "repeats": repeats, "cpus": os.cpu_count(),
                          "server": server_info().version}), flush=True)


if __name__ == "__main__":
    main()
