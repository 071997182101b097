"""docs/pytorch.md, the page for PyTorch users: every code block runs as written.

The README's rules (tests/test_readme.py): each ```python block runs alone, in a fresh
namespace and an empty working directory; one whose first line is ``# needs: torch``
(or another module) is skipped when that module is missing.
"""
from pathlib import Path

import pytest
from test_readme import FENCE, missing_needs

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "pytorch.md"


def python_blocks() -> list:
    """Each python block, padded so that a traceback's line numbers are the page's."""
    text = PAGE.read_text()
    found = []
    for match in FENCE.finditer(text):
        if match.group(1) == "python":
            line = text.count("\n", 0, match.start()) + 1
            found.append(pytest.param("\n" * line + match.group(2), id=f"line {line}"))
    return found


def test_the_page_has_blocks_with_and_without_torch():
    codes = [param.values[0] for param in python_blocks()]
    assert len(codes) >= 5 and any("# needs: torch" in code for code in codes)
    assert sum("# needs:" not in code for code in codes) >= 3   # the ones that run everywhere


@pytest.mark.parametrize("code", python_blocks())
def test_python_block_runs_as_written(code, tmp_path, monkeypatch):
    missing = missing_needs(code)
    if missing:
        pytest.skip(f"the block needs {', '.join(missing)}")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(ROOT))
    exec(compile(code, str(PAGE), "exec"), {"__name__": "__pytorch_md__"})


def test_the_page_names_only_what_exists():
    """Every nn name the page's lists give as present is there."""
    import nn
    from nn import functional as F
    for name in ["Identity", "Conv1d", "SiLU", "LogSoftmax", "NLLLoss", "L1Loss", "CrossEntropyLoss"]:
        assert f"`{name}`" in PAGE.read_text() and hasattr(nn, name), name
    for name in ["pad", "one_hot", "silu", "conv1d", "nll_loss"]:
        assert hasattr(F, name), name
