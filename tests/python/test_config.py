"""tensord.config: the config file (~/.tensordrc / TENSORDRC, .theanorc's INI format), its
precedence against TENSORD_FLAGS and code, str(config) with sources, and bad/unknown keys.
No server needed."""

import os
import subprocess
import sys

import pytest

import tensord
from tensord.config import TensordConfigWarning, config_files, parse_config_file


def _write(path, text):
    path.write_text(text)
    return str(path)


def _fresh(environ):
    cfg = tensord.config.fresh()
    cfg.load_environment(environ)
    return cfg


def test_defaults_have_default_source():
    cfg = _fresh({"HOME": "/nonexistent-home"})
    assert cfg.floatX == "float32"
    assert cfg.source("floatX") == "default"
    assert cfg.source("NanGuardMode.nan_is_error") == "default"


def test_home_tensordrc_is_read(tmp_path):
    rc = _write(tmp_path / ".tensordrc",
                "[global]\nfloatX = float64\ndevice = cpu\nmode = FAST_COMPILE\n\n"
                "[NanGuardMode]\nnan_is_error = False\n\n[gpuarray]\npreallocate = 0.5\n")
    cfg = _fresh({"HOME": str(tmp_path)})
    assert cfg.floatX == "float64"
    assert cfg.mode == "FAST_COMPILE"
    assert cfg.NanGuardMode.nan_is_error is False
    assert cfg.gpuarray.preallocate == 0.5
    assert cfg.source("floatX") == "config file %s" % rc
    assert cfg.source("NanGuardMode.nan_is_error") == "config file %s" % rc
    assert cfg.source("optimizer") == "default"


def test_seed_style_file_without_section_header(tmp_path):
    # The seed's ~/.theanorc example has no [global] header; keys before a header are global.
    _write(tmp_path / ".tensordrc", "floatX = float64\ndevice = cuda0\n")
    cfg = _fresh({"HOME": str(tmp_path)})
    assert (cfg.floatX, cfg.device) == ("float64", "cuda0")


def test_tensordrc_env_lists_files_later_wins(tmp_path):
    a = _write(tmp_path / "a.rc", "[global]\nfloatX = float64\nprofile = True\n")
    b = _write(tmp_path / "b.rc", "[global]\nfloatX = float16\n")
    _write(tmp_path / ".tensordrc", "[global]\nmode = FAST_COMPILE\n")
    missing = str(tmp_path / "missing.rc")
    environ = {"HOME": str(tmp_path), "TENSORDRC": os.pathsep.join([a, missing, b])}
    assert config_files(environ) == [a, missing, b]
    cfg = _fresh(environ)
    assert cfg.floatX == "float16" and cfg.source("floatX") == "config file %s" % b
    assert cfg.profile is True and cfg.source("profile") == "config file %s" % a
    # TENSORDRC replaces ~/.tensordrc, as THEANORC replaces ~/.theanorc.
    assert cfg.mode == "Mode" and cfg.source("mode") == "default"


def test_precedence_flags_over_file_code_over_all(tmp_path):
    rc = _write(tmp_path / ".tensordrc", "[global]\nfloatX = float64\ndevice = cuda1\n")
    cfg = _fresh({"HOME": str(tmp_path), "TENSORD_FLAGS": "floatX=float16"})
    assert cfg.floatX == "float16" and cfg.source("floatX") == "TENSORD_FLAGS"
    assert cfg.device == "cuda1" and cfg.source("device") == "config file %s" % rc
    cfg.floatX = "float32"
    assert cfg.floatX == "float32" and cfg.source("floatX") == "set in code"
    cfg.reset("floatX")
    assert cfg.floatX == "float16" and cfg.source("floatX") == "TENSORD_FLAGS"


def test_del_undoes_a_code_assignment(tmp_path, monkeypatch):
    _write(tmp_path / ".tensordrc", "[global]\nfloatX = float64\n")
    cfg = _fresh({"HOME": str(tmp_path)})
    cfg.floatX = "float16"
    del cfg.floatX
    assert cfg.floatX == "float64" and cfg.source("floatX").startswith("config file ")
    with pytest.raises(AttributeError, match="no option 'nosuch'"):
        del cfg.nosuch
    # pytest's monkeypatch undoes a setattr on the config with delattr.
    monkeypatch.setattr(cfg, "profile", True)
    assert cfg.profile is True
    monkeypatch.undo()
    assert cfg.profile is False and cfg.source("profile") == "default"


def test_str_lists_every_option_with_value_doc_and_source(tmp_path):
    rc = _write(tmp_path / ".tensordrc", "[global]\nfloatX = float64\n")
    cfg = _fresh({"HOME": str(tmp_path), "TENSORD_FLAGS": "mode=FAST_RUN"})
    cfg.profile = True
    text = str(cfg)
    for name in cfg.options():
        assert "\n%s (" % name in "\n" + text, name
    block = text.split("floatX (")[1].split("\n\n")[0]
    assert "Value:  float64" in block and "Source:  config file %s" % rc in block
    assert "Doc:  Default floating-point precision" in block
    assert "float16" in block  # the type (the enum's choices)
    assert "Source:  TENSORD_FLAGS" in text.split("\nmode (")[1].split("\n\n")[0]
    assert "Source:  set in code" in text.split("\nprofile (")[1].split("\n\n")[0]
    assert "Source:  default" in text.split("\noptimizer (")[1].split("\n\n")[0]


def test_bad_value_in_file_names_key_and_file(tmp_path):
    rc = _write(tmp_path / ".tensordrc", "[global]\nfloatX = float99\n")
    with pytest.raises(ValueError) as exc:
        _fresh({"HOME": str(tmp_path)})
    msg = str(exc.value)
    assert "'floatX'" in msg and rc in msg and "float99" in msg


def test_bad_bool_in_section_names_dotted_key(tmp_path):
    _write(tmp_path / ".tensordrc", "[NanGuardMode]\nnan_is_error = maybe\n")
    with pytest.raises(ValueError, match=r"NanGuardMode\.nan_is_error.*config file"):
        _fresh({"HOME": str(tmp_path)})


def test_bad_value_in_flags_and_code_name_their_source(tmp_path):
    with pytest.raises(ValueError, match=r"'profile_memory'.*TENSORD_FLAGS"):
        _fresh({"HOME": str(tmp_path), "TENSORD_FLAGS": "profile_memory=perhaps"})
    cfg = _fresh({"HOME": str(tmp_path)})
    with pytest.raises(ValueError, match=r"'max_message_bytes'.*set in code"):
        cfg.max_message_bytes = "lots"
    assert cfg.max_message_bytes == 1 << 30
    with pytest.raises(AttributeError, match="no option 'nosuch'"):
        cfg.nosuch = 1


def test_unknown_keys_warn_with_source_and_hint(tmp_path):
    rc = _write(tmp_path / ".tensordrc", "[global]\npreallocate = 1\n[lib]\ncnmem = 1\n")
    with pytest.warns(TensordConfigWarning) as record:
        cfg = _fresh({"HOME": str(tmp_path), "TENSORD_FLAGS": "blas.ldflags=-lblas"})
    messages = [str(w.message) for w in record]
    assert any("preallocate" in m and rc in m and "gpuarray.preallocate" in m
               for m in messages), messages
    assert any("lib.cnmem" in m for m in messages)
    assert any("blas.ldflags" in m and "TENSORD_FLAGS" in m for m in messages)
    assert cfg.gpuarray.preallocate == 0.0


def test_malformed_file_is_a_clear_error(tmp_path):
    rc = _write(tmp_path / ".tensordrc", "[global\nfloatX = float64\n")
    with pytest.raises(ValueError, match="malformed") as exc:
        parse_config_file(rc)
    assert rc in str(exc.value)


def test_import_reads_tensordrc(tmp_path):
    _write(tmp_path / ".tensordrc", "[global]\nfloatX = float64\n")
    code = ("import tensord, tensord.tensor as T; print(tensord.config.floatX, "
            "T.matrix().dtype, tensord.config.source('floatX'))")
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.split()[:3] == ["float64", "float64", "config"]
    env["TENSORD_FLAGS"] = "floatX=float16"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["float16", "float16", "TENSORD_FLAGS"]


# ---- a Theano user's settings: ~/.theanorc / THEANORC and THEANO_FLAGS (issue 17) ----

def test_theanorc_is_read_and_tensordrc_wins_where_both_set(tmp_path):
    theanorc = _write(tmp_path / ".theanorc", "[global]\nfloatX = float64\nmode = FAST_COMPILE\n")
    cfg = _fresh({"HOME": str(tmp_path)})
    assert cfg.floatX == "float64" and cfg.source("floatX") == "config file %s" % theanorc
    tensordrc = _write(tmp_path / ".tensordrc", "[global]\nfloatX = float16\n")
    cfg = _fresh({"HOME": str(tmp_path)})
    assert cfg.floatX == "float16" and cfg.source("floatX") == "config file %s" % tensordrc
    assert cfg.mode == "FAST_COMPILE" and cfg.source("mode") == "config file %s" % theanorc


def test_theanorc_env_replaces_the_home_file(tmp_path):
    _write(tmp_path / ".theanorc", "[global]\nmode = FAST_COMPILE\n")
    listed = _write(tmp_path / "listed.rc", "[global]\nfloatX = float64\n")
    cfg = _fresh({"HOME": str(tmp_path), "THEANORC": listed})
    assert cfg.floatX == "float64" and cfg.mode == "Mode"


def test_theano_flags_beat_files_and_lose_to_tensord_flags(tmp_path):
    _write(tmp_path / ".tensordrc", "[global]\nfloatX = float16\ndevice = cpu\n")
    environ = {"HOME": str(tmp_path), "THEANO_FLAGS": "floatX=float64,device=cuda0,profile=True",
               "TENSORD_FLAGS": "device=cuda1"}
    cfg = _fresh(environ)
    assert cfg.floatX == "float64" and cfg.source("floatX") == "THEANO_FLAGS"
    assert cfg.profile is True
    assert cfg.device == "cuda1" and cfg.source("device") == "TENSORD_FLAGS"
    cfg.floatX = "float32"
    cfg.reset("floatX")
    assert cfg.floatX == "float64" and cfg.source("floatX") == "THEANO_FLAGS"


def test_theano_settings_tensord_cannot_take_warn_instead_of_failing(tmp_path):
    rc = _write(tmp_path / ".theanorc", "[global]\nfloatX = float128\n[lib]\ncnmem = 0.8\n")
    _write(tmp_path / ".tensordrc", "[global]\nmode = FAST_COMPILE\n")
    environ = {"HOME": str(tmp_path), "THEANO_FLAGS": "mode=NOSUCHMODE,blas.ldflags=-lblas"}
    with pytest.warns(TensordConfigWarning) as record:
        cfg = _fresh(environ)
    messages = [str(w.message) for w in record]
    assert any("float128" in m and rc in m for m in messages), messages
    assert any("lib.cnmem" in m for m in messages), messages
    assert any("NOSUCHMODE" in m and "THEANO_FLAGS" in m for m in messages), messages
    assert any("blas.ldflags" in m and "THEANO_FLAGS" in m for m in messages), messages
    # Refused values leave what was there: the default, or the earlier file's value.
    assert cfg.floatX == "float32" and cfg.source("floatX") == "default"
    assert cfg.mode == "FAST_COMPILE"
    cfg.reset("mode")
    assert cfg.mode == "FAST_COMPILE"
    # tensord's own settings stay strict.
    with pytest.raises(ValueError, match="float128"), pytest.warns(TensordConfigWarning):
        _fresh({"HOME": str(tmp_path), "TENSORD_FLAGS": "floatX=float128"})


def test_import_reads_theano_flags(tmp_path):
    code = "import tensord; print(tensord.config.floatX, tensord.config.source('floatX'))"
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "THEANO_FLAGS": "floatX=float64"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["float64", "THEANO_FLAGS"]


def test_theanos_warn_options_are_accepted(tmp_path, recwarn):
    cfg = _fresh({"HOME": str(tmp_path),
                  "THEANO_FLAGS": "warn.ignore_bug_before=all,warn.round=False,warn.sum_sum_bug=0"})
    assert not [w for w in recwarn if issubclass(w.category, TensordConfigWarning)]
    assert cfg.warn.ignore_bug_before == "all"
    assert cfg.warn.round is False and cfg.warn.sum_sum_bug is False
    assert cfg.warn.argmax_pushdown_bug is True
    cfg.warn.identify_1pexp_bug = False
    assert cfg.source("warn.identify_1pexp_bug") == "set in code"
