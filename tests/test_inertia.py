"""The certified global bound (inertia check of ``mu M - A`` by Cholesky): never below lambda_max on random meshes
(dense eigensolver), rejecting a shift just below it, tight for linear laws, and falling back when too large."""

import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from fem import generate
from fem.element_matrices import assembled_stiffness
from fem.inertia import certify_largest, positive_definite, rounding_margin, scaled
from fem.kinematics import geometry
from fem.mass import lumped_mass
from fem.materials import LinearElastic
from fem.stability import assembled_geometric, critical_time_step, tangent_at


class Euclidean:
    """A law seen without its stiffness bound: the time-step bounds then use ``||C_t||_2 <= L`` alone."""

    def __init__(self, law) -> None:
        self.law = law

    def __getattr__(self, name: str):
        return None if name == "stiffness_bound" else getattr(self.law, name)


def delaunay(n_points: int, seed: int):
    return generate.scattered(1.0, 1.0, n_points, seed=seed)


def random_mesh(k: int):
    rng = np.random.default_rng(1000 + k)
    kind = k % 5
    if kind == 0:
        return delaunay(int(rng.integers(6, 40)), k)
    nx, ny = (int(x) for x in rng.integers(1, 6, size=2))
    if kind in (1, 2):
        return generate.rectangle(float(rng.uniform(0.3, 3)), float(rng.uniform(0.3, 3)), nx, ny,
                                  element=("tri3", "quad4")[kind - 1], jitter=float(rng.uniform(0, 0.24)), seed=k)
    nz = int(rng.integers(1, 3))
    return generate.box(float(rng.uniform(0.3, 2)), 1.0, float(rng.uniform(0.3, 2)), nx % 3 + 1, ny % 3 + 1, nz,
                        element=("tet4", "hex8")[kind - 3], jitter=float(rng.uniform(0, 0.16)), seed=k)


def dofs_mass(geom, density=1.0):
    return lumped_mass(geom, density).repeat_interleave(geom.dim).numpy()


@pytest.mark.parametrize("block", range(6))
def test_the_certified_bound_is_never_below_lambda_max_on_random_meshes(block):
    """300 random meshes (jittered tri3/quad4/tet4/hex8 and Delaunay tri3 with slivers), the geometric matrix and
    a linear-elastic stiffness with random nu, from the dense lambda_max, from an estimate 30 % low (the shift
    must grow) and with constrained dofs: certified >= lambda_max (dense eigvalsh), and tight."""
    for k in range(50 * block, 50 * block + 50):
        mesh = random_mesh(k)
        geom = geometry(mesh)
        m = dofs_mass(geom, 1.0 + (k % 7))
        rng = np.random.default_rng(k)
        if k % 2:
            A = assembled_geometric(geom)
        else:
            mode = "plane_strain" if mesh.dim == 2 else "3d"
            law = LinearElastic(float(rng.uniform(1, 100)), float(rng.uniform(0.0, 0.49)), 1.0, mode)
            A = assembled_stiffness(geom, tangent_at(geom, law))
            A = 0.5 * (A + A.T)
        free = None
        if k % 3 == 0:
            free = np.sort(rng.choice(A.shape[0], size=max(1, A.shape[0] * 3 // 4), replace=False))
        B = scaled(A, m, free).toarray()
        lam = float(np.linalg.eigvalsh(0.5 * (B + B.T))[-1])
        start = lam if k % 4 else 0.7 * lam
        cert = certify_largest(A, m, start, free=free, dim=mesh.dim)
        assert cert.bound is not None, (k, cert.reason)
        assert cert.bound >= lam, (k, cert.bound, lam)
        if k % 4:
            assert cert.bound <= lam * (1 + 1e-4), (k, cert.bound / lam)  # one shift of 1e-6 and the margin
        else:
            assert cert.tries > 1  # 0.7 x lambda_max cannot be positive definite: the shift had to grow


def test_the_inertia_check_rejects_a_shift_just_below_lambda_max_and_accepts_one_above():
    for mesh in (generate.rectangle(2.0, 1.0, 12, 6, jitter=0.2), generate.box(1, 1, 1, 3, 3, 3, element="tet4"),
                 delaunay(60, 3)):
        geom = geometry(mesh)
        B = scaled(assembled_geometric(geom), dofs_mass(geom))
        lam = float(np.linalg.eigvalsh(B.toarray())[-1])
        eye = sp.identity(B.shape[0], format="csr")
        assert not positive_definite(lam * (1 - 1e-9) * eye - B)
        assert not positive_definite(lam * eye - B - 1e-12 * lam * eye)
        assert positive_definite(lam * (1 + 1e-9) * eye - B)


def test_the_rounding_margin_is_small_and_grows_with_size():
    geom = geometry(generate.rectangle(1.0, 1.0, 20, 20))
    B = scaled(assembled_geometric(geom), dofs_mass(geom))
    lam = float(np.linalg.eigvalsh(B.toarray())[-1])
    H = (1.001 * lam * sp.identity(B.shape[0]) - B).tocsr()
    beta = rounding_margin(float(abs(B).sum(axis=1).max()), H.diagonal())
    n = B.shape[0]
    assert 0 < beta / lam < 4 * n * n * 2.0**-53 * 1.01  # about 2 n^2 u x (mu - mean diagonal) / mu
    assert beta / lam > n * 2.0**-53  # not zero: the Cholesky backward error is counted


@pytest.mark.parametrize("element", ["tri3", "quad4", "tet4", "hex8"])
@pytest.mark.parametrize("nu", [0.0, 0.3, 0.49])
def test_a_linear_law_gets_the_exact_critical_step_certified(element, nu):
    """For a linear law the metric is its own stiffness: dt_global_certified / dt_true >= 0.9999 (the issue asks
    >= 0.95), with the free dofs of a fixed edge, and dt = "auto" takes it."""
    if element in ("tri3", "quad4"):
        mesh, mode = generate.rectangle(3.0, 1.0, 9, 3, element=element, jitter=0.1), "plane_strain"
    else:
        mesh, mode = generate.box(2.0, 1.0, 1.0, 4, 2, 2, element=element, jitter=0.1), "3d"
    law = LinearElastic(70e3, nu, 2.7e-9, mode)
    fixed = np.flatnonzero(mesh.points[:, 0] == 0.0)
    constrained = (fixed[:, None] * mesh.dim + np.arange(mesh.dim)).reshape(-1)
    r = critical_time_step(mesh, law, methods=("element", "nodal", "global_certified", "true"),
                           constrained=constrained)
    assert r.dt_global_certified is not None and r.metric.startswith("constant tangent")
    ratio = r.dt_global_certified / r.dt_true
    assert 0.9999 <= ratio <= 1.0, ratio
    assert r.certified_method == "global_certified" and r.dt_certified == r.dt_global_certified
    assert r.dt_element <= r.dt_true * (1 + 1e-12)  # the element bound, in the law's own metric too, is below
    euclid = critical_time_step(mesh, Euclidean(law), methods=("element",))  # the same law, Euclidean metric
    assert euclid.dt_element < r.dt_element
    doc = r.to_dict()
    assert doc["dt_global_certified"] == r.dt_global_certified and "constant tangent" in doc["metric"]


def test_too_large_a_factorization_falls_back_and_says_so():
    mesh = generate.rectangle(1.0, 1.0, 10, 10)
    law = LinearElastic(1.0, 0.3, 1.0, "plane_strain")
    r = critical_time_step(mesh, law, methods=("element", "nodal", "global_certified"), max_bytes=1.0)
    b = r.bounds["global_certified"]
    assert r.dt_global_certified is None and not b.certified and b.where.startswith("fallback: not attempted")
    assert r.certified_method in ("element", "nodal") and r.dt_certified == max(r.dt_element, r.dt_nodal)
    assert "GiB" in b.where


def test_auto_step_takes_the_certified_global_bound():
    from fem.time_step import choose_time_step

    mesh = generate.rectangle(4.0, 1.0, 16, 4)
    law = LinearElastic(200e3, 0.3, 7.85e-9, "plane_strain")
    step = choose_time_step(mesh, law)
    assert step.report.certified_method == "global_certified"
    assert step.dt == pytest.approx(0.9 * step.report.dt_global_certified, rel=1e-12)
    small = choose_time_step(mesh, law, global_bytes=0)
    assert "global_certified" not in small.report.bounds and step.dt > 1.1 * small.dt
    damped = choose_time_step(mesh, law, alpha=1e4)
    assert damped.report.damping_factor < 1 and damped.dt < step.dt
    assert math.isclose(damped.dt, 0.9 * damped.report.damping_factor * damped.report.dt_certified, rel_tol=1e-12)


def test_the_certified_bound_is_above_the_sn_law_s_true_critical_step():
    """A fitted-style law in the Euclidean metric: K_t <= L G certified globally, still >= the true step."""
    mesh = generate.rectangle(2.0, 1.0, 8, 4, jitter=0.15)
    law = LinearElastic(10.0, 0.3, 1.0, "plane_strain")

    class Bounded:  # the linear law seen only through a bound L >= ||C||_2 (not flagged linear)
        density, certified_by, lipschitz_bound = 1.0, "test", float(torch.linalg.matrix_norm(
            law.tangent(torch.zeros(1, 3, dtype=torch.float64))[0], 2))
        linear = False
        n_voigt = 3

        def tangent(self, eps):
            return law.tangent(eps)

        def __call__(self, eps):
            return law(eps)

    r = critical_time_step(mesh, Bounded(), methods=("element", "nodal", "global_certified", "true"))
    assert r.metric.startswith("euclidean")
    assert r.dt_element <= r.dt_global_certified <= r.dt_true
    assert r.dt_global_certified <= r.dt_global * (1 + 1e-12)


def test_the_scattered_mesh_is_valid_counter_clockwise_and_has_slivers():
    mesh = generate.scattered(2.0, 1.0, 200, seed=4)
    geom = geometry(mesh)
    assert mesh.cell_type == "tri3" and bool((geom.wdetJ > 0).all())
    assert float(geom.wdetJ.sum()) == pytest.approx(2.0, rel=1e-12)  # tiles the rectangle
    assert len(np.unique(mesh.cells)) == mesh.n_nodes  # every node in a cell
    p = mesh.points[mesh.cells]
    edges = np.linalg.norm(p - np.roll(p, 1, axis=1), axis=2)
    area = geom.wdetJ.sum(dim=1).numpy()
    quality = 4 * math.sqrt(3) * area / (edges**2).sum(axis=1)  # 1 for equilateral
    assert quality.min() < 0.1  # slivers: what the element bound suffers from


def test_a_sliver_mesh_names_the_element_that_limits_the_element_bound():
    mesh = generate.scattered(1.0, 1.0, 80, seed=2)
    law = LinearElastic(1.0, 0.3, 1.0, "plane_strain")
    r = critical_time_step(mesh, law, methods=("element", "nodal", "global_certified"))
    e = int(r.bounds["element"].where.split()[-1])
    assert r.dt_element < 0.5 * r.dt_global_certified
    assert any(f"element {e} (a distorted or sliver element)" in n for n in r.notes)
    p = mesh.points[mesh.cells[e]]  # the named element is a sliver: its quality is among the worst
    a, b = p[1] - p[0], p[2] - p[0]
    area = 0.5 * abs(a[0] * b[1] - a[1] * b[0])
    q = 4 * math.sqrt(3) * area / (np.linalg.norm(p - np.roll(p, 1, 0), axis=1) ** 2).sum()
    assert q < 0.2
