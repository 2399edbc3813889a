"""Data sets generated in the package (no download)."""

from .yinyang import CLASS_NAMES, YinYang, encode_first_spike_times, yinyang, yinyang_class
