"""Test modes of isotropic hyperelasticity: their kinematics and the nominal stress they measure.

The law is of Valanis–Landel form without an isochoric split (:mod:`snsurrogate.hyperelastic.law`),

.. math::

    W(F) = \\sum_{i=1}^{3} w(\\lambda_i) + U(J), \\qquad U(J) = \\tfrac{\\kappa}{2} (J - 1)^2, \\qquad
    \\frac{\\partial W}{\\partial \\lambda_i} = w'(\\lambda_i) + \\kappa (J - 1) \\frac{J}{\\lambda_i},

with principal stretches :math:`\\lambda_i` and :math:`J = \\lambda_1\\lambda_2\\lambda_3`. In a homogeneous test
the loaded stretches are prescribed and a lateral stretch :math:`t` follows from its stress-free faces,
:math:`\\partial W/\\partial \\lambda_t = 0`, i.e. :math:`w'(t) + \\kappa (J - 1) J / t = 0` (solved by
:func:`lateral_stretch`; :math:`J = 1`, :math:`t = p^{-1/k}` in the incompressible limit
:math:`\\kappa \\to \\infty`). Eliminating :math:`\\kappa (J - 1) J` with that condition, the nominal (first
Piola–Kirchhoff, force per undeformed area) stress in a loaded direction ``a`` is, for any :math:`\\kappa`,

.. math::

    P_a = w'(\\lambda_a) - \\frac{t}{\\lambda_a} w'(t), \\qquad \\sigma_a = \\frac{\\lambda_a}{J} P_a
    \\ \\text{(Cauchy)},

so every mode's stress is a *linear* functional of :math:`w'` once the stretches are known
(:func:`linear_form`). The modes (``x`` is what a test file gives):

=============== ==================== ========================== ===== =====================================
mode            x                    principal stretches        ``k`` stress columns
=============== ==================== ========================== ===== =====================================
uniaxial        λ (tension or        λ, t, t                    2     P₁₁
                compression)
equibiaxial     λ                    λ, λ, t                    1     P₁₁ = P₂₂
pure_shear      λ (planar tension)   λ, 1, t                    1     P₁₁ (λ₂ = 1 is held, not free)
biaxial         λ₁, λ₂               λ₁, λ₂, t                  1     P₁₁, P₂₂
simple_shear    γ                    √(1+γ²/4) ± γ/2, 1; J = 1  --    P₁₂ = (λ₁w'(λ₁) − λ₂w'(λ₂))/(λ₁+λ₂)
volumetric      J                    J^{1/3} (three times)      --    pressure p = −(J^{-2/3} w'(J^{1/3})
                                                                      + κ (J − 1))  (Cauchy, > 0 in
                                                                      compression)
=============== ==================== ========================== ===== =====================================

``k`` is the number of lateral directions with stretch ``t``; ``p`` the product of the prescribed
stretches, :math:`J = p\\,t^k`. Simple shear is isochoric (``F = I + γ e₁⊗e₂``), so :math:`U' = 0` and
its Cauchy and nominal shear stresses coincide. Stretches are dimensionless, stresses in the unit of
:math:`w'` (the data's stress unit).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

#: The test modes ``nominal_stress`` and ``fit`` accept; "volumetric" is fitting-only (pressure against J).
MODES = ("uniaxial", "equibiaxial", "pure_shear", "biaxial", "simple_shear")
FIT_MODES = MODES + ("volumetric",)
#: What a stress value of each mode measures.
MEASURES = ("nominal", "cauchy")


@dataclass(frozen=True)
class ModeSpec:
    """What a test mode reads and reports: ``inputs`` deformation columns (stretches; γ for simple shear;
    J for volumetric), ``outputs`` stress columns, ``lateral`` lateral directions (``k``, 0 if none)."""

    name: str
    inputs: int
    outputs: int
    lateral: int
    deformation: str  # what the deformation column is, for messages and headers

    @property
    def has_lateral(self) -> bool:
        return self.lateral > 0


SPECS = {
    "uniaxial": ModeSpec("uniaxial", 1, 1, 2, "stretch λ"),
    "equibiaxial": ModeSpec("equibiaxial", 1, 1, 1, "in-plane stretch λ"),
    "pure_shear": ModeSpec("pure_shear", 1, 1, 1, "stretch λ"),
    "biaxial": ModeSpec("biaxial", 2, 2, 1, "stretches λ₁, λ₂"),
    "simple_shear": ModeSpec("simple_shear", 1, 1, 0, "amount of shear γ"),
    "volumetric": ModeSpec("volumetric", 1, 1, 0, "volume ratio J"),
}

#: ``w'`` and ``w''`` of a stretch tensor of any shape [stress unit].
Derivative = Callable[[torch.Tensor], torch.Tensor]


def spec(mode: str) -> ModeSpec:
    """The :class:`ModeSpec` of ``mode``; ``ValueError`` naming the modes for an unknown one."""
    try:
        return SPECS[mode]
    except (KeyError, TypeError):
        raise ValueError(f"unknown test mode {mode!r}; expected one of {', '.join(FIT_MODES)}") from None


def prescribed(mode: str, x: torch.Tensor) -> torch.Tensor:
    """The prescribed principal stretches ``(n, 3 - k)`` of a mode with lateral stretches, from ``x``
    (``(n,)``, or ``(n, 2)`` for biaxial): uniaxial ``(λ,)``, equibiaxial ``(λ, λ)``, pure shear ``(λ, 1)``,
    biaxial ``(λ₁, λ₂)``."""
    if mode == "uniaxial":
        return x.reshape(-1, 1)
    if mode == "equibiaxial":
        return torch.stack((x, x), dim=1)
    if mode == "pure_shear":
        return torch.stack((x, torch.ones_like(x)), dim=1)
    if mode == "biaxial":
        return x.reshape(-1, 2)
    raise ValueError(f"mode {mode!r} has no lateral stretch")


def lateral_stretch(mode: str, x: torch.Tensor, dw: Derivative, d2w: Derivative, kappa: float | None,
                    tol: float = 1e-12, max_iter: int = 60) -> torch.Tensor:
    """Lateral stretch ``t (n,)`` of stress-free lateral faces: the root of
    ``g(t) = w'(t) + κ (J - 1) J / t``, ``J = p t^k`` (module docstring).

    ``kappa=None`` is the incompressible limit, ``t = p^{-1/k}``. Otherwise Newton's method in ``log t`` from
    that start, steps limited to 0.5, with ``g'(t) = w''(t) + κ p ((2k-1) p t^{2k-2} - (k-1) t^{k-2})``;
    converged when ``|g| <= tol (|w'(t)| + κ |J - 1| J / t)`` or every step is below 1e-14. Evaluated without gradient;
    :func:`differentiable_lateral` adds the implicit derivative. ``RuntimeError`` if it does not converge.
    """
    k = spec(mode).lateral
    with torch.no_grad():
        p = prescribed(mode, x).prod(dim=1)
        t = p.pow(-1.0 / k)
        if kappa is None:
            return t
        for _ in range(max_iter):
            jac = p * t**k
            vol = kappa * (jac - 1.0) * jac / t
            first = dw(t)
            g = first + vol
            if bool((g.abs() <= tol * (first.abs() + vol.abs() + 1e-300)).all()):
                return t
            slope = d2w(t) + kappa * p * ((2 * k - 1) * p * t ** (2 * k - 2) - (k - 1) * t ** (k - 2))
            step = (g / (slope * t)).clamp(-0.5, 0.5)  # Newton in log t
            t = t * torch.exp(-step)
            if bool((step.abs() <= 1e-14).all()):
                return t
    raise RuntimeError(f"{mode}: the lateral stretch did not converge in {max_iter} Newton steps "
                       f"(largest residual {float(g.abs().max()):.3g}); the bulk modulus {kappa!r} may be too small")


def jacobian_of(mode: str, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``J = p t^k`` ``(n,)`` of a mode with lateral stretch ``t``; 1 for simple shear."""
    s = spec(mode)
    if not s.has_lateral:
        return torch.ones_like(x.reshape(len(x), -1)[:, 0])
    return prescribed(mode, x).prod(dim=1) * t**s.lateral


def simple_shear_stretches(gamma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """In-plane principal stretches of simple shear, ``λ₁,₂ = √(1 + γ²/4) ± γ/2`` (``λ₁ λ₂ = 1``)."""
    root = torch.sqrt(1.0 + 0.25 * gamma * gamma)
    half = 0.5 * gamma
    return root + half, 1.0 / (root + half)  # the second without cancellation at large γ


def linear_form(mode: str, x: torch.Tensor, t: torch.Tensor | None, measure: str = "nominal"
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """The measured stress as a linear functional of ``w'``: ``(stretches, coefs)``, both ``(n, q, m)``,
    with stress ``(n, q) = Σ_m coefs · w'(stretches)``.

    ``q`` is the number of stress columns (2 for biaxial, else 1); ``t`` the lateral stretch (ignored for
    simple shear). ``measure`` is ``"nominal"`` or ``"cauchy"`` (loaded direction ``a``: ``σ_a = λ_a P_a / J``).
    Volumetric tests are not linear in ``w'`` alone (see :func:`pressure`).
    """
    if measure not in MEASURES:
        raise ValueError(f"unknown stress measure {measure!r}; expected one of {', '.join(MEASURES)}")
    if mode == "simple_shear":
        lam1, lam2 = simple_shear_stretches(x.reshape(-1))
        s = lam1 + lam2
        return (torch.stack((lam1, lam2), dim=1).unsqueeze(1),
                torch.stack((lam1 / s, -lam2 / s), dim=1).unsqueeze(1))
    if mode == "volumetric":
        raise ValueError("a volumetric test is not a linear functional of w' alone; use pressure()")
    loaded = prescribed(mode, x)[:, : spec(mode).outputs]  # (n, q)
    tt = t.reshape(-1, 1).expand_as(loaded)
    stretches = torch.stack((loaded, tt), dim=2)
    coefs = torch.stack((torch.ones_like(loaded), -tt / loaded), dim=2)
    if measure == "cauchy":
        coefs = coefs * (loaded / jacobian_of(mode, x, t).reshape(-1, 1)).unsqueeze(2)
    return stretches, coefs


def pressure(jac: torch.Tensor, dw: Derivative, kappa: float) -> torch.Tensor:
    """Cauchy pressure ``(n,)`` of a uniform volume change ``J`` (positive in compression):
    ``p = -(3 λ w'(λ) + 3 κ (J - 1) J) / (3 J)`` with ``λ = J^{1/3}``, i.e. ``-(J^{-2/3} w'(J^{1/3}) + κ (J - 1))``."""
    lam = jac.pow(1.0 / 3.0)
    return -(dw(lam) * lam / jac + kappa * (jac - 1.0))


def mode_stress(mode: str, x: torch.Tensor, dw: Derivative, d2w: Derivative, kappa: float | None,
                measure: str = "nominal") -> torch.Tensor:
    """The stress a test of ``mode`` measures, ``(n,)`` or ``(n, 2)`` for biaxial [stress unit], with the
    lateral stretch solved (:func:`lateral_stretch`). ``x`` as in the module table."""
    if mode == "volumetric":
        if kappa is None:
            raise ValueError("a volumetric test needs a finite bulk modulus")
        return pressure(x, dw, kappa)
    t = lateral_stretch(mode, x, dw, d2w, kappa) if spec(mode).has_lateral else None
    stretches, coefs = linear_form(mode, x, t, measure)
    out = (coefs * dw(stretches)).sum(dim=2)
    return out if spec(mode).outputs == 2 else out[:, 0]


__all__ = ["FIT_MODES", "MEASURES", "MODES", "SPECS", "ModeSpec", "jacobian_of", "lateral_stretch",
           "linear_form", "mode_stress", "prescribed", "pressure", "simple_shear_stretches", "spec"]
