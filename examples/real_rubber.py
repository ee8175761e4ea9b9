"""Treloar's rubber: a certified law fitted to a real tension test, then a bar pulled to a stretch of 6.5.

    python examples/real_rubber.py [--out out/real_rubber]

Fits a spectrally normalized law to Treloar's (1944) uniaxial tension data of vulcanised natural
rubber, ``data/treloar1944_uniaxial_tension.csv`` (stretch 1 to 7.6; nominal stress in MPa; the
strain is stretch - 1), then pulls a 100 mm rubber bar (density 0.93e-9 t/mm^3, 25 elements): left
end fixed, right end moving at 1e4 mm/s, ramped up over the first 10 % of the run, which ends at
5.5 x 100 mm / 1e4 mm/s / 0.95 so that the end has moved 550 mm (mean stretch 6.5). dt = "auto".
Prints the fit, the run and the largest nominal stress in the bar at the end. The data are tension
only: what the law does in compression is extrapolation. Units: mm, s, t, MPa.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

import fem
import snsurrogate

DATA = Path(__file__).resolve().parents[1] / "data" / "treloar1944_uniaxial_tension.csv"
LENGTH = 100.0  # mm
DENSITY = 0.93e-9  # t/mm^3
SPEED = 1.0e4  # mm/s
STRETCH = 6.5  # target mean stretch [-]


def run(out: Path, epochs: int = 1000, polish_epochs: int = 200, hidden: tuple[int, ...] = (32, 32, 32),
        divisions: int = 25) -> dict:
    """Fit, save and run into the folder ``out``; return the numbers the script prints."""
    data = snsurrogate.read_curves(DATA, stretch="stretch", stress=["nominal_stress_MPa"])
    model = snsurrogate.fit(data, hidden=hidden, epochs=epochs, polish_epochs=polish_epochs)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "treloar.pt"
    model.save(path)
    end = (STRETCH - 1.0) * LENGTH / SPEED / 0.95  # s: the ramp over 0.1 end costs 0.05 end of travel
    case = {
        "units": {"length": "mm", "time": "s", "mass": "t", "stress": "MPa", "force": "N", "energy": "mJ"},
        "mesh": {"generate": "line", "length": LENGTH, "divisions": divisions},
        "material": {"model": str(path), "density": DENSITY},
        "boundary": [
            {"name": "clamp", "type": "fixed", "nodes": {"group": "left"}},
            {"name": "pull", "type": "velocity", "nodes": {"group": "right"}, "components": ["x"],
             "value": [SPEED], "amplitude": [[0.0, 0.0], [0.1 * end, 1.0]]},  # mm/s, s
        ],
        "time": {"end": end, "dt": "auto"},
        "output": {"frames": 10, "progress": False},
    }
    result = snsurrogate.simulate(case, out / "run", progress=False, keep_frames=True)
    s = result.summary
    _, strain, stress = result.snapshots[-1]  # the last frame: element strain [-] and nominal stress [MPa]
    right = fem.generate.line(LENGTH, divisions).node_groups["right"]  # the pulled node of the case's mesh
    u_end = float(result.result.u[right, 0].mean()) if result.stable else float("nan")  # mm
    with torch.no_grad():
        at_zero = float(model(torch.zeros(1, 1))[0, 0])
    return {
        "n_points": data.n_points,
        "rmse_MPa": model.summary["rmse"],
        "lipschitz_bound_MPa": model.lipschitz_bound,
        "stress_at_zero_strain_MPa": at_zero,
        "model_file": str(path),
        "stable": s["stable"],
        "steps": s["steps"],
        "dt_s": s["dt"],
        "dt_certified_s": s["dt_certified"],
        "end_s": end,
        "end_displacement_mm": u_end,
        "mean_stretch": 1.0 + u_end / LENGTH,
        "strain": strain[:, 0].tolist(),  # per element, at the end
        "nominal_stress_MPa": stress[:, 0].tolist(),
        "max_strain": float(strain[:, 0].max()),
        "max_nominal_stress_MPa": float(stress[:, 0].max()),
        "max_data_stress_MPa": float(data.stress.max()),
        "energy_error": s["energy_error"],
        "pvd": str(result.out_dir / "results.pvd"),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("out/real_rubber"))
    args = p.parse_args()
    r = run(args.out)
    print(f"fitted {r['n_points']} points, RMSE {r['rmse_MPa']:.3g} MPa, certified bound L = "
          f"{r['lipschitz_bound_MPa']:.6g} MPa per unit strain")
    print(f"{r['steps']} steps of dt = {r['dt_s']:.6g} s (certified {r['dt_certified_s']:.6g} s) to t = "
          f"{r['end_s']:.6g} s, {'stable' if r['stable'] else 'UNSTABLE'}")
    print(f"end displacement {r['end_displacement_mm']:.5g} mm, mean stretch {r['mean_stretch']:.4g}; largest "
          f"element stretch {1 + r['max_strain']:.4g}")
    print(f"largest nominal stress at the end {r['max_nominal_stress_MPa']:.4g} MPa (largest in the data "
          f"{r['max_data_stress_MPa']:.4g} MPa)")
    print(f"results written to {r['pvd']}")


if __name__ == "__main__":
    main()
