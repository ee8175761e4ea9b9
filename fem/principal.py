"""Principal stretches and directions of a batch of deformation gradients, and the spectral stress
``P = F Σ_i c_i N_i ⊗ N_i`` built from them: the one place the finite-strain laws decompose ``C = FᵀF``.

Three paths, one result (tested against ``torch.linalg.eigh`` to about 1e-12):

- **plane** (every ``F`` block-diagonal, in-plane 2 x 2 and ``F_33``, as the plane-strain kinematics give): the
  2 x 2 block of ``C = [[a, b], [b, c]]`` in closed form, ``λ²_± = m ± r`` with ``m = (a + c)/2``,
  ``r = √(((a - c)/2)² + b²)`` (the smaller one as ``det C₂ / λ²_+``, free of cancellation), the in-plane
  direction angle ``θ`` by ``cos 2θ = (a - c)/(2r)``, ``sin 2θ = b/r``, and ``λ₃ = |F_33|``, ``N₃ = e₃``. Then
  ``S = Σ c_i N_i ⊗ N_i`` has ``S_11,22 = c̄ ± ĉ cos 2θ``, ``S_12 = ĉ sin 2θ`` (``c̄, ĉ`` the half sum and half
  difference of the in-plane coefficients), continuous through ``r → 0``: no fallback needed.
- **closed form 3-D** (:func:`symmetric_eigh`): the trigonometric solution of the characteristic cubic and
  each eigenvector the largest cross product of two rows of ``C - μI``, where the eigenvalues are apart by more
  than :data:`SEPARATION` x their size; ``torch.linalg.eigh`` for the other points.
- **eigh** for batches under :data:`CLOSED_FORM_MIN` points or that need gradients (autograd, ``torch.func``).

All elementwise over the batch (``(n,)`` component tensors), no Python loop over points. Stretches [-].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

#: Closed-form 3-D eigenvectors are used where the eigenvalues of ``C`` are apart by more than this x their size.
SEPARATION = 1e-3
#: Below this many points ``torch.linalg.eigh`` is used (its fixed cost per call is lower than the closed form's).
CLOSED_FORM_MIN = 1024


@dataclass(frozen=True)
class Principal:
    """The principal decomposition of ``F (n, 3, 3)``: stretches ``lam (n, 3)`` (not sorted), ``jac = det F
    (n,)``, and either the referential directions ``N (n, 3, 3)`` (columns) or, on the plane path, the in-plane
    ``(cos 2θ, sin 2θ)`` with ``lam = (λ_-, λ_+, |F_33|)``."""

    F: torch.Tensor
    lam: torch.Tensor
    jac: torch.Tensor
    N: torch.Tensor | None = None
    plane: tuple[torch.Tensor, torch.Tensor] | None = None

    def first_piola(self, coef: torch.Tensor) -> torch.Tensor:
        """``P = F S (n, 3, 3)``, ``S = Σ_i coef_i N_i ⊗ N_i`` with ``coef (n, 3)`` matching :attr:`lam`."""
        if self.plane is None:
            return self.F @ ((self.N * coef.unsqueeze(1)) @ self.N.transpose(1, 2))
        cos2, sin2 = self.plane
        mean, half = 0.5 * (coef[:, 0] + coef[:, 1]), 0.5 * (coef[:, 1] - coef[:, 0])
        s11, s22, s12 = mean + half * cos2, mean - half * cos2, half * sin2
        F = self.F
        P = torch.zeros_like(F)
        f11, f12, f21, f22 = F[:, 0, 0], F[:, 0, 1], F[:, 1, 0], F[:, 1, 1]
        P[:, 0, 0] = f11 * s11 + f12 * s12
        P[:, 0, 1] = f11 * s12 + f12 * s22
        P[:, 1, 0] = f21 * s11 + f22 * s12
        P[:, 1, 1] = f21 * s12 + f22 * s22
        P[:, 2, 2] = F[:, 2, 2] * coef[:, 2]
        return P


def principal(F: torch.Tensor) -> Principal:
    """:class:`Principal` of ``F (n, 3, 3)`` by the path the module docstring gives for this batch."""
    if (F.requires_grad and torch.is_grad_enabled()) or F.shape[0] < CLOSED_FORM_MIN:
        return _by_eigh(F)
    if not (bool(F[:, 2, :2].any()) or bool(F[:, :2, 2].any())):
        return _plane(F)
    c = F.transpose(1, 2) @ F
    lam2, n = symmetric_eigh(0.5 * (c + c.transpose(1, 2)))
    return Principal(F, lam2.clamp_min(1e-300).sqrt(), det3(F), N=n)


def _by_eigh(F: torch.Tensor) -> Principal:
    c = F.transpose(1, 2) @ F
    lam2, n = torch.linalg.eigh(0.5 * (c + c.transpose(1, 2)))
    return Principal(F, lam2.clamp_min(1e-300).sqrt(), torch.linalg.det(F), N=n)


def _plane(F: torch.Tensor) -> Principal:
    f11, f12, f21, f22, f33 = F[:, 0, 0], F[:, 0, 1], F[:, 1, 0], F[:, 1, 1], F[:, 2, 2]
    a, b, c = f11 * f11 + f21 * f21, f11 * f12 + f21 * f22, f12 * f12 + f22 * f22
    j2 = f11 * f22 - f12 * f21
    h = 0.5 * (a - c)
    r = torch.sqrt(h * h + b * b)
    hi = 0.5 * (a + c) + r
    lo = (j2 * j2) / torch.where(hi > 0, hi, torch.ones_like(hi))
    safe = torch.where(r > 0, r, torch.ones_like(r))
    cos2 = torch.where(r > 0, h / safe, torch.ones_like(r))
    lam = torch.stack((lo.sqrt(), hi.sqrt(), f33.abs()), dim=1)
    return Principal(F, lam, j2 * f33, plane=(cos2, b / safe))


def det3(F: torch.Tensor) -> torch.Tensor:
    """``det F (n,)`` of ``F (n, 3, 3)`` by the cofactor expansion along the first row (elementwise)."""
    a, b, c = F[:, 0, 0], F[:, 0, 1], F[:, 0, 2]
    d, e, f = F[:, 1, 0], F[:, 1, 1], F[:, 1, 2]
    g, h, i = F[:, 2, 0], F[:, 2, 1], F[:, 2, 2]
    return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)


def symmetric_eigh(C: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues (ascending, ``(n, 3)``) and orthonormal eigenvectors (columns, ``(n, 3, 3)``) of symmetric
    ``C (n, 3, 3)``: in closed form (the trigonometric solution of the characteristic cubic; each eigenvector the
    largest cross product of two rows of ``C - μI``) where the eigenvalues are apart by more than
    :data:`SEPARATION` x their size, by ``torch.linalg.eigh`` elsewhere (near-equal eigenvalues, ``F ≈ I``).
    Equal to ``eigh`` to about 1e-12 (tested)."""
    c11, c22, c33, c12, c13, c23 = C[:, 0, 0], C[:, 1, 1], C[:, 2, 2], C[:, 0, 1], C[:, 0, 2], C[:, 1, 2]
    q = (c11 + c22 + c33) / 3.0
    b11, b22, b33 = c11 - q, c22 - q, c33 - q
    p = ((b11 * b11 + b22 * b22 + b33 * b33 + 2.0 * (c12 * c12 + c13 * c13 + c23 * c23)) / 6.0).sqrt()
    det_b = b11 * (b22 * b33 - c23 * c23) - c12 * (c12 * b33 - c23 * c13) + c13 * (c12 * c23 - b22 * c13)
    safe = torch.where(p > 0, p, torch.ones_like(p))
    phi = torch.acos((det_b / (2.0 * safe**3)).clamp(-1.0, 1.0)) / 3.0
    top, low = q + 2 * p * torch.cos(phi), q + 2 * p * torch.cos(phi + 2.0 * math.pi / 3.0)
    lam = torch.stack((low, 3 * q - top - low, top), dim=1)
    ok = torch.minimum(lam[:, 2] - lam[:, 1], lam[:, 1] - lam[:, 0]) > SEPARATION * lam.abs().amax(dim=1)
    rows = (c11, c12, c13), (c12, c22, c23), (c13, c23, c33)
    v_low, v_top = _null_vector(rows, low), _null_vector(rows, top)
    v_mid = torch.linalg.cross(v_top, v_low, dim=1)
    vecs = torch.stack((v_low, v_mid, v_top), dim=2)
    if not bool(ok.all()):
        bad = ~ok
        lam[bad], vecs[bad] = torch.linalg.eigh(C[bad])
    return lam, vecs


def _null_vector(rows, mu: torch.Tensor) -> torch.Tensor:
    """The unit vector ``(n, 3)`` spanning the null space of ``C - μI`` (a simple eigenvalue ``μ``): the largest of
    the three cross products of its rows."""
    (a11, a12, a13), (_, a22, a23), (_, _, a33) = rows
    a11, a22, a33 = a11 - mu, a22 - mu, a33 - mu
    r0, r1, r2 = (a11, a12, a13), (a12, a22, a23), (a13, a23, a33)
    best, best_norm = None, None
    for x, y in ((r0, r1), (r0, r2), (r1, r2)):
        v = torch.stack((x[1] * y[2] - x[2] * y[1], x[2] * y[0] - x[0] * y[2], x[0] * y[1] - x[1] * y[0]), dim=1)
        norm = (v * v).sum(dim=1)
        if best is None:
            best, best_norm = v, norm
        else:
            take = norm > best_norm
            best = torch.where(take.unsqueeze(1), v, best)
            best_norm = torch.where(take, norm, best_norm)
    return best / best_norm.clamp_min(1e-300).sqrt().unsqueeze(1)


__all__ = ["CLOSED_FORM_MIN", "SEPARATION", "Principal", "det3", "principal", "symmetric_eigh"]
