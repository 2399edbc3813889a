"""Phase split at N: forward and value_and_grad of the clock loop and the event core (parallel), interleaved.

The functions are those of benchmarks/network_scaling.py (batch from $BATCH, default 1). Run: PYTHONPATH=$PWD python phase_split.py 100"""
import os, sys, statistics
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.path.join(os.getcwd(), "benchmarks"))
import jax, jax.numpy as jnp
import network_scaling as ns
n = int(sys.argv[1])
net = ns.network(n)
max_spikes, rate = ns.probe_max_spikes(net, 1e-3)
batch = int(os.environ.get("BATCH", "1"))
keys = jax.random.split(jax.random.key(1), batch)
args = ((ns.learned_weights(net), jnp.asarray(2.0)), net, keys)
c = {}
for name, f in [("clock_fwd", ns.clock_fn(dt=1e-3, batch=batch, grad=False)), ("clock_grad", ns.clock_fn(dt=1e-3, batch=batch, grad=True)),
                ("core_fwd", ns.core_fn(ns.POLICIES["parallel"], dt=1e-3, max_spikes=max_spikes, batch=batch, grad=False)),
                ("core_grad", ns.core_fn(ns.POLICIES["parallel"], dt=1e-3, max_spikes=max_spikes, batch=batch, grad=True))]:
    c[name] = ns.compile_fn(f, args)[0]
s = ns.interleaved(c, args, 12)
for k, t in s.items(): print(f"{k:12s} min {1e3*min(t):7.2f} med {1e3*statistics.median(t):7.2f} ms")
