"""Spike-train data: containers, readers and writers."""
