"""The small-call case of peers.py (issue 14, item 5): `x + 1` on 10 float32, the input sent and
the result returned over the wire, against a bare grpcio unary call to the same server (gRPC's
health check: no handler work, empty messages), interleaved call by call so that load changes
hit both alike; then the peers computing the same thing in process.
"""

import statistics
import time

import numpy as np


def implementations():
    """name -> zero-argument callable; "grpc_health" is the bare unary call."""
    import tensord as theano
    import tensord.tensor as T
    from tensord.connection import get_client
    x = T.vector("x", dtype="float32")
    fn = theano.function([x], x + 1)
    value = np.arange(10, dtype="float32")
    check = get_client().channel.unary_unary("/grpc.health.v1.Health/Check")
    impls = {"tensord": lambda: fn(value), "grpc_health": lambda: check(b""),
             "numpy": lambda: value + 1}
    try:
        import jax
        import jax.numpy as jnp
        fj, vj = jax.jit(lambda v: v + 1), jnp.asarray(value)
        impls["jax"] = lambda: fj(vj).block_until_ready()
    except ImportError:
        pass
    try:
        import torch
        vt = torch.from_numpy(value)
        impls["torch"] = lambda: vt + 1
    except ImportError:
        pass
    try:
        import pytensor
        import pytensor.tensor as pt
        xp = pt.vector("x", dtype="float32")
        fp = pytensor.function([xp], xp + 1)
        impls["pytensor"] = lambda: fp(value)
    except ImportError:
        pass
    return impls


def measure(impls, calls):
    """Median microseconds per implementation over `calls` rounds, one call of each per round."""
    for f in impls.values():  # warm up: connections, jit, first-call caches
        for _ in range(min(calls, 200)):
            f()
    times = {k: [] for k in impls}
    for _ in range(calls):
        for k, f in impls.items():
            start = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - start)
    return {k: statistics.median(v) * 1e6 for k, v in times.items()}


def case_line(calls, keep=None):
    """The JSON-ready result: medians, and tensord's margin over the bare call (the target).
    tensord and the bare call alternate by themselves; the in-process peers run after them, also
    alternating (a peer's call between two of tensord's evicts the client's code and data from
    the caches: with JAX, PyTorch and PyTensor in between, the margin grows by about 30 us).
    `keep`: the implementations to run (default: every one available)."""
    impls = {k: f for k, f in implementations().items() if keep is None or k in keep}
    pair = ("tensord", "grpc_health")
    us = measure({k: impls[k] for k in pair}, calls)
    us.update(measure({k: f for k, f in impls.items() if k not in pair}, calls))
    return {"case": "small_call_x_plus_1_10_f32", "median_us": {k: round(v, 1)
                                                                 for k, v in us.items()},
            "tensord_minus_grpc_health_us": round(us["tensord"] - us["grpc_health"], 1),
            "calls": calls}
