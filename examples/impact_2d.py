"""A plane-strain block hit by a punch, with a certified law fitted to multiaxial data.

    python examples/impact_2d.py [--out out/impact_2d]

Fits a spectrally normalized law to ``data/synthetic_plane_strain.csv`` (strains exx, eyy, gxy with
engineering shear; stresses sxx, syy, sxy in MPa), then runs a 40 mm x 20 mm plane-strain block
(quad4 40 x 20, density 1.2e-9 t/mm^3): a punch moves the top edge over 0 <= x <= 10 mm down at
2e4 mm/s (ramp 5e-6 s, hold, release at 2e-5 s), the bottom edge is fixed in y and the left edge in
x (symmetry plane), until t = 6e-5 s with dt = "auto" (0.05 x the certified step for a nonlinear law). Prints the step,
the largest element strain sqrt(e:e) reached (the data cover sqrt(e:e) <= 0.05) and the energy
balance error. Open ``results.pvd`` in ParaView. Units: mm, s, t, MPa (force N, energy mJ).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import snsurrogate

DATA = Path(__file__).resolve().parents[1] / "data" / "synthetic_plane_strain.csv"
SIZE = (40.0, 20.0)  # mm
DENSITY = 1.2e-9  # t/mm^3
END = 6.0e-5  # s


def block_case(model: Path, divisions: tuple[int, int]) -> dict:
    """The punch impact case for a fitted plane-strain model file: mm, s, t, MPa."""
    lx, ly = SIZE
    return {
        "units": {"length": "mm", "time": "s", "mass": "t", "stress": "MPa", "force": "N", "energy": "mJ"},
        "mesh": {"generate": "rectangle", "size": [lx, ly], "divisions": list(divisions), "element": "quad4"},
        "material": {"model": str(model), "density": DENSITY},
        "boundary": [
            {"name": "punch", "type": "velocity", "nodes": {"x": [0.0, 10.0], "y": ly}, "components": ["y"],
             "value": [-2.0e4], "amplitude": [[0.0, 0.0], [5.0e-6, 1.0], [1.5e-5, 1.0], [2.0e-5, 0.0]]},  # mm/s, s
            {"name": "base", "type": "fixed", "nodes": {"group": "bottom"}, "components": ["y"]},
            {"name": "symmetry", "type": "fixed", "nodes": {"group": "left"}, "components": ["x"]},
        ],
        "time": {"end": END, "dt": "auto"},
        "output": {"frames": 12, "progress": False},
    }


def run(out: Path, epochs: int = 1000, polish_epochs: int = 200, hidden: tuple[int, ...] = (32, 32, 32),
        divisions: tuple[int, int] = (40, 20)) -> dict:
    """Fit, save and run into the folder ``out``; return the numbers the script prints."""
    data = snsurrogate.read_curves(DATA, strain=["exx", "eyy", "gxy"], stress=["sxx_MPa", "syy_MPa", "sxy_MPa"])
    model = snsurrogate.fit(data, hidden=hidden, epochs=epochs, polish_epochs=polish_epochs)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "plane_strain.pt"
    model.save(path)
    result = snsurrogate.simulate(block_case(path, divisions), out / "run", progress=False, keep_frames=True)
    # Tensor norm sqrt(e:e) of the plane strain (exx, eyy, gxy = 2 exy): exx^2 + eyy^2 + gxy^2 / 2.
    norms = [np.sqrt(e[:, 0] ** 2 + e[:, 1] ** 2 + 0.5 * e[:, 2] ** 2).max() for _, e, _ in result.snapshots]
    s = result.summary
    return {
        "n_points": data.n_points,
        "rmse_MPa": model.summary["rmse"],
        "lipschitz_bound_MPa": model.lipschitz_bound,
        "model_file": str(path),
        "n_elements": s["n_elements"],
        "stable": s["stable"],
        "steps": s["steps"],
        "dt_s": s["dt"],
        "dt_certified_s": s["dt_certified"],
        "end_s": END,
        "max_strain_norm": float(max(norms)),
        "energy_error": s["energy_error"],
        "pvd": str(result.out_dir / "results.pvd"),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("out/impact_2d"))
    args = p.parse_args()
    r = run(args.out)
    print(f"fitted {r['n_points']} points, RMSE {r['rmse_MPa']:.3g} MPa, certified bound L = "
          f"{r['lipschitz_bound_MPa']:.6g} MPa per unit strain")
    print(f"{r['n_elements']} elements: {r['steps']} steps of dt = {r['dt_s']:.6g} s (certified "
          f"{r['dt_certified_s']:.6g} s) to t = {r['end_s']:.3g} s, {'stable' if r['stable'] else 'UNSTABLE'}")
    err = "n/a" if r["energy_error"] is None else f"{r['energy_error']:.3g}"
    print(f"largest element strain sqrt(e:e) = {r['max_strain_norm']:.4g} (data up to 0.05); "
          f"energy balance error {err}")
    print(f"open {r['pvd']} in ParaView")


if __name__ == "__main__":
    main()
