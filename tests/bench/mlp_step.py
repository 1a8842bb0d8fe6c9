"""The MLP training step of peers.py (issue 14, item 4): 784-512-512-10 with tanh hidden layers,
softmax cross-entropy over integer labels (the batch's mean), one SGD step (learning rate 0.01)
on all six parameters; batch 256, float32. Every implementation starts from the same weights and
returns the step's loss, so the first calls agree; tensord holds the batch and the parameters as
shared variables (nothing crosses the wire but the loss).
"""

import numpy as np

SIZES = (784, 512, 512, 10)
LEARNING_RATE = np.float32(0.01)


def initial(batch, scale=1):
    """(x, labels, [W1, b1, W2, b2, W3, b3]) for a batch, sizes divided by `scale`."""
    sizes = [SIZES[0] // scale, SIZES[1] // scale, SIZES[2] // scale, SIZES[3]]
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 1, (batch, sizes[0])).astype("float32")
    labels = rng.integers(0, sizes[-1], batch).astype("int64")
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params.append(rng.uniform(-1, 1, (fan_in, fan_out)).astype("float32")
                      / np.float32(np.sqrt(fan_in)))
        params.append(np.zeros(fan_out, dtype="float32"))
    return x, labels, params


def tensord_step(x, labels, params):
    """The compiled step (a tensord Function returning the loss)."""
    import tensord as theano
    import tensord.tensor as T
    xs, ys = theano.shared(x, name="x"), theano.shared(labels, name="y")
    ps = [theano.shared(p.copy()) for p in params]
    h = xs
    for i in range(0, 4, 2):
        h = T.tanh(T.dot(h, ps[i]) + ps[i + 1])
    probs = T.nnet.softmax(T.dot(h, ps[4]) + ps[5])
    loss = T.nnet.categorical_crossentropy(probs, ys).mean()
    grads = T.grad(loss, ps)
    return theano.function([], loss, updates=[(p, p - LEARNING_RATE * g)
                                               for p, g in zip(ps, grads)])


def numpy_step(x, labels, params):
    ps = [p.copy() for p in params]
    rows = np.arange(len(labels))

    def step():
        w1, b1, w2, b2, w3, b3 = ps
        h1 = np.tanh(x @ w1 + b1)
        h2 = np.tanh(h1 @ w2 + b2)
        logits = h2 @ w3 + b3
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        probs = e / e.sum(axis=1, keepdims=True)
        loss = -np.log(probs[rows, labels]).mean()
        d3 = probs
        d3[rows, labels] -= 1
        d3 /= len(labels)
        d2 = (d3 @ w3.T) * (1 - h2 * h2)
        d1 = (d2 @ w2.T) * (1 - h1 * h1)
        grads = [x.T @ d1, d1.sum(0), h1.T @ d2, d2.sum(0), h2.T @ d3, d3.sum(0)]
        for p, g in zip(ps, grads):
            p -= LEARNING_RATE * g
        return float(loss)
    return step


def torch_step(x, labels, params, device="cpu"):
    """PyTorch eager's step (autograd, in-place SGD), the batch and parameters on `device`
    (tests/cuda/mlp_step_torch.py runs it on a GPU); the loss read back ends each step."""
    import torch
    dev = torch.device(device)
    tp = [torch.from_numpy(p.copy()).to(dev).requires_grad_() for p in params]
    xt, yt = torch.from_numpy(x).to(dev), torch.from_numpy(labels).to(dev)

    def step():
        h = xt
        for i in range(0, 4, 2):
            h = torch.tanh(h @ tp[i] + tp[i + 1])
        loss = torch.nn.functional.cross_entropy(h @ tp[4] + tp[5], yt)
        grads = torch.autograd.grad(loss, tp)
        with torch.no_grad():
            for p, g in zip(tp, grads):
                p.sub_(g, alpha=float(LEARNING_RATE))
        return float(loss.detach())
    return step


def peers(impls, x, labels, params):
    """Adds JAX (jit of value_and_grad, parameters donated), PyTorch (eager autograd, in-place
    SGD) and PyTensor (one function with updates) where installed."""
    try:
        import jax
        import jax.numpy as jnp

        def loss_fn(ps, xb, yb):
            h = xb
            for i in range(0, 4, 2):
                h = jnp.tanh(h @ ps[i] + ps[i + 1])
            logp = jax.nn.log_softmax(h @ ps[4] + ps[5])
            return -jnp.take_along_axis(logp, yb[:, None], axis=1).mean()

        @jax.jit
        def jax_update(ps, xb, yb):
            loss, grads = jax.value_and_grad(loss_fn)(ps, xb, yb)
            return loss, [p - LEARNING_RATE * g for p, g in zip(ps, grads)]
        state = [[jnp.asarray(p) for p in params]]
        xj, yj = jnp.asarray(x), jnp.asarray(labels.astype("int32"))

        def jax_step():
            loss, state[0] = jax_update(state[0], xj, yj)
            return float(loss)
        impls["jax"] = jax_step
    except ImportError:
        pass
    try:
        impls["torch"] = torch_step(x, labels, params)
    except ImportError:
        pass
    try:
        import pytensor
        import pytensor.tensor as pt
        xs, ys = pytensor.shared(x), pytensor.shared(labels)
        ps = [pytensor.shared(p.copy()) for p in params]
        h = xs
        for i in range(0, 4, 2):
            h = pt.tanh(pt.dot(h, ps[i]) + ps[i + 1])
        probs = pt.special.softmax(pt.dot(h, ps[4]) + ps[5], axis=-1)
        loss = -pt.log(probs[pt.arange(ys.shape[0]), ys]).mean()
        grads = pytensor.grad(loss, ps)
        fp = pytensor.function([], loss, updates=[(p, p - LEARNING_RATE * g)
                                                   for p, g in zip(ps, grads)])
        impls["pytensor"] = lambda: float(fp())
    except ImportError:
        pass


def cases(scale, timed):
    """name -> {implementation: zero-argument callable returning the step's loss}; `timed` wraps
    tensord's Function (peers.py's ServerTimed)."""
    batch = max(1, 256 // scale)
    x, labels, params = initial(batch, scale)
    impls = {"tensord": timed(tensord_step(x, labels, params)),
             "numpy": numpy_step(x, labels, params)}
    peers(impls, x, labels, params)
    name = "mlp_step_%s_b%d_f32" % ("x".join(str(p.shape[0]) for p in params[::2])
                                     + "x%d" % params[-1].shape[0], batch)
    return {name: impls}
