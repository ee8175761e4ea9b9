"""Element geometry at the integration points, strains from displacements, and internal forces.

Everything is batched over elements ``e`` and integration points ``q``: no Python loop over either.

Conventions (used everywhere in ``fem`` and by the certified bounds of ``snsurrogate``)
--------------------------------------------------------------------------------------
Engineering Voigt vectors, shear strains doubled:

- 1-D: ``[eps_xx]``
- 2-D: ``[eps_xx, eps_yy, gamma_xy]`` with ``gamma_xy = 2 eps_xy = du_x/dy + du_y/dx``
- 3-D: ``[eps_xx, eps_yy, eps_zz, gamma_yz, gamma_xz, gamma_xy]``

Stresses ``[sigma_xx, sigma_yy, sigma_xy]`` (2-D) and ``[sigma_xx, sigma_yy, sigma_zz, sigma_yz, sigma_xz,
sigma_xy]`` (3-D) are not doubled, so ``sigma . eps`` is the strain energy density increment. The
strain operator ``B`` maps nodal displacements (node-major: ``dof = node * dim + component``) to this
strain vector, and the internal force is ``f = sum_q w_q |J_q| B_q^T sigma_q`` (times the section: the
cross-section area of a bar, the thickness of a 2-D model).

The 1-D bar is formulated in the reference configuration: its strain is the engineering strain
``du/dX`` and its stress the nominal (first Piola-Kirchhoff) stress, which is exact at large stretch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .errors import MeshError
from .memory import require, run_bytes

VOIGT_SIZE = {1: 1, 2: 3, 3: 6}
"""Number of Voigt components for each spatial dimension."""

# (i, j) -> Voigt index of the symmetric tensor component, per dimension
_VOIGT_INDEX = {
    1: [[0]],
    2: [[0, 2], [2, 1]],
    3: [[0, 5, 4], [5, 1, 3], [4, 3, 2]],
}
# Voigt index -> (i, j) for the strain vector
_VOIGT_PAIRS = {1: [(0, 0)], 2: [(0, 0), (1, 1), (0, 1)], 3: [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)]}


@dataclass
class Geometry:
    """Integration-point data of a mesh, as tensors on one device and dtype.

    Attributes
    ----------
    cells : (n_el, n_nodes_el) int64
    dNT : (n_el, n_qp * dim, n_nodes_el)
        Shape-function gradients in physical coordinates [1 / length], stored as
        ``dNT[e, q * dim + j, a] = dN_a/dx_j`` so that strains and forces are single batched matrix
        products (``bmm``) without copies; :attr:`dN_dx` is the ``(n_el, n_qp, n_nodes_el, dim)`` view.
    wdetJ : (n_el, n_qp)
        Integration weight times Jacobian determinant times the section [length^3]: the volume that
        each integration point stands for (bar: times the cross-section area; 2-D: times the thickness).
    N : (n_qp, n_nodes_el)
        Shape-function values at the integration points.
    n_nodes, dim : int
    """

    cells: torch.Tensor
    dNT: torch.Tensor
    wdetJ: torch.Tensor
    N: torch.Tensor
    n_nodes: int
    dim: int

    @property
    def n_voigt(self) -> int:
        return VOIGT_SIZE[self.dim]

    @property
    def dN_dx(self) -> torch.Tensor:
        """Shape-function gradients ``(n_el, n_qp, n_nodes_el, dim)`` [1 / length] (a view of ``dNT``)."""
        e, qd, a = self.dNT.shape
        return self.dNT.view(e, qd // self.dim, self.dim, a).transpose(-1, -2)

    @property
    def volume(self) -> torch.Tensor:
        """Element volumes (section included), ``(n_el,)`` [length^3]."""
        return self.wdetJ.sum(dim=1)


def geometry(mesh, *, section: float = 1.0, dtype=torch.float64, device="cpu") -> Geometry:
    """Integration-point geometry of ``mesh`` (a :class:`fem.mesh.Mesh`).

    Parameters
    ----------
    section
        Bar cross-section area [length^2] (1-D), thickness [length] (2-D); must be 1 in 3-D.

    Raises
    ------
    MeshError
        An element whose Jacobian determinant is not positive at an integration point (inverted or
        degenerate), naming the first few.
    """
    if not (np.isfinite(section) and section > 0):
        raise MeshError(f"the section (bar area or plate thickness) must be positive, got {section!r}")
    el = mesh.element
    dim = el.dim
    if dim == 3 and section != 1.0:
        raise MeshError("a 3-D mesh has no section: leave it at 1")
    require(run_bytes(mesh.n_nodes, mesh.n_cells, el, torch.empty((), dtype=dtype).element_size()),
            f"a run on {mesh.n_cells:,} {el.name} elements ({mesh.n_nodes:,} nodes)")
    w = torch.as_tensor(el.quad_weights, dtype=dtype, device=device)
    dN_dxi = torch.as_tensor(el.shape_grad(el.quad_points), dtype=dtype, device=device)  # (q, a, d)
    N = torch.as_tensor(el.shape(el.quad_points), dtype=dtype, device=device)  # (q, a)
    cells = torch.as_tensor(np.asarray(mesh.cells), dtype=torch.int64, device=device)
    n_el, nq = cells.shape[0], w.shape[0]
    dNT = torch.empty((n_el, nq * dim, el.n_nodes), dtype=dtype, device=device)
    det = torch.empty((n_el, nq), dtype=dtype, device=device)
    for start in range(0, n_el, GEOMETRY_CHUNK):  # in chunks: the Jacobians of 10^6 hexahedra need no copy at once
        sel = slice(start, min(start + GEOMETRY_CHUNK, n_el))
        jac = torch.as_tensor(mesh.jacobians(cells=sel), dtype=dtype, device=device)  # dx_d / dxi_k, (e, q, d, d)
        det[sel] = torch.linalg.det(jac)
        inv = torch.linalg.inv(jac)  # dxi_k / dx_d
        dNT[sel] = torch.einsum("qak,eqkd->eqda", dN_dxi, inv).reshape(-1, nq * dim, el.n_nodes)
    bad = torch.nonzero(~(det > 0).all(dim=1)).flatten()
    if bad.numel():
        first = ", ".join(str(int(i)) for i in bad[:5])
        raise MeshError(
            f"{bad.numel()} element(s) with a non-positive Jacobian determinant (inverted or degenerate), "
            f"e.g. cell(s) {first}; smallest determinant {float(det.min()):.3e}"
        )
    wdetJ = det * w * section
    return Geometry(cells=cells, dNT=dNT, wdetJ=wdetJ, N=N, n_nodes=mesh.n_nodes, dim=dim)


#: Elements per chunk of :func:`geometry`.
GEOMETRY_CHUNK = 65536


_INDEX_CACHE: dict = {}


def _index(kind: str, dim: int, like: torch.Tensor) -> torch.Tensor:
    """Cached index/scale tensors for Voigt gathers on ``like``'s device (and dtype for scales)."""
    key = (kind, dim, like.device, like.dtype if kind == "scale" else None)
    if key not in _INDEX_CACHE:
        pairs = _VOIGT_PAIRS[dim]
        if kind == "ij":  # flat positions (j, i) of grad[e, q, j, i] = du_i/dx_j, one per Voigt component
            value = torch.tensor([j * dim + i for i, j in pairs], device=like.device)
        elif kind == "ji":  # the transposed positions
            value = torch.tensor([i * dim + j for i, j in pairs], device=like.device)
        elif kind == "scale":  # 1/2 on normal components of grad + grad^T, 1 on shears
            value = torch.tensor([0.5 if i == j else 1.0 for i, j in pairs], dtype=like.dtype, device=like.device)
        else:  # "tensor": Voigt index of each (i, j)
            value = torch.tensor(_VOIGT_INDEX[dim], device=like.device).flatten()
        _INDEX_CACHE[key] = value
    return _INDEX_CACHE[key]


class StrainForce:
    """The two halves of the internal force, strain from displacement and force from stress: the one
    implementation of this arithmetic in ``fem``.

    .. math::  \varepsilon_q = \\mathrm{voigt}(\nabla u)_q, \\qquad
               f_{a,i} = \\sum_e \\sum_q w|J|_q\\, \\sigma_{ij,q}\\, \\partial N_a / \\partial x_j

    With ``buffered=True`` every intermediate lives in a buffer allocated here, so repeated calls (a time
    step) allocate nothing and the results are views that the next call overwrites; with
    ``buffered=False`` each call allocates fresh tensors and is differentiable by autograd.

    Parameters
    ----------
    geom
        The integration-point geometry.
    buffered
        Reuse preallocated buffers (not differentiable) or allocate per call.
    """

    def __init__(self, geom: Geometry, *, buffered: bool = True) -> None:
        self.geom = geom
        e, qd, a = geom.dNT.shape
        d, nv = geom.dim, geom.n_voigt
        self.n_el, self.n_qp, self.n_voigt = e, qd // d, nv
        like = geom.wdetJ
        self._cells = geom.cells.reshape(-1)
        self._dN = geom.dNT.transpose(1, 2)  # (e, a, q*d) view for the force
        self._ij, self._ji = _index("ij", d, like), _index("ji", d, like)
        self._scale, self._tensor = _index("scale", d, like), _index("tensor", d, like)
        self._w = geom.wdetJ.unsqueeze(-1)
        shapes = {"ue": (e * a, d), "grad": (e, qd, d), "eps": (e, self.n_qp, nv), "tmp": (e, self.n_qp, nv),
                  "sw": (e, self.n_qp, nv), "s": (e, self.n_qp, d * d), "fe": (e, a, d)}
        self._buf = {k: like.new_empty(v) for k, v in shapes.items()} if buffered else {}

    def strain(self, u: torch.Tensor) -> torch.Tensor:
        """Engineering Voigt strain ``(n_el, n_qp, n_voigt)`` [-] from nodal displacements ``u``
        (``(n_nodes, dim)`` or flat ``(n_dof,)``) [length]."""
        g, b, d = self.geom, self._buf, self.geom.dim
        ue = torch.index_select(u.reshape(-1, d), 0, self._cells, out=b.get("ue"))
        grad = torch.bmm(g.dNT, ue.view(self.n_el, -1, d), out=b.get("grad"))  # grad[e, q*d + j, i] = du_i/dx_j
        flat = grad.view(self.n_el, self.n_qp, d * d)
        eps = torch.index_select(flat, 2, self._ij, out=b.get("eps"))
        tmp = torch.index_select(flat, 2, self._ji, out=b.get("tmp"))
        return eps.add_(tmp).mul_(self._scale)  # normal: (g + g) / 2, shear: g_ij + g_ji

    def force(self, sigma: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """Assembled internal force ``(n_nodes * dim,)`` [force] from Voigt stress ``(n_el, n_qp, n_voigt)``
        [stress]: one batched product and one ``index_add_``; ``out`` (zeroed here) avoids an allocation."""
        g, b, d = self.geom, self._buf, self.geom.dim
        sw = torch.mul(sigma, self._w, out=b.get("sw"))
        s = torch.index_select(sw, 2, self._tensor, out=b.get("s"))  # the symmetric tensor, (e, q, d*d)
        fe = torch.bmm(self._dN, s.view(self.n_el, -1, d), out=b.get("fe"))  # sum over q and j: (e, a, d)
        if out is None:
            out = sigma.new_zeros(g.n_nodes * d)
        f = out.view(-1, d)
        f.zero_()
        f.index_add_(0, self._cells, fe.reshape(-1, d))
        return out


def strain(geom: Geometry, u: torch.Tensor) -> torch.Tensor:
    """Engineering Voigt strain at every integration point, ``(n_el, n_qp, n_voigt)`` [-] (differentiable)."""
    return StrainForce(geom, buffered=False).strain(u)


def internal_force(geom: Geometry, sigma: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """Assembled internal force ``f_a,i = sum_e sum_q w|J| sigma_ij dN_a/dx_j``, ``(n_nodes, dim)`` [force].

    ``sigma``: Voigt stress at the integration points, ``(n_el, n_qp, n_voigt)`` [stress].
    """
    flat = None if out is None else out.view(-1)
    return StrainForce(geom, buffered=False).force(sigma, flat).view(geom.n_nodes, geom.dim)


def strain_operator(geom: Geometry) -> torch.Tensor:
    """The strain operator ``B``, ``(n_el, n_qp, n_voigt, n_nodes_el * dim)`` [1 / length], node-major dofs.

    ``strain(u) = B u_e`` with ``u_e`` the element's nodal displacements flattened node by node.
    """
    dim = geom.dim
    e, q, a, _ = geom.dN_dx.shape
    B = geom.dN_dx.new_zeros((e, q, VOIGT_SIZE[dim], a, dim))
    for k, (i, j) in enumerate(_VOIGT_PAIRS[dim]):  # at most 6 Voigt rows: a loop over components only
        B[:, :, k, :, i] += geom.dN_dx[:, :, :, j]
        if i != j:
            B[:, :, k, :, j] += geom.dN_dx[:, :, :, i]
    return B.reshape(e, q, VOIGT_SIZE[dim], a * dim)


def element_dofs(geom: Geometry) -> torch.Tensor:
    """Global dof numbers of every element, ``(n_el, n_nodes_el * dim)``, node-major."""
    dim = geom.dim
    comp = torch.arange(dim, device=geom.cells.device)
    return (geom.cells[:, :, None] * dim + comp).reshape(geom.cells.shape[0], -1)


class InternalForce(StrainForce):
    """``f_int(u)`` for repeated calls: :class:`StrainForce` with buffers and the material in between, so a
    time step allocates nothing but the material's output.

    Calling it returns ``(eps, sig)``, views of internal buffers ``(n_el, n_qp, n_voigt)`` that the next
    call overwrites, and writes the assembled force into ``out (n_nodes * dim,)``.
    """

    def __init__(self, geom: Geometry, material) -> None:
        super().__init__(geom, buffered=True)
        self.material = material

    def __call__(self, u: torch.Tensor, out: torch.Tensor):
        eps = self.strain(u)
        sig = self.material.stress(eps.view(-1, self.n_voigt)).view(eps.shape)
        self.force(sig, out)
        return eps, sig
