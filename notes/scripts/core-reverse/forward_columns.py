"""Forward mode at N: value, value_and_grad, and k forward-mode columns (vmapped jvp), clock loop and event core, interleaved.

Run: PYTHONPATH=$PWD python forward_columns.py 100 1,6"""
import os, sys, statistics
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
    return ns.core_loss(params, net, key, policy=sd.ParallelEvents(), dt=1e-3, max_spikes=max_spikes)
def clock_loss(params, key):
    return ns.clock_loss(params, net, key, dt=1e-3)
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
res = ns.interleaved(fns, (params,), int(os.environ.get("REPEATS", "10")))
print(f"N={n} load={os.getloadavg()[0]:.2f}")
for (a, b), t in res.items(): print(f"{a:6s} {b:15s} min {1e3*min(t):7.2f} med {1e3*statistics.median(t):7.2f} ms")
