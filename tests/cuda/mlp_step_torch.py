"""PyTorch eager's side of the MLP-step figure (issue 16), run by the GPU bundle's run.sh next to
tensord_bench_mlp_step_cuda on the same GPU: the step of tests/bench/mlp_step.py (784-512-512-10,
tanh, softmax cross-entropy over integer labels, SGD 0.01 on the six parameters, batch 256,
float32), batch and parameters resident on the GPU, the loss read back each step (as tensord's
bench reads its loss). Prints a markdown line with the median step; says so and exits 0 without
PyTorch or a GPU."""

import statistics
import sys
import time


def main(repeats=50):
    try:
        import torch
    except ImportError:
        print("mlp_step_torch: no PyTorch, nothing measured")
        return 0
    if not torch.cuda.is_available():
        print("mlp_step_torch: no CUDA device for PyTorch, nothing measured")
        return 0
    dev = torch.device("cuda:0")
    gen = torch.Generator(device="cpu").manual_seed(4)
    sizes = (784, 512, 512, 10)
    x = torch.rand(256, sizes[0], generator=gen).to(dev)
    labels = torch.randint(0, sizes[-1], (256,), generator=gen).to(dev)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        w = (torch.rand(fan_in, fan_out, generator=gen) * 2 - 1) / fan_in ** 0.5
        params += [w.to(dev).requires_grad_(), torch.zeros(fan_out, device=dev).requires_grad_()]

    def step():
        h = x
        for i in range(0, 4, 2):
            h = torch.tanh(h @ params[i] + params[i + 1])
        loss = torch.nn.functional.cross_entropy(h @ params[4] + params[5], labels)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(0.01 * g)
        return loss.item()

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
