"""Structured meshes of a line, a rectangle and a box, optionally with interior nodes jittered.

Lengths are in the user's length unit. Every generator validates its arguments (MeshError) and returns a
mesh that passes :meth:`fem.mesh.Mesh.check`.

Jitter moves each interior node (not on the boundary) by an independent uniform random displacement in
``[-jitter h_i, jitter h_i]`` per direction ``i`` (``h_i`` the element size in that direction). The Jacobian
determinant at any point of an element is affine in each node coordinate, so its minimum over all such
displacements sits at a corner of the displacement box; on the undistorted grid that minimum is
``(1 - 4 jitter)`` times the undistorted value in 2-D (quad4, both tri3 halves) and ``(1 - 6 jitter)`` in 3-D
(hex8, Kuhn tet4). Hence the limits ``jitter < 1/4`` (``rectangle``) and ``jitter < 1/6`` (``box``), under
which no element inverts.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Sequence

import numpy as np

from .elements import get_element
from .errors import MeshError
from .memory import mesh_bytes, require
from .mesh import Mesh

RECTANGLE_JITTER_LIMIT = 0.25
"""``rectangle`` accepts ``0 <= jitter < 1/4``."""
BOX_JITTER_LIMIT = 1.0 / 6.0
"""``box`` accepts ``0 <= jitter < 1/6``."""


def _length(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value <= 0:
        raise MeshError(f"{name} must be a positive finite length, got {value!r}")
    return float(value)


def _count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise MeshError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _origin(value, dim: int) -> np.ndarray:
    try:
        o = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        o = np.array([])
    if isinstance(value, (str, bytes)) or o.shape != (dim,) or not np.isfinite(o).all():
        raise MeshError(f"origin must be {dim} finite coordinates, got {value!r}")
    return o


def _jitter(value, limit: float, function: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < limit:
        raise MeshError(f"{function}: jitter must be a number in [0, {limit:.4g}) so that no element inverts, "
                        f"got {value!r}")
    return float(value)


def _choice(name: str, value, options: Sequence[str]) -> str:
    if value not in options:
        raise MeshError(f"{name} must be one of {', '.join(options)}; got {value!r}")
    return value


def _grid(lengths, counts, origin) -> tuple[np.ndarray, np.ndarray]:
    """Node coordinates ``(n_nodes, dim)`` and grid indices ``(n_nodes, dim)``, x varying fastest."""
    axes = [np.arange(n + 1) for n in counts]
    index = np.stack([a.ravel() for a in np.meshgrid(*axes[::-1], indexing="ij")[::-1]], -1)
    points = origin + index * (np.asarray(lengths) / np.asarray(counts))
    return points, index


def _perturb(points, index, counts, lengths, jitter, seed) -> np.ndarray:
    """Move interior nodes by uniform random displacements in ``[-jitter h, jitter h]`` per direction."""
    if jitter == 0:
        return points
    h = np.asarray(lengths) / np.asarray(counts)
    interior = ((index > 0) & (index < np.asarray(counts))).all(axis=1)
    shift = np.random.default_rng(seed).uniform(-1.0, 1.0, size=points.shape) * jitter * h
    return points + np.where(interior[:, None], shift, 0.0)


def _groups(index, counts, names) -> dict[str, np.ndarray]:
    """Node groups on the low / high face of each axis (``names`` pairs per axis), plus ``"all"``."""
    groups = {}
    for axis, (low, high) in enumerate(names):
        groups[low] = np.flatnonzero(index[:, axis] == 0)
        groups[high] = np.flatnonzero(index[:, axis] == counts[axis])
    groups["all"] = np.arange(len(index))
    return groups


def _fits(counts: Sequence[int], element: str, cells_per_box: int = 1) -> None:
    """Refuse, before allocating, a grid whose arrays cannot fit in memory (with the figure and the limit).

    The grid needs its coordinates and connectivity plus the grid indices, node groups and jitter
    (about four times the mesh arrays at their peak)."""
    n_nodes = int(np.prod([n + 1 for n in counts], dtype=object))
    n_cells = int(np.prod(list(counts), dtype=object)) * cells_per_box
    divisions = "x".join(str(n) for n in counts)
    require(4 * mesh_bytes(n_nodes, n_cells, get_element(element)),
            f"a {divisions} grid of {element} elements ({n_cells:,} cells, {n_nodes:,} nodes)", "divisions")


def _finish(mesh: Mesh) -> Mesh:
    mesh.check()
    return mesh


def line(length: float, n: int, *, origin: float = 0.0) -> Mesh:
    """A bar2 mesh of ``n`` equal elements on ``[origin, origin + length]`` [length].

    Node groups: ``"left"`` (x = origin), ``"right"`` (x = origin + length), ``"all"``.
    """
    length, n = _length("length", length), _count("n", n)
    _fits([n], "bar2")
    o = _origin(origin, 1)
    points, index = _grid([length], [n], o)
    cells = np.stack([np.arange(n), np.arange(1, n + 1)], -1)
    return _finish(Mesh(points, cells, "bar2", _groups(index, [n], [("left", "right")])))


def rectangle(lx: float, ly: float, nx: int, ny: int, *, element: str = "quad4", origin=(0.0, 0.0),
              jitter: float = 0.0, seed: int | None = 0) -> Mesh:
    """A structured mesh of the rectangle ``[x0, x0 + lx] x [y0, y0 + ly]`` [length].

    Parameters
    ----------
    lx, ly
        Side lengths [length].
    nx, ny
        Number of element columns and rows.
    element
        ``"quad4"`` (``nx * ny`` cells) or ``"tri3"`` (``2 nx ny`` cells: each grid square split in two along
        a diagonal that alternates like a chequerboard, south-west/north-east where ``i + j`` is even,
        south-east/north-west where it is odd; the two triangles of square ``(i, j)`` are consecutive cells).
    origin
        ``(x0, y0)`` [length].
    jitter
        Random displacement of the interior nodes as a fraction of the element size, ``0 <= jitter < 1/4``.
    seed
        Seed of :func:`numpy.random.default_rng` for the jitter.

    Returns
    -------
    Mesh with counter-clockwise (positive-area) cells and node groups ``"left"`` (x = x0), ``"right"``,
    ``"bottom"`` (y = y0), ``"top"`` and ``"all"``. Node ``(i, j)`` has index ``j (nx + 1) + i``.
    """
    lengths = [_length("lx", lx), _length("ly", ly)]
    counts = [_count("nx", nx), _count("ny", ny)]
    element = _choice("element", element, ("quad4", "tri3"))
    _fits(counts, element, 2 if element == "tri3" else 1)
    jitter = _jitter(jitter, RECTANGLE_JITTER_LIMIT, "rectangle")
    points, index = _grid(lengths, counts, _origin(origin, 2))
    points = _perturb(points, index, counts, lengths, jitter, seed)

    i, j = (a.ravel() for a in np.meshgrid(np.arange(counts[0]), np.arange(counts[1])))
    a = j * (counts[0] + 1) + i  # south-west corner of each square
    b, c, d = a + 1, a + counts[0] + 2, a + counts[0] + 1  # south-east, north-east, north-west
    if element == "quad4":
        cells = np.stack([a, b, c, d], -1)
    else:
        even = ((i + j) % 2 == 0)[:, None]
        first = np.where(even, np.stack([a, b, c], -1), np.stack([a, b, d], -1))
        second = np.where(even, np.stack([a, c, d], -1), np.stack([b, c, d], -1))
        cells = np.stack([first, second], 1).reshape(-1, 3)
    groups = _groups(index, counts, [("left", "right"), ("bottom", "top")])
    return _finish(Mesh(points, cells, element, groups))


def plate_with_hole(width: float, radius: float, n_arc: int, n_radial: int, *, element: str = "quad4",
                    grading: float = 1.15) -> Mesh:
    """A quarter of a square plate with a central circular hole: ``[0, width]²`` minus the disc of ``radius``
    about the origin [length], the standard symmetric model of a plate with a hole.

    Nodes lie on ``n_arc + 1`` rays from the hole to the outer edges (equal angles; the ray at 45° ends in the
    corner, so ``n_arc`` must be even) and ``n_radial + 1`` points along each ray, spaced geometrically by
    ``grading`` (> 1: finer at the hole). ``element`` is ``"quad4"`` or ``"tri3"`` (each quad split in two).

    Node groups: ``"bottom"`` (y = 0), ``"left"`` (x = 0), the symmetry lines; ``"right"`` (x = width),
    ``"top"`` (y = width), ``"hole"`` and ``"all"``. Cells are counter-clockwise.
    """
    width, radius = _length("width", width), _length("radius", radius)
    n_arc, n_radial = _count("n_arc", n_arc), _count("n_radial", n_radial)
    element = _choice("element", element, ("quad4", "tri3"))
    if not radius < 0.9 * width:
        raise MeshError(f"plate_with_hole: the radius must be below 0.9 x the width, got {radius!r} and {width!r}")
    if n_arc % 2:
        raise MeshError(f"plate_with_hole: n_arc must be even (a ray ends in the corner), got {n_arc}")
    if not (isinstance(grading, (int, float)) and 1.0 <= grading <= 3.0):
        raise MeshError(f"plate_with_hole: grading must be a number in [1, 3], got {grading!r}")
    _fits([n_arc, n_radial], element, 2 if element == "tri3" else 1)
    theta = np.linspace(0.0, 0.5 * np.pi, n_arc + 1)
    inner = radius * np.stack([np.cos(theta), np.sin(theta)], -1)
    low = theta <= 0.25 * np.pi
    outer = np.where(low[:, None], np.stack([np.full_like(theta, width), width * np.tan(np.where(low, theta, 0))], -1),
                     np.stack([width / np.tan(np.where(low, 1.0, theta)), np.full_like(theta, width)], -1))
    outer[-1, 0] = 0.0  # the ray along x = 0 (cot 90° rounding)
    steps = grading ** np.arange(n_radial)
    t = np.concatenate([[0.0], np.cumsum(steps) / steps.sum()])
    points = (inner[None, :, :] + t[:, None, None] * (outer - inner)[None, :, :]).reshape(-1, 2)  # node j*(na+1)+i
    points[n_arc::n_arc + 1, 0] = 0.0  # the symmetry line x = 0 exactly (cos 90° rounds)
    i, j = (a.ravel() for a in np.meshgrid(np.arange(n_arc), np.arange(n_radial)))
    a = j * (n_arc + 1) + i
    b, c, d = a + n_arc + 1, a + n_arc + 2, a + 1  # outward, outward-next-ray, next ray: counter-clockwise
    cells = np.stack([a, b, c, d], -1) if element == "quad4" else \
        np.stack([np.stack([a, b, c], -1), np.stack([a, c, d], -1)], 1).reshape(-1, 3)
    ii, jj = np.meshgrid(np.arange(n_arc + 1), np.arange(n_radial + 1))
    ii, jj = ii.ravel(), jj.ravel()
    x, y = points[:, 0], points[:, 1]
    tol = 1e-9 * width
    groups = {"bottom": np.flatnonzero(ii == 0), "left": np.flatnonzero(ii == n_arc),
              "right": np.flatnonzero(np.abs(x - width) <= tol), "top": np.flatnonzero(np.abs(y - width) <= tol),
              "hole": np.flatnonzero(jj == 0), "all": np.arange(len(points))}
    return _finish(Mesh(points, cells, element, groups))


def _kuhn_tets() -> np.ndarray:
    """``(6, 4)`` local hex8 node indices of the six positive Kuhn tetrahedra along the diagonal 0 -> 6."""
    local = {(0, 0, 0): 0, (1, 0, 0): 1, (1, 1, 0): 2, (0, 1, 0): 3,
             (0, 0, 1): 4, (1, 0, 1): 5, (1, 1, 1): 6, (0, 1, 1): 7}
    tets = []
    for perm in itertools.permutations(range(3)):
        corner = np.zeros(3, dtype=int)
        path = [local[tuple(corner)]]
        for axis in perm:
            corner[axis] = 1
            path.append(local[tuple(corner)])
        if np.linalg.det(np.eye(3)[list(perm)]) < 0:  # odd permutation: negative volume, swap two nodes
            path[1], path[2] = path[2], path[1]
        tets.append(path)
    return np.array(tets)


_KUHN = _kuhn_tets()


def box(lx: float, ly: float, lz: float, nx: int, ny: int, nz: int, *, element: str = "hex8",
        origin=(0.0, 0.0, 0.0), jitter: float = 0.0, seed: int | None = 0) -> Mesh:
    """A structured mesh of the box ``[x0, x0 + lx] x [y0, y0 + ly] x [z0, z0 + lz]`` [length].

    Parameters
    ----------
    lx, ly, lz
        Side lengths [length].
    nx, ny, nz
        Number of elements along x, y, z.
    element
        ``"hex8"`` (``nx ny nz`` cells) or ``"tet4"`` (``6 nx ny nz`` cells: the Kuhn split of each hexahedron
        into six tetrahedra sharing its main diagonal from the ``(i, j, k)`` to the ``(i+1, j+1, k+1)`` corner;
        every grid face is then cut along the diagonal through its lowest-index corner, the same from both
        sides, so the tetrahedral mesh is conforming).
    origin
        ``(x0, y0, z0)`` [length].
    jitter
        Random displacement of the interior nodes as a fraction of the element size, ``0 <= jitter < 1/6``.
    seed
        Seed of :func:`numpy.random.default_rng` for the jitter.

    Returns
    -------
    Mesh with positive-volume cells and node groups ``"left"``/``"right"`` (x = x0 / x0 + lx),
    ``"bottom"``/``"top"`` (y), ``"back"``/``"front"`` (z = z0 / z0 + lz) and ``"all"``. Node ``(i, j, k)``
    has index ``(k (ny + 1) + j) (nx + 1) + i``.
    """
    lengths = [_length("lx", lx), _length("ly", ly), _length("lz", lz)]
    counts = [_count("nx", nx), _count("ny", ny), _count("nz", nz)]
    element = _choice("element", element, ("hex8", "tet4"))
    _fits(counts, element, 6 if element == "tet4" else 1)
    jitter = _jitter(jitter, BOX_JITTER_LIMIT, "box")
    points, index = _grid(lengths, counts, _origin(origin, 3))
    points = _perturb(points, index, counts, lengths, jitter, seed)

    mx, my = counts[0] + 1, (counts[0] + 1) * (counts[1] + 1)
    k, j, i = (a.ravel() for a in np.meshgrid(*(np.arange(n) for n in counts[::-1]), indexing="ij"))
    a = k * my + j * mx + i
    bottom = np.stack([a, a + 1, a + mx + 1, a + mx], -1)
    hexes = np.concatenate([bottom, bottom + my], -1)
    cells = hexes if element == "hex8" else hexes[:, _KUHN].reshape(-1, 4)
    groups = _groups(index, counts, [("left", "right"), ("bottom", "top"), ("back", "front")])
    return _finish(Mesh(points, cells, element, groups))


def scattered(lx: float, ly: float, n_points: int, *, seed: int | None = 0) -> Mesh:
    """A tri3 mesh of ``[0, lx] x [0, ly]`` [length]: the four corners and ``n_points`` uniformly random points,
    Delaunay-triangulated (``scipy.spatial.Delaunay``), counter-clockwise, degenerate triangles (area below
    ``1e-12 lx ly``) dropped. Unstructured, with the slivers random points give: a hard case for element-based
    step bounds. Node groups: ``"all"``."""
    from scipy.spatial import Delaunay

    lx, ly, n_points = _length("lx", lx), _length("ly", ly), _count("n_points", n_points)
    rng = np.random.default_rng(seed)
    pts = np.vstack([[0.0, 0.0], [lx, 0.0], [0.0, ly], [lx, ly], rng.random((n_points, 2)) * [lx, ly]])
    tri = Delaunay(pts).simplices.astype(np.int64)
    a, b, c = pts[tri[:, 0]], pts[tri[:, 1]], pts[tri[:, 2]]
    area = 0.5 * ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))
    tri = np.where((area < 0)[:, None], tri[:, [0, 2, 1]], tri)
    tri = tri[np.abs(area) > 1e-12 * lx * ly]
    used = np.unique(tri)  # a point on a dropped sliver only: renumber
    renumber = np.full(len(pts), -1, dtype=np.int64)
    renumber[used] = np.arange(len(used))
    return _finish(Mesh(pts[used], renumber[tri], "tri3", {"all": np.arange(len(used), dtype=np.int64)}))
