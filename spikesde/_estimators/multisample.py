r"""Multi-sample learning by generalised expectation maximisation (Jang & Simeone 2021).

Visible neurons ``x`` are observed; hidden neurons ``h`` are not. ``K`` compartments share the
weights and sample ``h^k ~ p(h || x)`` (the hidden neurons driven by the observed past). With the
importance weights

    w^k = softmax_k( log p(x || h^k) ),

the update ``sum_k w^k grad [log p(x || h^k) + log p(h^k || x)] = sum_k w^k grad log p(x, h^k)`` is a
self-normalised importance-sampling estimate of Fisher's identity
``grad log p(x) = E_{p(h | x)}[grad log p(x, h)]``: consistent as ``K`` grows, and every compartment
receives a global learning signal ``w^k`` (a three-factor rule), with no baseline. The bound
``log mean_k p(x || h^k) <= log p(x)`` (in expectation) tightens with ``K``.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, PRNGKeyArray, PyTree

from .bernoulli_snn import BernoulliSNN


def check_compartments(num_compartments) -> None:
    """``num_compartments`` must be a positive integer (ValueError naming it otherwise)."""
    if int(num_compartments) != num_compartments or num_compartments < 1:
        raise ValueError(f"num_compartments must be a positive integer, got {num_compartments}")


class MultiSampleEM(eqx.Module):
    """The generalised-EM gradient of ``log p(x)`` from ``num_compartments`` hidden samples.

    Example:
        ```python
        snn = sd.estimators.BernoulliSNN(jnp.full((2, 3), 0.5), jnp.zeros((3, 3)), jnp.full(3, -1.0))
        em = sd.estimators.MultiSampleEM(num_compartments=4)
        ```
    """

    num_compartments: int = eqx.field(static=True)

    def __check_init__(self):
        check_compartments(self.num_compartments)

    def _sample(self, model, inputs, observed, visible, key):
        """The ``K`` rasters (visible neurons clamped) and their ``log p(x || h^k)``."""
        visible = jnp.asarray(visible, bool)
        keys = jax.random.split(key, self.num_compartments)
        rasters = jax.vmap(lambda k: model.sample(inputs, k, observed=observed, visible=visible))(keys)
        per_neuron = jax.vmap(lambda s: model.log_prob_per_neuron(inputs, s))(rasters)
        return rasters, jnp.sum(jnp.where(visible, per_neuron, 0.0), axis=-1)

    def log_likelihood(
        self,
        model: BernoulliSNN,
        inputs: Float[Array, "T m"],
        observed: Float[Array, "T n"],
        visible: Bool[Array, " n"],
        key: PRNGKeyArray,
    ) -> Float[Array, ""]:
        """The estimate ``log mean_k p(x || h^k)`` of ``log p(x)`` (a lower bound in expectation)."""
        _, log_visible = self._sample(model, inputs, observed, visible, key)
        return self._bound(log_visible)

    def _bound(self, log_visible: Float[Array, " K"]) -> Float[Array, ""]:
        return jax.scipy.special.logsumexp(log_visible) - jnp.log(self.num_compartments)

    def value_and_grad(
        self,
        model: BernoulliSNN,
        inputs: Float[Array, "T m"],
        observed: Float[Array, "T n"],
        visible: Bool[Array, " n"],
        key: PRNGKeyArray,
    ) -> tuple[Float[Array, ""], PyTree, Float[Array, " K"]]:
        """``(log mean_k p(x || h^k), gradient estimate of log p(x), importance weights)``.

        ``observed`` holds the visible neurons' spikes (other columns are ignored); ``visible`` marks
        the observed neurons.
        """
        rasters, log_visible = self._sample(model, inputs, observed, visible, key)
        weights = jax.nn.softmax(jax.lax.stop_gradient(log_visible))
        bound = self._bound(log_visible)

        @eqx.filter_grad
        def weighted(m):
            return jnp.sum(weights * jax.vmap(lambda s: m.log_prob(inputs, s))(rasters))

        return bound, weighted(model), weights
