"""The metric of the time-step bounds: which constant stiffness bounds the tangent, ``C_t(eps) <= C_bar``.

Every certified step of :mod:`fem.stability` rests on one Loewner-order bound of the material tangent,
held at every strain:

.. math::  C_t(\\varepsilon) \\preceq \\bar C \\;\\Longrightarrow\\;
           u^T K_t u = \\sum_q w_q |J_q|\\, (B u)^T C_t (B u) \\le u^T \\bar K u, \\qquad
           \\omega_{max}^2 = \\lambda_{max}(K_t, M) \\le \\lambda_{max}(\\bar K, M),

with :math:`\\bar K = \\sum_e \\sum_q w|J| B^T \\bar C B` the stiffness assembled from the constant matrix
:math:`\\bar C` (for a non-symmetric tangent, of its symmetric part, which is all :math:`u^T K_t u` sees).
The material says which :math:`\\bar C` it certifies:

- ``euclidean``: :math:`\\bar C = L I` from ``lipschitz_bound`` (``||C_t||_2 <= L``), so
  :math:`\\bar K = L G` with the geometric matrix :math:`G` (any law; ``stability.md`` §2);
- ``stiffness``: the law's own ``stiffness_bound`` :math:`\\bar C` [stress unit], a symmetric positive-definite
  ``(n_voigt, n_voigt)`` matrix: a linear law's constant stiffness (then :math:`\\bar K = K` and the bounds are
  those of the exact critical step), or a fitted potential law certified in its reference stiffness
  (:math:`\\bar C = \\alpha \\hat C_0`, ``snsurrogate.potential``). Tighter than ``L I`` whenever :math:`\\bar C`
  is not a multiple of the identity: ``||C||_2`` of an isotropic law exceeds its P-wave modulus.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .errors import InputError


@dataclass(frozen=True)
class Metric:
    """``C_t <= scale x matrix`` at every strain.

    Attributes
    ----------
    matrix
        ``C_bar / scale``, ``(n_voigt, n_voigt)`` float64, or ``None`` for the identity (``A = G``).
    scale
        [stress unit] for the identity (``L``), 1 for a stiffness matrix (which carries the unit itself).
    name
        How the bound reads in reports (``StabilityReport.metric``).
    """

    matrix: torch.Tensor | None
    scale: float
    name: str

    @property
    def euclidean(self) -> bool:
        return self.matrix is None

    def tangents(self, n_el: int, n_qp: int, dtype, device) -> torch.Tensor:
        """The matrix broadcast to every integration point, ``(n_el, n_qp, n_voigt, n_voigt)`` (a view)."""
        m = self.matrix.to(dtype=dtype, device=device)
        return m.expand(n_el, n_qp, *m.shape)


EUCLIDEAN = "euclidean (||C_t||_2 <= L, K_t <= L G)"


def metric_of(material, lipschitz: float) -> Metric:
    """The tightest certified metric ``material`` offers: its ``stiffness_bound`` when it has one (a linear
    law's constant stiffness, or a fitted potential law's ``s V^T V``), else ``L I`` from ``lipschitz``."""
    bound = getattr(material, "stiffness_bound", None)
    if bound is None:
        return Metric(None, float(lipschitz), EUCLIDEAN)
    C = torch.as_tensor(bound, dtype=torch.float64).detach().cpu()
    n = int(material.n_voigt)
    if C.shape != (n, n) or not bool(torch.isfinite(C).all()):
        raise InputError(f"the material's stiffness_bound must be a finite {n} x {n} matrix, got shape "
                         f"{tuple(C.shape)}", "material")
    if float((C - C.T).abs().max()) > 1e-12 * float(C.abs().max()):
        raise InputError("the material's stiffness_bound must be symmetric", "material")
    C = 0.5 * (C + C.T)
    if float(torch.linalg.eigvalsh(C)[0]) <= 0:
        raise InputError("the material's stiffness_bound must be positive definite", "material")
    if getattr(material, "linear", False) is True:
        return Metric(C, 1.0, "constant tangent (K_t = K of the linear law: exact)")
    return Metric(C, 1.0, "stiffness bound (C_t <= C_bar at every strain, K_t <= K_bar)")


def metric_ratios(C: torch.Tensor, metric: Metric) -> torch.Tensor:
    """``lambda_max(C_bar^{-1/2} sym(C_t) C_bar^{-1/2})`` at each point, ``(n,)`` [-]: at most 1 where the bound
    holds. ``C``: ``(n, n_voigt, n_voigt)`` [stress unit]."""
    flat = C.reshape(-1, C.shape[-2], C.shape[-1]).double()
    sym = 0.5 * (flat + flat.transpose(1, 2))
    if metric.euclidean:
        return torch.linalg.eigvalsh(sym)[:, -1] / metric.scale
    chol = torch.linalg.cholesky(metric.matrix.to(sym) * metric.scale)
    inv = torch.linalg.solve_triangular(chol, torch.eye(chol.shape[0], dtype=sym.dtype), upper=False)
    return torch.linalg.eigvalsh(inv @ sym @ inv.T)[:, -1]
