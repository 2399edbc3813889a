"""Gradient tools: forward-mode value and gradient, and finite-difference checks."""

from .check import GradientCheck, check_gradients
from .forward import forward_value_and_grad
