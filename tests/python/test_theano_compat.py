"""The optional `theano` distribution (clients/python/theano-compat, issue 17 item 8): an
unmodified Theano program runs through it, `theano.X` is tensord's own module, a Theano module
tensord lacks fails to import with a clear error, and the distribution installs with pip."""

import os
import shutil
import subprocess
import sys

import pytest

from tensord.connection import get_client

pytestmark = pytest.mark.usefixtures("server")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLIENT = os.path.join(ROOT, "clients", "python")
COMPAT = os.path.join(CLIENT, "theano-compat")

THEANO_PROGRAM = '''
import numpy
import theano
import theano.tensor as T
from theano import function, shared
from theano.tensor.nnet import conv2d
from theano.tensor.signal import pool
from theano.sandbox.rng_mrg import MRG_RandomStreams
from theano.ifelse import ifelse
import theano.printing

x = T.dmatrix("x")
logistic = function([x], 1 / (1 + T.exp(-x)))
print(logistic([[0, 1], [-1, -2]]).round(4).tolist())
state = shared(0)
inc = T.iscalar("inc")
accumulator = function([inc], state, updates=[(state, state + inc)])
accumulator(1); accumulator(300)
print(state.get_value())
im = T.tensor4("im")
w = shared(numpy.ones((2, 1, 3, 3), dtype=theano.config.floatX))
out = pool.pool_2d(conv2d(im, w), (2, 2), ignore_border=True)
print(function([im], out)(numpy.ones((1, 1, 6, 6), dtype=theano.config.floatX)).shape)
print(function([x], ifelse(T.lt(x.sum(), 0), x, 2 * x))([[1.0]]).tolist())
print(function([], MRG_RandomStreams(seed=234).uniform((2,)))().shape)
r, _ = theano.scan(lambda v: v * 2, sequences=T.arange(3))
print(function([], r)().tolist())
import tensord
print(theano.config is tensord.config, theano.tensor.nnet.conv2d is conv2d)
print("Elemwise" in theano.printing.debugprint(logistic, file="str"))
'''


def _run(code, path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path + [CLIENT]),
               TENSORD_ADDRESS=get_client().address)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)


def test_an_unmodified_theano_program_runs():
    out = _run(THEANO_PROGRAM, [COMPAT])
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines() == [
        "[[0.5, 0.7311], [0.2689, 0.1192]]", "301", "(1, 2, 2, 2)", "[[2.0]]", "(2,)",
        "[0, 2, 4]", "True True", "True"]


def test_submodules_are_attributes_as_theano_code_reads_them():
    out = _run("import theano\n"
               "from theano.compile.monitormode import MonitorMode\n"
               "print(theano.compile.MonitorMode is MonitorMode, theano.ifelse.ifelse.__name__)",
               [COMPAT])
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["True", "ifelse"]


def test_a_theano_module_tensord_lacks_is_a_clear_import_error():
    out = _run("import theano.gof", [COMPAT])
    assert out.returncode != 0
    assert "No module named 'theano.gof'" in out.stderr
    assert "tensord" in out.stderr and "tensord.gof" in out.stderr


def test_the_distribution_installs_with_pip(tmp_path):
    # Built from a copy: setuptools writes build/ and egg-info next to the sources.
    source, target = str(tmp_path / "src"), str(tmp_path / "site")
    shutil.copytree(COMPAT, source)
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                          "--no-build-isolation", "--disable-pip-version-check", "--target",
                          target, source], capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stderr[-2000:]
    out = _run("import theano, theano.tensor as T; print(theano.__version__, T.dvector().ndim)",
               [target])
    assert out.returncode == 0, out.stderr[-2000:]
    version, ndim = out.stdout.split()
    assert version.startswith("1.0.5+tensord") and ndim == "1"
