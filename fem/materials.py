"""The material interface of ``fem`` and the analytic laws it ships.

Every law, analytic or learned, is used through the same members (:class:`Material`):

- ``n_voigt``: the number of strain (and stress) components, 1, 3 or 6 (conventions in
  :mod:`fem.kinematics`);
- ``stress(strain)``: batched, ``(n, n_voigt) -> (n, n_voigt)``, engineering Voigt strain [-] to
  Voigt stress [stress unit];
- ``tangent(strain)``: ``(n, n_voigt, n_voigt)`` [stress unit], the derivative of ``stress``; analytic,
  or by automatic differentiation (:func:`autograd_tangent`, ``torch.func`` vmap + jacrev);
- ``density``: mass density [mass unit / length^3], in units consistent with the stress
  (e.g. MPa, mm, t/mm^3, s);
- ``lipschitz_bound``: a certified upper bound ``L >= ||C_t(eps)||_2`` [stress unit per unit strain] for
  every strain within ``certified_strain``;
- ``certified_strain``: the strain size up to which ``lipschitz_bound`` holds [-] (``None``: every strain);
- ``certified_by``: a sentence saying how the bound is certified (reports print it);
- ``energy``: ``None`` for a law without a potential (a plain MLP), or a callable
  ``strain (n, n_voigt) -> (n,)``, the strain-energy density [stress unit x strain = energy / volume]
  with ``stress = d energy / d strain``: the solver's true-energy monitor uses it (:mod:`fem.energy`);
- ``symmetric``: whether the tangent is symmetric by construction (a potential law);
- ``tangent_lower_bound``: a certified lower bound ``m`` of the tangent's eigenvalues [stress unit], or
  ``None`` when there is none (the law may soften);
- ``linear``: ``True`` only for a law with a constant tangent; ``dt = "auto"`` then takes the linear safety
  factor 0.9, every other law the nonlinear one (:func:`fem.stability.default_safety`);
- ``stiffness_bound``: ``None``, or a certified constant bound ``C_bar`` ``(n_voigt, n_voigt)`` [stress unit],
  symmetric positive definite, with ``C_t(eps) <= C_bar`` (Loewner order) at every strain: the time-step bounds
  are then computed in that metric (:mod:`fem.metric`), tighter than ``L I``.

The last five are read with ``getattr`` (defaults ``None``, ``False``, ``None``, ``False``, ``None``), so a law
written before them still runs, with the weaker ``"work"`` energy check and the nonlinear safety factor.

The solver does not know which kind of law it has. A fitted ``snsurrogate`` model satisfies the
protocol through the adapter in ``snsurrogate`` (``fem`` never imports ``snsurrogate``).
"""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

import torch
from torch.func import jacrev, vmap

from .errors import InputError

MODES = {"1d": 1, "plane_strain": 3, "plane_stress": 3, "3d": 6}
"""Kinematic modes and their Voigt sizes."""


@runtime_checkable
class Material(Protocol):
    """What the solver needs of a material law (see the module docstring)."""

    n_voigt: int
    density: float
    lipschitz_bound: float
    certified_strain: float | None
    certified_by: str

    def stress(self, strain: torch.Tensor) -> torch.Tensor: ...

    def tangent(self, strain: torch.Tensor) -> torch.Tensor: ...


def autograd_tangent(stress_fn, strain: torch.Tensor) -> torch.Tensor:
    """``d stress / d strain`` at each row of ``strain (n, d)`` by ``vmap(jacrev)``: ``(n, d_out, d)``."""

    def point(e: torch.Tensor) -> torch.Tensor:
        return stress_fn(e.unsqueeze(0)).squeeze(0)

    return vmap(jacrev(point))(strain)


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"{name} must be a positive number, got {value!r}", name)
    return value


def _mode(mode: str) -> str:
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}", "mode")
    return mode


def _poisson(nu: float) -> float:
    nu = float(nu)
    if not -1.0 < nu < 0.5:
        raise InputError(f"Poisson's ratio nu must be in (-1, 0.5), got {nu!r}", "nu")
    return nu


def isotropic_moduli(E: float, nu: float) -> tuple[float, float]:
    """Lamé constants ``(lambda, mu)`` [stress unit] from Young's modulus and Poisson's ratio."""
    return E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu))


class LinearElastic:
    """Isotropic linear elasticity ``sigma = C eps`` (engineering Voigt).

    Parameters
    ----------
    E
        Young's modulus [stress unit].
    nu
        Poisson's ratio [-], in (-1, 0.5).
    density
        Mass density [mass / length^3].
    mode
        ``"1d"`` (bar: ``sigma = E eps``), ``"plane_strain"``, ``"plane_stress"`` or ``"3d"``.

    Notes
    -----
    ``lipschitz_bound = ||C||_2`` exactly (largest eigenvalue of the symmetric ``C``): ``E`` (1-D),
    ``2 (lambda + mu)`` (plane strain), ``E / (1 - nu)`` (plane stress), ``max(3K, 2 mu)`` in 3-D, each
    in the engineering Voigt convention, where the shear diagonal of ``C`` is ``mu``.
    """

    certified_strain = None
    certified_by = "closed form of the analytic law (||C||_2 of its constant stiffness)"
    symmetric = True
    linear = True  # constant tangent: dt = "auto" takes fem.stability.LINEAR_SAFETY

    def __init__(self, E: float, nu: float = 0.0, density: float = 1.0, mode: str = "3d") -> None:
        self.E, self.nu, self.density = _positive("E", E), _poisson(nu), _positive("density", density)
        self.mode = _mode(mode)
        self.n_voigt = MODES[self.mode]
        self.C = self._matrix()
        self.stiffness_bound = self.C  # constant tangent: the exact metric of the time-step bounds
        self.lipschitz_bound = float(torch.linalg.eigvalsh(self.C).abs().max())
        self.tangent_lower_bound = float(torch.linalg.eigvalsh(self.C).min())
        self._cache: dict = {}

    def _matrix(self) -> torch.Tensor:
        E, nu = self.E, self.nu
        lam, mu = isotropic_moduli(E, nu)
        if self.mode == "1d":
            return torch.tensor([[E]], dtype=torch.float64)
        if self.mode == "plane_stress":
            c = E / (1 - nu * nu)
            return torch.tensor([[c, c * nu, 0], [c * nu, c, 0], [0, 0, mu]], dtype=torch.float64)
        if self.mode == "plane_strain":
            return torch.tensor([[lam + 2 * mu, lam, 0], [lam, lam + 2 * mu, 0], [0, 0, mu]], dtype=torch.float64)
        C = torch.zeros(6, 6, dtype=torch.float64)
        C[:3, :3] = lam
        C[range(3), range(3)] = lam + 2 * mu
        C[range(3, 6), range(3, 6)] = mu
        return C

    @property
    def p_wave_modulus(self) -> float:
        """Longitudinal-wave modulus [stress]: ``E`` (bar), ``E/(1-nu^2)`` (plane stress), else ``lambda + 2 mu``."""
        if self.mode == "1d":
            return self.E
        if self.mode == "plane_stress":
            return self.E / (1 - self.nu**2)
        lam, mu = isotropic_moduli(self.E, self.nu)
        return lam + 2 * mu

    @property
    def shear_modulus(self) -> float:
        return isotropic_moduli(self.E, self.nu)[1]

    def _c(self, like: torch.Tensor) -> torch.Tensor:
        key = (like.dtype, like.device)
        if key not in self._cache:
            self._cache[key] = self.C.to(dtype=like.dtype, device=like.device)
        return self._cache[key]

    def stress(self, strain: torch.Tensor) -> torch.Tensor:
        """``sigma = eps C^T``, ``(n, n_voigt)`` [stress unit]."""
        return strain @ self._c(strain).T

    def energy(self, strain: torch.Tensor) -> torch.Tensor:
        """``psi = 1/2 eps . C eps``, ``(n,)`` [stress unit]."""
        return 0.5 * (strain * self.stress(strain)).sum(dim=1)

    def tangent(self, strain: torch.Tensor) -> torch.Tensor:
        """The constant ``C``, broadcast to ``(n, n_voigt, n_voigt)``."""
        return self._c(strain).expand(strain.shape[0], -1, -1)


class HardeningCubic:
    """A nonlinear elastic law that stiffens with strain, in 1-D and its isotropic extension.

    1-D (``mode="1d"``): ``sigma = E eps (1 + (eps/eps_h)^2)``, tangent ``E (1 + 3 (eps/eps_h)^2)``.

    Plane strain and 3-D: the hyperelastic law of ``data/synthetic_plane_strain.csv`` and
    ``data/synthetic_3d.csv``, from the energy ``psi = K (tr eps)^2 / 2 + mu e:e + mu beta (e:e)^2 / 2``
    (``e`` the deviator): ``sigma = K tr(eps) I + 2 mu (1 + beta e:e) e`` with ``beta = 1 / eps_h^2``.
    Its tangent is symmetric (it derives from an energy) and positive definite.

    Parameters
    ----------
    E, nu, density
        Small-strain Young's modulus [stress], Poisson's ratio [-], density [mass / length^3].
    eps_h
        Hardening strain [-]: the stiffness has grown by a factor 4 (1-D) at ``|eps| = eps_h``.
    eps_max
        The bound is certified for strains up to this size [-] (``|eps|`` in 1-D, the tensor norm
        ``sqrt(eps:eps)`` otherwise): ``L = E (1 + 3 (eps_max/eps_h)^2)`` (1-D) and
        ``max(3K, 2 mu (1 + 3 beta eps_max^2))`` (the tensor-form bound, valid in engineering Voigt
        form too since the Voigt scaling has norm 1).
    """

    def __init__(self, E: float, eps_h: float, eps_max: float, nu: float = 0.0, density: float = 1.0,
                 mode: str = "1d") -> None:
        self.E, self.nu, self.density = _positive("E", E), _poisson(nu), _positive("density", density)
        self.eps_h, self.eps_max = _positive("eps_h", eps_h), _positive("eps_max", eps_max)
        self.mode = _mode(mode)
        if self.mode == "plane_stress":
            raise InputError("the hardening cubic law supports modes 1d, plane_strain and 3d", "mode")
        self.n_voigt = MODES[self.mode]
        self.certified_strain = self.eps_max
        self.certified_by = f"closed form of the analytic law for strains up to {self.eps_max:g}"
        lam, mu = isotropic_moduli(self.E, self.nu)
        self.K, self.mu, self.beta = lam + 2 * mu / 3, mu, 1.0 / self.eps_h**2
        if self.mode == "1d":
            self.lipschitz_bound = self.E * (1 + 3 * (self.eps_max / self.eps_h) ** 2)
        else:
            self.lipschitz_bound = max(3 * self.K, 2 * mu * (1 + 3 * self.beta * self.eps_max**2))
        # it only stiffens: the small-strain tangent's smallest eigenvalue (E; min(3K, mu) in Voigt form)
        self.tangent_lower_bound = self.E if self.mode == "1d" else min(3 * self.K, mu)

    symmetric = True

    def energy(self, strain: torch.Tensor) -> torch.Tensor:
        """Strain-energy density ``(n,)`` [stress unit]: 1-D ``E (eps^2/2 + eps^4/(4 eps_h^2))``; otherwise
        ``K (tr eps)^2 / 2 + mu e:e + mu beta (e:e)^2 / 2``."""
        if self.mode == "1d":
            e2 = strain[:, 0] ** 2
            return self.E * (0.5 * e2 + 0.25 * e2 * e2 * self.beta)
        full = strain if self.mode == "3d" else _plane_to_3d(strain)
        tr = full[:, :3].sum(dim=1)
        dev = torch.cat((full[:, :3] - tr[:, None] / 3, 0.5 * full[:, 3:]), dim=1)
        ee = (dev[:, :3] ** 2).sum(dim=1) + 2 * (dev[:, 3:] ** 2).sum(dim=1)
        return 0.5 * self.K * tr * tr + self.mu * ee + 0.5 * self.mu * self.beta * ee * ee

    def stress(self, strain: torch.Tensor) -> torch.Tensor:
        if self.mode == "1d":
            return self.E * strain * (1 + (strain / self.eps_h) ** 2)
        full = strain if self.mode == "3d" else _plane_to_3d(strain)
        tr = full[:, :3].sum(dim=1, keepdim=True)
        dev = torch.cat((full[:, :3] - tr / 3, 0.5 * full[:, 3:]), dim=1)  # tensor components e_ij
        ee = (dev[:, :3] ** 2).sum(dim=1, keepdim=True) + 2 * (dev[:, 3:] ** 2).sum(dim=1, keepdim=True)
        sig = 2 * self.mu * (1 + self.beta * ee) * dev
        sig = torch.cat((sig[:, :3] + self.K * tr, sig[:, 3:]), dim=1)
        return sig if self.mode == "3d" else sig[:, [0, 1, 5]]

    def tangent(self, strain: torch.Tensor) -> torch.Tensor:
        if self.mode == "1d":
            return (self.E * (1 + 3 * (strain / self.eps_h) ** 2)).unsqueeze(-1)
        return autograd_tangent(self.stress, strain)


def _plane_to_3d(strain: torch.Tensor) -> torch.Tensor:
    """Plane-strain Voigt ``[exx, eyy, gxy]`` to 3-D ``[exx, eyy, 0, 0, 0, gxy]``."""
    z = torch.zeros_like(strain[:, :1])
    return torch.cat((strain[:, :2], z, z, z, strain[:, 2:]), dim=1)
