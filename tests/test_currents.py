import jax.numpy as jnp
import numpy as np
import pytest

import spikesde as sd


def test_currents():
    piecewise = sd.PiecewiseConstantCurrent([1.0, 2.0], [0.5, 1.5, 2.5])
    np.testing.assert_allclose([piecewise(t) for t in (0.0, 0.99, 1.0, 1.5, 3.0)], [0.5, 0.5, 1.5, 1.5, 2.5])
    sine = sd.SinusoidalCurrent(1.0, 0.5, 2.0)
    np.testing.assert_allclose(sine(0.125), 1.5, rtol=1e-6)
    function = sd.FunctionCurrent(lambda t, p: p["a"] * t, {"a": jnp.asarray(2.0)})
    np.testing.assert_allclose(function(3.0), 6.0)
    with pytest.raises(ValueError, match="len\\(breakpoints\\) \\+ 1"):
        sd.PiecewiseConstantCurrent([1.0], [0.5])


def test_time_varying_current_changes_the_dynamics(x64):
    import jax

    model = sd.LIF(input_current=sd.PiecewiseConstantCurrent([0.5], [0.0, 1.0]), threshold=100.0)
    solution = sd.simulate(model, t0=0.0, t1=1.0, dt=0.05, key=jax.random.key(0), max_spikes=1, stepper=sd.ExponentialEuler())
    np.testing.assert_allclose(solution.final_state[0, 0], 1 - np.exp(-0.5), rtol=1e-10)
