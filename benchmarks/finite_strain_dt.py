"""The certified step at a finite-strain state against the true critical step of the assembled K(F).

For random states (affine deformation ``F = I + 0.5 N(0, 1)`` plus nodal noise, ``det F > 0.05``) on jittered
tri3, quad4, tet4 and hex8 meshes, neo-Hookean and Ogden laws (and the law fitted to Treloar's three modes):
``dt_cert / dt_true`` with ``dt_true = 2 / sqrt(λ_max(M^-1/2 K(F) M^-1/2))``, ``K = ∂f/∂u`` by autograd. Prints
min / median / max per element type and law (certified means <= 1).

    python benchmarks/finite_strain_dt.py [--states 40]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import torch

import snsurrogate
from fem import generate
from fem.finite_strain import DeformationForce, gradient_factors, state_time_step
from fem.hyperelastic import NeoHookean, Ogden
from fem.kinematics import geometry
from fem.mass import lumped_mass

D = torch.float64
DATA = Path(__file__).resolve().parents[1] / "data"
MESHES = {"tri3": lambda: generate.rectangle(2.0, 1.0, 3, 2, element="tri3", jitter=0.2),
          "quad4": lambda: generate.rectangle(2.0, 1.0, 3, 2, element="quad4", jitter=0.2),
          "tet4": lambda: generate.box(1.0, 1.0, 1.0, 1, 2, 1, element="tet4", jitter=0.15),
          "hex8": lambda: generate.box(2.0, 1.0, 1.0, 2, 1, 1, element="hex8", jitter=0.15)}


def treloar():
    curves = [snsurrogate.read_test(DATA / f"treloar1944_{n}.csv", m, stretch=["stretch"],
                                    stress=["nominal_stress_MPa"])
              for n, m in (("uniaxial_tension", "uniaxial"), ("equibiaxial_tension", "equibiaxial"),
                           ("pure_shear", "pure_shear"))]
    return snsurrogate.as_material(snsurrogate.fit_tests(curves).law, 1.0)


def ratio(mesh, law, u) -> float | None:
    geom = geometry(mesh, dtype=D)
    kin = DeformationForce(geom, buffered=False)
    piola = getattr(law, "law", law).first_piola  # a fitted law's adapter evaluates without gradients

    def f(x):
        F = kin.deformation_gradient(x)
        return kin.force(piola(F.reshape(-1, 3, 3)).view(F.shape))

    F = kin.deformation_gradient(u)
    if float(torch.linalg.det(F.reshape(-1, 3, 3)).min()) <= 0.05:
        return None
    K = torch.func.jacrev(f)(u)
    s = lumped_mass(geom, law.density).repeat_interleave(mesh.dim).rsqrt()
    top = float(torch.linalg.eigvalsh(0.5 * (K + K.T) * s[:, None] * s[None, :])[-1])
    a = law.tangent_bound(F.reshape(-1, 3, 3)).view(F.shape[:2])
    return state_time_step(a, gradient_factors(geom), law.density).dt / (2.0 / math.sqrt(top))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--states", type=int, default=40)
    a = p.parse_args()
    laws = {"neo-Hookean": NeoHookean(0.5, 20.0, 1.0),
            "Ogden": Ogden([0.63, 0.0012, -0.01], [1.3, 5.0, -2.0], 50.0, 1.0), "Treloar fit": treloar()}
    gen = torch.Generator().manual_seed(11)
    print(f"{'element':<8}{'law':<13}{'states':>7}{'min':>8}{'median':>8}{'max':>8}   dt_cert / dt_true")
    for element, make in MESHES.items():
        for name, law in laws.items():
            out = []
            while len(out) < a.states:
                mesh = make()
                A = torch.eye(mesh.dim, dtype=D) + 0.5 * torch.randn(mesh.dim, mesh.dim, generator=gen, dtype=D)
                X = torch.as_tensor(mesh.points[:, : mesh.dim], dtype=D)
                u = (X @ (A - torch.eye(mesh.dim, dtype=D)).T).reshape(-1)
                u = u + 0.03 * torch.randn(u.shape[0], generator=gen, dtype=D)
                r = ratio(mesh, law, u)
                if r is not None:
                    out.append(r)
            v = np.array(out)
            print(f"{element:<8}{name:<13}{len(v):>7}{v.min():>8.3f}{np.median(v):>8.3f}{v.max():>8.3f}")
            if v.max() > 1 + 1e-9:
                sys.exit("certified step above the true critical step")


if __name__ == "__main__":
    main()
