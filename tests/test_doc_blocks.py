"""Every ```python block of the docs pages that show code runs as written, under the README's
rules (tests/test_readme.py): a fresh namespace, an empty working directory, ``# needs: NAME``
to skip without NAME. The tutorial is run by tests/test_docs.py with its figures, and
docs/pytorch.md by tests/test_docs_pytorch.py."""
import pytest

from test_readme import ROOT, blocks, run_block

PAGES = ("guide.md", "export.md", "distributed.md", "attention.md")


def _blocks() -> list:
    return [pytest.param(page, param.values[0], id=f"{page}:{param.id}")
            for page in PAGES for param in blocks("python", ROOT / "docs" / page)]


def test_every_page_has_a_block():
    assert {param.values[0] for param in _blocks()} == set(PAGES)


@pytest.mark.parametrize("page, code", _blocks())
def test_python_block_runs_as_written(page, code, tmp_path, monkeypatch):
    run_block(code, ROOT / "docs" / page, tmp_path, monkeypatch)
