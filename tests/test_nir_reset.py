"""Reset rules and escape functions through NIR: SetReset exported as NIR's v_reset exactly,
SubtractReset as v_threshold - amount, both read back as the same rule; the exponential escape's own
threshold exported; NoReset, non-exponential escapes and chip-less resets refused by name."""

import jax.numpy as jnp
import numpy as np
import pytest

import spikesde
from spikesde._hardware import from_nir, read_nir, to_loihi, to_nir, write_nir

nir = pytest.importorskip("nir")


def _reset_agrees(a, b, v):
    """``a.reset`` and ``b.reset`` give the same V after one spike of each neuron from ``V = v``."""
    y = jnp.stack([jnp.asarray(v), jnp.zeros_like(v), jnp.zeros_like(v)])
    fired = jnp.ones(v.shape, bool)
    np.testing.assert_array_equal(np.asarray(a.reset(y, fired, jnp.ones_like(v))[0]), np.asarray(b.reset(y, fired, jnp.ones_like(v))[0]))


def test_set_reset_is_nir_v_reset_exactly_and_reads_back(tmp_path):
    values = np.array([0.0, -0.3], np.float32)
    slif = spikesde.SLIF(2, 1.5, reset_rule=spikesde.SetReset(values))
    node = to_nir(slif).nodes["neurons"]
    np.testing.assert_array_equal(node.v_reset, values.astype(np.float64))  # main wrote v_threshold (1.0)
    assert node.metadata["spikesde_reset"] == "SetReset"
    write_nir(slif, tmp_path / "set.nir")
    back = read_nir(tmp_path / "set.nir").neuron
    assert isinstance(back.reset_rule, spikesde.SetReset)
    np.testing.assert_array_equal(np.asarray(back.reset_rule.value), values)
    _reset_agrees(slif, back, jnp.array([1.7, 1.2]))  # V after a spike: 0 and -0.3 whatever V was


def test_subtract_reset_is_threshold_minus_amount_and_reads_back():
    slif = spikesde.SLIF(2, 1.5, reset_rule=spikesde.SubtractReset(np.array([0.5, 1.25])))
    node = to_nir(slif).nodes["neurons"]
    np.testing.assert_allclose(node.v_reset, [0.5, -0.25], rtol=0, atol=1e-15)  # v_threshold 1 minus the amounts
    np.testing.assert_array_equal(node.metadata["v_reset_subtract"], [0.5, 1.25])
    back = from_nir(to_nir(slif)).neuron
    assert back.reset_rule is None  # the default rule subtracting v_reset
    np.testing.assert_array_equal(np.asarray(back.v_reset), [0.5, 1.25])
    _reset_agrees(slif, back, jnp.array([1.0, 1.75]))


def test_a_lif_keeps_its_subtraction():
    node = to_nir(spikesde.LIF(1, 1.5, threshold=2.0, v_reset=1.5)).nodes["neurons"]
    np.testing.assert_array_equal(node.v_reset, [0.5])
    assert node.metadata["spikesde_reset"] == "SubtractReset"


def test_the_exponential_escape_exports_its_own_threshold():
    escape = spikesde.ExponentialEscape(beta=4.0, v_threshold=2.0, tau_s=0.5)
    slif = spikesde.SLIF(1, 1.5, escape=escape)
    node = to_nir(slif).nodes["neurons"]
    np.testing.assert_array_equal(node.v_threshold, [2.0])  # main wrote the unused default 1.0
    np.testing.assert_allclose(node.v_reset, [2.0 - 1.4], rtol=1e-7)  # float32 parameters; the default reset subtracts 1.4 (none given)
    back = from_nir(to_nir(slif)).neuron
    v = jnp.array([0.5, 1.9, 2.3])
    np.testing.assert_allclose(np.asarray(back.intensity(v)), np.exp(4.0 * (np.asarray(v) - 2.0)) / 0.5, rtol=1e-6)


@pytest.mark.parametrize(
    "neuron, match",
    [
        (spikesde.SLIF(1, 1.5, reset_rule=spikesde.NoReset()), "reset_rule=NoReset: NIR's LIF and CubaLIF set v to v_reset at every spike"),
        (spikesde.SLIF(1, 1.5, escape=spikesde.ExponentialLinearEscape(c1=0.0, c2=1.0, c3=0.25)), "escape=ExponentialLinearEscape: NIR's neurons fire at a hard threshold"),
        (spikesde.SLIF(1, 1.5, escape=spikesde.RectifiedLinearEscape(slope=10.0, v_threshold=1.0)), "escape=RectifiedLinearEscape: .* has no such limit in NIR"),
    ],
)
def test_options_nir_cannot_express_are_refused_by_name(neuron, match):
    with pytest.raises(ValueError, match=match):
        to_nir(neuron)


def test_mixed_reset_rules_in_one_graph_are_refused_on_import():
    set_node = to_nir(spikesde.SLIF(1, 1.5, reset_rule=spikesde.SetReset(0.0))).nodes["neurons"]
    graph = to_nir(spikesde.SLIF(1, 1.5))
    nodes = dict(graph.nodes) | {"other": set_node, "other_input": nir.Input(input_type=np.array([1])), "other_weights": nir.Linear(weight=np.zeros((1, 1)))}
    edges = list(graph.edges) + [("other_input", "other_weights"), ("other_weights", "other")]
    with pytest.raises(ValueError, match="mix reset rules .*'neurons': 'SubtractReset'.*'other': 'SetReset'"):
        from_nir(nir.NIRGraph(nodes=nodes, edges=edges, metadata=graph.metadata))


def test_to_loihi_refuses_a_reset_rule_it_cannot_program():
    with pytest.raises(ValueError, match="to_loihi: SLIF with reset_rule=SubtractReset cannot be programmed: the chip sets v to 0"):
        to_loihi(spikesde.SLIF(1, 1.5, reset_rule=spikesde.SubtractReset(1.0)), dt=1e-3)
    with pytest.raises(ValueError, match="reset_rule=NoReset"):
        to_loihi(spikesde.SLIF(1, 1.5, reset_rule=spikesde.NoReset()), dt=1e-3)
    with pytest.raises(TypeError, match="to_loihi converts LIF neurons"):  # the chip's reset, but escape noise has no chip form
        to_loihi(spikesde.SLIF(1, 1.5, reset_rule=spikesde.SetReset(0.0)), dt=1e-3)
