"""Compilation: tensord.function and the Function handle it returns."""

from tensord.compile.function import function
from tensord.compile.runtime import DeviceRef, Function, FunctionProfile

__all__ = ["function", "Function", "FunctionProfile", "DeviceRef"]
