"""SN against unconstrained at finite strain: the plate with a hole pulled to stretch 3 with both kinds of Treloar law.

    python examples/rubber_sn_vs_unconstrained.py [OUT_DIR] [--seeds N] [--end SECONDS]

Fits Treloar's three test modes (``data/treloar1944_*.csv``) twice: the certified law (convex ridge network by
non-negative least squares; deterministic) and, for each seed, the unconstrained counterpart (a free 32x32x32 tanh
MLP of ln λ by Adam, :mod:`snsurrogate.hyperelastic.unconstrained`; its certificate is only ``|w''| <= L/λ``, the
product of its layer norms). Each law runs the case ``examples/finite_strain/plate_hole_treloar.toml`` twice:

- ``certified``: ``dt = "auto"``, the step recomputed at every state from the law's certified ``a(F)``;
- ``nominal``: 0.9 x the certified step of the undeformed mesh (``F = I``: the initial stiffness) held constant,
  the step an engineer would take from the small-strain moduli (``allow_unsafe_dt``).

Prints one row per run (fit R² per mode, smallest ``w''`` found, stable, steps, step range, energy drift, wall
time) and writes them to ``OUT_DIR/summary.json``. Units: mm, s, t, MPa.
"""

from __future__ import annotations

import argparse
import json
import time
import tomllib
from pathlib import Path

import snsurrogate

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "examples" / "finite_strain" / "plate_hole_treloar.toml"
NOMINAL = 0.9  # the nominal step: this factor x the certified step at F = I, held constant
FILES = {"uniaxial": "treloar1944_uniaxial_tension.csv", "equibiaxial": "treloar1944_equibiaxial_tension.csv",
         "pure_shear": "treloar1944_pure_shear.csv"}


def _run(model: Path, out: Path, dt, end: float | None) -> dict:
    case = tomllib.loads(CASE.read_text())
    case["material"]["model"] = str(model)
    case["time"]["dt"] = dt
    case["time"]["allow_unsafe_dt"] = dt != "auto"
    case["output"] = {"frames": 4, "progress": False}
    if end is not None:
        case["time"]["end"] = end
    return dict(snsurrogate.simulate(snsurrogate.load_case(case, base_dir=out), out, progress=False).summary)


def run(out: str | Path = "out/rubber_sn_vs_unconstrained", seeds: int = 2, end: float | None = None,
        epochs: int = 3000) -> list[dict]:
    """Fit, simulate, and return one record per run (module docstring)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    curves = [snsurrogate.read_test(ROOT / "data" / f, m, stretch=["stretch"], stress=["nominal_stress_MPa"])
              for m, f in FILES.items()]
    laws = [("sn", None, snsurrogate.fit_tests(curves))]
    for seed in range(seeds):
        opts = snsurrogate.HyperelasticOptions(unconstrained=True, seed=seed, epochs=epochs)
        laws.append(("unconstrained", seed, snsurrogate.fit_tests(curves, opts)))
    rows = []
    for kind, seed, fit in laws:
        tag = kind if seed is None else f"{kind}_seed{seed}"
        fit.law.save(out / f"{tag}.pt")
        record = {"kind": kind, "seed": seed, "r2": {m: round(v.r2, 5) for m, v in fit.modes.items()},
                  "bound": fit.law.lipschitz_bound, "smallest_w2": fit.law.summary["smallest_w2"]}
        certified = None
        for step in ("certified", "nominal"):
            dt = "auto" if step == "certified" else NOMINAL * certified["dt_certified"]
            t0 = time.perf_counter()
            s = _run(out / f"{tag}.pt", out / f"{tag}_{step}", dt, end)
            certified = s if step == "certified" else certified
            rows.append({**record, "step": step, "stable": s["stable"], "steps": s["steps"],
                         "dt_min": s.get("dt_min", s["dt"]), "dt_max": s.get("dt_max", s["dt"]),
                         "energy_drift": s["energy_drift"], "wall_seconds": time.perf_counter() - t0,
                         "unstable_at": s.get("unstable_at")})
    (out / "summary.json").write_text(json.dumps({"units": {"dt": "s", "bound": "MPa", "smallest_w2": "MPa",
                                                            "wall_seconds": "s"}, "runs": rows}, indent=2))
    return rows


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", nargs="?", default="out/rubber_sn_vs_unconstrained")
    p.add_argument("--seeds", type=int, default=2, help="unconstrained fits (seeds 0 .. N-1; default 2)")
    p.add_argument("--end", type=float, default=None, help="end time [s] (default: the case's 2 ms, stretch 3)")
    p.add_argument("--epochs", type=int, default=3000, help="Adam epochs of each unconstrained fit (default 3000)")
    a = p.parse_args()
    print(f"{'law':<22} {'R² UT/ET/PS':<26} {'min w″ [MPa]':>12} {'step':<10} {'stable':<7} {'steps':>7} "
          f"{'dt range [s]':<21} {'drift':>9} {'wall [s]':>8}")
    for r in run(a.out, a.seeds, a.end, a.epochs):
        name = r["kind"] if r["seed"] is None else f"{r['kind']} seed {r['seed']}"
        drift = "n/a" if r["energy_drift"] is None else f"{r['energy_drift']:.2g}"
        print(f"{name:<22} {'/'.join(f'{v:.4f}' for v in r['r2'].values()):<26} {r['smallest_w2']:>12.4g} "
              f"{r['step']:<10} {str(r['stable']):<7} {r['steps']:>7} {r['dt_min']:.3g} .. {r['dt_max']:.3g}"
              f"{'':<3} {drift:>9} {r['wall_seconds']:>8.1f}")
