"""A bounded while loop whose innermost blocks run without conditionals, for cheap reverse mode.

``equinox.internal.while_loop(kind="bounded")`` nests scans of ``lax.cond(pred, body, identity)``.
In reverse mode every iteration's ``cond`` then returns the cotangent of each differentiable array
the body closes over as a fresh array, added to the accumulator outside the ``cond``: for the event
core's ``n x n`` coupling that is an ``n x n`` outer product materialised, transposed and added at
every iteration, 5-36x the time of a clock-driven loop whose scan accumulates the same rank-one
updates in place (issue 8). Here the innermost ``leaf`` iterations of a block run unconditionally,
masked by the loop condition instead: the transposed block accumulates those cotangents in place,
and only the levels above (one conditional per ``leaf`` iterations) pay for a copy.
"""

import math
from collections.abc import Callable
from typing import TypeVar

import equinox.internal as eqxi
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
from jaxtyping import Array, Bool

_Carry = TypeVar("_Carry")


def masked_bounded_loop(
    cond_fun: Callable[[_Carry], Bool[Array, ""]],
    body_fun: Callable[[_Carry, Bool[Array, ""]], _Carry],
    init: _Carry,
    *,
    max_steps: int,
    is_buffer: _Carry,
    leaf: int = 32,
    max_base: int = 64,
    saved_names: tuple[str, ...] = (),
    first_steps: int | None = None,
) -> _Carry:
    """``while cond_fun(c): c = body_fun(c, True)``, at most ``max_steps`` iterations (rounded up to
    ``leaf * base**levels``), differentiable in forward and reverse mode, and under ``vmap``.

    Iterations run in blocks of ``leaf``; inside a block an iteration runs whether or not
    ``cond_fun`` holds, with ``active = cond_fun(c)``: ``body_fun(c, active)`` must leave its buffers
    unchanged where ``active`` is false (write to a spare slot), and every other leaf of the carry is
    kept by ``jnp.where(active, new, old)``. Blocks are nested ``base`` at a time in checkpointed
    scans (as few levels as keep each at most ``max_base`` wide: reverse mode recomputes the forward
    pass once per level and keeps at most ``levels * max_base`` carries), each entered only while
    the condition holds for some sample (``unvmap_any``), so the cost follows the iterations done,
    plus at most ``leaf - 1`` masked ones. The innermost checkpointed level keeps, besides its
    carries, the values the body names in ``saved_names`` (``jax.ad_checkpoint.checkpoint_name``),
    one per iteration of a group (``max_base * leaf`` at most): the last recomputation of a block
    reads them instead of computing them again.

    Arguments:
        cond_fun: the loop condition (one boolean per sample under ``vmap``).
        body_fun: one iteration, given the carry and whether it is active.
        init: the initial carry.
        max_steps: a bound on the number of iterations.
        is_buffer: a pytree of booleans with the carry's structure: which leaves the body masks
            itself (large arrays written in place; a ``where`` would copy them every iteration).
        leaf: iterations per unconditional block.
        max_base: the most blocks (or groups of blocks) per level.
        saved_names: names of intermediate values of ``body_fun`` that reverse mode stores per
            iteration at the innermost checkpointed level rather than recomputes (values are
            unchanged: only what is stored and what is recomputed).
        first_steps: the number of iterations expected: the first ``first_steps`` (rounded up)
            run in a loop sized to them, with as few levels as they need, the rest (``max_steps``
            in all, each loop rounding up) in a second loop entered only if the condition still holds. A
            bound far above the iterations done then costs no extra level (reverse mode
            recomputes the forward pass once per level).
    """
    options = dict(is_buffer=is_buffer, leaf=leaf, max_base=max_base, saved_names=saved_names)
    if first_steps is not None and 0 < first_steps < max_steps:
        first = masked_bounded_loop(cond_fun, body_fun, init, max_steps=first_steps, **options)
        return masked_bounded_loop(cond_fun, body_fun, first, max_steps=max_steps - first_steps, **options)
    # As few checkpointed levels as allow at most max_base groups each: reverse mode recomputes the
    # forward pass once per level and stores up to levels * base carries.
    groups = max(1, math.ceil(max_steps / leaf))
    levels = 0 if groups == 1 else max(1, math.ceil(math.log(groups) / math.log(max_base) - 1e-9))
    base = math.ceil(groups ** (1 / levels) - 1e-9) if levels else 1
    while levels and base**levels < groups:
        base += 1

    def select(active, new, old):
        return jtu.tree_map(lambda buffer, a, b: a if buffer else jnp.where(active, a, b), is_buffer, new, old)

    def iteration(c, _):
        active = cond_fun(c)
        return select(active, body_fun(c, active), c), None

    def run(c, level):
        if level == 0:
            return jax.lax.scan(iteration, c, None, length=leaf)[0]

        def group(c, _):
            return jax.lax.cond(eqxi.unvmap_any(cond_fun(c)), lambda c: run(c, level - 1), lambda c: c, c), None

        # Only the innermost level stores named values: one per iteration of a group of blocks;
        # above it they would be stored for every iteration of the budget.
        policy = jax.checkpoint_policies.save_only_these_names(*saved_names) if level == 1 and saved_names else None
        return jax.lax.scan(jax.checkpoint(group, prevent_cse=False, policy=policy), c, None, length=base)[0]

    return jax.lax.cond(eqxi.unvmap_any(cond_fun(init)), lambda c: run(c, levels), lambda c: c, init)
