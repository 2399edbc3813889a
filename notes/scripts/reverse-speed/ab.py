"""Interleaved A/B in one process: clock loop, the loop without saved names (= main), the branch."""
import os, sys, statistics, json
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.path.join(os.getcwd(), "benchmarks"))
import jax, jax.numpy as jnp
import network_scaling as ns
import spikesde._core.event_core as ec
import spikesde._core.bounded_loop as bl
n = int(sys.argv[1]); repeats = int(sys.argv[2]); fan_in = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] != "0" else None
net = ns.network(n, fan_in=fan_in)
max_spikes, rate = ns.probe_max_spikes(net, 1e-3)
keys = jax.random.split(jax.random.key(1), 1)
params = (ns.learned_weights(net), jnp.asarray(2.0)); args = (params, net, keys)
orig = bl.masked_bounded_loop
VARIANTS = os.environ.get("VARIANTS", "clock,main,branch").split(",")
compiled, mem = {}, {}
for v in VARIANTS:
    jax.clear_caches(); os.environ["RS_NOCOND"] = "1" if v == "nocond" else "0"
    ec.masked_bounded_loop = (lambda *a, **k: orig(*a, **{**k, "saved_names": ()})) if v == "main" else orig
    fn = ns.clock_fn(dt=1e-3, batch=1, grad=True) if v == "clock" else ns.core_fn(ns.POLICIES["parallel"], dt=1e-3, max_spikes=max_spikes, batch=1, grad=True)
    compiled[v], _, mem[v] = ns.compile_fn(fn, args)
samples = ns.interleaved(compiled, args, repeats)
load = os.getloadavg()
out = dict(n=n, fan_in=fan_in, rate=rate, load=load, repeats=repeats)
print(f"N={n} fan_in={fan_in} spikes/neuron={rate:.1f} load={load}")
for v, t in samples.items():
    r = [a / b for a, b in zip(t, samples["clock"])]
    out[v] = dict(min_ms=1e3 * min(t), median_ms=1e3 * statistics.median(t), ratio_min=min(t) / min(samples["clock"]), ratio_median=statistics.median(r), memory_mb=None if mem[v] is None else mem[v] / 2**20)
    print(f"{v:>7} min {1e3*min(t):8.1f} med {1e3*statistics.median(t):8.1f} ms  ratio min {out[v]['ratio_min']:.2f} med {out[v]['ratio_median']:.2f}  mem {out[v]['memory_mb']:.1f} MB", flush=True)
with open("/tmp/rs/ab.jsonl", "a") as f: f.write(json.dumps(out) + "\n")
