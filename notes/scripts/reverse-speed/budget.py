import os, sys, statistics
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.path.join(os.getcwd(), "benchmarks"))
import jax, jax.numpy as jnp
import network_scaling as ns, spikesde as sd
n = int(sys.argv[1]); reps = int(sys.argv[2])
net = ns.network(n); max_spikes, rate = ns.probe_max_spikes(net, 1e-3)
keys = jax.random.split(jax.random.key(1), 1); args = ((ns.learned_weights(net), jnp.asarray(2.0)), net, keys)
def core(max_events):
    def loss(params, net, key):
        s = sd.simulate(ns.with_params(net, *params), t0=0.0, t1=1.0, dt=1e-3, key=key, max_spikes=max_spikes, max_events=max_events, event_policy=sd.ParallelEvents(), on_overflow="ignore")
        return jnp.sum(jnp.where(jnp.isfinite(s.spike_times), s.spike_times, 0.0)) + jnp.sum(s.final_state[0]), (s.spike_counts.sum(), s.budget_exhausted)
    return loss
fns = {"clock": ns.clock_fn(dt=1e-3, batch=1, grad=True)}
for me in (None, 20000, 1000):
    lo = core(me)
    fns[f"max_events={me}"] = jax.jit(lambda p, net, keys, lo=lo: jax.vmap(jax.value_and_grad(lo, has_aux=True), in_axes=(None, None, 0))(p, net, keys))
comp, mem = {}, {}
for k, f in fns.items():
    comp[k], _, mem[k] = ns.compile_fn(f, args)
out = comp["max_events=1000"](*args); print("spikes", out[0][1], "exhausted", out[0][1][1])
s = ns.interleaved(comp, args, reps)
for k, t in s.items():
    print(f"{k:>18} min {1e3*min(t):7.1f} med {1e3*statistics.median(t):7.1f} ratio {min(t)/min(s['clock']):.2f}/{statistics.median([a/b for a,b in zip(t,s['clock'])]):.2f} mem {mem[k]/2**20:.0f} MB")
print("load", os.getloadavg())
