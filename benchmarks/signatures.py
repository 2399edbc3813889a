"""Signature losses: the training step of reference experiment (b), and PDE-kernel Gram matrices.

(i) One training step of experiment (b): 4 -> 16 -> 2 SLIF network, batch 128, t in [0, 1],
    dt = 0.01, at most 100 spikes per sample (as the reference run), depth-3 expected-signature MSE
    over all 22 neurons; value and gradient of simulate + loss in the weights. Routes, interleaved:
    "signax on padded lift" (the previous implementation: signax on the 2 * 22 * 20 + 2 vertex lift,
    the data's signature recomputed every step), "structured" (signatures from the lift's segments),
    "structured, cached target" (the data's expected signature computed once by ``loss.prepare``),
    and the simulation alone. The reference paper's code (cholberg/snnax) needs sigkerax, which does
    not import on jax 0.10, so it is compared against its recorded 19.1 s on this machine.
(ii) Unbiased MMD^2 of two batches of 32 paths (three 32 x 32 Gram matrices) with the PDE signature
    kernel (second-order scheme), forward and value + gradient in both batches, ours against pySigLib
    (C++ through jax.ffi, all threads and one thread), interleaved; the same paths, the same static
    kernel (``--static``, default linear), the same dyadic order (``--refinement``, default 0) and the
    same dtype (float32) for every route, and the gradients' largest difference from ours reported.
    Paths: random walks scaled to 1-variation of order one.

Every timing is the min and median of ``--repeats`` calls after compilation, the routes interleaved
(A, B, A, B, ...). float32, CPU. Run: python benchmarks/signatures.py [--quick]
"""

import argparse
import json
import pathlib
import statistics
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import signax

import spikesde as sd

REFERENCE_STEP_SECONDS = 19.1  # reference code, experiment (b) training step, this machine (shared/reference.md)
T1, DT, MAX_SPIKES, MAX_EVENTS, BATCH = 1.0, 0.01, 20, 100, 128


def network(weights=None):
    neuron = sd.SLIF(
        22, input_current=jnp.asarray([1.5] * 4 + [0.0] * 18), mu_v=6.0, mu_i=5.0, sigma_v=0.25, sigma_i=0.25,
        v_reset=1.2, v0=1.1, i0=0.6,
    )
    base = sd.feedforward(neuron, [4, 16, 2], key=jax.random.key(0))
    return base if weights is None else eqx.tree_at(lambda n: n.weights, base, weights)


def sample(weights, keys):
    net = network(weights)
    solve = lambda key: sd.simulate(  # noqa: E731
        net, t0=0.0, t1=T1, dt=DT, key=key, max_spikes=MAX_SPIKES, max_events=MAX_EVENTS, on_overflow="ignore"
    ).spike_times
    return jax.vmap(solve)(keys)


def interleaved(functions: dict, args: dict, repeats: int) -> dict:
    """Compile each, then call them in turn ``repeats`` times; min and median seconds per route."""
    compile_seconds = {}
    for name, fn in functions.items():
        start = time.perf_counter()
        jax.block_until_ready(fn(*args[name]))
        compile_seconds[name] = time.perf_counter() - start
    samples = {name: [] for name in functions}
    cpu = {name: [] for name in functions}  # process CPU seconds (all threads): less sensitive to a loaded machine
    for _ in range(repeats):
        for name, fn in functions.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            jax.block_until_ready(fn(*args[name]))
            samples[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return {
        name: dict(
            min=min(s), median=statistics.median(s), cpu_min=min(cpu[name]), cpu_median=statistics.median(cpu[name]),
            compile=compile_seconds[name], repeats=len(s),
        )
        for name, s in samples.items()
    }


def training_step(repeats):
    weights = network().weights
    data = sample(weights, jax.random.split(jax.random.key(5), BATCH))
    keys = jax.random.split(jax.random.key(1), BATCH)
    start = weights * 0.8
    loss = sd.ExpectedSignatureLoss(t0=0.0, t1=T1, depth=3, max_events=MAX_EVENTS)
    prepared = loss.prepare(data)

    def padded_signax(w, keys, data):
        lift = lambda s: sd.signatures.marcus_lift(s, t0=0.0, t1=T1)  # noqa: E731
        x = jnp.mean(signax.signature(lift(sample(w, keys)), 3), axis=0)
        y = jnp.mean(signax.signature(lift(data), 3), axis=0)
        return jnp.sum((x - y) ** 2)

    def simulate_only(w, keys, data):
        s = sample(w, keys)
        return jnp.sum(jnp.where(jnp.isfinite(s), s, 0.0))

    routes = {
        "signax on padded lift": jax.jit(jax.value_and_grad(padded_signax)),
        "structured": jax.jit(jax.value_and_grad(lambda w, k, d: loss(sample(w, k), d))),
        "structured, cached target": eqx.filter_jit(jax.value_and_grad(lambda w, k, d, p: p(sample(w, k), d))),
        "simulation only (value and grad)": jax.jit(jax.value_and_grad(simulate_only)),
    }
    args = {name: (start, keys, data) for name in routes}
    args["structured, cached target"] = (start, keys, data, prepared)
    values = {name: float(routes[name](*args[name])[0]) for name in routes}
    results = interleaved(routes, args, repeats)
    for name in results:
        results[name]["loss"] = values[name]
    return results


def random_paths(key, batch, length, dim):
    steps = jax.random.normal(key, (batch, length - 1, dim))
    path = jnp.concatenate([jnp.zeros((batch, 1, dim)), jnp.cumsum(steps, axis=1)], axis=1)
    variation = jnp.sum(jnp.abs(steps), axis=(1, 2))
    return path / variation[:, None, None]  # 1-variation one


def mmd(solver):
    def unbiased(x, y):
        kxx, kyy, kxy = (sd.signatures.signature_kernel_gram(a, b, solver) for a, b in ((x, x), (y, y), (x, y)))
        m = x.shape[0]
        off = lambda k: (jnp.sum(k) - jnp.trace(k)) / (m * (m - 1))  # noqa: E731
        return off(kxx) + off(kyy) - 2 * jnp.mean(kxy)

    return unbiased


def static_kernels(name):
    """The same static kernel for both solvers: ours, and what PySigLibSolver hands pySigLib."""
    if name == "linear":
        return sd.losses.LinearKernel(), "linear <x, y> (pySigLib: static_kernel=None, its LinearKernel)"
    return sd.losses.RBFKernel(sigma=0.5), "RBF sigma=0.5 (pySigLib: RBFKernel(2 sigma^2))"


def gram_cases(repeats, cases, refinement=0, static="linear", threads=(-1, 1)):
    """Ours against pySigLib (each thread count in ``threads``), same paths, static kernel, refinement, dtype."""
    kernel, description = static_kernels(static)
    rows = []
    for length, dim in cases:
        x = random_paths(jax.random.key(length + dim), 32, length, dim)
        y = random_paths(jax.random.key(length + dim + 1), 32, length, dim) * 1.2
        solvers = {"ours": sd.signatures.PDESolver(refinement=refinement, static_kernel=kernel)}
        for n_jobs in threads:
            solver = sd.signatures.PySigLibSolver(refinement=refinement, static_kernel=kernel, n_jobs=n_jobs)
            solvers[f"pysiglib n_jobs={n_jobs}"] = solver
        routes = {}
        for name, solver in solvers.items():
            routes[f"{name} forward"] = jax.jit(mmd(solver))
            routes[f"{name} value+grad"] = jax.jit(jax.value_and_grad(mmd(solver), argnums=(0, 1)))
        values = {name: float(routes[f"{name} forward"](x, y)) for name in solvers}
        grads = {name: routes[f"{name} value+grad"](x, y)[1] for name in solvers}
        reference = grads["ours"]
        grad_error = {
            name: max(float(jnp.max(jnp.abs(g - r)) / jnp.max(jnp.abs(r))) for g, r in zip(grads[name], reference))
            for name in solvers
        }
        results = interleaved(routes, {name: (x, y) for name in routes}, repeats)
        rows.append(
            dict(
                length=length, dim=dim, mmd=values, grad_relative_error_vs_ours=grad_error, timings=results,
                static_kernel=description, refinement=refinement, dtype=str(x.dtype),
            )
        )
    return rows


def print_gram(grams):
    first = grams[0]
    print(
        f"(ii) PDE-kernel MMD^2, 32 vs 32 paths (three 32 x 32 Gram matrices), static kernel {first['static_kernel']}, "
        f"dyadic order {first['refinement']}, {first['dtype']}; milliseconds: min (median)"
    )
    for row in grams:
        t = row["timings"]
        others = [name[: -len(" forward")] for name in t if name.startswith("pysiglib") and name.endswith("forward")]
        cell = lambda name: f"{1e3 * t[name]['min']:.1f} ({1e3 * t[name]['median']:.1f})"  # noqa: E731
        values = ", ".join(f"{k} {v:.6g}" for k, v in row["mmd"].items())
        print(f"length {row['length']}, dim {row['dim']}: MMD^2 {values}")
        print(
            f"  {'route':<22} {'forward':>18} {'value+grad':>18} {'ours/it fwd':>12} {'ours/it grad':>12} "
            f"{'cpu fwd':>8} {'cpu grad':>8} {'grad rel err':>12}"
        )
        for name in ["ours", *others]:
            fwd, grad = t[f"{name} forward"], t[f"{name} value+grad"]
            ours_f, ours_g = t["ours forward"], t["ours value+grad"]
            print(
                f"  {name:<22} {cell(name + ' forward'):>18} {cell(name + ' value+grad'):>18} "
                f"{ours_f['min'] / fwd['min']:>12.2f} {ours_g['min'] / grad['min']:>12.2f} "
                f"{ours_f['cpu_median'] / fwd['cpu_median']:>8.2f} {ours_g['cpu_median'] / grad['cpu_median']:>8.2f} "
                f"{row['grad_relative_error_vs_ours'][name]:>12.1e}"
            )
        print("  (ours/it: ratio of min wall times; cpu: ratio of median process CPU times, all threads counted)")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few repeats, length 100 only")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--skip-step", action="store_true")
    parser.add_argument("--skip-gram", action="store_true")
    parser.add_argument("--refinement", type=int, default=0, help="dyadic order of both PDE solvers")
    parser.add_argument("--static", choices=("linear", "rbf"), default="linear", help="static kernel of both solvers")
    parser.add_argument("--out", default="benchmarks/results/signatures.json")
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 7)
    out = dict(device=str(jax.devices()[0]), repeats=repeats, reference_step_seconds=REFERENCE_STEP_SECONDS)
    if not args.skip_step:
        step = training_step(repeats)
        out["training_step"] = step
        print("(i) experiment (b) training step, batch 128, value and gradient (seconds)")
        print(f"{'route':<36} {'min':>8} {'median':>8} {'compile':>8} {'loss':>10} {'ref/min':>8}")
        for name, r in step.items():
            print(
                f"{name:<36} {r['min']:>8.3f} {r['median']:>8.3f} {r['compile']:>8.1f} {r['loss']:>10.4g} "
                f"{REFERENCE_STEP_SECONDS / r['min']:>8.1f}"
            )
        base = step["signax on padded lift"]["min"]
        print(f"speed-up of the cached structured step over the padded signax step: {base / step['structured, cached target']['min']:.1f}x")
    if not args.skip_gram:
        cases = [(100, 3), (100, 23)] if args.quick else [(100, 3), (100, 23), (200, 3), (200, 23)]
        grams = gram_cases(repeats, cases, refinement=args.refinement, static=args.static)
        out["gram"] = grams
        print_gram(grams)
    path = pathlib.Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
