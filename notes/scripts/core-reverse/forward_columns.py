"""Forward mode at N: value, value_and_grad, and k forward-mode columns (vmapped jvp), clock loop and event core, interleaved.

Run: PYTHONPATH=$PWD python forward_columns.py 100 1,6"""
import os, sys, statistics, time
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.path.join(os.getcwd(), "benchmarks"))
import jax, jax.numpy as jnp
import network_scaling as ns
import spikesde as sd
n = int(sys.argv[1]); ks = [int(k) for k in sys.argv[2].split(",")]
net = ns.network(n)
max_spikes, rate = ns.probe_max_spikes(net, 1e-3)
key = jax.random.key(1)
params = (ns.learned_weights(net), jnp.asarray(2.0))
def core_loss(params, key):
    solution = sd.simulate(ns.with_params(net, *params), t0=0.0, t1=1.0, dt=1e-3, key=key, max_spikes=max_spikes, event_policy=sd.ParallelEvents(), on_overflow="ignore")
    times = solution.spike_times
    return jnp.sum(jnp.where(jnp.isfinite(times), times, 0.0)) + jnp.sum(solution.final_state[0])
_lam = ns.clock_fn(dt=1e-3, batch=1, grad=False).__wrapped__
clock_run = dict(zip(_lam.__code__.co_freevars, [c.cell_contents for c in _lam.__closure__]))["solve"]
def clock_loss(params, key):
    times, y = clock_run(ns.with_params(net, *params), key)
    return jnp.sum(times) + jnp.sum(y[0])
fns = {}
for name, loss in (("clock", clock_loss), ("core", core_loss)):
    fns[(name, "value")] = jax.jit(lambda p, loss=loss: loss(p, key))
    fns[(name, "value_and_grad")] = jax.jit(jax.value_and_grad(lambda p, loss=loss: loss(p, key)))
    for k in ks:
        def cols(p, loss=loss, k=k):
            tangents = jax.tree_util.tree_map(lambda x: jnp.stack([jnp.full_like(x, i + 1.0) for i in range(k)]), p)
            return jax.vmap(lambda t: jax.jvp(lambda q: loss(q, key), (p,), (t,)))(tangents)
        fns[(name, f"jvp x{k}")] = jax.jit(cols)
for f in fns.values(): jax.block_until_ready(f(params))
res = {k: [] for k in fns}
for r in range(int(os.environ.get("REPEATS", "10"))):
    for k, f in fns.items():
        t = time.perf_counter(); jax.block_until_ready(f(params)); res[k].append(time.perf_counter() - t)
print(f"N={n} load={os.getloadavg()[0]:.2f}")
for (a, b), t in res.items(): print(f"{a:6s} {b:15s} min {1e3*min(t):7.2f} med {1e3*statistics.median(t):7.2f} ms")
