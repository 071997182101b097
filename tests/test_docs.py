"""The tutorial's code runs, and docs/make_figures.py makes every figure it shows."""
import importlib.util
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from test_viz import requires_dot

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SVG = {"svg": "http://www.w3.org/2000/svg"}


def _load(path: Path):
    """Import a script by its path."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _make_figures():
    return _load(DOCS / "make_figures.py")


def _shown_figures() -> list:
    return _make_figures().FIGURE.findall((DOCS / "tutorial.md").read_text())


def test_tutorial_code_runs_and_sets_a_graph_for_every_figure():
    """No Graphviz needed: the code blocks run and each figure has its graph."""
    pytest.importorskip("matplotlib")  # the softmax Jacobian's heat map
    made = dict(_make_figures().tutorial_graphs((DOCS / "tutorial.md").read_text()))
    assert list(made) == _shown_figures()
    assert {"add", "mul", "branch", "repeat", "sum", "matmul", "sigmoid", "affine", "softmax_ce",
            "mlp_step"} <= set(made)
    assert "label=Repeat(3, axis=0)" in made["repeat"].source.replace('"', "")
    assert "cluster_" in made["mlp_step"].source
    assert made["rnn_unrolled"].source.count("label=RNNCell fillcolor") == 3   # one node per step, unrolled
    assert all(f"<B>{gate}</B>" in made["lstm_gates"].source for gate in "ifgoch")


def test_committed_figures_exist_for_the_tutorial_and_the_readme():
    for name in _shown_figures() + ["readme_graph"]:
        assert (DOCS / "figures" / f"{name}.svg").is_file(), name


def test_readme_shows_the_lines_that_made_its_graph():
    readme = ROOT / "README.md"
    text = readme.read_text() if readme.is_file() else ""
    if "readme_graph.svg" in text:
        for line in _make_figures().README_LINES.splitlines():
            assert line.split("  #")[0].strip() in text, line


@requires_dot
def test_make_figures_script_writes_every_svg(tmp_path):
    pytest.importorskip("matplotlib")
    subprocess.run([sys.executable, str(DOCS / "make_figures.py"), str(tmp_path)], check=True,
                   capture_output=True, timeout=120)
    for name in _shown_figures() + ["readme_graph"]:
        root = ET.parse(tmp_path / f"{name}.svg").getroot()
        plot = root.find(".//svg:g[@id='figure_1']", SVG) is not None  # a matplotlib figure
        assert plot or len(root.findall(".//svg:g[@class='node']", SVG)) >= 3, name


@requires_dot
def test_graph_example_draws_one_training_step(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    path = _load(ROOT / "examples" / "graph.py").main([str(tmp_path / "step.svg"), "--batch", "4"])
    source = ET.parse(path).getroot()
    texts = "".join(t.text or "" for t in source.iter("{http://www.w3.org/2000/svg}text"))
    assert "0.weight" in texts and "grad (100, 784)" in texts
