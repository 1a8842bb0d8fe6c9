"""Theano's allow_gc on the server (docs/performance.md, "Intermediates freed after their last
reader"): each case is compiled twice in one server, with allow_gc=True (the default: each
intermediate dropped once its last reader has run) and allow_gc=False (every intermediate kept
until the run ends and by the function between runs). Prints one JSON line per case:
- the run's peak bytes under each setting, from profile_memory (a profiled copy of each,
  run once);
- the bytes the cpu context still holds once the function has run and sits idle;
- the median server time of a step (RunResponse's run_ns) under each setting, the two
  functions called alternately so that the machine's load hits both alike.

    TENSORD_SERVER_BIN=build/default/server/tensord PYTHONPATH=clients/python \\
        clients/python/.venv/bin/python tests/bench/intermediates.py [--rounds 31] [--smoke]
"""

import argparse
import json
import os
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dl_layers  # noqa: E402  (this directory's)
import mlp_step  # noqa: E402

import tensord as theano  # noqa: E402
import tensord.tensor as T  # noqa: E402
from tensord.connection import server_info  # noqa: E402


def deep_forward(batch, width, layers):
    """Inference through `layers` tanh layers of `width` units: one live activation at a time."""
    rng = np.random.default_rng(1)
    x = theano.shared(rng.uniform(-1, 1, (batch, width)).astype("float32"))
    h = x
    for _ in range(layers):
        w = theano.shared((rng.standard_normal((width, width)) / np.sqrt(width)).astype("float32"))
        h = T.tanh(T.dot(h, w))
    return lambda: theano.function([], h.sum())


def cases(smoke):
    rng = np.random.default_rng(0)
    batch, lenet_batch = (4, 8) if smoke else (256, 500)
    x, labels, params = mlp_step.initial(batch, scale=64 if smoke else 1)
    images = rng.uniform(0, 1, (lenet_batch, 1, 28, 28)).astype("float32")
    digits = rng.integers(0, 10, lenet_batch).astype("int32")
    lenet = dl_layers.lenet_params(rng)
    block = rng.standard_normal((2, 4, 8, 8) if smoke else (32, 64, 56, 56)).astype("float32")
    resnet = dl_layers.resnet_params(rng, block.shape[1])
    return {
        "mlp_step_b%d" % batch: lambda: mlp_step.tensord_step(x, labels, params),
        "lenet_train_step_batch%d" % lenet_batch:
            lambda: dl_layers.tensord_lenet(images, digits, lenet).function,
        "resnet_block_train_step_%dx%dx%dx%d" % block.shape:
            lambda: dl_layers.tensord_resnet(block, resnet).function,
        "deep_forward_16x%d_b%d" % ((64, 8) if smoke else (1024, 1024)):
            deep_forward(*((8, 64, 16) if smoke else (1024, 1024, 16))),
    }


def compiled(build, allow_gc, profile_memory=False):
    saved = theano.config.allow_gc, theano.config.profile, theano.config.profile_memory
    theano.config.allow_gc = allow_gc
    theano.config.profile = theano.config.profile_memory = profile_memory
    try:
        return build()
    finally:
        theano.config.allow_gc, theano.config.profile, theano.config.profile_memory = saved


def cpu_in_use():
    return next(c.memory_in_use_bytes for c in server_info().contexts if c.name == "cpu")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, three rounds")
    args = parser.parse_args()
    rounds = 3 if args.smoke else args.rounds
    for name, build in cases(args.smoke).items():
        line = {"case": name, "rounds": rounds, "cpus": os.cpu_count(),
                "server": server_info().version}
        # First, while no executable of the case has run (functions of one graph share one).
        steps = {"allow_gc": compiled(build, True), "keep": compiled(build, False)}
        idle = {}
        for setting, step in steps.items():
            before = cpu_in_use()
            step()
            idle[setting] = cpu_in_use() - before
        line["idle_after_a_run_bytes"] = idle
        line["peak_bytes"] = {}
        for setting, allow_gc in (("allow_gc", True), ("keep", False)):
            profiled = compiled(build, allow_gc, profile_memory=True)
            profiled()
            line["peak_bytes"][setting] = profiled.profile.data().memory[0].peak_bytes
        times = {setting: [] for setting in steps}
        for _ in range(rounds):
            for setting, step in steps.items():
                step()
                times[setting].append(step.last_run_ns / 1e6)
        line["server_ms"] = {k: round(statistics.median(v), 3) for k, v in times.items()}
        line["keep_over_allow_gc"] = round(line["server_ms"]["keep"]
                                           / line["server_ms"]["allow_gc"], 3)
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
