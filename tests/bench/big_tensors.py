"""The big-tensor case of peers.py (issue 14, item 6): `x + 1` on 64 MiB of float32 with the
input sent and the result returned, in messages (protobuf bytes) and through shared memory
(config.shared_memory), alternated call by call; NumPy computing the same in process shows
what the transfer costs on top of the work.
"""

import statistics
import time

import numpy as np


def implementations(elements):
    """name -> zero-argument callable returning the result array."""
    import tensord as theano
    import tensord.tensor as T
    from tensord.config import config
    x = T.vector("x", dtype="float32")
    fn = theano.function([x], x + 1)
    value = np.random.default_rng(0).standard_normal(elements).astype("float32")

    def through_shared_memory():
        config.shared_memory = True
        try:
            return fn(value)
        finally:
            config.shared_memory = False
    return {"tensord_protobuf": lambda: fn(value), "tensord_shared_memory": through_shared_memory,
            "numpy": lambda: value + 1}, value + 1


def case_line(elements, repeats):
    """Medians over `repeats` rounds (one call of each per round, after two warm-up calls: the
    first call through shared memory learns the output's size), each result checked."""
    impls, expected = implementations(elements)
    times = {k: [] for k in impls}
    for f in impls.values():
        for _ in range(2):
            np.testing.assert_array_equal(f(), expected)
    for _ in range(repeats):
        for k, f in impls.items():
            start = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - start)
    ms = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    moved = 2 * expected.nbytes  # in and out
    return {"case": "big_tensor_x_plus_1_%dMiB_f32" % (expected.nbytes >> 20)
            if expected.nbytes >= 1 << 20 else "big_tensor_x_plus_1_%dKiB_f32"
            % (expected.nbytes >> 10),
            "median_ms": {k: round(v, 2) for k, v in ms.items()},
            "gb_per_s": {k: round(moved / v / 1e6, 2) for k, v in ms.items() if "tensord" in k},
            "shared_memory_speedup": round(ms["tensord_protobuf"] / ms["tensord_shared_memory"],
                                           2),
            "repeats": repeats}
