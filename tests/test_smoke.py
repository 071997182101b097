"""The README's example runs and its gradients are right."""
import numpy as np

import autograd as ag
from autograd import Tensor


def test_readme_example_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True, name="x")
    W = Tensor(rng.standard_normal((3, 2)), requires_grad=True, name="W")
    b = Tensor(np.zeros(2), requires_grad=True, name="b")
    loss = ((x @ W + b).sigmoid() ** 2).sum()
    loss.backward()
    assert W.grad.shape == (3, 2) and W.grad.dtype == np.float64
    assert ag.gradcheck(lambda x, W, b: ((x @ W + b).sigmoid() ** 2).sum(), [x, W, b])


def test_readme_first_example_runs_as_written(tmp_path, monkeypatch):
    """The README's graph example (including the line that renders graph.svg) runs as printed."""
    import re
    import shutil
    from pathlib import Path

    import pytest
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    code = re.findall(r"```python\n(.*?)```", readme, re.S)[0]
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert (tmp_path / "graph.svg").read_text().lstrip().startswith("<?xml")
    assert namespace["W"].grad.shape == (3, 2)
