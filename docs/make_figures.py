"""Make the figures of docs/tutorial.md and the README's graph, from the code that shows them.

    python docs/make_figures.py [OUTPUT_DIR]      (default: docs/figures/)

The ```python blocks of tutorial.md run top to bottom in one namespace, as one program.
When the text after a block (up to the next block) shows a figure
``![...](figures/NAME.svg)``, the block has set ``graph`` (a make_dot result), which is
rendered to OUTPUT_DIR/NAME.svg, or ``figure`` (a matplotlib Figure: a plot), saved
there. The README's figure, readme_graph.svg, comes from README_SETUP and the two
README_LINES, which the README shows. Needs Graphviz's ``dot`` (and matplotlib).
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

BLOCK = re.compile(r"```python\n(.*?)```(.*?)(?=```python|\Z)", re.S)
FIGURE = re.compile(r"!\[[^\]]*\]\(figures/([\w-]+)\.svg\)")

README_SETUP = """\
import numpy as np
import autograd as ag
from autograd import Tensor

rng = np.random.default_rng(0)
x = Tensor(rng.standard_normal((4, 3)), requires_grad=True, name="x")
W = Tensor(rng.standard_normal((3, 2)), requires_grad=True, name="W")
b = Tensor(np.zeros(2), requires_grad=True, name="b")
loss = ((x @ W + b).sigmoid() ** 2).sum()
"""
README_LINES = """\
loss.backward()
ag.make_dot(loss, show_grad=True).render("graph", format="svg", cleanup=True)  # graph.svg
"""


def tutorial_graphs(text: str):
    """Run the tutorial's code blocks in order; yield (figure name, graph) for each figure."""
    namespace = {"__name__": "tutorial"}
    for number, (code, after) in enumerate(BLOCK.findall(text), 1):
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(code, f"tutorial.md, code block {number}", "exec"), namespace)
        graph = namespace.pop("graph", None)
        figure = namespace.pop("figure", None)  # a matplotlib Figure: a plot instead of a graph
        for name in FIGURE.findall(after):
            if graph is None and figure is None:
                raise RuntimeError(f"tutorial.md: code block {number} shows figures/{name}.svg "
                                   f"but sets no `graph` (or `figure`)")
            yield name, graph if graph is not None else figure


def save_figure(drawing, path: Path) -> Path:
    """Render a make_dot graph, or save a matplotlib Figure, to ``path`` (an .svg)."""
    if hasattr(drawing, "savefig"):
        import matplotlib
        with matplotlib.rc_context({"svg.hashsalt": "dagrad", "svg.fonttype": "none"}):
            drawing.savefig(path, format="svg", metadata={"Date": None}, bbox_inches="tight")
        return path
    return Path(drawing.render(path.with_suffix(""), format="svg", cleanup=True))


def readme_figure(out_dir: Path) -> Path:
    """Run the README's lines in a scratch directory and keep the graph.svg they write."""
    with tempfile.TemporaryDirectory() as scratch:
        previous = os.getcwd()
        os.chdir(scratch)
        try:
            exec(README_SETUP + README_LINES, {"__name__": "readme"})
        finally:
            os.chdir(previous)
        return Path(shutil.move(os.path.join(scratch, "graph.svg"), out_dir / "readme_graph.svg"))


def main(argv=None) -> list:
    argv = sys.argv[1:] if argv is None else argv
    out_dir = Path(argv[0]) if argv else HERE / "figures"
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, drawing in tutorial_graphs((HERE / "tutorial.md").read_text()):
        written.append(save_figure(drawing, out_dir / f"{name}.svg"))
    written.append(readme_figure(out_dir))
    for path in written:
        print(path)
    return written


if __name__ == "__main__":
    main()
