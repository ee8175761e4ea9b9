"""The ``[material]`` table of a case: analytic laws (linear, hardening cubic, neo-Hookean) and fitted models."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BeforeValidator, Discriminator, Tag, model_validator

from .kinds import PathText, Poisson, PositiveNumber, invalid, key
from .tables import Selector, Variant

DEFAULT_MODE = {1: "1d", 2: "plane_strain", 3: "3d"}
"""Kinematics of an analytic material when ``mode`` is not given, by mesh dimension."""


class Analytic(Variant):
    """Shared keys of the analytic laws."""

    E: PositiveNumber = key("Young's modulus (cubic: at zero strain)", unit="stress")
    nu: Poisson | None = key("Poisson's ratio", default=None, default_doc="required unless mode = '1d'")
    density: PositiveNumber = key("mass density", unit="mass/length^3")
    mode: Literal["1d", "plane_strain", "plane_stress", "3d"] | None = key(
        "kinematics", default=None, default_doc="from the mesh: 1d, plane_strain, 3d")

    def kinematics(self, dim: int) -> str:
        """The mode: as given, or the default of a ``dim``-D mesh."""
        return self.mode or DEFAULT_MODE[dim]


class Linear(Analytic):
    """Linear elastic law (fem.LinearElastic)."""

    selector: ClassVar = ("type", "linear")
    type: Literal["linear"] = key("analytic law")


class Cubic(Analytic):
    """Hardening cubic law (fem.HardeningCubic): the 1-D tangent is E (1 + 3 (strain / eps_h)^2)."""

    selector: ClassVar = ("type", "cubic")
    type: Literal["cubic"] = key("analytic law")
    eps_h: PositiveNumber = key("hardening strain: the 1-D tangent is 4 E at |strain| = eps_h", unit="-")
    eps_max: PositiveNumber = key("largest strain for which the bound is certified", unit="-")

    @model_validator(mode="after")
    def _modes(self) -> Cubic:
        if self.mode == "plane_stress":
            raise invalid("the cubic law supports 1d, plane_strain and 3d", key="mode")
        return self


class Model(Variant):
    """A fitted snsurrogate model (snsurrogate fit) with its certified bound."""

    selector: ClassVar = ("model", None)
    model: PathText = key("fitted model file, relative to the case file")
    density: PositiveNumber = key("mass density", unit="mass/length^3")


class NeoHookean(Variant):
    """Compressible neo-Hookean law W = mu/2 (I1 - 3) - mu ln J + kappa/2 (J - 1)^2 (finite strain, 2-D and 3-D)."""

    selector: ClassVar = ("type", "neo_hookean")
    type: Literal["neo_hookean"] = key("analytic law")
    mu: PositiveNumber = key("shear modulus", unit="stress")
    kappa: PositiveNumber = key("bulk coefficient of U(J) = kappa/2 (J - 1)^2 (bulk modulus kappa + 2 mu/3)",
                                unit="stress")
    density: PositiveNumber = key("mass density", unit="mass/length^3")


class Ogden(Variant):
    """Compressible Ogden law, w'(lambda) = sum_p mu_p (lambda^(alpha_p - 1) - 1/lambda) per principal stretch, plus
    kappa/2 (J - 1)^2 (finite strain, 2-D and 3-D; fem.Ogden)."""

    selector: ClassVar = ("type", "ogden")
    type: Literal["ogden"] = key("analytic law")
    mu: tuple[float, ...] = key("moduli mu_p of the terms (mu_p alpha_p > 0)", unit="stress", kind="[mu_1, ...]",
                                expected="a list of numbers")
    alpha: tuple[float, ...] = key("exponents alpha_p of the terms", unit="-", kind="[alpha_1, ...]",
                                   expected="a list of numbers, as many as mu")
    kappa: PositiveNumber = key("bulk coefficient of U(J) = kappa/2 (J - 1)^2", unit="stress")
    density: PositiveNumber = key("mass density", unit="mass/length^3")


MATERIAL = Selector("[material]", (Linear, Cubic, NeoHookean, Ogden, Model))
Material = Annotated[Annotated[Linear, Tag("linear")] | Annotated[Cubic, Tag("cubic")]
                     | Annotated[NeoHookean, Tag("neo_hookean")] | Annotated[Ogden, Tag("ogden")]
                     | Annotated[Model, Tag("model")], Discriminator(MATERIAL.tag), BeforeValidator(MATERIAL.check)]
"""``[material]``: an analytic law (``type = 'linear' | 'cubic' | 'neo_hookean' | 'ogden'``) or a fitted model."""


__all__ = ["DEFAULT_MODE", "MATERIAL", "Analytic", "Cubic", "Linear", "Material", "Model", "NeoHookean", "Ogden"]
