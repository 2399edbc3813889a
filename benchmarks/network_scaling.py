"""Cost of the event core on recurrent SLIF networks, against a clock-driven loop measured in the same run.

Networks: N SLIF neurons (mu = (15, 5), sigma_v = 0.3, c = 2.0), 10% random connectivity
(``spikesde.recurrent``, weight scale 0.5), t in [0, 1], dt = 1e-3, float32, batch 1 and 32
(``jax.vmap`` over keys). Rows:

- ``sequential`` / ``parallel``: ``spikesde.simulate`` with ``SequentialEvents()`` /
  ``ParallelEvents()`` (exact event times, EulerMaruyama), ``max_spikes`` sized from a probe run;
- ``clock``: the baseline, a plain ``lax.scan`` over the same steps of the same discrete-time
  neurons (Euler-Maruyama, the same Brownian increments and clocks), a neuron firing at the end of
  the step on which its clock variable reaches 0, jumps ``spikes @ W`` added at the next step: no
  event times.

For each: forward time and ``value_and_grad`` time (loss: sum of the stored spike times plus the
final potentials, gradient in the weights and the input current), XLA's temporary memory of the
compiled function, and the ratio to the clock-driven loop. Every ratio is measured in one run,
interleaved (A, B, A, B, ...); min and median over the repeats are reported. The machine may be
shared: read the ratios, and the absolute times only as a rough guide.

Two more sweeps at N = 100, batch 1, forward, parallel policy: time against T / dt (dt from 1e-2 to
2.5e-4) and against the number of spikes (input current from 1 to 3), each with a linear fit.

``--coupling fanin --fan-in K``: the same neurons with a fixed fan-in coupling
(``spikesde.fixed_fan_in``: K random inputs per neuron, weights ``N(0, 0.5^2 / K)``, the statistics
of the dense networks at connection probability K / N), and a clock-driven baseline that adds its
jumps with the same gather (``FanInCoupling.jumps``), so the ratios compare like with like. With
two or more sizes at batch 1, the log-log slope of time against N is fitted and printed per row
kind (goal at fixed fan-in: 1).

Run: python benchmarks/network_scaling.py [--quick] [--sizes 100 1000 10000] [--batches 1 32]
     python benchmarks/network_scaling.py --coupling fanin --fan-in 100 --sizes 1000 2000 5000 --policies parallel
Writes benchmarks/results/network_scaling.json.
"""

import argparse
import functools
import json
import os
import pathlib
import platform
import statistics
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import spikesde as sd

T1 = 1.0
POLICIES = {"sequential": sd.SequentialEvents(), "parallel": sd.ParallelEvents()}


def network(n: int, current: float = 2.0, fan_in: int | None = None) -> sd.Network:
    """The dense 10% network, or with ``fan_in`` the fixed fan-in network of ``fan_in`` inputs."""
    neuron = sd.SLIF(n, input_current=current, mu_v=15.0, mu_i=5.0, sigma_v=0.3)
    if fan_in is not None:
        return sd.fixed_fan_in(neuron, key=jax.random.key(n), fan_in=fan_in, weight_scale=0.5)
    return sd.recurrent(neuron, key=jax.random.key(n), connection_probability=0.1, weight_scale=0.5)


def learned_weights(net: sd.Network):
    """The weights the benchmark differentiates: the ``n x n`` matrix or the ``n x k`` fan-in weights."""
    return net.weights if net.fan_in is None else net.fan_in.weights


def with_params(net: sd.Network, weights, current) -> sd.Network:
    neuron = _with_current(net.neuron, current)
    if net.fan_in is not None:
        return eqx.tree_at(lambda m: (m.neuron, m.fan_in.weights), net, (neuron, weights))
    return sd.Network(neuron, weights, net.mask)


def core_solve(net, key, *, policy, dt, max_spikes):
    """The event core: ``spikesde.simulate`` on [0, T1] with exact event times."""
    return sd.simulate(net, t0=0.0, t1=T1, dt=dt, key=key, max_spikes=max_spikes, event_policy=policy, on_overflow="ignore")


def core_loss(params, net, key, **options):
    """Sum of the stored spike times plus the final potentials, as a function of (weights, current)."""
    solution = core_solve(with_params(net, *params), key, **options)
    times = solution.spike_times
    return jnp.sum(jnp.where(jnp.isfinite(times), times, 0.0)) + jnp.sum(solution.final_state[0])


def core_fn(policy, *, dt, max_spikes, batch, grad):
    options = dict(policy=policy, dt=dt, max_spikes=max_spikes)
    return _batched(functools.partial(core_solve, **options), functools.partial(core_loss, **options), batch, grad)


def clock_solve(net, key, *, dt):
    """The clock-driven baseline: one ``lax.scan`` step per grid step, no event times."""
    neuron = net.neuron
    # The same jumps as the event core's: a dense product, or the fan-in gather.
    coupling = net.coupling() if net.fan_in is None else None
    jumps = (lambda fired: fired.astype(jnp.float32) @ coupling) if net.fan_in is None else net.fan_in.jumps
    n = neuron.n_neurons
    num_steps = round(T1 / dt)
    brownian_key, clock_key = jax.random.split(key)
    increments = sd.GridBrownian(brownian_key).increments(0.0, dt, num_steps, neuron.brownian_shape, jnp.float32)
    clocks = jax.random.exponential(clock_key, (num_steps + 1, n))
    y0 = neuron.initial_state(clocks[0])

    def step(carry, inputs):
        y, t = carry
        dW, clock = inputs
        y_next = sd.EulerMaruyama().step(neuron, t, y, dt, dW)
        fired = neuron.event(y_next) >= 0
        y_next = neuron.reset(y_next, fired, clock)
        y_next = y_next.at[neuron.synaptic_row].add(jumps(fired))
        return (y_next, t + dt), jnp.where(fired, t + dt, 0.0)

    (y, _), times = jax.lax.scan(step, (y0, jnp.asarray(0.0)), (increments, clocks[1:]))
    return times, y


def clock_loss(params, net, key, *, dt):
    """The clock loop's counterpart of :func:`core_loss`."""
    times, y = clock_solve(with_params(net, *params), key, dt=dt)
    return jnp.sum(times) + jnp.sum(y[0])


def clock_fn(*, dt, batch, grad):
    return _batched(functools.partial(clock_solve, dt=dt), functools.partial(clock_loss, dt=dt), batch, grad)


def _with_current(neuron, current):
    return eqx.tree_at(lambda m: m.input_current, neuron, sd.ConstantCurrent(current))


def _batched(solve, loss, batch, grad):
    if grad:
        value_and_grad = jax.value_and_grad(loss)

        def batched_grad(params, net, keys):
            values, grads = jax.vmap(value_and_grad, in_axes=(None, None, 0))(params, net, keys)
            return jnp.sum(values), jax.tree_util.tree_map(lambda g: jnp.sum(g, axis=0), grads)

        return jax.jit(batched_grad)
    return jax.jit(lambda params, net, keys: jax.vmap(solve, in_axes=(None, 0))(net, keys))


def compile_fn(fn, args):
    start = time.perf_counter()
    compiled = fn.lower(*args).compile()
    seconds = time.perf_counter() - start
    memory = None
    try:
        analysis = compiled.memory_analysis()
        memory = int(analysis.temp_size_in_bytes + analysis.output_size_in_bytes)
    except Exception:  # not every backend reports it
        pass
    jax.block_until_ready(compiled(*args))
    return compiled, seconds, memory


def interleaved(named, args, repeats):
    """Time each compiled function in turn, ``repeats`` rounds (A, B, C, A, B, C, ...)."""
    samples = {name: [] for name in named}
    for _ in range(repeats):
        for name, compiled in named.items():
            start = time.perf_counter()
            jax.block_until_ready(compiled(*args))
            samples[name].append(time.perf_counter() - start)
    return samples


def probe_max_spikes(net, dt):
    solution = sd.simulate(net, t0=0.0, t1=T1, dt=dt, key=jax.random.key(0), max_spikes=64, on_overflow="ignore",
                           event_policy=sd.ParallelEvents())
    counts = np.asarray(solution.spike_counts)
    return int(counts.max() * 1.5) + 8, float(counts.mean() / T1)


def scaling_row(n, batch, dt, repeats, grad, policies=tuple(POLICIES), fan_in=None):
    net = network(n, fan_in=fan_in)
    max_spikes, rate = probe_max_spikes(net, dt)
    keys = jax.random.split(jax.random.key(1), batch)
    params = (learned_weights(net), jnp.asarray(2.0))
    fns = {name: core_fn(POLICIES[name], dt=dt, max_spikes=max_spikes, batch=batch, grad=grad) for name in policies}
    fns["clock"] = clock_fn(dt=dt, batch=batch, grad=grad)
    compiled, info = {}, {}
    for name, fn in fns.items():
        compiled[name], seconds, memory = compile_fn(fn, (params, net, keys))
        info[name] = dict(compile_s=seconds, memory_bytes=memory)
    samples = interleaved(compiled, (params, net, keys), repeats)
    row = dict(
        n=n, batch=batch, dt=dt, mode="value_and_grad" if grad else "forward", max_spikes=max_spikes, rate_per_neuron=rate,
        coupling="dense 10%" if fan_in is None else f"fan-in {fan_in}", load_average=os.getloadavg(),
    )
    for name, times in samples.items():
        row[name] = dict(info[name], min_s=min(times), median_s=statistics.median(times))
    for name in policies:
        ratios = [a / b for a, b in zip(samples[name], samples["clock"])]
        row[name]["ratio_min"] = min(samples[name]) / min(samples["clock"])
        row[name]["ratio_median"] = statistics.median(ratios)
    return row


def sweep(kind, values, repeats):
    """Forward time of the parallel policy at N = 100, batch 1, against T/dt or the spike count."""
    points = []
    for value in values:
        dt = value if kind == "steps" else 1e-3
        net = network(100, 2.0 if kind == "steps" else value)
        max_spikes, rate = probe_max_spikes(net, dt)
        fn = core_fn(sd.ParallelEvents(), dt=dt, max_spikes=max_spikes, batch=1, grad=False)
        params = (net.weights, jnp.asarray(2.0))
        keys = jax.random.split(jax.random.key(1), 1)
        compiled, _, _ = compile_fn(fn, (params, net, keys))
        times = interleaved({"core": compiled}, (params, net, keys), repeats)["core"]
        spikes = float(np.sum(np.isfinite(np.asarray(compiled(params, net, keys).spike_times))))
        points.append(dict(x=round(T1 / dt) if kind == "steps" else spikes, min_s=min(times), median_s=statistics.median(times)))
    x = np.array([p["x"] for p in points], float)
    y = np.array([p["min_s"] for p in points])
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    r2 = 1 - float(np.sum(residual**2) / max(np.sum((y - y.mean()) ** 2), 1e-30))
    return dict(points=points, fit=dict(slope_s=float(slope), intercept_s=float(intercept), r2=r2))


def log_log_slopes(rows):
    """Fitted exponent ``b`` of ``time ~ N^b`` (min times, batch 1) per mode and row kind."""
    slopes = {}
    for mode in ("forward", "value_and_grad"):
        chosen = [r for r in rows if r["mode"] == mode and r["batch"] == 1]
        for name in ("sequential", "parallel", "clock"):
            points = [(r["n"], r[name]["min_s"]) for r in chosen if name in r]
            if len({n for n, _ in points}) >= 2:
                x, y = np.log([p[0] for p in points]), np.log([p[1] for p in points])
                slopes[f"{mode} {name}"] = float(np.polyfit(x, y, 1)[0])
    return slopes


def print_table(rows):
    print(f"{'N':>6} {'batch':>5} {'mode':>15} {'spk/n':>6} | {'clock ms':>9} | {'seq ms':>9} {'ratio min/med':>14} | {'par ms':>9} {'ratio min/med':>14} | {'mem MB seq/par/clock':>22}")
    for r in rows:
        mem = "/".join("-" if k not in r or r[k]["memory_bytes"] is None else f"{r[k]['memory_bytes'] / 2**20:.0f}" for k in ("sequential", "parallel", "clock"))
        cells = [
            f"{1e3 * r[k]['min_s']:>9.1f} {r[k]['ratio_min']:>6.2f}/{r[k]['ratio_median']:<6.2f}" if k in r else f"{'-':>9} {'-':>14}"
            for k in ("sequential", "parallel")
        ]
        print(
            f"{r['n']:>6} {r['batch']:>5} {r['mode']:>15} {r['rate_per_neuron']:>6.1f} | {1e3 * r['clock']['min_s']:>9.1f} | "
            f"{cells[0]} | {cells[1]} | {mem:>22}",
            flush=True,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="N = 100 and 1000, few repeats, short sweeps")
    parser.add_argument("--sizes", type=int, nargs="*", default=None)
    parser.add_argument("--batches", type=int, nargs="*", default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--no-grad", action="store_true", help="forward only")
    parser.add_argument("--no-sweeps", action="store_true")
    parser.add_argument("--policies", nargs="*", choices=list(POLICIES), default=list(POLICIES), help="event policies to time")
    parser.add_argument("--grad-only", action="store_true", help="value_and_grad rows only")
    parser.add_argument("--coupling", choices=["dense", "fanin"], default="dense", help="dense 10%% matrix or fixed fan-in")
    parser.add_argument("--fan-in", type=int, default=100, help="inputs per neuron with --coupling fanin")
    parser.add_argument("--out", default="benchmarks/results/network_scaling.json")
    args = parser.parse_args()
    fan_in = args.fan_in if args.coupling == "fanin" else None
    sizes = args.sizes or ([100, 1000] if args.quick else [100, 1000, 10000])
    batches = args.batches or [1, 32]
    repeats = args.repeats or (3 if args.quick else 7)
    rows = []
    result = dict(
        machine=dict(platform=platform.platform(), device=str(jax.devices()[0]), jax=jax.__version__),
        note="ratios interleaved in one run; absolute times on a possibly shared machine",
        rows=rows,
    )
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for n in sizes:
        for batch in batches:
            for grad in (False,) if args.no_grad else (True,) if args.grad_only else (False, True):
                rows.append(scaling_row(n, batch, 1e-3, repeats, grad, tuple(args.policies), fan_in))
                print_table(rows[-1:])
                out.write_text(json.dumps(result, indent=2))  # after every row: a long run keeps what it measured
    if not args.no_sweeps:
        dts = [1e-2, 5e-3, 2e-3, 1e-3] if args.quick else [1e-2, 5e-3, 2e-3, 1e-3, 5e-4, 2.5e-4]
        currents = [1.0, 2.0, 3.0] if args.quick else [1.0, 1.5, 2.0, 2.5, 3.0]
        result["time_vs_steps"] = sweep("steps", dts, repeats)
        result["time_vs_spikes"] = sweep("spikes", currents, repeats)
        for name in ("time_vs_steps", "time_vs_spikes"):
            fit = result[name]["fit"]
            xs = [p["x"] for p in result[name]["points"]]
            ys = [round(1e3 * p["min_s"], 2) for p in result[name]["points"]]
            print(f"{name}: x = {xs}, min ms = {ys}; linear fit: {1e6 * fit['slope_s']:.3f} us per unit + {1e3 * fit['intercept_s']:.2f} ms, R^2 = {fit['r2']:.3f}")
    print("\nFull table:")
    print_table(rows)
    result["log_log_slopes"] = log_log_slopes(rows)
    for name, slope in result["log_log_slopes"].items():
        print(f"time ~ N^b, {name}: b = {slope:.2f}")
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
