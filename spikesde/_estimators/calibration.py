r"""Evaluation of probabilistic classifiers: accuracy, log-likelihood, expected calibration error."""

import numpy as np
from jaxtyping import ArrayLike


def expected_calibration_error(probabilities: ArrayLike, labels: ArrayLike, *, bins: int = 10) -> float:
    r"""``ECE = sum_b (n_b / n) |accuracy_b - confidence_b|`` over ``bins`` equal-width bins of the
    confidence ``max_c p_c`` (Guo et al. 2017).

    Arguments:
        probabilities: ``(n, C)`` predicted class probabilities.
        labels: ``(n,)`` true classes.
        bins: number of confidence bins.

    Example:
        ```python
        probabilities = jnp.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
        sd.estimators.expected_calibration_error(probabilities, jnp.array([0, 1, 1]), bins=10)
        ```
    """
    probabilities, labels = np.asarray(probabilities, float), np.asarray(labels)
    if probabilities.ndim != 2 or labels.shape != probabilities.shape[:1]:
        raise ValueError(f"probabilities must be (n, C) and labels (n,), got {probabilities.shape} and {labels.shape}")
    if bins < 1:
        raise ValueError(f"bins must be positive, got {bins}")
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(total)


def classification_metrics(probabilities: ArrayLike, labels: ArrayLike, predictions: ArrayLike | None = None) -> dict:
    """``accuracy`` (of ``predictions``, default the most probable class), ``log_likelihood``
    (mean ``log p_label``, floored at ``log 1e-12``) and ``ece``.

    Example:
        ```python
        probabilities = jnp.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
        sd.estimators.classification_metrics(probabilities, jnp.array([0, 1, 1]))   # accuracy 2/3, log_likelihood, ece
        ```
    """
    probabilities, labels = np.asarray(probabilities, float), np.asarray(labels)
    predictions = probabilities.argmax(axis=1) if predictions is None else np.asarray(predictions)
    picked = probabilities[np.arange(len(labels)), labels]
    return {
        "accuracy": float(np.mean(predictions == labels)),
        "log_likelihood": float(np.mean(np.log(np.maximum(picked, 1e-12)))),
        "ece": expected_calibration_error(probabilities, labels),
    }
