"""Advanced indexing where the data lives (device_runs.py: simulated devices, and the CUDA
provider's kernels emulated on the CPU): a dataset held on dev0 is read by shuffled minibatches
(``X[idx]`` and the int32 labels ``Y[idx]``), trained on with a softmax regression, and its
positive entries are picked by a mask (``W[W > 0]``, with its gradient) and its columns by an
index beside a slice (``X[10:20, cols]``). Compiled for dev0 without cpu_fallback, so placement
refuses any node the device cannot run; the host's numbers (NumPy's), and only the
minibatch's indices go up."""

import json
import textwrap

from device_runs import memory, run  # noqa: F401 (memory is a fixture)

SCRIPT = textwrap.dedent("""
    import json
    import numpy as np
    import tensord as theano
    import tensord.tensor as T
    from tensord.connection import server_info

    def moved():
        c = next(c for c in server_info().contexts if c.name == 'dev0')
        return c.transferred_host_to_device_bytes, c.transferred_device_to_host_bytes

    rng = np.random.RandomState(5)
    X_np = rng.randn(300, 8).astype('float32')
    Y_np = rng.randint(0, 4, 300).astype('int32')
    W_np = (0.1 * rng.randn(8, 4)).astype('float32')
    batches = [rng.permutation(300)[:32].astype('int64') for _ in range(3)]
    results = {}
    for where in ('dev0', 'cpu'):
        theano.config.device = where
        X, Y, W = theano.shared(X_np), theano.shared(Y_np), theano.shared(W_np)
        idx = T.lvector('idx')
        x, y = X[idx], Y[idx]
        p = T.nnet.softmax(T.dot(x, W))
        loss = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
        # An L1 penalty on the positive weights only, through a mask and its gradient.
        positive = T.sum(W[W > 0])
        g = T.grad(loss + 0.01 * positive, W)
        train = theano.function([idx], loss, updates=[(W, W - 0.5 * g)])
        cols = T.lvector('cols')
        picked = theano.function([cols], [T.sum(X[10:20, cols]), positive, T.sum(Y[Y > 1])])
        before = moved()
        losses = [float(train(b)) for b in batches]
        picks = [float(v) for v in picked(np.array([7, 0, 7], dtype='int64'))]
        after = moved()
        results[where] = {'losses': losses, 'picks': picks, 'W': W.get_value().tolist(),
                          'moved': [a - b for a, b in zip(after, before)]}
    print(json.dumps(results))
""")


def _numpy_reference():
    import numpy as np
    rng = np.random.RandomState(5)
    X = rng.randn(300, 8).astype('float32')
    Y = rng.randint(0, 4, 300).astype('int32')
    W = (0.1 * rng.randn(8, 4)).astype('float32')
    batches = [rng.permutation(300)[:32].astype('int64') for _ in range(3)]
    losses = []
    for b in batches:
        x, y = X[b], Y[b]
        z = x @ W
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        losses.append(float(-np.mean(np.log(p[np.arange(32), y]))))
        d = p.copy()
        d[np.arange(32), y] -= 1
        g = x.T @ d / 32 + 0.01 * (W > 0)
        W = W - 0.5 * g
    picks = [float(X[10:20, [7, 0, 7]].sum()), float(W[W > 0].sum()), float(Y[Y > 1].sum())]
    return losses, picks, W


def test_minibatches_masks_and_columns_index_where_the_data_lives(memory):
    import numpy as np
    results = json.loads(run(SCRIPT, "device=sim0,contexts=dev0->sim0,floatX=float32", memory))
    losses, picks, W = _numpy_reference()
    for where in ("dev0", "cpu"):
        np.testing.assert_allclose(results[where]["losses"], losses, rtol=1e-5, err_msg=where)
        np.testing.assert_allclose(results[where]["picks"], picks, rtol=1e-5, err_msg=where)
        np.testing.assert_allclose(results[where]["W"], W, rtol=1e-5, atol=1e-6, err_msg=where)
    # Up: each step's 32 int64 indices and the batch's length (a shape, read on the host, which
    # the mean's gradient divides by), then the 3 columns. Down: a loss per step, then the three
    # sums (two float32 and an int64).
    assert results["dev0"]["moved"][0] == 3 * (32 * 8 + 8) + 3 * 8, results["dev0"]["moved"]
    assert results["dev0"]["moved"][1] == 3 * 4 + 4 + 4 + 8, results["dev0"]["moved"]
