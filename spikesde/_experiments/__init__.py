"""Experiments from configuration files: schema, sweeps, plots, the command line."""
