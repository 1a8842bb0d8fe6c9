"""theano.compile.debugmode: DebugMode (see tensord.compile.mode)."""

from tensord.compile.mode import DebugMode

__all__ = ["DebugMode"]
