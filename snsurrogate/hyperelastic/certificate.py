"""The certificate of a hyperelastic law, audited: the bound ``L`` against autograd, in 1-D and in 3-D.

What is certified (for every stretch, from the stored weights; :mod:`snsurrogate.hyperelastic.law`):
``m <= w''(λ) <= L`` (an unconstrained law: ``|w''(λ)| <= L / λ``),
and at any ``F`` with ``det F > 0`` the state bound ``a(F) >= λ_max(∂P/∂F)``.
:func:`audit` checks both against numbers computed independently: ``w''`` by automatic differentiation
of ``w'`` (not the closed-form ridge curvature the bound is derived from) on a dense grid over the data's
stretch range and far beyond, and ``λ_max`` of the autograd elasticity tensor ``∂P/∂F`` at random
deformations (principal stretches log-uniform over the data range and its extension, random rotations on
both sides). It also measures how tight ``L`` is: ``tightness = L / largest w'' over the data range``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from fem.errors import CertificateError

from .law import HyperelasticLaw

#: Relative slack of the comparisons (floating-point rounding of the autograd side).
SLACK = 1e-9
#: How far beyond the data's stretch range the 1-D grid reaches (factor on both ends).
BEYOND = 10.0


@dataclass(frozen=True)
class CertificateAudit:
    """Result of :func:`audit`. Stresses and moduli in the law's stress unit, stretches dimensionless.

    ``stretch_range``: the data's (lateral stretches included); ``largest_w2_data`` / ``largest_w2_beyond``:
    the largest ``w''`` found by autograd over it / over ``[lo/10, 10 hi]``; ``smallest_w2``: the smallest
    over the latter; ``tightness = L / largest_w2_data``; ``states``: random deformations checked in 3-D,
    ``worst_state_ratio``: the largest ``λ_max(∂P/∂F) / a(F)`` among them (≤ 1 holds the certificate)."""

    lipschitz_bound: float
    tangent_lower_bound: float | None
    stretch_range: tuple[float, float]
    largest_w2_data: float
    largest_w2_at: float
    largest_w2_beyond: float
    smallest_w2: float
    tightness: float
    states: int
    worst_state_ratio: float

    def to_dict(self) -> dict:
        d = asdict(self)
        d["stretch_range"] = list(self.stretch_range)
        return d


def autograd_w2(law: HyperelasticLaw, lam: np.ndarray) -> np.ndarray:
    """``w''`` at stretches ``lam`` by automatic differentiation of the network's ``w'`` [stress unit] (not the
    closed-form curvature nor the piecewise evaluation the law uses)."""
    x = torch.as_tensor(lam, dtype=law.dtype).clone().requires_grad_(True)
    with torch.enable_grad():
        (g,) = torch.autograd.grad(law.network_dw(x).sum(), x)
    return g.detach().numpy()


def random_deformations(n: int, lo: float, hi: float, seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    """``F = Q₁ diag(λ) Q₂ᵀ (n, 3, 3)`` with ``log λ`` uniform on ``[log lo, log hi]`` and random rotations."""
    gen = torch.Generator().manual_seed(seed)
    lam = torch.exp(torch.empty(n, 3, dtype=dtype).uniform_(np.log(lo), np.log(hi), generator=gen))
    q1 = torch.linalg.qr(torch.randn(n, 3, 3, dtype=dtype, generator=gen))[0]
    q2 = torch.linalg.qr(torch.randn(n, 3, 3, dtype=dtype, generator=gen))[0]
    q1 = q1 * torch.linalg.det(q1).sign().reshape(-1, 1, 1)  # proper rotations: det F > 0
    q2 = q2 * torch.linalg.det(q2).sign().reshape(-1, 1, 1)
    return q1 @ torch.diag_embed(lam) @ q2.transpose(1, 2)


def state_ratios(law: HyperelasticLaw, F: torch.Tensor) -> np.ndarray:
    """``λ_max(∂P/∂F) / a(F)`` ``(n,)`` at deformations ``F`` (autograd elasticity against the bound)."""
    a = law.elasticity(F)
    top = torch.linalg.eigvalsh(0.5 * (a + a.transpose(1, 2)))[:, -1]
    return (top / law.tangent_bound(F)).numpy()


def audit(law: HyperelasticLaw, stretch_range: tuple[float, float], states: int = 200,
          seed: int = 0) -> CertificateAudit:
    """Check the certificate (module docstring); :class:`fem.errors.CertificateError` if any check fails."""
    lo, hi = (float(v) for v in stretch_range)
    L, m = law.lipschitz_bound, law.tangent_lower_bound
    data = np.geomspace(lo, hi, 4001)
    beyond = np.geomspace(lo / BEYOND, hi * BEYOND, 8001)
    w2_data, w2_beyond = autograd_w2(law, data), autograd_w2(law, beyond)
    top, bottom = float(w2_beyond.max()), float(w2_beyond.min())
    if m is None:  # unconstrained: |w''(λ)| <= L / λ, no lower bound
        scaled = np.abs(w2_beyond) * beyond
        if float(scaled.max()) > L * (1 + SLACK):
            raise CertificateError(f"certificate violated: autograd λ|w''| reaches {float(scaled.max()):.6g} at "
                                   f"stretch {beyond[int(np.argmax(scaled))]:.6g}, above the bound L = {L:.6g}")
    elif top > L * (1 + SLACK) or bottom < m - SLACK * L:
        at = beyond[int(np.argmax(w2_beyond))] if top > L * (1 + SLACK) else beyond[int(np.argmin(w2_beyond))]
        raise CertificateError(f"certificate violated: autograd w'' ranges over [{bottom:.6g}, {top:.6g}] but the "
                               f"certificate says [{m:.6g}, {L:.6g}] (worst at stretch {at:.6g})")
    worst = 0.0
    if states:
        F = random_deformations(states, min(lo, 0.3), max(hi, 1.0 / 0.3), seed, law.dtype)
        ratios = state_ratios(law, F)
        worst = float(ratios.max())
        if worst > 1 + SLACK:
            raise CertificateError(f"certificate violated: λ_max(∂P/∂F) exceeds the state bound a(F) by a factor "
                                   f"{worst:.9g} at a random deformation (seed {seed})")
    k = int(np.argmax(w2_data))
    if m is None:
        tight = L / float((np.abs(w2_data) * data).max())
    else:
        tight = L / float(w2_data[k]) if w2_data[k] > 0 else float("inf")
    return CertificateAudit(L, m, (lo, hi), float(w2_data[k]), float(data[k]), top, bottom, tight, int(states),
                            worst)


__all__ = ["BEYOND", "CertificateAudit", "audit", "autograd_w2", "random_deformations", "state_ratios"]
