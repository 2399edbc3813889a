# Dev A/B used on branch core-reverse: variants were temporary SDE_DEV switches in the worktree code (removed).
"""Dev A/B: variants via SDE_DEV, interleaved in one process with the clock loop."""
import os, sys, statistics, json
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.path.join(os.getcwd(), "benchmarks"))
import jax, jax.numpy as jnp
import network_scaling as ns
n = int(sys.argv[1]); repeats = int(sys.argv[2]); fan_in = int(sys.argv[3]) if sys.argv[3] != "0" else None
variants = sys.argv[4].split(";")  # e.g. "clock;;nocond;nocond,saveall"
batch = int(os.environ.get("BATCH", "1"))
net = ns.network(n, fan_in=fan_in)
max_spikes, rate = ns.probe_max_spikes(net, 1e-3)
keys = jax.random.split(jax.random.key(1), batch)
args = ((ns.learned_weights(net), jnp.asarray(2.0)), net, keys)
compiled, mem, outs = {}, {}, {}
for v in variants:
    jax.clear_caches(); os.environ["SDE_DEV"] = v
    fn = ns.clock_fn(dt=1e-3, batch=batch, grad=True) if v == "clock" else ns.core_fn(ns.POLICIES["parallel"], dt=1e-3, max_spikes=max_spikes, batch=batch, grad=True)
    compiled[v or "main"], _, mem[v or "main"] = ns.compile_fn(fn, args)
    outs[v or "main"] = compiled[v or "main"](*args)
samples = ns.interleaved(compiled, args, repeats)
print(f"N={n} fan_in={fan_in} batch={batch} spikes/neuron={rate:.1f} load={os.getloadavg()[0]:.2f}")
ref = outs.get("main")
for v, t in samples.items():
    r = [a / b for a, b in zip(t, samples["clock"])]
    extra = ""
    if ref is not None and v != "clock":
        val, g = outs[v]; rv, rg = ref
        extra = f" dval {float(abs(val-rv)/abs(rv)):.1e} dgrad {float(jnp.max(jnp.abs(g[0]-rg[0]))/jnp.max(jnp.abs(rg[0]))):.1e}"
    print(f"{v:>22} min {1e3*min(t):8.1f} med {1e3*statistics.median(t):8.1f} ms ratio {min(t)/min(samples['clock']):.2f}/{statistics.median(r):.2f} mem {mem[v] and mem[v]/2**20:.0f} MB{extra}", flush=True)
