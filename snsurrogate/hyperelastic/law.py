"""The fitted isotropic hyperelastic law users hold: :class:`HyperelasticLaw`.

Energy per undeformed volume (Valanis–Landel form without an isochoric split; Ogden's compressible
model is a case of it):

.. math::

    W(F) = \\sum_{i=1}^{3} w(\\lambda_i) + \\tfrac{\\kappa}{2} (J - 1)^2, \\qquad
    \\lambda_i^2 = \\operatorname{eig}(F^T F), \\quad J = \\det F,

    P = \\frac{\\partial W}{\\partial F} = F S, \\qquad
    S = \\sum_i \\frac{w'(\\lambda_i)}{\\lambda_i} N_i \\otimes N_i + \\kappa (J - 1) J\\, C^{-1}, \\qquad
    \\sigma = P F^T / J,

with ``w'`` a certified 1-D convex ridge network of ``λ - 1`` (:mod:`snsurrogate.hyperelastic.ridges`),
``w'(1) = 0``. It is objective and isotropic (a function of the principal stretches), stress-free at
``F = I``, and hyperelastic (``∂P/∂F`` major-symmetric). Small-strain limit: shear modulus
``μ = w''(1)/2``, Lamé constant ``κ``, bulk modulus ``K = κ + 2μ/3``.

**The certificate.** For every stretch (not only the data range), ``m <= w''(λ) <= L``
(:attr:`HyperelasticLaw.lipschitz_bound` = ``L``, :attr:`HyperelasticLaw.tangent_lower_bound` = ``m >= 0``):
the energy of each stretch is convex and never softens. At a deformation ``F`` the elasticity tensor
``𝔸 = ∂P/∂F`` (9 x 9, symmetric) is block-diagonal in the principal frames (Ogden 1984, §6.1.4): the block
``∂²W/∂λ_i∂λ_j = diag(w''(λ_i)) + V`` with
``V = κ J² a aᵀ + κ (J - 1) J (a aᵀ - diag(a²))``, ``a_i = 1/λ_i``, and for each pair ``i < j`` the values
``(W_i - W_j)/(λ_i - λ_j)`` and ``(W_i + W_j)/(λ_i + λ_j)``, ``W_i = w'(λ_i) + κ (J - 1) J / λ_i``.
:meth:`HyperelasticLaw.tangent_bound` returns the certified state bound

.. math::

    a(F) = \\max\\Big( \\max_i w''(\\lambda_i) + \\bar\\lambda(V),\\
    \\max_{i<j} \\big[\\bar w_{ij}'' - \\tfrac{\\kappa (J-1) J}{\\lambda_i \\lambda_j}\\big],\\
    \\max_{i<j} \\big[\\tfrac{w'_i + w'_j}{\\lambda_i + \\lambda_j}
                    + \\tfrac{\\kappa (J-1) J}{\\lambda_i \\lambda_j}\\big]
    \\Big) \\ \\ge\\ \\lambda_{\\max}(𝔸(F)),

(``λ̄(V) >= λ_max(V)`` by Weyl's inequality, :mod:`fem.hyperelastic`; the first pair term by the mean
value theorem, ``w''`` bounded over ``[λ_j, λ_i]`` by
:meth:`HyperelasticLaw.curvature_bound`, at most ``L``; the others exact), the ``a(F)`` of
``../shared/docs/finite-strain.md`` §3; the formulas live in :mod:`fem.hyperelastic` (one implementation for
analytic and fitted laws). Assumes ``J > 0``.

**Unconstrained laws.** The same class holds the free-weight counterpart of
:mod:`snsurrogate.hyperelastic.unconstrained` (``w'`` an MLP of ``ln λ``; :attr:`HyperelasticLaw.constrained` is
``False``): no convexity and no designed bound; what it certifies is ``|w''(λ)| <= L / λ`` (``L`` the product of
its layer norms, :attr:`HyperelasticLaw.lipschitz_bound`; :attr:`HyperelasticLaw.tangent_lower_bound` is ``None``),
which the state bound ``a(F)`` uses as its interval bound. Stresses are in the data's stress unit,
stretches dimensionless, energies in stress unit (energy per undeformed volume).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from fem import hyperelastic

from ..model import SavedLaw
from ..network import StressNetwork
from ..potential import PotentialNetwork, curvature_terms, potential_bounds
from . import modes
from .piecewise import PIECEWISE, PiecewiseRidge
from .unconstrained import LogStretchCurve


class HyperelasticLaw(SavedLaw, nn.Module):
    """A fitted isotropic hyperelastic law (module docstring), callable on ``F (n, 3, 3)`` -> ``P (n, 3, 3)``.

    Parameters
    ----------
    network
        The frozen 1-D :class:`~snsurrogate.potential.PotentialNetwork`: ``w'(λ) = network(λ - 1)``.
    kappa
        ``κ`` of ``U(J) = κ/2 (J - 1)²`` [stress unit], > 0.
    metadata
        JSON-serialisable information (units, columns, per-mode metrics, the certificate audit).
    """

    kind = "hyperelastic"

    def __init__(self, network: PotentialNetwork | StressNetwork, kappa: float,
                 metadata: dict[str, Any] | None = None) -> None:
        super().__init__()
        if isinstance(network, StressNetwork):
            self._free: LogStretchCurve | None = LogStretchCurve(network)
        elif isinstance(network, PotentialNetwork) and network.arch.d_in == 1 and not network.spectral:
            self._free = None
        else:
            raise ValueError("a HyperelasticLaw holds a frozen one-component PotentialNetwork (or, unconstrained, a "
                             "1 -> 1 StressNetwork of the log-stretch)")
        if not (kappa > 0.0):
            raise ValueError(f"kappa must be > 0, got {kappa!r}")
        self.network = network.eval()
        for p in self.network.parameters():
            p.requires_grad_(False)
        self.kappa = float(kappa)
        self.metadata: dict[str, Any] = copy.deepcopy(metadata or {})
        if self._free is None:
            self.lipschitz_bound, lower = potential_bounds(network)
            self.tangent_lower_bound: float | None = lower
        else:
            self.lipschitz_bound, self.tangent_lower_bound = self._free.bound, None
        self._pw = PiecewiseRidge(network) if self._free is None and network.arch.activation in PIECEWISE else None

    @property
    def constrained(self) -> bool:
        """Whether ``w'`` is the certified convex ridge network (``m <= w'' <= L``); ``False`` for the unconstrained
        MLP of :mod:`~snsurrogate.hyperelastic.unconstrained` (``|w''(λ)| <= L / λ``, no lower bound)."""
        return self._free is None

    # -- the stretch energy -------------------------------------------------------------------
    @property
    def dtype(self) -> torch.dtype:
        return self.network.linears[0].weight.dtype

    @property
    def arch(self):
        return self.network.arch

    def _as(self, x) -> torch.Tensor:
        return torch.as_tensor(x, dtype=self.dtype)

    def network_dw(self, lam: torch.Tensor) -> torch.Tensor:
        """``w'(λ)`` [stress unit] from the network's forward pass (what the certificate audit differentiates)."""
        if self._free is not None:
            return self._free.dw(lam)
        return self.network(lam.reshape(-1, 1) - 1.0).reshape(lam.shape)

    def dw(self, lam: torch.Tensor) -> torch.Tensor:
        """``w'(λ)`` [stress unit] at stretches of any shape; differentiable in ``λ``. Evaluated as the network's
        exact piecewise polynomial (:mod:`snsurrogate.hyperelastic.piecewise`, the same function to about 1e-13)
        where its profile allows, else by the network."""
        return self._pw.dw(lam) if self._pw is not None else self.network_dw(lam)

    def d2w(self, lam: torch.Tensor) -> torch.Tensor:
        """``w''(λ)`` [stress unit] at stretches of any shape (exact: from the ridge curvatures, or the forward-mode
        derivative of an unconstrained network)."""
        with torch.no_grad():
            if self._free is not None:
                return self._free.d2w(lam)
            if self._pw is not None:
                return self._pw.d2w(lam)
            return self.network.tangent(lam.reshape(-1, 1) - 1.0).reshape(lam.shape)

    def w(self, lam: torch.Tensor) -> torch.Tensor:
        """``w(λ)`` [stress unit], zero at ``λ = 1``."""
        if self._pw is not None:
            return self._pw.w(lam)
        if self._free is not None:
            return self._free.w(lam)
        return self.network.energy(lam.reshape(-1, 1) - 1.0).reshape(lam.shape)

    @property
    def shear_modulus(self) -> float:
        """Small-strain shear modulus ``μ = w''(1)/2`` [stress unit]."""
        return 0.5 * float(self.d2w(self._as([1.0]))[0])

    @property
    def bulk_modulus(self) -> float:
        """Small-strain bulk modulus ``K = κ + 2μ/3`` [stress unit]."""
        return self.kappa + 2.0 * self.shear_modulus / 3.0

    @property
    def stress_unit(self) -> str:
        return str(self.metadata.get("units", {}).get("stress", "?"))

    # -- test modes ---------------------------------------------------------------------------
    def _mode_input(self, mode: str, x) -> torch.Tensor:
        s = modes.spec(mode)
        x = self._as(x)
        want = "(n, 2)" if s.inputs == 2 else "(n,)"
        if (s.inputs == 2 and (x.ndim != 2 or x.shape[1] != 2)) or (s.inputs == 1 and x.ndim != 1):
            raise ValueError(f"{mode}: x must have shape {want} ({s.deformation}), got {tuple(x.shape)}")
        if mode != "simple_shear" and bool((x <= 0).any()):
            raise ValueError(f"{mode}: stretches must be > 0")
        return x

    def nominal_stress(self, mode: str, x) -> torch.Tensor:
        """Nominal (first Piola–Kirchhoff) stress [stress unit] in the loading direction(s) of a test,
        ``(n,)`` (``(n, 2)`` for biaxial), with stress-free lateral faces solved at this law's ``κ``.

        ``mode``: one of :data:`~snsurrogate.hyperelastic.modes.MODES`; ``x``: stretches ``(n,)`` (``(n, 2)``
        ``λ₁, λ₂`` for biaxial), or the amount of shear ``γ (n,)`` for simple shear (then ``P₁₂``)."""
        return self._mode_stress(mode, x, "nominal")

    def cauchy_stress(self, mode: str, x) -> torch.Tensor:
        """Cauchy (true) stress [stress unit] of a test, as :meth:`nominal_stress`: ``σ_a = λ_a P_a / J``."""
        return self._mode_stress(mode, x, "cauchy")

    def _mode_stress(self, mode: str, x, measure: str) -> torch.Tensor:
        if mode not in modes.MODES:
            raise ValueError(f"unknown test mode {mode!r}; expected one of {', '.join(modes.MODES)}")
        x = self._mode_input(mode, x)
        with torch.no_grad():
            return modes.mode_stress(mode, x, self.dw, self.d2w, self.kappa, measure)

    def lateral_stretch(self, mode: str, x) -> torch.Tensor:
        """The stress-free lateral stretch ``t (n,)`` of a test
        (:func:`~snsurrogate.hyperelastic.modes.lateral_stretch`)."""
        return modes.lateral_stretch(mode, self._mode_input(mode, x), self.dw, self.d2w, self.kappa)

    def pressure(self, jac) -> torch.Tensor:
        """Cauchy pressure [stress unit] of a uniform volume change ``J (n,)`` (> 0 in compression)."""
        with torch.no_grad():
            return modes.pressure(self._as(jac), self.dw, self.kappa)

    # -- the 3-D law ----------------------------------------------------------------------------
    def _F(self, F) -> torch.Tensor:
        F = self._as(F)
        if F.ndim != 3 or F.shape[1:] != (3, 3):
            raise ValueError(f"F must have shape (n, 3, 3), got {tuple(F.shape)}")
        return F

    def energy(self, F: torch.Tensor) -> torch.Tensor:
        """Strain energy per undeformed volume ``W (n,)`` [stress unit] at ``F (n, 3, 3)``."""
        return hyperelastic.energy(self._F(F), self.w, self.kappa)

    strain_energy = energy

    def first_piola(self, F: torch.Tensor) -> torch.Tensor:
        """First Piola–Kirchhoff stress ``P = F S (n, 3, 3)`` [stress unit] at ``F (n, 3, 3)`` (module docstring)."""
        return hyperelastic.first_piola(self._F(F), self.dw, self.kappa)

    forward = first_piola

    def cauchy(self, F: torch.Tensor) -> torch.Tensor:
        """Cauchy stress ``σ = P Fᵀ / J (n, 3, 3)`` [stress unit]."""
        F = self._F(F)
        return self.first_piola(F) @ F.transpose(1, 2) / torch.linalg.det(F).reshape(-1, 1, 1)

    def elasticity(self, F: torch.Tensor) -> torch.Tensor:
        """``𝔸 = ∂P/∂F`` as ``(n, 9, 9)`` [stress unit] (row-major ``P_iJ``, ``F_kL``), by autograd of
        :meth:`first_piola`. Needs distinct principal stretches (the eigenvector derivative); use
        :meth:`tangent_bound` for a bound at any state."""
        F = self._F(F)
        jac = torch.func.vmap(torch.func.jacrev(lambda f: self.first_piola(f.unsqueeze(0))[0]))(F)
        return jac.reshape(-1, 9, 9)

    def curvature_bound(self, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
        """Certified ``>= max w''`` over each interval ``[lo, hi]`` (stretches, any matching shapes) [stress unit],
        and ``<= L``: every ridge's curvature ``v_k² φ''(u_k)`` is monotone in the stretch (non-decreasing for
        ``v_k > 0``, non-increasing for ``v_k < 0``), so its largest value on the interval is at ``hi`` or ``lo``.
        An unconstrained law: ``L / lo`` (:class:`~snsurrogate.hyperelastic.unconstrained.LogStretchCurve`)."""
        if self._pw is not None or self._free is not None:
            with torch.no_grad():
                return (self._pw or self._free).curvature_bound(lo, hi)
        with torch.no_grad():
            net, d = self.network, 1
            v = net.linears[0].weight * net._gain
            width = net.log_width.clamp(-30.0, 30.0).exp()
            ridge = v[d:, 0]
            end = torch.where(ridge > 0, hi.reshape(-1, 1), lo.reshape(-1, 1)) - 1.0  # (n, K) strain
            u = ridge * (end / net.arch.strain_scale) / width + net.ridge_bias
            _, phi2 = curvature_terms(u, net.arch.activation, 2)
            total = v[0, 0] ** 2 + (ridge**2 * phi2).sum(dim=1)
            return (total * (net.arch.stress_scale / net.arch.strain_scale)).reshape(lo.shape)

    def _secant(self, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
        if self._free is not None:
            return self.curvature_bound(lo, hi)
        return torch.minimum(self.curvature_bound(lo, hi), torch.full_like(lo, self.lipschitz_bound))

    def first_piola_and_bound(self, F: torch.Tensor):
        """``(P, a(F), det F)`` in one pass, without gradients (:func:`fem.hyperelastic.stress_and_bound`)."""
        return hyperelastic.stress_and_bound(self._F(F), self.dw, self.d2w, self._secant, self.kappa)

    def tangent_bound(self, F: torch.Tensor) -> torch.Tensor:
        """Certified ``a(F) >= λ_max(∂P/∂F)`` ``(n,)`` [stress unit] at ``F (n, 3, 3)`` with ``det F > 0``
        (module docstring; :func:`fem.hyperelastic.tangent_bound` with the secant bounded by
        :meth:`curvature_bound`)."""
        return hyperelastic.tangent_bound(self._F(F), self.dw, self.d2w, self._secant, self.kappa)

    # -- information ---------------------------------------------------------------------------
    def extra_repr(self) -> str:
        if self._free is not None:
            return (f"hyperelastic (unconstrained MLP of ln λ), |w''(λ)| <= {self.lipschitz_bound:.6g} / λ, "
                    f"kappa={self.kappa:.6g}, shear_modulus={self.shear_modulus:.6g} {self.stress_unit}")
        return (f"hyperelastic, lipschitz_bound={self.lipschitz_bound:.6g} (w''), kappa={self.kappa:.6g}, "
                f"shear_modulus={self.shear_modulus:.6g} {self.stress_unit}")


__all__ = ["HyperelasticLaw"]
