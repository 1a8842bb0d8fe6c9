"""config.exception_verbosity: errors raised by a function call carry a hint ('low') or the
function's debugprint and where the failing node / outputs were created ('high')."""

import inspect

import numpy as np
import pytest

import tensord
import tensord.tensor as T
from tensord import errors
from tensord.compile.run_errors import HINT

pytestmark = pytest.mark.usefixtures("server")

HERE = __file__


def _line_of(marker):
    lines, start = inspect.getsourcelines(inspect.currentframe().f_back.f_code)
    for offset, text in enumerate(lines):
        if marker in text:
            return start + offset
    raise AssertionError(marker)


def test_apply_records_the_user_frame():
    x = T.vector("x")
    y = x * 2  # created-here
    filename, line, function = y.owner.trace
    assert filename == HERE
    assert line == _line_of("# created-here")
    assert function == "test_apply_records_the_user_frame"


def test_low_verbosity_adds_only_the_hint():
    tensord.config.exception_verbosity = "low"
    a, b = T.matrices("a", "b")
    f = tensord.function([a, b], T.dot(a, b))
    with pytest.raises(errors.InvalidArgument) as info:
        f(np.ones((2, 3), "float32"), np.ones((2, 3), "float32"))
    message = str(info.value)
    assert message.startswith("in ")
    assert message.endswith(HINT)
    assert "Debugprint" not in message
    assert info.value.args == (message,)


def test_high_verbosity_adds_debugprint_and_creation_site():
    tensord.config.exception_verbosity = "high"
    a, b = T.matrices("a", "b")
    out = T.dot(a, b)  # dot-created-here
    f = tensord.function([a, b], out)
    with pytest.raises(errors.InvalidArgument) as info:
        f(np.ones((2, 3), "float32"), np.ones((2, 3), "float32"))
    message = str(info.value)
    assert HINT not in message
    assert "Failing node: " in message
    assert "Debugprint of the compiled function" in message
    assert f.describe().debugprint.rstrip("\n") in message
    # Either the failing node itself or the outputs: both were created on this line.
    assert "%s:%d" % (HERE, _line_of("# dot-created-here")) in message
    assert isinstance(info.value, ValueError)


def test_high_verbosity_when_the_node_was_rewritten():
    tensord.config.exception_verbosity = "high"
    x = T.vector("x")
    y = (x * 1).reshape((4, 4))  # reshape-created-here
    f = tensord.function([x], y)
    with pytest.raises(errors.InvalidArgument) as info:
        f(np.ones(10, "float32"))
    message = str(info.value)
    assert "Debugprint of the compiled function" in message
    assert "%s:%d" % (HERE, _line_of("# reshape-created-here")) in message
    # The function still works afterwards.
    assert f(np.arange(16, dtype="float32")).shape == (4, 4)


def test_high_verbosity_matches_a_node_by_op_and_named_inputs():
    tensord.config.exception_verbosity = "high"
    x = T.vector("x")
    r = x.reshape((4, 4))  # matched-reshape-here
    f = tensord.function([x], T.exp(r))  # outputs-here
    with pytest.raises(errors.InvalidArgument) as info:
        f(np.ones(10, "float32"))
    message = str(info.value)
    assert "Probably from node Reshape{2}(x, " in message
    assert "%s:%d" % (HERE, _line_of("# matched-reshape-here")) in message


def test_errors_before_the_run_are_unchanged():
    tensord.config.exception_verbosity = "high"
    x = T.matrix("x")
    f = tensord.function([x], x * 2)
    with pytest.raises(TypeError) as info:
        f(np.ones(3, "float32"))
    assert "Debugprint" not in str(info.value) and HINT not in str(info.value)
