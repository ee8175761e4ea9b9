"""The linearised growth rate of ``fem.growth``: flutter of a non-symmetric tangent, softening, and zero
for a symmetric positive law; and how ``critical_time_step`` reports it."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fem import generate
from fem.element_matrices import assemble, stiffness_matrices
from fem.growth import growth_rate
from fem.kinematics import geometry
from fem.mass import lumped_mass
from fem.stability import critical_time_step

L, RHO = 100.0, 2.0


class MatrixMaterial:
    """``sigma = C eps`` with a constant (possibly non-symmetric or indefinite) 3x3 Voigt matrix."""

    certified_strain = None
    certified_by = "the test's stated bound"

    def __init__(self, C, density: float = RHO) -> None:
        self.C = torch.as_tensor(np.asarray(C, dtype=float))
        self.n_voigt = 3
        self.density = density
        self.lipschitz_bound = float(torch.linalg.matrix_norm(self.C, 2))

    def stress(self, eps):
        return eps @ self.C.T

    def tangent(self, eps):
        return self.C.expand(eps.shape[0], -1, -1)


def rotation(deg: float) -> np.ndarray:
    """A rotation by ``deg`` about the axis (1, 1, 1)/sqrt(3) of the 3x3 Voigt space (orthogonal, not symmetric)."""
    n = np.ones(3) / math.sqrt(3)
    t = math.radians(deg)
    cross = np.array([[0, -n[2], n[1]], [n[2], 0, -n[0]], [-n[1], n[0], 0]])
    return math.cos(t) * np.eye(3) + math.sin(t) * cross + (1 - math.cos(t)) * np.outer(n, n)


def _setup(C, fixed_left: bool = False):
    mesh = generate.rectangle(2.0, 1.0, 4, 2, element="quad4", jitter=0.1)
    geom = geometry(mesh)
    n_el, n_qp = geom.wdetJ.shape
    Ct = torch.as_tensor(np.asarray(C, dtype=float)).expand(n_el, n_qp, 3, 3)
    mass = lumped_mass(geom, RHO).repeat_interleave(2).numpy()
    free = None
    if fixed_left:
        left = mesh.select_nodes("left")
        fixed = np.concatenate([2 * np.asarray(left), 2 * np.asarray(left) + 1])
        free = np.setdiff1d(np.arange(mass.size), fixed)
    return mesh, geom, Ct, mass, free


def _direct(geom, Ct, mass, free) -> tuple[float, np.ndarray]:
    K = assemble(geom, stiffness_matrices(geom, Ct)).toarray()
    A = K / np.sqrt(np.outer(mass, mass))
    if free is not None:
        A = A[np.ix_(free, free)]
    lam = np.linalg.eigvals(A)
    lam = np.where(np.abs(lam) < 1e-9 * np.abs(lam).max(), 0, lam)
    return float(np.abs(np.sqrt(lam.astype(complex)).imag).max()), lam


def test_a_rotated_tangent_flutters_at_the_rate_of_a_direct_computation():
    C = L * rotation(10.0)
    assert np.linalg.norm(C - C.T) > 1  # non-symmetric
    mesh, geom, Ct, mass, free = _setup(C)
    g = growth_rate(geom, Ct, mass, free)
    expected, _ = _direct(geom, Ct, mass, free)
    assert g.growth_rate > 0 and g.method == "dense"
    assert g.growth_rate == pytest.approx(expected, rel=1e-8)
    assert g.e_folding_time == pytest.approx(1 / expected, rel=1e-8)
    assert g.symmetry_defect > 0.05

    report = critical_time_step(mesh, MatrixMaterial(C))
    assert report.growth is not None and report.growth.growth_rate == pytest.approx(expected, rel=1e-8)
    assert report.bounds["true"].where.startswith("symmetric part only")
    assert "grows at every dt" in report.bounds["true"].where
    assert any("growth rate" in n for n in report.notes)
    d = report.to_dict()
    assert d["growth_rate"] == pytest.approx(expected, rel=1e-8)
    assert d["symmetry_defect"] == pytest.approx(g.symmetry_defect)
    assert d["min_eigenvalue"] == pytest.approx(g.min_real_eigenvalue)
    assert d["dt_true"] == report.dt_true and "tangent" in d  # existing keys kept


def test_a_symmetric_positive_law_does_not_grow():
    C = np.array([[2.0, 0.5, 0.0], [0.5, 2.0, 0.0], [0.0, 0.0, 0.7]]) * L
    mesh, geom, Ct, mass, free = _setup(C)
    g = growth_rate(geom, Ct, mass, free)  # rigid modes of the free mesh are set to zero
    assert g.growth_rate == 0 and g.e_folding_time == math.inf
    assert g.symmetry_defect < 1e-14
    assert g.min_real_eigenvalue == pytest.approx(0, abs=1e-6)
    _, _, Ct, mass, free = _setup(C, fixed_left=True)
    assert growth_rate(geom, Ct, mass, free).growth_rate == 0
    report = critical_time_step(mesh, MatrixMaterial(C))
    assert report.growth is None and report.to_dict()["growth_rate"] is None
    assert report.to_dict()["symmetry_defect"] is None and report.to_dict()["min_eigenvalue"] is None


def test_a_softening_law_grows_at_sqrt_of_minus_its_smallest_eigenvalue():
    C = -np.diag([1.0, 0.6, 0.3]) * L  # negative definite
    mesh, geom, Ct, mass, free = _setup(C, fixed_left=True)
    g = growth_rate(geom, Ct, mass, free)
    _, lam = _direct(geom, Ct, mass, free)
    assert np.abs(lam.imag).max() < 1e-8 * np.abs(lam).max() and lam.real.max() < 0  # constrained: all negative
    assert g.min_real_eigenvalue == pytest.approx(lam.real.min(), rel=1e-10)
    assert g.growth_rate == pytest.approx(math.sqrt(-lam.real.min()), rel=1e-10)

    left = mesh.select_nodes("left")
    constrained = np.concatenate([2 * np.asarray(left), 2 * np.asarray(left) + 1])
    report = critical_time_step(mesh, MatrixMaterial(C), constrained=constrained)
    assert report.tangent.softening and report.growth.growth_rate == pytest.approx(g.growth_rate, rel=1e-12)
    assert "grows at every dt" in report.bounds["true"].where


@pytest.mark.parametrize("C", [L * rotation(10.0), -np.diag([1.0, 0.6, 0.3]) * L], ids=["flutter", "softening"])
def test_the_arpack_estimate_matches_the_dense_eigenvalues(C, monkeypatch):
    import fem.growth

    mesh = generate.rectangle(2.0, 1.0, 16, 8, element="quad4", jitter=0.1)
    geom = geometry(mesh)
    n_el, n_qp = geom.wdetJ.shape
    Ct = torch.as_tensor(C).expand(n_el, n_qp, 3, 3)
    mass = lumped_mass(geom, RHO).repeat_interleave(2).numpy()
    dense = growth_rate(geom, Ct, mass)
    monkeypatch.setattr(fem.growth, "DENSE_MAX", 10)
    est = growth_rate(geom, Ct, mass)
    assert dense.method == "dense" and est.method == "estimate"
    assert est.growth_rate == pytest.approx(dense.growth_rate, rel=1e-6)
    assert est.min_real_eigenvalue == pytest.approx(dense.min_real_eigenvalue, rel=1e-6, abs=1e-6)
