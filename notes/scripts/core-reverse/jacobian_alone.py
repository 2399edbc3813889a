"""Dev: the SLIF / Euler-Maruyama local map of the parallel iteration (N = 100, no coupling, fixed
parameters) alone in a 1,125-iteration scan: its primal, and its primal plus the vmapped JVP over six
columns (V, I, s, own time, held jumps, current), the Jacobian stored per iteration (as the packed
design does) or, with --no-stack, only summed into the carry. Self-contained: no patch needed.
Run: python notes/scripts/core-reverse/jacobian_alone.py [--no-stack]
"""
import sys, time, jax, jax.numpy as jnp, numpy as np
NO_STACK = "--no-stack" in sys.argv
n, C, iters = 100, 6, 1125
mu_v, mu_i, sv, si, vr, alpha, beta, vth, tau_s = 15.0, 5.0, 0.3, 0.0, 1.4, 0.03, 5.0, 1.0, 1.0
dt, t_end = 1e-3, 1e-3
def intensity(v):
    e = beta * jnp.minimum(v - vth, 10.0)
    return jnp.exp(jnp.minimum(e, 60.0)) / tau_s
def step(v, i, s, t, c, dWv, dWi):
    h = jnp.maximum(t_end - t, 0.0)
    vn = (v + mu_v * (i + c - v) * h) + sv * (dWv * (h / dt))
    i_n = (i + (-mu_i * i) * h) + si * (dWi * (h / dt))
    sn = s + intensity(v) * h
    crossing = sn >= 0; rise = sn - s; rising = crossing & (rise > 0)
    offset = jnp.where(rising, jnp.clip(-s / jnp.where(rising, rise, 1.0), 0.0, 1.0), 0.0) * h
    return h, vn, i_n, sn, jnp.where(crossing, jnp.minimum(t + offset, t_end), jnp.inf)
def f(v, i, s, t, add, c, dWv, dWi, clock):
    h, vn, i_n, sn, times = step(v, i, s, t, c, dWv, dWi)
    fire = jnp.isfinite(times)
    ev = jnp.where(fire, times, t); h_event = jnp.where(fire, ev - t, 0.0)
    frac = jnp.where(h > 0, h_event / jnp.where(h > 0, h, 1.0), 0.0)
    ve, ie, se = v + (vn - v) * frac, i + (i_n - i) * frac, s + (sn - s) * frac
    vm = jnp.where(fire, ve - vr, v); im = jnp.where(fire, ie, i); sm = jnp.where(fire, -(clock + alpha), s); tm = jnp.where(fire, ev, t)
    _, vn2, in2, sn2, times2 = step(vm, im, sm, tm, c, dWv, dWi)
    vx, ix, sx = jnp.where(fire, vn2, vn), jnp.where(fire, in2, i_n), jnp.where(fire, sn2, sn)
    times2 = jnp.where(fire, times2, times)
    complete = ~jnp.any(jnp.isfinite(times2)); stay = fire
    return (jnp.where(complete, vx, jnp.where(stay, vm, vn)), jnp.where(complete, ix + add, jnp.where(stay, im, i_n)),
            jnp.where(complete, sx, jnp.where(stay, sm, sn)), jnp.where(complete, t_end, jnp.where(stay, tm, t_end)), times)
basis = tuple(jnp.asarray(np.eye(C)[:, k:k+1]) * jnp.ones(n) for k in range(C))
def primal_only(carry, k):
    v, i, s = carry
    out = f(v, i, s, jnp.zeros(n), jnp.zeros(n), 2.0 * jnp.ones(n), jnp.sin(k + jnp.arange(n)) * 0.03, jnp.zeros(n), jnp.ones(n))
    return (out[0], out[1], jnp.minimum(out[2], -0.1)), out[4]
def with_jac(carry, k):
    v, i, s = carry
    args = (v, i, s, jnp.zeros(n), jnp.zeros(n), 2.0 * jnp.ones(n))
    g = lambda *a: f(*a, jnp.sin(k + jnp.arange(n)) * 0.03, jnp.zeros(n), jnp.ones(n))
    out, jac = jax.vmap(lambda b: jax.jvp(g, args, b), out_axes=(None, 0))(basis)
    if NO_STACK:
        return (out[0] + sum(jnp.sum(j) for j in jac) * 1e-30, out[1], jnp.minimum(out[2], -0.1)), out[4]
    return (out[0], out[1], jnp.minimum(out[2], -0.1)), (out[4], jac)
init = (jnp.linspace(0, 1, n), jnp.zeros(n), -jnp.linspace(0.01, 2, n))
for name, body in [("primal", primal_only), ("primal+J", with_jac)]:
    run = jax.jit(lambda c: jax.lax.scan(body, c, jnp.arange(iters, dtype=jnp.float32)))
    jax.block_until_ready(run(init)); ts = []
    for _ in range(15):
        t0 = time.perf_counter(); jax.block_until_ready(run(init)); ts.append(time.perf_counter() - t0)
    print(f"{name:10s} min {1e3*min(ts):.2f} ms per {iters} iterations")
