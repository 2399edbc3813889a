"""Surrogate gradients and multi-sample EM in the bias/variance benchmark (issue 11).

The companion of ``benchmarks/estimators.py`` (same tasks, loss, targets and exact pathwise reference,
float64), for the two estimators that do not differentiate the SLIF's own expected loss.

**Surrogate gradients.** The same neurons are simulated on the clock grid as a discrete-time model
(Euler, same dt; no membrane noise, as in the companion): per step ``n`` (spike at ``t_{n+1}``)

    V <- V + mu_v (I + c - V) dt - v_reset S_n,   I <- I - mu_i I dt + S_n W,

with two spike rules of the same law as the SLIF's escape noise on the grid (hazard per step
``1 - exp(-lambda(V_n) dt)``), so only the gradient differs:

- ``bernoulli``: ``S_n = H(p_n - u_n)``, ``p_n = 1 - exp(-lambda(V_n) dt)``, ``u_n ~ U(0, 1)``; in the
  backward pass ``dS_n/dV_n := g(V_n - v_threshold)`` (the library surrogate on the membrane, as in
  surrogate-gradient practice with escape noise) or ``:= dp_n/dV_n`` (``escape``: straight-through
  on the firing probability, the stochastic-AD view of Gygax & Zenke 2024; ``escape+reset`` also
  differentiates the reset);
- ``clock``: the SLIF's own threshold crossing on the grid: ``s <- s + lambda(V_n) dt``,
  ``S_n = H(s)`` with ``dS_n/ds := g(s)``, then ``s <- -(E + alpha)``, ``E ~ Exp(1)`` (the clock
  remembers the intensity since the last spike, the Bernoulli rule does not).

Resets are detached (Zenke & Vogels 2021) except in ``escape+reset``; the fast sigmoid is also run
at beta = 1, 10, 1000 (library default 100) to show the scale. The loss needs spike times: ``t_j = t0 + dt
#{n : N_{n-1} < j}`` with ``N`` the running count, computed by the count recursion
``P_j <- P_j (1 - S) + P_{j-1} S`` (multilinear in ``S``, so ``d loss / d S_n`` is the exact effect
of flipping spike ``n``; a missing spike is ``t1``). Its estimate is the mean over ``M`` samples of
BPTT through this program; it is compared with the exact ``d E[L] / dc`` of the SLIF (pathwise pool,
as in the companion) and with the discrete model's own exact gradient (the score function of its
Bernoulli raster, mean baseline, unbiased; on the network paired by key) to separate the grid from
the surrogate. On one parameter a surrogate's bias is mostly a scale set by the surrogate; on 96
weights the cosine similarity is the scale-free measure.

**Multi-sample EM** estimates ``grad log p(x)`` of observed spikes, not ``grad E[L]``
(``benchmarks/estimators_em.py``): with every neuron observed (input-current task) the K-sample
estimate is ``grad log p(x)`` for every K; on the 22-neuron network with the 16 hidden neurons
unobserved it is compared with the same estimator at K = ``--em-reference`` on independent samples
(no exact ``grad log p(x_out | x_in)`` exists), bias and variance over blocks of K.

Wall time per estimate: interleaved A, B, C, min and median of ``--repeats``, load average printed.

    python benchmarks/estimators_surrogate_em.py --pool 16384 --network-pool 4096 --em-pool 8192 \\
        --em-reference 16384 --em-observations 2 --repeats 5 --timing-m 1 32 1024       (10 min, loaded)

Writes benchmarks/results/estimators_surrogate_em.json and docs/figures/estimators_surrogate_em.png.
"""

import argparse
import json
import os
import pathlib
import statistics
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from estimators import C_EVAL, C_TRUE, DT, K, NET_T1, T0, T1, loss, neuron, network_loss, network_spikes, spikes_of
from estimators_em import chunked, em_fully_observed, em_network_section, em_pool, network_setup

import spikesde as sd

ROOT = pathlib.Path(__file__).resolve().parent
SURROGATES = {"fast sigmoid": sd.estimators.FastSigmoid(), "sigmoid'": sd.estimators.SigmoidDerivative(), "triangle": sd.estimators.Triangle(), "arctan": sd.estimators.ArcTan()}
SCALES = {f"fast sigmoid {beta:g}": sd.estimators.FastSigmoid(beta) for beta in (1.0, 10.0, 1000.0)}  # library default beta = 100
SURROGATES |= SCALES
RULES = [("bernoulli", name) for name in [*SURROGATES, "escape", "escape+reset"]] + [("clock", name) for name in SURROGATES]
M_GRID = [1, 4, 16, 64, 256, 1024]
SECTIONS = ["em_fully_observed", "input_current", "input_current_noisy", "network_surrogate", "network_surrogate_noisy", "em_network", "timing"]


def discrete_spike_times(cell, c, weights, key, rule, surrogate, t1, k, raster=None):
    """First ``k`` spike times ``(n, k)`` of the discrete-time SLIF, differentiable by the surrogate,
    and the raster ``(steps, n)``. With ``raster`` the spikes are forced (teacher forcing) and the
    Bernoulli log-probability of the raster is returned instead of the times."""
    n, steps = c.shape[0], int(round((t1 - T0) / DT))
    brownian_key, clock_key = jax.random.split(key)  # as sd.simulate splits it: the same Brownian path
    noise = sd.GridBrownian(brownian_key).increments(T0, DT, steps, (2, n), c.dtype)
    draws = jax.random.uniform(clock_key, (steps + 1, n), dtype=c.dtype, minval=1e-12)
    g = SURROGATES.get(surrogate)

    def step(carry, xs):
        v, i, s, counts, times = carry
        u, dw, forced = xs
        lam = cell.intensity(v)
        p = -jnp.expm1(-lam * DT)
        if rule == "clock":
            s = s + lam * DT
            spike = g(s)
        elif forced is not None:
            spike = forced
        else:
            soft = p if g is None else g(v - cell.v_threshold)  # escape: straight-through on p
            spike = (u < p).astype(c.dtype) + soft - jax.lax.stop_gradient(soft)
        times = times + DT * jnp.cumsum(counts, axis=1)  # steps before the j-th spike
        counts = counts * (1 - spike[:, None]) + jnp.pad(counts[:, :-1], ((0, 0), (1, 0))) * spike[:, None]
        # resets detached (Zenke & Vogels 2021; attached, BPTT explodes for g(0) > 0.1), except for escape+reset
        fired = spike if surrogate == "escape+reset" else jax.lax.stop_gradient(spike)
        s = jnp.where(fired > 0, -(-jnp.log(u) + cell.alpha), s) if rule == "clock" else s
        v = v + cell.mu_v * (i + c - v) * DT + cell.sigma_v * dw[0] - cell.v_reset * fired
        i = i - cell.mu_i * i * DT + cell.sigma_i * dw[1] + spike @ weights
        log_p = jnp.sum(spike * jnp.log(p) - (1 - spike) * lam * DT)
        return (v, i, s, counts, times), (spike, log_p)

    counts0 = jnp.zeros((n, k), c.dtype).at[:, 0].set(1.0)
    start = (jnp.broadcast_to(cell.v0, (n,)), jnp.broadcast_to(cell.i0, (n,)), jnp.log(draws[0]) - cell.alpha, counts0,
             jnp.full((n, k), T0, c.dtype))  # fmt: skip
    if raster is None:
        (_, _, _, _, times), (spikes, _) = jax.lax.scan(lambda cr, x: step(cr, (*x, None)), start, (draws[1:], noise))
        return times, spikes
    _, (_, log_p) = jax.lax.scan(step, start, (draws[1:], noise, raster))
    return jnp.sum(log_p), raster


def single_cell(c=C_EVAL, sigma_v=0.0):
    """The input-current task's neuron (alpha = 0), with membrane noise ``sigma_v``."""
    return eqx.tree_at(lambda n: n.sigma_v, neuron(c, 0.0), jnp.asarray(sigma_v, float))


def slif_spikes(c, sigma_v, key):
    cell = single_cell(c, sigma_v)
    return sd.simulate(cell, t0=T0, t1=T1, dt=DT, key=key, max_spikes=K, on_overflow="ignore").spike_times[0]


@jax.jit
def surrogate_pool_single(target, sigma_v, keys):
    """Per key and rule: ``(L, dL/dc)`` of the discrete model, plus the Bernoulli score ``d log p / dc``
    (with membrane noise: given the Brownian path, which does not depend on ``c``)."""
    cell = single_cell(C_EVAL, sigma_v)
    out = {}
    for rule, name in RULES:

        def one(key, rule=rule, name=name):
            fn = lambda c: loss(discrete_spike_times(cell, c[None], jnp.zeros((1, 1)), key, rule, name, T1, K)[0][0], target)  # noqa: E731
            return jax.value_and_grad(fn)(jnp.asarray(C_EVAL))

        out[f"{rule}: {name}"] = jax.vmap(one)(keys)

    def score(key):
        times, raster = discrete_spike_times(cell, jnp.asarray([C_EVAL]), jnp.zeros((1, 1)), key, "bernoulli", "escape", T1, K)
        raster = jax.lax.stop_gradient(raster)
        log_p = lambda c: discrete_spike_times(cell, c[None], jnp.zeros((1, 1)), key, "bernoulli", "escape", T1, K, raster)[0]  # noqa: E731
        return loss(times[0], target), jax.grad(log_p)(jnp.asarray(C_EVAL))

    out["discrete score"] = jax.vmap(score)(keys)
    return out


@jax.jit
def pathwise_pool_single(target, sigma_v, keys):
    def one(key):
        spikes, tangent = jax.jvp(lambda x: slif_spikes(x, sigma_v, key), (jnp.asarray(C_EVAL),), (jnp.ones(()),))
        return jax.jvp(lambda s: loss(s, target), (spikes,), (tangent,))

    return jax.vmap(one)(keys)


def blocks(x, m):
    b = len(x) // m
    return x[: b * m].reshape(b, m, *x.shape[1:]).mean(1)


def input_current_section(pool, sigma_v=0.0, seed=2):
    data = jax.jit(jax.vmap(lambda k: slif_spikes(C_TRUE, sigma_v, k)))(jax.random.split(jax.random.key(1), 4096))
    target = jnp.mean(jnp.minimum(data, T1), axis=0)
    tic = time.perf_counter()
    values, pathwise = chunked(lambda k: pathwise_pool_single(target, sigma_v, k), jax.random.split(jax.random.key(3), 2 * pool), 4096)
    exact, exact_se = float(pathwise.mean()), float(pathwise.std() / np.sqrt(pathwise.size))
    sur = chunked(lambda k: surrogate_pool_single(target, sigma_v, k), jax.random.split(jax.random.key(seed), pool), 2048)
    print(f"input current, sigma_v = {sigma_v}: pools in {time.perf_counter() - tic:.0f} s (load {os.getloadavg()[0]:.1f}); exact SLIF dE[L]/dc "
          f"{exact:.2f} (SE {exact_se:.2f}), E[L] {values.mean():.3f}")  # fmt: skip
    loss_d, score_d = sur.pop("discrete score")
    per_sample = (loss_d - loss_d.mean()) * score_d  # mean baseline, unbiased up to O(1/pool)
    discrete, discrete_se = float(per_sample.mean()), float(per_sample.std() / np.sqrt(pool))
    print(f"  discrete model's own dE[L]/dc (Bernoulli score, mean baseline) {discrete:.2f} (SE {discrete_se:.2f}), "
          f"E[L] {loss_d.mean():.3f}")  # fmt: skip
    rows = []
    print("| estimator | mean (SE) | / exact SLIF | z vs SLIF | z vs discrete | per-sample var | M x var M=64 | M x var M=1024 |")
    print("|---|---|---|---|---|---|---|---|")
    for name, (vals, grads) in sur.items():
        mean, se = float(grads.mean()), float(grads.std() / np.sqrt(grads.size))
        row = dict(estimator=name, mean=mean, se=se, ratio=mean / exact, mean_loss=float(vals.mean()), mean_loss_se=float(vals.std() / np.sqrt(vals.size)),
                   z_slif=(mean - exact) / np.hypot(se, exact_se), z_discrete=(mean - discrete) / np.hypot(se, discrete_se),
                   variance=float(grads.var(ddof=1)),
                   m_times_variance={m: float(m * blocks(grads, m).var(ddof=1)) for m in M_GRID if len(grads) // m > 1})  # fmt: skip
        rows.append(row)
        mv = row["m_times_variance"]
        print(f"| {name} | {mean:.3g} ({se:.2g}) | {row['ratio']:.3g} | {row['z_slif']:+.1f} | {row['z_discrete']:+.1f} | "
              f"{row['variance']:.3g} | {mv.get(64, float('nan')):.3g} | {mv.get(1024, float('nan')):.3g} |")  # fmt: skip
    return dict(target=np.asarray(target).tolist(), exact=exact, exact_se=exact_se, exact_variance=float(pathwise.var(ddof=1)),
                discrete_exact=discrete, discrete_exact_se=discrete_se, discrete_mean_loss=float(loss_d.mean()), rows=rows)  # fmt: skip


@eqx.filter_jit
def network_pool(net, target, keys):
    """Per key: ``(L, dL/dW)`` pathwise through the event core and of every surrogate rule (full 22 x 22)."""
    w0, c = jnp.where(net.mask, net.weights, 0.0), net.neuron.input_current.value
    out = {"pathwise": jax.vmap(lambda k: jax.value_and_grad(lambda w: network_loss(network_spikes(net, w, k), target))(w0))(keys)}
    for rule, name in RULES:

        def one(key, rule=rule, name=name):
            fn = lambda w: network_loss(discrete_spike_times(net.neuron, c, jnp.where(net.mask, w, 0.0), key, rule, name, NET_T1, 3)[0], target)  # noqa: E731
            return jax.value_and_grad(fn)(w0)

        out[f"{rule}: {name}"] = jax.vmap(one)(keys)

    def score(key):  # the discrete model's own exact gradient: (L - E L) d log p(raster) / dW
        times, raster = discrete_spike_times(net.neuron, c, w0, key, "bernoulli", "escape", NET_T1, 3)
        raster = jax.lax.stop_gradient(raster)
        log_p = lambda w: discrete_spike_times(net.neuron, c, jnp.where(net.mask, w, 0.0), key, "bernoulli", "escape", NET_T1, 3, raster)[0]  # noqa: E731
        return network_loss(times, target), jax.grad(log_p)(w0)

    out["discrete score"] = jax.vmap(score)(keys)
    return out


def network_surrogate_section(size, sigma=0.0):
    net, _, target = network_setup(sigma)
    tic = time.perf_counter()
    pool = chunked(lambda k: network_pool(net, target, k), jax.random.split(jax.random.key(5), size), 512)
    idx = np.flatnonzero(np.asarray(net.mask))
    grads = {name: g.reshape(size, -1)[:, idx] for name, (_, g) in pool.items()}
    loss_d = pool["discrete score"][0]
    grads["discrete score"] = (loss_d - loss_d.mean())[:, None] * grads["discrete score"]  # mean baseline
    print(f"network, sigma_v = sigma_i = {sigma}: pools of {size} in {time.perf_counter() - tic:.0f} s (load {os.getloadavg()[0]:.1f})")
    exact, exact_var = grads["pathwise"].mean(0), grads["pathwise"].var(0, ddof=1)
    direction, trace_pathwise = exact / np.linalg.norm(exact), float(exact_var.sum())
    rows = []
    print("| estimator | E[L] | cosine with exact | |mean - exact| / |exact| (noise removed) | norm ratio | z along exact | chi^2/dof | chi^2/dof vs discrete | tr Cov | / pathwise |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, g in grads.items():
        mean, var = g.mean(0), g.var(0, ddof=1)
        se = np.sqrt((var + exact_var) / size)
        z = np.where(se > 0, (mean - exact) / np.where(se > 0, se, 1), 0.0)
        along = g @ direction
        z_along = float((along.mean() - exact @ direction) / np.sqrt((along.var(ddof=1) + (grads["pathwise"] @ direction).var(ddof=1)) / size))
        noise = (var.sum() + exact_var.sum()) / size  # E|mean - exact|^2 from noise alone
        debiased = np.sqrt(max(np.sum((mean - exact) ** 2) - noise, 0.0)) / np.linalg.norm(exact)
        paired = g - grads["discrete score"]  # same keys, so the same Bernoulli raster for the bernoulli rules
        paired_se = paired.std(0, ddof=1) / np.sqrt(size)
        chi2_discrete = float(np.mean((paired.mean(0) / np.where(paired_se > 0, paired_se, 1.0)) ** 2))
        row = dict(estimator=name, chi2_dof_vs_discrete=chi2_discrete, mean_loss=float(pool[name][0].mean()), mean_loss_se=float(pool[name][0].std() / np.sqrt(size)),
                   relative_error_debiased=float(debiased), cosine=float(mean @ exact / np.linalg.norm(mean) / np.linalg.norm(exact)),
                   relative_error=float(np.linalg.norm(mean - exact) / np.linalg.norm(exact)), norm_ratio=float(np.linalg.norm(mean) / np.linalg.norm(exact)),
                   z_along=z_along, chi2_dof=float(np.mean(z**2)), trace_cov=float(var.sum()), trace_ratio=float(var.sum()) / trace_pathwise,
                   m_times_trace={m: float(m * blocks(g, m).var(0, ddof=1).sum()) for m in (1, 4, 16, 64) if size // m > 1})  # fmt: skip
        rows.append(row)
        print(f"| {name} | {row['mean_loss']:.4f} ({row['mean_loss_se']:.4f}) | {row['cosine']:.3f} | {row['relative_error']:.2f} ({debiased:.2f}) | {row['norm_ratio']:.3g} | "
              f"{z_along:+.1f} | {row['chi2_dof']:.3g} | {chi2_discrete:.3g} | {row['trace_cov']:.3g} | {row['trace_ratio']:.3g} |")  # fmt: skip
    return dict(pool=size, gradient_norm=float(np.linalg.norm(exact)), rows=rows)




def timing(ms, repeats):
    """Seconds per estimate, interleaved A, B, C, ...: the input-current task at each M (pathwise
    forward mode, two surrogate rules in BPTT) and the network at M = K = 32 (pathwise reverse mode,
    a surrogate, EM with one observation)."""
    data = jax.jit(jax.vmap(lambda k: spikes_of(C_TRUE, 0.0, k)))(jax.random.split(jax.random.key(1), 4096))
    target, cell = jnp.mean(jnp.minimum(data, T1), axis=0), single_cell()
    fns = {}
    for m in ms:
        fns[("input current", m, "pathwise")] = jax.jit(lambda key, m=m: jnp.mean(pathwise_pool_single(target, 0.0, jax.random.split(key, m))[1]))
        for rule in ("bernoulli", "clock"):
            mean_loss = lambda c, key, m=m, rule=rule: jnp.mean(jax.vmap(lambda k: loss(discrete_spike_times(  # noqa: E731
                cell, c[None], jnp.zeros((1, 1)), k, rule, "fast sigmoid", T1, K)[0][0], target))(jax.random.split(key, m)))
            fns[("input current", m, f"{rule}: fast sigmoid")] = jax.jit(lambda key, f=mean_loss: jax.grad(f)(jnp.asarray(C_EVAL), key))
    net, data, net_target = network_setup()
    w, mask, m = jnp.where(net.mask, net.weights, 0.0), net.mask, 32
    c = net.neuron.input_current.value
    fns[("network", m, "pathwise")] = jax.jit(lambda key: jax.grad(lambda v: jnp.mean(jax.vmap(
        lambda k: network_loss(network_spikes(net, v, k), net_target))(jax.random.split(key, m))))(w))  # fmt: skip
    fns[("network", m, "clock: fast sigmoid")] = jax.jit(lambda key: jax.grad(lambda v: jnp.mean(jax.vmap(lambda k: network_loss(
        discrete_spike_times(net.neuron, c, jnp.where(mask, v, 0.0), k, "clock", "fast sigmoid", NET_T1, 3)[0], net_target))(
        jax.random.split(key, m))))(w))  # fmt: skip

    def em(key):
        log_w, grads, _ = em_pool(w, mask, data[0, :4], data[0, 20:], jax.random.split(key, m))
        return jnp.tensordot(jax.nn.softmax(log_w), grads, 1)

    fns[("network", m, "EM")] = em
    for fn in fns.values():
        jax.block_until_ready(fn(jax.random.key(0)))  # compile
    seconds = {name: [] for name in fns}
    for r in range(repeats):
        for name, fn in fns.items():
            tic = time.perf_counter()
            jax.block_until_ready(fn(jax.random.key(r + 1)))
            seconds[name].append(time.perf_counter() - tic)
    rows = []
    for (task, m, name), s in seconds.items():
        rows.append(dict(task=task, M=m, estimator=name, min_s=min(s), median_s=statistics.median(s)))
        print(f"  {task:13s} M={m:5d} {name:22s} min {min(s):.4f} s  median {statistics.median(s):.4f} s")
    print(f"  load average {os.getloadavg()}")
    return dict(rows=rows, load=os.getloadavg())


def figure(result, path):
    import matplotlib  # noqa: PLC0415 (optional dependency)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
    ic = result["input_current"]
    ms = np.asarray(M_GRID, float)
    axes[0].loglog(ms, ic["exact_variance"] / ms, "k-", lw=2, label=f"pathwise (exact {ic['exact']:.0f})")
    for row in ic["rows"]:
        if row["estimator"].split(": ")[1] in SCALES:
            continue
        mv = {int(m): v for m, v in row["m_times_variance"].items()}
        axes[0].loglog(list(mv), [v / m for m, v in mv.items()], "o-", ms=3, label=f"{row['estimator']} ({row['mean']:.0f})")
    axes[0].set(xlabel="samples M", ylabel="variance of the estimate of dE[L]/dc", title="input current: variance (mean in brackets)")
    axes[0].legend(fontsize=6)
    net = result["network_surrogate"]["rows"]
    for row in net:
        axes[1].scatter(row["norm_ratio"], row["cosine"], s=18)
        axes[1].annotate(row["estimator"], (row["norm_ratio"], row["cosine"]), fontsize=6)
    axes[1].set(xscale="log", xlabel="|mean estimate| / |exact gradient|", ylabel="cosine with the exact gradient",
                title="22-neuron network, 96 weights")  # fmt: skip
    em = result["em_network"]["rows"]
    ks = [r["K"] for r in em]
    axes[2].loglog(ks, [r["relative_bias"] for r in em], "o-", label="|E[estimate] - ref| / |ref|")
    axes[2].loglog(ks, [r["k_times_trace"] / r["K"] / result["em_network"]["reference_norm"] ** 2 for r in em], "s-",
                   label="tr Cov / |ref|^2")  # fmt: skip
    axes[2].loglog(ks, em[0]["relative_bias"] / np.asarray(ks, float), "k:", lw=1, label="1/K")
    axes[2].set(xlabel="compartments K", title=f"EM, 16 hidden unobserved (reference K = {result['em_network']['reference']})")
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=16384, help="input-current samples per estimator (a multiple of 2048)")
    parser.add_argument("--network-pool", type=int, default=4096, help="22-neuron network samples per estimator")
    parser.add_argument("--em-pool", type=int, default=8192, help="hidden samples per observation for the K-sample blocks")
    parser.add_argument("--em-reference", type=int, default=16384, help="independent hidden samples for the reference")
    parser.add_argument("--em-observations", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--timing-m", type=int, nargs="*", default=[1, 32, 1024])
    parser.add_argument("--sigma-v", type=float, nargs="*", default=[0.5], help="membrane noise levels run besides 0 (input current)")
    parser.add_argument("--network-sigma", type=float, nargs="*", default=[0.25], help="membrane noise levels run besides 0 (network)")
    parser.add_argument("--sections", nargs="*", default=SECTIONS, choices=SECTIONS, help="run these only, updating the JSON")
    parser.add_argument("--replot", action="store_true", help="only redraw the figure from the JSON")
    args = parser.parse_args()
    out = ROOT / "results" / "estimators_surrogate_em.json"
    if args.replot:
        return figure(json.loads(out.read_text()), ROOT.parent / "docs" / "figures" / "estimators_surrogate_em.png")
    result = json.loads(out.read_text()) if set(args.sections) != set(SECTIONS) else {}
    result.setdefault("settings", {})[" ".join(args.sections)] = vars(args)
    result.setdefault("load_at_start", {})[" ".join(args.sections)] = os.getloadavg()
    k_grid = [k for k in (1, 4, 16, 64, 256, 1024) if args.em_pool // k >= 4]
    sections = {
        "em_fully_observed": em_fully_observed,
        "input_current": lambda: input_current_section(args.pool),
        "input_current_noisy": lambda: {str(s): input_current_section(args.pool, s) for s in args.sigma_v if s > 0},
        "network_surrogate": lambda: network_surrogate_section(args.network_pool),
        "network_surrogate_noisy": lambda: {str(s): network_surrogate_section(args.network_pool, s) for s in args.network_sigma if s > 0},
        "em_network": lambda: em_network_section(args.em_pool, args.em_reference, args.em_observations, k_grid),
        "timing": lambda: timing(args.timing_m, args.repeats),
    }  # fmt: skip
    for name in args.sections:
        result[name] = sections[name]()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=float))
    figure(result, ROOT.parent / "docs" / "figures" / "estimators_surrogate_em.png")
    print(f"wrote {out}")


if __name__ == "__main__":
    with jax.enable_x64(True):
        main()
