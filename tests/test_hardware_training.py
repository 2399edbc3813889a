"""Acceptance 4: hardware-aware training through the emulated fixed-point forward pass."""

import jax
import jax.numpy as jnp
import optax
import pytest

import spikesde
from spikesde._hardware import FixedPoint, LowPrecisionEuler, StraightThroughGridLocation


@pytest.mark.slow
def test_input_current_trained_in_fixed_point_recovers_c():
    dt, t1, n = 0.01, 5.0, 64
    loss = spikesde.ExpectedSignatureLoss(t0=0.0, t1=t1, depth=3)
    chip = LowPrecisionEuler(dt, FixedPoint(7, 12), straight_through=True)

    def sample(c, key, stepper, location):
        neuron = spikesde.SLIF(1, c, sigma_v=0.5)  # mu = (15, 0), v_reset 1.4, alpha 0.03
        run = lambda k: spikesde.simulate(neuron, t0=0.0, t1=t1, dt=dt, key=k, max_spikes=3, stepper=stepper,  # noqa: E731
                                          event_location=location, on_overflow="ignore").spike_times
        return jax.vmap(run)(jax.random.split(key, n))

    data = sample(1.5, jax.random.key(0), spikesde.EulerMaruyama(), None)
    optimiser = optax.adam(optax.cosine_decay_schedule(0.03, 200, 0.05))

    @jax.jit
    def update(c, state, key):
        grad = jax.grad(lambda c: loss(sample(c, key, chip, StraightThroughGridLocation()), data))(c)
        change, state = optimiser.update(grad, state)
        return optax.apply_updates(c, change), state

    c = jnp.asarray(0.8)
    state = optimiser.init(c)
    history = []
    for i in range(200):
        c, state = update(c, state, jax.random.fold_in(jax.random.key(1), i))
        history.append(float(c))
    assert abs(sum(history[-20:]) / 20 - 1.5) < 0.05
