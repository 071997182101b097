"""Shared test setup: every test starts and ends with the default dtype it found."""
import pytest

import autograd as ag


@pytest.fixture(autouse=True)
def _restore_default_dtype():
    dtype = ag.get_default_dtype()
    yield
    ag.set_default_dtype(dtype)
