"""Checking a model's pathwise gradients against central finite differences on fixed noise."""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray


class GradientCheck(eqx.Module):
    """The result of :func:`check_gradients`, for outputs ``f`` and a direction ``v``.

    Fields:
        forward: ``J v`` by forward-mode autodiff.
        reverse: ``J v`` by reverse-mode autodiff (one vector-Jacobian product per output).
        finite_difference: ``(f(theta + eps v) - f(theta - eps v)) / (2 eps)``.
        compared: outputs finite at ``theta`` and at both perturbed points, and with an unchanged
            set of finite outputs (a spike that appears or disappears has no derivative).
        relative_error: ``|reverse - finite_difference| / max(|finite_difference|, scale)`` on the
            compared outputs (NaN elsewhere), with ``scale`` a small fraction of the typical size.
        rtol, max_rtol, routes_rtol: the tolerances of :attr:`passed` (see :func:`check_gradients`).

    The verdict is :attr:`passed`; ``str(check)`` says what was compared and which bound failed, and
    :meth:`assert_passed` raises an ``AssertionError`` with that text.

    Example:
        ```python
        with jax.enable_x64(True):   # fn(model) is usually spike times of sd.simulate with a fixed key
            check = sd.check_gradients(lambda c: c(jnp.linspace(0.0, 1.0, 5)), sd.SinusoidalCurrent(1.5, 1.0, 2.0),
                                       key=jax.random.key(1))
        print(check)          # gradient check passed: 5 outputs compared; relative error median ...
        check.assert_passed() # raises AssertionError (with the figures) if not
        ```
    """

    forward: Float[Array, "..."]
    reverse: Float[Array, "..."]
    finite_difference: Float[Array, "..."]
    compared: Array
    relative_error: Float[Array, "..."]
    rtol: float = eqx.field(static=True, default=1e-4)
    max_rtol: float = eqx.field(static=True, default=3e-2)
    routes_rtol: float = eqx.field(static=True, default=1e-8)

    @property
    def num_compared(self) -> int:
        return int(np.sum(np.asarray(self.compared)))

    @property
    def passed(self) -> bool:
        """At least one output compared, median relative error ``<= rtol``, largest ``<= max_rtol``,
        and forward and reverse mode agreeing to ``routes_rtol``."""
        return not self._failures()

    def _failures(self) -> list[str]:
        if self.num_compared == 0:
            return ["no output was finite at theta and at both perturbed points"]
        bounds = [("median relative error", self.median_relative_error, self.rtol),
                  ("largest relative error", self.max_relative_error, self.max_rtol),
                  ("forward vs reverse", self.routes_agree, self.routes_rtol)]  # fmt: skip
        return [f"{name} {value:.2e} > {bound:.0e}" for name, value, bound in bounds if not value <= bound]

    def __str__(self) -> str:
        failures = self._failures()
        if self.num_compared == 0:
            return f"gradient check FAILED: {failures[0]}"
        figures = (f"{self.num_compared} outputs compared; relative error median {self.median_relative_error:.2e}, "
                   f"largest {self.max_relative_error:.2e}; forward vs reverse {self.routes_agree:.2e}")  # fmt: skip
        return f"gradient check {'FAILED (' + '; '.join(failures) + ')' if failures else 'passed'}: {figures}"

    def assert_passed(self) -> None:
        """Raise an ``AssertionError`` with :meth:`__str__`'s text unless :attr:`passed`."""
        if not self.passed:
            raise AssertionError(str(self))

    @property
    def max_relative_error(self) -> float:
        errors = np.asarray(self.relative_error)[np.asarray(self.compared)]
        return float(errors.max()) if errors.size else float("nan")

    @property
    def median_relative_error(self) -> float:
        errors = np.asarray(self.relative_error)[np.asarray(self.compared)]
        return float(np.median(errors)) if errors.size else float("nan")

    @property
    def routes_agree(self) -> float:
        """Largest relative difference between the forward and reverse routes."""
        compared = np.asarray(self.compared)
        forward, reverse = np.asarray(self.forward)[compared], np.asarray(self.reverse)[compared]
        return float(np.max(np.abs(forward - reverse) / np.maximum(np.abs(reverse), 1e-300))) if forward.size else 0.0


def check_gradients(
    fn: Callable[[Any], Float[Array, "..."]],
    model: Any,
    *,
    parameters: Callable[[Any], Any] | None = None,
    direction: Any = None,
    key: PRNGKeyArray | None = None,
    eps: float = 1e-6,
    rtol: float = 1e-4,
    max_rtol: float = 3e-2,
    routes_rtol: float = 1e-8,
) -> GradientCheck:
    """Compare autodiff with central finite differences of ``fn`` along one direction.

    ``fn(model)`` must be deterministic (hold the noise fixed: the same ``key`` in every call) and
    return an array, e.g. spike times; infinite entries (padding) are skipped. Run it in float64
    (``jax.enable_x64``): with ``eps = 1e-6`` the finite differences are then accurate to about
    ``1e-8`` relative.

    Arguments:
        fn: the function of the model to check.
        model: the point (an equinox Module or any pytree) at which to check.
        parameters: selects the part of ``model`` to perturb (e.g. ``lambda m: m.weights``);
            default: every inexact array.
        direction: the perturbation ``v``, a pytree like ``parameters(model)``; default a random
            normal direction from ``key``.
        key: random key for the default direction.
        eps: the finite-difference step.
        rtol: bound on the median relative error (over the compared outputs) for a pass.
        max_rtol: bound on the largest relative error. Looser than ``rtol``: on a noisy path an
            output whose event moves across a grid step between ``theta +- eps v`` sees a different
            Brownian increment, which the finite difference (not the derivative) picks up.
        routes_rtol: bound on the relative difference between forward and reverse mode, which
            compute the same derivative and agree to rounding.

    The defaults are the bounds this project's own tests hold every SLIF parameter to; a wrong
    derivative (a missing term) gives relative errors of order one.

    Example:
        ```python
        with jax.enable_x64(True):   # fn(model) is usually spike times of sd.simulate with a fixed key
            check = sd.check_gradients(lambda c: c(jnp.linspace(0.0, 1.0, 5)), sd.SinusoidalCurrent(1.5, 1.0, 2.0),
                                       key=jax.random.key(1))
        check.passed, check.max_relative_error   # True, about 1e-9
        ```
    """
    if jnp.result_type(float) != jnp.float64:
        raise ValueError("check_gradients needs float64: run it inside `with jax.enable_x64(True):`")
    model = jax.tree_util.tree_map(lambda x: x.astype(jnp.float64) if eqx.is_inexact_array(x) else x, model)
    select = parameters if parameters is not None else (lambda tree: tree)
    chosen, rest = eqx.partition(select(model), eqx.is_inexact_array)
    if direction is None:
        if key is None:
            raise ValueError("check_gradients needs a direction or a key to draw one")
        leaves, treedef = jax.tree_util.tree_flatten(chosen)
        keys = jax.random.split(key, max(len(leaves), 1))
        direction = jax.tree_util.tree_unflatten(
            treedef, [jax.random.normal(k, leaf.shape, leaf.dtype) for k, leaf in zip(keys, leaves)]
        )
    else:
        direction = eqx.filter(direction, eqx.is_inexact_array)
        if jax.tree_util.tree_structure(direction) != jax.tree_util.tree_structure(chosen):
            raise ValueError("direction must have the structure of the selected parameters")

    def function_of(values):
        if parameters is None:
            return fn(eqx.combine(values, rest))
        return fn(eqx.tree_at(select, model, eqx.combine(values, rest)))

    def shifted(scale):
        return jax.tree_util.tree_map(lambda x, v: x + scale * v, chosen, direction)

    value, forward = jax.jvp(function_of, (chosen,), (direction,))
    _, pullback = jax.vjp(function_of, chosen)
    basis = jnp.eye(value.size, dtype=value.dtype).reshape(value.size, *value.shape)
    cotangents = jax.vmap(lambda e: pullback(e)[0])(basis)
    reverse = jax.vmap(
        lambda g: sum(jnp.vdot(a, b) for a, b in zip(jax.tree_util.tree_leaves(g), jax.tree_util.tree_leaves(direction)))
    )(cotangents)
    reverse = reverse.reshape(value.shape)
    plus, minus = function_of(shifted(eps)), function_of(shifted(-eps))
    finite_difference = (plus - minus) / (2 * eps)
    compared = jnp.isfinite(value) & jnp.isfinite(plus) & jnp.isfinite(minus)
    safe = jnp.where(compared, finite_difference, 0.0)
    scale = 1e-6 * jnp.maximum(jnp.max(jnp.abs(safe)), 1e-300)
    relative = jnp.where(compared, jnp.abs(jnp.where(compared, reverse, 0.0) - safe) / jnp.maximum(jnp.abs(safe), scale), jnp.nan)
    return GradientCheck(forward=forward, reverse=reverse, finite_difference=finite_difference, compared=compared,
                         relative_error=relative, rtol=rtol, max_rtol=max_rtol, routes_rtol=routes_rtol)  # fmt: skip
