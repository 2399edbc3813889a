"""Examples of the public names defined in files that other changes were editing in this round.

Every other public name carries its example in its own docstring (an "Example:" section with a
fenced python block). These wait here until they move into their docstrings the same way; the docs
build appends each to its entry's docstring (docs/_ext/rst_roles.py:ReferenceExamples) and
tests/test_api.py runs them as it runs the docstrings' examples. Delete an entry when its docstring
gets the example, and this file (with its hook in mkdocs.yml) when none is left.
"""

EXAMPLES = {
    "spikesde.AbstractBrownian": """
isinstance(sd.GridBrownian(jax.random.key(0)), sd.AbstractBrownian)   # True; simulate(..., brownian=...)
""",
    "spikesde.AbstractCoupling": """
coupling = sd.DenseCoupling(jnp.array([[0.0, 0.5], [0.2, 0.0]]), jnp.array([[False, True], [True, False]]))
isinstance(coupling, sd.AbstractCoupling), coupling.row(1)   # True, [0.2, 0.0]
""",
    "spikesde.AbstractCurrent": """
class Ramp(sd.AbstractCurrent):
    slope: jax.Array
    def __call__(self, t):
        return self.slope * t
neuron = sd.SLIF(input_current=Ramp(jnp.array(2.0)))
""",
    "spikesde.AbstractEscape": """
class Quadratic(sd.AbstractEscape):   # lambda(v) = v^2: log_rate and rate
    def log_rate(self, v):
        return 2.0 * jnp.log(jnp.abs(v))
    def rate(self, v):
        return v**2
""",
    "spikesde.AbstractEventLocation": """
isinstance(sd.GridEventLocation(), sd.AbstractEventLocation)   # True; simulate(..., event_location=...)
""",
    "spikesde.AbstractEventPolicy": """
isinstance(sd.ParallelEvents(), sd.AbstractEventPolicy)   # True; simulate(..., event_policy=...)
""",
    "spikesde.AbstractNeuron": """
neuron = sd.SLIF(3)
isinstance(neuron, sd.AbstractNeuron), neuron.n_neurons, neuron.state_names   # True, 3, ('V', 'I', 's')
""",
    "spikesde.AbstractReset": """
class HalfReset(sd.AbstractReset):   # V <- V / 2^count
    def apply(self, v, count):
        return v * 0.5**count
neuron = sd.SLIF(reset_rule=HalfReset())
""",
    "spikesde.AbstractStepper": """
isinstance(sd.EulerMaruyama(), sd.AbstractStepper)   # True; simulate(..., stepper=...) takes any of them
""",
    "spikesde.DenseCoupling": """
network = sd.Network(sd.SLIF(2), jnp.array([[0.0, 0.5], [0.0, 0.0]]))
coupling = sd.DenseCoupling(network.coupling(), network.receivers())
coupling.jumps(jnp.array([True, False]))   # [0.0, 0.5]: neuron 0's spike reaches neuron 1
""",
    "spikesde.DiffraxBrownian": """
import diffrax
tree = diffrax.VirtualBrownianTree(0.0, 1.0, tol=1e-3, shape=(2, 1), key=jax.random.key(7))
brownian = sd.DiffraxBrownian(tree)   # simulate(..., brownian=brownian) queries it per step
""",
    "spikesde.EulerMaruyama": """
sd.simulate(sd.SLIF(input_current=1.5, sigma_v=0.5), t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16, stepper=sd.EulerMaruyama()).spike_times
""",
    "spikesde.ExactEventLocation": """
sd.simulate(sd.SLIF(), t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16, event_location=sd.ExactEventLocation(root_iterations=8)).spike_times
""",
    "spikesde.ExponentialEscape": """
escape = sd.ExponentialEscape(beta=5.0, v_threshold=1.0, tau_s=1.0)   # the SLIF's own intensity
escape.rate(jnp.array([0.0, 1.0]))                                      # [exp(-5), 1.0]
neuron = sd.SLIF(escape=escape, alpha=0.0)
""",
    "spikesde.ExponentialEuler": """
sd.simulate(sd.SLIF(input_current=1.5, mu_v=200.0), t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16, stepper=sd.ExponentialEuler()).spike_times
""",
    "spikesde.ExponentialLinearEscape": """
escape = sd.ExponentialLinearEscape(c1=0.0, c2=1.238, c3=0.25)   # NEST's pp_psc_delta: Hz, v in mV
escape.rate(jnp.array(0.0))                                       # 1.238
neuron = sd.SLIF(1, 15.0, mu_v=100.0, escape=escape, reset_rule=sd.SetReset(0.0), alpha=0.0)
""",
    "spikesde.FanInCoupling": """
sources = jnp.array([[1], [0]])           # neuron 0 listens to 1, neuron 1 to 0
network = sd.Network(sd.SLIF(2, input_current=1.5), fan_in=sd.FanInCoupling(sources, jnp.array([[0.3], [0.3]])))
""",
    "spikesde.FineGridBrownian": """
path = sd.FineGridBrownian(jax.random.key(7), t0=0.0, t1=1.0, dt=1e-3, shape=(2, 1))   # (V, I) x 1 neuron
fine, coarse = (path.increments(0.0, dt, round(1.0 / dt), (2, 1), jnp.float32) for dt in (1e-3, 1e-2))
coarse[0], fine[:10].sum(0)   # equal: one path at both steps, simulate(..., dt=dt, brownian=path)
""",
    "spikesde.GridBrownian": """
brownian = sd.GridBrownian(jax.random.key(7))   # simulate(..., brownian=brownian); the default draws one from key
brownian.increments(0.0, 0.01, 100, (2, 1), jnp.float32).shape   # (100, 2, 1): steps, (V, I), neurons
""",
    "spikesde.GridEventLocation": """
sd.simulate(sd.SLIF(), t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16, event_location=sd.GridEventLocation(strict=True)).spike_times   # on the grid
""",
    "spikesde.Network": """
weights = jnp.array([[0.0, 0.5], [0.0, 0.0]])        # neuron 0 -> neuron 1
network = sd.Network(sd.SLIF(2, input_current=[1.5, 0.5]), weights)
sd.simulate(network, t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16).spike_times   # (2, 16)
""",
    "spikesde.NoReset": """
neuron = sd.SLIF(reset_rule=sd.NoReset(), alpha=0.0)   # an inhomogeneous Poisson process of rate lambda(V)
""",
    "spikesde.ParallelEvents": """
network = sd.Network(sd.SLIF(2, input_current=[1.5, 0.5]), jnp.array([[0.0, 0.5], [0.0, 0.0]]))
sd.simulate(network, t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16, event_policy=sd.ParallelEvents()).spike_times
""",
    "spikesde.RectifiedLinearEscape": """
escape = sd.RectifiedLinearEscape(slope=20.0, v_threshold=0.5)
escape.rate(jnp.array([0.0, 1.0]))   # [0.0, 10.0]: no spikes below v_threshold
neuron = sd.SLIF(escape=escape, alpha=0.0)
""",
    "spikesde.SLIF": """
neurons = sd.SLIF(1, input_current=1.5, mu_v=15.0, sigma_v=0.5, v_reset=1.4)
sd.simulate(neurons, t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16).spike_times   # (1, 16), +inf padded
""",
    "spikesde.SequentialEvents": """
network = sd.Network(sd.SLIF(2, input_current=[1.5, 0.5]), jnp.array([[0.0, 0.5], [0.0, 0.0]]))
sd.simulate(network, t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16, event_policy=sd.SequentialEvents()).spike_times
""",
    "spikesde.SetReset": """
neuron = sd.SLIF(reset_rule=sd.SetReset(0.0))   # V <- 0 after a spike
sd.SetReset(0.0).apply(jnp.array(1.0), jnp.array(2))   # 0.0
""",
    "spikesde.Solution": """
solution = sd.simulate(sd.SLIF(input_current=1.5), t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16)
solution.ys.shape, solution.state_names, solution.t_final   # (2, 3, 1): t0 and t1; V, I and the clock s
""",
    "spikesde.SubtractReset": """
neuron = sd.SLIF(reset_rule=sd.SubtractReset(1.4))   # the default: V <- V - v_reset at each spike
sd.SubtractReset(1.4).apply(jnp.array(1.0), jnp.array(2))   # two spikes at once: 1.0 - 2.8 = -1.8
""",
    "spikesde.experiments.score_run": """
scores = sd.experiments.score_run("runs/grasshopper", window="test")   # a folder written by recipes.grasshopper.run
""",
    "spikesde.likelihood.Protocol": """
protocol = sd.likelihood.Protocol(train=(0.0, 7.0), validation=(7.0, 8.0), test=(8.0, 10.0))
protocol.bin_widths   # (0.001, 0.0005): bits/spike at these bins
""",
    "spikesde.likelihood.log_likelihood": """
grid = sd.likelihood.EventGrid.from_spike_times([0.3, 0.7], t0=0.0, t1=1.0, dt=0.01)
sd.likelihood.log_likelihood(sd.SLIF(1, 1.5, mu_v=10.0, alpha=0.0, reset_rule=sd.SetReset(0.0)), grid)
""",
    "spikesde.neuron_clock_keys": """
keys = sd.neuron_clock_keys(jax.random.key(0), 10)   # neuron k's clocks, whatever the network size
keys.shape   # (10,)
""",
    "spikesde.recipes.grasshopper.GrasshopperConfig": """
config = sd.recipes.grasshopper.GrasshopperConfig(recording=1, train_end=8.0)   # configs/grasshopper.toml's defaults
""",
    "spikesde.recipes.grasshopper.load_run": """
run = sd.recipes.grasshopper.load_run("runs/grasshopper")   # a folder written by run
run["slif"], run["protocol"]
""",
    "spikesde.recipes.grasshopper.plot_grasshopper": """
run = sd.recipes.grasshopper.load_run("runs/grasshopper")   # the figure run draws: grasshopper.png
""",
    "spikesde.recipes.grasshopper.results_table": """
import json, pathlib
results = json.loads(pathlib.Path("runs/grasshopper/results.json").read_text())   # written by run
print(sd.recipes.grasshopper.results_table(results))   # Markdown: bits/spike and Gamma of the SLIF and the GLM
""",
    "spikesde.recipes.grasshopper.run": """
import pathlib
config = sd.recipes.grasshopper.GrasshopperConfig(recording=1)
results = sd.recipes.grasshopper.run(config, pathlib.Path("runs/grasshopper"))   # minutes: select, fit, score, plot
""",
    "spikesde.recipes.grasshopper.select_glm": """
trains = sd.datasets.read_grasshopper(1)
config, protocol = sd.recipes.grasshopper.GrasshopperConfig(), sd.likelihood.Protocol()
settings, scores, fits = sd.recipes.grasshopper.select_glm(trains, config, protocol)   # minutes
""",
    "spikesde.recipes.grasshopper.select_slif": """
trains = sd.datasets.read_grasshopper(1)
config, protocol = sd.recipes.grasshopper.GrasshopperConfig(), sd.likelihood.Protocol()
selected = sd.recipes.grasshopper.select_slif(trains, config, protocol)   # minutes
""",
    "spikesde.reference_simulate": """
path = sd.FineGridBrownian(jax.random.key(7), t0=0.0, t1=1.0, dt=0.01, shape=(2, 1))   # (V, I) x 1 neuron
reference = sd.reference_simulate(sd.SLIF(input_current=1.5, sigma_v=0.3), t0=0.0, t1=1.0, dt=0.01,
                                  key=jax.random.key(0), max_spikes=16, brownian=path)
reference.spike_times   # agrees with sd.simulate on the same path
""",
    "spikesde.simulate": """
solution = sd.simulate(sd.SLIF(input_current=1.5, sigma_v=0.5), t0=0.0, t1=1.0, dt=0.01, key=jax.random.key(0), max_spikes=16)
solution.spike_times, solution.spike_counts, solution.overflow   # (1, 16), (1,), (1,)
""",
}
