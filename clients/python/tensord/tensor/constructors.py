"""Symbolic variable constructors: T.matrix('x'), T.fscalar(), T.matrices('x', 'y') ...

Unprefixed constructors read config.floatX when called (so changing floatX in code takes effect);
the b/w/i/l/f/d-prefixed ones are fixed TensorType instances, as in Theano.
"""

from tensord.config import config
from tensord.tensor.type import TensorType

_PATTERNS = {
    "scalar": (),
    "vector": (False,),
    "matrix": (False, False),
    "row": (True, False),
    "col": (False, True),
    "tensor3": (False,) * 3,
    "tensor4": (False,) * 4,
}
_PREFIXES = {"b": "int8", "w": "int16", "i": "int32", "l": "int64", "f": "float32",
             "d": "float64"}
_PLURALS = {"scalar": "scalars", "vector": "vectors", "matrix": "matrices", "row": "rows",
            "col": "cols", "tensor3": "tensor3s", "tensor4": "tensor4s"}

__all__ = ["tensor"]


def tensor(*args, **kwargs):
    """T.tensor(dtype, broadcastable, name=None): a variable of an arbitrary TensorType."""
    name = kwargs.pop("name", None)
    if len(args) > 2 and name is None:
        args, name = args[:2], args[2]
    return TensorType(*args, **kwargs)(name=name)


def _make_unprefixed(kind, pattern):
    def ctor(name=None, dtype=None):
        return TensorType(dtype or config.floatX, pattern)(name)
    ctor.__name__ = kind
    ctor.__doc__ = "A %s variable of dtype `dtype` (default config.floatX)." % kind
    return ctor


def _multi(ctor, plural):
    """Theano's _multi: f('a', 'b') -> [a, b]; f('a') -> a; f(3) -> three unnamed variables."""
    def many(*names):
        if names and isinstance(names[0], int):
            return [ctor() for _ in range(names[0])]
        if len(names) == 1:
            return ctor(names[0])
        return [ctor(n) for n in names]
    many.__name__ = plural
    return many


def _install(namespace):
    for kind, pattern in _PATTERNS.items():
        ctor = _make_unprefixed(kind, pattern)
        namespace[kind] = ctor
        namespace[_PLURALS[kind]] = _multi(ctor, _PLURALS[kind])
        __all__.extend([kind, _PLURALS[kind]])
        for prefix, dtype in _PREFIXES.items():
            ttype = TensorType(dtype, pattern)
            namespace[prefix + kind] = ttype
            namespace[prefix + _PLURALS[kind]] = _multi(ttype, prefix + _PLURALS[kind])
            __all__.extend([prefix + kind, prefix + _PLURALS[kind]])


_install(globals())
