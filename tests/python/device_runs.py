"""How the device-context tests run a client script: against a server whose contexts map to
simulated devices, their memory the host's ("host") or reached only through copies
("separate"), or to emulated CUDA devices ("emulated"), where the CUDA provider places and runs
the work, its kernels emulated on the CPU."""

import os
import subprocess
import sys

import pytest

from tensord.connection import LocalServer


@pytest.fixture(params=["host", "separate", "emulated"])
def memory(request):
    """How the server reaches the simulated devices' memory: directly, or through copies; or
    the CUDA emulator in their place."""
    return request.param


def run(script, flags, memory="host"):
    """Runs `script` in a client process against a server with `flags` (sim devices, made emu
    ones for "emulated"); returns its output."""
    binary = os.environ.get("TENSORD_SERVER_BIN")
    if not binary or not os.path.exists(binary):
        pytest.skip("TENSORD_SERVER_BIN names no server binary")
    if memory == "emulated":  # the same devices, emulating CUDA
        flags = flags.replace("sim", "emu")
        script = script.replace("'sim1'", "'emu1'")
    env = dict(os.environ, TENSORD_FLAGS=flags)
    env.pop("TENSORD_ADDRESS", None)  # the client starts a server with these flags ...
    server = None
    if memory == "separate":  # ... or connects to one started here with them, and this one
        server = LocalServer(binary, ["--%s" % f for f in flags.split(",")] +
                             ["--sim_device_memory_separate"])
        env["TENSORD_ADDRESS"] = server.start()
    try:
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, timeout=120)
    finally:
        if server is not None:
            server.stop()
    assert out.returncode == 0, out.stderr
    return out.stdout
