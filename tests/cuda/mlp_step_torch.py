"""PyTorch eager's side of the MLP-step figure (issue 16), run by the GPU bundle's run.sh next to
tensord_bench_mlp_step_cuda on the same GPU: tests/bench/mlp_step.py's step (784-512-512-10,
tanh, softmax cross-entropy over integer labels, SGD 0.01 on the six parameters, batch 256,
float32; the bundle carries mlp_step.py beside this file), batch and parameters resident on the
GPU, the loss read back each step (as tensord's bench reads its loss). Prints a markdown line
with the median step; says so and exits 0 without PyTorch or a GPU."""

import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# mlp_step.py lies beside this file in the bundle, in tests/bench in the source tree.
sys.path[:0] = [HERE, os.path.join(HERE, "..", "bench")]


def main(repeats=50):
    try:
        import torch
    except ImportError:
        print("mlp_step_torch: no PyTorch, nothing measured")
        return 0
    if not torch.cuda.is_available():
        print("mlp_step_torch: no CUDA device for PyTorch, nothing measured")
        return 0
    import mlp_step
    step = mlp_step.torch_step(*mlp_step.initial(256), device="cuda:0")
    for _ in range(5):
        step()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    print("| %s | PyTorch %s eager, MLP step 784-512-512-10, batch 256, float32 | %.3f ms "
          "median of %d |" % (torch.cuda.get_device_name(0), torch.__version__,
                              statistics.median(seconds) * 1e3, repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
