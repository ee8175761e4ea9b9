"""Treloar's rubber from three test modes to one 3-D hyperelastic law, and what it predicts.

Fits uniaxial tension, equibiaxial tension and pure shear of Treloar (1944) jointly (the same as
``snsurrogate fit --test uniaxial=... --test equibiaxial=... --test pure_shear=... --stretch stretch --stress
nominal_stress_MPa --out rubber``), saves and reloads the law, evaluates it through the API and through
``P(F)``, and repeats the fit on two modes to predict the third. Stresses in MPa (the data's unit).

Run: ``python examples/rubber_modes.py [OUT_DIR]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

import snsurrogate
from snsurrogate.hyperelastic.report import write_outputs

DATA = Path(__file__).resolve().parents[1] / "data"
FILES = {"uniaxial": "treloar1944_uniaxial_tension.csv", "equibiaxial": "treloar1944_equibiaxial_tension.csv",
         "pure_shear": "treloar1944_pure_shear.csv"}


def curves() -> dict[str, snsurrogate.TestCurve]:
    return {m: snsurrogate.read_test(DATA / f, m, stretch=["stretch"], stress=["nominal_stress_MPa"])
            for m, f in FILES.items()}


def run(out: str | Path = "rubber_modes") -> dict:
    """Fit, save, reload, evaluate; return the numbers printed (R² per mode, bound, moduli, predictions)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    c = curves()
    joint = snsurrogate.fit_tests(list(c.values()))
    write_outputs(joint, list(c.values()), [], out / "rubber")
    law = snsurrogate.load(out / "rubber.pt")  # re-checks the certificate
    lam = torch.tensor([0.5, 1.0, 2.0, 4.0, 7.0], dtype=torch.float64)
    t = law.lateral_stretch("uniaxial", lam)
    F = torch.diag_embed(torch.stack((lam, t, t), 1))
    cross = {}
    for held in FILES:
        res = snsurrogate.fit_tests([v for k, v in c.items() if k != held], predict_curves=[c[held]])
        cross[held] = res.predicted[held].r2
    return {
        "r2": {m: v.r2 for m, v in joint.modes.items()},
        "lipschitz_bound_MPa": law.lipschitz_bound,
        "tightness": law.summary["tightness"],
        "shear_modulus_MPa": law.shear_modulus,
        "bulk_modulus_MPa": law.bulk_modulus,
        "stretch": lam.tolist(),
        "uniaxial_nominal_MPa": law.nominal_stress("uniaxial", lam).tolist(),
        "uniaxial_P11_from_F_MPa": law.first_piola(F)[:, 0, 0].tolist(),
        "held_out_r2": cross,
        "seconds": joint.seconds,
    }


if __name__ == "__main__":
    r = run(sys.argv[1] if len(sys.argv) > 1 else "rubber_modes")
    print("joint fit R²:", ", ".join(f"{m} {v:.5f}" for m, v in r["r2"].items()), f"({r['seconds']:.2f} s)")
    print(f"certified bound L = {r['lipschitz_bound_MPa']:.6g} MPa on w'' (tightness {r['tightness']:.4f}); "
          f"μ = {r['shear_modulus_MPa']:.4g} MPa, K = {r['bulk_modulus_MPa']:.4g} MPa")
    for lam, p, q in zip(r["stretch"], r["uniaxial_nominal_MPa"], r["uniaxial_P11_from_F_MPa"]):
        print(f"  uniaxial λ = {lam:4.2f}: P = {p:8.4f} MPa (from P(F): {q:8.4f} MPa)")
    print("fitted on two modes, R² of the third:", ", ".join(f"{m} {v:.4f}" for m, v in r["held_out_r2"].items()))
