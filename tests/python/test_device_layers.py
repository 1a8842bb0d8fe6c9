"""Deep-learning layers where their parameters live (device_runs.py: simulated devices, and the
CUDA provider's kernels emulated on the CPU), with the training data held there too: the LeNet
example's SGD step (conv2d, max pooling, tanh, softmax cross-entropy and their gradients) and
its validation error (argmax compared with int32 labels, averaged), and a dense layer with batch
normalization and dropout (RandomStreams.binomial), give the host's costs, errors and parameters,
and only scalars move. Image patches (images2neibs) and their gradient (neibs2images) on a device
match NumPy loops."""

import json
import os
import textwrap

import numpy

from device_runs import memory, run  # noqa: F401 (memory is a fixture)

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients",
                        "python", "examples")

LENET = textwrap.dedent("""
    import json
    import sys
    import numpy as np
    import tensord as theano
    from tensord.connection import server_info
    sys.path.insert(0, EXAMPLES)
    import lenet
    import synthetic_digits

    def moved():
        c = next(c for c in server_info().contexts if c.name == 'dev0')
        return c.transferred_host_to_device_bytes, c.transferred_device_to_host_bytes

    results = {}
    for where in ('dev0', 'cpu'):  # the same model, data and seed, held on each
        theano.config.device = where
        data = [synthetic_digits.make(n, seed) for n, seed in ((60, 1), (40, 2))]
        train, valid = [(theano.shared(x), theano.shared(y)) for x, y in data]
        model = lenet.LeNet(np.random.RandomState(1), (4, 6), 20)
        step, validate = lenet.build(model, train, valid, 20, 0.1)
        before = moved()
        costs = [float(step(i)) for i in range(3)]
        errors = [float(validate(i)) for i in range(2)]
        after = moved()
        results[where] = {'costs': costs, 'errors': errors,
                          'moved': [a - b for a, b in zip(after, before)],
                          'contexts': sorted({p.context for p in model.params})}
        params = [p.get_value() for p in model.params]
        results[where]['params'] = params
    print(json.dumps({w: {k: v for k, v in r.items() if k != 'params'}
                      for w, r in results.items()}))
    print(max(float(np.abs(a - b).max())
              for a, b in zip(results['dev0']['params'], results['cpu']['params'])))
""")


def test_lenet_trains_and_validates_where_its_parameters_and_data_live(memory):
    out = run(LENET.replace("EXAMPLES", repr(EXAMPLES)),
              "device=sim0,contexts=dev0->sim0,floatX=float32", memory)
    lines = out.splitlines()
    results = json.loads(lines[0])
    on_device, on_host = results["dev0"], results["cpu"]
    assert on_device["contexts"] == ["dev0"] and on_host["contexts"] == ["cpu"], out
    numpy.testing.assert_allclose(on_device["costs"], on_host["costs"], rtol=1e-5)
    assert on_device["errors"] == on_host["errors"], out
    assert float(lines[1]) < 1e-6, out
    # No minibatch moves (one is 20 x 784 float32s, 62,720 bytes): only scalars, a few per call.
    # On the CUDA provider exactly these: per SGD step one int64 goes up (the batch size the
    # mean divides by, a shape read on the host) and the float32 cost comes down; a validation
    # moves only its float64 error down (the index selects the minibatch on the host side of
    # the device's views). Simulated devices run the host's kernels, shape arithmetic included,
    # and move a few more scalars.
    up, down = on_device["moved"]
    if memory == "emulated":
        assert (up, down) == (3 * 8, 3 * 4 + 2 * 8), out
    assert up <= 5 * 48 and down <= 5 * 48, out


BATCH_NORM = textwrap.dedent("""
    import json
    import numpy as np
    import tensord as theano
    import tensord.tensor as T
    from tensord.tensor.nnet import bn
    from tensord.tensor.shared_randomstreams import RandomStreams
    from tensord.connection import server_info

    def moved():
        c = next(c for c in server_info().contexts if c.name == 'dev0')
        return c.transferred_host_to_device_bytes, c.transferred_device_to_host_bytes

    results = {}
    for where in ('dev0', 'cpu'):
        theano.config.device = where
        rng = np.random.RandomState(3)
        data = theano.shared(rng.normal(2, 3, size=(64, 12)).astype('float32'))
        labels = theano.shared(rng.randint(0, 4, size=64).astype('int32'))
        w = theano.shared(rng.normal(0, 0.3, size=(12, 16)).astype('float32'))
        gamma = theano.shared(np.ones((1, 16), 'float32'), broadcastable=(True, False))
        beta = theano.shared(np.zeros((1, 16), 'float32'), broadcastable=(True, False))
        w_out = theano.shared(rng.normal(0, 0.3, size=(16, 4)).astype('float32'))
        params = [w, gamma, beta, w_out]
        i = T.lscalar('i')
        x, y = data[i * 16:(i + 1) * 16], labels[i * 16:(i + 1) * 16]
        h = T.nnet.relu(bn.batch_normalization_train(T.dot(x, w), gamma, beta, axes=(0,))[0])
        mask = RandomStreams(7).binomial(size=h.shape, p=0.5, dtype='float32')  # dropout
        p = T.nnet.softmax(T.dot(h * mask, w_out))
        cost = T.nnet.categorical_crossentropy(p, y).mean()
        grads = T.grad(cost, params)
        step = theano.function([i], cost, updates=[(v, v - 0.1 * g) for v, g in zip(params, grads)])
        before = moved()
        costs = [float(step(k)) for k in range(4)]
        results[where] = {'costs': costs, 'moved': [a - b for a, b in zip(moved(), before)],
                          'params': [v.get_value().tolist() for v in params]}
    print(json.dumps(results))
""")


def test_a_dense_layer_with_batch_normalization_and_dropout_trains_where_it_lives(memory):
    results = json.loads(run(BATCH_NORM, "device=sim0,contexts=dev0->sim0,floatX=float32",
                             memory))
    on_device, on_host = results["dev0"], results["cpu"]
    numpy.testing.assert_allclose(on_device["costs"], on_host["costs"], rtol=1e-5)
    for got, want in zip(on_device["params"], on_host["params"]):
        numpy.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # Four steps: no minibatch moves (16 x 12 float32s), no dropout mask (the generator's state
    # lives on dev0, its n and p and the mask's size are read on the host); on the CUDA provider
    # exactly one int64 (a shape the mean divides by) up and the float32 cost down per step.
    up, down = on_device["moved"]
    if memory == "emulated":
        assert (up, down) == (4 * 8, 4 * 4), on_device["moved"]
    assert up <= 4 * 48 and down <= 4 * 48, on_device["moved"]


PATCHES = textwrap.dedent("""
    import json
    import numpy as np
    import tensord as theano
    import tensord.tensor as T
    from tensord.tensor.nnet.neighbours import images2neibs
    rng = np.random.RandomState(0)
    values = rng.rand(2, 3, 7, 4).astype('float32')
    images = theano.shared(values, target='dev0')
    w = theano.shared(rng.rand(6).astype('float32'), target='dev0')
    # Overlapping 3x2 patches, every row and every other column.
    neibs = images2neibs(images, (3, 2), (1, 2), mode='ignore_borders')
    cost = (T.dot(neibs, w) ** 2).sum()  # a matrix-vector product
    # The gradient sums each patch's share back into the images: neibs2images.
    f = theano.function([], [neibs.transfer('cpu'), T.grad(cost, images).transfer('cpu')])
    got_neibs, got_grad = f()
    print(json.dumps({'values': values.tolist(), 'w': w.get_value().tolist(),
                      'neibs': np.asarray(got_neibs).tolist(),
                      'grad': np.asarray(got_grad).tolist()}))
""")


def test_image_patches_and_their_gradient_on_a_device(memory):
    out = json.loads(run(PATCHES, "device=sim0,contexts=dev0->sim0,floatX=float32", memory))
    values, w = numpy.array(out["values"], "float64"), numpy.array(out["w"], "float64")
    # NumPy loops: the patches in Theano's order (image, channel, patch row, patch column).
    rows = []
    for n in range(2):
        for c in range(3):
            for r in range(7 - 3 + 1):
                for col in range(0, 4 - 2 + 1, 2):
                    rows.append(values[n, c, r:r + 3, col:col + 2].ravel())
    neibs = numpy.array(rows)
    numpy.testing.assert_allclose(out["neibs"], neibs, rtol=1e-6)
    share = (2 * neibs.dot(w))[:, None] * w[None, :]  # d cost / d neibs
    grad = numpy.zeros_like(values)
    k = 0
    for n in range(2):
        for c in range(3):
            for r in range(7 - 3 + 1):
                for col in range(0, 4 - 2 + 1, 2):
                    grad[n, c, r:r + 3, col:col + 2] += share[k].reshape(3, 2)
                    k += 1
    numpy.testing.assert_allclose(out["grad"], grad, rtol=1e-5)
