"""pyproject.toml installs without setuptools deprecation warnings."""
import re
from pathlib import Path

import pytest

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_the_license_is_an_spdx_string_which_setuptools_77_reads():
    tomllib = pytest.importorskip("tomllib")
    with open(PYPROJECT, "rb") as file:
        config = tomllib.load(file)
    assert isinstance(config["project"]["license"], str)  # a {text = ...} table is deprecated
    setuptools = [r for r in config["build-system"]["requires"] if r.startswith("setuptools")]
    minimum = re.fullmatch(r"setuptools>=(\d+)(\.\d+)*", setuptools[0].replace(" ", ""))
    assert minimum and int(minimum.group(1)) >= 77, setuptools
