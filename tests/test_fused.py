"""The compiled element kernels against the torch path: the same internal force, strain and stress, and runs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fem import ExplicitSolver, InitialVelocity, generate
from fem.errors import InputError
from fem.fused import AUTO_MIN_ELEMENTS, FusedForce, small_strain_force
from fem.kinematics import InternalForce, geometry
from fem.materials import HardeningCubic, LinearElastic

pytestmark = pytest.mark.skipif(not __import__("fem.fused").fused.AVAILABLE, reason="numba is not installed")


def mesh_of(element: str, seed: int):
    if element in ("tri3", "quad4"):
        return generate.rectangle(3.0, 2.0, 7, 5, element=element, jitter=0.2, seed=seed)
    return generate.box(2.0, 1.5, 1.0, 4, 3, 2, element=element, jitter=0.15, seed=seed)


def laws(dim: int):
    mode = "plane_strain" if dim == 2 else "3d"
    return [LinearElastic(70e3, 0.33, 2.7e-9, mode), HardeningCubic(1000.0, 0.05, 0.1, 0.3, 1e-9, mode)]


@pytest.mark.parametrize("element", ["tri3", "quad4", "tet4", "hex8"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_the_compiled_force_equals_the_torch_force(element, dtype):
    """Linear (one fused pass) and nonlinear (strain pass, material, force pass) laws, distorted meshes."""
    for seed in range(3):
        mesh = mesh_of(element, seed)
        geom = geometry(mesh, dtype=dtype)
        u = torch.as_tensor(np.random.default_rng(seed).standard_normal(mesh.n_nodes * mesh.dim) * 1e-3, dtype=dtype)
        for law in laws(mesh.dim):
            ref, got = torch.empty_like(u), torch.empty_like(u)
            e1, s1 = InternalForce(geom, law)(u, ref)
            fused = FusedForce(geom, law)
            assert fused.linear == (getattr(law, "linear", False) is True)
            e2, s2 = fused(u, got)
            tol = 1e-12 if dtype == torch.float64 else 2e-5
            scale = float(ref.abs().max())
            assert float((got - ref).abs().max()) <= tol * scale, (element, law)
            assert torch.allclose(e2, e1, rtol=0, atol=tol * float(e1.abs().max()))
            assert torch.allclose(s2, s1, rtol=0, atol=tol * float(s1.abs().max()))


def test_a_run_with_the_compiled_kernel_follows_the_torch_run():
    mesh = generate.rectangle(4.0, 1.0, 16, 4, element="quad4", jitter=0.2)
    law = laws(2)[1]
    v0 = np.random.default_rng(1).standard_normal((mesh.n_nodes, 2)) * 50.0
    runs = {}
    for kernel in ("torch", "compiled"):
        solver = ExplicitSolver(mesh, law, [], InitialVelocity(field=v0), kernel=kernel)
        s = solver.initial_state(2e-7)
        for _ in range(200):
            s = solver.step(s)
        runs[kernel] = s.u.clone()
    assert torch.allclose(runs["compiled"], runs["torch"], rtol=0, atol=1e-12 * float(runs["torch"].abs().max()))
    assert float(runs["torch"].abs().max()) > 0


def test_a_non_finite_displacement_gives_a_non_finite_force():
    """The kernels are compiled without the no-NaN/no-inf assumptions: a blow-up stays visible."""
    mesh = mesh_of("quad4", 0)
    geom = geometry(mesh)
    u = torch.zeros(mesh.n_nodes * 2, dtype=torch.float64)
    u[7] = math.nan
    for law in laws(2):
        f = torch.empty_like(u)
        FusedForce(geom, law)(u, f)
        assert not bool(torch.isfinite(f).all())


def test_the_kernel_choice():
    small = geometry(mesh_of("quad4", 0))
    law = laws(2)[0]
    assert isinstance(small_strain_force(small, law), InternalForce)  # auto: small mesh, torch
    assert isinstance(small_strain_force(small, law, "compiled"), FusedForce)
    n = math.ceil(math.sqrt(AUTO_MIN_ELEMENTS))
    big = geometry(generate.rectangle(1.0 * n, 1.0 * n, n, n))
    assert isinstance(small_strain_force(big, law), FusedForce)
    assert isinstance(small_strain_force(big, law, "torch"), InternalForce)
    with pytest.raises(InputError, match="kernel must be one of"):
        small_strain_force(small, law, "fast")
    bar = geometry(generate.line(1.0, 4))
    with pytest.raises(InputError, match="2-D or 3-D"):
        small_strain_force(bar, LinearElastic(1.0, 0.0, 1.0, "1d"), "compiled")
