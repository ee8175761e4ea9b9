"""A fitted law as a material of the ``fem`` solver: :func:`as_material`.

``fem`` never imports ``snsurrogate``; this adapter gives a :class:`~snsurrogate.model.SurrogateModel`
the members of the ``fem`` material protocol (:class:`fem.materials.Material`): ``n_voigt``, ``stress``,
``tangent``, ``density``, ``lipschitz_bound`` (certified for every strain, so ``certified_strain`` is
``None``), ``certified_by``, ``symmetric``, ``tangent_lower_bound`` and ``energy`` (the strain-energy
density of a potential law, ``None`` for an MLP). The network is copied once to the solver's dtype and device; a float32
model evaluated in float64 is the same function (its weights are exactly representable), so its bound is unchanged.
"""

from __future__ import annotations

import copy
import math

import torch

from .lipschitz import jacobian, lipschitz_bound
from .model import SurrogateModel
from .potential import PotentialNetwork, potential_bounds


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
        self.n_voigt = model.d_in
        self.density = float(density)
        self.lipschitz_bound = lipschitz_bound(self.network)
        self.stress_unit = model.stress_unit
        self.kind = model.kind
        self.symmetric = model.symmetric
        potential = isinstance(self.network, PotentialNetwork)
        self.tangent_lower_bound = potential_bounds(self.network)[1] if potential else None
        self.energy = self._energy if potential else None
        if potential:
            self.certified_by = ("exact spectral norm of the energy's weight (convex ridge potential: symmetric "
                                 "tangent with certified lower and upper bounds)")

    def _energy(self, strain: torch.Tensor) -> torch.Tensor:
        """Strain-energy density ``(n,)`` [stress unit x strain = energy / volume] of a potential law."""
        with torch.no_grad():
            return self.network.energy(strain)

    def stress(self, strain: torch.Tensor) -> torch.Tensor:
        """Stress ``(n, n_voigt)`` [stress unit] at engineering Voigt strain ``(n, n_voigt)`` [-]."""
        with torch.no_grad():
            return self.network(strain)

    def tangent(self, strain: torch.Tensor) -> torch.Tensor:
        """``d stress / d strain``, ``(n, n_voigt, n_voigt)``: in closed form for a potential law, else by
        automatic differentiation."""
        if isinstance(self.network, PotentialNetwork):
            with torch.no_grad():
                return self.network.tangent(strain)
        return jacobian(self.network, strain)


def as_material(model: SurrogateModel, density: float, **kwargs) -> NeuralMaterial:
    """Wrap a fitted law for the ``fem`` solver (see :class:`NeuralMaterial`). A finite-strain hyperelastic
    law (fitted to test modes) is refused with :class:`~snsurrogate.errors.UnsupportedLawError` (a
    ``TypeError``): the solver's kinematics are small-strain."""
    if getattr(model, "kind", None) == "hyperelastic":
        from .errors import UnsupportedLawError

        raise UnsupportedLawError("a hyperelastic law (P(F), fitted to test modes) cannot drive the small-strain "
                                  "solver: finite-strain (total Lagrangian) elements are not available yet")
    return NeuralMaterial(model, density, **kwargs)
