"""Element matrices for analysis and time-step bounds: geometric, stiffness and assembled forms.

- geometric matrix ``G_e = sum_q w|J| B^T B`` (the stiffness with ``C = I``; ``stability.md`` §2);
- tangent stiffness ``K_e = sum_q w|J| B^T C_q B`` with ``C_q`` the material tangent at each point;
- assembly into a ``scipy.sparse`` CSR matrix over node-major dofs.

Batched over elements, in chunks so that 10^6 hexahedra do not need 24x24 matrices all at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
import torch

from .kinematics import Geometry, element_dofs, strain_operator


def chunks(n: int, size: int) -> Iterator[slice]:
    """Slices covering ``range(n)`` in pieces of at most ``size``."""
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def sub_geometry(geom: Geometry, sel: slice | torch.Tensor) -> Geometry:
    """The geometry of a slice (or an index tensor) of the elements (same nodes)."""
    return Geometry(geom.cells[sel], geom.dNT[sel], geom.wdetJ[sel], geom.N, geom.n_nodes, geom.dim)


def geometric_matrices(geom: Geometry) -> torch.Tensor:
    """``G_e``, ``(n_el, n_dof_el, n_dof_el)`` [length] (``w|J|`` [length^3] times ``B^T B`` [1/length^2])."""
    B = strain_operator(geom)
    return torch.einsum("eq,eqki,eqkj->eij", geom.wdetJ, B, B)


def stiffness_matrices(geom: Geometry, tangent: torch.Tensor) -> torch.Tensor:
    """``K_e = sum_q w|J| B^T C_q B``, ``(n_el, n_dof_el, n_dof_el)`` [force / length].

    ``tangent``: ``(n_el, n_qp, n_voigt, n_voigt)`` [stress].
    """
    B = strain_operator(geom)
    return torch.einsum("eq,eqki,eqkl,eqlj->eij", geom.wdetJ, B, tangent, B)


def assemble(geom: Geometry, mats: torch.Tensor) -> sp.csr_matrix:
    """Sum element matrices ``(n_el, k, k)`` into a sparse ``(n_dof, n_dof)`` CSR matrix."""
    dofs = element_dofs(geom).cpu().numpy()
    k = dofs.shape[1]
    rows = np.repeat(dofs, k, axis=1).reshape(-1)
    cols = np.tile(dofs, (1, k)).reshape(-1)
    n = geom.n_nodes * geom.dim
    return sp.csr_matrix((mats.detach().cpu().numpy().reshape(-1), (rows, cols)), shape=(n, n))


def assembled_stiffness(geom: Geometry, tangent: torch.Tensor, chunk: int = 65536) -> sp.csr_matrix:
    """The assembled tangent stiffness ``K_t`` (``n_dof x n_dof``, CSR, not symmetrized) from the tangents
    ``(n_el, n_qp, n_voigt, n_voigt)`` [stress] at the integration points, built in element chunks."""
    parts = []
    for sel in chunks(geom.cells.shape[0], chunk):
        sub = sub_geometry(geom, sel)
        parts.append(assemble(sub, stiffness_matrices(sub, tangent[sel].to(geom.wdetJ.dtype))))
    return sum(parts[1:], parts[0]).tocsr()
