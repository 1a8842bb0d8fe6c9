"""pp / pprint / debugprint of unoptimized graphs (pure client); debugprint of compiled functions
and pydotprint (server-backed, at the end)."""

import shutil

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T


def test_seed_pp_examples():
    x = T.matrix("x")
    y = T.matrix("y")
    z = x + y
    assert theano.pp(z) == "(x + y)"
    assert theano.printing.pprint(z) == "(x + y)"
    a = T.matrix()
    b = T.matrix()
    assert theano.pp(a + b) == "(<TensorType(float32, matrix)> + <TensorType(float32, matrix)>)"
    x = T.matrix("x")
    x = x + x
    assert theano.pp(x) == "(x + x)"


def test_pp_operators_and_functions():
    x, y = T.matrices("x", "y")
    s = T.scalar("s")
    assert theano.pp(x - y) == "(x - y)"
    assert theano.pp(x * y) == "(x * y)"
    assert theano.pp(x / y) == "(x / y)"
    assert theano.pp(-x) == "(-x)"
    assert theano.pp(x ** y) == "(x ** y)"
    assert theano.pp((x + y) * x) == "((x + y) * x)"
    assert theano.pp(T.add(x, y, x)) == "(x + y + x)"
    assert theano.pp(T.exp(x)) == "exp(x)"
    assert theano.pp(T.log(x)) == "log(x)"
    # The broadcasting dimshuffle Elemwise inserts is hidden, as in Theano.
    assert theano.pp(x * s) == "(x * s)"
    assert theano.pp(x ** 2) == "(x ** TensorConstant{2})"
    assert theano.pp(x.T) == "x.T"
    assert theano.pp(T.fill(x, s)) == "fill(x, s)"
    assert theano.pp(T.dot(x, y)) == "(x \u00b7 y)"


def test_pp_other_ops_use_op_names():
    x = T.matrix("x")
    assert theano.pp(T.sum(x, axis=0)) == "Sum{axis=[0], acc_dtype=float64}(x)"
    assert theano.pp(T.cast(x, "int32")) == "Elemwise{Cast{int32}}(x)"
    assert theano.pp(x.reshape((4,))) == "Reshape{1}(x, TensorConstant{(1,) of 4})"
    assert theano.pp(x.reshape((2, -1))) == "Reshape{2}(x, TensorConstant{%s})" % np.array([2, -1])


def test_seed_debugprint():
    x = T.matrix("x")
    y = T.matrix("y")
    z = x + y
    text = theano.printing.debugprint(z, file="str")
    assert text == ("Elemwise{add,no_inplace} [id A] ''   \n"
                    " |x [id B]\n"
                    " |y [id C]\n")


def test_debugprint_nested_and_shared_nodes(capsys):
    x, y = T.matrices("x", "y")
    s = x + y
    z = s * s
    theano.printing.debugprint(z)
    out = capsys.readouterr().out
    assert out == ("Elemwise{mul,no_inplace} [id A] ''   \n"
                   " |Elemwise{add,no_inplace} [id B] ''   \n"
                   " | |x [id C]\n"
                   " | |y [id D]\n"
                   " |Elemwise{add,no_inplace} [id B] ''   \n")


def test_debugprint_dimshuffle_and_constants():
    a = T.matrix("a")
    text = theano.printing.debugprint(a * 2, file="str")
    assert text.splitlines() == ["Elemwise{mul,no_inplace} [id A] ''   ",
                                 " |a [id B]",
                                 " |InplaceDimShuffle{x,x} [id C] ''   ",
                                 "   |TensorConstant{2} [id D]"]


# -- debugprint of compiled functions and pydotprint (server-backed) ---------------------------

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz `dot` is not installed (deploy/install-deps.sh)")


@pytest.mark.usefixtures("server")
def test_debugprint_of_function_shows_the_optimized_graph():
    x = T.matrix("x")
    y = T.matrix("y")
    z = (x + y) * x
    text = theano.printing.debugprint(theano.function([x, y], z), file="str")
    lines = text.splitlines()
    # Theano's layout for compiled functions: op, id, name, position in the schedule.
    assert lines[0].endswith(" [id A] ''   %d" % (len([l for l in lines if "''" in l]) - 1))
    assert lines[0].startswith("Elemwise{")
    assert " |x [id " in text and " |y [id " in text
    # The seed's point: the two elementwise ops become one fused node.
    assert "Composite{" in lines[0] or "Elemwise{mul,no_inplace}" in lines[0]


@pytest.mark.usefixtures("server")
def test_debugprint_of_function_prints_updates_after_outputs():
    w = theano.shared(np.zeros(2, dtype="float32"), name="w")
    v = T.vector("v")
    f = theano.function([v], v.sum(), updates=[(w, w + v)])
    text = theano.printing.debugprint(f, file="str")
    assert text.startswith("Sum{acc_dtype=float64} [id A] ''   ")
    assert " |w [id " in text and " |v [id B]" in text


@needs_dot
@pytest.mark.usefixtures("server")
def test_pydotprint_seed_examples_write_png(tmp_path, capsys):
    a = T.scalar()
    g = theano.grad(a ** 2, a)
    unoptimized = tmp_path / "g.png"
    theano.printing.pydotprint(g, outfile=str(unoptimized))
    assert unoptimized.read_bytes()[:8] == PNG_MAGIC
    assert "The output file is available at %s" % unoptimized in capsys.readouterr().out
    optimized = tmp_path / "f.png"
    theano.printing.pydotprint(theano.function([a], g), outfile=str(optimized))
    assert optimized.read_bytes()[:8] == PNG_MAGIC


@needs_dot
@pytest.mark.usefixtures("server")
def test_pydotprint_default_file_formats_and_bytes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    x = T.vector("x")
    theano.printing.pydotprint(T.exp(x) + 1, print_output_file=False)
    assert (tmp_path / "tensord.pydotprint.cpu.png").read_bytes()[:8] == PNG_MAGIC
    svg = theano.printing.pydotprint(T.exp(x), format="svg", return_image=True)
    assert b"<svg" in svg
    dot = theano.printing.pydotprint(theano.function([x], T.exp(x) * 2), format="dot",
                                     return_image=True).decode()
    assert dot.startswith("digraph G {") and "shape=box" in dot


def test_pydotprint_graph_text_and_missing_graphviz(monkeypatch):
    x, y = T.matrices("x", "y")
    dot = theano.printing.pydotgraph([x + y, x * 2])
    assert '[label="Elemwise{add,no_inplace}", shape=box' in dot
    assert '[label="x TensorType(float32, matrix)", shape=ellipse, fillcolor=limegreen]' in dot
    assert "fillcolor=SpringGreen" in dot and dot.count("fillcolor=dodgerblue") == 2
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ImportError, match="Graphviz"):
        theano.printing.pydotprint(x + y, return_image=True)
    with pytest.raises(TypeError):
        theano.printing.pydotprint(42)
