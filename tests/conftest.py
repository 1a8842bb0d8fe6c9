"""Shared pytest setup for the Python suites (tests/python, tests/conformance).

Tests that need a server take the `server` fixture (server modules set it with pytestmark). With
TENSORD_ADDRESS unset, tensord starts its own server from the built binary
(build/default/server/tensord, TENSORD_SERVER_BIN or `tensord` on PATH). When none can be found
those tests are skipped with the reason, unless a server was asked for explicitly
(TENSORD_SERVER_BIN set, as deploy/test-all.sh does, or TENSORD_REQUIRE_SERVER=1): then they fail,
so that a missing binary cannot pass quietly in CI.
"""

import os

import numpy as np
import pytest

import tensord
from tensord.connection import LocalServer, find_server_binary, get_client
from tensord.errors import ServerNotFound


def _why_no_server():
    if os.environ.get("TENSORD_ADDRESS"):
        return None
    try:
        find_server_binary()
        return None
    except ServerNotFound as exc:
        return str(exc)


@pytest.fixture(scope="session")
def server():
    """The connected client (its session opened); starts the local server if needed."""
    reason = _why_no_server()
    if reason:
        if os.environ.get("TENSORD_REQUIRE_SERVER") or os.environ.get("TENSORD_SERVER_BIN"):
            pytest.fail("a tensord server was required but " + reason)
        pytest.skip("no tensord server available: " + reason)
    client = get_client()
    assert client.session_id
    return client


@pytest.fixture(autouse=True)
def _restore_config():
    """Tests may change tensord.config (floatX ...); put it back afterwards."""
    saved = tensord.config.snapshot()
    yield
    tensord.config.restore(saved)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def private_server():
    """Starts servers of the test's own with extra flags: `private_server(flags)` returns the
    running LocalServer (127.0.0.1, a free port); every one is stopped after the test."""
    started = []

    def start(flags=()):
        try:
            binary = find_server_binary()
        except ServerNotFound as exc:
            pytest.skip(str(exc))
        server = LocalServer(binary, list(flags))
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()
