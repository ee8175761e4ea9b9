"""Fit a certified material law to a CSV file with the Python API, and use it.

    python examples/fit_csv.py [--out out/example_fit]

Reads the bundled 6061-T6 aluminium tension test, fits a spectrally normalized law (certified
tangent bound L in MPa per unit strain), saves it, loads it back (the certificate is re-checked),
and evaluates stress and tangent at a few strains.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

import snsurrogate

DATA = Path(__file__).resolve().parents[1] / "data" / "al6061t6_uniaxial_tension_CA-RD-01.csv"


def run(out: Path, epochs: int = 1000, polish_epochs: int = 200) -> dict:
    """Fit, save, reload and evaluate; return the numbers the script prints."""
    data = snsurrogate.read_curves(DATA, strain=["engineering_strain"], stress=["engineering_stress_MPa"])
    model = snsurrogate.fit(data, epochs=epochs, polish_epochs=polish_epochs)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out.with_suffix(".pt"))
    law = snsurrogate.load(out.with_suffix(".pt"))
    strain = torch.tensor([[0.0], [0.002], [0.05], [0.15]])
    return {
        "n_points": data.n_points,
        "rmse_MPa": law.summary["rmse"],
        "lipschitz_bound_MPa": law.lipschitz_bound,
        "bound_recomputed_MPa": snsurrogate.lipschitz_bound(law),
        "strain": strain[:, 0].tolist(),
        "stress_MPa": law(strain)[:, 0].tolist(),
        "tangent_MPa": law.tangent(strain)[:, 0, 0].tolist(),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("out/example_fit"))
    args = p.parse_args()
    r = run(args.out)
    print(f"fitted {r['n_points']} points, RMSE {r['rmse_MPa']:.3g} MPa")
    print(f"certified tangent bound L = {r['lipschitz_bound_MPa']:.6g} MPa per unit strain")
    print(f"{'strain [-]':>12} {'stress [MPa]':>14} {'tangent [MPa]':>15}")
    for e, s, t in zip(r["strain"], r["stress_MPa"], r["tangent_MPa"]):
        print(f"{e:>12.4g} {s:>14.5g} {t:>15.6g}")
    print(f"model written to {args.out.with_suffix('.pt')}")


if __name__ == "__main__":
    main()
