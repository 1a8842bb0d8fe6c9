"""Configuration options, in the style of theano.config.

Options live in a registry (name -> ConfigParam). Values come from, in rising precedence: the
option's default, the TENSORD_FLAGS environment variable (THEANO_FLAGS syntax:
`floatX=float64,device=cpu,contexts=dev0->cuda0;dev1->cuda1`), and assignments in code
(`tensord.config.floatX = 'float64'`). Dotted names (`gpuarray.preallocate`) are reached as
attributes of sections (`config.gpuarray.preallocate`).
"""

import os
import shlex
import warnings

__all__ = ["config", "AddConfigVar", "ConfigParam", "EnumStr", "BoolParam", "FloatParam",
           "IntParam", "StrParam", "parse_config_string", "TensordConfigWarning"]


class TensordConfigWarning(UserWarning):
    pass


class ConfigParam:
    """One option: a default, a filter that validates/converts assigned values, a doc."""

    def __init__(self, default, filter=None, doc=""):
        self.default = default
        self.filter = filter or (lambda v: v)
        self.doc = doc
        self.fullname = None  # set by AddConfigVar

    def describe(self):
        return ""

    def __str__(self):
        return "%s (%s) " % (self.fullname, self.describe())


class EnumStr(ConfigParam):
    def __init__(self, default, *others, doc=""):
        self.all = (default,) + others

        def check(v):
            if v not in self.all:
                raise ValueError("Invalid value (%r) for configuration variable %r. Valid "
                                 "options are %s" % (v, self.fullname, self.all))
            return v
        super().__init__(default, check, doc)

    def describe(self):
        return "%s" % (self.all,)


class DeviceParam(ConfigParam):
    """cpu, cuda, cudaN, or a server-side context name (dev0 ...)."""

    def __init__(self, default, doc=""):
        def check(v):
            v = str(v)
            if v in ("cpu", "cuda", "gpu") or v.startswith(("cuda", "gpu", "dev", "opencl")):
                return v
            raise ValueError("Invalid value (%r) for configuration variable 'device'; expected "
                             "cpu, cuda, cudaN or devN" % (v,))
        super().__init__(default, check, doc)

    def describe(self):
        return "cpu, cuda*, dev*"


def _to_bool(v):
    if isinstance(v, str):
        low = v.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off", ""):
            return False
        raise ValueError("Invalid boolean value %r" % (v,))
    return bool(v)


class BoolParam(ConfigParam):
    def __init__(self, default, doc=""):
        super().__init__(default, _to_bool, doc)

    def describe(self):
        return "<class 'bool'>"


class FloatParam(ConfigParam):
    def __init__(self, default, doc=""):
        super().__init__(default, float, doc)

    def describe(self):
        return "<class 'float'>"


class IntParam(ConfigParam):
    def __init__(self, default, doc=""):
        super().__init__(default, int, doc)

    def describe(self):
        return "<class 'int'>"


class StrParam(ConfigParam):
    def __init__(self, default, doc=""):
        super().__init__(default, str, doc)

    def describe(self):
        return repr(self.default)


def parse_config_string(text, issue_warnings=True):
    """THEANO_FLAGS syntax: comma-separated key=value pairs; later keys override earlier ones."""
    result = {}
    splitter = shlex.shlex(text, posix=True)
    splitter.whitespace = ","
    splitter.whitespace_split = True
    for pair in splitter:
        pair = pair.strip()
        if not pair:
            continue
        if "=" not in pair:
            if issue_warnings:
                warnings.warn("Config key %r has no value, ignoring it" % pair,
                              TensordConfigWarning, stacklevel=2)
            continue
        key, value = pair.split("=", 1)
        result[key.strip()] = value.strip()
    return result


class _Section:
    """Attribute access for one level of dotted option names."""

    def __init__(self, root, prefix):
        object.__setattr__(self, "_root", root)
        object.__setattr__(self, "_prefix", prefix)

    def _full(self, name):
        return self._prefix + name

    def __getattr__(self, name):
        full = self._full(name)
        root = self._root
        if full in root._params:
            return root._values[full]
        if any(k.startswith(full + ".") for k in root._params):
            return _Section(root, full + ".")
        raise AttributeError("tensord.config has no option %r" % full)

    def __setattr__(self, name, value):
        full = self._full(name)
        param = self._root._params.get(full)
        if param is None:
            raise AttributeError("tensord.config has no option %r" % full)
        self._root._values[full] = param.filter(value)

    def __dir__(self):
        n = len(self._prefix)
        return sorted({k[n:].split(".")[0] for k in self._root._params
                       if k.startswith(self._prefix)})


class Config(_Section):
    def __init__(self):
        object.__setattr__(self, "_params", {})
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_env_values", {})
        super().__init__(self, "")

    def add(self, name, doc, param):
        if name in self._params:
            raise ValueError("config option %r is already registered" % name)
        param.fullname = name
        param.doc = doc
        self._params[name] = param
        value = param.default
        if name in self._env_values:
            value = self._env_values[name]
        self._values[name] = param.filter(value)

    def load_flags(self, text):
        """Apply a THEANO_FLAGS-style string; unknown keys warn (they may be meant for Theano)."""
        for key, value in parse_config_string(text).items():
            self._env_values[key] = value
            if key in self._params:
                self._values[key] = self._params[key].filter(value)
            else:
                warnings.warn("tensord does not recognise this flag: %s" % key,
                              TensordConfigWarning, stacklevel=2)

    def set(self, name, value):
        """Sets an option by its full (possibly dotted) name."""
        if name not in self._params:
            raise AttributeError("tensord.config has no option %r" % name)
        self._values[name] = self._params[name].filter(value)

    def reset(self, name=None):
        """Back to default (and TENSORD_FLAGS) values; used by tests."""
        names = [name] if name else list(self._params)
        for n in names:
            p = self._params[n]
            self._values[n] = p.filter(self._env_values.get(n, p.default))

    def options(self):
        return dict(self._values)

    def __str__(self):
        lines = []
        for name, param in self._params.items():
            lines.append(str(param))
            lines.append("    Doc:  %s" % param.doc)
            lines.append("    Value:  %s" % (self._values[name],))
            lines.append("")
        return "\n".join(lines)

    def __repr__(self):
        return "<tensord.config: %s>" % ", ".join(
            "%s=%s" % kv for kv in self._values.items())


config = Config()


def AddConfigVar(name, doc, param):
    config.add(name, doc, param)


AddConfigVar("floatX", "Default floating-point precision for python casts and T.matrix() etc.",
             EnumStr("float32", "float64", "float16"))
AddConfigVar("device", "Default device of the server this client starts (cpu, cuda, cudaN).",
             DeviceParam("cpu"))
AddConfigVar("contexts", "Context map for a started server, e.g. 'dev0->cuda0;dev1->cuda1'.",
             StrParam(""))
AddConfigVar("mode", "Default compilation mode.",
             EnumStr("Mode", "FAST_RUN", "FAST_COMPILE", "DebugMode", "DEBUG_MODE",
                     "NanGuardMode"))
AddConfigVar("NanGuardMode.nan_is_error", "NanGuardMode raises on NaN by default.",
             BoolParam(True))
AddConfigVar("NanGuardMode.inf_is_error", "NanGuardMode raises on +-inf by default.",
             BoolParam(True))
AddConfigVar("NanGuardMode.big_is_error", "NanGuardMode raises on |x| > 1e10 by default.",
             BoolParam(True))
AddConfigVar("optimizer", "Optimizer used when mode is 'Mode'.",
             EnumStr("fast_run", "merge", "fast_compile", "None", "o1", "o2", "o3", "o4"))
AddConfigVar("optimizer_excluding", "Optimizer passes to skip, colon-separated (Theano's syntax, "
             "e.g. 'stabilize:specialize'); unknown names are refused by the server.",
             StrParam(""))
AddConfigVar("profile", "Collect per-function run profiles.", BoolParam(False))
AddConfigVar("profile_memory", "Collect memory profiles (server side).", BoolParam(False))
AddConfigVar("profile_optimizer", "Profile the optimizer (server side).", BoolParam(False))
AddConfigVar("exception_verbosity", "How much detail errors carry.", EnumStr("low", "high"))
AddConfigVar("on_unused_input", "What function() does about inputs not used by the outputs.",
             EnumStr("raise", "warn", "ignore"))
AddConfigVar("cast_policy", "How Python scalars are typed (only Theano's 'custom' is supported).",
             EnumStr("custom"))
AddConfigVar("max_message_bytes", "Largest gRPC message sent or received (the server has its "
             "own --max_message_bytes).", IntParam(1 << 30))
AddConfigVar("gpuarray.preallocate", "Fraction of device memory to preallocate (server side).",
             FloatParam(0.0))

config.load_flags(os.environ.get("TENSORD_FLAGS", ""))
