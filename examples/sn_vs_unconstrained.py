"""A spectrally normalized (SN) and an unconstrained law fitted to the same data, each run at its certified step.

    python examples/sn_vs_unconstrained.py [--out out/sn_vs_unconstrained]

Fits both models (same seed, hidden widths and epochs) to the synthetic hardening cubic
``data/synthetic_cubic_1d.csv`` (stress in MPa), saves them, and runs the same 1-D bar impact with
each: a 100 mm bar (density 1.2e-9 t/mm^3), right end fixed, left end pulled at -6.5e4 mm/s (ramped
up over the first 1e-5 s) until t = 1.2e-4 s, with dt = "auto" (0.05 x, the nonlinear default, the step
certified from the model's tangent bound L, here h sqrt(rho / L)). The SN model's bound is held at its target during
training; the unconstrained model's bound is whatever its weights give (with the default settings
about 1.7 times the SN bound), so its certified step is smaller and its run takes more steps.
Units: mm, s, t, MPa.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import snsurrogate

DATA = Path(__file__).resolve().parents[1] / "data" / "synthetic_cubic_1d.csv"
LENGTH = 100.0  # mm
DENSITY = 1.2e-9  # t/mm^3
END = 1.2e-4  # s


def bar_case(model: Path, divisions: int) -> dict:
    """The bar impact case for a fitted model file: mm, s, t, MPa."""
    return {
        "units": {"length": "mm", "time": "s", "mass": "t", "stress": "MPa", "force": "N", "energy": "mJ"},
        "mesh": {"generate": "line", "length": LENGTH, "divisions": divisions},
        "material": {"model": str(model), "density": DENSITY},
        "boundary": [
            {"name": "pull", "type": "velocity", "nodes": {"group": "left"}, "components": ["x"],
             "value": [-6.5e4], "amplitude": [[0.0, 0.0], [1.0e-5, 1.0], [1.0, 1.0]]},  # mm/s, s
            {"name": "wall", "type": "fixed", "nodes": {"group": "right"}},
        ],
        "time": {"end": END, "dt": "auto"},
        "output": {"frames": 10, "progress": False},
    }


def run(out: Path, epochs: int = 1000, polish_epochs: int = 200, hidden: tuple[int, ...] = (32, 32, 32),
        seed: int = 0, divisions: int = 100) -> dict:
    """Fit, save and run both models into the folder ``out``; return the numbers the script prints, per model."""
    data = snsurrogate.read_curves(DATA, strain=["strain"], stress=["stress_MPa"])
    out.mkdir(parents=True, exist_ok=True)
    models = {}
    for name, unconstrained in (("sn", False), ("unconstrained", True)):
        model = snsurrogate.fit(data, unconstrained=unconstrained, hidden=hidden, epochs=epochs,
                                polish_epochs=polish_epochs, seed=seed)
        path = out / f"{name}.pt"
        model.save(path)
        result = snsurrogate.simulate(bar_case(path, divisions), out / name, progress=False)
        s = model.summary
        models[name] = {
            "model_file": str(path),
            "lipschitz_bound_MPa": model.lipschitz_bound,
            "lipschitz_target_MPa": s["lipschitz_target"],  # None for the unconstrained model
            "largest_tangent_MPa": s["lipschitz_empirical"],
            "rmse_MPa": s["rmse"],
            "stable": result.summary["stable"],
            "steps": result.summary["steps"],
            "dt_s": result.summary["dt"],
            "dt_certified_s": result.summary["dt_certified"],
            "energy_error": result.summary["energy_error"],
        }
    return {"n_points": data.n_points, "element_size_mm": LENGTH / divisions, "density_t_per_mm3": DENSITY,
            "end_s": END, "models": models}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("out/sn_vs_unconstrained"))
    args = p.parse_args()
    r = run(args.out)
    print(f"fitted {r['n_points']} points; bar impact to t = {r['end_s']:.3g} s, element size "
          f"{r['element_size_mm']:.3g} mm")
    print(f"{'model':>14} {'bound L [MPa]':>14} {'max tangent [MPa]':>18} {'RMSE [MPa]':>11} {'dt [s]':>11} "
          f"{'steps':>6}  run")
    for name, m in r["models"].items():
        print(f"{name:>14} {m['lipschitz_bound_MPa']:>14.6g} {m['largest_tangent_MPa']:>18.6g} {m['rmse_MPa']:>11.4g} "
              f"{m['dt_s']:>11.4g} {m['steps']:>6}  {'stable' if m['stable'] else 'UNSTABLE'}")
    print(f"models and runs written to {args.out}")


if __name__ == "__main__":
    main()
