"""fem.meshfiles: reading Gmsh / meshio files into a Mesh, writing VTU frames, PVD collections and meshes atomically."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import meshio
import numpy as np
import pytest
import torch

import fem.meshfiles as fio
from fem import generate
from fem.errors import MeshError
from fem.meshfiles import read_mesh, read_mesh_with_warnings, write_frame, write_mesh, write_pvd

# A unit square of two quads (Gmsh 2.2 ASCII). Node 4 is a geometry point that no element uses; physical tag 1
# exists in dimension 0 ("corner") and dimension 1 ("left").
SQUARE_QUADS = """$MeshFormat
2.2 0 8
$EndMeshFormat
$PhysicalNames
4
0 1 "corner"
1 1 "left"
1 2 "right"
2 3 "body"
$EndPhysicalNames
$Nodes
7
1 0 0 0
2 0.5 0 0
3 1 0 0
4 2 2 0
5 0 1 0
6 0.5 1 0
7 1 1 0
$EndNodes
$Elements
5
1 15 2 1 1 1
2 1 2 1 4 5 1
3 1 2 2 2 3 7
4 3 2 3 1 1 2 6 5
5 3 2 3 1 2 3 7 6
$EndElements
"""

# Two tetrahedra sharing the face z = 0, a named surface, an unnamed one (tag 7) and a named volume.
TETS = """$MeshFormat
2.2 0 8
$EndMeshFormat
$PhysicalNames
2
2 1 "base"
3 2 "solid"
$EndPhysicalNames
$Nodes
6
1 0 0 0
2 1 0 0
3 0 1 0
4 0 0 1
5 5 5 5
6 0 0 -1
$EndNodes
$Elements
4
1 2 2 1 1 1 2 3
2 2 2 7 2 1 2 4
3 4 2 2 1 1 2 3 4
4 4 2 2 1 1 3 2 6
$EndElements
"""


def msh22(nodes: list[tuple[float, float, float]], elements: list[str]) -> str:
    """A Gmsh 2.2 file; ``elements`` are element lines without their leading number."""
    lines = ["$MeshFormat", "2.2 0 8", "$EndMeshFormat", "$Nodes", str(len(nodes))]
    lines += [f"{i + 1} {x} {y} {z}" for i, (x, y, z) in enumerate(nodes)]
    lines += ["$EndNodes", "$Elements", str(len(elements))]
    lines += [f"{i + 1} {e}" for i, e in enumerate(elements)]
    return "\n".join(lines + ["$EndElements", ""])


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def coords(mesh, group: str) -> set[tuple[float, ...]]:
    return {tuple(p) for p in mesh.points[mesh.node_groups[group]].tolist()}


# ------------------------------------------------------------------------------------------- reading
def test_read_gmsh22_quads_groups_renumbering_and_z(tmp_path):
    mesh, warnings = read_mesh_with_warnings(write(tmp_path, "square.msh", SQUARE_QUADS))
    assert mesh.cell_type == "quad4" and mesh.points.shape == (6, 2)  # z dropped, geometry point removed
    assert mesh.cells.max() == 5 and mesh.check() == []
    np.testing.assert_allclose(mesh.points[mesh.cells[0]], [[0, 0], [0.5, 0], [0.5, 1], [0, 1]])
    np.testing.assert_allclose(mesh.points[mesh.cells[1]], [[0.5, 0], [1, 0], [1, 1], [0.5, 1]])
    assert coords(mesh, "left") == {(0.0, 0.0), (0.0, 1.0)}
    assert coords(mesh, "right") == {(1.0, 0.0), (1.0, 1.0)}
    assert coords(mesh, "corner") == {(0.0, 0.0)}
    assert len(mesh.node_groups["body"]) == 6
    assert mesh.cell_groups == {"body": pytest.approx([0, 1])}
    assert set(mesh.node_groups) == {"left", "right", "corner", "body"}
    assert any("removed 1 nodes" in w for w in warnings)
    assert mesh.select_nodes("left", y=1.0).tolist() == [int(np.flatnonzero((mesh.points == [0, 1]).all(1))[0])]


def test_read_gmsh22_tets_with_physical_surfaces(tmp_path):
    mesh = read_mesh(write(tmp_path, "tets.msh", TETS))
    assert mesh.cell_type == "tet4" and mesh.points.shape == (5, 3)
    assert (mesh.cell_volumes() > 0).all() and mesh.cell_volumes().sum() == pytest.approx(1 / 3)
    assert coords(mesh, "base") == {(0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)}
    assert coords(mesh, "physical_7") == {(0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)}
    assert mesh.cell_groups["solid"].tolist() == [0, 1] and len(mesh.node_groups["solid"]) == 5
    assert set(mesh.cell_groups) == {"solid"}  # surfaces are node groups only


def test_read_gmsh41_with_entities(tmp_path):
    text = """$MeshFormat
4.1 0 8
$EndMeshFormat
$PhysicalNames
2
1 1 "left"
2 2 "body"
$EndPhysicalNames
$Entities
1 1 1 0
5 3 3 0 0
1 0 0 0 0 1 0 1 1 0
1 0 0 0 1 1 0 1 2 0
$EndEntities
$Nodes
3 5 1 5
0 5 0 1
5
3 3 0
1 1 0 2
1
4
0 0 0
0 1 0
2 1 0 2
2
3
1 0 0
1 1 0
$EndNodes
$Elements
2 3 1 3
1 1 1 1
1 1 4
2 1 2 2
2 1 2 3
3 1 3 4
$EndElements
"""
    mesh, warnings = read_mesh_with_warnings(write(tmp_path, "square41.msh", text))
    assert mesh.cell_type == "tri3" and mesh.points.shape == (4, 2)
    assert coords(mesh, "left") == {(0.0, 0.0), (0.0, 1.0)}
    assert mesh.cell_groups["body"].tolist() == [0, 1]
    assert mesh.cell_volumes().sum() == pytest.approx(1.0)
    assert any("removed 1 nodes" in w for w in warnings)


def test_clockwise_surface_is_reoriented_with_a_note(tmp_path):
    nodes = [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0)]
    path = write(tmp_path, "cw.msh", msh22(nodes, ["2 2 0 1 1 3 2", "2 2 0 1 1 4 3"]))
    mesh, warnings = read_mesh_with_warnings(path)
    assert (mesh.cell_volumes() > 0).all() and mesh.cell_volumes().sum() == pytest.approx(1.0)
    assert any("reversed the node order of 2 of 2 cells" in w for w in warnings)


def test_folded_file_is_refused_while_a_mirrored_one_is_read(tmp_path):
    """Issue 10, item 2: two triangles of 50 and 10 mm^2 inside a 50 mm^2 boundary once the reader has
    reoriented the clockwise one; the same triangles listed clockwise and side by side read fine."""
    nodes = [(0, 0, 0), (10, 0, 0), (0, 10, 0), (4, 4, 0)]
    # (the file's element numbers 1 and 2, no longer the 0-based indices [0, 1]: issue 10)
    with pytest.raises(MeshError, match=r"folded\.msh: the mesh is folded .* cells \[1, 2\] \(the file's element "
                                        r"numbers\)"):
        read_mesh(write(tmp_path, "folded.msh", msh22(nodes, ["2 2 0 1 1 2 3", "2 2 0 1 2 4 3"])))
    nodes = [(0, 0, 0), (10, 0, 0), (0, 10, 0), (10, 10, 0)]
    mesh = read_mesh(write(tmp_path, "mirrored.msh", msh22(nodes, ["2 2 0 1 1 3 2", "2 2 0 1 2 3 4"])))
    assert mesh.cell_volumes().sum() == pytest.approx(100.0)


def test_constant_z_is_dropped_and_nonplanar_is_refused(tmp_path):
    nodes = [(0, 0, 3), (1, 0, 3), (0, 1, 3)]
    mesh, warnings = read_mesh_with_warnings(write(tmp_path, "z3.msh", msh22(nodes, ["2 2 0 1 1 2 3"])))
    assert mesh.points.shape == (3, 2) and any("z = 3" in w for w in warnings)
    nodes = [(0, 0, 0), (1, 0, 0), (0, 1, 0.5)]
    with pytest.raises(MeshError, match=r"plane z = const; z ranges over \[0, 0.5\]"):
        read_mesh(write(tmp_path, "tilted.msh", msh22(nodes, ["2 2 0 1 1 2 3"])))


def test_bar_mesh_along_x(tmp_path):
    nodes = [(0, 0, 0), (1, 0, 0), (3, 0, 0)]
    mesh = read_mesh(write(tmp_path, "bar.msh", msh22(nodes, ["1 2 0 1 1 2", "1 2 0 1 2 3", "15 2 4 1 3"])))
    assert mesh.cell_type == "bar2" and mesh.points.shape == (3, 1)
    assert mesh.node_groups["physical_4"].tolist() == [2]
    with pytest.raises(MeshError, match="line parallel to x"):
        read_mesh(write(tmp_path, "truss.msh", msh22([(0, 0, 0), (1, 1, 0)], ["1 2 0 1 1 2"])))


def test_unsupported_and_mixed_cell_types(tmp_path):
    nodes = [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0.5, 0, 0), (0.5, 0.5, 0), (0, 0.5, 0)]
    path = write(tmp_path, "p2.msh", msh22(nodes, ["9 2 1 1 1 2 3 4 5 6"]))
    with pytest.raises(MeshError, match=r"p2\.msh: unsupported cell type 'triangle6'; supported: line \(bar2\), "
                                        r"triangle \(tri3\), quad \(quad4\), tetra \(tet4\), hexahedron \(hex8\)"):
        read_mesh(path)
    nodes = [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0), (2, 0, 0)]
    path = write(tmp_path, "mixed.msh", msh22(nodes, ["3 2 1 1 1 2 3 4", "2 2 1 1 2 5 3"]))
    with pytest.raises(MeshError, match="mixed cell types of dimension 2: quad, triangle"):
        read_mesh(path)


def test_read_failures_name_the_file(tmp_path):
    missing = tmp_path / "nowhere" / "missing.msh"
    with pytest.raises(MeshError, match=re.escape(f"cannot read mesh file '{missing}': no such file")):
        read_mesh(missing)
    with pytest.raises(MeshError, match=r"mesh\.foo.*unknown extension '\.foo'"):
        read_mesh(write(tmp_path, "mesh.foo", "hello"))
    with pytest.raises(MeshError, match=r"cannot read mesh file '.*garbage\.msh': \S"):
        read_mesh(write(tmp_path, "garbage.msh", "$MeshFormat\nthis is not a mesh\n"))
    with pytest.raises(MeshError, match="not a file"):
        read_mesh(tmp_path)


def test_inverted_element_in_a_file_is_refused(tmp_path):
    # a bow-tie quad: negative and positive Jacobian, so it cannot be re-oriented
    nodes = [(0, 0, 0), (1, 0, 0), (0, 1, 0), (1, 1, 0)]
    with pytest.raises(MeshError, match=r"bowtie\.msh: 1 cells are inverted"):
        read_mesh(write(tmp_path, "bowtie.msh", msh22(nodes, ["3 2 0 1 1 2 3 4"])))


# ------------------------------------------------------------------------------------------- writing
def test_write_frame_2d_round_trip_with_padding(tmp_path):
    mesh = generate.rectangle(2.0, 1.0, 3, 2)
    rng = np.random.default_rng(0)
    u, temp = rng.normal(size=(mesh.n_nodes, 2)), rng.normal(size=mesh.n_nodes)
    stress, vel = rng.normal(size=(mesh.n_cells, 3)), rng.normal(size=(mesh.n_cells, 2))
    path = tmp_path / "frames" / "f0.vtu"
    write_frame(path, mesh, {"u": torch.tensor(u), "T": temp}, {"stress": stress, "v": vel})
    back = meshio.read(path)
    np.testing.assert_array_equal(back.points[:, :2], mesh.points)
    assert (back.points[:, 2] == 0).all()
    np.testing.assert_array_equal(back.cells_dict["quad"], mesh.cells)
    np.testing.assert_array_equal(back.point_data["u"], np.column_stack([u, np.zeros(mesh.n_nodes)]))
    np.testing.assert_array_equal(back.point_data["T"], temp)
    np.testing.assert_array_equal(back.cell_data["stress"][0], stress)  # 3 Voigt components: not a vector
    np.testing.assert_array_equal(back.cell_data["v"][0], np.column_stack([vel, np.zeros(mesh.n_cells)]))
    assert [p.name for p in path.parent.iterdir()] == ["f0.vtu"]  # no temporary file left


def test_write_frame_1d_and_3d(tmp_path):
    line = generate.line(1.0, 4)
    write_frame(tmp_path / "bar.vtu", line, {"u": np.ones((5, 1))}, {"strain": np.ones((4, 1))})
    back = meshio.read(tmp_path / "bar.vtu")
    assert back.point_data["u"].shape == (5, 3) and back.cell_data["strain"][0].shape in ((4,), (4, 1))
    box = generate.box(1.0, 1.0, 1.0, 1, 1, 2, element="tet4")
    u = np.arange(box.n_nodes * 3, dtype=float).reshape(-1, 3)
    write_frame(tmp_path / "box.vtu", box, {"u": u}, {})
    back = meshio.read(tmp_path / "box.vtu")
    np.testing.assert_array_equal(back.point_data["u"], u)
    np.testing.assert_array_equal(back.cells_dict["tetra"], box.cells)


def test_write_frame_rejects_wrong_sizes_and_writes_nothing(tmp_path):
    mesh = generate.rectangle(1.0, 1.0, 2, 2)
    with pytest.raises(ValueError, match="point_data 'u': expected 9 rows"):
        write_frame(tmp_path / "f.vtu", mesh, {"u": np.zeros((8, 2))}, {})
    with pytest.raises(ValueError, match="cell_data 's': expected 4 rows"):
        write_frame(tmp_path / "f.vtu", mesh, {}, {"s": np.zeros(3)})
    assert list(tmp_path.iterdir()) == []


def test_write_that_fails_midway_leaves_no_file(tmp_path, monkeypatch):
    mesh = generate.rectangle(1.0, 1.0, 2, 2)

    def broken_write(filename, *args, **kwargs):
        Path(filename).write_text("<VTKFile partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(fio.meshio, "write", broken_write)
    with pytest.raises(RuntimeError, match="disk full"):
        write_frame(tmp_path / "new.vtu", mesh, {}, {})
    assert list(tmp_path.iterdir()) == []
    old = tmp_path / "old.vtu"
    old.write_text("previous complete frame")
    with pytest.raises(RuntimeError, match="disk full"):
        write_mesh(old, mesh)
    assert [p.name for p in tmp_path.iterdir()] == ["old.vtu"] and old.read_text() == "previous complete frame"


def test_write_pvd_lists_the_frames(tmp_path):
    frames = [(0.0, "frames/f0.vtu"), (0.1, "frames/f1.vtu"), (1e-7 / 3, "frames/f2.vtu")]
    path = tmp_path / "run.pvd"
    write_pvd(path, frames[:1])
    write_pvd(path, frames)  # rewritten after each frame
    root = ET.parse(path).getroot()
    assert root.tag == "VTKFile" and root.get("type") == "Collection"
    datasets = root.find("Collection").findall("DataSet")
    assert [(float(d.get("timestep")), d.get("file")) for d in datasets] == frames
    assert [p.name for p in tmp_path.iterdir()] == ["run.pvd"]
    with pytest.raises(ValueError, match="not finite"):
        write_pvd(tmp_path / "bad.pvd", [(0.0, "a.vtu"), (float("nan"), "b.vtu")])
    assert not (tmp_path / "bad.pvd").exists()


@pytest.mark.parametrize("name, fmt", [("m.vtu", None), ("m.msh", None), ("m.msh", "gmsh22"), ("m.vtk", None)])
@pytest.mark.parametrize("make", [lambda: generate.rectangle(2.0, 1.0, 3, 2, element="tri3", jitter=0.2),
                                  lambda: generate.box(1.0, 2.0, 1.0, 2, 1, 1, element="hex8"),
                                  lambda: generate.line(2.0, 3)], ids=["tri3", "hex8", "bar2"])
def test_write_mesh_read_mesh_round_trip(tmp_path, name, fmt, make):
    mesh = make()
    write_mesh(tmp_path / name, mesh, file_format=fmt)
    back, warnings = read_mesh_with_warnings(tmp_path / name)
    assert back.cell_type == mesh.cell_type and warnings == []
    np.testing.assert_allclose(back.points, mesh.points, rtol=1e-15)
    np.testing.assert_array_equal(back.cells, mesh.cells)


def test_write_mesh_errors(tmp_path):
    with pytest.raises(MeshError, match=r"cannot write .*unknown extension '\.xyz'"):
        write_mesh(tmp_path / "m.xyz", generate.line(1.0, 2))
    with pytest.raises(MeshError, match=r"cannot write '.*m\.msh' as ansys: KeyError"):  # ANSYS has no line cells
        write_mesh(tmp_path / "m.msh", generate.line(1.0, 2), file_format="ansys")
    assert list(tmp_path.iterdir()) == []


def test_only_fem_meshfiles_imports_meshio():
    root = Path(fio.__file__).parent
    offenders = [p.name for p in root.glob("*.py")
                 if p.name != "meshfiles.py" and re.search(r"^\s*(import|from)\s+meshio\b", p.read_text(), re.M)]
    assert offenders == []


# ---------------------------------------------------------------------------------------------- the file's numbers
# Gmsh 2.2 with sparse node tags (10, 20, ...) and element tags (100, 7, 205): node 99 is a geometry point, the
# triangle tagged 7 is clockwise, and the two triangles 100 and 205 meet along an edge whose nodes are doubled
# (20 = 40, 30 = 60).
SPARSE = """$MeshFormat
2.2 0 8
$EndMeshFormat
$Nodes
8
10 0 0 0
20 1 0 0
30 0 1 0
99 5 5 0
40 1 0 0
50 1 1 0
60 0 1 0
70 -1 0 0
$EndNodes
$Elements
3
100 2 2 0 1 10 20 30
7 2 2 0 1 10 70 30
205 2 2 0 1 40 50 60
$EndElements
"""


def test_reader_notes_and_warnings_use_the_file_s_node_and_element_tags(tmp_path):
    mesh, warnings = read_mesh_with_warnings(write(tmp_path, "sparse.msh", SPARSE))
    text = "\n".join(warnings)
    assert "removed 1 nodes" in text and "nodes [99] (the file's node numbers)" in text
    assert "reversed the node order of 1 of 3 cells" in text and "cells [7] (the file's element numbers)" in text
    assert "2 pairs of nodes have the same coordinates" in text and "20=40, 30=60" in text
    assert "(0-based" not in text
    assert mesh.node_ids.tolist() == [10, 20, 30, 40, 50, 60, 70] and mesh.cell_ids.tolist() == [100, 7, 205]
    assert mesh.numbering == "tags" and mesh.node_id(0) == 10 and mesh.cell_id(2) == 205


def test_an_inverted_element_is_named_by_its_tag(tmp_path):
    # a bow-tie quad (tag 17: its determinant changes sign) after a good one (tag 3); node tags 11..16
    text = msh22([], []).replace("$Nodes\n0\n", "$Nodes\n6\n11 0 0 0\n12 1 0 0\n13 2 0 0\n14 0 1 0\n15 1 1 0\n"
                                 "16 2 1 0\n").replace("$Elements\n0\n", "$Elements\n2\n3 3 2 0 1 11 12 15 14\n"
                                                       "17 3 2 0 1 12 13 15 16\n")
    with pytest.raises(MeshError) as info:
        read_mesh(write(tmp_path, "bowtie.msh", text))
    message = str(info.value)
    assert "bowtie.msh: 1 cells are inverted or have zero volume" in message
    assert "cells [17]" in message and "at cell 17 (the file's element numbers)" in message


def test_gmsh41_tags_are_read(tmp_path):
    text = """$MeshFormat
4.1 0 8
$EndMeshFormat
$Nodes
1 4 3 41
2 1 0 4
3
8
41
9
0 0 0
0 1 0
1 0 0
9 9 0
$EndNodes
$Elements
1 1 50 50
2 1 2 1
50 3 8 41
$EndElements
"""
    mesh, warnings = read_mesh_with_warnings(write(tmp_path, "t41.msh", text))
    assert mesh.node_ids.tolist() == [3, 8, 41] and mesh.cell_ids.tolist() == [50]
    text = "\n".join(warnings)
    assert "nodes [9] (the file's node numbers)" in text and "cells [50] (the file's element numbers)" in text


def test_formats_without_numbers_give_1_based_positions(tmp_path):
    points = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0], [3, 3, 0]], dtype=float)
    cells = [("line", np.array([[0, 1]])), ("triangle", np.array([[0, 1, 2], [1, 2, 3]]))]  # 2nd triangle clockwise
    meshio.write(tmp_path / "pos.vtu", meshio.Mesh(points, cells))
    mesh, warnings = read_mesh_with_warnings(tmp_path / "pos.vtu")
    text = "\n".join(warnings)
    assert mesh.numbering == "positions" and mesh.cell_ids.tolist() == [2, 3]  # the line is cell 1 of the file
    assert "nodes [5] (1-based positions in the file)" in text and "cells [3] (1-based positions in the file)" in text
    points[3] = [0.5, 0.5, 0]  # the second triangle becomes degenerate (collinear nodes)
    meshio.write(tmp_path / "flat.vtu", meshio.Mesh(points, cells))
    with pytest.raises(MeshError, match=r"cells \[3\]; smallest .* at cell 3 \(1-based positions in the file\)"):
        read_mesh(tmp_path / "flat.vtu")


def test_a_binary_gmsh_file_falls_back_to_positions(tmp_path):
    mesh = generate.rectangle(2.0, 1.0, 2, 1, element="tri3")
    write_mesh(tmp_path / "bin.msh", mesh, file_format="gmsh22")
    back = read_mesh(tmp_path / "bin.msh")
    assert back.numbering in ("tags", "positions") and back.node_ids is not None and len(back.cell_ids) == 4


def test_a_mesh_without_numbers_says_its_indices_are_0_based():
    mesh = generate.rectangle(2.0, 1.0, 2, 1)
    assert mesh.node_ids is None and mesh.node_label([6]) == "[6] (0-based indices)"
    mesh.cells[1] = mesh.cells[1][[0, 1, 3, 2]]  # a bow tie
    with pytest.raises(MeshError, match=r"cells \[1\]; .* at cell 1 \(0-based indices\)"):
        mesh.check()


def test_an_element_on_an_undefined_node_is_named_by_its_tag(tmp_path):
    text = SPARSE.replace("205 2 2 0 1 40 50 60", "205 2 2 0 1 40 55 60")  # no node 55
    with pytest.raises(MeshError, match=r"1 cells refer to nodes that the file does not define: cells \[205\] "
                                        r"\(the file's element numbers\)"):
        read_mesh(write(tmp_path, "undefined.msh", text))
