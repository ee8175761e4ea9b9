"""Known unit names of ``[units]`` and the checks they allow.

A case is written in one consistent system and nothing is ever converted; but when the names of
``[units]`` are known units (:data:`UNITS`, their SI factors), the system can be checked:

- ``stress = mass / (length x time^2)`` when length, time, mass and stress are all known
  (mm, s, t, MPa; m, s, kg, Pa; mm, ms, kg, GPa; ...), ``force = stress x length^2`` and
  ``energy = force x length`` when those are given too: an inconsistent set is refused, naming the key
  and the unit that would fit (:func:`consistency_problem`);
- the density, when length and mass are known: outside :data:`DENSITY_RANGE` kg/m^3 it is warned of
  (:func:`density_warning`), never refused.

A name that is not in the table (``'psi'``, ``'length unit'``) is accepted and not checked. Names are
compared exactly (``'MPa'``, not ``'mpa'``); the micro prefix may be written ``u``, ``µ`` or ``μ``.
"""

from __future__ import annotations

import math

from pydantic import model_validator

from .kinds import Text, invalid, key
from .tables import Table

_MICRO = ("u", "\u00b5", "\u03bc")  # u, micro sign, Greek mu


def _with_micro(table: dict[str, float], base: str, factor: float) -> dict[str, float]:
    return table | {f"{m}{base}": factor for m in _MICRO}


UNITS: dict[str, dict[str, float]] = {
    "length": _with_micro({"m": 1.0, "km": 1e3, "dm": 1e-1, "cm": 1e-2, "mm": 1e-3, "nm": 1e-9}, "m", 1e-6),
    "time": _with_micro({"s": 1.0, "ms": 1e-3, "ns": 1e-9, "min": 60.0, "h": 3600.0}, "s", 1e-6),
    "mass": _with_micro({"kg": 1.0, "g": 1e-3, "mg": 1e-6, "t": 1e3, "tonne": 1e3, "Mg": 1e3}, "g", 1e-9),
    "stress": {"Pa": 1.0, "kPa": 1e3, "MPa": 1e6, "GPa": 1e9, "TPa": 1e12, "mPa": 1e-3, "bar": 1e5,
               "N/m^2": 1.0, "N/mm^2": 1e6, "N/mm2": 1e6, "N/m2": 1.0},
    "force": _with_micro({"N": 1.0, "kN": 1e3, "MN": 1e6, "GN": 1e9, "mN": 1e-3, "nN": 1e-9}, "N", 1e-6),
    "energy": _with_micro({"J": 1.0, "kJ": 1e3, "MJ": 1e6, "GJ": 1e9, "mJ": 1e-3, "nJ": 1e-9,
                           "N m": 1.0, "N*m": 1.0, "Nm": 1.0, "N mm": 1e-3, "N*mm": 1e-3, "Nmm": 1e-3}, "J", 1e-6),
}
"""Known unit names of each ``[units]`` key and their factors to SI (m, s, kg, Pa, N, J)."""

DENSITY_RANGE = (1e-3, 3e4)
"""Plausible mass densities [kg/m^3]: from light foams (aerogels ~1) to the densest metals (osmium 22 600);
a density outside is warned of (a value in the wrong unit, e.g. kg/m^3 in a t/mm^3 case)."""

_RTOL = 1e-6


def factor(kind: str, name: str | None) -> float | None:
    """The SI factor of unit ``name`` of ``kind`` (``"length"``, ...), or ``None`` when it is not known."""
    return UNITS[kind].get(name) if name is not None else None


def name_of(kind: str, si: float) -> str | None:
    """The first known name of ``kind`` whose SI factor is ``si`` (up to rounding), or ``None``."""
    return next((n for n, f in UNITS[kind].items() if math.isclose(f, si, rel_tol=_RTOL)), None)


def consistency_problem(names: dict[str, str | None]) -> tuple[str, str] | None:
    """``(key, message)`` when known units of ``names`` (``length``, ``time``, ``mass``, ``stress``,
    ``force``, ``energy``; ``None`` where not given) do not form one consistent system, else ``None``."""
    f = {k: factor(k, names.get(k)) for k in UNITS}
    L, T, M, S = f["length"], f["time"], f["mass"], f["stress"]
    if None not in (L, T, M, S):
        need = M / (L * T**2)
        if not math.isclose(S, need, rel_tol=_RTOL):
            given = ", ".join(f"{k} {names[k]!r}" for k in ("length", "time", "mass"))
            fits = name_of("stress", need)
            other = name_of("mass", S * L * T**2)
            hint = f"the stress unit must be {fits!r}" if fits else f"the stress unit is {need:g} Pa (no known name)"
            if other:
                hint += f", or keep stress {names['stress']!r} with mass {other!r}"
            return "stress", (f"{names['stress']!r} is not consistent with {given} (stress = mass / (length x "
                              f"time^2)): with these {hint}")
    if S is not None and L is not None and f["force"] is not None:
        need = S * L**2
        if not math.isclose(f["force"], need, rel_tol=_RTOL):
            fits = name_of("force", need)
            return "force", (f"{names['force']!r} is not consistent with stress {names['stress']!r} and length "
                             f"{names['length']!r} (force = stress x length^2): "
                             + (f"the force unit must be {fits!r}" if fits else f"it is {need:g} N (no known name)"))
    force = f["force"] if f["force"] is not None else (S * L**2 if S is not None and L is not None else None)
    if force is not None and L is not None and f["energy"] is not None:
        need = force * L
        if not math.isclose(f["energy"], need, rel_tol=_RTOL):
            fits = name_of("energy", need)
            basis = f"force {names['force']!r}" if names.get("force") else f"stress {names['stress']!r}"
            return "energy", (f"{names['energy']!r} is not consistent with {basis} and length {names['length']!r} "
                              "(energy = force x length): "
                              + (f"the energy unit must be {fits!r}" if fits else f"it is {need:g} J (no known name)"))
    return None


def density_warning(density: float, names: dict[str, str | None], where: str = "[material] density") -> str | None:
    """A warning when ``density`` [mass/length^3] is outside :data:`DENSITY_RANGE` once converted (known
    length and mass units), else ``None``."""
    L, M = factor("length", names.get("length")), factor("mass", names.get("mass"))
    if L is None or M is None:
        return None
    si = density * M / L**3
    lo, hi = DENSITY_RANGE
    if lo <= si <= hi:
        return None
    return (f"{where}: {density:g} {names['mass']}/{names['length']}^3 is {si:.3g} kg/m^3, outside the plausible "
            f"range {lo:g} to {hi:g} kg/m^3 of solids and foams; is it in {names['mass']}/{names['length']}^3?")


def single_step_warning(end: float, dt: float, time_unit: str) -> str | None:
    """A warning when the run to ``end`` is a single step of ``dt`` (``end <= dt``), else ``None``."""
    if not (end <= dt):
        return None
    return (f"[time] end: {end:g} {time_unit} is not longer than the time step {dt:.6g} {time_unit}: the run is a "
            "single step (check [time] end and the units of [material] density and E)")


# ---------------------------------------------------------------------------------------------- [units]
class Units(Table):
    """Names of the units of the one consistent system the case is written in; they are only printed in
    the outputs, never converted. Known names (m, mm, s, ms, kg, t, Pa, MPa, N, J, ...:
    snsurrogate.case.units) are checked: stress = mass / (length x time^2), force = stress x length^2,
    energy = force x length; other names are not checked."""

    length: Text | None = key("length unit", default=None, default_doc="'length unit'")
    time: Text | None = key("time unit", default=None, default_doc="'time unit'")
    mass: Text | None = key("mass unit", default=None, default_doc="'mass unit'")
    stress: Text | None = key("stress unit (must match a fitted model's)", default=None,
                              default_doc="the model's stress unit, else 'stress unit'")
    force: Text | None = key("force unit (= stress x length^2)", default=None, default_doc="'<stress> x <length>^2'")
    energy: Text | None = key("energy unit (= force x length)", default=None, default_doc="'<force> x <length>'")

    @model_validator(mode="after")
    def _consistent(self) -> Units:
        problem = consistency_problem(self.given())
        if problem is not None:
            raise invalid(problem[1], key=problem[0])
        return self

    def given(self, model_stress_unit: str | None = None) -> dict[str, str | None]:
        """The names as given (``None`` where not), ``stress`` defaulting to the fitted model's unit."""
        return {"length": self.length, "time": self.time, "mass": self.mass,
                "stress": self.stress or model_stress_unit, "force": self.force, "energy": self.energy}

    def names(self, model_stress_unit: str | None = None) -> dict[str, str]:
        """Every unit name, the defaults filled in (``stress``: the fitted model's unit, if any)."""
        length, stress = self.length or "length unit", self.stress or model_stress_unit or "stress unit"
        force = self.force or f"{stress} x {length}^2"
        return {"length": length, "time": self.time or "time unit", "mass": self.mass or "mass unit",
                "stress": stress, "force": force, "energy": self.energy or f"{force} x {length}"}
