import gc

import jax
import pytest


@pytest.fixture
def x64():
    """Run a test in float64 (JAX's default float inside the block)."""
    with jax.enable_x64(True):
        yield


# Measured and rejected as ways to shorten the suite (issue 25; details in its closing note): JAX's
# persistent compilation cache stores none of our programs (each carries host callbacks, from
# eqx.error_if and the overflow report, and JAX does not cache those); XLA's
# --xla_backend_optimization_level=0 halves compilation but changed results (the diffrax reference
# of test_reference.py fired 4 spikes instead of >= 20).


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
