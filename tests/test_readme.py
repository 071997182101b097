"""Every code block in README.md works as written: a reader pastes it and it runs.

- A ```python block runs on its own, in a fresh namespace and an empty temporary working
  directory, as a reader pasting it would: it imports and defines everything it uses.
- A block whose first line is ``# needs: NAME, NAME`` is skipped (with the reason) unless
  each NAME is there: a module that imports (``# needs: onnx``, ``# needs: torch``), or
  one of two special names: ``MNIST`` ($MNIST_DIR is set) and ``dot`` (Graphviz's
  program is on PATH; with DAGRAD_REQUIRE_DOT=1, as in CI, a missing one fails instead).
  The line stays in the README, where it tells the reader the same thing.
- A ```bash block is not run, but what it names must exist: ``python SCRIPT`` scripts and
  every ``--option`` given to them (in the script's ``--help``), ``python -m MODULE``
  modules, and the extras of ``pip install -e ".[...]"`` in pyproject.toml.

And what users read never sends them to API.md, the project's internal contract, which
an installed or cloned dagrad does not have.
"""
from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
NEEDS = re.compile(r"#\s*needs:\s*(.+)")


def blocks(language: str, page: Path = README) -> list:
    """The code of every block of ``language`` in ``page``, padded so its line numbers are the page's."""
    text = page.read_text()
    found = []
    for match in FENCE.finditer(text):
        if match.group(1) == language:
            fence_line = text.count("\n", 0, match.start()) + 1
            found.append(pytest.param("\n" * fence_line + match.group(2), id=f"line {fence_line}"))
    return found


def run_block(code: str, page: Path, tmp_path, monkeypatch) -> None:
    """Run one python block as a reader pasting it would (skipped, with the reason, for a missing need)."""
    missing = missing_needs(code)
    if missing:
        pytest.skip(f"the block needs {', '.join(missing)}")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(ROOT))
    exec(compile(code, str(page), "exec"), {"__name__": "__readme__"})


def missing_needs(code: str) -> list:
    """The names in the block's ``# needs:`` line that are not there."""
    first = code.strip().splitlines()[0] if code.strip() else ""
    match = NEEDS.match(first)
    names = [name.strip() for name in match.group(1).split(",")] if match else []
    return [name for name in names if not _there(name)]


def _there(name: str) -> bool:
    if name == "MNIST":
        return bool(os.environ.get("MNIST_DIR"))
    if name == "dot":
        return shutil.which("dot") is not None or os.environ.get("DAGRAD_REQUIRE_DOT") == "1"
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a parent package missing, or a module blocked in sys.modules
        return False


def test_the_readme_has_python_and_bash_blocks():
    assert len(blocks("python")) >= 2 and blocks("bash")


@pytest.mark.parametrize("code", blocks("python"))
def test_python_block_runs_as_written(code, tmp_path, monkeypatch):
    run_block(code, README, tmp_path, monkeypatch)


@lru_cache(maxsize=None)
def _help(script: str) -> str:
    result = subprocess.run([sys.executable, str(ROOT / script), "--help"], capture_output=True, text=True,
                            timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _extras() -> set:
    tomllib = pytest.importorskip("tomllib")
    with open(ROOT / "pyproject.toml", "rb") as file:
        return set(tomllib.load(file)["project"].get("optional-dependencies", {}))


@pytest.mark.parametrize("code", blocks("bash"))
def test_bash_block_names_only_what_exists(code):
    for line in code.splitlines():
        words = shlex.split(line, comments=True)
        if words[:2] == ["python", "-m"]:
            assert importlib.util.find_spec(words[2]) is not None, line
        elif words[:1] == ["python"] and words[1].endswith(".py"):
            assert (ROOT / words[1]).is_file(), line
            for option in (word.split("=")[0] for word in words[2:] if word.startswith("--")):
                assert option in _help(words[1]), f"{line}: {option} is not an option of {words[1]}"
        elif words[:3] == ["pip", "install", "-e"]:
            extras = re.fullmatch(r"\.(?:\[(.*)\])?", words[3])
            assert extras, line
            assert set(filter(None, (extras.group(1) or "").split(","))) <= _extras(), line


def test_no_user_facing_text_points_to_api_md():
    files = [README, *(ROOT / "docs").glob("*.md"), *(ROOT / "examples").glob("*.*"),
             *(ROOT / "autograd").rglob("*.py"), *(ROOT / "nn").rglob("*.py")]
    assert [str(f.relative_to(ROOT)) for f in files if "API.md" in f.read_text()] == []
