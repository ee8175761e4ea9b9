"""Time the fit of a large curve (200,000 rows by default) by phase, with default options.

A smooth tensile-like curve (elastic rise, hardening) with Gaussian noise is written as a CSV file; the
script times reading (table and units), the data checks, and ``fit``'s phases (the ``auto`` Lipschitz
target, training on the sub-sample of ``FitOptions.max_points`` rows, evaluation: RMSE and R² on all
rows, the certified bound and the empirical tangent search), and prints them with the fit's RMSE and R².

    python benchmarks/large_curve.py [--rows 200000] [--threads 2] [--max-points 4096|all] [--epochs 1000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import snsurrogate
from snsurrogate.data import read_curves


def write_curve(path: Path, rows: int, seed: int = 0) -> None:
    """A noisy smooth curve of ``rows`` rows: 300 tanh(ε / 0.004) + 800 ε MPa, noise 0.5 MPa."""
    rng = np.random.default_rng(seed)
    e = np.linspace(0.0, 0.12, rows)
    s = 300.0 * np.tanh(e / 0.004) + 800.0 * e + rng.normal(0.0, 0.5, rows)
    s[0] = 0.0
    with path.open("w") as fh:
        fh.write("strain,stress_MPa\n")
        np.savetxt(fh, np.column_stack([e, s]), delimiter=",", fmt="%.8g")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=200_000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--max-points", default="default", help="FitOptions.max_points: an integer, 'all' or 'default'")
    p.add_argument("--epochs", type=int, default=None, help="Adam epochs (default: FitOptions' default)")
    p.add_argument("--polish-epochs", type=int, default=None)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    extra = {}
    if args.max_points != "default":
        extra["max_points"] = None if args.max_points == "all" else int(args.max_points)
    if args.epochs is not None:
        extra["epochs"] = args.epochs
    if args.polish_epochs is not None:
        extra["polish_epochs"] = args.polish_epochs
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "large.csv"
        write_curve(path, args.rows)
        t0 = time.perf_counter()
        ds = read_curves(path, strain=["strain"], stress=["stress_MPa"])
        t_read = time.perf_counter() - t0
        t0 = time.perf_counter()
        ds.check()
        t_check = time.perf_counter() - t0
        t0 = time.perf_counter()
        model = snsurrogate.fit(ds, device="cpu", **extra)
        t_fit = time.perf_counter() - t0
    s = model.summary
    print(f"{args.rows} rows, {args.threads} threads, options {extra or 'default'}")
    print(f"  read_curves (table, units, checks) {t_read:8.2f} s   of which the checks {t_check:6.2f} s")
    for name, seconds in s["timings"].items():
        print(f"  fit: {name:28s} {seconds:8.2f} s")
    print(f"  fit in all                        {t_fit:8.2f} s   ({s['epochs_run']} epochs; {s['stop_reason']})")
    print(f"  trained on {s['training_sample']}")
    print(f"  RMSE {s['rmse']:.4g} MPa (noise 0.5), R² {s['r2']:.6f}, L {s['lipschitz_bound']:.6g}, "
          f"tangent found {s['lipschitz_empirical']:.6g}")


if __name__ == "__main__":
    main()
