"""The benchmarks of docs/performance.md still run: tests/bench/peers.py and dl_layers.py in
their smoke modes (tiny sizes, one repeat, tensord against NumPy or whatever peer the client's
virtualenv has; their figures mean nothing here)."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_smoke(script):
    """The JSON lines `script` prints in smoke mode against a server it starts."""
    binary = os.environ.get("TENSORD_SERVER_BIN")
    if not binary or not os.path.exists(binary):
        pytest.skip("TENSORD_SERVER_BIN names no server binary")
    env = dict(os.environ)
    env.pop("TENSORD_ADDRESS", None)
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "bench", script),
                          "--smoke"], env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_peers_benchmark_runs_in_smoke_mode():
    small_call, big_tensor, *lines = run_smoke("peers.py")
    assert small_call["case"] == "small_call_x_plus_1_10_f32"
    assert set(small_call["median_us"]) == {"tensord", "grpc_health", "numpy"}, small_call
    assert small_call["tensord_minus_grpc_health_us"] == pytest.approx(
        small_call["median_us"]["tensord"] - small_call["median_us"]["grpc_health"], abs=0.2)
    assert big_tensor["case"] == "big_tensor_x_plus_1_128KiB_f32"
    assert set(big_tensor["median_ms"]) == {"tensord_protobuf", "tensord_shared_memory", "numpy"}
    assert [line["case"] for line in lines] == [
        "chain8_tanh_sum_4096_f32", "exp_sum_4096_f32", "log_sum_4096_f32",
        "tanh_sum_4096_f32", "sigmoid_sum_4096_f32", "sgd_update_16384_f32",
        "mlp_step_12x8x8x10_b4_f32"] + [
        "dot_%s_%s" % (shape, dtype) for shape in (
            "square_16x16x16", "mlp_fwd_4x12x8", "mlp_hidden_4x8x8", "mlp_wgrad_aT_12x4x8")
        for dtype in ("f32", "f64")] + [
        "%s_%s_16x8x8_f32" % (op, axis) for op in ("sum", "max", "mean")
        for axis in ("all", "axis0", "axis-1")]
    for line in lines:
        assert set(line["median_ms"]) == {"tensord", "numpy"}, line
        assert ("tensord_server_ms" in line) == line["case"].startswith(("dot_", "mlp_")), line


def test_dl_layers_benchmark_runs_in_smoke_mode():
    lines = run_smoke("dl_layers.py")
    assert [line["case"] for line in lines] == ["resnet_block_train_step_2x4x8x8",
                                                "lenet_train_step_batch8"]
    for line in lines:
        assert "tensord" in line["median_ms"], line


def test_intermediates_benchmark_runs_in_smoke_mode():
    lines = run_smoke("intermediates.py")
    assert [line["case"] for line in lines] == [
        "mlp_step_b4", "lenet_train_step_batch8", "resnet_block_train_step_2x4x8x8",
        "deep_forward_16x64_b8"]
    for line in lines:
        assert 0 < line["peak_bytes"]["allow_gc"] <= line["peak_bytes"]["keep"], line
        # Measured on the server's cpu context: a function that frees its intermediates holds
        # none once it has run.
        assert line["idle_after_a_run_bytes"]["allow_gc"] == 0, line
        assert line["idle_after_a_run_bytes"]["keep"] > 0, line
        assert set(line["server_ms"]) == {"allow_gc", "keep"}, line
