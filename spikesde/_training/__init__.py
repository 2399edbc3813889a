"""Training: fit, checkpoints, trackers."""
