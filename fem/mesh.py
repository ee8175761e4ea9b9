"""The internal mesh: one element type, node coordinates, connectivity and named node / cell groups.

Coordinates are in the user's length unit; ``fem`` never assumes SI. Only :mod:`fem.meshfiles` converts from and
to file formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from .elements import ElementType, get_element
from .errors import MeshError

_AXES = ("x", "y", "z")
_SHOW = 5  # how many indices an error or warning lists
_BLOCK = 2**22  # float64 entries of Jacobian matrices computed at once (32 MiB)


def _few(indices: np.ndarray, ids: np.ndarray | None = None) -> str:
    """``[3, 8, 12, ...]``: the first few of ``indices`` (as ``ids`` names them, when given)."""
    shown = np.asarray(indices[:_SHOW], dtype=np.int64)
    head = ", ".join(str(int(i)) for i in (shown if ids is None else ids[shown]))
    return f"[{head}{', ...' if len(indices) > _SHOW else ''}]"


NUMBERINGS = {
    "tags": "the file's {kind} numbers",
    "positions": "1-based positions in the file",
}
"""How :attr:`Mesh.node_ids` and :attr:`Mesh.cell_ids` number (:attr:`Mesh.numbering`), as messages say it."""


def numbering_note(kind: str, ids: np.ndarray | None, numbering: str = "tags") -> str:
    """``"(0-based indices)"`` without ``ids``; else ``"(the file's node numbers)"`` or ``"(1-based positions in
    the file)"``: what the numbers of a message about ``kind`` (``"node"`` or ``"cell"``) are."""
    if ids is None:
        return "(0-based indices)"
    what = "element" if kind == "cell" else "node"
    return "(" + NUMBERINGS.get(numbering, "{kind} ids").format(kind=what) + ")"


def label(kind: str, indices, ids: np.ndarray | None = None, numbering: str = "tags") -> str:
    """``[7, 12] (the file's node numbers)``: the first few of ``indices`` (0-based) as messages name them."""
    return f"{_few(np.atleast_1d(indices), ids)} {numbering_note(kind, ids, numbering)}"


def _index_array(values) -> np.ndarray:
    """``values`` as int64 when they are integers, otherwise unchanged (``check`` reports the dtype)."""
    a = np.asarray(values)
    if a.size == 0 and a.dtype.kind == "f":
        return a.astype(np.int64)
    return a.astype(np.int64) if a.dtype.kind in "iu" else a


def _jacobians(x: np.ndarray, dN: np.ndarray) -> np.ndarray:
    """``J[e, q, i, j] = sum_a x[e, a, i] dN[q, a, j]`` as one matrix product; ``x`` (e, a, i), ``dN`` (q, a, j)."""
    e, a, d = x.shape
    q = dN.shape[0]
    prod = x.transpose(0, 2, 1).reshape(e * d, a) @ dN.transpose(1, 0, 2).reshape(a, q * d)
    return prod.reshape(e, d, q, d).transpose(0, 2, 1, 3)


def _det(J: np.ndarray) -> np.ndarray:
    """Determinants of ``(..., d, d)`` matrices, d <= 3, by the explicit formula (much faster than LU)."""
    d = J.shape[-1]
    if d == 1:
        return J[..., 0, 0].copy()
    if d == 2:
        return J[..., 0, 0] * J[..., 1, 1] - J[..., 0, 1] * J[..., 1, 0]
    if d == 3:
        return (J[..., 0, 0] * (J[..., 1, 1] * J[..., 2, 2] - J[..., 1, 2] * J[..., 2, 1])
                - J[..., 0, 1] * (J[..., 1, 0] * J[..., 2, 2] - J[..., 1, 2] * J[..., 2, 0])
                + J[..., 0, 2] * (J[..., 1, 0] * J[..., 2, 1] - J[..., 1, 1] * J[..., 2, 0]))
    return np.linalg.det(J)


@dataclass(eq=False)
class Mesh:
    """A finite-element mesh of a single element type.

    Attributes
    ----------
    points
        ``(n_nodes, dim)`` float64 node coordinates [length]; ``dim`` equals the element's dimension.
    cells
        ``(n_cells, n_per_cell)`` int64 node indices, in the node order of the element type.
    cell_type
        A key of :data:`fem.elements.ELEMENTS` (``"bar2"``, ``"tri3"``, ``"quad4"``, ``"tet4"``, ``"hex8"``).
    node_groups
        Name -> sorted unique int64 node indices.
    cell_groups
        Name -> int64 cell indices.
    node_ids, cell_ids
        Optional ``(n_nodes,)`` and ``(n_cells,)`` int64 numbers by which messages name the nodes and cells:
        the numbers of the file the mesh was read from (:mod:`fem.meshfiles` fills them). Without them
        messages give 0-based indices and say so.
    numbering
        What the ids are: ``"tags"`` (the file's own node and element numbers, e.g. Gmsh tags) or
        ``"positions"`` (1-based positions in the file, for formats without numbers); see :data:`NUMBERINGS`.

    Integer and real inputs are converted to int64 and float64; :meth:`check` validates the rest. The ids
    never change what is computed: every array of the package is indexed from 0.
    """

    points: np.ndarray
    cells: np.ndarray
    cell_type: str
    node_groups: dict[str, np.ndarray] = field(default_factory=dict)
    cell_groups: dict[str, np.ndarray] = field(default_factory=dict)
    node_ids: np.ndarray | None = None
    cell_ids: np.ndarray | None = None
    numbering: str = "tags"

    def __post_init__(self) -> None:
        points = np.asarray(self.points)
        self.points = points.astype(np.float64) if points.dtype.kind in "iuf" else points
        self.cells = _index_array(self.cells)
        self.node_groups = {k: np.unique(_index_array(v)) for k, v in self.node_groups.items()}
        self.cell_groups = {k: _index_array(v) for k, v in self.cell_groups.items()}
        if self.node_ids is not None:
            self.node_ids = _index_array(self.node_ids)
        if self.cell_ids is not None:
            self.cell_ids = _index_array(self.cell_ids)

    # ------------------------------------------------------------------ how messages name nodes and cells
    def _ids(self, kind: str) -> np.ndarray | None:
        """The ids of ``kind`` (``"node"`` or ``"cell"``) when they fit the mesh, else ``None``."""
        ids, n = (self.node_ids, self.n_nodes) if kind == "node" else (self.cell_ids, self.n_cells)
        if ids is None or ids.ndim != 1 or ids.shape[0] != n or ids.dtype.kind not in "iu":
            return None
        return ids

    def numbering_note(self, kind: str = "node") -> str:
        """What the numbers of a message about ``kind`` (``"node"`` or ``"cell"``) are (:func:`numbering_note`)."""
        return numbering_note(kind, self._ids(kind), self.numbering)

    def node_label(self, indices) -> str:
        """``[7, 12] (the file's node numbers)``: nodes (0-based indices) as a message names them."""
        return label("node", indices, self._ids("node"), self.numbering)

    def cell_label(self, indices) -> str:
        """``[104] (the file's element numbers)``: cells (0-based indices) as a message names them."""
        return label("cell", indices, self._ids("cell"), self.numbering)

    def node_id(self, index: int) -> int:
        """The number by which messages name node ``index`` (itself without ids)."""
        ids = self._ids("node")
        return int(index) if ids is None else int(ids[index])

    def cell_id(self, index: int) -> int:
        """The number by which messages name cell ``index`` (itself without ids)."""
        ids = self._ids("cell")
        return int(index) if ids is None else int(ids[index])

    @property
    def dim(self) -> int:
        """Spatial dimension of the points."""
        return int(self.points.shape[1])

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.points.shape[0])

    @property
    def n_cells(self) -> int:
        """Number of cells (elements)."""
        return int(self.cells.shape[0])

    @property
    def element(self) -> ElementType:
        """The :class:`fem.elements.ElementType` of the cells (MeshError for an unknown ``cell_type``)."""
        return get_element(self.cell_type)

    def __repr__(self) -> str:
        return (f"Mesh({self.cell_type!r}, {len(self.points)} nodes, {len(self.cells)} cells, "
                f"node groups {list(self.node_groups)}, cell groups {list(self.cell_groups)})")

    # ------------------------------------------------------------------ geometry
    def jacobians(self, xi: np.ndarray | None = None, cells: slice = slice(None)) -> np.ndarray:
        """Jacobian matrices ``dx/dxi`` at reference points.

        Parameters
        ----------
        xi
            ``(n_pts, dim)`` reference points; default the element's integration points.
        cells
            The cells to evaluate (default all; a slice keeps the memory of large meshes in chunks).

        Returns
        -------
        ``(n_cells, n_pts, dim, dim)`` array [length per reference length], ``J[e, q, i, j] = dx_i/dxi_j``.
        """
        el = self.element
        xi = el.quad_points if xi is None else np.asarray(xi, dtype=np.float64)
        return _jacobians(self.points[self.cells[cells]], el.shape_grad(xi))

    def jacobian_determinants(self, xi: np.ndarray | None = None) -> np.ndarray:
        """``(n_cells, n_pts)`` Jacobian determinants at ``xi`` (default the integration points) [length^dim].

        Computed in blocks of cells, so the ``(n_cells, n_pts, dim, dim)`` Jacobians never sit in memory at once.
        """
        el = self.element
        xi = el.quad_points if xi is None else np.asarray(xi, dtype=np.float64)
        dN = el.shape_grad(xi)  # (q, a, j)
        out = np.empty((self.n_cells, len(xi)))
        block = max(1, _BLOCK // (len(xi) * el.dim * el.dim))
        for start in range(0, self.n_cells, block):  # a few large blocks, not a loop over cells
            out[start : start + block] = _det(_jacobians(self.points[self.cells[start : start + block]], dN))
        return out

    def cell_volumes(self) -> np.ndarray:
        """``(n_cells,)`` signed element measures (length, area or volume) [length^dim], by the element quadrature."""
        return self.jacobian_determinants() @ self.element.quad_weights

    def edge_lengths(self) -> np.ndarray:
        """``(n_cells, n_edges)`` lengths of the element edges [length]."""
        edges = np.array(self.element.edges)
        x = self.points[self.cells]
        return np.linalg.norm(x[:, edges[:, 1]] - x[:, edges[:, 0]], axis=-1)

    def min_edge_length(self) -> float:
        """Shortest element edge [length]."""
        return float(self.edge_lengths().min())

    def size(self) -> float:
        """Diagonal of the bounding box of the points [length]."""
        return float(np.linalg.norm(np.ptp(self.points, axis=0))) if self.n_nodes else 0.0

    def boundary_facets(self) -> np.ndarray:
        """Facets that belong to exactly one cell.

        Returns
        -------
        ``(n_facets, n_facet_nodes)`` int64 node indices, each facet in its cell's outward orientation (see
        :mod:`fem.elements`), ordered by cell and local facet.
        """
        local = np.array(self.element.facets)  # (n_facets_per_cell, n_facet_nodes)
        facets = self.cells[:, local].reshape(-1, local.shape[1])
        _, inverse, counts = np.unique(np.sort(facets, axis=1), axis=0, return_inverse=True, return_counts=True)
        return facets[counts[inverse.ravel()] == 1]

    # ------------------------------------------------------------------ validation
    def check(self) -> list[str]:
        """Validate the mesh (does not modify it).

        Raises
        ------
        MeshError
            Unknown cell type (the message lists the supported ones); points or cells of wrong shape or dtype;
            non-finite coordinates; points whose dimension is not the element's; no cells; node indices out of
            range; group indices out of range; inverted or zero-volume elements (Jacobian determinant checked at
            every integration point and, for quad4/hex8, at every node; a cell fails when its smallest determinant is
            ``<= 1e-10 x`` (longest edge)^dim; the message names the first few cells
            and the smallest determinant); folded or non-manifold meshes (a facet shared by two cells that
            lie on the same side of it, or by more than two cells: the cells overlap).

        Returns
        -------
        Warnings (one string each): unused nodes, duplicate nodes (coordinates within ``1e-12 x`` the mesh
        size, the bounding-box diagonal).

        Messages and warnings name nodes and cells by :attr:`node_ids` / :attr:`cell_ids` when the mesh has
        them (the file's numbers), else by 0-based index, and say which.
        """
        el = self.element
        self._check_arrays(el)
        self._check_groups()
        self._check_orientation(el)
        self._check_folds(el)
        return self._warnings()

    def _check_arrays(self, el: ElementType) -> None:
        p, c = self.points, self.cells
        if p.ndim != 2 or p.dtype.kind != "f":
            raise MeshError(f"points must be a 2-D float array (n_nodes, dim), got shape {p.shape} dtype {p.dtype}")
        if p.shape[1] != el.dim:
            raise MeshError(
                f"{el.name} cells need {el.dim}-D points, got {p.shape[1]}-D points "
                "(drop constant coordinates, e.g. z = 0 of a planar mesh)")
        if not np.isfinite(p).all():
            bad = np.flatnonzero(~np.isfinite(p).all(axis=1))
            raise MeshError(f"{len(bad)} nodes have non-finite coordinates: {self.node_label(bad)}")
        if c.ndim != 2 or c.dtype.kind not in "iu" or c.shape[1] != el.n_nodes:
            raise MeshError(f"cells must be an integer array (n_cells, {el.n_nodes}) for {el.name}, "
                            f"got shape {c.shape} dtype {c.dtype}")
        if len(c) == 0:
            raise MeshError("the mesh has no cells")
        bad = np.flatnonzero(((c < 0) | (c >= len(p))).any(axis=1))
        if len(bad):
            raise MeshError(f"{len(bad)} cells have node indices outside [0, {len(p) - 1}]: "
                            f"cells {self.cell_label(bad)}")

    def _check_groups(self) -> None:
        for kind, groups, n in (("node", self.node_groups, self.n_nodes), ("cell", self.cell_groups, self.n_cells)):
            for name, idx in groups.items():
                if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
                    raise MeshError(f"{kind} group {name!r} must be a 1-D integer array, got shape {idx.shape} "
                                    f"dtype {idx.dtype}")
                if idx.size and (idx.min() < 0 or idx.max() >= n):
                    raise MeshError(f"{kind} group {name!r} has indices outside [0, {n - 1}]")

    @staticmethod
    def _check_points(el: ElementType) -> np.ndarray:
        """Reference points where the Jacobian determinant is checked: integration points, plus the nodes of
        cube elements (whose determinant varies inside the element)."""
        return el.quad_points if el.geometry == "simplex" else np.vstack([el.quad_points, el.ref_nodes])

    def orient(self) -> int:
        """Reverse the node order of the cells whose Jacobian determinant is negative at every check point.

        Such cells are valid elements listed clockwise (or mirrored), e.g. the triangles of a Gmsh surface whose
        normal points along -z. Cells with determinants of both signs (tangled) are left for :meth:`check`.

        Returns
        -------
        The number of cells reordered (in place).
        """
        el = self.element
        self._check_arrays(el)
        flip = (self.jacobian_determinants(self._check_points(el)) < 0).all(axis=1)
        if flip.any():
            self.cells[flip] = self.cells[flip][:, list(el.mirror)]
        return int(flip.sum())

    def _check_orientation(self, el: ElementType) -> None:
        det = self.jacobian_determinants(self._check_points(el))  # (n_cells, n_pts)
        scale = self.edge_lengths().max(axis=1) ** el.dim  # per cell [length^dim]
        worst = det.min(axis=1)
        bad = np.flatnonzero(worst <= 1e-10 * scale)
        if len(bad):
            inverted = int((worst[bad] < 0).sum())
            e = int(np.argmin(worst))
            raise MeshError(
                f"{len(bad)} cells are inverted or have zero volume ({inverted} inverted, {len(bad) - inverted} "
                f"degenerate): cells {_few(bad, self._ids('cell'))}; smallest Jacobian determinant {worst[e]:.6g} at "
                f"cell {self.cell_id(e)} {self.numbering_note('cell')}")

    def _check_folds(self, el: ElementType) -> None:
        """Refuse overlapping cells: two positively oriented cells that share a facet must see it with
        opposite orientations (one on each side), and no facet may belong to more than two cells.

        This tells a mirrored file (every cell clockwise: :meth:`orient` fixes it, and the cells still tile
        the domain) from a folded mesh (some cells flipped over their neighbours: after orientation two
        cells lie on the same side of a shared facet, so their areas add up to more than the domain's).
        """
        local = np.array(el.facets)  # (n_facets_per_cell, n_facet_nodes)
        facets = self.cells[:, local].reshape(-1, local.shape[1])
        if local.shape[1] == 1:  # bar2: facet 0 is the start of the cell, facet 1 its end
            sign = np.tile([-1, 1], self.n_cells)
        else:  # rotate the smallest node first; the orientation is the direction of travel from it
            first = np.argmin(facets, axis=1)
            n = local.shape[1]
            after = facets[np.arange(len(facets)), (first + 1) % n]
            before = facets[np.arange(len(facets)), (first - 1) % n]
            sign = np.where(after < before, 1, -1) if n > 2 else np.where(facets[:, 0] < facets[:, 1], 1, -1)
        _, inverse, counts = np.unique(np.sort(facets, axis=1), axis=0, return_inverse=True, return_counts=True)
        inverse = inverse.ravel()
        total = np.zeros(len(counts), dtype=np.int64)
        np.add.at(total, inverse, sign)
        bad = np.flatnonzero((counts > 2) | ((counts == 2) & (total != 0)))
        if len(bad):
            cells = np.unique(np.flatnonzero(np.isin(inverse, bad)) // len(local))
            kind = "folded (cells on the same side of a shared facet)" if (counts[bad] == 2).any() else "non-manifold"
            raise MeshError(
                f"the mesh is {kind}: {len(bad)} facet(s) are shared by cells that overlap, cells "
                f"{self.cell_label(cells)}; "
                "after fixing each cell's orientation the cells must tile the domain without overlap (check the "
                "node order of these cells in the file)")

    def _warnings(self) -> list[str]:
        notes = []
        used = np.zeros(self.n_nodes, dtype=bool)
        used[self.cells.ravel()] = True
        unused = np.flatnonzero(~used)
        if len(unused):
            notes.append(f"{len(unused)} of {self.n_nodes} nodes belong to no cell: nodes {self.node_label(unused)}")
        tol = 1e-12 * self.size()
        pairs = cKDTree(self.points).query_pairs(r=tol, output_type="ndarray")
        if len(pairs):
            pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
            shown = ", ".join(f"{self.node_id(a)}={self.node_id(b)}" for a, b in pairs[:_SHOW])
            notes.append(f"{len(pairs)} pairs of nodes have the same coordinates (within {tol:.3g}): {shown}"
                         f"{', ...' if len(pairs) > _SHOW else ''} {self.numbering_note('node')}")
        return notes

    # ------------------------------------------------------------------ selection
    def select_nodes(self, group: str | None = None, *, x=None, y=None, z=None, tol: float | None = None
                     ) -> np.ndarray:
        """Indices of the nodes in a named group and/or at given coordinates.

        Parameters
        ----------
        group
            A key of :attr:`node_groups`.
        x, y, z
            A number (``|coord - value| <= tol``) or a ``[lo, hi]`` range (``lo - tol <= coord <= hi + tol``)
            [length]. Several coordinates, and a group, combine with AND.
        tol
            Tolerance [length]; default ``1e-6 x`` the shortest edge.

        Returns
        -------
        Sorted int64 node indices (never empty).

        Raises
        ------
        MeshError
            Nothing asked, an unknown group (lists the groups), a coordinate the mesh does not have, a bad value,
            or an empty result (says what was asked and the coordinate range of the mesh).
        """
        coords = {a: v for a, v in zip(_AXES, (x, y, z)) if v is not None}
        if group is None and not coords:
            raise MeshError("select_nodes: give a group name and/or x, y, z")
        mask = np.ones(self.n_nodes, dtype=bool)
        asked = []
        if group is not None:
            if group not in self.node_groups:
                known = ", ".join(sorted(self.node_groups)) or "none"
                raise MeshError(f"unknown node group {group!r}; the mesh has: {known}")
            mask[:] = False
            mask[self.node_groups[group]] = True
            asked.append(f"group {group!r}")
        if coords:
            if tol is None:
                tol = 1e-6 * self.min_edge_length()
            if not (np.isfinite(tol) and tol >= 0):
                raise MeshError(f"select_nodes: tol must be a non-negative number, got {tol!r}")
        for axis, value in coords.items():
            i = _AXES.index(axis)
            if i >= self.dim:
                raise MeshError(f"select_nodes: a {self.dim}-D mesh has no {axis} coordinate")
            lo, hi = _interval(axis, value)
            mask &= (self.points[:, i] >= lo - tol) & (self.points[:, i] <= hi + tol)
            asked.append(f"{axis} = {lo:g}" if lo == hi else f"{axis} in [{lo:g}, {hi:g}]")
        found = np.flatnonzero(mask).astype(np.int64)
        if len(found) == 0:
            ranges = ", ".join(f"{a} in [{self.points[:, i].min():g}, {self.points[:, i].max():g}]"
                               for i, a in enumerate(_AXES[: self.dim]))
            raise MeshError(f"no node matches {' and '.join(asked)} (tol {tol if coords else 0:g}); "
                            f"the mesh spans {ranges}")
        return found


def _interval(axis: str, value) -> tuple[float, float]:
    """``(lo, hi)`` from a number or a ``[lo, hi]`` pair; MeshError otherwise (strings are never evaluated)."""
    if isinstance(value, (str, bytes)):
        raise MeshError(f"select_nodes: {axis} must be a number or [lo, hi], got the string {value!r}")
    try:
        v = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        v = np.array([np.nan])
    if v.shape not in ((), (2,)) or not np.isfinite(v).all() or (v.shape == (2,) and v[0] > v[1]):
        raise MeshError(f"select_nodes: {axis} must be a finite number or [lo, hi] with lo <= hi, got {value!r}")
    return (float(v), float(v)) if v.ndim == 0 else (float(v[0]), float(v[1]))
