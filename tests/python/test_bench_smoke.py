"""The benchmarks of docs/performance.md still run: tests/bench/peers.py in its smoke mode
(tiny sizes, one repeat, tensord against NumPy only; its figures mean nothing here)."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_peers_benchmark_runs_in_smoke_mode():
    binary = os.environ.get("TENSORD_SERVER_BIN")
    if not binary or not os.path.exists(binary):
        pytest.skip("TENSORD_SERVER_BIN names no server binary")
    env = dict(os.environ)
    env.pop("TENSORD_ADDRESS", None)
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "bench", "peers.py"),
                          "--smoke"], env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [line["case"] for line in lines] == [
        "chain8_tanh_sum_4096_f32", "exp_sum_4096_f32", "log_sum_4096_f32",
        "tanh_sum_4096_f32", "sigmoid_sum_4096_f32"]
    for line in lines:
        assert set(line["median_ms"]) == {"tensord", "numpy"}, line
