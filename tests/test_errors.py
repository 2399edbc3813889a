"""Nothing silent (issue 8, part 4): bad parameters and options are errors that name them."""

import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import spikesde as sd

SOLVE = dict(t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=4)


@pytest.mark.parametrize(
    "model, message",
    [
        (lambda: sd.SLIF(mu_v=-1.0), r"SLIF\.mu_v must be finite and non-negative, got -1\.0"),
        (lambda: sd.SLIF(mu_i=-0.5), r"SLIF\.mu_i must be finite and non-negative"),
        (lambda: sd.SLIF(sigma_v=-0.1), r"SLIF\.sigma_v must be finite and non-negative"),
        (lambda: sd.SLIF(sigma_i=-0.1), r"SLIF\.sigma_i must be finite and non-negative"),
        (lambda: sd.SLIF(tau_s=0.0), r"SLIF\.tau_s must be finite and positive, got 0\.0"),
        (lambda: sd.SLIF(tau_s=-1.0), r"SLIF\.tau_s must be finite and positive"),
        (lambda: sd.SLIF(alpha=-0.01), r"SLIF\.alpha must be finite and non-negative"),
        (lambda: sd.SLIF(beta=jnp.inf), r"SLIF\.beta must be finite, got inf"),
        (lambda: sd.SLIF(sigma_v=jnp.inf), r"SLIF\.sigma_v must be finite"),
        (lambda: sd.SLIF(v0=jnp.inf), r"SLIF\.v0 must be finite"),
        (lambda: sd.SLIF(3, mu_v=jnp.asarray([1.0, -2.0, 3.0])), r"SLIF\.mu_v .* got -2\.0 \(entry \[1\]\)"),
        (lambda: sd.SLIF(n_neurons=2.7), r"n_neurons must be an integer >= 1, got 2\.7"),
        (lambda: sd.SLIF(n_neurons=0), r"n_neurons must be an integer >= 1"),
        (lambda: sd.LIF(tau_mem=0.0), r"LIF\.tau_mem must be finite and positive"),
        (lambda: sd.LIF(tau_syn=-0.5), r"LIF\.tau_syn must be finite and positive"),
        (lambda: sd.LIF(sigma_i=-1.0), r"LIF\.sigma_i must be finite and non-negative"),
        (lambda: sd.LIF(n_neurons=2.7), r"n_neurons must be an integer"),
        (lambda: sd.ConstantCurrent(jnp.inf), r"ConstantCurrent\.value must be finite"),
        (lambda: sd.SinusoidalCurrent(1.0, 0.5, jnp.nan), r"SinusoidalCurrent\.frequency contains NaN"),
        (lambda: sd.PiecewiseConstantCurrent([1.0, 0.5], [0.0, 1.0, 2.0]), r"breakpoints must be strictly increasing"),
        (lambda: sd.Network(sd.SLIF(2), [[0.0, jnp.inf], [0.0, 0.0]]), r"Network\.weights must be finite, got inf \(entry \[0, 1\]\)"),
        (lambda: sd.Network(sd.SLIF(1), input_spike_times=[[jnp.nan]], input_weights=[[1.0]]), r"input_spike_times contains NaN"),
    ],
)
def test_parameters_outside_their_domain_are_named(model, message):
    with pytest.raises(ValueError, match=message):
        model()


def test_domain_boundaries_that_make_sense_are_accepted():
    # Zero rates and noise scales are meaningful (a frozen membrane, a deterministic neuron).
    sd.SLIF(mu_v=0.0, mu_i=0.0, sigma_v=0.0, alpha=0.0, beta=-1.0)
    sd.LIF(n_neurons=3.0, sigma_v=0.0)
    sd.Network(sd.SLIF(1), input_spike_times=[[0.5, jnp.inf]], input_weights=[[1.0]])


def test_parameters_are_not_checked_under_transformations():
    # Models are rebuilt from tracers under jit and grad: nothing to inspect, no error.
    value = jax.jit(lambda tau: sd.SLIF(tau_s=tau).tau_s)(jnp.asarray(-1.0))
    assert float(value) == -1.0


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(root_iterations=0), r"root_iterations must be an integer >= 1, got 0"),
        (dict(dt=2.0), r"dt=2\.0 is longer than the window t1 - t0 = 1\.0"),
        (dict(t0=1e4, t1=1e4 + 1.0), r"t0=10000\.0: in float32 times near 10001 are rounded to 0\.000977"),
        (dict(t0=1e6, t1=1e6 + 1.0), r"t0=1000000\.0"),
        (dict(dtype="float64"), r"dtype=float64 needs 64-bit JAX"),
        (dict(dtype="int32"), r"dtype must be a floating dtype"),
    ],
)
def test_bad_solve_options_are_named(change, message):
    with pytest.raises(ValueError, match=message):
        sd.simulate(sd.SLIF(), **(SOLVE | change))


def test_large_t0_is_fine_in_float64(x64):
    solution = sd.simulate(sd.SLIF(), **(SOLVE | dict(t0=1e4, t1=1e4 + 1.0, dtype="float64")))
    assert solution.spike_times.dtype == jnp.float64


def test_intensity_is_finite_with_finite_gradients_for_any_finite_parameters():
    # beta * min(V - v_threshold, 10) beyond what exp holds: the exponent itself is capped.
    v = jnp.asarray([-3.0, 0.5, 2.0, 50.0])

    def rate(beta, tau_s, v):
        return jnp.sum(sd.SLIF(beta=beta, tau_s=tau_s).intensity(v))

    for beta, tau_s in [(5.0, 1.0), (20.0, 1.0), (1e3, 1e-3), (1e6, 10.0), (-1e3, 1.0)]:
        value = rate(beta, tau_s, v)
        gradients = jax.grad(rate, argnums=(0, 1, 2))(beta, tau_s, v)
        assert np.isfinite(float(value)), (beta, tau_s)
        assert all(np.all(np.isfinite(g)) for g in gradients), (beta, tau_s, gradients)
    # Below the cap the formula is unchanged: exp(beta min(v - 1, 10)) / tau_s.
    model = sd.SLIF(beta=5.0, tau_s=2.0)
    np.testing.assert_allclose(model.intensity(v), np.exp(5 * np.minimum(np.asarray(v) - 1, 10)) / 2, rtol=1e-6)
    capped = sd.SLIF(beta=100.0, tau_s=1e-3).intensity(jnp.asarray(5.0))
    assert float(capped) == pytest.approx(np.exp(float(np.log(np.finfo(np.float32).max)) - 28), rel=1e-4)


def test_exponential_step_does_not_overflow_for_large_rates():
    # mu_v dt = 200 > 89: phi1 alone would overflow to inf and the step to 0 * inf = NaN.
    model = sd.SLIF(input_current=1.5, mu_v=2e4, mu_i=3.0, i0=0.5, v_threshold=100.0)
    y = model.initial_state(jnp.ones(1))
    step = sd.ExponentialEuler().step(model, 0.0, y, jnp.asarray(0.01), jnp.zeros((2, 1)))
    assert np.all(np.isfinite(step))
    # The membrane has relaxed to I + c, I has decayed by exp(-mu_i dt).
    np.testing.assert_allclose(step[:2, 0], [1.5 + 0.5 * np.exp(-0.03), 0.5 * np.exp(-0.03)], rtol=1e-3)
    gradient = jax.grad(lambda mu: sd.ExponentialEuler().step(eqx.tree_at(lambda m: m.mu_v, model, mu), 0.0, y, 0.01, jnp.zeros((2, 1)))[0, 0])(2e4)
    assert np.isfinite(float(gradient))


# Run-time reports: non-finite states, buffer overflow, exhausted budget.


def _nan_after_two(t, level):
    return jnp.where(t < 2.0, level, jnp.nan)


def test_a_current_that_turns_nan_is_reported_with_state_and_time():
    model = sd.SLIF(input_current=sd.FunctionCurrent(_nan_after_two, jnp.asarray(1.5)))
    kwargs = dict(t0=0.0, t1=3.0, dt=0.01, key=jax.random.key(0), max_spikes=20)
    solution = sd.simulate(model, on_overflow="ignore", **kwargs)
    assert bool(solution.nonfinite) and int(solution.nonfinite_row) == 0 and int(solution.nonfinite_neuron) == 0
    assert 2.0 <= float(solution.nonfinite_time) <= 2.02
    with pytest.raises(RuntimeError, match=r"non-finite state: V of neuron 0 became NaN or inf at t=2\.01"):
        sd.simulate(model, **kwargs)
    with pytest.warns(RuntimeWarning, match=r"non-finite state: V of neuron 0"):
        sd.simulate(model, on_overflow="warn", **kwargs)


@pytest.mark.parametrize(
    "change, row, time",
    [
        (lambda m: eqx.tree_at(lambda n: n.v0, m, jnp.asarray(jnp.inf)), 0, 0.0),
        (lambda m: eqx.tree_at(lambda n: n.sigma_v, m, jnp.asarray(jnp.inf)), 0, 0.01),
        # Explicit Euler of a stiff membrane (mu_v dt = 10) diverges and overflows float32.
        (lambda m: eqx.tree_at(lambda n: n.mu_v, m, jnp.asarray(1e3)), 0, None),
    ],
    ids=["v0-inf", "sigma-inf", "stiff-euler"],
)
def test_states_that_go_non_finite_are_flagged(change, row, time):
    # A constant, low intensity (beta = 0): the divergence is not cut short by the event budget.
    model = change(sd.SLIF(2, sigma_v=0.1, beta=0.0, tau_s=1e3))
    solution = sd.simulate(model, t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=8, on_overflow="ignore")
    assert bool(solution.nonfinite) and int(solution.nonfinite_row) == row and int(solution.nonfinite_neuron) == 0
    if time is not None:
        assert float(solution.nonfinite_time) == pytest.approx(time, abs=1e-6)
    healthy = sd.simulate(sd.SLIF(2, sigma_v=0.1), t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=8)
    assert not bool(healthy.nonfinite) and int(healthy.nonfinite_row) == -1 and np.isinf(float(healthy.nonfinite_time))


def _busy_and_silent():
    # Neuron 0 fires often, neuron 1 never: the default budget (2 x 3 events) is spent by neuron 0.
    return sd.SLIF(2, input_current=jnp.asarray([4.0, 0.0]))


def test_buffer_overflow_and_exhausted_budget_are_told_apart():
    kwargs = dict(t0=0.0, t1=2.0, dt=0.01, key=jax.random.key(0), max_spikes=3)
    solution = sd.simulate(_busy_and_silent(), on_overflow="ignore", **kwargs)
    assert int(solution.spike_counts[0]) == 6 and int(solution.spike_counts[1]) == 0
    np.testing.assert_array_equal(solution.overflow, [True, False])
    assert bool(solution.budget_exhausted) and float(solution.t_final) < 2.0
    with pytest.raises(RuntimeError, match=r"(?s)spike buffer overflow: neuron\(s\) 0 fired more than max_spikes=3.*event budget exhausted: max_events=6"):
        sd.simulate(_busy_and_silent(), **kwargs)
    roomy = sd.simulate(_busy_and_silent(), on_overflow="ignore", max_events=500, **kwargs)
    assert not bool(roomy.budget_exhausted) and float(roomy.t_final) == 2.0 and bool(roomy.overflow[0])


def test_warnings_come_from_inside_jit_and_vmap():
    model = _busy_and_silent()
    run = jax.jit(lambda key: sd.simulate(model, t0=0.0, t1=2.0, dt=0.01, key=key, max_spikes=3, on_overflow="warn").spike_counts)
    with pytest.warns(RuntimeWarning) as caught:
        jax.block_until_ready(run(jax.random.key(0)))
        jax.effects_barrier()
    messages = [str(w.message) for w in caught]
    assert any("spike buffer overflow: neuron(s) 0 fired" in m for m in messages), messages
    assert any("event budget exhausted: max_events=6 events were applied and another was due at t=" in m for m in messages), messages
    keys = jax.random.split(jax.random.key(1), 3)
    batched = jax.vmap(lambda key: sd.simulate(model, t0=0.0, t1=2.0, dt=0.01, key=key, max_spikes=3, max_events=500, on_overflow="warn").spike_counts)
    with pytest.warns(RuntimeWarning, match=r"spike buffer overflow: neuron\(s\) 0 fired"):
        jax.block_until_ready(batched(keys))
        jax.effects_barrier()


def test_errors_come_from_inside_jit():
    model = sd.SLIF(input_current=sd.FunctionCurrent(_nan_after_two, jnp.asarray(1.5)))
    run = jax.jit(lambda key: sd.simulate(model, t0=0.0, t1=3.0, dt=0.01, key=key, max_spikes=20).spike_times)
    with pytest.raises(Exception, match="non-finite state"):
        jax.block_until_ready(run(jax.random.key(0)))
    budget = jax.jit(lambda key: sd.simulate(_busy_and_silent(), t0=0.0, t1=2.0, dt=0.01, key=key, max_spikes=3).spike_times)
    with pytest.raises(Exception, match="event budget exhausted"):
        jax.block_until_ready(budget(jax.random.key(0)))


# Bad arguments of simulate, each named (issue 25).


@pytest.mark.parametrize(
    "change, error, message",
    [
        (dict(t0=None), ValueError, r"t0 must be a Python number \(it fixes the step grid\), got None"),
        (dict(t1="1"), ValueError, r"t1 must be a Python number"),
        (dict(max_spikes=float("nan")), ValueError, r"max_spikes must be a positive integer, got nan"),
        (dict(max_spikes=2.5), ValueError, r"max_spikes must be a positive integer, got 2\.5"),
        (dict(max_events=float("nan")), ValueError, r"max_events must be a positive integer, got nan"),
        (dict(save_at=[]), ValueError, r"save_at must be None or a non-empty list of finite times"),
        (dict(save_at=[0.5, float("nan")]), ValueError, r"save_at must be None or a non-empty list of finite times"),
        (dict(stepper="euler"), TypeError, r"stepper must be an AbstractStepper such as EulerMaruyama\(\).*got 'euler'"),
        (dict(brownian="fine"), TypeError, r"brownian must be an AbstractBrownian"),
        (dict(key=0), TypeError, r"key must be a JAX random key, e\.g\. jax\.random\.key\(0\), got int"),
        (dict(key=np.zeros(3, np.uint32)), TypeError, r"key must be a JAX random key.*shape \(3,\)"),
    ],
)
def test_bad_simulate_arguments_are_named(change, error, message):
    with pytest.raises(error, match=message):
        sd.simulate(sd.SLIF(), **(SOLVE | change))


def test_an_old_uint32_key_is_the_typed_key_with_the_same_seed():
    model = sd.SLIF(2, input_current=2.0, sigma_v=0.3)
    solve = SOLVE | dict(on_overflow="ignore")
    old = sd.simulate(model, **(solve | dict(key=jax.random.PRNGKey(3))))
    new = sd.simulate(model, **(solve | dict(key=jax.random.key(3))))
    np.testing.assert_array_equal(old.spike_times, new.spike_times)
    assert int(jnp.sum(jnp.isfinite(new.spike_times))) >= 2
    batched = jax.vmap(lambda k: sd.simulate(model, **(solve | dict(key=k))).spike_times)(jax.random.split(jax.random.PRNGKey(3), 2))
    assert batched.shape == (2, 2, 4)


def test_unsorted_input_spikes_are_an_error_when_the_network_is_built_under_jit():
    def run(times):
        network = sd.Network(sd.SLIF(1, input_current=0.5), input_spike_times=times, input_weights=[[2.0]])
        return sd.simulate(network, **SOLVE, on_overflow="ignore").spike_times

    sorted_times = jnp.array([[0.2, 0.6, jnp.inf]])
    jax.block_until_ready(jax.jit(run)(sorted_times))
    with pytest.raises(Exception, match=r"Network\.input_spike_times must be sorted along each channel"):
        jax.block_until_ready(jax.jit(run)(jnp.array([[0.6, 0.2, jnp.inf]])))
    with pytest.raises(ValueError, match=r"input_spike_times must be sorted"):  # outside jit: at construction
        run(jnp.array([[0.6, 0.2, jnp.inf]]))


def test_score_function_gradient_warns_that_alpha_biases_it():
    simulation = sd.Simulation(t0=0.0, t1=1.0, dt=0.01, max_spikes=4)
    loss = sd.FirstSpikeTimeLoss(num_spikes=1, t1=1.0)
    kwargs = dict(learn=["input_current.value"], loss=loss, optimizer=optax.adam(0.05), simulation=simulation, model_samples=4)
    with pytest.warns(RuntimeWarning, match=r"alpha=0\.03: the score-function estimate of an SLIF with alpha > 0 is biased"):
        sd.Trainer(sd.SLIF(1, 1.5, sigma_v=0.0, alpha=0.03), estimator=sd.ScoreFunctionGradient(), **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sd.Trainer(sd.SLIF(1, 1.5, sigma_v=0.0, alpha=0.0), estimator=sd.ScoreFunctionGradient(), **kwargs)
        sd.Trainer(sd.SLIF(1, 1.5, sigma_v=0.0, alpha=0.03), estimator=sd.PathwiseGradient(), **kwargs)
