"""Bias and variance of gradient estimators against the exact pathwise gradient (issue 11).

The input-current task (reference experiment (a)) without membrane noise, so that the spike-time
density is known exactly: one SLIF neuron (mu_v 15, v_reset 1.4, V0 0), t in [0, 5], dt 0.01, first
3 spikes, Euler-Maruyama, float64. The loss of one sample is the squared error of its first three
spike times (a missing spike counts as t1 = 5) against the mean first three spike times of the data
model (c = 1.5, 4096 samples); the gradient d E[L] / dc is estimated at c = 1.0, with alpha = 0 (the
score function is then unbiased) and alpha = 0.03 (the reference value; it is then biased, see
``spikesde._estimators.slif_score``).

Estimators, each from M samples:
- pathwise: mean of dL/dc through ``sd.simulate`` (forward mode, noise held fixed);
- score, no baseline: mean of L d log p / dc (``sd.likelihood.buffer_log_likelihood``);
- score, leave-one-out: mean of (L_m - mean_{m' != m} L_m') d log p_m / dc (M >= 2);
- score, mean baseline: b = E[L] (the fixed point of a running-mean baseline), estimated from the pool.

One pool of per-sample (L, dL/dc, d log p/dc) is drawn once; the estimates for each M are the means
over disjoint blocks of M samples, so their variance is measured over pool / M blocks. The reference
d E[L] / dc is the pathwise mean of an independent pool twice as large (its standard error is printed
and included in each bias's z-score). Wall time per estimate: the actual
jitted estimators (forward-mode pathwise, ``sd.estimators.ScoreFunction`` with leave-one-out) at a few M,
interleaved A, B, A, B, min and median of ``--repeats``.

The 22-neuron network (reference experiment (b): 4 -> 16 -> 2, mu (6, 5), v_reset 1.2, V0 1.1,
I0 0.6, input 1.5 to the input layer, t in [0, 1], dt 0.01) without noise on V and I and with
alpha = 0, buffers of 20 spikes (none fills): the loss of a sample is the squared error of the two
output neurons' first three spike times (missing = t1) against the means of the true network
(weights drawn with key 0); the gradient with respect to the 96 weights is estimated at weights
drawn with key 1. Pathwise gradients in reverse mode. Per sample, on one pool (``--network-pool``):
the z-scores of the paired differences score - pathwise over the 96 weights (chi^2 / dof near 1 if
the score function is unbiased) and the total variance tr Cov of each estimator's gradient.

Surrogate gradients and multi-sample EM on the same tasks: ``benchmarks/estimators_surrogate_em.py``.

    python benchmarks/estimators.py [--pool 32768] [--repeats 5] [--timing-m 1 32 1024] [--network-pool 4096]

Writes benchmarks/results/estimators.json and docs/figures/estimators_variance.png.
"""

import argparse
import json
import pathlib
import statistics
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import spikesde as sd

ROOT = pathlib.Path(__file__).resolve().parent
T0, T1, DT, K = 0.0, 5.0, 0.01, 3
C_TRUE, C_EVAL = 1.5, 1.0
CHUNK = 4096
M_GRID = [2**k for k in range(11)]


def neuron(c, alpha):
    return sd.SLIF(input_current=c, mu_v=15.0, v_reset=1.4, sigma_v=0.0, alpha=alpha)


def loss(spikes, target):
    return jnp.sum((jnp.minimum(spikes, T1) - target) ** 2)


def spikes_of(c, alpha, key):
    return sd.simulate(neuron(c, alpha), t0=T0, t1=T1, dt=DT, key=key, max_spikes=K, on_overflow="ignore").spike_times[0]


@jax.jit
def per_sample(c, alpha, target, keys):
    """Per key: ``(L, dL/dc pathwise, d log p / dc)`` at ``c``."""

    def one(key):
        spikes, tangent = jax.jvp(lambda x: spikes_of(x, alpha, key), (c,), (jnp.ones_like(c),))
        value, pathwise = jax.jvp(lambda s: loss(s, target), (spikes,), (tangent,))
        score = jax.grad(lambda x: sd.likelihood.buffer_log_likelihood(neuron(x, alpha), spikes, t0=T0, t1=T1, dt=DT))(c)
        return value, pathwise, score

    return jax.vmap(one)(keys)


def pool(c, alpha, target, size, seed):
    keys = jax.random.split(jax.random.key(seed), size)
    parts = [per_sample(c, alpha, target, keys[i : i + CHUNK]) for i in range(0, size, CHUNK)]
    return [np.concatenate([np.asarray(p[j]) for p in parts]) for j in range(3)]


def block_estimates(values, pathwise, score, m):
    """Each estimator's estimates from disjoint blocks of ``m`` samples."""
    blocks = len(values) // m
    L, g, s = (x[: blocks * m].reshape(blocks, m) for x in (values, pathwise, score))
    out = {"pathwise": g.mean(1), "score, no baseline": (L * s).mean(1), "score, mean baseline": ((L - values.mean()) * s).mean(1)}
    if m >= 2:
        leave_one_out = (L.sum(1, keepdims=True) - L) / (m - 1)
        out["score, leave-one-out"] = ((L - leave_one_out) * s).mean(1)
    return out


def table(values, pathwise, score, exact, exact_se):
    rows = []
    for m in M_GRID:
        for name, estimates in block_estimates(values, pathwise, score, m).items():
            var = float(np.var(estimates, ddof=1)) if estimates.size > 1 else float("nan")
            bias, se = float(estimates.mean() - exact), float(np.hypot(np.sqrt(var / estimates.size), exact_se))
            rows.append(dict(estimator=name, M=m, blocks=int(estimates.size), mean=float(estimates.mean()), bias=bias,
                             bias_se=se, z=bias / se, variance=var, m_times_variance=m * var))  # fmt: skip
    return rows


def timing(alpha, target, ms, repeats):
    """Seconds per estimate of the pathwise and the score-function estimators, interleaved."""
    model = sd.estimators.SLIFSpikeTrainModel(neuron(C_EVAL, alpha), t0=T0, t1=T1, dt=DT, max_spikes=K)
    results = []
    for m in ms:

        @jax.jit
        def pathwise(key, m=m):
            keys = jax.random.split(key, m)
            mean_loss = lambda c: jnp.mean(jax.vmap(lambda k: loss(spikes_of(c, alpha, k), target))(keys))  # noqa: E731
            return jax.jvp(mean_loss, (jnp.asarray(C_EVAL),), (jnp.ones(()),))

        estimator = sd.estimators.ScoreFunction(m, sd.estimators.LeaveOneOut() if m >= 2 else sd.estimators.NoBaseline())
        score = jax.jit(lambda key, estimator=estimator: estimator.value_and_grad(lambda s: loss(s, target), model, None, key)[:2])
        seconds = {"pathwise": [], "score function": []}
        for name, fn in (("pathwise", pathwise), ("score function", score)):
            jax.block_until_ready(fn(jax.random.key(0)))  # compile
        for r in range(repeats):
            for name, fn in (("pathwise", pathwise), ("score function", score)):
                tic = time.perf_counter()
                jax.block_until_ready(fn(jax.random.key(r + 1)))
                seconds[name].append(time.perf_counter() - tic)
        for name, s in seconds.items():
            results.append(dict(estimator=name, M=m, min_s=min(s), median_s=statistics.median(s)))
            print(f"  M={m:5d} {name:15s} min {min(s):.4f} s  median {statistics.median(s):.4f} s")
    return results


NET_T1, NET_K = 1.0, 20


def reference_network(key):
    cell = sd.SLIF(22, input_current=jnp.asarray([1.5] * 4 + [0.0] * 18), mu_v=6.0, mu_i=5.0, sigma_v=0.0, sigma_i=0.0,
                   v_reset=1.2, v0=1.1, i0=0.6, alpha=0.0)  # fmt: skip
    return sd.feedforward(cell, [4, 16, 2], key=key)


def network_spikes(net, weights, key):
    net = eqx.tree_at(lambda n: n.weights, net, jnp.where(net.mask, weights, 0.0))
    return sd.simulate(net, t0=T0, t1=NET_T1, dt=DT, key=key, max_spikes=NET_K, on_overflow="ignore").spike_times


def network_loss(spikes, target):
    return jnp.sum((jnp.minimum(spikes[-2:, :3], NET_T1) - target) ** 2)


@eqx.filter_jit
def network_per_sample(net, target, keys):
    """Per key: ``(L, dL/dW pathwise, d log p / dW, buffer full)`` over the 96 weights."""

    def one(key):
        value, pathwise = jax.value_and_grad(lambda w: network_loss(network_spikes(net, w, key), target))(net.weights)
        spikes = network_spikes(net, net.weights, key)
        log_p = lambda w: sd.likelihood.buffer_log_likelihood(eqx.tree_at(lambda n: n.weights, net, w), spikes, t0=T0, t1=NET_T1, dt=DT)  # noqa: E731
        return value, pathwise, jax.grad(log_p)(net.weights), jnp.any(jnp.isfinite(spikes[:, -1]))

    return jax.vmap(one)(keys)


def network_section(size, chunk=512):
    truth, net = reference_network(jax.random.key(0)), reference_network(jax.random.key(1))
    data = jax.jit(jax.vmap(lambda k: network_spikes(truth, truth.weights, k)))(jax.random.split(jax.random.key(4), 4096))
    target = jnp.mean(jnp.minimum(data[:, -2:, :3], NET_T1), axis=0)
    keys = jax.random.split(jax.random.key(5), size)
    tic = time.perf_counter()
    parts = [network_per_sample(net, target, keys[i : i + chunk]) for i in range(0, size, chunk)]
    values, pathwise, score, full = (np.concatenate([np.asarray(p[j]) for p in parts]) for j in range(4))
    connections = np.flatnonzero(np.asarray(net.mask))
    pathwise, score = pathwise.reshape(size, -1)[:, connections], score.reshape(size, -1)[:, connections]
    print(f"network: pool of {size} in {time.perf_counter() - tic:.1f} s (loaded machine); full buffers {full.mean():.4f}")
    exact = pathwise.mean(0)
    estimators = {"pathwise": pathwise, "score, no baseline": values[:, None] * score,
                  "score, mean baseline": (values - values.mean())[:, None] * score}  # fmt: skip
    rows = []
    direction = exact / np.linalg.norm(exact)
    print("| estimator | z along the exact gradient | chi^2/dof over 96 weights (correlated) | max abs z | tr Cov per sample | tr Cov / pathwise |")
    print("|---|---|---|---|---|---|")
    trace_pathwise = float(np.var(pathwise, axis=0, ddof=1).sum())
    for name, per_sample in estimators.items():
        diff = per_sample - pathwise
        se = diff.std(0, ddof=1) / np.sqrt(size)
        z = np.where(se > 0, diff.mean(0) / np.where(se > 0, se, 1.0), 0.0)
        trace = float(np.var(per_sample, axis=0, ddof=1).sum())
        along = diff @ direction
        z_along = float(along.mean() / (along.std(ddof=1) / np.sqrt(size))) if name != "pathwise" else 0.0
        row = dict(estimator=name, z_along_gradient=z_along, chi2_dof=float(np.mean(z**2)) if name != "pathwise" else None,
                   max_abs_z=float(np.abs(z).max()), trace_cov=trace, trace_ratio=trace / trace_pathwise)  # fmt: skip
        rows.append(row)
        chi2 = "-" if row["chi2_dof"] is None else f"{row['chi2_dof']:.2f}"
        print(f"| {name} | {z_along:+.2f} | {chi2} | {row['max_abs_z']:.1f} | {trace:.4g} | {trace / trace_pathwise:.2f} |")
    blocks = {m: float(np.var(pathwise[: size // m * m].reshape(-1, m, 96).mean(1), axis=0, ddof=1).sum()) * m
              for m in (1, 4, 16, 64) if size // m > 1}  # fmt: skip
    print(f"  pathwise M x tr Cov of M-sample means: {blocks}")
    return dict(pool=size, full_buffer_fraction=float(full.mean()), gradient_norm=float(np.linalg.norm(exact)),
                mean_loss=float(values.mean()), rows=rows, pathwise_m_times_trace=blocks)  # fmt: skip


def figure(by_alpha, path):
    import matplotlib  # noqa: PLC0415 (optional dependency)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, axes = plt.subplots(1, len(by_alpha), figsize=(5.5 * len(by_alpha), 4.2), squeeze=False)
    for ax, (alpha, result) in zip(axes[0], by_alpha.items()):
        for name in ("pathwise", "score, no baseline", "score, mean baseline", "score, leave-one-out"):
            rows = [r for r in result["rows"] if r["estimator"] == name and r["blocks"] > 1]
            ax.loglog([r["M"] for r in rows], [r["variance"] for r in rows], "o-", label=name, ms=3)
        first = [r for r in result["rows"] if r["estimator"] == "score, no baseline" and r["M"] == 1][0]
        ms = np.asarray(M_GRID, float)
        ax.loglog(ms, first["variance"] / ms, "k:", lw=1, label="1/M")
        ax.set(xlabel="samples M", ylabel="variance of the estimate of dE[L]/dc",
               title=f"alpha = {alpha}: exact {result['exact']:.2f} (SE {result['exact_se']:.2f})")  # fmt: skip
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=32768, help="samples per alpha (a multiple of 4096)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--timing-m", type=int, nargs="*", default=[1, 32, 1024])
    parser.add_argument("--network-pool", type=int, default=4096, help="samples of the 22-neuron network (0: skip)")
    parser.add_argument("--skip-input-current", action="store_true")
    args = parser.parse_args()
    network = network_section(args.network_pool) if args.network_pool else None
    by_alpha = {}
    for alpha in () if args.skip_input_current else (0.0, 0.03):
        data = jax.jit(jax.vmap(lambda k: spikes_of(C_TRUE, alpha, k)))(jax.random.split(jax.random.key(1), 4096))
        target = jnp.mean(jnp.minimum(data, T1), axis=0)
        tic = time.perf_counter()
        values, pathwise, score = pool(jnp.asarray(C_EVAL), jnp.asarray(alpha), target, args.pool, seed=2)
        reference = pool(jnp.asarray(C_EVAL), jnp.asarray(alpha), target, 2 * args.pool, seed=3)[1]
        exact, exact_se = float(reference.mean()), float(reference.std() / np.sqrt(reference.size))
        print(f"alpha={alpha}: pool of {args.pool} in {time.perf_counter() - tic:.1f} s (loaded machine); target {np.asarray(target).round(4)}")
        print(f"  reference dE[L]/dc = {exact:.3f} (SE {exact_se:.3f}); E[L] = {values.mean():.3f}; mean score {score.mean():.4f} (SE {score.std() / np.sqrt(score.size):.4f})")
        rows = table(values, pathwise, score, exact, exact_se)
        print("| estimator | M | bias (SE) | z | std of estimate | M x variance |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            if r["M"] in (1, 4, 16, 64, 256, 1024):
                print(f"| {r['estimator']} | {r['M']} | {r['bias']:+.2f} ({r['bias_se']:.2f}) | {r['z']:+.1f} | {np.sqrt(r['variance']):.3g} | {r['m_times_variance']:.4g} |")
        by_alpha[alpha] = dict(exact=exact, exact_se=exact_se, target=np.asarray(target).tolist(), mean_loss=float(values.mean()),
                               mean_score=float(score.mean()), rows=rows, timing=timing(alpha, target, args.timing_m, args.repeats) if alpha == 0.0 else [])  # fmt: skip
    out = ROOT / "results" / "estimators.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {"settings": vars(args), "by_alpha": {str(a): r for a, r in by_alpha.items()}, "network": network}
    out.write_text(json.dumps(result, indent=2))
    if by_alpha:
        figure(by_alpha, ROOT.parent / "docs" / "figures" / "estimators_variance.png")
    print(f"wrote {out}")


if __name__ == "__main__":
    with jax.enable_x64(True):
        main()
