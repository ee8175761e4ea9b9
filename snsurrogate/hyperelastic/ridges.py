"""The stretch energy ``w`` as a convex ridge network, built from a dictionary of monotone ramps.

The learned part of a hyperelastic law is the 1-D potential network of :mod:`snsurrogate.potential` with
strain ``ε = λ - 1``: ``w'(λ) = s_σ (∇ψ̃(ε) - ∇ψ̃(0))`` and ``w''(λ) = s_σ/s_ε (P² + Σ_k v_k² φ''(u_k))``
(scales ``s_σ = s_ε = 1`` here, so scaled and physical units coincide). In one dimension each ridge ``k``
adds ``h_k = v_k²`` of curvature along a ramp, ``φ''`` rising from 0 to 1 between two knots
``ε_a < ε_b``, to the right (``v_k > 0``: ``u = (ε - ε_a)/(ε_b - ε_a)``) or to the left (``v_k < 0``:
``u = (ε_b - ε)/(ε_b - ε_a)``); that is, ``c_k = √h_k (ε_b - ε_a)`` and ``b_k = -ε_a/(ε_b - ε_a)`` or
``ε_b/(ε_b - ε_a)``. So

.. math::

    w''(\\lambda) = h_0
        + \\sum_{k \\in R} h_k\\, \\varphi''\\Big(\\frac{\\varepsilon - \\varepsilon_{a,k}}{\\Delta_k}\\Big)
                 + \\sum_{k \\in L} h_k\\, \\varphi''\\Big(\\frac{\\varepsilon_{b,k} - \\varepsilon}{\\Delta_k}\\Big),
    \\qquad h \\ge 0,

is the sum of a constant, a non-decreasing and a non-increasing curvature, each piecewise on the knots,
and ``w'`` (hence every test mode's stress, :func:`snsurrogate.hyperelastic.modes.linear_form`) is linear
in ``h``. The certified bound of the network is :math:`L = P^2 + \\sum_k v_k^2 = h_0 + \\sum_k h_k`
(:func:`snsurrogate.potential.potential_bounds`), its lower bound :math:`m = h_0`; the largest curvature
over the knots is ``h_0 + max(Σ_L h, Σ_R h)`` when every left ramp lies right of the smallest stretch and
every right ramp left of the largest, so ``L / max w'' = 1 + min(Σ_L, Σ_R) / (h_0 + max(Σ_L, Σ_R))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..network import Architecture
from ..potential import PotentialNetwork, curvature_terms

#: Curvature profile of the ramps: smoothstep, so ``w''`` is continuously differentiable.
PROFILE = "smoothstep"


@dataclass(frozen=True)
class RampDictionary:
    """Knots ``ε_j = λ_j - 1`` (ascending, float64) and the ramps between neighbours: column 0 the
    constant ``h_0``, then one right and one left ramp per interval."""

    knots: np.ndarray

    @classmethod
    def spanning(cls, lo: float, hi: float, n: int) -> RampDictionary:
        """``n`` knots log-spaced in stretch from ``lo`` to ``hi`` (both > 0)."""
        return cls(np.geomspace(lo, hi, n) - 1.0)

    @property
    def size(self) -> int:
        """Number of coefficients ``1 + 2 (n - 1)``."""
        return 1 + 2 * (len(self.knots) - 1)

    def _ramps(self):
        a, b = self.knots[:-1], self.knots[1:]
        return torch.from_numpy(a), torch.from_numpy(b - a)

    def first_derivative(self, lam: torch.Tensor) -> torch.Tensor:
        """``(..., size)``: ``w'`` of each unit coefficient at stretches ``lam`` (any shape), zero at ``λ = 1``."""
        eps = (lam - 1.0).unsqueeze(-1)
        a, width = (v.to(lam) for v in self._ramps())
        right = (curvature_terms((eps - a) / width, PROFILE)[0] - curvature_terms(-a / width, PROFILE)[0]) * width
        b = a + width
        left = -(curvature_terms((b - eps) / width, PROFILE)[0] - curvature_terms(b / width, PROFILE)[0]) * width
        return torch.cat((eps, right, left), dim=-1)

    def second_derivative(self, lam: torch.Tensor) -> torch.Tensor:
        """``(..., size)``: ``w''`` of each unit coefficient at stretches ``lam``."""
        eps = (lam - 1.0).unsqueeze(-1)
        a, width = (v.to(lam) for v in self._ramps())
        prof = lambda u: curvature_terms(u, PROFILE, 2)[1]  # noqa: E731
        return torch.cat((torch.ones_like(eps), prof((eps - a) / width), prof((a + width - eps) / width)), dim=-1)

    def network(self, h: np.ndarray, bound_target: float | None = None) -> PotentialNetwork:
        """The frozen float64 :class:`PotentialNetwork` with ``w''`` of coefficients ``h >= 0``; zero ridges
        are dropped (one is kept if all are zero). Its gain is ``√(bound_target)`` when given (so the stored
        weight ``W = V/g`` has ``||W||₂ <= 1`` exactly when ``L <= bound_target``), else ``√L``."""
        h = np.clip(np.asarray(h, dtype=np.float64), 0.0, None)
        n = len(self.knots) - 1
        a, width = self.knots[:-1], self.knots[1:] - self.knots[:-1]
        keep = np.flatnonzero(h[1:] > 1e-14 * max(float(h.sum()), 1e-300))
        if keep.size == 0:
            keep = np.array([0])
        side = np.where(keep < n, 1.0, -1.0)
        j = keep % n
        hk = h[1:][keep]
        v = side * np.sqrt(hk)
        width_k = np.where(hk > 0, np.sqrt(hk), 1.0) * width[j]
        bias = np.where(side > 0, -a[j] / width[j], (a[j] + width[j]) / width[j])
        total = float(h[0] + hk.sum())
        gain = float(np.sqrt(bound_target if bound_target else max(total, 1e-300)))
        arch = Architecture(d_in=1, d_out=1, hidden=(len(keep),), activation=PROFILE, strain_scale=1.0,
                            stress_scale=1.0, gains=(gain,), zero_origin=True, kind="potential")
        net = PotentialNetwork(arch).double()
        with torch.no_grad():
            weight = np.concatenate(([np.sqrt(h[0])], v)).reshape(-1, 1) / gain
            net.linears[0].weight.copy_(torch.from_numpy(weight))
            net.log_width.copy_(torch.from_numpy(np.log(width_k)))
            net.ridge_bias.copy_(torch.from_numpy(bias))
        net.eval()
        for p in net.parameters():
            p.requires_grad_(False)
        return net


__all__ = ["PROFILE", "RampDictionary"]
