"""theano.compile.monitormode, as Theano's module path has it."""

from tensord.compile.mode import MonitorMode  # noqa: F401

__all__ = ["MonitorMode"]
