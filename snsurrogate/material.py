"""A fitted law as a material of the ``fem`` solver: :func:`as_material`.

``fem`` never imports ``snsurrogate``; this adapter gives a :class:`~snsurrogate.model.SurrogateModel`
the members of the ``fem`` material protocol (:class:`fem.materials.Material`): ``n_voigt``, ``stress``,
``tangent``, ``density``, ``lipschitz_bound`` (certified for every strain, so ``certified_strain`` is
``None``), ``certified_by``, ``symmetric``, ``tangent_lower_bound``, ``stiffness_bound`` (a potential law's
``C_t <= (s_sigma / s_eps) V^T V``, the metric of the time-step bounds; ``None`` for an MLP) and ``energy`` (the
strain-energy density of a potential law, ``None`` for an MLP). The network is copied once to the solver's dtype
and device; a float32 model evaluated in float64 is the same function (its weights are exactly representable), so
its bound is unchanged.
"""

from __future__ import annotations

import copy
import math

import torch

from .inference import LeanForward
from .lipschitz import jacobian, lipschitz_bound
from .model import SurrogateModel
from .potential import PotentialNetwork, potential_bounds, potential_stiffness_bound


class NeuralMaterial:
    """A :class:`SurrogateModel` seen by ``fem`` as a material law.

    Parameters
    ----------
    model
        The fitted law (strain and stress components must match: 1, 3 or 6).
    density
        Mass density [mass / length^3], in units consistent with the model's stress unit.
    dtype, device
        Where the solver evaluates the law (float64 on the CPU by default).

    Attributes
    ----------
    lipschitz_bound : float
        The model's certified bound [stress unit per unit strain], re-computed from the copied weights.
    """

    certified_strain = None
    certified_by = "exact spectral norms of the network weights"

    def __init__(self, model: SurrogateModel, density: float, *, dtype=torch.float64, device="cpu") -> None:
        if model.d_in != model.d_out:
            raise ValueError(f"a material needs as many stress as strain components, the model maps "
                             f"{model.d_in} -> {model.d_out}")
        if not (math.isfinite(float(density)) and float(density) > 0):
            raise ValueError(f"density must be a positive number, got {density!r}")
        self.model = model
        self.network = copy.deepcopy(model.network).to(dtype=dtype, device=device)
        self._lean = LeanForward(self.network)
        self.n_voigt = model.d_in
        self.density = float(density)
        self.lipschitz_bound = lipschitz_bound(self.network)
        self.stress_unit = model.stress_unit
        self.kind = model.kind
        self.symmetric = model.symmetric
        potential = isinstance(self.network, PotentialNetwork)
        self.tangent_lower_bound = potential_bounds(self.network)[1] if potential else None
        self.stiffness_bound = stiffness_metric(self.network) if potential else None
        self.energy = self._energy if potential else None
        if potential:
            self.certified_by = ("exact spectral norm of the energy's weight (convex ridge potential: symmetric "
                                 "tangent with certified lower and upper bounds)")

    def _energy(self, strain: torch.Tensor) -> torch.Tensor:
        """Strain-energy density ``(n,)`` [stress unit x strain = energy / volume] of a potential law."""
        with torch.no_grad():
            return self.network.energy(strain)

    def stress(self, strain: torch.Tensor) -> torch.Tensor:
        """Stress ``(n, n_voigt)`` [stress unit] at engineering Voigt strain ``(n, n_voigt)`` [-], by the lean
        inference forward (:mod:`snsurrogate.inference`: the network's function, folded and chunked)."""
        return self._lean(strain)

    def tangent(self, strain: torch.Tensor) -> torch.Tensor:
        """``d stress / d strain``, ``(n, n_voigt, n_voigt)``: in closed form for a potential law, else by
        automatic differentiation."""
        if isinstance(self.network, PotentialNetwork):
            with torch.no_grad():
                return self.network.tangent(strain)
        return jacobian(self.network, strain)


def stiffness_metric(network: PotentialNetwork) -> torch.Tensor | None:
    """``C_bar = (s_sigma / s_eps) V^T V`` (:func:`~snsurrogate.potential.potential_stiffness_bound`) when it is
    positive definite (condition number below 1e12), else ``None``: the solver then bounds in ``L I``."""
    c = potential_stiffness_bound(network)
    lam = torch.linalg.eigvalsh(c)
    return c if float(lam[0]) > 1e-12 * float(lam[-1]) else None


class HyperelasticMaterial:
    """A fitted :class:`~snsurrogate.hyperelastic.HyperelasticLaw` seen by ``fem`` as a finite-strain law
    (``finite_strain = True``: ``first_piola(F)``, ``strain_energy(F)``, ``tangent_bound(F)``; the solver runs it
    with total Lagrangian kinematics, :mod:`fem.finite_strain`). ``density`` [mass / length^3] in units consistent
    with the law's stress unit. ``lipschitz_bound`` is the certified bound ``L`` of ``w''`` [stress unit]."""

    finite_strain = True
    n_voigt = 9
    certified_strain = None
    certified_by = ("exact norm of the stretch-energy network's weights (m <= w'' <= L at every stretch) and the "
                    "principal-frame spectrum of dP/dF at the current state")
    symmetric = True
    linear = False

    def __init__(self, law, density: float, *, dtype=torch.float64, device="cpu") -> None:
        if not (math.isfinite(float(density)) and float(density) > 0):
            raise ValueError(f"density must be a positive number, got {density!r}")
        from .hyperelastic.law import HyperelasticLaw

        self.law = HyperelasticLaw(copy.deepcopy(law.network).to(dtype=dtype, device=device), law.kappa, law.metadata)
        self.density = float(density)
        self.kind = "hyperelastic"
        self.stress_unit = law.stress_unit
        self.lipschitz_bound = self.law.lipschitz_bound
        self.tangent_lower_bound = self.law.tangent_lower_bound

    def first_piola(self, F: torch.Tensor) -> torch.Tensor:
        """``P (n, 3, 3)`` [stress unit] at ``F (n, 3, 3)``."""
        with torch.no_grad():
            return self.law.first_piola(F)

    def strain_energy(self, F: torch.Tensor) -> torch.Tensor:
        """``W (n,)`` [stress unit = energy per undeformed volume]."""
        with torch.no_grad():
            return self.law.energy(F)

    def tangent_bound(self, F: torch.Tensor) -> torch.Tensor:
        """Certified ``a(F) >= λ_max(∂P/∂F)`` ``(n,)`` [stress unit]."""
        return self.law.tangent_bound(F)

    def first_piola_and_bound(self, F: torch.Tensor):
        """``(P, a(F), det F)`` in one pass."""
        return self.law.first_piola_and_bound(F)


def as_material(model, density: float, **kwargs) -> NeuralMaterial | HyperelasticMaterial:
    """Wrap a fitted law for the ``fem`` solver: :class:`NeuralMaterial` for a small-strain law,
    :class:`HyperelasticMaterial` (finite strain) for a law fitted to test modes."""
    if getattr(model, "kind", None) == "hyperelastic":
        return HyperelasticMaterial(model, density, **kwargs)
    return NeuralMaterial(model, density, **kwargs)
