"""Isotropic hyperelasticity in principal stretches: the formulas every finite-strain law of ``fem`` uses,
and the analytic neo-Hookean and Ogden laws.

A law of Valanis–Landel form without an isochoric split,

.. math::

    W(F) = \\sum_{i=1}^{3} w(\\lambda_i) + \\tfrac{\\kappa}{2} (J - 1)^2, \\qquad
    \\lambda_i^2 = \\operatorname{eig}(C),\\ C = F^T F,\\ J = \\det F,

has ``P = F S`` with ``S = Σ_i (w'(λ_i)/λ_i) N_i ⊗ N_i + κ (J - 1) J C^{-1}`` (:func:`first_piola`) and, at
any ``F`` with ``J > 0``, a certified bound of the elasticity tensor ``𝔸 = ∂P/∂F`` (:func:`tangent_bound`):
in the principal frames ``𝔸`` is block-diagonal (Ogden 1984, §6.1.4), with the normal block
``diag(w''(λ_i)) + V``, ``V = κ J² a aᵀ + κ (J - 1) J (a aᵀ - diag(a²))``, ``a_i = 1/λ_i``, and for each pair
``i < j`` the values ``(W_i - W_j)/(λ_i - λ_j)`` and ``(W_i + W_j)/(λ_i + λ_j)``,
``W_i = w'(λ_i) + κ (J - 1) J / λ_i``. So

.. math::

    λ_{\\max}(𝔸) \\le a(F) = \\max\\Big(\\max_i w''(\\lambda_i) + \\bar\\lambda(V),\\
      \\max_{i<j} \\big[\\bar w''_{ij} - g_{ij}\\big],\\
      \\max_{i<j} \\big[\\tfrac{w'_i + w'_j}{\\lambda_i + \\lambda_j} + g_{ij}\\big]\\Big),
    \\qquad g_{ij} = \\frac{\\kappa (J - 1) J}{\\lambda_i \\lambda_j},

with ``λ̄(V) = max(κJ² + g, 0) |a|² + max_i(-g a_i²) >= λ_max(V)``, ``g = κ (J - 1) J`` (Weyl's inequality
on ``V = (κJ² + g) a aᵀ - g diag(a²)``), and ``w̄''_ij >= max w'' over [λ_j, λ_i]`` (the mean value
theorem bounds the secant ``(w'_i - w'_j)/(λ_i - λ_j)`` by it). A law supplies ``w'``, ``w''`` and that interval bound.

Units: stretches dimensionless, ``w'``, ``w''``, ``κ``, stresses and ``a(F)`` in the stress unit, ``W`` in
stress unit (energy per undeformed volume).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

from .errors import InputError
from .principal import Principal, principal

Curve = Callable[[torch.Tensor], torch.Tensor]


def first_piola(F: torch.Tensor, dw: Curve, kappa: float) -> torch.Tensor:
    """``P = F S (n, 3, 3)`` [stress] of the module's law with stretch derivative ``dw`` (``w'``)."""
    pr = principal(F)
    return pr.first_piola(_coefficients(pr, dw(pr.lam), kappa))


def _coefficients(pr: Principal, first: torch.Tensor, kappa: float) -> torch.Tensor:
    """``S``'s principal values ``w'(λ_i)/λ_i + κ (J - 1) J / λ_i²`` ``(n, 3)`` from ``first = w'(λ_i)``."""
    lam = pr.lam
    return first / lam + (kappa * (pr.jac - 1.0) * pr.jac).unsqueeze(1) / lam**2


def energy(F: torch.Tensor, w: Curve, kappa: float) -> torch.Tensor:
    """``W (n,)`` [stress] with stretch energy ``w`` (``w(1) = 0``)."""
    pr = principal(F)
    return w(pr.lam).sum(dim=1) + 0.5 * kappa * (pr.jac - 1.0) ** 2


Secant = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
_I, _J = [0, 0, 1], [1, 2, 2]  # the pairs i < j


def tangent_bound(F: torch.Tensor, dw: Curve, d2w: Curve, secant: Secant, kappa: float) -> torch.Tensor:
    """Certified ``a(F) >= λ_max(∂P/∂F)`` ``(n,)`` [stress] (module docstring); ``secant(lo, hi)`` bounds ``w''``
    over ``[lo, hi]`` elementwise. Assumes ``det F > 0``."""
    pr = principal(F)
    with torch.no_grad():
        return _bound(pr.lam, pr.jac, dw(pr.lam), d2w, secant, kappa)


def stress_and_bound(F: torch.Tensor, dw: Curve, d2w: Curve, secant: Secant, kappa: float
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(P (n, 3, 3), a(F) (n,), J (n,))`` from one principal decomposition (:func:`first_piola` and
    :func:`tangent_bound` together, for a step that needs both), without gradients."""
    with torch.no_grad():
        pr = principal(F)
        first = dw(pr.lam)
        P = pr.first_piola(_coefficients(pr, first, kappa))
        return P, _bound(pr.lam, pr.jac, first, d2w, secant, kappa), pr.jac


def _bound(lam, jac, first, d2w: Curve, secant: Secant, kappa: float) -> torch.Tensor:
    """``a(F)`` from the principal stretches ``lam (n, 3)``, ``J`` and ``w'(λ_i)`` (module docstring). ``λ_max(V)``
    is bounded by Weyl's inequality, ``V = (κJ² + g) a aᵀ - g diag(a²)`` with ``g = κ (J - 1) J``:
    ``λ_max(V) <= max(κJ² + g, 0) |a|² + max_i(-g a_i²)``."""
    a2 = lam.reciprocal().square()
    g = kappa * (jac - 1.0) * jac
    rank_one = (kappa * jac * jac + g).clamp_min(0.0) * a2.sum(dim=1)
    diag = torch.maximum(-g.unsqueeze(1) * a2, torch.zeros_like(a2)).amax(dim=1)
    best = d2w(lam).amax(dim=1) + rank_one + diag
    li, lj = lam[:, _I], lam[:, _J]  # (n, 3): the pairs (0, 1), (0, 2), (1, 2), one call each for all three
    geo = g.unsqueeze(1) / (li * lj)
    pair = torch.maximum(secant(torch.minimum(li, lj), torch.maximum(li, lj)) - geo,
                         (first[:, _I] + first[:, _J]) / (li + lj) + geo)
    best = torch.maximum(best, pair.amax(dim=1))
    return best


class Ogden:
    """Compressible Ogden law in the unsplit Valanis–Landel form (neo-Hookean: one term, ``α = 2``),

    ``w(λ) = Σ_p μ_p/α_p (λ^{α_p} - 1) - μ₀ ln λ`` with ``μ₀ = Σ_p μ_p``, so ``w'(λ) = Σ_p μ_p (λ^{α_p - 1} - 1/λ)``
    (``w'(1) = 0``), plus ``κ/2 (J - 1)²``. In the incompressible limit its test-mode stresses are the classical
    Ogden ones. Small-strain shear modulus ``μ = Σ_p μ_p α_p / 2``, Lamé constant ``κ``.

    Parameters
    ----------
    mu, alpha
        ``μ_p`` [stress] and ``α_p`` [-], with ``μ_p α_p > 0`` and ``α_p >= 1`` or ``μ_p < 0`` for each term, so
        that every term's ``w''`` is positive (the law is convex in each stretch).
    kappa
        Bulk coefficient ``κ`` [stress], > 0.
    density
        Mass density [mass / length^3].
    """

    finite_strain = True
    n_voigt = 9
    certified_strain = None
    certified_by = "closed form of the analytic law (principal-frame spectrum of dP/dF at the current state)"
    symmetric = True
    linear = False

    def __init__(self, mu: Sequence[float], alpha: Sequence[float], kappa: float, density: float) -> None:
        mu, alpha = [float(m) for m in mu], [float(a) for a in alpha]
        if not mu or len(mu) != len(alpha):
            raise InputError("mu and alpha must be non-empty lists of the same length", "mu")
        for m, a in zip(mu, alpha):
            if not (math.isfinite(m) and math.isfinite(a) and m * a > 0 and (a >= 1 or m < 0) and a != 0):
                raise InputError(f"Ogden term (mu = {m!r}, alpha = {a!r}) is not convex in the stretch: each term "
                                 "needs mu * alpha > 0 and alpha >= 1 (or mu < 0 with alpha < 0)", "mu")
        if not (math.isfinite(kappa) and kappa > 0):
            raise InputError(f"kappa must be a positive number, got {kappa!r}", "kappa")
        if not (math.isfinite(density) and density > 0):
            raise InputError(f"density must be a positive number, got {density!r}", "density")
        self.mu, self.alpha, self.kappa, self.density = mu, alpha, float(kappa), float(density)
        self.shear_modulus = 0.5 * sum(m * a for m, a in zip(mu, alpha))
        self.lipschitz_bound = self.tangent_bound_reference()

    def dw(self, lam: torch.Tensor) -> torch.Tensor:
        return sum(m * (lam ** (a - 1.0) - 1.0 / lam) for m, a in zip(self.mu, self.alpha))

    def d2w(self, lam: torch.Tensor) -> torch.Tensor:
        return sum(m * ((a - 1.0) * lam ** (a - 2.0) + lam ** -2.0) for m, a in zip(self.mu, self.alpha))

    def w(self, lam: torch.Tensor) -> torch.Tensor:
        return sum(m / a * (lam**a - 1.0) - m * torch.log(lam) for m, a in zip(self.mu, self.alpha))

    def secant(self, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
        """``>= max w''`` over ``[lo, hi]``: each term ``c λ^β`` of ``w''`` is monotone, so its larger end value."""
        out = torch.zeros_like(lo)
        for m, a in zip(self.mu, self.alpha):
            for c, b in ((m * (a - 1.0), a - 2.0), (m, -2.0)):
                out = out + torch.maximum(c * lo**b, c * hi**b)
        return out

    def first_piola(self, F: torch.Tensor) -> torch.Tensor:
        """``P (n, 3, 3)`` [stress] at ``F (n, 3, 3)``."""
        return first_piola(F, self.dw, self.kappa)

    def strain_energy(self, F: torch.Tensor) -> torch.Tensor:
        """``W (n,)`` [stress = energy per undeformed volume]."""
        return energy(F, self.w, self.kappa)

    def tangent_bound(self, F: torch.Tensor) -> torch.Tensor:
        """Certified ``a(F) >= λ_max(∂P/∂F)`` ``(n,)`` [stress]."""
        return tangent_bound(F, self.dw, self.d2w, self.secant, self.kappa)

    def first_piola_and_bound(self, F: torch.Tensor):
        """``(P, a(F), det F)`` in one pass (:func:`stress_and_bound`)."""
        return stress_and_bound(F, self.dw, self.d2w, self.secant, self.kappa)

    def tangent_bound_reference(self) -> float:
        """``a(I)`` [stress]: ``2μ + 3κ`` (three times the small-strain bulk modulus ``κ + 2μ/3``)."""
        return float(self.tangent_bound(torch.eye(3, dtype=torch.float64).unsqueeze(0))[0])


class NeoHookean(Ogden):
    """Compressible neo-Hookean law ``W = μ/2 (I₁ - 3) - μ ln J + κ/2 (J - 1)²`` (:class:`Ogden` with one term,
    ``μ_1 = μ``, ``α_1 = 2``): ``P = μ (F - F^{-T}) + κ (J - 1) J F^{-T}``. ``mu``, ``kappa`` [stress] > 0."""

    def __init__(self, mu: float, kappa: float, density: float) -> None:
        super().__init__([mu], [2.0], kappa, density)


__all__ = ["NeoHookean", "Ogden", "energy", "first_piola", "stress_and_bound", "tangent_bound"]
