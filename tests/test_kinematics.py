"""Strains, internal forces and the Voigt convention, over every registered element type."""

import numpy as np
import pytest
import torch

from fem import ELEMENTS, LinearElastic, generate
from fem.kinematics import geometry, internal_force, strain, strain_operator
from fem.mesh import Mesh

MODE = {1: "1d", 2: "plane_strain", 3: "3d"}


def jittered_mesh(name: str) -> Mesh:
    el = ELEMENTS[name]
    if el.dim == 1:
        mesh = generate.line(4.0, 6)
        x = mesh.points.copy()
        x[1:-1, 0] += np.random.default_rng(0).uniform(-0.2, 0.2, len(x) - 2) * (4.0 / 6)
        return Mesh(x, mesh.cells, mesh.cell_type, mesh.node_groups, mesh.cell_groups)
    if el.dim == 2:
        return generate.rectangle(3.0, 2.0, 5, 4, element=name, jitter=0.2, seed=1)
    return generate.box(3.0, 2.0, 1.5, 3, 3, 3, element=name, jitter=0.15, seed=1)


def interior_nodes(mesh: Mesh) -> np.ndarray:
    on_boundary = np.unique(mesh.boundary_facets())
    return np.setdiff1d(np.arange(mesh.n_nodes), on_boundary)


@pytest.mark.parametrize("name", sorted(ELEMENTS))
def test_patch_test_linear_displacements_give_exact_constant_strain(name):
    mesh = jittered_mesh(name)
    dim = mesh.dim
    rng = np.random.default_rng(3)
    A = rng.normal(size=(dim, dim)) * 1e-3
    u = torch.as_tensor(mesh.points @ A.T + rng.normal(size=dim))
    geom = geometry(mesh)
    eps = strain(geom, u)
    sym = 0.5 * (A + A.T)
    if dim == 1:
        expected = [A[0, 0]]
    elif dim == 2:
        expected = [sym[0, 0], sym[1, 1], 2 * sym[0, 1]]
    else:
        expected = [sym[0, 0], sym[1, 1], sym[2, 2], 2 * sym[1, 2], 2 * sym[0, 2], 2 * sym[0, 1]]
    assert torch.allclose(eps, torch.tensor(expected, dtype=torch.float64).expand_as(eps), atol=1e-15)
    # constant stress: the internal forces of interior nodes cancel
    mat = LinearElastic(200e3, 0.3, 1.0, MODE[dim])
    sig = mat.stress(eps.reshape(-1, geom.n_voigt)).reshape(eps.shape)
    f = internal_force(geom, sig)
    inner = interior_nodes(mesh)
    assert len(inner) > 0
    assert float(f[inner].abs().max()) <= 1e-10 * float(f.abs().max())


@pytest.mark.parametrize("name", sorted(ELEMENTS))
def test_strain_operator_matches_the_gradient_route(name):
    mesh = jittered_mesh(name)
    geom = geometry(mesh)
    u = torch.randn(mesh.n_nodes, mesh.dim, dtype=torch.float64)
    B = strain_operator(geom)
    via_b = torch.einsum("eqkd,ed->eqk", B, u[geom.cells].reshape(geom.cells.shape[0], -1))
    assert torch.allclose(via_b, strain(geom, u), atol=1e-12)


def test_voigt_convention_is_engineering_shear():
    """Simple shear u = (g y, 0): the strain vector is [0, 0, g] (not g/2, not g/sqrt 2) and the
    energy density sigma . eps equals the tensor contraction sigma : eps."""
    mesh = generate.rectangle(1.0, 1.0, 2, 2, element="quad4")
    g = 1e-3
    u = torch.as_tensor(np.column_stack((g * mesh.points[:, 1], 0 * mesh.points[:, 1])))
    eps = strain(geometry(mesh), u)
    assert torch.allclose(eps, torch.tensor([0.0, 0.0, g], dtype=torch.float64).expand_as(eps))
    mat = LinearElastic(200e3, 0.3, 1.0, "plane_strain")
    sig = mat.stress(eps.reshape(-1, 3))
    tensor_eps = torch.tensor([[0, g / 2], [g / 2, 0]], dtype=torch.float64)
    mu = mat.shear_modulus
    tensor_sig = 2 * mu * tensor_eps
    assert torch.allclose((sig * eps.reshape(-1, 3)).sum(1), (tensor_sig * tensor_eps).sum().expand(sig.shape[0]))


def test_element_volumes_with_section():
    mesh = generate.rectangle(3.0, 2.0, 3, 2, element="tri3")
    geom = geometry(mesh, section=0.5)
    assert float(geom.volume.sum()) == pytest.approx(3.0)
