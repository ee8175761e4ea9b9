"""Fit each bundled curve with the default settings: wall time, fit error and bound tightness.

Prints, per data file: points, wall time of the whole ``fit`` (reading excluded; training, freezing,
certified bound and empirical estimate included), RMSE, R², the certified bound, the largest tangent
found, and the tightness ``lipschitz_bound / lipschitz_empirical``. Issue targets on the real curves:
wall time <= 10 s on 2 CPU cores, tightness <= 1.25.

    python benchmarks/fit_real_curves.py [--threads 2] [--seeds 1] [--all] [--only FILE]
                                         [--activation groupsort|tanh|softplus] [--unconstrained]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from pathlib import Path

import torch

import snsurrogate

DATA = Path(__file__).resolve().parents[1] / "data"
REAL = {
    "al6061t6_uniaxial_tension_CA-RD-01.csv": dict(strain=["engineering_strain"], stress=["engineering_stress_MPa"]),
    "treloar1944_uniaxial_tension.csv": dict(stretch="stretch", stress=["nominal_stress_MPa"]),
}
SYNTHETIC = {
    "synthetic_cubic_1d.csv": dict(strain=["strain"], stress=["stress_MPa"]),
    "synthetic_neohookean_uniaxial.csv": dict(stretch="stretch", stress=["nominal_stress_MPa"]),
    "synthetic_plane_strain.csv": dict(strain=["exx", "eyy", "gxy"], stress=["sxx_MPa", "syy_MPa", "sxy_MPa"]),
    "synthetic_3d.csv": dict(strain=["exx", "eyy", "ezz", "gyz", "gxz", "gxy"],
                             stress=["sxx_MPa", "syy_MPa", "szz_MPa", "syz_MPa", "sxz_MPa", "sxy_MPa"]),
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seeds", type=int, default=1, help="fit with seeds 0..N-1 and report medians")
    p.add_argument("--all", action="store_true", help="also the synthetic data sets")
    p.add_argument("--unconstrained", action="store_true", help="fit unconstrained models instead")
    p.add_argument("--activation", default="groupsort", choices=("groupsort", "tanh", "softplus"))
    p.add_argument("--optimizer", default="adam+lbfgs", choices=("adam+lbfgs", "adam", "lbfgs"))
    p.add_argument("--only", metavar="FILE", help="just this data file (a name in data/)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    cases = {**REAL, **(SYNTHETIC if args.all or args.only else {})}
    if args.only:
        cases = {args.only: cases[args.only]}
    kind = "unconstrained" if args.unconstrained else "spectrally normalized"
    kind += f" ({args.activation} 32x32x32, {args.optimizer})"
    print(f"{kind}; {args.threads} threads; torch {torch.__version__}; median over {args.seeds} seed(s)")
    print(f"{'data':<38} {'n':>5} {'seconds':>8} {'RMSE':>10} {'R2':>8} {'L_cert':>10} {'L_found':>10} {'L/found':>8}")
    for name, cols in cases.items():
        data = snsurrogate.read_curves(DATA / name, **cols)
        rows = []
        for seed in range(args.seeds):
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                model = snsurrogate.fit(data, seed=seed, unconstrained=args.unconstrained,
                                        activation=args.activation, optimizer=args.optimizer)
            s = model.summary
            rows.append((time.perf_counter() - t0, s["rmse"], s["r2"], s["lipschitz_bound"], s["lipschitz_empirical"],
                         s["tightness"]))
        med = [statistics.median(r[i] for r in rows) for i in range(6)]
        unit = data.stress_unit
        print(f"{name:<38} {data.n_points:>5} {med[0]:>8.1f} {med[1]:>7.3g} {unit:<3}{med[2]:>7.4f} "
              f"{med[3]:>10.4g} {med[4]:>10.4g} {med[5]:>8.3f}")


if __name__ == "__main__":
    main()
