"""Spike-train file formats: size on disk and save / load time (the README's io table).

Data: 200 trials x 50 neurons of Poisson spike trains at 20 Hz on [0, 2] s (about 400,000 spikes),
two covariates (a (200, 100) stimulus and a (200,) label). Each format is saved and loaded
``REPEATS`` times, formats interleaved (npz, nwb, mat, npz, ...); min and median are reported, and
every load is checked to give back the data bit-identically.
Run: python benchmarks/io_formats.py   (writes benchmarks/results/io_formats.json)
"""

import json
import pathlib
import tempfile
import time

import numpy as np

import spikesde as sd

TRIALS, NEURONS, RATE, T1, REPEATS = 200, 50, 20.0, 2.0, 5
SUFFIXES = (".npz", ".nwb", ".mat")


def data() -> sd.SpikeTrains:
    rng = np.random.default_rng(0)
    times = [[np.sort(rng.uniform(0.0, T1, rng.poisson(RATE * T1))) for _ in range(NEURONS)] for _ in range(TRIALS)]
    covariates = {"stimulus": rng.normal(size=(TRIALS, 100)), "label": rng.integers(0, 4, TRIALS)}
    return sd.SpikeTrains(times, 0.0, T1, covariates=covariates)


def main():
    trains = data()
    timings = {suffix: {"save": [], "load": []} for suffix in SUFFIXES}
    sizes = {}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(REPEATS):
            for suffix in SUFFIXES:
                path = pathlib.Path(folder) / f"data{suffix}"
                start = time.perf_counter()
                sd.save_spike_trains(trains, path)
                middle = time.perf_counter()
                again = sd.load_spike_trains(path)
                end = time.perf_counter()
                assert again == trains, suffix
                timings[suffix]["save"].append(middle - start)
                timings[suffix]["load"].append(end - middle)
                sizes[suffix] = path.stat().st_size
    spikes = int(trains.spike_counts().sum())
    rows = []
    print(f"{TRIALS} trials x {NEURONS} neurons, {spikes} spikes; times in s (machine loaded: compare rows, not absolutes)")
    print("| format | size (MB) | bytes/spike | save min | save median | load min | load median | round trip |")
    print("|---|---|---|---|---|---|---|---|")
    for suffix in SUFFIXES:
        save, load = np.array(timings[suffix]["save"]), np.array(timings[suffix]["load"])
        row = {
            "format": suffix, "bytes": sizes[suffix], "bytes_per_spike": sizes[suffix] / spikes,
            "save_min": save.min(), "save_median": float(np.median(save)),
            "load_min": load.min(), "load_median": float(np.median(load)), "bit_identical": True,
        }  # fmt: skip
        rows.append(row)
        print(
            f"| {suffix} | {sizes[suffix] / 1e6:.2f} | {row['bytes_per_spike']:.1f} | {row['save_min']:.3f} | "
            f"{row['save_median']:.3f} | {row['load_min']:.3f} | {row['load_median']:.3f} | bit-identical |"
        )
    out = pathlib.Path(__file__).parent / "results" / "io_formats.json"
    out.parent.mkdir(exist_ok=True)
    meta = {"trials": TRIALS, "neurons": NEURONS, "spikes": spikes, "repeats": REPEATS}
    out.write_text(json.dumps({"setup": meta, "rows": rows}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
