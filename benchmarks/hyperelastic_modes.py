"""Treloar's three test modes to one hyperelastic law: fit quality, certificate tightness, time, held-out
prediction, and the sensitivity to the bulk modulus and the smoothing, against a classical Ogden fit.

Prints
1. the joint fit (default options): R² and RMSE per mode, the certified bound L, the largest w'' over the
   data and their ratio (tightness), wall time (median of ``--repeats``, audit included);
2. every two-mode fit predicting the third (R² of the held-out mode);
3. K/μ = 20, 100, 1000 (default), 10000: R² per mode and the volume ratio J of uniaxial tension at λ = 7.6;
4. smoothing β = 0, 1e-11, 1e-10 (default), 1e-9: worst joint R², L, and pure shear predicted from UT + ET;
5. an incompressible 3-term Ogden model fitted to the same data with the same balanced weights
   (``scipy.optimize.least_squares`` from ``--starts`` random starts; the best kept), as a classical reference.

    python benchmarks/hyperelastic_modes.py [--threads 2] [--repeats 3] [--starts 30]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import scipy.optimize
import torch

import snsurrogate
from snsurrogate.hyperelastic import HyperelasticOptions, fit_tests

DATA = Path(__file__).resolve().parents[1] / "data"
FILES = {"uniaxial": "treloar1944_uniaxial_tension.csv", "equibiaxial": "treloar1944_equibiaxial_tension.csv",
         "pure_shear": "treloar1944_pure_shear.csv"}
LATERAL = {"uniaxial": lambda x: x ** -0.5, "equibiaxial": lambda x: x ** -2.0, "pure_shear": lambda x: 1 / x}


def r2(y, p):
    return 1 - float(((y - p) ** 2).sum()) / float(((y - y.mean()) ** 2).sum())


def ogden(curves, starts: int, seed: int = 0):
    """Best incompressible 3-term Ogden fit, P = Σ μ_p (λ^{α_p-1} - t^{α_p}/λ); returns (R² per mode, params)."""
    rng = np.random.default_rng(seed)

    def stress(theta, mode, x):
        t = LATERAL[mode](x)
        return sum(theta[2 * k] * (x ** (theta[2 * k + 1] - 1) - t ** theta[2 * k + 1] / x) for k in range(3))

    def residual(theta):
        return np.concatenate([(stress(theta, m, c.x) - c.stress) / np.sqrt(len(c.x) * (c.stress ** 2).mean())
                               for m, c in curves.items()])

    best = None
    for _ in range(starts):
        theta0 = np.concatenate([[rng.uniform(-1, 1), rng.uniform(-6, 8)] for _ in range(3)])
        try:
            sol = scipy.optimize.least_squares(residual, theta0, bounds=([-50, -12] * 3, [50, 12] * 3), max_nfev=4000)
        except (ValueError, FloatingPointError):
            continue
        if np.isfinite(sol.cost) and (best is None or sol.cost < best.cost):
            best = sol
    return {m: r2(c.stress, stress(best.x, m, c.x)) for m, c in curves.items()}, best.x


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--starts", type=int, default=30)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    curves = {m: snsurrogate.read_test(DATA / f, m, stretch=["stretch"], stress=["nominal_stress_MPa"])
              for m, f in FILES.items()}
    allc = list(curves.values())
    times = []
    for _ in range(a.repeats):
        t = time.perf_counter()
        res = fit_tests(allc)
        times.append(time.perf_counter() - t)
    law, s = res.law, res.law.summary
    print(f"1. joint fit of UT + ET + PS ({a.threads} threads, median of {a.repeats}): "
          f"{statistics.median(times):.2f} s")
    for m, v in res.modes.items():
        print(f"   {m:<12} R² {v.r2:.5f}  RMSE {v.rmse:.4f} MPa  ({v.n} points)")
    print(f"   L = {law.lipschitz_bound:.1f} MPa, largest w'' over the data {s['largest_w2_data']:.1f} MPa at "
          f"λ = {s['largest_w2_at']:.4f}, tightness {s['tightness']:.4f}; {law.arch.hidden[0]} ridges; "
          f"μ = {law.shear_modulus:.4f} MPa")
    print("2. fitted on two modes, the third predicted:")
    for held in FILES:
        r = fit_tests([c for m, c in curves.items() if m != held], predict_curves=[curves[held]])
        print(f"   {held:<12} R² {r.predicted[held].r2:.4f}  (fitted: "
              + ", ".join(f"{m} {v.r2:.5f}" for m, v in r.modes.items()) + ")")
    print("3. bulk modulus K/μ:")
    for ratio in (20, 100, 1000, 10000):
        r = fit_tests(allc, HyperelasticOptions(bulk_ratio=ratio))
        t = r.law.lateral_stretch("uniaxial", torch.tensor([7.6], dtype=torch.float64))
        print(f"   K/μ = {ratio:<6} " + ", ".join(f"{m} {v.r2:.5f}" for m, v in r.modes.items())
              + f"; J at uniaxial λ = 7.6: {float(7.6 * t[0] ** 2):.4f}")
    print("4. smoothing β:")
    for beta in (0.0, 1e-11, 1e-10, 1e-9):
        o = HyperelasticOptions(smoothing=beta)
        r = fit_tests(allc, o)
        q = fit_tests([curves["uniaxial"], curves["equibiaxial"]], o, predict_curves=[curves["pure_shear"]])
        print(f"   β = {beta:<6g} worst joint R² {min(v.r2 for v in r.modes.values()):.5f}, "
              f"L = {r.law.lipschitz_bound:7.1f} MPa, PS from UT + ET R² {q.predicted['pure_shear'].r2:.4f}")
    scores, theta = ogden(curves, a.starts)
    print(f"5. incompressible Ogden, 3 terms (best of {a.starts} starts): "
          + ", ".join(f"{m} {v:.5f}" for m, v in scores.items()))
    print("   μ_p, α_p = " + ", ".join(f"({theta[2 * k]:.4g}, {theta[2 * k + 1]:.4g})" for k in range(3)))


if __name__ == "__main__":
    main()
