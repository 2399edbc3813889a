import os, sys, glob, gzip, json, collections
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.path.join(os.getcwd(), "benchmarks"))
import jax, jax.numpy as jnp
import network_scaling as ns
n = int(sys.argv[1]); which = sys.argv[2]; fan_in = int(sys.argv[3]) if len(sys.argv) > 3 else None
net = ns.network(n, fan_in=fan_in)
max_spikes, rate = ns.probe_max_spikes(net, 1e-3)
keys = jax.random.split(jax.random.key(1), 1)
params = (ns.learned_weights(net), jnp.asarray(2.0))
fn = ns.clock_fn(dt=1e-3, batch=1, grad=not which.endswith("fwd")) if which.startswith("clock") else ns.core_fn(ns.POLICIES["parallel"], dt=1e-3, max_spikes=max_spikes, batch=1, grad=not which.endswith("fwd"))
c, s, mem = ns.compile_fn(fn, (params, net, keys))
open(f"/tmp/rs/hlo_{which}_{n}.txt", "w").write(c.as_text())
d = f"/tmp/rs/trace_{which}_{n}"
os.system(f"rm -rf {d}")
with jax.profiler.trace(d, create_perfetto_trace=True):
    jax.block_until_ready(c(params, net, keys))
f = glob.glob(f"{d}/**/*.trace.json.gz", recursive=True)[0]
ev = json.load(gzip.open(f))
ev = ev["traceEvents"] if isinstance(ev, dict) else ev
tot = collections.Counter(); cnt = collections.Counter()
for e in ev:
    if e.get("ph") == "X" and "dur" in e:
        tot[e["name"]] += e["dur"]; cnt[e["name"]] += 1
for k, v in tot.most_common(45):
    print(f"{v/1e3:9.1f} ms {cnt[k]:7d} {k[:90]}")
