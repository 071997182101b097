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


def _register_hypothesis_profiles() -> None:
    """The random-program tests' budget: a fixed number of examples from a fixed seed in CI
    (the env var CI set), the same number from fresh seeds by hand, and as many as
    DAGRAD_HYPOTHESIS_EXAMPLES says when it is set (to search harder)."""
    import os

    try:
        from hypothesis import HealthCheck, settings
    except ImportError:  # the tests that need hypothesis skip themselves
        return
    examples = int(os.environ.get("DAGRAD_HYPOTHESIS_EXAMPLES") or 80)
    common = dict(max_examples=examples, deadline=None, print_blob=True,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    settings.register_profile("dagrad-ci", derandomize=True, **common)
    settings.register_profile("dagrad", **common)
    settings.load_profile("dagrad-ci" if os.environ.get("CI") else "dagrad")


_register_hypothesis_profiles()
