"""Short examples of the public names, shown in their API reference entries.

Each key is a reference entry's identifier, each value a runnable snippet (``tests/test_api.py``
runs every one). The docs build appends the snippet to the entry's docstring as an "Example"
section.
"""

_SIM = "t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16"

EXAMPLES = {
    "spikesde.SLIF": """
neurons = sd.SLIF(3, input_current=[1.2, 1.5, 1.8], mu_v=15.0, sigma_v=0.5, v_reset=1.4)
spikes = sd.simulate(neurons, SIM).spike_times   # (3, 16)
""",
    "spikesde.LIF": """
neuron = sd.LIF(1, input_current=1.5, tau_mem=1.0, tau_syn=0.5, threshold=1.0)
first = sd.simulate(neuron, SIM).spike_times[0, 0]   # deterministic: ln 3 = 1.0986...
""",
    "spikesde.ConstantCurrent": """
neuron = sd.SLIF(2, input_current=sd.ConstantCurrent(jnp.array([1.2, 1.8])))
""",
    "spikesde.PiecewiseConstantCurrent": """
current = sd.PiecewiseConstantCurrent(breakpoints=jnp.array([0.5]), values=jnp.array([1.0, 2.0]))
spikes = sd.simulate(sd.SLIF(input_current=current), SIM).spike_times
""",
    "spikesde.SinusoidalCurrent": """
current = sd.SinusoidalCurrent(offset=1.5, amplitude=1.0, frequency=2.0)
spikes = sd.simulate(sd.SLIF(input_current=current), SIM).spike_times
""",
    "spikesde.FunctionCurrent": """
current = sd.FunctionCurrent(lambda t, p: p["c"] * (1.0 + jnp.sin(t)), {"c": jnp.array(1.5)})
spikes = sd.simulate(sd.SLIF(input_current=current), SIM).spike_times
""",
    "spikesde.Network": """
weights = jnp.array([[0.0, 0.5], [0.0, 0.0]])        # neuron 0 -> neuron 1
network = sd.Network(sd.SLIF(2, input_current=[1.5, 0.5]), weights)
spikes = sd.simulate(network, SIM).spike_times
""",
    "spikesde.feedforward": """
network = sd.feedforward(sd.SLIF(22, input_current=[1.5] * 4 + [0.0] * 18), [4, 16, 2], key=jax.random.key(1))
network.weights.shape   # (22, 22), nonzero only from each layer to the next
""",
    "spikesde.recurrent": """
network = sd.recurrent(sd.SLIF(50, input_current=1.2), key=jax.random.key(1), connection_probability=0.1)
""",
    "spikesde.fixed_fan_in": """
network = sd.fixed_fan_in(sd.SLIF(200, input_current=1.2, sigma_v=0.3), key=jax.random.key(1), fan_in=20, weight_scale=0.3)
spikes = sd.simulate(network, t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=64,
                     event_policy=sd.ParallelEvents()).spike_times
""",
    "spikesde.feedforward_mask": """
mask = sd.feedforward_mask([2, 3, 1])   # (6, 6) booleans: 2 -> 3 -> 1
""",
    "spikesde.FanInCoupling": """
sources = jnp.array([[1], [0]])           # neuron 0 listens to 1, neuron 1 to 0
network = sd.Network(sd.SLIF(2, input_current=1.5), fan_in=sd.FanInCoupling(sources, jnp.array([[0.3], [0.3]])))
""",
    "spikesde.simulate": """
solution = sd.simulate(sd.SLIF(input_current=1.5, sigma_v=0.5), SIM)
solution.spike_times, solution.spike_counts, solution.overflow
""",
    "spikesde.Solution": """
solution = sd.simulate(sd.SLIF(input_current=1.5), SIM, save_at=[0.0, 0.5, 1.0])
solution.ys.shape, solution.spike_counts
""",
    "spikesde.reference_simulate": """
path = sd.FineGridBrownian(jax.random.key(7), t0=0.0, t1=1.0, dt=1e-3, shape=(2, 1))   # (V, I) x 1 neuron
reference = sd.reference_simulate(sd.SLIF(input_current=1.5, sigma_v=0.3), SIM, brownian=path)
event_core = sd.simulate(sd.SLIF(input_current=1.5, sigma_v=0.3), SIM, brownian=path)
""",
    "spikesde.EulerMaruyama": """
spikes = sd.simulate(sd.SLIF(input_current=1.5, sigma_v=0.5), SIM, stepper=sd.EulerMaruyama()).spike_times
""",
    "spikesde.ExponentialEuler": """
spikes = sd.simulate(sd.SLIF(input_current=1.5, mu_v=200.0), SIM, stepper=sd.ExponentialEuler()).spike_times
""",
    "spikesde.GridBrownian": """
spikes = sd.simulate(sd.SLIF(sigma_v=0.5), SIM, brownian=sd.GridBrownian(jax.random.key(7))).spike_times
""",
    "spikesde.FineGridBrownian": """
path = sd.FineGridBrownian(jax.random.key(7), t0=0.0, t1=1.0, dt=1e-3, shape=(2, 1))   # (V, I) x 1 neuron
coarse = sd.simulate(sd.SLIF(sigma_v=0.5), t0=0.0, t1=1.0, dt=1e-2, key=jax.random.key(0), max_spikes=16, brownian=path)
fine = sd.simulate(sd.SLIF(sigma_v=0.5), t0=0.0, t1=1.0, dt=1e-3, key=jax.random.key(0), max_spikes=16, brownian=path)
""",
    "spikesde.neuron_clock_keys": """
keys = sd.neuron_clock_keys(jax.random.key(0), 10)   # neuron k's clocks, whatever the network size
""",
    "spikesde.ExactEventLocation": """
spikes = sd.simulate(sd.SLIF(), SIM, event_location=sd.ExactEventLocation(root_iterations=12)).spike_times
""",
    "spikesde.GridEventLocation": """
spikes = sd.simulate(sd.SLIF(), SIM, event_location=sd.GridEventLocation(strict=True)).spike_times
""",
    "spikesde.SequentialEvents": """
network = sd.recurrent(sd.SLIF(20), key=jax.random.key(1), weight_scale=0.2)
spikes = sd.simulate(network, t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=64,
                     event_policy=sd.SequentialEvents()).spike_times
""",
    "spikesde.ParallelEvents": """
network = sd.recurrent(sd.SLIF(20), key=jax.random.key(1), weight_scale=0.2)
spikes = sd.simulate(network, t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=64,
                     event_policy=sd.ParallelEvents()).spike_times
""",
    "spikesde.io.SpikeTrains": """
trains = sd.SpikeTrains([[[0.1, 0.7], []], [[0.4], [0.2, 0.9]]], t0=0.0, t1=1.0)   # 2 trials, 2 neurons
buffers = trains.to_buffers()                                                      # (2, 2, 2), +inf padded
""",
    "spikesde.io.simulate_spike_trains": """
trains = sd.simulate_spike_trains(sd.SLIF(2), num_trials=8, key=jax.random.key(0), t0=0.0, t1=1.0, dt=0.01, max_spikes=16)
""",
    "spikesde.io.save_spike_trains": """
trains = sd.SpikeTrains([[[0.1, 0.7]]], t0=0.0, t1=1.0)
path = sd.save_spike_trains(trains, tmp / "trains.npz")
assert sd.load_spike_trains(path) == trains
""",
    "spikesde.fit": """
simulation = sd.Simulation(t0=0.0, t1=2.0, dt=0.01, max_spikes=3, keep_first=True)
result = sd.fit(sd.SLIF(1, 1.0), sd.Simulated(sd.SLIF(1, 1.5), 16, jax.random.key(1)),
                learn=["input_current.value"], loss=sd.FirstSpikeTimeLoss(3, t1=2.0),
                optimizer=optax.adam(0.05), simulation=simulation, steps=5, key=jax.random.key(0), progress=False)
result.values["input_current.value"]
""",
    "spikesde.Learn": """
learn = [sd.Learn("input_current.value", init=1.0, lower=0.0), sd.Learn("mu_v", lower=0.0, upper=50.0)]
""",
    "spikesde.Simulation": """
simulation = sd.Simulation(t0=0.0, t1=5.0, dt=0.01, max_spikes=3, keep_first=True)   # the first 3 spikes
""",
    "spikesde.Simulated": """
data, overflow = sd.Simulated(sd.SLIF(1, 1.5), 16, jax.random.key(1)).draw(sd.Simulation(0.0, 1.0, 0.01, 8))
""",
    "spikesde.Trainer": """
simulation = sd.Simulation(t0=0.0, t1=2.0, dt=0.01, max_spikes=3, keep_first=True)
trainer = sd.Trainer(sd.SLIF(1, 1.0), learn=["input_current.value"], loss=sd.FirstSpikeTimeLoss(3, t1=2.0),
                     optimizer=optax.adam(0.05), simulation=simulation, model_samples=16)
data, _ = sd.Simulated(sd.SLIF(1, 1.5), 16, jax.random.key(1)).draw(simulation)
state = trainer.init(jax.random.key(0))
state, metrics = eqx.filter_jit(trainer.step)(state, data)
""",
    "spikesde.PathwiseGradient": """
estimator = sd.PathwiseGradient()   # the default of fit and Trainer: jax.grad through simulate
""",
    "spikesde.ScoreFunctionGradient": """
estimator = sd.ScoreFunctionGradient()   # noise-free SLIF neurons with alpha = 0: fit(..., estimator=estimator)
""",
    "spikesde.MaximumLikelihood": """
estimator = sd.MaximumLikelihood()   # -mean log p(data) of noise-free SLIF neurons: fit(..., estimator=estimator)
""",
    "spikesde.check_gradients": """
with jax.enable_x64(True):
    spikes = lambda model: sd.simulate(model, t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16).spike_times
    check = sd.check_gradients(spikes, sd.SLIF(input_current=1.5, sigma_v=0.3), key=jax.random.key(1))
""",
    "spikesde.forward_value_and_grad": """
first = lambda c: sd.simulate(sd.SLIF(input_current=c), SIM).spike_times[0, 0]
value, slope = sd.forward_value_and_grad(first)(jnp.array(1.5))
""",
    "spikesde.losses.ExpectedSignatureLoss": """
loss = sd.ExpectedSignatureLoss(t0=0.0, t1=1.0, depth=3, count_scale=0.25, taper=0.1)
x = jnp.array([[[0.2, 0.6]], [[0.3, jnp.inf]]])   # (batch, neurons, max_spikes)
loss(x, x[::-1])
""",
    "spikesde.losses.SignatureKernelMMD": """
loss = sd.SignatureKernelMMD(t0=0.0, t1=1.0, refinement=1)
x = jnp.array([[[0.2, 0.6]], [[0.3, jnp.inf]]])
loss(x, x + 0.05)
""",
    "spikesde.losses.SpikeTimeMMD": """
loss = sd.SpikeTimeMMD(num_spikes=2, t0=0.0, t1=1.0, bandwidths=(0.1, 0.3))
x = jnp.array([[[0.2, 0.6]], [[0.3, jnp.inf]]])
loss(x, x + 0.05)
""",
    "spikesde.losses.FirstSpikeTimeLoss": """
loss = sd.FirstSpikeTimeLoss(num_spikes=2, t1=1.0)
loss(jnp.array([[[0.2, 0.6]]]), jnp.array([[[0.3, jnp.inf]]]))
""",
    "spikesde.losses.LagStatisticLoss": """
network = sd.feedforward(sd.SLIF(3, input_current=[1.5, 0.0, 0.0]), [1, 2], key=jax.random.key(1))
loss = sd.LagStatisticLoss(0.0, 1.0, taus=(0.05, 0.15), connections=network.mask)
x = jnp.array([[[0.2, 0.6], [0.25, jnp.inf], [0.3, 0.7]]] * 4)
loss(x, x + 0.01)
""",
    "spikesde.signatures.marcus_lift": """
times = jnp.array([[[0.2, 0.7], [0.5, jnp.inf]]])           # 1 train, 2 neurons, +inf padded
path = sd.signatures.marcus_lift(times, t0=0.0, t1=1.0)     # (1, vertices, 3): time, then each neuron's count
""",
    "spikesde.signatures.spike_train_signature": """
times = jnp.array([[[0.2, 0.7], [0.5, jnp.inf]]])
sig = sd.signatures.spike_train_signature(times, t0=0.0, t1=1.0, depth=2)   # levels 1 and 2: 3 + 9 terms
""",
    "spikesde.signatures.expected_signature": """
path = sd.signatures.marcus_lift(jnp.array([[[0.2, 0.7]], [[0.4, jnp.inf]]]), t0=0.0, t1=1.0)
mean_sig = sd.signatures.expected_signature(path, depth=2)
""",
    "spikesde.signatures.spike_events": """
times, neurons, weights = sd.signatures.spike_events(jnp.array([[0.2, 0.7], [0.5, jnp.inf]]), t0=0.0, t1=1.0)
""",
    "spikesde.signatures.signature_kernel": """
x = jnp.array([[0.0, 0.0], [0.5, 1.0], [1.0, 1.0]])
k = sd.signatures.signature_kernel(x, x, refinement=1)
""",
    "spikesde.signatures.signature_kernel_gram": """
paths = sd.signatures.marcus_lift(jnp.array([[[0.2, 0.7]], [[0.4, jnp.inf]]]), t0=0.0, t1=1.0)
gram = sd.signatures.signature_kernel_gram(paths, paths, sd.signatures.PDESolver(refinement=1))   # (2, 2)
""",
    "spikesde.signatures.PDESolver": """
solver = sd.signatures.PDESolver(refinement=1, static_kernel=sd.losses.RBFKernel(sigma=0.5))
loss = sd.SignatureKernelMMD(t0=0.0, t1=1.0, solver=solver)
""",
    "spikesde.losses.KernelMMD": """
loss = sd.losses.KernelMMD(sd.losses.SpikeTimeKernel(num_spikes=2, t0=0.0, t1=1.0))
x = jnp.array([[[0.2, 0.6]], [[0.3, jnp.inf]]])
loss(x, x + 0.05)
""",
    "spikesde.losses.KernelScore": """
score = sd.losses.KernelScore(sd.losses.TruncatedSignatureKernel(t0=0.0, t1=1.0, depth=2))
x = jnp.array([[[0.2, 0.6]], [[0.3, jnp.inf]]])
score(x, x[:1])
""",
    "spikesde.losses.first_spike_times": """
sd.losses.first_spike_times(jnp.array([[0.2, jnp.inf]]), num_spikes=2, t1=1.0)   # [[0.2, 1.0]]
""",
    "spikesde.losses.finite_spike_times": """
sd.losses.finite_spike_times(jnp.array([0.2, jnp.inf]), 1.0)   # [0.2, 1.0], zero gradient at the padding
""",
    "spikesde.estimators.PathwiseClassifier": """
classifier = sd.estimators.PathwiseClassifier(hidden=20)
model = classifier.init(5, 3, jax.random.key(0))
inputs = classifier.encode(sd.datasets.encode_first_spike_times(sd.datasets.yinyang(8, seed=0).features) * 1e3)
loss, grads = classifier.loss_and_grad(model, inputs, jnp.zeros(8, int), jax.random.key(1))
""",
    "spikesde.estimators.SurrogateClassifier": """
classifier = sd.estimators.SurrogateClassifier(hidden=20, surrogate=sd.estimators.FastSigmoid(10.0))
model = classifier.init(5, 3, jax.random.key(0))
""",
    "spikesde.estimators.ScoreFunctionClassifier": """
classifier = sd.estimators.ScoreFunctionClassifier(num_samples=8)
model = classifier.init(5, 3, jax.random.key(0))
""",
    "spikesde.estimators.MultiSampleEMClassifier": """
classifier = sd.estimators.MultiSampleEMClassifier(num_compartments=5,
                                                   schedule=sd.estimators.CompartmentSchedule(1, 3))
""",
    "spikesde.estimators.FastSigmoid": """
surrogate = sd.estimators.FastSigmoid(beta=10.0)
jax.grad(surrogate)(jnp.array(0.0))   # H(x) forward; its derivative is 1 / (1 + beta |x|)^2, 1 at the threshold
""",
    "spikesde.estimators.expected_calibration_error": """
probabilities = jnp.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
sd.estimators.expected_calibration_error(probabilities, jnp.array([0, 1, 1]), bins=10)
""",
    "spikesde.estimators.lif_first_spike_times": """
times = sd.estimators.lif_first_spike_times(jnp.array([1.0, 2.0]), jnp.array([[1.5], [1.5]]), tau=5.0, threshold=1.0)
""",
    "spikesde.hardware.FixedPoint": """
q = sd.hardware.FixedPoint(3, 8)     # s3.8: sign, 3 integer and 8 fraction bits
chip = sd.hardware.LowPrecisionEuler(1e-3, q, sd.hardware.NearestEven())
""",
    "spikesde.hardware.float_format": """
bf16 = sd.hardware.float_format("bfloat16")
chip = sd.hardware.LowPrecisionEuler(1e-3, bf16, sd.hardware.Stochastic(), key=jax.random.key(1))
""",
    "spikesde.hardware.Stochastic": """
chip = sd.hardware.LowPrecisionEuler(0.01, sd.hardware.FixedPoint(7, 12), sd.hardware.Stochastic(),
                                     key=jax.random.key(1))
spikes = sd.simulate(sd.SLIF(input_current=1.5), SIM, stepper=chip,
                     event_location=sd.GridEventLocation(strict=False)).spike_times
""",
    "spikesde.hardware.to_loihi": """
network = sd.Network(sd.LIF(2, 1.5, tau_mem=1.0, tau_syn=0.5), jnp.array([[0.0, 0.4], [0.0, 0.0]]))
loihi = sd.hardware.to_loihi(network, dt=1e-3)
spikes = sd.simulate(loihi, t0=0.0, t1=0.5, dt=1e-3, key=jax.random.key(0), max_spikes=64,
                     stepper=sd.hardware.Loihi1Stepper(dt=1e-3), event_location=sd.GridEventLocation(strict=True),
                     event_policy=sd.ParallelEvents()).spike_times
""",
    "spikesde.hardware.to_nir": """
network = sd.Network(sd.LIF(2, 1.5, tau_mem=1.0, tau_syn=0.5), jnp.array([[0.0, 0.4], [0.0, 0.0]]))
graph = sd.hardware.to_nir(network)
back = sd.hardware.from_nir(graph)        # the same network
""",
    "spikesde.likelihood.poisson_log_likelihood": """
sd.likelihood.poisson_log_likelihood(n_spikes=12, duration=2.0, rate=6.0)
""",
    "spikesde.likelihood.bits_per_spike": """
sd.likelihood.bits_per_spike(-40.0, reference_log_likelihood=-52.0, n_spikes=12)   # 12 / (12 ln 2) = 1.44
""",
    "spikesde.likelihood.coincidence_factor": """
data = jnp.array([0.10, 0.35, 0.80])
sd.likelihood.coincidence_factor(data + 0.001, data, duration=1.0, precision=0.002)   # close to 1
""",
    "spikesde.likelihood.buffer_log_likelihood": """
neuron = sd.SLIF(input_current=1.5, sigma_v=0.0, alpha=0.0)     # noise-free: the spikes have an exact density
spikes = sd.simulate(neuron, SIM).spike_times
log_p = sd.likelihood.buffer_log_likelihood(neuron, spikes, t0=0.0, t1=1.0, dt=0.01)
""",
    "spikesde.likelihood.raised_cosine_basis": """
basis = sd.likelihood.raised_cosine_basis(5, duration=0.05, dt=1e-3)            # (lags, 5)
features = sd.likelihood.filter_stimulus(jnp.sin(jnp.linspace(0.0, 6.0, 1000)), basis)
""",
    "spikesde.datasets.yinyang": """
data = sd.datasets.yinyang(1000, seed=42)     # features (1000, 4), balanced labels 0 / 1 / 2
""",
    "spikesde.datasets.encode_first_spike_times": """
times = sd.datasets.encode_first_spike_times(sd.datasets.yinyang(10, seed=0).features)   # (10, 5) in s
""",
}

PRELUDE = """
import jax, jax.numpy as jnp, equinox as eqx, optax
import spikesde as sd
"""


def source(identifier: str) -> str:
    """The snippet as shown: the simulation arguments written out."""
    return EXAMPLES[identifier].strip().replace("SIM", _SIM)
