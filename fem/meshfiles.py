"""Mesh files in, ParaView files out: the only module of the project that imports meshio.

Reading (:func:`read_mesh`) accepts anything meshio reads (Gmsh ``.msh`` 2.2 and 4.1 with physical groups,
``.vtu``, ``.vtk``, ``.inp``, ...) and returns a checked :class:`fem.mesh.Mesh`. Writing is atomic: each file is
written to a temporary name in the destination folder and renamed over the destination, so a reader (or a run
killed midway) sees either the previous file or the complete new one.

Coordinates are copied unchanged: they are in whatever length unit the file uses.
"""

from __future__ import annotations

import contextlib
import io
import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path

import meshio
import numpy as np

from .atomic import atomic_path, write_text
from .elements import ELEMENTS, ElementType, element_for_meshio
from .errors import MeshError
from .mesh import Mesh, label

_AXES = "xyz"


# ---------------------------------------------------------------------------------------------- reading
def read_mesh(path: str | os.PathLike[str]) -> Mesh:
    """Read a mesh file; see :func:`read_mesh_with_warnings` (whose warnings this drops)."""
    return read_mesh_with_warnings(path)[0]


def read_mesh_with_warnings(path: str | os.PathLike[str]) -> tuple[Mesh, list[str]]:
    """Read a mesh file into a checked :class:`fem.mesh.Mesh`, with notes and warnings for the user.

    - The cells of the highest dimension present become the mesh; they must all be of one supported type
      (``line``, ``triangle``, ``quad``, ``tetra``, ``hexahedron``).
    - Constant trailing coordinates are dropped: z of a 2-D mesh, y and z of a 1-D mesh (a 2-D mesh must lie
      in a plane z = const, a 1-D mesh on a line parallel to x).
    - Physical groups (Gmsh ``gmsh:physical`` cell data named through ``field_data``; also meshio ``cell_sets``
      and ``point_sets``): a group of top-dimension cells becomes a cell group and a node group of its nodes;
      a group of lower-dimension cells (boundary lines, faces, points) becomes a node group. Unnamed Gmsh groups
      are called ``physical_<tag>``; physical tag 0 means "no group".
    - Nodes used by no top-dimension cell (Gmsh keeps geometry points) are removed and the cells and node
      groups renumbered.
    - Cells whose Jacobian determinant is negative everywhere (a clockwise surface, a mirrored node order) get
      their node order reversed, with a note; cells that are tangled or degenerate still fail the check.
    - Messages name nodes and cells as the file numbers them: the node and element tags of an ASCII Gmsh file
      (:attr:`fem.mesh.Mesh.node_ids`, :attr:`~fem.mesh.Mesh.cell_ids`), else their 1-based positions in
      the file (all cells counted, in the order of the file), and say which.

    Parameters
    ----------
    path
        The mesh file; the format is deduced from the extension.

    Returns
    -------
    (mesh, warnings)
        The mesh (after :meth:`~fem.mesh.Mesh.check`) and the notes of this conversion followed by the warnings
        of the check, one string each.

    Raises
    ------
    MeshError
        The file is missing or unreadable (the message names the file and the reason), or its cells cannot be
        used (unsupported or mixed types, a non-planar 2-D mesh, inverted elements, ...).
    """
    path = Path(path)
    raw = _read_meshio(path)
    try:
        mesh, notes = _from_meshio(raw, _file_numbers(path, raw))
        notes += mesh.check()
    except MeshError as err:
        raise MeshError(f"{path}: {err}") from None
    return mesh, [f"{path}: {note}" for note in notes]


_PREFERRED = {".msh": "gmsh"}  # meshio lists ANSYS first for .msh; in this project .msh means Gmsh


def _formats_of(path: Path) -> list[str]:
    """meshio formats for the file extension (longest matching suffix chain), the preferred one first."""
    ext = ""
    for suffix in reversed(path.suffixes):
        ext = (suffix + ext).lower()
        formats = list(meshio.extension_to_filetypes.get(ext, []))
        if formats:
            first = _PREFERRED.get(ext)
            return sorted(formats, key=lambda f: f != first)
    return []


def _read_meshio(path: Path) -> meshio.Mesh:
    if not path.exists():
        raise MeshError(f"cannot read mesh file '{path}': no such file")
    if not path.is_file():
        raise MeshError(f"cannot read mesh file '{path}': not a file")
    formats = _formats_of(path)
    if not formats:
        raise MeshError(f"cannot read mesh file '{path}': unknown extension '{path.suffix}' (use a format meshio "
                        "reads, e.g. .msh (Gmsh), .vtu, .vtk, .inp, .xdmf, .med)")
    reasons = []
    for fmt in formats:
        captured = io.StringIO()
        try:
            # meshio prints some errors and then calls sys.exit: capture both into the message
            with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
                return meshio.read(path, file_format=fmt)
        except (Exception, SystemExit) as err:
            if isinstance(err, SystemExit):  # meshio's own message is only "Couldn't read file ... as <fmt>"
                printed = captured.getvalue().replace(f"Couldn't read file {path} as {fmt}", "")
                reason = " ".join(printed.replace("Error:", "").split())
            else:
                reason = f"{type(err).__name__}: {err}".rstrip(": ")
            reasons.append(f"not a valid {fmt} file{f' ({reason})' if reason else ''}")
    raise MeshError(f"cannot read mesh file '{path}': {'; '.join(reasons)}")


def _supported() -> str:
    return ", ".join(f"{e.meshio_type} ({e.name})" for e in ELEMENTS.values())


def _top_element(raw: meshio.Mesh) -> tuple[int, ElementType, list[int]]:
    """Top cell dimension, its element type, and the indices of the cell blocks of that dimension."""
    dims = [int(b.dim) for b in raw.cells]
    top = max((d for d in dims if d >= 1), default=0)
    if top == 0:
        raise MeshError("the file has no line, surface or volume cells")
    blocks = [k for k, d in enumerate(dims) if d == top]
    types = list(dict.fromkeys(raw.cells[k].type for k in blocks))
    if len(types) > 1:
        raise MeshError(f"mixed cell types of dimension {top}: {', '.join(types)}; a fem mesh has one element type "
                        f"(supported: {_supported()})")
    element = element_for_meshio(types[0])
    if element is None:
        raise MeshError(f"unsupported cell type '{types[0]}'; supported: {_supported()}")
    return top, element, blocks


def _named_cell_sets(raw: meshio.Mesh) -> dict[str, list[tuple[int, np.ndarray]]]:
    """Group name -> list of (cell block, indices of cells in that block)."""
    names = {}
    for name, value in (raw.field_data or {}).items():
        value = np.asarray(value).reshape(-1)
        if value.size >= 2:
            names[(int(value[1]), int(value[0]))] = name  # (dim, tag) -> name
    sets: dict[str, list[tuple[int, np.ndarray]]] = {}
    for k, tags in enumerate(raw.cell_data.get("gmsh:physical", [])):
        tags = np.asarray(tags).reshape(-1)
        for tag in np.unique(tags):
            if tag != 0:
                name = names.get((int(raw.cells[k].dim), int(tag)), f"physical_{int(tag)}")
                sets.setdefault(name, []).append((k, np.flatnonzero(tags == tag)))
    for name, per_block in (raw.cell_sets or {}).items():
        if not name.startswith("gmsh:"):
            for k, idx in enumerate(per_block):
                if idx is not None and len(idx):
                    sets.setdefault(name, []).append((k, np.asarray(idx, dtype=np.int64)))
    return sets


def _groups(raw, blocks, offsets, sets) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Node groups and top-dimension cell groups, in the file's node numbering."""
    node_groups: dict[str, np.ndarray] = {}
    cell_groups: dict[str, np.ndarray] = {}
    for name, members in sets.items():
        nodes, cells = [], []
        for k, idx in members:
            data = raw.cells[k].data
            if isinstance(data, np.ndarray):
                nodes.append(np.asarray(data)[idx].reshape(-1))
            if k in blocks:
                cells.append(offsets[blocks.index(k)] + idx)
        if cells:
            cell_groups[name] = np.unique(np.concatenate(cells))
        if nodes:
            node_groups[name] = np.unique(np.concatenate(nodes))
    for name, idx in (raw.point_sets or {}).items():
        if not name.startswith("gmsh:") and len(idx):
            node_groups[name] = np.union1d(node_groups.get(name, []), np.asarray(idx)).astype(np.int64)
    return node_groups, cell_groups


def _planar(points: np.ndarray, top: int, cell_type: str) -> tuple[np.ndarray, list[str]]:
    """Drop the constant coordinates beyond dimension ``top``."""
    if points.shape[1] < top:
        raise MeshError(f"{cell_type} cells need {top}-D points, the file has {points.shape[1]}-D points")
    keep, extra = points[:, :top], points[:, top:]
    scale = max(float(np.ptp(keep, axis=0).max()), float(np.abs(points).max()), 1e-300)
    notes = []
    for j in range(extra.shape[1]):
        axis = _AXES[top + j]
        lo, hi = float(extra[:, j].min()), float(extra[:, j].max())
        if hi - lo > 1e-10 * scale:
            where = "in a plane z = const" if top == 2 else "on a line parallel to x (y and z constant)"
            raise MeshError(f"a {top}-D mesh of {cell_type} cells must lie {where}; "
                            f"{axis} ranges over [{lo:g}, {hi:g}]")
        if hi != 0.0 or lo != 0.0:
            notes.append(f"dropped the constant coordinate {axis} = {lo:g}")
    return np.ascontiguousarray(keep, dtype=np.float64), notes


# ---------------------------------------------------------------------------------------------- file numbers
def _gmsh_tags(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """``(node tags, element tags)`` of an ASCII Gmsh 2.2 or 4.1 file, in the order of the file, or ``None``
    (a binary file, another version, anything unexpected)."""
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            lines = (line for line in fh if line.strip())
            version = None
            nodes: list[int] = []
            elements: list[int] = []
            for line in lines:
                head = line.strip()
                if head == "$MeshFormat":
                    fields = next(lines).split()
                    if fields[1] != "0":  # binary
                        return None
                    # 2.x and 4.1 (4.0 lays its nodes out otherwise: it gets positions)
                    version = "2" if fields[0].startswith("2.") else "4" if fields[0].startswith("4.1") else "other"
                elif head in ("$Nodes", "$Elements") and version == "2":
                    count = int(next(lines).split()[0])
                    out = nodes if head == "$Nodes" else elements
                    out.extend(int(next(lines).split(None, 1)[0]) for _ in range(count))
                elif head == "$Nodes" and version == "4":
                    blocks = int(next(lines).split()[0])
                    for _ in range(blocks):
                        _, _, parametric, n = (int(v) for v in next(lines).split())
                        nodes.extend(int(next(lines).split()[0]) for _ in range(n))
                        for _ in range(n):
                            next(lines)
                elif head == "$Elements" and version == "4":
                    blocks = int(next(lines).split()[0])
                    for _ in range(blocks):
                        n = int(next(lines).split()[3])
                        elements.extend(int(next(lines).split(None, 1)[0]) for _ in range(n))
                if version is None and head != "$MeshFormat":
                    return None
            return np.asarray(nodes, dtype=np.int64), np.asarray(elements, dtype=np.int64)
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _file_numbers(path: Path, raw: meshio.Mesh) -> tuple[np.ndarray, np.ndarray, str]:
    """``(node numbers, cell numbers, numbering)`` of meshio's points and cells (all blocks, concatenated): the
    Gmsh tags where the file has them (``"tags"``), else 1-based positions in the file (``"positions"``)."""
    n_points, n_cells = len(raw.points), sum(len(b.data) for b in raw.cells)
    if path.suffix.lower() == ".msh":
        tags = _gmsh_tags(path)
        if tags is not None and len(tags[0]) == n_points and len(tags[1]) == n_cells:
            return tags[0], tags[1], "tags"
    return np.arange(1, n_points + 1), np.arange(1, n_cells + 1), "positions"


def _from_meshio(raw: meshio.Mesh, numbers: tuple[np.ndarray, np.ndarray, str] | None = None
                 ) -> tuple[Mesh, list[str]]:
    """The fem mesh (not yet checked) and the notes of the conversion; ``numbers`` as :func:`_file_numbers`
    gives them (default: 1-based positions)."""
    top, element, blocks = _top_element(raw)
    datas = [np.asarray(raw.cells[k].data, dtype=np.int64) for k in blocks]
    offsets = np.cumsum([0] + [len(d) for d in datas])[:-1].tolist()
    cells = np.concatenate(datas)
    if len(cells) == 0:
        raise MeshError(f"the file has no {element.meshio_type} cells")
    points = np.asarray(raw.points, dtype=np.float64)
    if numbers is None:
        numbers = (np.arange(1, len(points) + 1), np.arange(1, sum(len(b.data) for b in raw.cells) + 1), "positions")
    node_numbers, cell_numbers, numbering = numbers
    starts = np.cumsum([0] + [len(b.data) for b in raw.cells])[:-1]
    cell_ids = np.concatenate([cell_numbers[starts[k]: starts[k] + len(raw.cells[k].data)] for k in blocks])
    bad = np.flatnonzero(((cells < 0) | (cells >= len(points))).any(axis=1))
    if len(bad):
        raise MeshError(f"{len(bad)} cells refer to nodes that the file does not define: cells "
                        f"{label('cell', bad, cell_ids, numbering)}")
    node_groups, cell_groups = _groups(raw, blocks, offsets, _named_cell_sets(raw))
    notes = []

    used = np.unique(cells)
    new = np.full(len(points), -1, dtype=np.int64)
    new[used] = np.arange(len(used))
    if len(used) < len(points):
        unused = np.flatnonzero(new < 0)
        shown = label("node", unused, node_numbers, numbering)
        notes.append(f"removed {len(unused)} nodes that belong to no {element.meshio_type} cell "
                     f"(e.g. Gmsh geometry points): nodes {shown}; the others keep their numbers in messages")
    for name in list(node_groups):
        g = new[node_groups[name]]
        if (g < 0).any():
            notes.append(f"node group {name!r}: dropped {int((g < 0).sum())} of its {len(g)} nodes that belong to no "
                         f"{element.meshio_type} cell")
        node_groups[name] = np.sort(g[g >= 0])
        if len(node_groups[name]) == 0:
            del node_groups[name]
            notes.append(f"node group {name!r} is empty and was dropped")
    points, planar_notes = _planar(points[used], top, element.meshio_type)
    mesh = Mesh(points, new[cells], element.name, node_groups, cell_groups, node_ids=node_numbers[used],
                cell_ids=cell_ids, numbering=numbering)
    before = mesh.cells.copy()
    mesh.orient()
    flipped = np.flatnonzero((before != mesh.cells).any(axis=1))
    if len(flipped):
        notes.append(f"reversed the node order of {len(flipped)} of {mesh.n_cells} cells that had a negative "
                     f"Jacobian determinant (clockwise or mirrored in the file): cells {mesh.cell_label(flipped)}")
    return mesh, planar_notes + notes


# ---------------------------------------------------------------------------------------------- writing
def _atomic_meshio_write(path: str | os.PathLike[str], mesh: meshio.Mesh, file_format: str | None) -> None:
    """``meshio.write`` to a temporary file beside ``path``, fsync, then ``os.replace`` it over ``path``."""
    path = Path(path)
    fmt = file_format or next(iter(_formats_of(path)), None)
    if fmt is None:
        raise MeshError(f"cannot write '{path}': unknown extension '{path.suffix}' (e.g. .vtu, .msh, .vtk, .xdmf)")
    if fmt == "tetgen":
        raise MeshError(f"cannot write '{path}': tetgen output spans several files; use a single-file format")
    kwargs = {"data_format": "XML"} if fmt == "xdmf" else {}  # keep XDMF in one file (no companion .h5)
    with atomic_path(path) as tmp:
        try:
            meshio.write(tmp, mesh, file_format=fmt, **kwargs)
        except (meshio.WriteError, ImportError, KeyError, ValueError, TypeError) as err:  # format-specific refusals
            raise MeshError(f"cannot write '{path}' as {fmt}: {type(err).__name__}: {err}") from err


def _points3(mesh: Mesh) -> np.ndarray:
    """``(n_nodes, 3)`` coordinates, padded with zeros."""
    p = np.zeros((mesh.n_nodes, 3))
    p[:, : mesh.dim] = mesh.points
    return p


def _field(kind: str, name: str, value, n: int, dim: int) -> np.ndarray:
    """A data array with ``n`` rows; 2-component arrays of a 2-D mesh (and 1-component point arrays of a 1-D mesh)
    are vectors and get padded with zeros to 3 components."""
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    a = np.asarray(value)
    if a.ndim == 0 or a.shape[0] != n:
        raise ValueError(f"{kind} {name!r}: expected {n} rows, got shape {a.shape}")
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{kind} {name!r}: expected numbers, got dtype {a.dtype}")
    if a.dtype.kind == "b":
        a = a.astype(np.uint8)
    a = a.reshape(n, -1) if a.ndim > 2 else a
    if a.ndim == 2 and a.shape[1] == dim and (dim == 2 or (dim == 1 and kind == "point_data")):
        a = np.concatenate([a, np.zeros((n, 3 - dim), dtype=a.dtype)], axis=1)
    return a


def write_frame(path: str | os.PathLike[str], mesh: Mesh, point_data: Mapping[str, np.ndarray] | None = None,
                cell_data: Mapping[str, np.ndarray] | None = None) -> None:
    """Write one ParaView-readable VTU file, atomically.

    Parameters
    ----------
    path
        Destination ``.vtu`` file (its folder is created).
    mesh
        The mesh; 1-D and 2-D points are padded with zeros to 3-D.
    point_data
        Name -> ``(n_nodes,)`` or ``(n_nodes, k)`` array (numpy or torch) in the user's units. Vectors of a
        2-D mesh (``k = 2``) and ``(n_nodes, 1)`` arrays of a 1-D mesh are padded with zeros to 3 components so
        that ParaView shows them as vectors (e.g. for *Warp By Vector*).
    cell_data
        Name -> ``(n_cells,)`` or ``(n_cells, k)`` array; ``k = 2`` on a 2-D mesh is padded like point data.

    Raises
    ------
    ValueError
        An array whose first dimension is not the number of nodes (cells), or that is not numeric.
    """
    pd = {k: _field("point_data", k, v, mesh.n_nodes, mesh.dim) for k, v in (point_data or {}).items()}
    cd = {k: [_field("cell_data", k, v, mesh.n_cells, mesh.dim)] for k, v in (cell_data or {}).items()}
    out = meshio.Mesh(_points3(mesh), [(mesh.element.meshio_type, mesh.cells)], point_data=pd, cell_data=cd)
    _atomic_meshio_write(path, out, "vtu")


def write_pvd(path: str | os.PathLike[str], frames: Sequence[tuple[float, str]]) -> None:
    """Write a ParaView collection (``.pvd``) listing time steps, atomically.

    Parameters
    ----------
    path
        Destination ``.pvd`` file.
    frames
        ``(time, file)`` pairs: the simulated time [time unit] and the VTU file name relative to the folder of
        ``path`` (written with forward slashes).
    """
    root = ET.Element("VTKFile", type="Collection", version="0.1", byte_order="LittleEndian")
    collection = ET.SubElement(root, "Collection")
    for time, name in frames:
        t = float(time)
        if not np.isfinite(t):
            raise ValueError(f"write_pvd: time of {name!r} is not finite: {time!r}")
        ET.SubElement(collection, "DataSet", timestep=repr(t), group="", part="0", file=Path(name).as_posix())
    ET.indent(root)
    write_text(path, '<?xml version="1.0"?>\n' + ET.tostring(root, encoding="unicode") + "\n")


def write_mesh(path: str | os.PathLike[str], mesh: Mesh, *, file_format: str | None = None) -> None:
    """Write the mesh geometry in any single-file format meshio writes, atomically.

    Parameters
    ----------
    path
        Destination; the format is deduced from the extension unless ``file_format`` (a meshio format name,
        e.g. ``"gmsh22"``, ``"vtu"``) is given.
    mesh
        The mesh; points are padded with zeros to 3-D (:func:`read_mesh` drops them again). Gmsh output gets
        physical tag 0 ("no group") on every cell; the groups are not written.

    Raises
    ------
    MeshError
        Unknown extension, or a format that cannot hold this mesh (the message names the file and meshio's
        reason). OS errors (permissions, full disk) propagate unchanged; no partial file is left either way.
    """
    fmt = file_format or next(iter(_formats_of(Path(path))), None)
    cell_data = {}
    if fmt and fmt.startswith("gmsh"):
        zeros = np.zeros(mesh.n_cells, dtype=np.int32)
        cell_data = {"gmsh:physical": [zeros], "gmsh:geometrical": [zeros]}
    out = meshio.Mesh(_points3(mesh), [(mesh.element.meshio_type, mesh.cells)], cell_data=cell_data)
    _atomic_meshio_write(path, out, fmt)
