"""The compiled element and nodal bounds (fem.bound_kernels) against batched eigvalsh and the assembled matrix."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fem import LinearElastic, bound_kernels, generate
from fem.kinematics import geometry
from fem.metric import EUCLIDEAN, Metric, metric_of
from fem.stability import _mass_dofs, assembled_geometric, critical_time_step, element_eigenvalues, sub_geometry

pytestmark = pytest.mark.skipif(bound_kernels.numba is None, reason="numba not installed")


def mesh_of(element: str, seed: int):
    if element in ("quad4", "tri3"):
        return generate.rectangle(3.0, 2.0, 23, 17, element=element, jitter=0.24, seed=seed)
    return generate.box(2.0, 1.5, 1.0, 7, 6, 5, element=element, jitter=0.16, seed=seed)


def metrics(dim: int, seed: int):
    mat = LinearElastic(200e3, 0.3, 7.85e-9, mode="plane_strain" if dim == 2 else "3d")
    n = 3 if dim == 2 else 6
    a = torch.as_tensor(np.random.default_rng(seed).normal(size=(n, n)))
    spd = a @ a.T + 0.1 * torch.eye(n, dtype=torch.float64)  # an anisotropic stiffness bound
    return [Metric(None, 1.0, EUCLIDEAN), metric_of(mat, 1.0), Metric(spd, 1.0, "random SPD")]


def exact(geom, metric):
    return lambda index: element_eigenvalues(sub_geometry(geom, index), metric=metric)


@pytest.mark.parametrize("element", ["quad4", "tri3", "hex8", "tet4"])
@pytest.mark.parametrize("top", [256, 1])
def test_element_bound_is_certified_and_tight(element, top, monkeypatch):
    """Never below the largest element eigenvalue, at most DELTA + rounding above it; ``top = 1`` ranks one
    element exactly first, so most elements fail the check at mu and are solved exactly (the fallback path)."""
    monkeypatch.setattr(bound_kernels, "TOP", top)
    for seed in range(3):
        geom = geometry(mesh_of(element, seed))
        for metric in metrics(geom.dim, seed):
            lam = element_eigenvalues(geom, metric=metric)
            value, e = bound_kernels.largest_element_eigenvalue(geom, metric.matrix, exact(geom, metric))
            top_value = float(lam.max())
            assert value >= top_value
            assert value <= top_value * (1 + 1.01 * bound_kernels.DELTA)
            assert float(lam[e]) >= top_value * (1 - bound_kernels.DELTA)


def test_check_rejects_a_shift_below_the_largest_eigenvalue():
    """The Cholesky check fails exactly for the elements whose eigenvalue exceeds the shift."""
    geom = geometry(mesh_of("quad4", 0))
    (_, check, _), dNT, w, D = bound_kernels._arrays(geom, None)
    emass = bound_kernels.element_masses(geom, 1.0).numpy()
    lam = element_eigenvalues(geom).numpy()
    mu = float(np.median(lam))
    fail = np.zeros(lam.size, dtype=bool)
    check(dNT, w, D, emass, mu, fail)
    far = np.abs(lam / mu - 1) > 1e-9
    np.testing.assert_array_equal(fail[far], (lam > mu)[far])


@pytest.mark.parametrize("element", ["quad4", "tri3", "hex8", "tet4"])
def test_nodal_row_sums_equal_the_assembled_matrix(element):
    geom = geometry(mesh_of(element, 4))
    for metric in metrics(geom.dim, 4):
        A = assembled_geometric(geom, metric=metric)
        rows = np.asarray(abs(A).sum(axis=1)).ravel() / _mass_dofs(geom, 3.0)
        got = bound_kernels.nodal_row_sums(geom, metric.matrix, 3.0)
        np.testing.assert_allclose(got, rows, rtol=1e-12, atol=1e-12 * rows.max())


def test_voigt_tensor_reproduces_the_strain_energy():
    rng = np.random.default_rng(5)
    for d, n in ((2, 3), (3, 6)):
        C = rng.normal(size=(n, n))
        C = C @ C.T
        grad = rng.normal(size=(d, d))  # du_m / dx_r
        pairs = [(0, 0), (1, 1), (0, 1)] if d == 2 else [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)]
        ev = np.array([grad[i, i] if i == j else grad[i, j] + grad[j, i] for i, j in pairs])
        D = bound_kernels.voigt_tensor(C, d)
        assert np.einsum("mrns,mr,ns->", D, grad, grad) == pytest.approx(ev @ C @ ev, rel=1e-12)


def test_critical_time_step_is_the_same_with_and_without_the_kernels(monkeypatch):
    mesh = mesh_of("hex8", 6)
    mat = LinearElastic(70e3, 0.33, 2.7e-9, mode="3d")
    fast = critical_time_step(mesh, mat, methods=("element", "nodal"))
    monkeypatch.setattr(bound_kernels, "usable", lambda geom: False)
    slow = critical_time_step(mesh, mat, methods=("element", "nodal"))
    assert fast.dt_nodal == pytest.approx(slow.dt_nodal, rel=1e-12)
    assert slow.dt_element * (1 - 1e-4) <= fast.dt_element <= slow.dt_element
