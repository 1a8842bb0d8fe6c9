"""Categorical draws where the probabilities live (device_runs.py: simulated devices, and the
CUDA provider's kernels emulated on the CPU): a model's next-token distributions held on dev0
are sampled as one-hot counts (``multinomial``), as three distinct tokens per row (``choice``
without replacement), as binomial counts of per-element p (``binomial``) and as counts of a
number of trials per row (``multinomial`` in numpy's form), and minibatch orders drawn
(``permutation``), compiled for dev0
without cpu_fallback, so placement refuses any draw the device cannot make. The host's numbers
from the same seeds, and the probabilities never leave the device."""

import json
import textwrap

from device_runs import memory, run  # noqa: F401 (memory is a fixture)

SCRIPT = textwrap.dedent("""
    import json
    import numpy as np
    import tensord as theano
    from tensord.connection import server_info
    from tensord.sandbox.rng_mrg import MRG_RandomStreams
    from tensord.tensor.shared_randomstreams import RandomStreams

    def moved():
        c = next(c for c in server_info().contexts if c.name == 'dev0')
        return c.transferred_host_to_device_bytes, c.transferred_device_to_host_bytes

    rng = np.random.RandomState(9)
    weights = rng.rand(5, 20) ** 3
    probs_np = (weights / weights.sum(1, keepdims=True)).astype('float32')
    results = {}
    for where in ('dev0', 'cpu'):
        theano.config.device = where
        probs = theano.shared(probs_np)
        srng = MRG_RandomStreams(seed=77)
        one_hot = srng.multinomial(pvals=probs, dtype='float32', nstreams=4)
        tokens = srng.choice(size=3, p=probs, replace=False, nstreams=3)
        orders = srng.permutation(size=(2,), n=6, dtype='int32', nstreams=2)
        pairs = srng.binomial(size=(5, 20), n=2, p=probs, dtype='int8', nstreams=6)
        # numpy's form: a number of trials per row (the host's walk skips rows of fewer).
        counts = RandomStreams(seed=3).multinomial(n=np.array([2, 0, 5, 1, 3]), pvals=probs,
                                                  dtype='int32')
        f = theano.function([], [one_hot, tokens, orders, pairs, counts])
        before = moved()
        draws = [[o.tolist() for o in f()] for _ in range(2)]
        after = moved()
        results[where] = {'draws': draws, 'moved': [a - b for a, b in zip(after, before)]}
    print(json.dumps(results))
""")


def test_categorical_draws_happen_where_the_probabilities_live(memory):
    import numpy as np
    results = json.loads(run(SCRIPT, "device=sim0,contexts=dev0->sim0,floatX=float32", memory))
    assert results["dev0"]["draws"] == results["cpu"]["draws"]
    calls = [[np.array(o) for o in call] for call in results["dev0"]["draws"]]
    assert not all((a == b).all() for a, b in zip(*calls)), "the second call drew afresh"
    for one_hot, tokens, orders, pairs, counts in calls:
        assert one_hot.shape == (5, 20) and (one_hot.sum(1) == 1).all()
        assert tokens.shape == (5, 3) and all(len(set(row)) == 3 for row in tokens)
        assert orders.shape == (2, 6) and (np.sort(orders, 1) == np.arange(6)).all()
        assert pairs.shape == (5, 20) and pairs.min() >= 0 and pairs.max() <= 2
        assert (counts.sum(1) == [2, 0, 5, 1, 3]).all()
    # Nothing goes up (the states and the probabilities live on dev0, the sizes and the
    # binomial's n were moved there once), per call the five samples come down.
    down = 5 * 20 * 4 + 5 * 3 * 8 + 2 * 6 * 4 + 5 * 20 + 5 * 20 * 4
    assert results["dev0"]["moved"] == [0, 2 * down], results
