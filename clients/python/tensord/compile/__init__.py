"""Compilation: tensord.function and the Function handle it returns."""

from tensord.compile.function import function
from tensord.compile.io import In, Out
from tensord.compile.mode import (DebugMode, Mode, MonitorMode, NanGuardMode, get_default_mode,
                                  get_mode)
from tensord.compile import mode
from tensord.compile.runtime import Function, FunctionProfile

__all__ = ["function", "Function", "FunctionProfile", "In", "Out", "Mode", "MonitorMode",
           "DebugMode",
           "NanGuardMode", "get_mode", "get_default_mode", "mode"]
