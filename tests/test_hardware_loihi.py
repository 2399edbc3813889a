"""Acceptance 1: the Loihi 1 profile, run through spikesde.simulate, matches an independent integer
transcription of the published update equations bit for bit."""

import jax
import numpy as np
import pytest

import spikesde
from spikesde._hardware.loihi import LoihiLIF, Loihi1Stepper, decay_toward_zero, wrap24


def loihi_reference(du, dv, vth, bias_mant, bias_exp, a_in):
    """Plain int64 transcription of reference.md section 4 (Lava's PyLifModelBitAcc): one row of
    ``a_in`` per time step. Returns each neuron's spike steps (1-based: step k ends at time k),
    the final u and v, and how many times u wrapped and v was clipped."""
    steps, n = a_in.shape
    u = np.zeros(n, np.int64)
    v = np.zeros(n, np.int64)
    spikes = [[] for _ in range(n)]
    wraps = clips = 0
    for k in range(steps):
        product = u * (4096 - (du + 1))
        u = np.sign(product) * (np.abs(product) >> 12) + (a_in[k].astype(np.int64) << 6)
        wrapped = ((u + 2**23) % 2**24) - 2**23
        wraps += int(np.sum(wrapped != u))
        u = wrapped
        product = v * (4096 - dv)
        v = np.sign(product) * (np.abs(product) >> 12) + u + (bias_mant.astype(np.int64) << bias_exp)
        clipped = np.clip(v, -(2**23 - 1), 2**23 - 1)
        clips += int(np.sum(clipped != v))
        v = clipped
        fired = v > (vth.astype(np.int64) << 6)
        v[fired] = 0
        for i in np.flatnonzero(fired):
            spikes[i].append(k + 1)
    return spikes, u, v, wraps, clips


def test_decay_splits_products_exactly():
    rng = np.random.default_rng(1)
    x = rng.integers(-(2**23), 2**23, 5000)
    factor = rng.integers(0, 4097, 5000)
    product = x * factor
    expected = np.sign(product) * (np.abs(product) >> 12)
    np.testing.assert_array_equal(np.asarray(decay_toward_zero(x.astype(np.int32), factor.astype(np.int32))), expected)
    np.testing.assert_array_equal(np.asarray(wrap24(np.array([2**23, -(2**23) - 1, 5], np.int32))), [-(2**23), 2**23 - 1, 5])


def test_loihi_matches_integer_transcription_bit_for_bit():
    rng = np.random.default_rng(0)
    n, steps = 1000, 300
    du, dv = rng.integers(0, 4096, n), rng.integers(0, 4096, n)
    vth = rng.integers(0, 2**17, n)
    bias_mant, bias_exp = rng.integers(-4096, 4096, n), rng.integers(0, 8, n)
    a_in = rng.integers(-(2**15), 2**15, (steps, n))
    spikes, u, v, wraps, clips = loihi_reference(du, dv, vth, bias_mant, bias_exp, a_in)
    counts = np.array([len(s) for s in spikes])
    # The random draw exercises every branch: spikes, 24-bit wraps of u and clips of v.
    assert counts.sum() > 1000 and wraps > 0 and clips > 0

    # Tick k (starting at time k - 1) reads a_in[k - 1]: breakpoints at the half steps.
    current = spikesde.PiecewiseConstantCurrent(np.arange(steps - 1) + 0.5, a_in.astype(np.float32))
    neuron = LoihiLIF(n, current, du=du, dv=dv, vth=vth, bias_mant=bias_mant, bias_exp=bias_exp)
    solution = spikesde.simulate(
        neuron, t0=0.0, t1=float(steps), dt=1.0, key=jax.random.key(0), max_spikes=int(counts.max()),
        max_events=int(counts.sum()), stepper=Loihi1Stepper(dt=1.0), event_location=spikesde.GridEventLocation(strict=True),
    )
    np.testing.assert_array_equal(np.asarray(solution.spike_counts), counts)
    times = np.asarray(solution.spike_times)
    for k in range(n):
        np.testing.assert_array_equal(times[k, : counts[k]], spikes[k], err_msg=f"neuron {k}")
    np.testing.assert_array_equal(np.asarray(solution.final_state[0]), u)
    np.testing.assert_array_equal(np.asarray(solution.final_state[1]), v)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"du": 4096}, r"du must lie in \[0, 4095\]"), ({"vth": 2**17}, "vth"), ({"bias_mant": 0.5}, "bias_mant must hold integers")],
)
def test_loihi_parameters_are_checked(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LoihiLIF(2, **kwargs)


def test_loihi_needs_its_stepper():
    with pytest.raises(TypeError, match="clock-driven"):
        spikesde.simulate(LoihiLIF(2), t0=0.0, t1=2.0, dt=1.0, key=jax.random.key(0), max_spikes=2)


@pytest.mark.parametrize("ticks", [1, 3, 10])
def test_to_loihi_synaptic_weights_follow_the_float_model_for_any_tau_syn(ticks, x64):
    """Same input spikes (on the clock), float exact LIF vs its Loihi program at tau_syn = ticks dt:
    same spike count, spike steps within one tick (the chip resets at the tick's end, the float
    model at the crossing)."""
    from spikesde._hardware import spike_steps, to_loihi

    dt = 1e-3
    rng = np.random.default_rng(0)
    inputs = np.sort(rng.choice(np.arange(1, 1000), 60, replace=False)) * dt
    lif = spikesde.LIF(1, 20.0, tau_mem=20e-3, tau_syn=ticks * dt, threshold=1.0)
    network = spikesde.Network(lif, None, input_spike_times=inputs[None], input_weights=[[0.25 / (ticks * dt)]])
    run = dict(t0=0.0, t1=1.0, dt=dt, key=jax.random.key(0), max_spikes=32)
    exact = spikesde.simulate(network, stepper=spikesde.ExponentialEuler(), **run)
    chip = spikesde.simulate(to_loihi(network, dt, vth=2**16), stepper=Loihi1Stepper(dt=dt), event_location=spikesde.GridEventLocation(strict=True),
                             event_policy=spikesde.ParallelEvents(), **run)
    a, b = spike_steps(exact.spike_times[0], dt), spike_steps(chip.spike_times[0], dt)
    assert a.size >= 2 and a.size == b.size, (a, b)
    assert np.max(np.abs(a - b)) <= 1, (a, b)


def test_to_loihi_refuses_a_reset_the_chip_does_not_do():
    from spikesde._hardware import to_loihi

    with pytest.raises(ValueError, match="to_loihi: LIF.v_reset = 0.5 subtracts other than the threshold; the chip sets v to 0"):
        to_loihi(spikesde.LIF(1, 1.5, threshold=1.0, v_reset=0.5), dt=1e-3)


def test_nir_to_loihi_programs_a_cuba_lif_and_refuses_what_lava_cannot():
    nir = pytest.importorskip("nir")
    from spikesde._hardware import LavaProgramming, nir_to_loihi

    one = lambda x: np.array([x])  # noqa: E731
    dt, tau_syn, tau_mem, weight = 1e-3, 5e-3, 20e-3, 3.0

    def graph(v_leak=0.0, v_reset=0.0, bias=0.0):
        cuba = nir.CubaLIF(tau_syn=one(tau_syn), tau_mem=one(tau_mem), r=one(1.0), v_leak=one(v_leak), v_threshold=one(1.0),
                           v_reset=one(v_reset), w_in=one(1.0))
        nodes = {"in": nir.Input(input_type=np.array([1])), "w": nir.Affine(weight=np.array([[weight]]), bias=one(bias)), "cuba": cuba,
                 "out": nir.Output(output_type=np.array([1]))}
        return nir.NIRGraph(nodes=nodes, edges=[("in", "w"), ("w", "cuba"), ("cuba", "out")])

    network = nir_to_loihi(graph(), dt, input_spike_times=[[0.0105]])
    assert (int(network.neuron.du[0]), int(network.neuron.dv[0]), int(network.neuron.vth[0])) == (819, 204, 255)
    # a_in = int(256 R w_in W dt^2 / (tau_syn tau_mem)) = int(7.68)
    assert float(network.input_weights[0, 0]) == 7.0
    assert int(LavaProgramming().synaptic_input(np.array([2.0]), "w")[0]) == 512  # 64 << 3: an 8-bit mantissa needs the exponent
    assert int(LavaProgramming().synaptic_input(np.array([1.3]), "w")[0]) == 332  # 83 << 2: 332.8 truncated to the mantissa
    with pytest.raises(ValueError, match="node 'cuba' \\(CubaLIF\\) has v_leak != 0"):
        nir_to_loihi(graph(v_leak=0.1), dt)
    with pytest.raises(ValueError, match="node 'cuba' \\(CubaLIF\\) resets to v_reset"):
        nir_to_loihi(graph(v_reset=0.2), dt)
    with pytest.raises(ValueError, match="an Affine bias reaches node 'cuba'"):
        nir_to_loihi(graph(bias=0.1), dt)


@pytest.mark.slow  # a float and a chip compile (~30 s on the shared machine)
def test_to_loihi_feeds_a_piecewise_current_per_tick_and_keeps_the_float_spike_steps(x64):
    """The NIR benchmark's input as a spikesde current (400 on the input steps): float exact and
    to_loihi fire in the same steps (460, 510, 710, 760: no Dense delay on this route)."""
    from spikesde._hardware import spike_steps, to_loihi

    dt, steps = 1e-4, [60, 220, 270, 310, 320, 350, 370, 400, 410, 430, 440, 450, 460, 470, 480, 490, 500,
                       510, 520, 530, 670, 680, 690, 700, 710, 720, 730, 740, 750, 760, 770, 780, 840, 850]
    breakpoints = np.ravel([[k * dt, (k + 1) * dt] for k in steps])
    values = np.concatenate([[0.0], np.ravel([[400.0, 0.0] for _ in steps])])
    lif = spikesde.LIF(1, spikesde.PiecewiseConstantCurrent(breakpoints, values), tau_mem=2.5e-3, threshold=0.1)
    run = dict(t0=0.0, t1=0.1, dt=dt, key=jax.random.key(0), max_spikes=8)
    exact = spikesde.simulate(lif, stepper=spikesde.ExponentialEuler(), **run)
    chip_model = to_loihi(lif, dt, vth=2**14)
    assert np.all(np.asarray(chip_model.neuron.du) == 4095)
    chip = spikesde.simulate(chip_model, stepper=Loihi1Stepper(dt=dt), event_location=spikesde.GridEventLocation(strict=True),
                             event_policy=spikesde.ParallelEvents(), **run)
    assert list(spike_steps(exact.spike_times[0], dt)) == list(spike_steps(chip.spike_times[0], dt)) == [460, 510, 710, 760]
    with pytest.raises(ValueError, match="breakpoint 0 of the input current is not on the clock"):
        to_loihi(spikesde.LIF(1, spikesde.PiecewiseConstantCurrent([0.5e-4], [0.0, 1.0])), dt)
    with pytest.raises(ValueError, match="cannot carry synaptic input too"):
        to_loihi(spikesde.Network(spikesde.LIF(2, spikesde.PiecewiseConstantCurrent([dt], [0.0, 1.0])), np.ones((2, 2))), dt)
