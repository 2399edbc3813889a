import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikesde as sd


def test_fine_grid_path_is_shared_across_step_sizes(x64):
    path = sd.FineGridBrownian(jax.random.key(0), t0=0.0, t1=1.0, dt=1e-3, shape=(2, 3))
    fine = path.increments(0.0, 1e-3, 1000, (2, 3), jnp.float64)
    coarse = path.increments(0.0, 1e-1, 10, (2, 3), jnp.float64)
    np.testing.assert_allclose(coarse, fine.reshape(10, 100, 2, 3).sum(1), rtol=1e-12)
    np.testing.assert_allclose(path.evaluate(0.2, 0.5), fine[200:500].sum(0), atol=1e-12)
    # Linear between fine grid points.
    np.testing.assert_allclose(path.evaluate(0.0, 0.0005), 0.5 * fine[0], atol=1e-12)
    with pytest.raises(ValueError, match="not a multiple"):
        path.increments(0.0, 1.5e-3, 10, (2, 3), jnp.float64)
    with pytest.raises(ValueError, match="shape"):
        path.increments(0.0, 1e-3, 10, (1, 3), jnp.float64)


def test_increments_have_brownian_variance():
    increments = sd.GridBrownian(jax.random.key(1)).increments(0.0, 0.01, 20_000, (2, 1), jnp.float32)
    assert abs(float(jnp.var(increments)) / 0.01 - 1) < 0.03


def test_diffrax_brownian_tree(x64):
    import diffrax

    tree = diffrax.VirtualBrownianTree(0.0, 1.0, tol=1e-6, shape=(2, 1), key=jax.random.key(0))
    increments = sd.DiffraxBrownian(tree).increments(0.0, 0.1, 10, (2, 1), jnp.float64)
    np.testing.assert_allclose(increments.sum(0), tree.evaluate(0.0, 1.0), atol=1e-9)
    solution = sd.simulate(sd.SLIF(sigma_v=0.5), t0=0.0, t1=1.0, dt=0.1, key=jax.random.key(0), max_spikes=20, brownian=sd.DiffraxBrownian(tree))
    assert np.isfinite(float(solution.final_state[0, 0]))
