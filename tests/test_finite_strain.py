"""Total Lagrangian kinematics: rigid rotations, homogeneous tests against the laws' test modes, the patch
test, and the certified step at a state against the true critical step of the assembled K(F)."""

import math

import numpy as np
import pytest
import torch

from fem import generate
from fem.finite_strain import DeformationForce, gradient_factors, state_time_step
from fem.hyperelastic import NeoHookean, Ogden
from fem.kinematics import geometry
from fem.mass import lumped_mass

D = torch.float64
MESHES = {
    "tri3": lambda j=0.0: generate.rectangle(2.0, 1.0, 3, 2, element="tri3", jitter=j),
    "quad4": lambda j=0.0: generate.rectangle(2.0, 1.0, 3, 2, element="quad4", jitter=j),
    "tet4": lambda j=0.0: generate.box(1.0, 1.0, 1.0, 1, 2, 1, element="tet4", jitter=min(j, 0.15)),
    "hex8": lambda j=0.0: generate.box(2.0, 1.0, 1.0, 2, 1, 1, element="hex8", jitter=min(j, 0.15)),
}
LAWS = {"neo-Hookean": NeoHookean(0.5, 20.0, 1.0),
        "Ogden": Ogden([0.63, 0.0012, -0.01], [1.3, 5.0, -2.0], 50.0, 1.0)}


def rotation(dim, angle, axis=(1.0, 2.0, 3.0)):
    if dim == 2:
        c, s = math.cos(angle), math.sin(angle)
        return torch.tensor([[c, -s], [s, c]], dtype=D)
    k = torch.tensor(axis, dtype=D)
    k = k / k.norm()
    K = torch.tensor([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]], dtype=D)
    return torch.eye(3, dtype=D) + math.sin(angle) * K + (1 - math.cos(angle)) * K @ K


def affine(mesh, A):
    """Nodal displacements ``u = (A - I) X`` of the homogeneous deformation ``x = A X``."""
    X = torch.as_tensor(mesh.points[:, : mesh.dim], dtype=D)
    return (X @ (A - torch.eye(mesh.dim, dtype=D)).T).reshape(-1)


@pytest.mark.parametrize("element", MESHES)
@pytest.mark.parametrize("angle", [0.3, math.pi / 2, 2.5, math.pi])
def test_rigid_rotation_gives_zero_stress_and_zero_force(element, angle):
    mesh = MESHES[element](0.2)
    geom = geometry(mesh, dtype=D)
    kin = DeformationForce(geom, buffered=False)
    R = rotation(mesh.dim, angle)
    F = kin.deformation_gradient(affine(mesh, R))
    Rf = torch.eye(3, dtype=D)
    Rf[: mesh.dim, : mesh.dim] = R
    assert float((F - Rf).abs().max()) <= 1e-12
    law = LAWS["Ogden"]
    P = law.first_piola(F.reshape(-1, 3, 3))
    assert float(P.abs().max()) <= 1e-12
    f = kin.force(P.view(F.shape))
    assert float(f.abs().max()) <= 1e-12


@pytest.mark.parametrize("element", MESHES)
@pytest.mark.parametrize("law", LAWS)
def test_patch_test_homogeneous_deformation_is_exact_and_interior_forces_vanish(element, law):
    mesh = MESHES[element](0.2)
    geom = geometry(mesh, dtype=D)
    kin = DeformationForce(geom, buffered=False)
    gen = torch.Generator().manual_seed(3)
    A = torch.eye(mesh.dim, dtype=D) + 0.3 * torch.randn(mesh.dim, mesh.dim, generator=gen, dtype=D)
    F = kin.deformation_gradient(affine(mesh, A))
    assert float((F[..., : mesh.dim, : mesh.dim] - A).abs().max()) <= 1e-12
    P = LAWS[law].first_piola(F.reshape(-1, 3, 3)).view(F.shape)
    f = kin.force(P).view(-1, mesh.dim)
    X = mesh.points[:, : mesh.dim]
    interior = np.all((X > X.min(axis=0) + 1e-9) & (X < X.max(axis=0) - 1e-9), axis=1)
    scale = float(P.abs().max()) * float(geom.volume.max())
    if interior.any():
        assert float(f[torch.as_tensor(interior)].abs().max()) <= 1e-10 * scale
    assert float(f.sum(dim=0).abs().max()) <= 1e-10 * scale * mesh.n_nodes  # equilibrium of the whole body


@pytest.mark.parametrize("element", MESHES)
def test_homogeneous_stretch_with_free_lateral_faces_reproduces_the_test_mode(element):
    """Uniaxial tension in 3-D; in plane strain the same kinematics are pure shear (λ, t, λ₃ = 1)."""
    from snsurrogate.hyperelastic.modes import lateral_stretch, mode_stress

    law = LAWS["Ogden"]
    mesh = MESHES[element](0.2)
    geom = geometry(mesh, dtype=D)
    kin = DeformationForce(geom, buffered=False)
    mode = "uniaxial" if mesh.dim == 3 else "pure_shear"
    lam = torch.tensor([2.5], dtype=D)
    t = lateral_stretch(mode, lam, law.dw, law.d2w, law.kappa)
    A = torch.diag(torch.cat((lam, t, t)))[: mesh.dim, : mesh.dim]
    F = kin.deformation_gradient(affine(mesh, A))
    P = law.first_piola(F.reshape(-1, 3, 3)).view(F.shape)
    f = kin.force(P).view(-1, mesh.dim)
    X = mesh.points[:, : mesh.dim]
    right = torch.as_tensor(np.isclose(X[:, 0], X[:, 0].max()))
    area = float(np.prod(X.max(axis=0)[1:] - X.min(axis=0)[1:]))
    expected = float(mode_stress(mode, lam, law.dw, law.d2w, law.kappa)[0])
    assert float(f[right, 0].sum()) / area == pytest.approx(expected, rel=1e-10)
    top = torch.as_tensor(np.isclose(X[:, 1], X[:, 1].max()))
    assert float(f[top, 1].sum().abs()) <= 1e-9 * abs(expected) * area  # the lateral faces are free


def assembled_true_step(mesh, law, u):
    """``2/sqrt(λ_max(M^-1/2 K(F) M^-1/2))`` with ``K = ∂f/∂u`` by autograd (all dofs free)."""
    geom = geometry(mesh, dtype=D)
    kin = DeformationForce(geom, buffered=False)

    def f(x):
        F = kin.deformation_gradient(x)
        return kin.force(law.first_piola(F.reshape(-1, 3, 3)).view(F.shape))

    K = torch.func.jacrev(f)(u)
    m = lumped_mass(geom, law.density).repeat_interleave(mesh.dim)
    s = m.rsqrt()
    lam = torch.linalg.eigvalsh(0.5 * (K + K.T) * s[:, None] * s[None, :])[-1]
    return 2.0 / math.sqrt(float(lam)), geom, kin


def test_certified_state_step_never_exceeds_the_true_critical_step():
    """≥ 300 random states on random (jittered) meshes of every element type, both laws."""
    gen = torch.Generator().manual_seed(11)
    ratios = []
    for k in range(320):
        element = list(MESHES)[k % 4]
        law = list(LAWS.values())[(k // 4) % 2]
        mesh = MESHES[element](0.2)
        dim = mesh.dim
        A = torch.eye(dim, dtype=D) + 0.5 * torch.randn(dim, dim, generator=gen, dtype=D)
        if torch.linalg.det(A) < 0.3:
            A = torch.eye(dim, dtype=D) + 0.2 * (A - torch.eye(dim, dtype=D))
        u = affine(mesh, A) + 0.03 * torch.randn(mesh.n_nodes * dim, generator=gen, dtype=D)
        dt_true, geom, kin = assembled_true_step(mesh, law, u)
        F = kin.deformation_gradient(u)
        if float(torch.linalg.det(F.reshape(-1, 3, 3)).min()) <= 0.05:
            continue
        a = law.tangent_bound(F.reshape(-1, 3, 3)).view(F.shape[:2])
        step = state_time_step(a, gradient_factors(geom), law.density)
        ratios.append(step.dt / dt_true)
    ratios = np.array(ratios)
    assert len(ratios) >= 300
    assert ratios.max() <= 1.0 + 1e-9, "the certified step exceeds the true critical step"
    assert np.median(ratios) >= 0.3, "the certified step is far below the true one: a bound that cannot fail"


def test_state_step_at_the_reference_state_of_a_linear_bar_like_case():
    """At F = I the neo-Hookean law's a(I) = 3K = 2μ + 3κ."""
    law = NeoHookean(0.5, 20.0, 1.0)
    a = law.tangent_bound(torch.eye(3, dtype=D).unsqueeze(0))
    assert float(a[0]) == pytest.approx(2 * 0.5 + 3 * 20.0, rel=1e-12)


@pytest.mark.parametrize("spread", [0.4, 1e-3, 0.0])
def test_closed_form_eigendecomposition_matches_eigh(spread):
    """The time step's eigensolver (closed form where eigenvalues are apart, eigh elsewhere) against eigh,
    on well-separated, near-identity and exactly degenerate (rotations) batches."""
    from fem.principal import symmetric_eigh

    gen = torch.Generator().manual_seed(5)
    F = torch.eye(3, dtype=D) + spread * torch.randn(2000, 3, 3, generator=gen, dtype=D)
    if spread == 0.0:
        F = torch.linalg.qr(torch.randn(2000, 3, 3, generator=gen, dtype=D))[0]
    C = F.transpose(1, 2) @ F
    C = 0.5 * (C + C.transpose(1, 2))
    lam, vec = symmetric_eigh(C)
    ref = torch.linalg.eigvalsh(C)
    scale = ref.abs().amax(dim=1, keepdim=True)
    assert float(((lam - ref).abs() / scale).max()) <= 1e-12
    rebuilt = vec @ torch.diag_embed(lam) @ vec.transpose(1, 2)
    assert float(((rebuilt - C).abs().amax(dim=(1, 2)) / scale[:, 0]).max()) <= 1e-11
    assert float((vec.transpose(1, 2) @ vec - torch.eye(3, dtype=D)).abs().max()) <= 1e-11
    law = LAWS["Ogden"]
    F = F[torch.linalg.det(F) > 0.2]
    P_fast = law.first_piola(F)
    P_ref = law.first_piola(F.clone().requires_grad_(True)).detach()  # the eigh path
    size = P_ref.abs().amax(dim=(1, 2)).clamp_min(1.0)
    assert float(((P_fast - P_ref).abs().amax(dim=(1, 2)) / size).max()) <= 1e-10


@pytest.mark.parametrize("spread", [0.5, 1e-3, 1e-9, 0.0])
def test_plane_closed_form_matches_eigh(spread):
    """The plane path (block-diagonal F, the in-plane 2 x 2 in closed form) against eigh: stretches, det F, P and
    a(F), on well-separated, near-identity, nearly degenerate and exactly degenerate (rotations) batches, with
    F_33 != 1 in part of the batch."""
    from fem.principal import principal

    gen = torch.Generator().manual_seed(9)
    n = 3000
    F = torch.zeros(n, 3, 3, dtype=D)
    block = torch.eye(2, dtype=D) + spread * torch.randn(n, 2, 2, generator=gen, dtype=D)
    angle = 2 * math.pi * torch.rand(n, generator=gen, dtype=D)
    rot = torch.stack((torch.stack((angle.cos(), -angle.sin()), 1), torch.stack((angle.sin(), angle.cos()), 1)), 1)
    F[:, :2, :2] = rot @ block  # rotated: the directions are not the axes
    F[:, 2, 2] = torch.where(torch.arange(n) % 2 == 0, 1.0, 0.8 + 0.4 * torch.rand(n, generator=gen, dtype=D))
    F = F[torch.linalg.det(F) > 0.2]
    fast = principal(F)
    assert fast.plane is not None
    ref = principal(F.clone().requires_grad_(True))
    assert ref.plane is None
    assert torch.allclose(fast.lam.sort(dim=1).values, ref.lam.detach().sort(dim=1).values, rtol=0, atol=1e-12)
    assert torch.allclose(fast.jac, ref.jac.detach(), rtol=1e-13, atol=1e-14)
    for law in LAWS.values():
        P_fast, P_ref = law.first_piola(F), law.first_piola(F.clone().requires_grad_(True)).detach()
        size = P_ref.abs().amax(dim=(1, 2)).clamp_min(1.0)
        assert float(((P_fast - P_ref).abs().amax(dim=(1, 2)) / size).max()) <= 1e-11
        assert float(P_fast[:, 2, :2].abs().max()) == 0.0 and float(P_fast[:, :2, 2].abs().max()) == 0.0
        a_fast, a_ref = law.tangent_bound(F), law.tangent_bound(F.clone().requires_grad_(True))
        assert torch.allclose(a_fast, a_ref, rtol=1e-10)
