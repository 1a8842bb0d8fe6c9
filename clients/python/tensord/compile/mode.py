"""Compilation modes as Theano spells them: theano.compile.mode.Mode and its relatives.

A mode object travels to the server as FunctionSpec fields: its name (FAST_RUN, FAST_COMPILE,
DebugMode, NanGuardMode), the optimizer passes it excludes, whether it optimizes at all, and
NanGuardMode's flags. Strings ('FAST_RUN', 'DebugMode', ...) keep working wherever a mode is
accepted.
"""

from tensord.config import config

__all__ = ["Mode", "DebugMode", "NanGuardMode", "MonitorMode", "FAST_RUN", "FAST_COMPILE",
           "get_mode", "get_default_mode", "apply_mode"]

# Theano's optimizer names -> the server mode that runs them.
_OPTIMIZERS = {"fast_run": "FAST_RUN", "o2": "FAST_RUN", "o3": "FAST_RUN", "o4": "FAST_RUN",
               "fast_compile": "FAST_COMPILE", "merge": "FAST_COMPILE", "o1": "FAST_COMPILE",
               "None": None, None: None}
_NAMES = {"FAST_RUN": "FAST_RUN", "FAST_COMPILE": "FAST_COMPILE", "DebugMode": "DebugMode",
          "DEBUG_MODE": "DebugMode", "NanGuardMode": "NanGuardMode"}


class Mode:
    """Theano's Mode(linker=None, optimizer='default'): which optimizer compiles a function.

    optimizer: 'default' (config.optimizer), 'fast_run', 'fast_compile', 'merge', or None (no
    optimization at all). The linker is the server's business; it is accepted and ignored.
    """

    wire_mode = None  # subclasses pin the server mode

    def __init__(self, linker=None, optimizer="default"):
        if optimizer == "default":
            optimizer = config.optimizer
        if optimizer not in _OPTIMIZERS:
            raise ValueError("unknown optimizer %r; expected one of %s"
                             % (optimizer, sorted(k for k in _OPTIMIZERS if k)))
        self.linker = linker
        self.optimizer = optimizer
        self._excluding = ()
        self._including = ()

    def _clone(self):
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def excluding(self, *tags):
        """A copy of this mode that skips the named optimizer passes (Theano's excluding)."""
        clone = self._clone()
        clone._excluding = tuple(self._excluding) + tuple(t for t in tags if t not in
                                                          self._excluding)
        return clone

    def including(self, *tags):
        """A copy of this mode that also runs the named passes; every known pass already runs
        in FAST_RUN, so this only undoes an earlier excluding()."""
        clone = self._clone()
        clone._excluding = tuple(t for t in self._excluding if t not in tags)
        clone._including = tuple(self._including) + tuple(tags)
        return clone

    def requiring(self, *tags):
        return self.including(*tags)

    @property
    def optimizer_excluding(self):
        return list(self._excluding)

    @property
    def optimizes(self):
        return _OPTIMIZERS[self.optimizer] is not None

    @property
    def name(self):
        if self.wire_mode is not None:
            return self.wire_mode
        return _OPTIMIZERS[self.optimizer] or "FAST_RUN"

    def __str__(self):
        return "%s(linker=%s, optimizer=%s, excluding=%s)" % (
            type(self).__name__, self.linker, self.optimizer, list(self._excluding))

    __repr__ = __str__


class DebugMode(Mode):
    """Theano's DebugMode: every call also runs the unoptimized graph on the server and raises
    (InvalidArgument) when outputs or updates differ, naming the output and the first optimizer
    pass after which they differ. Theano's check_* options are accepted and ignored."""

    wire_mode = "DebugMode"

    def __init__(self, optimizer="fast_run", stability_patience=None, check_c_code=None,
                 check_py_code=None, check_isfinite=None, check_preallocated_output=None,
                 require_matching_strides=None, linker=None):
        super().__init__(linker=linker, optimizer=optimizer)


class NanGuardMode(Mode):
    """Theano's NanGuardMode: after every node the server checks the float values it produced
    and raises (InvalidArgument) naming the node, e.g. "NanGuardMode: log(x) produced nan at
    index 3". None takes the config.NanGuardMode.* default (True)."""

    wire_mode = "NanGuardMode"

    def __init__(self, nan_is_error=None, inf_is_error=None, big_is_error=None,
                 optimizer="default", linker=None):
        super().__init__(linker=linker, optimizer=optimizer)
        self.nan_is_error = _flag(nan_is_error, "nan_is_error")
        self.inf_is_error = _flag(inf_is_error, "inf_is_error")
        self.big_is_error = _flag(big_is_error, "big_is_error")


class MonitorMode(Mode):
    """Theano's MonitorMode(pre_func=None, post_func=None): pre_func(i, node, fn) and
    post_func(i, node, fn) are called for every node of the graph as the program built it, in
    topological order, with fn.inputs and fn.outputs holding each value in a one-element list
    (pre_func sees None for the outputs), as in Theano's detect_nan recipe.

    The server runs a graph without stopping between nodes, so each call of such a function
    first computes every intermediate value with a companion function (no optimization, no
    updates, default updates off), runs the callbacks over them, then runs the function itself:
    a callback that raises stops the call before any update is stored.
    """

    def __init__(self, pre_func=None, post_func=None, optimizer="default", linker=None):
        super().__init__(linker, optimizer)
        self.pre_func = pre_func
        self.post_func = post_func


def _flag(value, name):
    if value is not None:
        return bool(value)
    return bool(getattr(config.NanGuardMode, name))


FAST_RUN = Mode(optimizer="fast_run")
FAST_COMPILE = Mode(optimizer="fast_compile")


def get_mode(mode):
    """A Mode object for a mode name or object (Theano's theano.compile.mode.get_mode)."""
    if mode is None:
        mode = config.mode
    if isinstance(mode, Mode):
        return mode
    if mode == "Mode":
        return Mode()
    if mode not in _NAMES:
        raise ValueError("unknown mode %r; expected one of %s" % (mode, sorted(_NAMES)))
    name = _NAMES[mode]
    if name == "DebugMode":
        return DebugMode()
    if name == "NanGuardMode":
        return NanGuardMode()
    return Mode(optimizer="fast_run" if name == "FAST_RUN" else "fast_compile")


def get_default_mode():
    return get_mode(None)


def apply_mode(spec, mode):
    """Writes what a Mode object (or config, for a mode given by name) says beyond the mode's
    name into a FunctionSpec: excluded passes, no optimizer, NanGuardMode's flags."""
    if isinstance(mode, Mode):
        for name in mode.optimizer_excluding:
            if name not in spec.optimizer_excluding:
                spec.optimizer_excluding.append(name)
        if not mode.optimizes:
            spec.no_optimizer = True
    if spec.mode == "NanGuardMode":
        guard = mode if isinstance(mode, NanGuardMode) else NanGuardMode()
        spec.nan_guard.nan_is_error = guard.nan_is_error
        spec.nan_guard.inf_is_error = guard.inf_is_error
        spec.nan_guard.big_is_error = guard.big_is_error
