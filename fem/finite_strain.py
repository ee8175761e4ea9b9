"""Total Lagrangian kinematics: the deformation gradient at the integration points, the internal force from
the first Piola–Kirchhoff stress, and the certified time step at the current state.

Batched over elements and integration points like :mod:`fem.kinematics` (the same ``Geometry``: reference
coordinates ``X``, gradients ``∂N_a/∂X_J``), with no Python loop over either:

.. math::

    F_q = I + \\sum_a u_a \\otimes \\nabla_0 N_a(X_q), \\qquad
    f_{a,i} = \\sum_e \\sum_q w_q |J_{0,q}|\\, P_{iJ}(F_q)\\, \\partial N_a/\\partial X_J .

In 2-D (plane strain) ``F`` is 3 x 3 with ``F_33 = 1`` and no out-of-plane coupling; the force uses the
in-plane block of ``P``. Linearised about a state, ``uᵀ K(F) u = Σ_q w|J₀| H : 𝔸(F_q) : H ≤ Σ_e a_e uᵀ G_e u``
with ``a_e = max_q a(F_q)`` (a material's certified ``tangent_bound``) and the element gradient Gram matrix
``G_e = Σ_q w|J₀| ∇₀N ∇₀Nᵀ ⊗ I_d``, fixed by the reference mesh. The element eigenvalue inequality then gives

.. math::

    \\Delta t(\\text{state}) = 2 \\Big/ \\sqrt{\\max_e \\max(a_e, 0)\\, g_e / \\rho}, \\qquad
    g_e = \\lambda_{\\max}(G_e, M_e / \\rho),

(:func:`state_time_step`), a certified bound of the linearised critical step at that state: one pass over the
points (``a(F_q)``) times precomputed element factors ``g_e`` (:func:`gradient_factors`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .element_matrices import chunks, sub_geometry
from .errors import InputError
from .kinematics import Geometry
from .mass import element_masses


class DeformationForce:
    """``F`` from displacements and the internal force from ``P``: the one implementation of the total
    Lagrangian arithmetic (module docstring). ``buffered=True`` reuses buffers (results are views the next call
    overwrites); ``buffered=False`` allocates per call and is differentiable by autograd."""

    def __init__(self, geom: Geometry, *, buffered: bool = True) -> None:
        self.geom = geom
        e, qd, a = geom.dNT.shape
        d = geom.dim
        if d == 1:
            raise InputError("finite-strain kinematics are for 2-D (plane strain) and 3-D meshes; the 1-D bar is "
                             "already total Lagrangian (engineering strain, nominal stress)", "kinematics")
        self.n_el, self.n_qp, self.d = e, qd // d, d
        self._cells = geom.cells.reshape(-1)
        self._dN = geom.dNT.transpose(1, 2)  # (e, a, q*d)
        self._w = geom.wdetJ.reshape(e, -1, 1, 1)
        like = geom.wdetJ
        self._eye = torch.eye(3, dtype=like.dtype, device=like.device)
        shapes = {"ue": (e * a, d), "grad": (e, qd, d), "F": (e, self.n_qp, 3, 3), "pw": (e, self.n_qp, d, d),
                  "fe": (e, a, d)}
        self._buf = {k: like.new_empty(v) for k, v in shapes.items()} if buffered else {}
        if buffered:
            self._buf["F"].copy_(self._eye.expand(e, self.n_qp, 3, 3))

    def deformation_gradient(self, u: torch.Tensor) -> torch.Tensor:
        """``F (n_el, n_qp, 3, 3)`` [-] from nodal displacements ``u`` (``(n_nodes, dim)`` or flat) [length]."""
        b, d = self._buf, self.d
        ue = torch.index_select(u.reshape(-1, d), 0, self._cells, out=b.get("ue"))
        grad = torch.bmm(self.geom.dNT, ue.view(self.n_el, -1, d), out=b.get("grad"))  # [e, q*d + J, i] = du_i/dX_J
        H = grad.view(self.n_el, self.n_qp, d, d).transpose(-1, -2)
        if "F" in b:
            F = b["F"]
            F[..., :d, :d].copy_(H)
            F[..., :d, :d].diagonal(dim1=-2, dim2=-1).add_(1.0)
            return F
        return _with_block(self._eye.expand(self.n_el, self.n_qp, 3, 3), H, d)

    def force(self, P: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """Assembled internal force ``(n_nodes * dim,)`` [force] from ``P (n_el, n_qp, 3, 3)`` [stress]."""
        b, d = self._buf, self.d
        pw = torch.mul(P[..., :d, :d], self._w, out=b.get("pw"))  # w P_iJ
        rhs = pw.transpose(-1, -2).reshape(self.n_el, -1, d)  # [e, q*d + J, i]
        fe = torch.bmm(self._dN, rhs, out=b.get("fe"))
        if out is None:
            out = P.new_zeros(self.geom.n_nodes * d)
        f = out.view(-1, d)
        f.zero_()
        f.index_add_(0, self._cells, fe.reshape(-1, d))
        return out


def _with_block(F: torch.Tensor, H: torch.Tensor, d: int) -> torch.Tensor:
    """``F`` with its in-plane block replaced by ``I + H`` (differentiable)."""
    top = torch.eye(d, dtype=H.dtype, device=H.device) + H
    if d == 3:
        return top
    F = F.clone()
    F[..., :d, :d] = top
    return F


class FiniteStrainForce(DeformationForce):
    """``f_int(u)`` for repeated calls: ``(F, P)`` (buffers, flattened to ``(n_el, n_qp, 9)``) and the force
    written into ``out``; the material's ``first_piola`` in between.

    With ``with_bound`` set and a material that has ``first_piola_and_bound(F) -> (P, a(F), det F)``, one call
    also leaves ``bound`` (``a(F_q)``, ``(n_el, n_qp)``) and ``det`` (``det F_q``) from the same principal
    decomposition; otherwise they are ``None`` (the step control then evaluates ``tangent_bound`` itself)."""

    def __init__(self, geom: Geometry, material) -> None:
        super().__init__(geom, buffered=True)
        self.material = material
        self.with_bound = False
        self.bound: torch.Tensor | None = None
        self.det: torch.Tensor | None = None

    def __call__(self, u: torch.Tensor, out: torch.Tensor):
        F = self.deformation_gradient(u)
        flat = F.view(-1, 3, 3)
        if self.with_bound and hasattr(self.material, "first_piola_and_bound"):
            P, a, det = self.material.first_piola_and_bound(flat)
            self.bound, self.det = a.view(self.n_el, self.n_qp), det.view(self.n_el, self.n_qp)
        else:
            P, self.bound, self.det = self.material.first_piola(flat), None, None
        P = P.view(F.shape)
        self.force(P, out)
        return F.view(self.n_el, self.n_qp, 9), P.reshape(self.n_el, self.n_qp, 9)


def gradient_factors(geom: Geometry, chunk: int = 65536) -> torch.Tensor:
    """``g_e (n_el,)`` [1/length²] per unit density: ``λ_max`` of ``M_e^{-1/2} L_e M_e^{-1/2}`` with the scalar
    gradient Gram matrix ``L_e = Σ_q w|J₀| ∇₀N ∇₀Nᵀ`` (``G_e = L_e ⊗ I_d`` has the same eigenvalues) and the
    element's lumped masses ``M_e`` at unit density."""
    out = torch.empty(geom.cells.shape[0], dtype=geom.wdetJ.dtype, device=geom.wdetJ.device)
    for sel in chunks(geom.cells.shape[0], chunk):
        sub = sub_geometry(geom, sel)
        dn = sub.dN_dx  # (e, q, a, d)
        lap = torch.einsum("eq,eqad,eqbd->eab", sub.wdetJ, dn, dn)
        s = element_masses(sub, 1.0).rsqrt()
        out[sel] = torch.linalg.eigvalsh(lap * s[:, :, None] * s[:, None, :])[:, -1]
    return out


@dataclass(frozen=True)
class StateStep:
    """The certified step at one state: ``dt`` [time], the controlling element, its ``a_e`` [stress] and the
    largest ``a(F_q)`` anywhere [stress]."""

    dt: float
    element: int
    a_element: float
    a_max: float


def state_time_step(a_points: torch.Tensor, factors: torch.Tensor, density: float) -> StateStep:
    """:class:`StateStep` from ``a(F_q)`` at every point ``(n_el, n_qp)`` [stress] and ``g_e`` (module docstring)."""
    a_el = a_points.amax(dim=1).clamp_min(0.0)
    worst = a_el * factors
    e = int(torch.argmax(worst))
    top = float(worst[e])
    dt = math.inf if top <= 0 else 2.0 / math.sqrt(top / density)
    return StateStep(dt, e, float(a_el[e]), float(a_points.max()))


__all__ = ["DeformationForce", "FiniteStrainForce", "StateStep", "gradient_factors", "state_time_step"]
