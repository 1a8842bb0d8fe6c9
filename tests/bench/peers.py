"""tensord side by side with NumPy, JAX, PyTorch and PyTensor on the same machine, in one run
(issue 14; docs/performance.md). Each case runs every available implementation interleaved,
15 times by default, and prints one JSON line: the median milliseconds per implementation and
tensord's ratio to each peer. Not a test: CI runs `--smoke` (tiny sizes, tensord and NumPy
only) to check that it works.

    TENSORD_SERVER_BIN=build/default/server/tensord \\
        clients/python/.venv/bin/python tests/bench/peers.py [--install] [--repeats 15]

`--install` creates build/peers-venv with the peers from PyPI (numpy, jax[cpu], pytensor; torch
with --torch: PyPI's wheel is large) and reruns this script in it, with the tensord client on
its path. Peers not installed are skipped. tensord's operands are shared variables, so no
tensor crosses the wire (the server-side time plus one small round trip is what is measured).
The small-call case (small_call.py) is the exception: its input and result cross the wire, and
it is measured in microseconds against a bare gRPC call to the same server. So is the big-tensor
case (big_tensors.py): 64 MiB in and out, in messages and through shared memory.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

import big_tensors  # these are this directory's: the script's own directory is on sys.path
import mlp_step
import small_call

SMALL_CALL = "small_call_x_plus_1_10_f32"
BIG_TENSOR = "big_tensor_x_plus_1"

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VENV = os.path.join(ROOT, "build", "peers-venv")
COEFFS = [np.float32(c) for c in (1.01, 0.02, 0.99, 0.03, 1.02, -0.01, 0.5)]


def install(with_torch):
    if not os.path.exists(os.path.join(VENV, "bin", "python")):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    pkgs = ["numpy", "jax[cpu]", "pytensor", "grpcio", "protobuf"] + (["torch"] if with_torch else [])
    subprocess.run([os.path.join(VENV, "bin", "pip"), "install", "-q", "--upgrade"] + pkgs,
                   check=True)


def chain_numpy(x):
    a, b, c, d, e, f, g = COEFFS
    return float(np.tanh((((x * a + b) * c - d) * e + f) * g).sum())


def transcendental(name):
    """(tensord builder, NumPy function) of one vectorized function."""
    import tensord.tensor as T
    sigmoid_np = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    return {"exp": (T.exp, np.exp), "log": (T.log, np.log), "tanh": (T.tanh, np.tanh),
            "sigmoid": (T.nnet.sigmoid, sigmoid_np)}[name]


def cases(n):
    """name -> {implementation: zero-argument callable returning a float}."""
    import tensord as theano
    import tensord.tensor as T
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, n).astype("float32")
    xs = theano.shared(x, name="x")
    a, b, c, d, e, f, g = COEFFS
    out = {}
    chain = theano.function([], T.tanh((((xs * a + b) * c - d) * e + f) * g).sum())
    impls = {"tensord": lambda: float(chain()), "numpy": lambda: chain_numpy(x)}
    peers_for_chain(impls, x)
    out["chain8_tanh_sum_%d_f32" % n] = impls
    positive = np.abs(x) + 0.1
    ps = theano.shared(positive, name="p")
    for name in ("exp", "log", "tanh", "sigmoid"):
        build, ref = transcendental(name)
        operand, shared = (positive, ps) if name == "log" else (x, xs)
        fn = theano.function([], build(shared).sum())
        out["%s_sum_%d_f32" % (name, n)] = {
            "tensord": (lambda fn=fn: float(fn())),
            "numpy": (lambda ref=ref, operand=operand: float(ref(operand).sum()))}
        peers_for_unary(out["%s_sum_%d_f32" % (name, n)], name, operand)
    return out


class ServerTimed:
    """A tensord function returning one float, whose server-side run times (RunResponse's run_ns:
    the product without the round trip) are kept for the case's line."""

    def __init__(self, fn):
        self.fn, self.server_ms = fn, []

    def __call__(self):
        out = float(self.fn())
        self.server_ms.append(self.fn.last_run_ns / 1e6)
        return out


def update_cases(n):
    """An SGD step on a parameter of n float32, p <- p - 0.1 * g, as a training loop stores it:
    tensord's update of a shared variable against each peer's in-place (or, for JAX, donated)
    update. Each returns 0.0: the check compares nothing, the parameters drift the same way."""
    import tensord as theano
    rng = np.random.default_rng(3)
    p0, g = rng.uniform(-1, 1, n).astype("float32"), np.full(n, 1e-6, dtype="float32")
    ps, gs = theano.shared(p0.copy()), theano.shared(g)
    step = theano.function([], [], updates=[(ps, ps - 0.1 * gs)])
    pn = p0.copy()
    impls = {"tensord": lambda: step() or 0.0,
             "numpy": lambda: np.subtract(pn, 0.1 * g, out=pn) is pn and 0.0}
    try:
        import jax
        state = [jax.numpy.asarray(p0)]
        gj = jax.numpy.asarray(g)
        fj = jax.jit(lambda p, g: p - 0.1 * g, donate_argnums=0)

        def jax_step():
            state[0] = fj(state[0], gj).block_until_ready()
            return 0.0
        impls["jax"] = jax_step
    except ImportError:
        pass
    try:
        import torch
        pt, gt = torch.from_numpy(p0.copy()), torch.from_numpy(g)
        impls["torch"] = lambda: pt.sub_(gt, alpha=0.1) is pt and 0.0
    except ImportError:
        pass
    return {"sgd_update_%d_f32" % n: impls}


# (name, m, k, n, transpose a): square, the MLP step's forward and weight-gradient products.
GEMM_SHAPES = [("square", 1024, 1024, 1024, False), ("mlp_fwd", 256, 784, 512, False),
               ("mlp_hidden", 256, 512, 512, False), ("mlp_wgrad_aT", 784, 256, 512, True)]


def gemm_cases(scale=1):
    """dot(a, b).sum() per shape and dtype (operands uniform in [0, 1): a sum far from zero, so
    every implementation's rounding stays within the check's rtol)."""
    import tensord as theano
    import tensord.tensor as T
    rng = np.random.default_rng(1)
    out = {}
    for name, m, k, n, transposed in GEMM_SHAPES:
        m, k, n = max(1, m // scale), max(1, k // scale), max(1, n // scale)
        for dtype in ("float32", "float64"):
            a = rng.uniform(0, 1, (k, m) if transposed else (m, k)).astype(dtype)
            b = rng.uniform(0, 1, (k, n)).astype(dtype)
            sa, sb = theano.shared(a), theano.shared(b)
            fn = theano.function([], T.dot(sa.T if transposed else sa, sb).sum())
            op = (lambda x: x.T) if transposed else (lambda x: x)
            impls = {"tensord": ServerTimed(fn),
                     "numpy": lambda a=a, b=b, op=op: float((op(a) @ b).sum())}
            peers_for_dot(impls, a, b, op)
            out["dot_%s_%dx%dx%d_%s" % (name, m, k, n, dtype[0] + dtype[-2:])] = impls
    return out


def reduce_cases(scale=1):
    """sum / max / mean of a 256x128x128 float32 array over all axes, axis 0 and axis -1 (the
    sum of the result, so every implementation returns one float)."""
    import tensord as theano
    import tensord.tensor as T
    shape = tuple(max(1, s // scale) for s in (256, 128, 128))
    x = np.random.default_rng(2).uniform(0, 1, shape).astype("float32")
    xs = theano.shared(x, name="x")
    out = {}
    for op in ("sum", "max", "mean"):
        for axis, label in ((None, "all"), (0, "axis0"), (-1, "axis-1")):
            fn = theano.function([], getattr(T, op)(xs, axis=axis).sum())
            out["%s_%s_%s_f32" % (op, label, "x".join(map(str, shape)))] = {
                "tensord": lambda fn=fn: float(fn()),
                "numpy": lambda op=op, axis=axis: float(getattr(np, op)(x, axis=axis).sum())}
    return out


def peers_for_dot(impls, a, b, op):
    try:
        import jax
        import jax.numpy as jnp
        aj, bj = jnp.asarray(a), jnp.asarray(b)
        fj = jax.jit(lambda x, y: (op(x) @ y).sum())
        impls["jax"] = lambda: float(fj(aj, bj).block_until_ready())
    except ImportError:
        pass
    try:
        import torch
        at, bt = torch.from_numpy(a), torch.from_numpy(b)
        impls["torch"] = lambda: float((op(at) @ bt).sum())
    except ImportError:
        pass


def peers_for_chain(impls, x):
    a, b, c, d, e, f, g = COEFFS
    try:
        import jax
        import jax.numpy as jnp
        xj = jnp.asarray(x)
        fj = jax.jit(lambda v: jnp.tanh((((v * a + b) * c - d) * e + f) * g).sum())
        impls["jax"] = lambda: float(fj(xj).block_until_ready())
    except ImportError:
        pass
    try:
        import torch
        xt = torch.from_numpy(x)
        impls["torch"] = lambda: float(torch.tanh((((xt * a + b) * c - d) * e + f) * g).sum())
    except ImportError:
        pass
    try:
        import pytensor
        import pytensor.tensor as pt
        v = pytensor.shared(x)
        fp = pytensor.function([], pt.tanh((((v * a + b) * c - d) * e + f) * g).sum())
        impls["pytensor"] = lambda: float(fp())
    except ImportError:
        pass


def peers_for_unary(impls, name, operand):
    try:
        import jax
        import jax.numpy as jnp
        # Each peer's function has a name of its own: the lambdas read them when called.
        jfn = {"exp": jnp.exp, "log": jnp.log, "tanh": jnp.tanh, "sigmoid": jax.nn.sigmoid}[name]
        xj = jnp.asarray(operand)
        fj = jax.jit(lambda v: jfn(v).sum())
        impls["jax"] = lambda: float(fj(xj).block_until_ready())
    except ImportError:
        pass
    try:
        import torch
        tfn = {"exp": torch.exp, "log": torch.log, "tanh": torch.tanh,
               "sigmoid": torch.sigmoid}[name]
        xt = torch.from_numpy(operand)
        impls["torch"] = lambda: float(tfn(xt).sum())
    except ImportError:
        pass


# Before each timed call: a pause longer than the busy-wait of the thread pools that ran the
# previous implementation (OpenBLAS's pthreads workers spin 2^28 cycles, about 0.1 s, after each
# product; OpenMP teams spin too), which would otherwise take a core from whichever
# implementation comes next, then one untimed call so that the timed one finds its own threads
# awake, as in a loop of steps.
SETTLE_S = 0.2


def measure(impls, repeats, reference="numpy", rtol=1e-3, settle=SETTLE_S):
    """Median ms per implementation, implementations interleaved so load changes hit all alike;
    the first calls' results must agree with `reference`'s within rtol."""
    times = {k: [] for k in impls}
    results = {k: f() for k, f in impls.items()}  # warm up (jit, compile), and check agreement
    for _ in range(repeats):
        for k, f in impls.items():
            if settle:
                time.sleep(settle)
                f()
            start = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - start)
    ref = results[reference]
    for k, v in results.items():
        assert abs(v - ref) <= rtol * max(1.0, abs(ref)), (k, v, ref)
    return {k: statistics.median(v) * 1e3 for k, v in times.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--install", action="store_true")
    parser.add_argument("--torch", action="store_true")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--elements", type=int, default=4 * 1024 * 1024)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    parser.add_argument("--small_calls", type=int, default=5000,
                        help="rounds of the small-call case (one call of each implementation)")
    args = parser.parse_args()
    if args.install:
        install(args.torch)
        env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "clients", "python"))
        rest = [a for a in sys.argv[1:] if a not in ("--install", "--torch")]
        sys.exit(subprocess.run([os.path.join(VENV, "bin", "python"), __file__] + rest,
                                env=env).returncode)
    if args.smoke:
        args.repeats, args.elements = 1, 4096
    from tensord.connection import server_info
    threads = os.cpu_count()
    # First, before the other cases hold their operands (hundreds of MB in both processes).
    if args.only in SMALL_CALL:  # its own protocol: thousands of calls, microseconds
        line = (small_call.case_line(50, keep=("tensord", "grpc_health", "numpy"))
                if args.smoke else small_call.case_line(args.small_calls))
        print(json.dumps(dict(line, cpus=threads, server=server_info().version)), flush=True)
    if args.only in BIG_TENSOR:
        line = big_tensors.case_line(1 << 15 if args.smoke else 1 << 24, args.repeats)
        print(json.dumps(dict(line, cpus=threads, server=server_info().version)), flush=True)
    all_cases = dict(cases(args.elements), **update_cases(args.elements * 4),
                     **mlp_step.cases(64 if args.smoke else 1, ServerTimed),
                     **gemm_cases(64 if args.smoke else 1),
                     **reduce_cases(16 if args.smoke else 1))
    for name, impls in all_cases.items():
        if args.only not in name:
            continue
        if args.smoke:
            impls = {k: v for k, v in impls.items() if k in ("tensord", "numpy")}
        ms = measure(impls, args.repeats, settle=0 if args.smoke else SETTLE_S)
        line = {"case": name, "median_ms": {k: round(v, 3) for k, v in ms.items()},
                "tensord_speedup": {k: round(v / ms["tensord"], 2) for k, v in ms.items()
                                    if k != "tensord"},
                "repeats": args.repeats, "cpus": threads,
                "server": server_info().version}
        if isinstance(impls["tensord"], ServerTimed):  # every call's, warm-ups included
            line["tensord_server_ms"] = round(statistics.median(impls["tensord"].server_ms), 3)
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
