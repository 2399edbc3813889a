"""Dev: forward, jvp and value_and_grad of the event core (parallel, N from argv) for SDE_DEV variants, interleaved.

Needs a prototype diff applied (packed_jacobian.diff or packed_residuals.diff: git apply, in a scratch worktree). Variants are ";"-separated SDE_DEV
values ("" = the code as merged). No vmap (the benchmark uses vmap over a batch of 1: use ab.py for that).
Run: PYTHONPATH=$PWD python notes/scripts/core-reverse/phase_variants.py 100 ";packed;packed,savej,fakej"
($T1 sets the end of the window, default 1.0, as benchmarks/network_scaling.py; the budget loop must stay
above 2,000 iterations for the `flat` switch of packed_residuals.diff to apply to the first loop only.)
"""
import os, sys, statistics
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.path.join(os.getcwd(), "benchmarks"))
import jax, jax.numpy as jnp
import network_scaling as ns
import spikesde as sd
n = int(sys.argv[1]); variants = sys.argv[2].split(";")
ns.T1 = float(os.environ.get("T1", ns.T1))
net = ns.network(n)
max_spikes, rate = ns.probe_max_spikes(net, 1e-3)
key = jax.random.key(1)
params = (ns.learned_weights(net), jnp.asarray(2.0))
opts = dict(policy=sd.ParallelEvents(), dt=1e-3, max_spikes=max_spikes)
loss = lambda p: ns.core_loss(p, net, key, **opts)
tang = (jnp.ones_like(params[0]), jnp.asarray(1.0))
c = {}
for v in variants:
    os.environ["SDE_DEV"] = v; jax.clear_caches()
    for name, f in [("fwd", jax.jit(loss)), ("jvp", jax.jit(lambda p: jax.jvp(loss, (p,), (tang,)))), ("vg", jax.jit(jax.value_and_grad(loss)))]:
        c[f"{v or 'main'}:{name}"] = f.lower(params).compile()
s = ns.interleaved(c, (params,), 10)
for k, t in s.items(): print(f"{k:20s} min {1e3*min(t):7.2f} med {1e3*statistics.median(t):7.2f} ms")
