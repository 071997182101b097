"""docs/pytorch.md, the page for PyTorch users: every code block runs as written.

The README's rules (tests/test_readme.py): each ```python block runs alone, in a fresh
namespace and an empty working directory; one whose first line is ``# needs: torch``
(or another module) is skipped when that module is missing.
"""
from pathlib import Path

import pytest
from test_readme import blocks, run_block

PAGE = Path(__file__).resolve().parent.parent / "docs" / "pytorch.md"


def test_the_page_has_blocks_with_and_without_torch():
    codes = [param.values[0] for param in blocks("python", PAGE)]
    assert len(codes) >= 5 and any("# needs: torch" in code for code in codes)
    assert sum("# needs:" not in code for code in codes) >= 3   # the ones that run everywhere


@pytest.mark.parametrize("code", blocks("python", PAGE))
def test_python_block_runs_as_written(code, tmp_path, monkeypatch):
    run_block(code, PAGE, tmp_path, monkeypatch)


def test_the_page_names_only_what_exists():
    """The names the page adds to PyTorch's list are there."""
    import nn
    from nn import functional as F
    for name in ["Identity", "Conv1d", "SiLU", "LogSoftmax", "NLLLoss", "L1Loss", "CrossEntropyLoss"]:
        assert f"`{name}`" in PAGE.read_text() and hasattr(nn, name), name
    for name in ["pad", "one_hot", "silu", "conv1d", "nll_loss"]:
        assert hasattr(F, name), name
