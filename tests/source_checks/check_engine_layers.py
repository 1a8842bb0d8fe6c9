"""Fails when the engine's directories include each other in a cycle, or include a layer above
their own. The order (docs/architecture.md, "Layers") is the one allowed direction:
each directory may include only directories listed before it. Test support (*_test.cc,
*_testing.*, testing/) may include anything.

Usage: check_engine_layers.py [ENGINE_DIR]"""
import os
import re
import sys

LAYERS = [
    "common",          # dtypes, status
    "runtime",         # host tensors and their memory accounting
    "ir",              # the graph
    "ops",             # the op schema: declarations, type rules, scalar forms, grad rules
    "grad",            # the differentiation driver (and scan's grad rule, which runs it)
    "backends/cuda",   # device discovery and CUDA kernels
    "backends",        # providers' kernel interface and the CPU provider
    "backends/cuda/provider",  # the CUDA provider's kernels (the host's transfer kernel too)
    "context",         # device contexts and the shared variables resident on them
    "frontend",        # wire graphs in, verification, Theano-style printing
    "passes",          # the optimizer
    "compile",         # executables, the compile cache and the modes
]


def layer_of(path):
    """The layer of an engine-relative path, by its longest matching prefix."""
    best = None
    for layer in LAYERS:
        if path == layer or path.startswith(layer + "/"):
            if best is None or len(layer) > len(best):
                best = layer
    return best


def is_test_support(path):
    name = os.path.basename(path)
    return (name.endswith("_test.cc") or "_testing." in name or "/testing/" in path)


def main():
    engine = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "..", "engine")
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    errors = []
    for root, _, files in os.walk(engine):
        for name in files:
            if not name.endswith((".h", ".cc", ".cu")):
                continue
            path = os.path.relpath(os.path.join(root, name), engine)
            if is_test_support(path):
                continue
            own = layer_of(path)
            if own is None:
                errors.append("%s: in no layer (add its directory to LAYERS)" % path)
                continue
            with open(os.path.join(engine, path)) as f:
                for m in re.finditer(r'#include "engine/([^"]+)"', f.read()):
                    target = layer_of(m.group(1))
                    if target is None:
                        errors.append("%s includes %s, which is in no layer" % (path, m.group(1)))
                    elif rank[target] > rank[own]:
                        errors.append("%s (%s) includes %s (%s), a layer above it" %
                                      (path, own, m.group(1), target))
    for e in sorted(errors):
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
