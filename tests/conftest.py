import gc

import jax
import pytest


@pytest.fixture
def x64():
    """Run a test in float64 (JAX's default float inside the block)."""
    with jax.enable_x64(True):
        yield


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's compiled programs after each test module.

    The suite compiles thousands of programs; kept in one process, their code mappings accumulated
    until XLA's compiler crashed (a segmentation fault after about 300 tests). Each module recompiles
    what it needs.
    """
    yield
    jax.clear_caches()
    gc.collect()
