"""`import theano` for unmodified Theano programs: this package is tensord under Theano's name.

Every `theano.X` module is tensord's `tensord.X` (the same module object, so state such as
`theano.config` is tensord's); a Theano module tensord does not have (theano.gof,
theano.sandbox.cuda, ...) fails to import with an error that says so. See README.md for what
this does and does not give you.
"""

import importlib
import importlib.abc
import importlib.util
import sys

import tensord
from tensord import *  # noqa: F401,F403 - theano.function, theano.shared, theano.config ...
from tensord import __all__  # noqa: F401

# Every public name of tensord, its submodules too (theano.compile, theano.ifelse, ...: Theano
# code reaches them as attributes without importing them).
for _name, _value in vars(tensord).items():
    if not _name.startswith("_"):
        globals().setdefault(_name, _value)
for _sub in ("compile", "ifelse", "sandbox", "scan_module", "printing", "gradient", "tensor",
             "sparse"):
    globals()[_sub] = importlib.import_module("tensord." + _sub)

__version__ = "1.0.5+tensord." + getattr(tensord, "__version__", "0")

_PREFIX = __name__ + "."


class _ForwardToTensord(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds theano.X as tensord.X and hands back tensord's own module."""

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith(_PREFIX):
            return None
        real = "tensord." + fullname[len(_PREFIX):]
        try:
            found = importlib.util.find_spec(real)
        except ModuleNotFoundError:
            found = None
        if found is None:
            raise ModuleNotFoundError(
                "No module named %r: tensord (which `theano` forwards to here) has no %r"
                % (fullname, real), name=fullname)
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        return importlib.import_module("tensord." + spec.name[len(_PREFIX):])

    def exec_module(self, module):
        pass  # tensord's module is already executed


if not any(isinstance(f, _ForwardToTensord) for f in sys.meta_path):
    sys.meta_path.insert(0, _ForwardToTensord())
