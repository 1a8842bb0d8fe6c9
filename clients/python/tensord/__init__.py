"""tensord — Theano's programming model on a tensord compute server.

    import tensord as theano
    import tensord.tensor as T

    x, y = T.matrices('x', 'y')
    f = theano.function([x, y], x + y)

Graphs are built and type-checked here, compiled and run by the server (TENSORD_ADDRESS, or a
private server process started on first use).
"""

from tensord.config import config
from tensord import errors
from tensord.errors import (FailedPrecondition, InvalidArgument, MissingInputError, NotFound,
                            ResourceExhausted, TensordError, Unavailable, Unimplemented,
                            UnusedInputError)
from tensord import tensor
from tensord.compile import Function, In, Mode, Out, function
from tensord.device_array import DeviceArray
from tensord.sharedvar import SharedVariable, shared
from tensord import printing
from tensord.printing import pp
from tensord import gradient
from tensord.gradient import Lop, Rop, grad
from tensord.connection import save_session, server_info
from tensord import sandbox  # noqa: F401 - tensord.sandbox.rng_mrg.MRG_RandomStreams
from tensord import scan_module
from tensord.scan_module import foldl, foldr, map, reduce, scan  # noqa: A004 - Theano's names
from tensord import sparse
# theano.dot: T.dot, which hands a sparse operand to tensord.sparse.dot.
from tensord.tensor.basic import dot

__version__ = "0.1.0"

# `from theano import theano` appears in Theano tutorials; keep it working as `tensord.theano`.
theano = __import__(__name__)

__all__ = ["config", "errors", "tensor", "function", "Function", "In", "Out", "Mode", "DeviceArray", "shared", "SharedVariable",
           "printing", "pp", "server_info", "save_session", "gradient", "grad", "Lop", "Rop", "TensordError", "InvalidArgument", "NotFound",
           "FailedPrecondition", "Unimplemented", "ResourceExhausted", "Unavailable",
           "UnusedInputError", "MissingInputError", "scan_module", "scan", "map", "reduce",
           "foldl", "foldr", "sparse", "dot"]
