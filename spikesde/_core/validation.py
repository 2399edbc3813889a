"""Bad input becomes an error that names the culprit.

Models check their parameters in ``__check_init__`` with :func:`check_parameters`; ``simulate``
checks its grid and options with :func:`check_step_fits`, :func:`check_grid_rounding`,
:func:`check_count` and :func:`solve_dtype`. Values that are tracers (a model
built inside ``jit`` or ``grad``) cannot be inspected and are skipped: the run-time checks of the
solve (non-finite states, see :mod:`spikesde._core.report`) cover them.
"""

import jax
import jax.numpy as jnp
import numpy as np

#: What each domain admits, and the phrase the error uses.
_DOMAINS = {
    "finite": (lambda a: np.isfinite(a), "finite"),
    "nonnegative": (lambda a: np.isfinite(a) & (a >= 0), "finite and non-negative"),
    "positive": (lambda a: np.isfinite(a) & (a > 0), "finite and positive"),
}

#: The rounding of the grid points t0 + i dt must stay below this fraction of dt.
GRID_ROUNDING_TOLERANCE = 1e-2


def is_concrete(value) -> bool:
    """Whether ``value`` can be inspected now (not a tracer inside a transformation)."""
    return not isinstance(value, jax.core.Tracer)


def check_parameters(owner: str, domains: dict[str, str], values: dict[str, object]) -> None:
    """Raise a ValueError naming ``owner.name`` for the first concrete parameter outside its domain.

    Arguments:
        owner: the class name used in the message (e.g. ``"SLIF"``).
        domains: parameter name -> ``"finite"``, ``"nonnegative"`` or ``"positive"``.
        values: parameter name -> value (arrays or numbers; tracers are skipped).
    """
    for name, domain in domains.items():
        value = values[name]
        if value is None or not is_concrete(value):
            continue
        array = np.asarray(value)
        if np.isnan(array).any():
            raise ValueError(f"{owner}.{name} contains NaN")
        admits, phrase = _DOMAINS[domain]
        bad = ~admits(array)
        if bad.any():
            raise ValueError(f"{owner}.{name} must be {phrase}, got {array[bad].ravel()[0].item()!r}" + (f" (entry {np.argwhere(bad)[0].tolist()})" if array.ndim else ""))


def check_count(name: str, value, minimum: int = 1) -> int:
    """``value`` as an int, or a ValueError naming ``name`` if it is not an integer >= ``minimum``."""
    if isinstance(value, bool) or not is_concrete(value):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}") from None
    if not number.is_integer() or number < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(number)


def solve_dtype(dtype) -> jnp.dtype:
    """The floating dtype of a solve; asking for float64 without x64 enabled is an error, not a
    silent float32 run."""
    if dtype is None:
        return jnp.dtype(jnp.result_type(float))
    try:
        dtype = jnp.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype must be a floating dtype, got {dtype!r}") from None
    if not jnp.issubdtype(dtype, jnp.floating):
        raise ValueError(f"dtype must be a floating dtype, got {dtype}")
    if dtype.itemsize > jnp.dtype(jnp.result_type(float)).itemsize:
        raise ValueError(
            f"dtype={dtype} needs 64-bit JAX: call jax.config.update('jax_enable_x64', True) (or use "
            "`with jax.enable_x64(True):`) before simulating; without it the solve would silently run in float32"
        )
    return dtype


def check_step_fits(t0: float, t1: float, dt: float) -> None:
    """A step longer than the window would report spikes after ``t1``."""
    if dt > (t1 - t0) * (1 + 1e-9):
        raise ValueError(f"dt={dt} is longer than the window t1 - t0 = {t1 - t0}; use dt <= t1 - t0")


def check_grid_rounding(t0: float, t1: float, dt: float, dtype) -> None:
    """The grid points ``t0 + i dt`` must be representable in ``dtype``: rounded by more than
    ``GRID_ROUNDING_TOLERANCE * dt``, they give step lengths (and so spike times and counts) that
    are wrong by that much."""
    spacing = float(np.spacing(np.asarray(max(abs(t0), abs(t1)), dtype=np.dtype(dtype))))
    if spacing > GRID_ROUNDING_TOLERANCE * dt:
        raise ValueError(
            f"t0={t0}: in {np.dtype(dtype)} times near {max(abs(t0), abs(t1)):g} are rounded to {spacing:.3g}, "
            f"more than {GRID_ROUNDING_TOLERANCE:g} of the step dt={dt}; shift the window towards 0 (t0=0) "
            "or solve in float64"
        )
