"""Shared test setup: every test starts with the default dtype and a seeded default generator."""
import pytest

import autograd as ag
import nn


@pytest.fixture(autouse=True)
def _restore_default_dtype():
    dtype = ag.get_default_dtype()
    yield
    ag.set_default_dtype(dtype)


@pytest.fixture(autouse=True)
def _seeded_initialisers():
    """Weights and dropout masks drawn without an explicit rng are the same every run."""
    nn.manual_seed(0)
