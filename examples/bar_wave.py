"""A steel bar struck at one end: the explicit solver against the exact elastic wave.

    python examples/bar_wave.py [--out out/bar_wave]

Runs the case ``examples/cases/bar_impact.toml`` (linear-elastic steel, E = 200000 MPa, rho = 7.85e-9
t/mm^3, 100 mm long, 100 elements; the left end moves at v0 = 1000 mm/s from t = 0; dt = "auto" with
safety 1, i.e. the certified step h / c). Behind the wave front the stress is exactly -rho c v0 =
-sqrt(E rho) v0 and the front is at x = c t (c = sqrt(E / rho)); at Courant number 1, central
differences with lumped mass reproduce both. Units: mm, s, t, MPa.
"""

from __future__ import annotations

import argparse
import math
import tomllib
from pathlib import Path

import numpy as np

import fem
import snsurrogate

CASE = Path(__file__).resolve().parent / "cases" / "bar_impact.toml"


def run(out: Path, divisions: int = 100) -> dict:
    """Run the bar case with ``divisions`` elements into the folder ``out``; return the numbers the script prints."""
    with open(CASE, "rb") as fh:
        case = tomllib.load(fh)
    case["mesh"]["divisions"] = divisions
    case["output"]["progress"] = False
    case["output"].pop("probes", None)  # the probe at x = 25 mm is a node only for some divisions
    length = case["mesh"]["length"]  # mm
    E, rho = case["material"]["E"], case["material"]["density"]  # MPa, t/mm^3
    v0 = case["boundary"][0]["value"][0]  # mm/s, pushing into the bar
    c = math.sqrt(E / rho)  # mm/s
    analytic = -rho * c * v0  # MPa
    h = length / divisions  # mm

    result = snsurrogate.simulate(case, out, progress=False, keep_frames=True)
    t, _, stress = result.snapshots[-1]  # s, -, MPa: the last frame (at the end of the run)
    sxx = stress[:, 0]
    mesh = fem.generate.line(length, divisions)  # the mesh the case generates
    x_right = mesh.points[mesh.cells].max(axis=1)[:, 0]  # right node of each element, mm
    loaded = np.nonzero(np.abs(sxx) >= 0.5 * abs(analytic))[0]
    front = float(x_right[loaded].max()) if loaded.size else 0.0  # mm
    behind = x_right < c * t - 0.5 * h  # elements the front has passed completely (not the front element)
    computed = float(sxx[behind].mean())
    return {
        "stable": result.summary["stable"],
        "steps": result.summary["steps"],
        "dt_s": result.summary["dt"],
        "dt_certified_s": result.summary["dt_certified"],
        "h_over_c_s": h / c,
        "time_s": t,
        "element_size_mm": h,
        "wave_speed_mm_per_s": c,
        "stress_MPa": computed,
        "stress_analytic_MPa": analytic,
        "relative_error": float(np.max(np.abs(sxx[behind] - analytic)) / abs(analytic)),
        "n_elements_behind_front": int(behind.sum()),
        "front_mm": front,
        "front_analytic_mm": c * t,
        "energy_error": result.summary["energy_error"],
        "out_dir": str(out),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("out/bar_wave"))
    args = p.parse_args()
    r = run(args.out)
    print(f"{r['steps']} steps of dt = {r['dt_s']:.6g} s (certified {r['dt_certified_s']:.6g} s, h / c = "
          f"{r['h_over_c_s']:.6g} s), {'stable' if r['stable'] else 'UNSTABLE'}")
    print(f"stress behind the front {r['stress_MPa']:.6g} MPa, analytic -rho c v0 = {r['stress_analytic_MPa']:.6g} MPa "
          f"(largest relative error {r['relative_error']:.2e} over {r['n_elements_behind_front']} elements)")
    print(f"front at x = {r['front_mm']:.4g} mm at t = {r['time_s']:.6g} s; c t = {r['front_analytic_mm']:.4g} mm "
          f"(c = {r['wave_speed_mm_per_s']:.6g} mm/s, element size {r['element_size_mm']:.4g} mm)")
    print(f"results written to {args.out / 'results.pvd'}")


if __name__ == "__main__":
    main()
