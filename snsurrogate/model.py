"""The fitted material law that users hold: :class:`SurrogateModel`.

A ``SurrogateModel`` is callable on strain ``(n, d_in)`` and returns stress ``(n, d_out)``; it carries
its certified Lipschitz bound as the float attribute ``lipschitz_bound`` (stress unit per strain
unit), recomputed from its weights whenever it is built or loaded, and the metadata that the model
file stores (columns, units, training data hash, fit metrics).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from .lipschitz import jacobian, lipschitz_bound
from .network import Architecture, StressNetwork
from .potential import PotentialNetwork, potential_bounds


class SavedLaw:
    """What every fitted law shares: its fit ``summary`` and ``save`` (needs a ``metadata`` dict)."""

    metadata: dict[str, Any]

    @property
    def summary(self) -> dict[str, Any]:
        """The fit summary (metrics, bound, timing) as written to ``MODEL.json``."""
        return dict(self.metadata.get("summary", {}))

    def save(self, path) -> None:
        """Write the model file (see :mod:`snsurrogate.modelfile`), atomically."""
        from .modelfile import save

        save(self, path)


class SurrogateModel(SavedLaw, nn.Module):
    """A fitted strain -> stress law with a certified tangent bound.

    Parameters
    ----------
    network
        The frozen inference network (plain weights).
    metadata
        JSON-serialisable information: column names and units, training summary, data SHA-256, ...

    Attributes
    ----------
    kind : str
        ``"potential"`` (stress = gradient of a learned convex energy: symmetric tangent, certified
        ``tangent_lower_bound I <= C_t <= lipschitz_bound I``) or ``"mlp"`` (a strain -> stress MLP: for
        more than one component its tangent is not symmetric and ``lipschitz_bound`` bounds only its norm).
    lipschitz_bound : float
        Certified upper bound of ``||d stress / d strain||_2`` over all strains [stress unit / strain
        unit], from exact spectral norms of the weights (:func:`snsurrogate.lipschitz.lipschitz_bound`).
    tangent_lower_bound : float or None
        Potential laws: certified lower bound ``m >= 0`` of the tangent's eigenvalues at every strain
        [stress unit / strain unit] (never softening); None for an MLP (no lower bound: it may soften).
    metadata : dict
        See above.
    """

    def __init__(self, network: StressNetwork | PotentialNetwork, metadata: dict[str, Any] | None = None) -> None:
        super().__init__()
        if network.spectral:
            raise ValueError("a SurrogateModel holds a frozen network; call snsurrogate.network.freeze first")
        self.network = network
        for p in self.network.parameters():
            p.requires_grad_(False)
        self.network.eval()
        self.metadata: dict[str, Any] = copy.deepcopy(metadata or {})
        self.lipschitz_bound: float = lipschitz_bound(network)
        self.tangent_lower_bound: float | None = (
            potential_bounds(network)[1] if isinstance(network, PotentialNetwork) else None)

    # -- the law -------------------------------------------------------------------------------
    @property
    def arch(self) -> Architecture:
        return self.network.arch

    @property
    def kind(self) -> str:
        """``"potential"`` or ``"mlp"`` (see the class docstring)."""
        return self.arch.kind

    @property
    def symmetric(self) -> bool:
        """Whether the tangent is symmetric by construction (a potential law, or one component)."""
        return self.kind == "potential" or self.d_in == 1

    def energy(self, strain: torch.Tensor) -> torch.Tensor:
        """Strain-energy density ``(n,)`` [stress unit x strain unit = energy / volume] of a potential law,
        zero at zero strain, ``stress = d energy / d strain``. An MLP has none (``TypeError``)."""
        if not isinstance(self.network, PotentialNetwork):
            raise TypeError("this law is a plain MLP (kind 'mlp'): it has no energy; fit with law='potential'")
        if strain.ndim != 2 or strain.shape[1] != self.d_in:
            raise ValueError(f"strain must have shape (n, {self.d_in}), got {tuple(strain.shape)}")
        with torch.no_grad():
            return self.network.energy(strain.to(dtype=self.dtype, device=self.device))

    @property
    def d_in(self) -> int:
        """Number of strain components (engineering Voigt: 1, 3 = [xx, yy, xy], 6 = [xx, yy, zz, yz, xz, xy])."""
        return self.arch.d_in

    @property
    def d_out(self) -> int:
        """Number of stress components."""
        return self.arch.d_out

    @property
    def dtype(self) -> torch.dtype:
        return self.network.linears[0].weight.dtype

    @property
    def device(self) -> torch.device:
        return self.network.linears[0].weight.device

    def forward(self, strain: torch.Tensor) -> torch.Tensor:
        """Stress ``(n, d_out)`` [stress unit] at strain ``(n, d_in)`` [strain unit].

        The input is converted to the model's dtype and device (``model.to(torch.float64)`` to
        evaluate in double precision).
        """
        if strain.ndim != 2 or strain.shape[1] != self.d_in:
            raise ValueError(f"strain must have shape (n, {self.d_in}), got {tuple(strain.shape)}")
        return self.network(strain.to(dtype=self.dtype, device=self.device))

    stress = forward

    def tangent(self, strain: torch.Tensor) -> torch.Tensor:
        """Tangent stiffness ``d stress / d strain`` at each point, ``(n, d_out, d_in)`` [stress unit / strain unit]."""
        if strain.ndim != 2 or strain.shape[1] != self.d_in:
            raise ValueError(f"strain must have shape (n, {self.d_in}), got {tuple(strain.shape)}")
        strain = strain.to(dtype=self.dtype, device=self.device)
        if isinstance(self.network, PotentialNetwork):
            with torch.no_grad():
                return self.network.tangent(strain)
        return jacobian(self.network, strain)

    # -- information ---------------------------------------------------------------------------
    @property
    def constrained(self) -> bool:
        """True for a spectrally normalized model, False for an unconstrained one."""
        return bool(self.metadata.get("constrained", False))

    @property
    def stress_unit(self) -> str:
        return str(self.metadata.get("units", {}).get("stress", "?"))

    @property
    def strain_columns(self) -> list[str]:
        return list(self.metadata.get("columns", {}).get("strain", []))

    @property
    def stress_columns(self) -> list[str]:
        return list(self.metadata.get("columns", {}).get("stress", []))

    def extra_repr(self) -> str:
        how = "spectrally normalized" if self.constrained else "unconstrained"
        lower = "" if self.tangent_lower_bound is None else f", tangent_lower_bound={self.tangent_lower_bound:.6g}"
        return f"{self.kind}, {how}, lipschitz_bound={self.lipschitz_bound:.6g}{lower} {self.stress_unit}"
