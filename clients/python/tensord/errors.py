"""Exceptions: gRPC status codes from the server mapped onto Python's exception hierarchy.

Each class also derives from the built-in exception a Python (or Theano) user would catch for that
kind of problem, so `except ValueError` / `except KeyError` keep working across the wire.
"""

import grpc

__all__ = ["TensordError", "InvalidArgument", "NotFound", "AlreadyExists", "FailedPrecondition",
           "Unimplemented", "ResourceExhausted", "DeadlineExceeded", "Cancelled", "Unavailable",
           "OutOfRange", "InternalError", "PermissionDenied", "Unauthenticated", "ServerNotFound",
           "ServerStartError", "UnusedInputError", "MissingInputError", "from_rpc_error"]


class TensordError(Exception):
    """Base of every error raised by tensord; `code` is the gRPC status code (None if local)."""

    code = None

    def __init__(self, message="", code=None, rpc=None):
        super().__init__(message)
        self.message = message
        self.rpc = rpc
        if code is not None:
            self.code = code

    def __str__(self):
        # KeyError's default __str__ would quote the message; keep the server's text readable.
        return self.message


# Bad graph or bad input. Also a TypeError: Theano raises TypeError for dtype/type problems, and
# the server reports those as INVALID_ARGUMENT, so both spellings of `except` should catch them.
class InvalidArgument(TensordError, ValueError, TypeError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(TensordError, KeyError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(TensordError, ValueError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(TensordError, RuntimeError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class Unimplemented(TensordError, NotImplementedError):
    code = grpc.StatusCode.UNIMPLEMENTED


class ResourceExhausted(TensordError, MemoryError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class DeadlineExceeded(TensordError, TimeoutError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class Cancelled(TensordError, RuntimeError):
    code = grpc.StatusCode.CANCELLED


class Unavailable(TensordError, ConnectionError):
    code = grpc.StatusCode.UNAVAILABLE


class OutOfRange(TensordError, IndexError):
    code = grpc.StatusCode.OUT_OF_RANGE


class InternalError(TensordError, RuntimeError):
    code = grpc.StatusCode.INTERNAL


class ServerNotFound(TensordError, RuntimeError):
    """No TENSORD_ADDRESS and no tensord binary to start."""


class ServerStartError(TensordError, RuntimeError):
    """The local server process exited or did not report its port in time."""


class UnusedInputError(TensordError, ValueError):
    """An input of function() is not needed by its outputs or updates (on_unused_input='raise')."""


class PermissionDenied(TensordError, PermissionError):
    """The caller may not do this (an admin RPC, shared memory from another host ...)."""
    code = grpc.StatusCode.PERMISSION_DENIED


class Unauthenticated(TensordError, PermissionError):
    """No bearer token, or one the server does not know."""
    code = grpc.StatusCode.UNAUTHENTICATED


class MissingInputError(TensordError, ValueError):
    """The outputs depend on an input variable that function() was not given."""


# The status codes (by name) after which the server may have run the call, or may still be
# running it, without the client having seen its answer.
UNSETTLED = ("UNAVAILABLE", "DEADLINE_EXCEEDED", "CANCELLED")

_BY_CODE = {cls.code: cls for cls in (
    InvalidArgument, NotFound, AlreadyExists, FailedPrecondition, Unimplemented,
    ResourceExhausted, DeadlineExceeded, Cancelled, Unavailable, OutOfRange, InternalError,
    PermissionDenied, Unauthenticated)}


def from_rpc_error(err, rpc_name=""):
    """Turns a grpc.RpcError into the matching TensordError, carrying the server's message."""
    code = err.code() if hasattr(err, "code") else None
    details = err.details() if hasattr(err, "details") else str(err)
    cls = _BY_CODE.get(code, TensordError)
    message = details or (code.name if code is not None else "unknown error")
    if cls is TensordError:
        message = "%s: %s" % (code.name if code is not None else "UNKNOWN", message)
    exc = cls(message, code=code, rpc=rpc_name)
    return exc
