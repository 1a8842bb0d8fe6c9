"""Configuration options, in the style of theano.config.

Options live in a registry (name -> ConfigParam). Values come from, in rising precedence: the
option's default, Theano's config file(s) (~/.theanorc, or the list in THEANORC), tensord's
(~/.tensordrc, or the os.pathsep-separated list in TENSORDRC, in .theanorc's INI format), the
THEANO_FLAGS environment variable, the TENSORD_FLAGS one (THEANO_FLAGS syntax:
`floatX=float64,device=cpu,contexts=dev0->cuda0;dev1->cuda1`), and assignments in code
(`tensord.config.floatX = 'float64'`). So a Theano user's settings carry over, and tensord's win
where both set an option; what tensord does not know or cannot take from Theano's settings
warns instead of failing (they may be meant for Theano itself). Dotted names (`gpuarray.preallocate`) are reached as
attributes of sections (`config.gpuarray.preallocate`).
"""

import configparser
import os
import shlex
import warnings

__all__ = ["config", "AddConfigVar", "ConfigParam", "EnumStr", "BoolParam", "FloatParam",
           "IntParam", "StrParam", "SecretStrParam", "parse_config_string", "parse_config_file", "config_files",
           "theano_config_files",
           "TensordConfigWarning"]


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
    """cpu, cuda, cudaN, sim/simN (a simulated device, for tests without a GPU), emu/emuN (the
    CUDA provider emulated on the CPU, for tests), or a server-side context name (dev0 ...)."""

    def __init__(self, default, doc=""):
        def check(v):
            v = str(v)
            if v in ("cpu", "cuda", "gpu") or v.startswith(("cuda", "gpu", "dev", "opencl", "sim", "emu")):
                return v
            raise ValueError("Invalid value (%r) for configuration variable 'device'; expected "
                             "cpu, cuda, cudaN, simN, emuN or devN" % (v,))
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


class SecretStrParam(StrParam):
    """A string printed as '<set>' or '' (a token must not end up in a log or a notebook)."""

    secret = True


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
        self._root.set(self._full(name), value)

    def __delattr__(self, name):
        # `del config.x` undoes an assignment in code: back to the file / flags / default value
        # (pytest's monkeypatch.undo deletes what it set on an object with no __dict__ entry).
        full = self._full(name)
        if full not in self._root._params:
            raise AttributeError("tensord.config has no option %r" % full)
        self._root.reset(full)

    def __dir__(self):
        n = len(self._prefix)
        return sorted({k[n:].split(".")[0] for k in self._root._params
                       if k.startswith(self._prefix)})


SOURCE_DEFAULT = "default"
SOURCE_FLAGS = "TENSORD_FLAGS"
SOURCE_THEANO_FLAGS = "THEANO_FLAGS"
SOURCE_CODE = "set in code"


def config_files(environ=None, variable="TENSORDRC", default=".tensordrc"):
    """The config files read at import: TENSORDRC (os.pathsep-separated, like THEANORC) or
    ~/.tensordrc (Theano's: THEANORC or ~/.theanorc, with `variable` and `default`). Later
    files override earlier ones; missing files are skipped."""
    environ = os.environ if environ is None else environ
    rc = environ.get(variable)
    if rc is None:
        home = environ.get("HOME") or os.path.expanduser("~")
        return [os.path.join(home, default)]
    return [os.path.expanduser(p) for p in rc.split(os.pathsep) if p]


def theano_config_files(environ=None):
    """Theano's config files, read before tensord's: THEANORC or ~/.theanorc."""
    return config_files(environ, "THEANORC", ".theanorc")


def parse_config_file(path):
    """Reads one .theanorc-style INI file into {full option name: value string}.

    Keys under [global] (or before any section header) are top-level options; keys under
    [Section] are 'Section.key' (e.g. [NanGuardMode] nan_is_error -> NanGuardMode.nan_is_error).
    """
    with open(path, encoding="utf-8") as f:
        text = f.read()
    parser = configparser.RawConfigParser()
    parser.optionxform = str  # option names are case-sensitive (floatX)
    try:
        parser.read_string(text, source=path)
    except configparser.MissingSectionHeaderError:
        parser = configparser.RawConfigParser()
        parser.optionxform = str
        try:
            parser.read_string("[global]\n" + text, source=path)
        except configparser.Error as e:
            raise ValueError("tensord config file %s is malformed: %s" % (path, e)) from None
    except configparser.Error as e:
        raise ValueError("tensord config file %s is malformed: %s" % (path, e)) from None
    result = {}
    for section in parser.sections():
        for key, value in parser.items(section):
            name = key if section == "global" else "%s.%s" % (section, key)
            result[name] = value.strip()
    return result


class Config(_Section):
    def __init__(self):
        object.__setattr__(self, "_params", {})
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_sources", {})
        # name -> (value, source, lenient) from config files and flags, highest precedence
        # last; lenient: from Theano's settings, where a value tensord refuses only warns
        object.__setattr__(self, "_loaded", {})
        super().__init__(self, "")

    def _filter(self, name, value, source):
        try:
            return self._params[name].filter(value)
        except (ValueError, TypeError) as e:
            raise ValueError("Bad value %r for tensord.config option %r (from %s): %s"
                             % (value, name, source, e)) from None

    def _assign(self, name, value, source):
        self._values[name] = self._filter(name, value, source)
        self._sources[name] = source

    def add(self, name, doc, param):
        if name in self._params:
            raise ValueError("config option %r is already registered" % name)
        param.fullname = name
        param.doc = doc
        self._params[name] = param
        self._assign(name, param.default, SOURCE_DEFAULT)
        if name in self._loaded:
            self._assign_loaded(name)

    def _warn_unknown(self, key, source):
        hint = [n for n in self._params if n.endswith("." + key)]
        msg = "tensord does not recognise this flag: %s (from %s)" % (key, source)
        if hint:
            msg += "; did you mean %s?" % " or ".join(hint)
        warnings.warn(msg, TensordConfigWarning, stacklevel=3)

    def _assign_loaded(self, name):
        """Takes the loaded value of `name`; one from Theano's settings that tensord refuses
        warns and leaves the option as it was."""
        value, source, lenient = self._loaded[name]
        try:
            self._assign(name, value, source)
            return True
        except ValueError as e:
            if not lenient:
                raise
            del self._loaded[name]
            warnings.warn("tensord ignores a Theano setting it cannot take: %s" % e,
                          TensordConfigWarning, stacklevel=4)
            return False

    def _load_values(self, values, source, lenient=False):
        for key, value in values.items():
            previous = self._loaded.get(key)
            self._loaded[key] = (value, source, lenient)
            if key not in self._params:
                self._warn_unknown(key, source)
            elif not self._assign_loaded(key) and previous is not None:
                self._loaded[key] = previous  # the refused value leaves the earlier one

    def load_flags(self, text, source=SOURCE_FLAGS):
        """Apply a THEANO_FLAGS-style string; unknown keys warn (they may be meant for Theano),
        and so do bad values when the string is THEANO_FLAGS."""
        self._load_values(parse_config_string(text), source, source == SOURCE_THEANO_FLAGS)

    def load_file(self, path, theano=False):
        """Apply one .theanorc-style INI file (see parse_config_file); missing files are skipped.
        `theano`: one of Theano's own, whose values tensord refuses only warn."""
        if not os.path.isfile(path):
            return False
        self._load_values(parse_config_file(path), "config file %s" % path, theano)
        return True

    def load_environment(self, environ=None):
        """What import does: Theano's config files, then tensord's (TENSORDRC or ~/.tensordrc),
        then THEANO_FLAGS, then TENSORD_FLAGS; each later one wins."""
        environ = os.environ if environ is None else environ
        for path in theano_config_files(environ):
            self.load_file(path, theano=True)
        for path in config_files(environ):
            self.load_file(path)
        self.load_flags(environ.get("THEANO_FLAGS", ""), SOURCE_THEANO_FLAGS)
        self.load_flags(environ.get("TENSORD_FLAGS", ""))

    def fresh(self):
        """A new Config with the same options at their defaults (nothing loaded); for tests."""
        cfg = Config()
        for name, param in self._params.items():
            cfg.add(name, param.doc, param)
        return cfg

    def set(self, name, value):
        """Sets an option by its full (possibly dotted) name; overrides files and flags."""
        if name not in self._params:
            raise AttributeError("tensord.config has no option %r" % name)
        self._assign(name, value, SOURCE_CODE)

    def source(self, name):
        """Where an option's value came from: 'default', 'config file PATH', 'THEANO_FLAGS',
        'TENSORD_FLAGS' or 'set in code'."""
        if name not in self._params:
            raise AttributeError("tensord.config has no option %r" % name)
        return self._sources[name]

    def chosen_device(self):
        """config.device when the user chose it (flags, config file or code), else '': what
        functions and shared variables ask the server for, which otherwise uses its own
        --device (a remote server's default stays in force unless the program says)."""
        return "" if self.source("device") == SOURCE_DEFAULT else self.device

    def reset(self, name=None):
        """Back to default (and config file / TENSORD_FLAGS) values; used by tests."""
        names = [name] if name else list(self._params)
        for n in names:
            self._assign(n, self._params[n].default, SOURCE_DEFAULT)
            if n in self._loaded:
                self._assign_loaded(n)

    def options(self):
        return dict(self._values)

    def snapshot(self):
        """Values and their sources, for restore(); used by tests."""
        return dict(self._values), dict(self._sources)

    def restore(self, snap):
        values, sources = snap
        self._values.update(values)
        self._sources.update(sources)

    def __str__(self):
        lines = []
        for name, param in self._params.items():
            lines.append(str(param))
            lines.append("    Doc:  %s" % param.doc)
            lines.append("    Value:  %s" % (self._shown(name),))
            lines.append("    Source:  %s" % self._sources[name])
            lines.append("")
        return "\n".join(lines)

    def _shown(self, name):
        value = self._values[name]
        if getattr(self._params[name], "secret", False):
            return "<set>" if value else ""
        return value

    def __repr__(self):
        return "<tensord.config: %s>" % ", ".join(
            "%s=%s" % (name, self._shown(name)) for name in self._values)


config = Config()
# The options' current values by full name, for the one hot path (every Function call reads
# shared_memory), where reading through a section's __getattr__ costs two Python frames.
values = config._values


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
AddConfigVar("cpu_fallback", "Run ops a device context has no kernel for on cpu, with transfers "
             "(otherwise compiling them there fails).", BoolParam(False))
AddConfigVar("profile_optimizer", "Profile the optimizer (server side).", BoolParam(False))
AddConfigVar("allow_gc", "Free each intermediate once its last reader has run, so later nodes "
             "reuse its memory (False: every intermediate is kept until the run ends and kept by "
             "the function between runs).", BoolParam(True))
AddConfigVar("exception_verbosity", "How much detail errors carry.", EnumStr("low", "high"))
AddConfigVar("on_unused_input", "What function() does about inputs not used by the outputs.",
             EnumStr("raise", "warn", "ignore"))
AddConfigVar("cast_policy", "How Python scalars are typed (only Theano's 'custom' is supported).",
             EnumStr("custom"))
AddConfigVar("shared_memory", "Pass arrays of 64 KiB or more to and from the server through "
             "POSIX shared memory instead of in messages (a server on this host only; see "
             "tensord/shared_memory.py).", BoolParam(False))
AddConfigVar("max_message_bytes", "Largest gRPC message sent or received (the server has its "
             "own --max_message_bytes).", IntParam(1 << 30))
AddConfigVar("tls_ca", "PEM file of the CA that signed the server's certificate. With it, or "
             "with a grpcs:// TENSORD_ADDRESS, the client connects over TLS (without it, to a "
             "grpcs:// address, it trusts the system's CAs).", StrParam(""))
AddConfigVar("tls_cert", "PEM client certificate, for a server that requires one "
             "(--tls_client_ca).", StrParam(""))
AddConfigVar("tls_key", "PEM private key of tls_cert.", StrParam(""))
AddConfigVar("token", "Bearer token for a server with --auth_tokens_file (default: the "
             "TENSORD_TOKEN environment variable). Printed as <set>.", SecretStrParam(""))
AddConfigVar("gpuarray.preallocate", "Fraction of device memory to preallocate (server side).",
             FloatParam(0.0))
AddConfigVar("compute_test_value", "Compute each node's tag.test_value as the graph is built "
             "(tensord.test_value): 'off', 'ignore', 'warn', 'raise' or 'pdb' (as 'raise').",
             EnumStr("off", "ignore", "warn", "raise", "pdb"))
# Theano's warn.* options warned about results that older Theano versions computed wrongly.
# tensord never had those bugs: the options are accepted (so Theano settings and code that set
# them keep working) and change nothing.
AddConfigVar("warn.ignore_bug_before", "Theano's: warn about bugs fixed after this version. "
             "Accepted; tensord has none of those bugs.",
             EnumStr("0.9", "None", "all", "0.3", "0.4", "0.4.1", "0.5", "0.6", "0.7", "0.8",
                     "0.8.1", "0.8.2", "0.10", "1.0", "1.0.1", "1.0.2", "1.0.3", "1.0.4",
                     "1.0.5"))
for _bug in ("argmax_pushdown_bug", "gpusum_01_011_0111_bug", "sum_sum_bug",
             "sum_div_dimshuffle_bug", "subtensor_merge_bug", "gpu_set_subtensor1", "vm_gc_bug",
             "signal_conv2d_interface", "reduce_join", "inc_set_subtensor1", "round",
             "identify_1pexp_bug"):
    AddConfigVar("warn." + _bug, "Theano's warning about an old bug. Accepted; tensord never "
                 "had it.", BoolParam(True))

config.load_environment()
