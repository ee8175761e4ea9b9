"""Mesh container, validation, node selection and the structured mesh generators."""

from __future__ import annotations

import numpy as np
import pytest

from fem import generate
from fem.elements import ELEMENTS
from fem.errors import MeshError
from fem.mesh import Mesh


def interior_faces_shared_by_two(mesh: Mesh) -> tuple[np.ndarray, np.ndarray]:
    """Sorted faces of all cells, and how many cells share each."""
    local = np.array(mesh.element.facets)
    faces = np.sort(mesh.cells[:, local].reshape(-1, local.shape[1]), axis=1)
    return np.unique(faces, axis=0, return_counts=True)


def on_box_boundary(mesh: Mesh, faces: np.ndarray, groups=("left", "right", "bottom", "top", "back", "front")):
    """For each face: do all its nodes lie in one common boundary group?"""
    inside = [np.isin(faces, mesh.node_groups[g]).all(axis=1) for g in groups]
    return np.any(inside, axis=0)


# ------------------------------------------------------------------------------------------- generators
def test_line():
    mesh = generate.line(3.0, 6, origin=1.0)
    assert mesh.cell_type == "bar2" and mesh.n_nodes == 7 and mesh.n_cells == 6 and mesh.dim == 1
    assert mesh.points[:, 0] == pytest.approx(np.linspace(1.0, 4.0, 7))
    assert mesh.node_groups["left"].tolist() == [0] and mesh.node_groups["right"].tolist() == [6]
    assert (mesh.cell_volumes() > 0).all() and mesh.check() == []
    assert mesh.min_edge_length() == pytest.approx(0.5)
    assert mesh.boundary_facets().tolist() == [[0], [6]]


@pytest.mark.parametrize("element, per_square", [("quad4", 1), ("tri3", 2)])
def test_rectangle_counts_groups_orientation(element, per_square):
    mesh = generate.rectangle(4.0, 2.0, 4, 3, element=element, origin=(-1.0, 5.0))
    assert mesh.cell_type == element and mesh.dim == 2
    assert mesh.n_nodes == 5 * 4 and mesh.n_cells == 12 * per_square
    x, y = mesh.points.T
    expected = {"left": x == -1.0, "right": x == 3.0, "bottom": y == 5.0, "top": y == 7.0, "all": x == x}
    assert set(mesh.node_groups) == set(expected)
    for name, mask in expected.items():
        assert mesh.node_groups[name].tolist() == np.flatnonzero(mask).tolist(), name
    vol = mesh.cell_volumes()
    assert (vol > 0).all() and vol.sum() == pytest.approx(8.0)
    assert mesh.check() == []
    assert mesh.min_edge_length() == pytest.approx(2.0 / 3.0)


def test_rectangle_tri3_diagonals_alternate():
    mesh = generate.rectangle(2.0, 1.0, 2, 1, element="tri3")
    # squares (0, 0) and (1, 0): nodes 0 1 4 3 and 1 2 5 4
    diag = [set(mesh.cells[0]) & set(mesh.cells[1]), set(mesh.cells[2]) & set(mesh.cells[3])]
    assert diag == [{0, 4}, {2, 4}]


@pytest.mark.parametrize("element, per_hex", [("hex8", 1), ("tet4", 6)])
def test_box_counts_groups_volumes(element, per_hex):
    mesh = generate.box(1.0, 2.0, 3.0, 2, 3, 4, element=element, origin=(1.0, 0.0, -1.0))
    assert mesh.cell_type == element and mesh.n_nodes == 3 * 4 * 5 and mesh.n_cells == 24 * per_hex
    x, y, z = mesh.points.T
    expected = {"left": x == 1.0, "right": x == 2.0, "bottom": y == 0.0, "top": y == 2.0, "back": z == -1.0,
                "front": z == 2.0, "all": x == x}
    assert set(mesh.node_groups) == set(expected)
    for name, mask in expected.items():
        assert mesh.node_groups[name].tolist() == np.flatnonzero(mask).tolist(), name
    vol = mesh.cell_volumes()
    assert (vol > 0).all() and vol.sum() == pytest.approx(6.0)
    assert mesh.check() == []


def test_tet4_split_is_conforming():
    nx, ny, nz = 3, 2, 4
    mesh = generate.box(1.0, 1.0, 1.0, nx, ny, nz, element="tet4")
    faces, counts = interior_faces_shared_by_two(mesh)
    assert counts.max() == 2
    boundary = faces[counts == 1]
    assert on_box_boundary(mesh, boundary).all()  # no hanging face inside the box
    assert len(boundary) == 4 * (nx * ny + ny * nz + nz * nx)
    assert len(mesh.boundary_facets()) == len(boundary)


def test_conformity_check_detects_a_nonconforming_split():
    """The test above can fail: mirror the split of one hexahedron, which cuts the shared face x = 1 along
    the other diagonal."""
    mesh = generate.box(2.0, 1.0, 1.0, 2, 1, 1, element="tet4")
    hexes = generate.box(2.0, 1.0, 1.0, 2, 1, 1).cells
    mirrored = hexes[1][[3, 2, 1, 0, 7, 6, 5, 4]]  # reflect y within the second hexahedron
    tets = mirrored[generate._KUHN][:, [0, 2, 1, 3]]  # the reflection flips the orientation: swap back
    bad = Mesh(mesh.points, np.vstack([mesh.cells[:6], tets]), "tet4", mesh.node_groups)
    assert bad.check() == []  # a valid mesh of positive tetrahedra ...
    faces, counts = interior_faces_shared_by_two(bad)
    assert not on_box_boundary(bad, faces[counts == 1]).all()  # ... but not conforming at x = 1


@pytest.mark.parametrize("element, limit", [("quad4", 0.25), ("tri3", 0.25), ("hex8", 1 / 6), ("tet4", 1 / 6)])
def test_jitter_moves_interior_nodes_only_and_never_inverts(element, limit):
    counts = (6, 5) if element in ("quad4", "tri3") else (4, 3, 3)

    def make(jitter, seed):
        if len(counts) == 2:
            return generate.rectangle(2.0, 1.0, *counts, element=element, jitter=jitter, seed=seed)
        return generate.box(2.0, 1.0, 1.5, *counts, element=element, jitter=jitter, seed=seed)

    plain = make(0.0, 0)
    h = np.ptp(plain.points, axis=0) / np.array(counts)
    boundary = np.unique(np.concatenate([g for k, g in plain.node_groups.items() if k != "all"]))
    for seed in range(20):
        mesh = make(0.999 * limit, seed)
        assert mesh.check() == []
        assert (mesh.cell_volumes() > 0).all()
        shift = mesh.points - plain.points
        assert (shift[boundary] == 0).all()
        interior = np.setdiff1d(np.arange(mesh.n_nodes), boundary)
        assert (np.abs(shift[interior]) <= limit * h + 1e-15).all() and (shift[interior] != 0).all()
    np.testing.assert_array_equal(make(0.1, 3).points, make(0.1, 3).points)
    assert not np.array_equal(make(0.1, 3).points, make(0.1, 4).points)
    for bad in (limit, -0.01, 0.3, float("nan"), "0.1"):
        with pytest.raises(MeshError, match="jitter must be"):
            make(bad, 0)


def test_jitter_limit_is_sharp_in_2d():
    """Just above 1/4 a quad can invert: the worst corner of the displacement box of three nodes."""
    corner = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    r = 0.26
    worst = corner + r * np.array([[1, 1], [-1, -1], [-1, -1]])
    edges = worst[1:] - worst[0]
    assert np.linalg.det(edges) < 0


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: generate.line(0.0, 3), "length must be a positive"),
        (lambda: generate.line(1.0, 0), "n must be an integer >= 1"),
        (lambda: generate.line(1.0, 2.5), "n must be an integer"),
        (lambda: generate.line(1.0, True), "n must be an integer"),
        (lambda: generate.rectangle(-1.0, 1.0, 2, 2), "lx must be a positive"),
        (lambda: generate.rectangle(1.0, float("inf"), 2, 2), "ly must be a positive"),
        (lambda: generate.rectangle(1.0, 1.0, 2, 2, element="hex8"), "element must be one of quad4, tri3"),
        (lambda: generate.rectangle(1.0, 1.0, 2, 2, origin=(0.0,)), "origin must be 2 finite"),
        (lambda: generate.box(1.0, 1.0, 1.0, 1, 1, 0), "nz must be an integer >= 1"),
        (lambda: generate.box(1.0, 1.0, 1.0, 1, 1, 1, element="tri3"), "element must be one of hex8, tet4"),
        (lambda: generate.box(1.0, 1.0, 1.0, 1, 1, 1, origin="000"), "origin must be 3 finite"),
    ],
)
def test_generator_argument_errors(call, message):
    with pytest.raises(MeshError, match=message):
        call()


# ------------------------------------------------------------------------------------------- select_nodes
@pytest.fixture
def grid():
    return generate.rectangle(2.0, 1.0, 4, 2)  # nodes at x = 0, .5, 1, 1.5, 2 and y = 0, .5, 1


def test_select_by_group_value_range_and_combined(grid):
    x, y = grid.points.T
    assert grid.select_nodes("left").tolist() == np.flatnonzero(x == 0).tolist()
    assert grid.select_nodes(x=1.0).tolist() == np.flatnonzero(x == 1.0).tolist()
    assert grid.select_nodes(x=1.0 + 1e-9).tolist() == np.flatnonzero(x == 1.0).tolist()  # default tolerance
    assert grid.select_nodes(y=[0.25, 1.0]).tolist() == np.flatnonzero(y >= 0.5).tolist()
    middle = (y == 0.5) & (x >= 0.5) & (x <= 1.5)
    assert grid.select_nodes(x=[0.5, 1.5], y=0.5).tolist() == np.flatnonzero(middle).tolist()
    assert grid.select_nodes("top", x=[1.5, 2.0]).tolist() == np.flatnonzero((y == 1.0) & (x >= 1.5)).tolist()
    assert grid.select_nodes(x=0.4, tol=0.1).tolist() == np.flatnonzero(x == 0.5).tolist()
    assert grid.select_nodes(x=np.float64(2.0)).dtype == np.int64


def test_select_errors(grid):
    with pytest.raises(MeshError, match="unknown node group 'clamp'.*all, bottom, left, right, top"):
        grid.select_nodes("clamp")
    with pytest.raises(MeshError, match=r"no node matches x = 0\.3 .*x in \[0, 2\], y in \[0, 1\]"):
        grid.select_nodes(x=0.3)
    with pytest.raises(MeshError, match=r"no node matches group 'left' and x = 2"):
        grid.select_nodes("left", x=2.0)
    with pytest.raises(MeshError, match="has no z coordinate"):
        grid.select_nodes(z=0.0)
    with pytest.raises(MeshError, match="string"):
        grid.select_nodes(x="__import__('os').getcwd()")
    with pytest.raises(MeshError, match=r"lo <= hi"):
        grid.select_nodes(x=[1.0, 0.0])
    with pytest.raises(MeshError, match=r"lo <= hi"):
        grid.select_nodes(x=[0.0, 1.0, 2.0])
    with pytest.raises(MeshError, match="give a group"):
        grid.select_nodes()


# ------------------------------------------------------------------------------------------- check
MAKERS = {
    "bar2": lambda: generate.line(1.0, 5),
    "tri3": lambda: generate.rectangle(1.0, 1.0, 3, 3, element="tri3"),
    "quad4": lambda: generate.rectangle(1.0, 1.0, 3, 3),
    "tet4": lambda: generate.box(1.0, 1.0, 1.0, 2, 2, 2, element="tet4"),
    "hex8": lambda: generate.box(1.0, 1.0, 1.0, 2, 2, 2),
}


def test_makers_cover_every_element():
    assert set(MAKERS) == set(ELEMENTS)


@pytest.mark.parametrize("name", MAKERS)
def test_check_names_an_inverted_cell(name):
    mesh = MAKERS[name]()
    mesh.cells[3, [0, 1]] = mesh.cells[3, [1, 0]]
    with pytest.raises(MeshError, match=r"1 cells are inverted.*cells \[3\].*at cell 3"):
        mesh.check()


@pytest.mark.parametrize("name", MAKERS)
def test_orient_repairs_mirrored_cells(name):
    mesh = MAKERS[name]()
    original = mesh.cell_volumes()
    mesh.cells[1::2] = mesh.cells[1::2][:, list(mesh.element.mirror)]
    assert (mesh.cell_volumes()[1::2] < 0).all()
    assert mesh.orient() == len(mesh.cells[1::2])
    assert mesh.check() == []
    np.testing.assert_allclose(mesh.cell_volumes(), original)


def test_check_zero_volume_element():
    mesh = Mesh(np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [0.0, 1.0]]), [[0, 1, 3], [0, 1, 2]], "tri3")
    with pytest.raises(MeshError, match=r"0 inverted, 1 degenerate\): cells \[1\]"):
        mesh.check()


def test_check_evaluates_quad4_and_hex8_at_the_nodes():
    """Concave elements whose Jacobian is positive at every Gauss point but negative at one node."""
    quad = Mesh(np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [1.0, 0.8]]), [[0, 1, 2, 3]], "quad4")
    assert (quad.jacobian_determinants() > 0).all()
    with pytest.raises(MeshError, match="inverted"):
        quad.check()
    el = ELEMENTS["hex8"]
    points = (el.ref_nodes + 1) / 2
    points[6] = 0.55
    hexa = Mesh(points, [list(range(8))], "hex8")
    assert (hexa.jacobian_determinants() > 0).all()
    with pytest.raises(MeshError, match="inverted"):
        hexa.check()


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: setattr(m, "cell_type", "tri6"), "unknown element type 'tri6'; supported: bar2, tri3, quad4, tet4"),
        (lambda m: m.cells.__setitem__((2, 1), 99), r"node indices outside \[0, 15\]: cells \[2\]"),
        (lambda m: m.cells.__setitem__((0, 0), -1), r"outside \[0, 15\]: cells \[0\]"),
        (lambda m: setattr(m, "cells", m.cells.astype(float)), "cells must be an integer array"),
        (lambda m: setattr(m, "cells", m.cells[:, :3]), r"cells must be an integer array \(n_cells, 4\)"),
        (lambda m: setattr(m, "cells", m.cells[:0]), "no cells"),
        (lambda m: setattr(m, "points", np.hstack([m.points, np.zeros((16, 1))])), "quad4 cells need 2-D points"),
        (lambda m: setattr(m, "points", m.points[:, 0]), "points must be a 2-D float array"),
        (lambda m: m.points.__setitem__((5, 0), np.nan), r"non-finite coordinates: \[5\]"),
        (lambda m: m.node_groups.__setitem__("far", np.array([3, 40])), r"node group 'far' has indices outside"),
        (lambda m: m.cell_groups.__setitem__("far", np.array([9])), r"cell group 'far' has indices outside"),
    ],
)
def test_check_errors(change, message):
    mesh = generate.rectangle(1.0, 1.0, 3, 3)
    change(mesh)
    with pytest.raises(MeshError, match=message):
        mesh.check()


def test_check_warns_about_unused_and_duplicate_nodes():
    mesh = generate.rectangle(2.0, 1.0, 2, 1)  # nodes 0 1 2 / 3 4 5
    points = np.vstack([mesh.points, mesh.points[[1, 4]], [[9.0, 9.0]]])  # 6, 7 copy 1, 4; 8 unused
    cells = mesh.cells.copy()
    cells[1] = [6, 2, 5, 7]  # the second quad uses the copies: a crack along x = 1
    warnings = Mesh(points, cells, "quad4").check()
    assert len(warnings) == 2
    text = "\n".join(warnings)
    assert "1 of 9 nodes belong to no cell: nodes [8]" in text
    assert "2 pairs of nodes have the same coordinates" in text and "1=6" in text and "4=7" in text
    assert generate.rectangle(2.0, 1.0, 2, 1).check() == []


def test_mesh_converts_inputs():
    mesh = Mesh([[0, 0], [1, 0], [0, 1]], [[0, 1, 2]], "tri3", node_groups={"a": [2, 0, 2]}, cell_groups={"c": [0]})
    assert mesh.points.dtype == np.float64 and mesh.cells.dtype == np.int64
    assert mesh.node_groups["a"].tolist() == [0, 2] and mesh.node_groups["a"].dtype == np.int64
    assert mesh.cell_groups["c"].dtype == np.int64
    assert mesh.element is ELEMENTS["tri3"] and mesh.check() == []
    assert "tri3" in repr(mesh)


# ------------------------------------------------------------------------------------------- boundary
@pytest.mark.parametrize("name", ["tri3", "quad4", "tet4", "hex8"])
def test_boundary_facets_are_on_the_boundary_and_outward(name):
    mesh = MAKERS[name]()  # unit square / unit cube
    facets = mesh.boundary_facets()
    n = 3 if mesh.dim == 2 else 2
    per_side = n if mesh.dim == 2 else n * n * (2 if name == "tet4" else 1)
    assert facets.shape == (2 * mesh.dim * per_side, len(mesh.element.facets[0]))
    x = mesh.points[facets]  # (f, k, dim)
    on_side = np.isclose(x, 0.0).all(axis=1) | np.isclose(x, 1.0).all(axis=1)
    assert on_side.any(axis=1).all()
    t1 = x[:, 1] - x[:, 0]
    normal = np.stack([t1[:, 1], -t1[:, 0]], 1) if mesh.dim == 2 else np.cross(t1, x[:, 2] - x[:, 0])
    outward = np.einsum("fi,fi->f", normal, x.mean(1) - 0.5)
    assert (outward > 0).all()


# -- folded meshes (issue 10, item 2) ---------------------------------------------------------------
def _folded_triangles() -> Mesh:
    """Two triangles on the same side of their shared edge 1-2: 50 + 10 mm^2 of cells in a 50 mm^2 domain.

    The second one is listed clockwise, as a file whose orientation the reader flips would list it."""
    points = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [4.0, 4.0]])
    return Mesh(points, np.array([[0, 1, 2], [1, 3, 2]]), "tri3")


def test_a_folded_mesh_is_refused_after_orientation_naming_the_cells():
    mesh = _folded_triangles()
    assert mesh.orient() == 1
    assert mesh.cell_volumes().sum() == pytest.approx(60.0)  # more than the 50 mm^2 the boundary encloses
    with pytest.raises(MeshError, match=r"folded .* cells \[0, 1\]"):
        mesh.check()


def test_a_mirrored_mesh_is_accepted_after_orientation():
    mesh = generate.rectangle(3.0, 2.0, 3, 2, element="tri3")
    mirrored = Mesh(mesh.points.copy(), mesh.cells[:, ::-1].copy(), "tri3")  # every cell clockwise
    assert mirrored.orient() == mesh.n_cells
    mirrored.check()
    assert mirrored.cell_volumes().sum() == pytest.approx(6.0)


@pytest.mark.parametrize("name", ["quad4", "tri3", "hex8", "tet4"])
def test_generated_meshes_are_not_folded(name):
    make = generate.rectangle if name in ("quad4", "tri3") else generate.box
    sizes = (2.0, 1.0, 3, 2) if name in ("quad4", "tri3") else (2.0, 1.0, 1.0, 2, 2, 2)
    make(*sizes, element=name, jitter=0.1, seed=3).check()


def test_a_folded_tetrahedral_pair_is_refused():
    points = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0.2, 0.2, 0.2]])
    mesh = Mesh(points, np.array([[0, 1, 2, 3], [1, 2, 3, 4]]), "tet4")  # both on the origin's side of face 1-2-3
    mesh.orient()
    with pytest.raises(MeshError, match="folded"):
        mesh.check()


def test_three_triangles_on_one_edge_are_non_manifold():
    points = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, 1.0], [0.5, -1.0], [2.0, 0.5]])
    mesh = Mesh(points, np.array([[0, 1, 2], [1, 0, 3], [1, 4, 2]]), "tri3")
    mesh.check()  # a valid fan: edges 0-1 and 1-2 have one cell on each side
    fan = Mesh(points, np.array([[0, 1, 2], [1, 0, 3], [0, 1, 4]]), "tri3")  # a third cell on edge 0-1
    fan.orient()
    with pytest.raises(MeshError, match="non-manifold|folded"):
        fan.check()
