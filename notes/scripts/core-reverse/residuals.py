import os, sys
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.path.join(os.getcwd(), "benchmarks"))
import jax, jax.numpy as jnp
import network_scaling as ns
from jax.ad_checkpoint import print_saved_residuals
os.environ["SDE_DEV"] = sys.argv[2] if len(sys.argv) > 2 else ""
n = int(sys.argv[1])
net = ns.network(n)
max_spikes, rate = ns.probe_max_spikes(net, 1e-3)
fn = ns.core_fn(ns.POLICIES["parallel"], dt=1e-3, max_spikes=max_spikes, batch=1, grad=True)
import spikesde as sd
def loss(params, key):
    solution = sd.simulate(ns.with_params(net, *params), t0=0.0, t1=1.0, dt=1e-3, key=key, max_spikes=max_spikes, event_policy=sd.ParallelEvents(), on_overflow="ignore")
    times = solution.spike_times
    return jnp.sum(jnp.where(jnp.isfinite(times), times, 0.0)) + jnp.sum(solution.final_state[0])
print("max_spikes", max_spikes)
print_saved_residuals(loss, (ns.learned_weights(net), jnp.asarray(2.0)), jax.random.key(1))
