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
