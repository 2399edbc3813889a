import jax
import pytest


@pytest.fixture
def x64():
    """Run a test in float64 (JAX's default float inside the block)."""
    with jax.enable_x64(True):
        yield
