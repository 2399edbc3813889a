"""Value-and-gradient cost of the reference experiments, against the forward pass alone.

(a) one SLIF neuron, 128 samples, t in [0, 5], dt = 0.01, first 3 spikes, loss = mean spike time,
    gradient with respect to the input current c;
(b) the 4 -> 16 -> 2 network, batch 128, t in [0, 1], dt = 0.01, gradient with respect to the weights.

Routes: reverse-mode with the root derivative ("root") and with the explicit recursion
("recursion"), and forward mode (one tangent; for (b) the cost of a single directional derivative,
so the full gradient costs that times the 96 weights). Memory is XLA's compiled estimate of the
temporary buffers. float32, CPU. Run: python benchmarks/gradients.py [--quick]
"""

import argparse
import json
import pathlib
import statistics
import time

import equinox as eqx
import jax
import jax.numpy as jnp

import spikesde as sd


def timed(fn, *args, repeats):
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    compile_seconds = time.perf_counter() - start
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        samples.append(time.perf_counter() - start)
    memory = fn.lower(*args).compile().memory_analysis()
    temporary = getattr(memory, "temp_size_in_bytes", float("nan")) if memory is not None else float("nan")
    return statistics.median(samples), compile_seconds, temporary


def mean_finite(times):
    return jnp.sum(jnp.where(jnp.isfinite(times), times, 0.0)) / jnp.maximum(jnp.sum(jnp.isfinite(times)), 1)


def experiment_a(route):
    def loss(c, keys):
        model = sd.SLIF(input_current=c, mu_v=15.0, mu_i=0.0, sigma_v=0.5, v_reset=1.4, alpha=0.03)
        solve = lambda key: sd.simulate(model, t0=0.0, t1=5.0, dt=0.01, key=key, max_spikes=3, on_overflow="ignore", event_gradient=route).spike_times  # noqa: E731
        return mean_finite(jax.vmap(solve)(keys))

    return loss


def network(weights):
    neuron = sd.SLIF(22, input_current=jnp.asarray([1.5] * 4 + [0.0] * 18), mu_v=6.0, mu_i=5.0, sigma_v=0.25, sigma_i=0.25, v_reset=1.2, v0=1.1, i0=0.6)
    base = sd.feedforward(neuron, [4, 16, 2], key=jax.random.key(0))
    return base if weights is None else eqx.tree_at(lambda n: n.weights, base, weights)


def experiment_b(route, max_events):
    def loss(weights, keys):
        net = network(weights)
        solve = lambda key: sd.simulate(net, t0=0.0, t1=1.0, dt=0.01, key=key, max_spikes=20, max_events=max_events, on_overflow="ignore", event_gradient=route).spike_times  # noqa: E731
        return mean_finite(jax.vmap(solve)(keys))

    return loss


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few repeats, for a smoke run")
    parser.add_argument("--out", default="benchmarks/results/gradients.json")
    args = parser.parse_args()
    repeats = 3 if args.quick else 20
    keys = jax.random.split(jax.random.key(1), 128)
    weights = network(None).weights
    direction = network(None).mask.astype(jnp.float32)
    counts = jax.vmap(lambda k: sd.simulate(network(None), t0=0.0, t1=1.0, dt=0.01, key=k, max_spikes=20, max_events=400, on_overflow="ignore").spike_counts.sum())(keys)
    max_events = int(counts.max()) + 20  # headroom over the most spikes seen in this batch
    rows = []
    cases = [("a", 1.5, experiment_a), ("a", 0.56, experiment_a), ("b", weights, lambda route: experiment_b(route, max_events))]
    for name, point, build in cases:
        label = f"({name})" + (f" c={point}" if name == "a" else f" max_events={max_events}")
        forward_only = jax.jit(build("root"))
        seconds, compile_seconds, memory = timed(forward_only, point, keys, repeats=repeats)
        rows.append(dict(case=label, route="forward pass only", seconds=seconds, compile_seconds=compile_seconds, temp_bytes=memory))
        for route in ("root", "recursion"):
            value_and_grad = jax.jit(jax.value_and_grad(build(route)))
            seconds, compile_seconds, memory = timed(value_and_grad, point, keys, repeats=repeats)
            rows.append(dict(case=label, route=f"reverse ({route})", seconds=seconds, compile_seconds=compile_seconds, temp_bytes=memory))
        tangent = jnp.ones_like(point) if name == "a" else direction
        for route in ("root", "recursion"):
            forward_mode = jax.jit(lambda p, k, build=build, tangent=tangent, route=route: jax.jvp(lambda q: build(route)(q, k), (p,), (tangent,)))
            seconds, compile_seconds, memory = timed(forward_mode, point, keys, repeats=repeats)
            rows.append(dict(case=label, route=f"forward mode ({route}), 1 tangent", seconds=seconds, compile_seconds=compile_seconds, temp_bytes=memory))
    print(f"{'case':<26} {'route':<38} {'ms/call':>9} {'compile s':>10} {'temp MB':>9}")
    for row in rows:
        print(f"{row['case']:<26} {row['route']:<38} {1e3 * row['seconds']:>9.2f} {row['compile_seconds']:>10.2f} {row['temp_bytes'] / 2**20:>9.2f}")
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(device=str(jax.devices()[0]), rows=rows), indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
