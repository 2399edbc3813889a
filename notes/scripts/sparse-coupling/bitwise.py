import sys, jax, jax.numpy as jnp, numpy as np
jax.config.update("jax_enable_x64", True)
import spikesde as sd
print(sd.__file__)
net = sd.recurrent(sd.SLIF(12, input_current=jnp.linspace(1.6, 2.4, 12), sigma_v=0.4), key=jax.random.key(0), connection_probability=0.3, weight_scale=1.0)
out = {}
for name, pol in [("seq", sd.SequentialEvents()), ("par", sd.ParallelEvents())]:
    def loss(w, c):
        n = sd.Network(sd.SLIF(12, input_current=c, sigma_v=0.4), w, net.mask)
        s = sd.simulate(n, t0=0., t1=1., dt=0.01, key=jax.random.key(1), max_spikes=30, event_policy=pol, on_overflow="ignore")
        return jnp.sum(jnp.where(jnp.isfinite(s.spike_times), s.spike_times, 0.)) + jnp.sum(s.final_state[0]), s.spike_times
    (v, t), g = jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)(net.weights, jnp.linspace(1.6, 2.4, 12))
    out[name + "_t"] = np.asarray(t); out[name + "_gw"] = np.asarray(g[0]); out[name + "_gc"] = np.asarray(g[1])
np.savez(sys.argv[1], **out)
