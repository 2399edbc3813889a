r"""The optax-style training step: simulate, loss, gradient, update and metrics in one pure function.

A :class:`Trainer` minimises ``L(theta) = D(model samples at theta, data)`` by stochastic gradient
descent on the unconstrained learned values ``theta`` (see :class:`spikesde.Learn`). Every step
draws fresh model samples with the key carried in the :class:`TrainState`, so the gradient is a
pathwise estimate of ``d/dtheta E[D]`` (the noise is held fixed while :func:`spikesde.simulate`
differentiates). The user may own the loop::

    trainer = Trainer(model, learn=["neuron.input_current.value"], loss=loss, optimizer=optax.adam(1e-2),
                      simulation=Simulation(t0=0.0, t1=5.0, dt=0.01, max_spikes=3), model_samples=64)
    step = eqx.filter_jit(trainer.step)
    state = trainer.init(jax.random.key(0))
    for _ in range(500):
        state, metrics = step(state, data)
    fitted = trainer.model_at(state.params)

With several devices the step is data-parallel over ``trainer.mesh`` (default: all devices): put
the state and data on it first, ``state = trainer.replicated(trainer.init(key))`` and
``data = trainer.sharded(data)`` (see :mod:`spikesde._training.sharding`).
"""

from collections.abc import Callable, Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jax.sharding import Mesh
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from .._core.brownian import _num_steps
from .._core.memory import check_batch_memory
from .._core.network import as_network
from .._losses.base import AbstractSpikeTrainLoss
from .estimator import AbstractGradientEstimator, PathwiseGradient
from .fingerprint import ByDescription
from .learn import Learn, Params, check_learned_model, constrained_values, fill, initial_params, num_learned, prepare
from .sharding import check_mesh, default_mesh, replicate, shard_trials, sharded_batches
from .simulation import Simulation

#: Up to this many learned scalars, ``gradient="auto"`` uses forward mode.
FORWARD_MODE_MAX = 4
_GRADIENTS = ("auto", "forward", "reverse")


class TrainState(eqx.Module):
    """Everything a step changes; a saved state resumes the run bit for bit.

    Example:
        ```python
        import optax
        trainer = sd.Trainer(sd.SLIF(1, 1.0), learn=["input_current.value"], loss=sd.FirstSpikeTimeLoss(3, t1=2.0),
                             optimizer=optax.adam(0.05), simulation=sd.Simulation(0.0, 2.0, 0.01, 3), model_samples=16)
        state = trainer.init(jax.random.key(0))
        state.step, state.params   # 0, the unconstrained learned values by path
        ```
    """

    step: Array
    params: Params
    opt_state: PyTree
    key: PRNGKeyArray


class Trainer(eqx.Module):
    """The training step of a model against spike-train data.

    Arguments:
        model: a neuron population or a :class:`spikesde.Network`.
        learn: the learned parameters: paths (``"neuron.mu_v"``) or :class:`spikesde.Learn`.
        loss: an :class:`spikesde.AbstractSpikeTrainLoss`, or a plain function
            ``(model_spikes, data_spikes) -> scalar`` on ``(samples, neurons, max_spikes)`` buffers.
        optimizer: any ``optax.GradientTransformation`` (schedules included).
        simulation: how model samples are drawn (:class:`spikesde.Simulation`).
        model_samples: model samples per step.
        gradient: ``"forward"`` (forward sensitivities, one tangent per learned scalar),
            ``"reverse"``, or ``"auto"``: forward for at most four learned scalars.
        metrics: extra test metrics ``name -> fn(model_spikes, test_spikes) -> scalar``.
        estimator: how the gradient is estimated (an :class:`spikesde.AbstractGradientEstimator`;
            default :class:`spikesde.PathwiseGradient`, exact pathwise gradients).
        mesh: the devices a step runs on, a :class:`jax.sharding.Mesh` (default: all devices when
            there are several). Model samples and data trials are split over all of its axes, the
            parameters replicated; the results equal the one-device step's up to rounding.

    Example:
        ```python
        import equinox as eqx, optax
        simulation = sd.Simulation(t0=0.0, t1=2.0, dt=0.01, max_spikes=3, keep_first=True)
        trainer = sd.Trainer(sd.SLIF(1, 1.0), learn=["input_current.value"], loss=sd.FirstSpikeTimeLoss(3, t1=2.0),
                             optimizer=optax.adam(0.05), simulation=simulation, model_samples=16)
        data, _ = sd.Simulated(sd.SLIF(1, 1.5), 16, jax.random.key(1)).draw(simulation)
        state, metrics = eqx.filter_jit(trainer.step)(trainer.init(jax.random.key(0)), data)
        ```
    """

    model: PyTree
    learn: tuple[Learn, ...]
    loss: PyTree
    simulation: Simulation
    model_samples: int = eqx.field(static=True)
    gradient: str = eqx.field(static=True)
    estimator: AbstractGradientEstimator
    _test_loss: PyTree  # the loss as given, for test metrics, once ``loss`` is prepared (else None)
    _optimizer: ByDescription = eqx.field(static=True)
    _metrics: tuple[tuple[str, ByDescription], ...] = eqx.field(static=True)
    mesh: Mesh | None = eqx.field(static=True)

    def __init__(
        self,
        model,
        *,
        learn: Sequence[str | Learn],
        loss: AbstractSpikeTrainLoss | Callable,
        optimizer: optax.GradientTransformation,
        simulation: Simulation,
        model_samples: int,
        gradient: str = "auto",
        metrics: Mapping[str, Callable] | None = None,
        estimator: AbstractGradientEstimator | None = None,
        mesh: Mesh | None = None,
    ):
        as_network(model)  # a TypeError naming the type if it is not a model
        self.model, self.learn = prepare(model, learn)
        check_learned_model(self.model)
        if not isinstance(simulation, Simulation):
            raise TypeError(f"simulation must be a Simulation, got {type(simulation).__name__}")
        if not (isinstance(loss, AbstractSpikeTrainLoss) or callable(loss)):
            raise TypeError(f"loss must be an AbstractSpikeTrainLoss or a function, got {type(loss).__name__}")
        if not (hasattr(optimizer, "init") and hasattr(optimizer, "update")):
            raise TypeError(f"optimizer must be an optax.GradientTransformation, got {type(optimizer).__name__}")
        if isinstance(model_samples, bool) or not isinstance(model_samples, int) or model_samples < 1:
            raise ValueError(f"model_samples must be a positive integer, got {model_samples!r}")
        if gradient not in _GRADIENTS:
            raise ValueError(f"gradient must be one of {_GRADIENTS}, got {gradient!r}")
        estimator = PathwiseGradient() if estimator is None else estimator
        if not isinstance(estimator, AbstractGradientEstimator):
            raise TypeError(f"estimator must be an AbstractGradientEstimator, got {type(estimator).__name__}")
        estimator.check(self.model, model_samples)
        self.mesh = default_mesh() if mesh is None else check_mesh(mesh)
        dtype = jnp.result_type(float) if simulation.dtype is None else jnp.dtype(simulation.dtype)
        check_batch_memory(
            as_network(self.model), num_steps=_num_steps(simulation.t0, simulation.t1, simulation.dt),
            max_spikes=simulation.max_spikes, dtype=dtype, samples=model_samples,
            devices=1 if self.mesh is None else self.mesh.size,
        )  # fmt: skip
        metrics = dict(metrics or {})
        for name, fn in metrics.items():
            if not isinstance(name, str) or not callable(fn):
                raise TypeError(f"metrics must map names to functions; {name!r} maps to {type(fn).__name__}")
        # A plain function is static (not a pytree): compare it by what it computes, so that an
        # equal function defined again reuses the compiled step.
        self.loss = loss if isinstance(loss, eqx.Module) else ByDescription(loss)
        self.simulation = simulation
        self.model_samples = model_samples
        self.gradient = gradient
        self.estimator = estimator
        self._test_loss = None
        self._optimizer = ByDescription(optimizer)
        self._metrics = tuple((name, ByDescription(fn)) for name, fn in sorted(metrics.items()))

    @property
    def optimizer(self) -> optax.GradientTransformation:
        return self._optimizer.obj

    @property
    def n_neurons(self) -> int:
        return as_network(self.model).n_neurons

    def loss_value(self, model_spikes, data_spikes) -> Float[Array, ""]:
        return _call(self.loss, model_spikes, data_spikes)

    def prepared(self, data: Float[Array, "b n k"]) -> "Trainer":
        """A copy whose training loss has what depends on ``data`` alone computed once
        (:meth:`spikesde.AbstractSpikeTrainLoss.prepare`; the same values, less work per step). Test
        metrics keep the loss as given. The copy's ``step`` must be called with this ``data``: a
        prepared loss reads the data it was prepared with, not the data it is passed."""
        if isinstance(self.loss, ByDescription) or self._test_loss is not None:
            return self
        loss = self.loss.prepare(data)
        return eqx.tree_at(lambda t: (t.loss, t._test_loss), self, (loss, self.loss), is_leaf=lambda x: x is None)

    def init(self, key: PRNGKeyArray) -> TrainState:
        """The state at step 0: the starting values, a fresh optimiser state and ``key``."""
        params = initial_params(self.model, self.learn)
        return TrainState(jnp.asarray(0), params, self.optimizer.init(params), key)

    def replicated(self, tree):
        """``tree`` (a :class:`TrainState`, parameters, a model) replicated on the mesh; every
        process passes equal values. Unchanged without a mesh."""
        return replicate(tree, self.mesh)

    def sharded(self, data: Float[Array, "b n k"]) -> Float[Array, "b n k"]:
        """``data`` split by trials over the mesh (replicated when the trials do not split evenly);
        every process passes the whole data set. Unchanged without a mesh."""
        return shard_trials(data, self.mesh)

    def model_at(self, params: Params):
        """The model with the learned values of ``params`` in place."""
        return fill(self.model, self.learn, params)

    def values(self, params: Params) -> dict[str, Array]:
        """The learned values (constrained, as the model sees them) by path."""
        return constrained_values(self.model, self.learn, params)

    def sample(self, params: Params, key: PRNGKeyArray, num_samples: int) -> Float[Array, "b n k"]:
        """``num_samples`` spike trains of the model at ``params`` (differentiable in ``params``)."""
        return self.simulation.sample(self.model_at(params), key, num_samples)[0]

    def gradient_mode(self, params: Params) -> str:
        if self.gradient != "auto":
            return self.gradient
        return "forward" if num_learned(params) <= FORWARD_MODE_MAX else "reverse"

    def step(
        self, state: TrainState, data: Float[Array, "b n k"], test_data: Float[Array, "b2 n k"] | None = None
    ) -> tuple[TrainState, dict]:
        """One optimiser step (pure, jit-able); the metrics describe the parameters *before* the update.

        Metrics: ``loss``, ``overflow`` (fraction of the model samples that overflowed
        ``max_spikes``), ``values`` (learned values by path) and, with ``test_data``, ``test_loss``
        and ``test_<name>`` for each user metric. The test metrics reuse this step's model samples,
        which are independent of the test set.
        """
        key, sample_key = jax.random.split(state.key)
        with sharded_batches(self.mesh):
            loss, grads, (spikes, overflow) = self.estimator.value_and_grad(self, state.params, sample_key, data)
        metrics = {"loss": loss, **self._sample_metrics(state.params, jax.lax.stop_gradient(spikes), overflow, test_data)}
        updates, opt_state = self.optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        return TrainState(state.step + 1, params, opt_state, key), metrics

    def evaluate(self, params: Params, key: PRNGKeyArray, test_data: Float[Array, "b n k"]) -> dict:
        """Test loss, user metrics, overflow and values at ``params`` on fresh model samples (no gradient)."""
        with sharded_batches(self.mesh):
            spikes, overflow = self.simulation.sample(self.model_at(params), key, self.model_samples)
        return self._sample_metrics(params, spikes, overflow, test_data)

    def _sample_metrics(self, params, spikes, overflow, test_data) -> dict:
        metrics = {"overflow": jnp.mean(overflow.astype(spikes.dtype)), "values": self.values(params)}
        if test_data is not None:
            metrics["test_loss"] = _call(self.loss if self._test_loss is None else self._test_loss, spikes, test_data)
            for name, fn in self._metrics:
                metrics[f"test_{name}"] = jnp.asarray(fn.obj(spikes, test_data)).reshape(())
        return metrics

    def check_data(self, data, name: str = "data") -> Array:
        """``data`` as an array of spike buffers shaped for this trainer, or a ValueError naming ``name``."""
        array = jnp.asarray(data)
        expected = (self.n_neurons, self.simulation.max_spikes)
        if array.ndim != 3 or array.shape[1:] != expected:
            raise ValueError(
                f"{name} must have shape (trials, n_neurons, max_spikes) = (*, {expected[0]}, {expected[1]}), "
                f"got {array.shape}"
            )
        if not jnp.issubdtype(array.dtype, jnp.floating):
            raise TypeError(f"{name} must hold floating-point spike times, got dtype {array.dtype}")
        return array


def _call(loss, model_spikes, data_spikes) -> Float[Array, ""]:
    fn = loss.obj if isinstance(loss, ByDescription) else loss
    return jnp.asarray(fn(model_spikes, data_spikes)).reshape(())
