"""The element-by-element stable time step (``stability.md`` §3), for ``dt = "auto"``.

For a material whose tangent satisfies ``||C_t||_2 <= L`` (a certified bound) and lumped mass,

.. math::  dt \\le \\frac{2}{\\sqrt{L \\max_e g_e}}, \\qquad
           g_e = \\lambda_{max}(M_e^{-1/2} G_e M_e^{-1/2}),

with ``G_e`` the element geometric matrix and ``M_e`` the element's own lumped masses per unit
density (``rho`` divides out: ``g_e`` here is computed with ``rho = 1`` and divided by the density).
For a bar element of length ``h`` this is exactly ``h sqrt(rho / L)``.
"""

from __future__ import annotations

import math

import torch

from .element_matrices import chunks, geometric_matrices, sub_geometry
from .kinematics import Geometry
from .mass import element_masses


def element_eigenvalues(geom: Geometry, chunk: int = 65536) -> torch.Tensor:
    """``g_e`` for unit density, ``(n_el,)`` [1/length^2]: batched ``eigvalsh`` of ``M_e^{-1/2} G_e M_e^{-1/2}``."""
    out = torch.empty(geom.cells.shape[0], dtype=geom.wdetJ.dtype, device=geom.wdetJ.device)
    for sel in chunks(geom.cells.shape[0], chunk):
        sub = sub_geometry(geom, sel)
        G = geometric_matrices(sub)
        m = element_masses(sub, 1.0).repeat_interleave(geom.dim, dim=1)  # (e, n_dof_el)
        s = m.rsqrt()
        out[sel] = torch.linalg.eigvalsh(G * s[:, :, None] * s[:, None, :])[:, -1]
    return out


def element_time_step(geom: Geometry, density: float, lipschitz: float) -> tuple[float, int]:
    """``(dt, element)``: the certified element-by-element step [time] and the controlling element."""
    g = element_eigenvalues(geom) / density
    e = int(torch.argmax(g))
    return 2.0 / math.sqrt(lipschitz * float(g[e])), e
