"""Element registry: shape functions, quadrature and facets, checked for every registered element."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from fem import generate
from fem.elements import ELEMENTS, ElementType, element_for_meshio, get_element
from fem.errors import MeshError

ALL = list(ELEMENTS.values())
IDS = [e.name for e in ALL]


def random_points(el: ElementType, n: int = 20, seed: int = 0) -> np.ndarray:
    """``(n, dim)`` random points inside the reference domain."""
    rng = np.random.default_rng(seed)
    if el.geometry == "cube":
        return rng.uniform(-1.0, 1.0, size=(n, el.dim))
    bary = rng.dirichlet(np.ones(el.dim + 1), size=n)  # inside the unit simplex
    return bary[:, 1:]


def exact_monomial_integral(el: ElementType, powers: tuple[int, ...]) -> float:
    """Integral of ``prod xi_i^k_i`` over the reference domain."""
    if el.geometry == "cube":
        return math.prod(0.0 if k % 2 else 2.0 / (k + 1) for k in powers)
    return math.prod(math.factorial(k) for k in powers) / math.factorial(sum(powers) + el.dim)


def monomials(el: ElementType, degree: int):
    """Exponent tuples of the monomials the rule of exactness ``degree`` must integrate exactly."""
    for powers in itertools.product(range(degree + 1), repeat=el.dim):
        if el.geometry == "cube" or sum(powers) <= degree:
            yield powers


def quadrature(el: ElementType, powers) -> float:
    return float(el.quad_weights @ np.prod(el.quad_points ** np.asarray(powers), axis=1))


@pytest.mark.parametrize("el", ALL, ids=IDS)
def test_registry_fields_are_consistent(el):
    assert el.ref_nodes.shape == (el.n_nodes, el.dim)
    assert el.quad_points.shape == (len(el.quad_weights), el.dim)
    assert get_element(el.name) is el
    assert element_for_meshio(el.meshio_type) is el
    assert sorted(el.mirror) == list(range(el.n_nodes))
    n_facet_nodes = 1 if el.facet_type == "point" else get_element(el.facet_type).n_nodes
    assert all(len(f) == n_facet_nodes for f in el.facets)
    if el.facet_type != "point":
        assert get_element(el.facet_type).dim == el.dim - 1


@pytest.mark.parametrize("el", ALL, ids=IDS)
def test_partition_of_unity(el):
    xi = random_points(el)
    np.testing.assert_allclose(el.shape(xi).sum(-1), 1.0, atol=1e-14)
    np.testing.assert_allclose(el.shape_grad(xi).sum(-2), 0.0, atol=1e-14)


@pytest.mark.parametrize("el", ALL, ids=IDS)
def test_kronecker_delta_at_nodes(el):
    np.testing.assert_allclose(el.shape(el.ref_nodes), np.eye(el.n_nodes), atol=1e-15)


@pytest.mark.parametrize("el", ALL, ids=IDS)
def test_shape_grad_equals_autograd(el):
    xi = torch.tensor(random_points(el, seed=1), dtype=torch.float64, requires_grad=True)
    N = el.shape(xi)
    auto = torch.stack([torch.autograd.grad(N[:, a].sum(), xi, retain_graph=True)[0] for a in range(el.n_nodes)], 1)
    grad = el.shape_grad(xi)
    assert isinstance(grad, torch.Tensor) and grad.dtype == torch.float64
    torch.testing.assert_close(grad, auto, rtol=0, atol=1e-14)


@pytest.mark.parametrize("el", ALL, ids=IDS)
def test_numpy_and_torch_agree_and_keep_type(el):
    xi = random_points(el, n=6).reshape(2, 3, el.dim)  # arbitrary leading axes
    n_np, g_np = el.shape(xi), el.shape_grad(xi)
    assert n_np.shape == (2, 3, el.n_nodes) and g_np.shape == (2, 3, el.n_nodes, el.dim)
    t32 = torch.tensor(xi, dtype=torch.float32)
    assert el.shape(t32).dtype == torch.float32 and el.shape_grad(t32).dtype == torch.float32
    np.testing.assert_allclose(el.shape(torch.tensor(xi)).numpy(), n_np, atol=1e-15)
    np.testing.assert_allclose(el.shape_grad(torch.tensor(xi)).numpy(), g_np, atol=1e-15)
    with pytest.raises(ValueError, match=r"\(\.\.\., "):
        el.shape(np.zeros((4, el.dim + 1)))


@pytest.mark.parametrize("el", ALL, ids=IDS)
def test_linear_completeness(el):
    xi = random_points(el, seed=2)
    np.testing.assert_allclose(el.shape(xi) @ el.ref_nodes, xi, atol=1e-14)
    grad_x = np.einsum("paj,ai->pij", el.shape_grad(xi), el.ref_nodes)
    np.testing.assert_allclose(grad_x, np.broadcast_to(np.eye(el.dim), grad_x.shape), atol=1e-14)


@pytest.mark.parametrize("el", ALL, ids=IDS)
def test_weights_sum_to_reference_volume(el):
    expected = 2.0**el.dim if el.geometry == "cube" else 1.0 / math.factorial(el.dim)
    assert el.reference_volume == pytest.approx(expected, rel=1e-15)
    assert el.quad_weights.sum() == pytest.approx(expected, rel=1e-15)


def test_reference_volumes_of_the_named_elements():
    volumes = {name: ELEMENTS[name].reference_volume for name in ("bar2", "tri3", "quad4", "tet4", "hex8")}
    assert volumes == pytest.approx({"bar2": 2.0, "tri3": 0.5, "quad4": 4.0, "tet4": 1 / 6, "hex8": 8.0})


@pytest.mark.parametrize("el", ALL, ids=IDS)
def test_quadrature_exact_to_its_degree_and_not_beyond(el):
    for powers in monomials(el, el.quad_degree):
        assert quadrature(el, powers) == pytest.approx(exact_monomial_integral(el, powers), abs=1e-14), powers
    # the declared degree is the true one: some monomial of the next degree is integrated wrongly
    errors = [abs(quadrature(el, p) - exact_monomial_integral(el, p)) for p in monomials(el, el.quad_degree + 1)]
    assert max(errors) > 1e-3


@pytest.mark.parametrize("el", ALL, ids=IDS)
def test_quadrature_points_inside_reference_domain(el):
    xi = el.quad_points
    if el.geometry == "cube":
        assert (np.abs(xi) < 1).all()
    else:
        assert (xi > 0).all() and (xi.sum(1) < 1).all()
    assert (el.quad_weights > 0).all()


def _faces_of_domain(el: ElementType, x: np.ndarray) -> set[tuple[str, int]]:
    """The reference-boundary faces on which all points ``x`` (k, dim) lie."""
    faces = set()
    for i in range(el.dim):
        for value in ((-1.0, 1.0) if el.geometry == "cube" else (0.0,)):
            if np.allclose(x[:, i], value):
                faces.add((f"{i}", int(value)))
    if el.geometry == "simplex" and np.allclose(x.sum(1), 1.0):
        faces.add(("slant", 1))
    return faces


@pytest.mark.parametrize("el", ALL, ids=IDS)
def test_facets_cover_the_reference_boundary(el):
    n_faces = 2 * el.dim if el.geometry == "cube" else el.dim + 1
    assert len(el.facets) == n_faces
    seen = set()
    for f in el.facets:
        faces = _faces_of_domain(el, el.ref_nodes[list(f)])
        assert len(faces) == 1, f"facet {f} does not lie on one face of the reference domain"
        seen |= faces
    assert len(seen) == n_faces  # every face of the reference domain is a facet


def _outward_normal(el: ElementType, x: np.ndarray, facet: tuple[int, ...]) -> np.ndarray:
    """Normal of ``facet`` (nodes of element coordinates ``x``) by the documented convention."""
    xf = x[list(facet)]
    if el.dim == 1:
        return np.array([-1.0 if facet == el.facets[0] else 1.0]) * np.sign(x[1] - x[0])
    fe = get_element(el.facet_type)
    centre = fe.quad_points.mean(0, keepdims=True)
    tangents = np.einsum("ai,aj->ij", xf, fe.shape_grad(centre)[0])  # (dim, dim-1)
    if el.dim == 2:
        return np.array([tangents[1, 0], -tangents[0, 0]])
    return np.cross(tangents[:, 0], tangents[:, 1])


@pytest.mark.parametrize("el", ALL, ids=IDS)
def test_facet_normals_point_outward(el):
    centroid = el.ref_nodes.mean(0)
    for f in el.facets:
        n = _outward_normal(el, el.ref_nodes, f)
        assert n @ (el.ref_nodes[list(f)].mean(0) - centroid) > 0, f"facet {f} is oriented inward"


@pytest.mark.parametrize("el", ALL, ids=IDS)
def test_mirror_reverses_orientation(el):
    xi = np.vstack([el.quad_points, el.ref_nodes])
    det = np.linalg.det(np.einsum("ai,qaj->qij", el.ref_nodes[list(el.mirror)], el.shape_grad(xi)))
    assert (det < 0).all()


@pytest.mark.parametrize("el", ALL, ids=IDS)
def test_edges(el):
    edges = np.array(el.edges)
    n_expected = el.dim * 2 ** (el.dim - 1) if el.geometry == "cube" else el.n_nodes * (el.n_nodes - 1) // 2
    assert len({tuple(sorted(e)) for e in el.edges}) == len(edges) == n_expected
    if el.geometry == "cube":  # edges join nodes that differ in one reference coordinate
        diff = el.ref_nodes[edges[:, 0]] - el.ref_nodes[edges[:, 1]]
        assert ((diff != 0).sum(1) == 1).all()


def test_get_element_errors_list_supported_types():
    with pytest.raises(MeshError, match="unknown element type 'tri6'.*bar2.*tri3.*quad4.*tet4.*hex8"):
        get_element("tri6")
    assert element_for_meshio("triangle6") is None
    assert element_for_meshio("hexahedron").name == "hex8"


MESHES = {
    "line": (lambda: generate.line(2.5, 7, origin=-1.0), 2.5),
    "quad4": (lambda: generate.rectangle(2.0, 3.0, 5, 4), 6.0),
    "quad4-jitter": (lambda: generate.rectangle(2.0, 3.0, 5, 4, jitter=0.24, seed=3), 6.0),
    "tri3": (lambda: generate.rectangle(2.0, 3.0, 5, 4, element="tri3"), 6.0),
    "tri3-jitter": (lambda: generate.rectangle(2.0, 3.0, 5, 4, element="tri3", jitter=0.24, seed=4), 6.0),
    "hex8": (lambda: generate.box(1.0, 2.0, 0.5, 3, 3, 2), 1.0),
    "hex8-jitter": (lambda: generate.box(1.0, 2.0, 0.5, 3, 3, 3, jitter=0.16, seed=5), 1.0),
    "tet4": (lambda: generate.box(1.0, 2.0, 0.5, 3, 3, 2, element="tet4"), 1.0),
    "tet4-jitter": (lambda: generate.box(1.0, 2.0, 0.5, 3, 3, 3, element="tet4", jitter=0.16, seed=6), 1.0),
}


@pytest.mark.parametrize("case", MESHES)
def test_physical_element_volumes_sum_to_domain_volume(case):
    make, volume = MESHES[case]
    mesh = make()
    el = mesh.element
    J = np.einsum("eai,qaj->eqij", mesh.points[mesh.cells], el.shape_grad(el.quad_points))
    vol = np.linalg.det(J) @ el.quad_weights
    assert (vol > 0).all()
    assert vol.sum() == pytest.approx(volume, rel=1e-12)
    np.testing.assert_allclose(mesh.cell_volumes(), vol, rtol=1e-12)
    if el.geometry == "simplex":  # independent formula: |det(edge vectors)| / dim!
        x = mesh.points[mesh.cells]
        simplex = np.linalg.det(x[:, 1:] - x[:, :1]) / math.factorial(el.dim)
        np.testing.assert_allclose(vol, simplex, rtol=1e-12)


@pytest.mark.parametrize("case", MESHES)
def test_affine_field_has_exact_gradient_on_physical_elements(case):
    mesh = MESHES[case][0]()
    el = mesh.element
    rng = np.random.default_rng(7)
    A, b = rng.normal(size=(mesh.dim, mesh.dim)), rng.normal(size=mesh.dim)
    u = mesh.points @ A.T + b  # (n_nodes, dim), u = A x + b
    J = np.einsum("eai,qaj->eqij", mesh.points[mesh.cells], el.shape_grad(el.quad_points))
    dN_dx = np.einsum("qaj,eqji->eqai", el.shape_grad(el.quad_points), np.linalg.inv(J))
    grad_u = np.einsum("eak,eqai->eqki", u[mesh.cells], dN_dx)
    np.testing.assert_allclose(grad_u, np.broadcast_to(A, grad_u.shape), atol=1e-11)
