"""theano.compile.nanguardmode: NanGuardMode (see tensord.compile.mode)."""

from tensord.compile.mode import NanGuardMode

__all__ = ["NanGuardMode"]
