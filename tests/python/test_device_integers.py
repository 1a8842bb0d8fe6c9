"""Integer bookkeeping where the data lives (device_runs.py: simulated devices, and the CUDA
provider's kernels emulated on the CPU): a classifier's count of correct predictions among the
kept rows (argmax compared with int32 labels, times a bool mask, summed into int64), each kept
row's rank among them (the mask's cumsum), and all and any of bool values, compiled for dev0
without cpu_fallback, so placement refuses any of them the device cannot run. The host's
numbers, and nothing but the results moves."""

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

    rng = np.random.RandomState(3)
    scores_np = rng.randn(200, 10).astype('float32')
    labels_np = rng.randint(0, 10, 200).astype('int32')
    keep_np = rng.rand(200) < 0.7
    results = {}
    for where in ('dev0', 'cpu'):
        theano.config.device = where
        scores, labels, keep = (theano.shared(scores_np), theano.shared(labels_np),
                                theano.shared(keep_np))
        hits = T.eq(T.argmax(scores, axis=1), labels)
        correct = T.sum(hits * keep)            # bool and, summed into int64
        rank = T.cumsum(keep) * keep - 1        # int64 arithmetic
        f = theano.function([], [correct, T.max(rank), T.all(labels >= 0), T.any(hits)])
        before = moved()
        out = [f() for _ in range(2)]
        after = moved()
        results[where] = {'out': [[int(v) for v in o] for o in out],
                          'moved': [a - b for a, b in zip(after, before)]}
    hits = scores_np.argmax(1) == labels_np
    results['numpy'] = [int((hits & keep_np).sum()), int(keep_np.sum()) - 1,
                        int((labels_np >= 0).all()), int(hits.any())]
    print(json.dumps(results))
""")


def test_integer_counts_ranks_and_truths_run_where_the_data_lives(memory):
    results = json.loads(run(SCRIPT, "device=sim0,contexts=dev0->sim0,floatX=float32", memory))
    assert results["dev0"]["out"] == [results["numpy"]] * 2
    assert results["cpu"]["out"] == [results["numpy"]] * 2
    # Nothing goes up; per call the two int64s and two bools come down.
    assert results["dev0"]["moved"] == [0, 2 * (8 + 8 + 1 + 1)], results["dev0"]["moved"]
