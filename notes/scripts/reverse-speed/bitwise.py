"""Values, spike times, grads, jvp, vmap of the event core: save to npz (run against main and the branch)."""
import sys, jax, jax.numpy as jnp, numpy as np, equinox as eqx
jax.config.update("jax_enable_x64", True)
import spikesde as sd
print(sd.__file__)
n = 12
c0 = jnp.linspace(1.6, 2.4, n)
dense = sd.recurrent(sd.SLIF(n, input_current=c0, sigma_v=0.4), key=jax.random.key(0), connection_probability=0.3, weight_scale=1.0)
fan = sd.fixed_fan_in(sd.SLIF(n, input_current=c0, sigma_v=0.4), key=jax.random.key(3), fan_in=4, weight_scale=1.0)
inp_times = np.sort(np.asarray(jax.random.uniform(jax.random.key(5), (2, 6))), axis=1)
inp_mask = jax.random.bernoulli(jax.random.key(6), 0.5, (2, n))
out = {}
def build(kind, w, c, win):
    neuron = sd.SLIF(n, input_current=c, sigma_v=0.4)
    if kind == "dense":
        return sd.Network(neuron, w, dense.mask)
    if kind == "input":
        return sd.Network(neuron, w, dense.mask, input_spike_times=inp_times, input_weights=win, input_mask=inp_mask)
    return eqx.tree_at(lambda m: (m.neuron, m.fan_in.weights), fan, (neuron, w))
for kind in ("dense", "fanin", "input"):
    w0 = fan.fan_in.weights if kind == "fanin" else dense.weights
    win0 = jnp.full((2, n), 0.7)
    for name, pol in [("seq", sd.SequentialEvents()), ("par", sd.ParallelEvents())]:
        def sol(w, c, win, key):
            return sd.simulate(build(kind, w, c, win), t0=0., t1=1., dt=0.01, key=key, max_spikes=30, event_policy=pol,
                               on_overflow="ignore", save_at=np.linspace(0., 1., 11))
        def loss(w, c, win, key):
            s = sol(w, c, win, key)
            return jnp.sum(jnp.where(jnp.isfinite(s.spike_times), s.spike_times, 0.)) + jnp.sum(s.final_state[0]) + jnp.sum(s.ys[:, 1] ** 2), (s.spike_times, s.ys)
        tag = f"{kind}_{name}"
        (v, (t, ys)), g = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2), has_aux=True))(w0, c0, win0, jax.random.key(1))
        out[tag + "_t"] = np.asarray(t); out[tag + "_ys"] = np.asarray(ys); out[tag + "_v"] = np.asarray(v)
        for i, gi in enumerate(g): out[tag + f"_g{i}"] = np.asarray(gi)
        keys = jax.random.split(jax.random.key(2), 3)
        vt = jax.jit(jax.vmap(lambda k: sol(w0, c0, win0, k).spike_times))(keys)
        out[tag + "_vmap"] = np.asarray(vt)
        vg = jax.jit(jax.vmap(jax.grad(lambda w, k: loss(w, c0, win0, k)[0]), in_axes=(None, 0)))(w0, keys)
        out[tag + "_vmapgrad"] = np.asarray(vg)
        p, tan = jax.jit(jax.jvp, static_argnums=0)(lambda c: loss(w0, c, win0, jax.random.key(1))[0], (c0,), (jnp.ones(n),))
        out[tag + "_jvp"] = np.asarray(tan); out[tag + "_jvpp"] = np.asarray(p)
        print(tag, "spikes", int(np.isfinite(np.asarray(t)).sum()), flush=True)
np.savez(sys.argv[1], **out)
