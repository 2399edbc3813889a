"""Dev: values, weight/current gradients and a JVP of the benchmark loss (N = 12 by default, float64),
the merged code against the SDE_DEV variant in $V2 (default "packed"). Needs packed_jacobian.diff applied.
Run: PYTHONPATH=$PWD python notes/scripts/core-reverse/packed_check.py 12
"""
import os, sys
import jax, jax.numpy as jnp
jax.config.update("jax_enable_x64", True)
sys.path.insert(0, os.path.join(os.getcwd(), "benchmarks"))
import network_scaling as ns
import spikesde as sd
n = int(sys.argv[1]) if len(sys.argv) > 1 else 12
net = ns.network(n)
key = jax.random.key(3)
params = (ns.learned_weights(net), jnp.asarray(2.0))
def loss(p):
    return ns.core_loss(p, net, key, policy=sd.ParallelEvents(), dt=1e-3, max_spikes=40)
res = {}
for v in ["", os.environ.get("V2", "packed")]:
    os.environ["SDE_DEV"] = v; jax.clear_caches()
    val, g = jax.jit(jax.value_and_grad(loss))(params)
    tan = jax.jit(lambda p: jax.jvp(loss, (p,), ((jnp.ones_like(p[0]) * 0.01, jnp.asarray(1.0)),)))(params)
    res[v] = (val, g, tan)
    print(v or "main", float(val), float(jnp.sum(jnp.abs(g[0]))), float(g[1]), [float(t) for t in tan])
a, b = res[""], res[os.environ.get("V2", "packed")]
print("dval", float(abs(a[0]-b[0])), "dgradW", float(jnp.max(jnp.abs(a[1][0]-b[1][0]))), "dgradc", float(abs(a[1][1]-b[1][1])), "djvp", float(abs(a[2][1]-b[2][1])))
