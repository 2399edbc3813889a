"""The interface every neuron model fills in."""

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float

from .current import AbstractCurrent
from .validation import check_parameters


class AbstractNeuron(eqx.Module):
    """A population of ``n_neurons`` neurons of one type, as an event SDE.

    The state is an array ``y`` of shape ``(state_dim, n_neurons)``, one row per state variable.
    Between events it solves

        dy = drift(t, y) dt + diffusion() dW,

    with additive (state-independent) diagonal noise on the rows ``noise_rows``. Neuron ``k`` fires when its event function
    ``event(y)[k]`` crosses zero from below; the reset map then replaces ``y[:, k]``. For the
    gradients through spike times to exist, a subclass must keep to the conditions of the
    event-SDE theory: the event function is not driven by the noise (it reads no row in
    ``noise_rows``), its time derivative is non-zero at a crossing, and the
    reset leaves the noisy rows' sensitivities unchanged (it adds constants to them).

    Each neuron's continuous dynamics depend on its own state only: coupling between neurons
    happens through events (the synaptic jumps of :class:`spikesde.Network`).

    Every array field of a subclass is a parameter, broadcastable to ``(n_neurons,)``.

    Example:
        ```python
        neuron = sd.SLIF(3)
        isinstance(neuron, sd.AbstractNeuron), neuron.n_neurons, neuron.state_names   # True, 3, ('V', 'I', 's')
        ```
    """

    n_neurons: eqx.AbstractVar[int]
    input_current: eqx.AbstractVar[AbstractCurrent]

    #: Names of the rows of the state.
    state_names: ClassVar[tuple[str, ...]]
    #: Row of the state that receives synaptic jumps (the synaptic current).
    synaptic_row: ClassVar[int]
    #: Rows of the state driven by noise (the others have no diffusion).
    noise_rows: ClassVar[tuple[int, ...]]
    #: Whether the reset draws a fresh exponential clock (escape noise).
    uses_clock: ClassVar[bool]
    #: Whether the event function is affine in the state (crossing times inside an affine step
    #: then have a closed form).
    affine_event: ClassVar[bool]
    #: The domain of each parameter field: ``"finite"``, ``"nonnegative"`` or ``"positive"``;
    #: concrete values are checked at construction (a ValueError names the parameter).
    domains: ClassVar[dict[str, str]] = {}

    def __check_init__(self):
        check_parameters(type(self).__name__, self.domains, {name: getattr(self, name) for name in self.domains})

    @property
    def state_dim(self) -> int:
        return len(self.state_names)

    @property
    def brownian_shape(self) -> tuple[int, int]:
        """Shape of the Brownian motion driving the population: ``(len(noise_rows), n_neurons)``."""
        return (len(self.noise_rows), self.n_neurons)

    @abc.abstractmethod
    def initial_state(self, clock: Float[Array, " n"]) -> Float[Array, "d n"]:
        """The state at ``t0``; ``clock`` holds one Exp(1) draw per neuron."""

    @abc.abstractmethod
    def drift(self, t: Float[ArrayLike, ""], y: Float[Array, "d n"]) -> Float[Array, "d n"]:
        """The drift ``mu(t, y)``."""

    @abc.abstractmethod
    def diffusion(self) -> Float[Array, "r n"]:
        """The additive noise scale ``sigma`` of the noisy rows: row ``noise_rows[i]`` of ``y``
        receives ``sigma[i] dW_i``."""

    @abc.abstractmethod
    def event(self, y: Float[Array, "d n"]) -> Float[Array, " n"]:
        """The event function ``E(y)``: neuron ``k`` fires when ``E(y)[k]`` crosses zero upwards."""

    @abc.abstractmethod
    def reset(self, y: Float[Array, "d n"], fired: Bool[Array, " n"], clock: Float[Array, " n"]) -> Float[Array, "d n"]:
        """The reset map ``T``, applied to the neurons where ``fired`` is true.

        ``clock`` holds a fresh Exp(1) draw per neuron for neurons with escape noise.
        """

    @abc.abstractmethod
    def linear_step(self, t: Float[ArrayLike, ""], y: Float[Array, "d n"], h: Float[ArrayLike, "*n"]) -> Float[Array, "d n"]:
        """The deterministic flow over a time ``h`` with the non-linear terms and the input frozen at ``(t, y)``.

        Exact for the linear part of the drift; used by :class:`spikesde.ExponentialEuler`.
        ``h`` is a scalar or one step length per neuron.
        """

    # The escape-noise interface (optional): a neuron that declares an escape rate has a spike-train
    # likelihood (spikesde.log_likelihood) built from drift/linear_step, reset and these methods.

    def escape_rate(self, y: Float[Array, "d n"]) -> Float[Array, " n"]:
        """The firing intensity ``lambda(y)`` of each neuron at state ``y`` (escape noise).

        A subclass with escape noise overrides this or :meth:`log_escape_rate` (or both); a neuron
        with a deterministic threshold has none (a TypeError names it).
        """
        if type(self).log_escape_rate is AbstractNeuron.log_escape_rate:
            raise TypeError(
                f"{type(self).__name__} declares no escape rate (it fires at a deterministic threshold): its spike "
                "trains have no likelihood; give it escape_rate(y) or log_escape_rate(y) (or use SLIF)"
            )
        return jnp.exp(self.log_escape_rate(y))

    def log_escape_rate(self, y: Float[Array, "d n"]) -> Float[Array, " n"]:
        """``log lambda(y)``; override it where the log domain is more accurate (exponential escape)."""
        return jnp.log(self.escape_rate(y))

    @property
    def has_escape_rate(self) -> bool:
        """Whether the class declares an escape rate (so that its spike trains have a likelihood)."""
        cls = type(self)
        return cls.escape_rate is not AbstractNeuron.escape_rate or cls.log_escape_rate is not AbstractNeuron.log_escape_rate

    def clock_offset(self) -> Float[Array, " n"]:
        """Integrated intensity the escape clock must run after a spike before the next one can come
        (``alpha`` of :class:`spikesde.SLIF`; 0 by default)."""
        return jnp.zeros((self.n_neurons,))

    def dead_time(self) -> Float[Array, " n"]:
        """Absolute refractory period (time) after a spike during which the intensity is zero (0 by default)."""
        return jnp.zeros((self.n_neurons,))

    def parameter_errors(self) -> list[str]:
        """Problems with the parameters' shapes, as messages (empty when all is well)."""
        errors = []
        for path, leaf in jax.tree_util.tree_flatten_with_path(self)[0]:
            if eqx.is_array(leaf) and leaf.ndim > 0 and not isinstance(leaf, jax.core.Tracer):
                name = jax.tree_util.keystr(path)
                if "input_current" in name:
                    continue
                if leaf.ndim > 1 or leaf.shape[-1] not in (1, self.n_neurons):
                    errors.append(
                        f"parameter {name} has shape {leaf.shape}, not broadcastable to (n_neurons,) = ({self.n_neurons},)"
                    )
        return errors


def _as_parameter(x: ArrayLike) -> Array:
    """``x`` as a floating array: a floating array keeps its dtype (a model cast to float32 under x64
    must stay float32 when a method rebuilds an option from its fields), anything else becomes JAX's
    default float."""
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(float)


def phi1(z: Float[Array, "..."]) -> Float[Array, "..."]:
    """``(e^z - 1) / z``, continued by 1 at ``z = 0`` with finite gradients there."""
    small = jnp.abs(z) < 1e-6
    safe_z = jnp.where(small, 1.0, z)
    return jnp.where(small, 1.0 + z / 2, jnp.expm1(safe_z) / safe_z)


def decay_phi1(a: Float[ArrayLike, "*n"], b: Float[ArrayLike, "*n"], h: Float[ArrayLike, "*n"]) -> Float[Array, "*n"]:
    """``e^{-a h} phi1((a - b) h) = (e^{-b h} - e^{-a h}) / ((a - b) h)`` for rates ``a, b >= 0``.

    Written as ``e^{-min(a, b) h} phi1(-|a - b| h)``: both factors lie in ``(0, 1]``, so large rates
    (``a h`` beyond ~89 in float32) cannot overflow ``phi1`` into ``0 * inf``. At ``a = b`` the kinks
    of ``min`` and ``|.|`` cancel, and autodiff's even split at ties gives the exact derivative.
    """
    return jnp.exp(-jnp.minimum(a, b) * h) * phi1(-jnp.abs(a - b) * h)


def max_exponent(dtype) -> float:
    """The largest ``x`` with ``exp(x)`` finite in ``dtype``, less 28: rates capped at ``exp`` of this
    (about 2e26 in float32) leave a factor ``e^28 ~ 1e12`` for the products a gradient forms with them."""
    return float(np.log(jnp.finfo(dtype).max)) - 28.0
