"""Every ```python block of the pages in docs/ that show code (not the tutorial, which
tests/test_docs.py runs with its figures) runs as written, under the README's rules:
a fresh namespace, an empty working directory, ``# needs: NAME`` to skip without NAME."""
from pathlib import Path

import pytest

from test_readme import FENCE, ROOT, missing_needs

PAGES = ("guide.md", "export.md", "attention.md")


def _blocks() -> list:
    found = []
    for page in PAGES:
        text = (ROOT / "docs" / page).read_text()
        for match in FENCE.finditer(text):
            if match.group(1) == "python":
                line = text.count("\n", 0, match.start()) + 1
                found.append(pytest.param(page, "\n" * line + match.group(2), id=f"{page}:{line}"))
    return found


def test_every_page_has_a_block():
    assert {page for page, _ in (p.values for p in _blocks())} == set(PAGES)


@pytest.mark.parametrize("page, code", _blocks())
def test_python_block_runs_as_written(page, code, tmp_path, monkeypatch):
    missing = missing_needs(code)
    if missing:
        pytest.skip(f"the block needs {', '.join(missing)}")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(ROOT))
    exec(compile(code, str(Path(ROOT, "docs", page)), "exec"), {"__name__": "__docs__"})
