"""Lumped (diagonal) mass by row summation of the consistent mass matrix.

``m_a = sum_e sum_q rho w_q |J_q| N_a(xi_q)`` [mass], since ``sum_b N_b = 1``: each node receives the
integral of its shape function times the density. With the element quadratures of
:mod:`fem.elements` this gives ``rho V / n`` per node for bar2, tri3, tet4, and for quad4/hex8 of
parallelogram shape; the masses are always positive and sum to ``rho V`` exactly.
"""

from __future__ import annotations

import torch

from .kinematics import Geometry


def lumped_mass(geom: Geometry, density: float) -> torch.Tensor:
    """Nodal masses ``(n_nodes,)`` [mass] for a uniform ``density`` [mass / length^3]: the element masses
    (:func:`element_masses`) summed at the nodes."""
    m_el = element_masses(geom, density)
    m = torch.zeros(geom.n_nodes, dtype=m_el.dtype, device=m_el.device)
    m.index_add_(0, geom.cells.flatten(), m_el.flatten())
    return m


def element_masses(geom: Geometry, density: float) -> torch.Tensor:
    """Each element's own lumped nodal masses ``(n_el, n_nodes_el)`` [mass] (for element-by-element bounds)."""
    return density * torch.einsum("eq,qa->ea", geom.wdetJ, geom.N)
