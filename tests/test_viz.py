"""make_dot: exact DOT text, one node per tensor and op, colours, clusters, big graphs, rendering."""
import os
import re
import shutil
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor
from autograd.grad_mode import module_scope
from autograd.viz import GraphvizNotFoundError, nn_graph

HAS_DOT = shutil.which("dot") is not None
requires_dot = pytest.mark.skipif(
    not HAS_DOT and os.environ.get("DAGRAD_REQUIRE_DOT") != "1",
    reason="Graphviz's dot program is not installed (set DAGRAD_REQUIRE_DOT=1 to fail instead)")

TABLE = '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
TENSOR = 'margin="0.08,0.04" shape=box style="filled,rounded"'
OP = 'fillcolor="#ffe8a3" margin="0.05,0.02" shape=ellipse style=filled'

AFFINE_DOT = f"""digraph dagrad {{
	graph [fontname=Helvetica fontsize=10 rankdir=TB]
	node [fontname=Helvetica fontsize=10]
	edge [arrowsize=0.7 fontname=Helvetica fontsize=9]
	t0 [label={TABLE}<TR><TD>(1, 2) float32</TD></TR></TABLE>> fillcolor="#b5e6a5" {TENSOR}]
	op0 [label=Add {OP}]
	t1 [label={TABLE}<TR><TD>(1, 2) float32</TD></TR></TABLE>> fillcolor=white {TENSOR}]
	t2 [label={TABLE}<TR><TD><B>b</B></TD></TR><TR><TD>(2,) float32</TD></TR></TABLE>> fillcolor="#a8d5ff" {TENSOR}]
	op1 [label=Mul {OP}]
	t3 [label={TABLE}<TR><TD><B>x</B></TD></TR><TR><TD>(1, 2) float32</TD></TR></TABLE>> fillcolor="#e3e3e3" {TENSOR}]
	t4 [label={TABLE}<TR><TD><B>W</B></TD></TR><TR><TD>(1, 2) float32</TD></TR></TABLE>> fillcolor="#a8d5ff" {TENSOR}]
	op0 -> t0
	t1 -> op0 [label=0]
	t2 -> op0 [label=1]
	op1 -> t1
	t3 -> op1 [label=0]
	t4 -> op1 [label=1]
}}
"""


def affine():
    x = Tensor([[1.0, 2.0]], name="x")
    W = Tensor([[0.5, -1.0]], requires_grad=True, name="W")
    b = Tensor([0.25, 0.0], requires_grad=True, name="b")
    return x * W + b


def node_lines(source: str, prefix: str) -> list:
    return [line for line in source.splitlines() if line.strip().startswith(prefix) and "->" not in line]


# ---- structure and text ----

def test_dot_text_of_x_times_W_plus_b_is_exact():
    graph = ag.make_dot(affine(), legend=False)
    assert isinstance(graph, __import__("graphviz").Digraph)
    assert graph.source == AFFINE_DOT


def test_same_graph_gives_the_same_text():
    y = affine()
    assert ag.make_dot(y).source == ag.make_dot(y).source == ag.make_dot(affine()).source


def test_x_times_x_draws_one_x_and_two_labelled_edges():
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    source = ag.make_dot(x * x).source
    assert len(node_lines(source, "t")) == 2 and len(node_lines(source, "op")) == 1
    assert "\tt1 -> op0 [label=0]\n\tt1 -> op0 [label=1]\n" in source


def test_a_plus_a_keeps_both_edges_and_single_inputs_are_unlabelled():
    a = Tensor([1.0], requires_grad=True, name="a")
    source = ag.make_dot((a + a).exp()).source
    assert "t2 -> op1 [label=0]" in source and "t2 -> op1 [label=1]" in source
    assert "t1 -> op0\n" in source  # Exp has one input: no position label


def test_each_tensor_and_op_is_drawn_once_in_a_diamond():
    x = Tensor(np.ones((2, 2)), requires_grad=True, name="x")
    h = x.sigmoid()                      # a branch: h feeds two ops
    y = (h * 2.0 + h.tanh()).sum()
    source = ag.make_dot(y).source
    assert len(node_lines(source, "op")) == 5       # Sigmoid, Mul, Tanh, Add, Sum
    assert len(node_lines(source, "t")) == 7        # x, h, 2.0, h*2, tanh(h), sum input, y
    assert source.count("[label=Sigmoid ") == 1


def test_tensors_wrapping_the_same_node_are_one_node():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    alias = Tensor._result(y.data, y.op)  # e.g. a saved output: another handle, same node
    alias.name = "y"
    source = ag.make_dot(y, alias).source
    assert len(node_lines(source, "t")) == 2 and "<B>y</B>" in source


def test_names_shapes_dtypes_and_params():
    x = Tensor(np.ones((4, 3), dtype=np.float64), name="x")
    W = Tensor(np.ones((3, 2), dtype=np.float32), requires_grad=True)
    source = ag.make_dot(x @ W, params={"weight": W}).source
    assert "<B>x</B>" in source and "<B>weight</B>" in source
    assert "(4, 3) float64" in source and "(3, 2) float32" in source and "(4, 2) float64" in source
    assert "[label=MatMul " in source


def test_op_attributes_are_shown_and_big_values_summarised():
    x = Tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    labels = {
        "Sum(axis=1)": x.sum(axis=1),
        "Sum(axis=(0, 1), keepdims=True)": x.sum(axis=(0, 1), keepdims=True),
        "Mean": x.mean(),
        "Repeat(3, axis=0)": x.repeat(3, axis=0),
        "Pow(2)": x ** 2,
        "Reshape((3, 4))": x.reshape(3, 4),
        "GetItem([:, 1:])": x[:, 1:],
        "GetItem([[0, 2, 2]])": x[[0, 2, 2]],
        "GetItem([int64 array(40,)])": x[np.zeros(40, dtype=np.int64)],
        "Where(mask(4, 3): 6 true)": ag.where(x.data > 5, x, 0.0 * x),
        "Transpose": x.T,
    }
    for label, y in labels.items():
        assert f'label="{label}"' in ag.make_dot(y).source or f"label={label} " in ag.make_dot(y).source, label


def test_roles_have_colours_and_one_legend():
    x = Tensor([1.0, 2.0], name="x")
    w = Tensor([3.0, 4.0], requires_grad=True, name="w")
    source = ag.make_dot((x * w).sum()).source
    assert source.count("legend [label=") == 1
    for colour, text in (("#a8d5ff", "parameter"), ("#e3e3e3", "input / constant"), ("#b5e6a5", "output")):
        assert f'BGCOLOR="{colour}">{text}' in source
    assert "holds NaN" not in source


def test_nan_and_inf_tensors_are_red():
    x = Tensor([1.0, np.nan, np.inf], requires_grad=True, name="bad")
    source = ag.make_dot(x.exp()).source
    bad = next(line for line in node_lines(source, "t") if "<B>bad</B>" in line)
    assert 'fillcolor="#ff7070"' in bad and "color=red" in bad and "1 nan, 1 inf in data" in bad
    assert "holds NaN or Inf" in source


def test_show_grad_shows_norms_and_flags_missing_and_zero_gradients():
    x = Tensor([[1.0, -2.0]], name="x")
    w = Tensor([[0.5, 0.5]], requires_grad=True, name="w")
    dead = Tensor([1.0], requires_grad=True, name="dead")      # used after a ReLU that is off
    unused = Tensor([1.0], requires_grad=True, name="unused")  # never given a gradient
    loss = (x * w).sum() + (dead * -1.0).relu().sum()
    loss.backward()
    source = ag.make_dot(loss, unused, show_grad=True).source
    w_line = next(line for line in node_lines(source, "t") if "<B>w</B>" in line)
    assert "grad (1, 2)  norm 2.236" in w_line and "min -2  max 1" in w_line
    assert "gradient is all zero" in source and "color=darkorange" in source
    unused_line = next(line for line in node_lines(source, "t") if "<B>unused</B>" in line)
    assert "no grad" in unused_line and "color=red" in unused_line
    assert "grad" not in next(line for line in node_lines(source, "t") if "<B>x</B>" in line)


def test_show_values_small_tensors_list_values_large_ones_summarise():
    small = Tensor([1.5, -2.0], requires_grad=True, name="small")
    large = Tensor(np.arange(100.0), requires_grad=True, name="large")
    source = ag.make_dot(small.sum() + large.sum(), show_values=True).source
    assert "[ 1.5, -2. ]" in source
    assert "mean 49.5  std 28.87" in source and "min 0  max 99" in source
    assert "4.9e+03" not in ag.make_dot(large.sum()).source  # values only when asked


# ---- module clusters ----

class _Module:
    """A stand-in for nn.Module: forward runs inside module_scope, names from the attributes."""

    def __call__(self, *args):
        with module_scope(self):
            return self.forward(*args)


class _Linear(_Module):
    def __init__(self, n_in, n_out):
        self.weight = Tensor(np.full((n_out, n_in), 0.1), requires_grad=True)
        self.bias = Tensor(np.zeros(n_out), requires_grad=True)

    def forward(self, x):
        return x @ self.weight.T + self.bias


class _Sigmoid(_Module):
    def forward(self, x):
        return x.sigmoid()


class _Sequential(_Module):
    def __init__(self, *layers):
        self.layers = layers

    def named_modules(self):
        yield "", self
        yield from ((str(i), m) for i, m in enumerate(self.layers))

    def named_parameters(self):
        for i, m in enumerate(self.layers):
            yield from ((f"{i}.{k}", v) for k, v in vars(m).items() if isinstance(v, Tensor))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def _cluster_bodies(source: str) -> dict:
    """label -> the text of that cluster (up to its closing brace, nested ones included)."""
    bodies, lines = {}, source.splitlines()
    for i, line in enumerate(lines):
        if "subgraph cluster_" in line:
            depth, j = len(line) - len(line.lstrip("\t")), i + 1
            while lines[j] != "\t" * depth + "}":
                j += 1
            body = "\n".join(lines[i:j])
            label = re.search(r'label=(?:"([^"]*)"|(\S+))', lines[i + 1])
            bodies[label.group(1) or label.group(2)] = body
    return bodies


def test_modules_become_nested_clusters_with_parameter_names():
    model = _Sequential(_Linear(3, 4), _Sigmoid(), _Linear(4, 2))
    x = Tensor(np.ones((5, 3)), name="x")
    source = ag.make_dot(model(x).sum()).source
    clusters = _cluster_bodies(source)
    assert set(clusters) == {"_Sequential", "0: _Linear", "1: _Sigmoid", "2: _Linear"}
    assert "0: _Linear" in clusters["_Sequential"] and "1: _Sigmoid" in clusters["_Sequential"]
    assert "<B>0.weight</B>" in clusters["0: _Linear"] and "<B>2.bias</B>" in clusters["2: _Linear"]
    assert "[label=Sigmoid " in clusters["1: _Sigmoid"] and "MatMul" not in clusters["1: _Sigmoid"]
    assert "<B>x</B>" not in clusters["_Sequential"]  # the input stays outside the model
    assert "[label=Sum " not in clusters["_Sequential"]


def test_parameters_are_named_by_module_attributes_without_named_parameters():
    layer = _Linear(3, 2)  # no named_modules()/named_parameters(): its attribute names serve
    source = ag.make_dot(layer(Tensor(np.ones((1, 3))))).source
    assert "<B>weight</B>" in source and "<B>bias</B>" in source and 'label=_Linear' in source


def test_nn_graph_names_inputs_and_parameters():
    model = _Sequential(_Linear(3, 2))
    source = nn_graph(model, np.ones((2, 3)), params={"W": model.layers[0].weight}).source
    assert "<B>input</B>" in source and "<B>W</B>" in source and "<B>0.bias</B>" in source


def test_real_nn_sequential_is_drawn_with_clusters():
    nn = pytest.importorskip("nn")
    if not hasattr(nn, "Sequential") or not hasattr(nn, "Linear"):
        pytest.skip("nn.Sequential is not there yet")
    from nn.viz import make_dot as draw_model
    model = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 2))
    x = np.ones((5, 3), dtype=np.float32)
    source = draw_model(model, x).source
    clusters = _cluster_bodies(source)
    assert {"Sequential", "0: Linear", "1: Sigmoid", "2: Linear"} == set(clusters)
    assert "<B>0.weight</B>" in clusters["0: Linear"] and "<B>2.bias</B>" in clusters["2: Linear"]
    assert "<B>input</B>" in source and "<B>input</B>" not in clusters["Sequential"]
    if hasattr(nn.Module, "graph"):  # the hook-up: Module.graph(x) and nn.make_dot(model, x)
        assert model.graph(x).source == source == nn.make_dot(model, x).source


# ---- big graphs ----

def test_max_nodes_keeps_the_nearest_nodes_and_one_placeholder_fast():
    x = Tensor(np.ones(3), requires_grad=True, name="x")
    y = x
    for _ in range(10_000):
        y = -y
    start = time.perf_counter()
    source = ag.make_dot(y, max_nodes=50).source
    assert time.perf_counter() - start < 2.0
    assert len(node_lines(source, "t")) == 25 and len(node_lines(source, "op")) == 25
    assert 'more [label="19951 more nodes"' in source and "more -> op24 [style=dashed]" in source
    assert "<B>x</B>" not in source


def test_a_100000_op_chain_does_not_recurse():
    y = Tensor(np.ones(1), requires_grad=True)
    for _ in range(100_000):
        y = -y
    assert "199901 more nodes" in ag.make_dot(y, max_nodes=100).source  # 200,001 nodes in all


# ---- argument checks ----

@pytest.mark.parametrize("call, error", [
    (lambda y: ag.make_dot(), TypeError),
    (lambda y: ag.make_dot(y.data), TypeError),
    (lambda y: ag.make_dot(y, rankdir="XY"), ValueError),
    (lambda y: ag.make_dot(y, max_nodes=0), ValueError),
    (lambda y: ag.make_dot(y, params={"w": 1.0}), TypeError),
])
def test_bad_arguments_raise(call, error):
    with pytest.raises(error):
        call(affine())


def test_leaf_roots_lists_and_rankdir():
    w = Tensor([1.0], requires_grad=True, name="w")
    source = ag.make_dot([w, w.exp()], rankdir="LR").source
    assert "rankdir=LR" in source and source.count("<B>w</B>") == 1


# ---- rendering ----

def test_missing_dot_says_how_to_install_graphviz(monkeypatch, tmp_path):
    graph = ag.make_dot(affine())
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot program anywhere on PATH
    for call in (lambda: graph.render(tmp_path / "g", format="svg"), lambda: graph.pipe(format="svg")):
        with pytest.raises(GraphvizNotFoundError) as info:
            call()
        assert isinstance(info.value, RuntimeError)
        message = str(info.value)
        assert "apt-get install graphviz" in message and "brew install graphviz" in message
        assert ".source" in message
    assert graph.source.startswith("digraph")  # still fine without Graphviz


@requires_dot
@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_render_for_real(tmp_path, fmt):
    x = Tensor([np.nan, 1.0], requires_grad=True, name="x")
    (x * x).sum().backward()
    graph = ag.make_dot((x * x).sum(), show_grad=True, show_values=True)
    path = graph.render(tmp_path / "graph", format=fmt)
    assert os.path.getsize(path) > 100
    if fmt == "svg":
        ns = {"svg": "http://www.w3.org/2000/svg"}
        nodes = ET.parse(path).getroot().findall(".//svg:g[@class='node']", ns)
        assert len(nodes) == 6  # x, Mul, x*x, Sum, the output, the legend
