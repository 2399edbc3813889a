"""Multi-sample EM on the benchmark's tasks (helpers of ``benchmarks/estimators_surrogate_em.py``).

The objective of multi-sample EM is the log-likelihood of observed spikes. With every neuron observed
(the input-current task) there is nothing to sample and the K-sample estimate is ``grad log p(x)``
for every K (:func:`em_fully_observed`). On the 22-neuron network with the input layer and the two
outputs observed and the 16 hidden neurons not, the hidden spike trains ``h^k`` are drawn by the
event core given the observed input spikes, ``w^k = softmax_k log p(x_out || h^k)`` and the estimate
is ``sum_k w^k grad_W log p(x_out, h^k | x_in)`` (both densities from ``sd.likelihood.buffer_log_likelihood``),
the same maths as ``sd.estimators.MultiSampleEM`` on the event core's buffers. ``grad log p(x_out | x_in)``
itself has no closed form (an integral over 16 continuous-time hidden spike trains), so the
reference is the same self-normalised estimate at a large K on independent samples.
"""

import os
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from estimators import C_EVAL, C_TRUE, DT, NET_K, NET_T1, T0, T1, neuron, network_spikes, reference_network, spikes_of

import spikesde as sd
from spikesde._estimators import random_bernoulli_snn


def chunked(fn, keys, chunk):
    parts = [fn(keys[i : i + chunk]) for i in range(0, len(keys), chunk)]
    return jax.tree.map(lambda *xs: np.concatenate([np.asarray(x) for x in xs]), *parts)


def network_setup(sigma=0.0):
    """The companion's network (weights of key 1), 4096 samples of the true one (key 0) and the
    target; ``sigma`` sets the membrane noise ``sigma_v = sigma_i`` of both (0 in the companion)."""
    noisy = lambda n: eqx.tree_at(lambda m: (m.neuron.sigma_v, m.neuron.sigma_i), n, (jnp.asarray(sigma), jnp.asarray(sigma)))  # noqa: E731
    truth, net = noisy(reference_network(jax.random.key(0))), noisy(reference_network(jax.random.key(1)))
    data = jax.jit(jax.vmap(lambda k: network_spikes(truth, truth.weights, k)))(jax.random.split(jax.random.key(4), 4096))
    return net, data, jnp.mean(jnp.minimum(data[:, -2:, :3], NET_T1), axis=0)


def em_fully_observed():
    """Multi-sample EM with every neuron observed: the estimate equals grad log p(x) for every K."""
    model = random_bernoulli_snn(3, 5, key=jax.random.key(0), scale=1.5)
    inputs = jax.random.bernoulli(jax.random.key(1), 0.3, (40, 3)).astype(float)
    observed = model.sample(inputs, jax.random.key(2))
    exact = eqx.filter_grad(lambda m: m.log_prob(inputs, observed))(model)
    flat = lambda g: jnp.concatenate([x.ravel() for x in jax.tree.leaves(eqx.filter(g, eqx.is_inexact_array))])  # noqa: E731
    worst = {}
    for k in (1, 4, 32, 1024):
        _, grad, weights = sd.estimators.MultiSampleEM(k).value_and_grad(model, inputs, observed, jnp.ones(5, bool), jax.random.key(k))
        worst[k] = float(jnp.max(jnp.abs(flat(grad) - flat(exact))) / jnp.max(jnp.abs(flat(exact))))
    # the same on the SLIF: d log p(x) / dc of the observed input-current trains, against finite differences
    data = jax.vmap(lambda k: spikes_of(C_TRUE, 0.0, k))(jax.random.split(jax.random.key(1), 256))
    log_lik = lambda c: jnp.mean(jax.vmap(lambda s: sd.likelihood.buffer_log_likelihood(neuron(c, 0.0), s, t0=T0, t1=T1, dt=DT))(data))  # noqa: E731
    grad = float(jax.grad(log_lik)(jnp.asarray(C_EVAL)))
    h = 1e-5
    fd = float((log_lik(C_EVAL + h) - log_lik(C_EVAL - h)) / (2 * h))
    print(f"EM, all observed: max relative |EM - grad log p| over K = 1..1024 (BernoulliSNN): {worst}; SLIF d log p/dc "
          f"{grad:.6f} vs finite differences {fd:.6f}")  # fmt: skip
    return dict(bernoulli_relative_difference=worst, slif_grad_log_likelihood=grad, slif_finite_difference=fd)



def _cell(n):
    return sd.SLIF(n, input_current=0.0, mu_v=6.0, mu_i=5.0, sigma_v=0.0, sigma_i=0.0, v_reset=1.2, v0=1.1, i0=0.6, alpha=0.0)


def hidden_model(w, mask, x_in):
    """The hidden and output layers (18 neurons) driven by the observed input-layer spikes ``x_in``."""
    return sd.Network(_cell(18), w[4:, 4:], mask=mask[4:, 4:], input_spike_times=x_in, input_weights=w[:4, 4:], input_mask=mask[:4, 4:])


def output_log_likelihood(w, mask, hidden, x_out):
    """``log p(x_out || h)``: the output neurons driven by the hidden spikes."""
    model = sd.Network(_cell(2), jnp.zeros((2, 2)), mask=jnp.zeros((2, 2), bool), input_spike_times=hidden,
                       input_weights=w[4:20, 20:], input_mask=mask[4:20, 20:])  # fmt: skip
    return sd.likelihood.buffer_log_likelihood(model, x_out, t0=T0, t1=NET_T1, dt=DT)


@jax.jit
def em_pool(w, mask, x_in, x_out, keys):
    """Per key: a hidden sample ``h ~ p(h | x_in)``, ``log p(x_out || h)``, ``grad_W log p(x_out, h | x_in)``."""

    def one(key):
        model = hidden_model(w, mask, x_in)
        hidden = sd.simulate(model, t0=T0, t1=NET_T1, dt=DT, key=key, max_spikes=NET_K, on_overflow="ignore").spike_times[:16]
        buffers = jnp.concatenate([hidden, x_out])
        joint = lambda v: sd.likelihood.buffer_log_likelihood(hidden_model(v, mask, x_in), buffers, t0=T0, t1=NET_T1, dt=DT)  # noqa: E731
        return output_log_likelihood(w, mask, hidden, x_out), jax.grad(joint)(w), jnp.any(jnp.isfinite(hidden[:, -1]))

    return jax.vmap(one)(keys)


def snis(log_w, grads):
    """Self-normalised importance-sampling estimate (the K-sample EM gradient) and the bound."""
    weights = np.exp(log_w - log_w.max())
    weights /= weights.sum()
    return weights @ grads, float(np.log(np.mean(np.exp(log_w - log_w.max()))) + log_w.max()), weights


def em_network_section(pool, reference, observations=4, k_grid=(1, 4, 16, 64, 256)):
    net, data, _ = network_setup()
    w, mask = jnp.where(net.mask, net.weights, 0.0), net.mask
    idx = np.flatnonzero(np.asarray(mask))
    tic = time.perf_counter()
    per_k = {k: [] for k in k_grid}
    refs, full = [], 0.0
    for b in range(observations):
        x_in, x_out = data[b, :4], data[b, 20:]
        log_w, grads, f = chunked(lambda k: em_pool(w, mask, x_in, x_out, k), jax.random.split(jax.random.key(100 + b), pool + reference), 512)
        grads, full = grads.reshape(len(grads), -1)[:, idx], full + f.mean() / observations
        ref, ref_bound, ref_weights = snis(log_w[pool:], grads[pool:])
        refs.append((ref, ref_bound, float(1 / np.sum(ref_weights**2)), np.sum(ref_weights[:, None] ** 2 * (grads[pool:] - ref) ** 2, 0)))
        for k in k_grid:
            per_k[k].append([snis(log_w[j : j + k], grads[j : j + k])[:2] for j in range(0, pool - k + 1, k)])
    print(f"EM network: {observations} observations x {pool + reference} hidden samples in {time.perf_counter() - tic:.0f} s "
          f"(load {os.getloadavg()[0]:.1f}); full hidden buffers {full:.4f}; reference ESS {[round(r[2]) for r in refs]}")  # fmt: skip
    exact = sum(r[0] for r in refs)
    exact_var = sum(r[3] for r in refs)  # delta-method variance of the reference
    rows = []
    print("| K | log mean_k p(x_out||h^k) | cosine with K_ref | |mean - ref| / |ref| | z along ref | chi^2/dof | K x tr Cov |")
    print("|---|---|---|---|---|---|---|")
    for k in k_grid:
        n = min(len(e) for e in per_k[k])
        est = sum(np.stack([e[j][0] for j in range(n)]) for e in per_k[k])
        bound = float(np.mean([sum(e[j][1] for e in per_k[k]) for j in range(n)]))
        mean, var = est.mean(0), est.var(0, ddof=1)
        se = np.sqrt(var / n + exact_var)
        z = (mean - exact) / se
        d = exact / np.linalg.norm(exact)
        z_along = float((mean - exact) @ d / np.sqrt((est @ d).var(ddof=1) / n + exact_var @ d**2))
        row = dict(K=k, blocks=n, bound=bound, cosine=float(mean @ exact / np.linalg.norm(mean) / np.linalg.norm(exact)),
                   relative_bias=float(np.linalg.norm(mean - exact) / np.linalg.norm(exact)), z_along=z_along,
                   chi2_dof=float(np.mean(z**2)), k_times_trace=float(k * var.sum()))  # fmt: skip
        rows.append(row)
        print(f"| {k} | {bound:.3f} | {row['cosine']:.3f} | {row['relative_bias']:.3f} | {z_along:+.1f} | {row['chi2_dof']:.2f} | {row['k_times_trace']:.4g} |")
    return dict(observations=observations, pool=pool, reference=reference, reference_bound=sum(r[1] for r in refs),
                reference_ess=[r[2] for r in refs], reference_norm=float(np.linalg.norm(exact)), full_hidden_buffers=float(full), rows=rows)  # fmt: skip
