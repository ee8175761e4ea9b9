"""The explicit simulations of the demo, as case dictionaries for :func:`snsurrogate.simulate`.

Every case is in mm, s, t, MPa (force N, energy mJ). A case is built for a material section (a fitted
model file, or the exact analytic law) and a time step; the solver never knows which law it has.

- ``bar_tension`` / ``bar_compression``: a 100 mm bar of the hardening cubic material, fixed at its
  right end, whose left end is driven at 65 m/s (ramped over 10 us) away from or into the bar. By
  simple-wave theory for the exact law the incident strain is 0.04 (``v = int_0^eps c(e) de`` with
  ``c = sqrt(E_t / rho)``); the reflection at the fixed end roughly doubles it, so the bar is loaded
  into the stiff end of the data (``|eps| <= 0.1``), where the tangent is up to 13 x the initial one.
- ``punch_2d``: a 40 mm x 20 mm block in plane strain (half model: the left edge is a symmetry plane,
  the bottom slides on a rigid base) hit over ``x in [0, 10]`` mm of its top by a rigid punch at 20 m/s
  (ramp 5 us, hold to 15 us, stop at 20 us, then held). The strain concentrates at the punch corner.
- ``rubber_stretch``: a 100 mm rubber bar (Treloar's natural rubber), fixed at its left end, pulled at
  its right end at 10 m/s (ramped over the first 10 % of the run) to a mean stretch of 6.5, into the
  stiff upturn of the measured curve (data to stretch 7.6).
- ``bar_vibration`` / ``block_vibration`` (the *long runs*): the bar of the cubic material (both ends
  fixed) and a 40 mm x 20 mm plane-strain block of the plane-strain potential law (bottom edge fixed)
  vibrating freely from a random initial velocity field (normal components of standard deviation
  ``Settings.long_speed`` [mm/s], fixed seed), for ``Settings.long_steps`` steps at each step
  (nominal, certified, and the default ``dt = "auto"``). Nothing is put in after the start, so the
  true energy (kinetic + strain energy) must stay constant: its drift is what the solver's energy
  monitor measures and what a nonlinear instability below the certified step would show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .settings import UNITS, Settings

BAR_LENGTH = 100.0  # mm
BAR_SPEED = 6.5e4  # mm/s: incident strain 0.04 in the exact cubic law
BAR_END = 1.2e-4  # s: the front reflects at the fixed end and runs back about half the bar
BLOCK = (40.0, 20.0)  # mm
PUNCH_HALF_WIDTH = 10.0  # mm
PUNCH_SPEED = 2.0e4  # mm/s
PUNCH_PULSE = [[0.0, 0.0], [5e-6, 1.0], [1.5e-5, 1.0], [2e-5, 0.0]]  # [s, -]
PUNCH_END = 6e-5  # s: about three passes of the longitudinal wave through the 20 mm height
RUBBER_SPEED = 1.0e4  # mm/s
RUBBER_STRETCH = 6.5  # mean stretch reached at the end of the run [-]
LONG_SEED = 7  # seed of the random initial velocity of the long runs


@dataclass(frozen=True)
class Scenario:
    """One simulation of the demo.

    Attributes
    ----------
    key, title
        Short name (folder names) and title.
    material
        Key of :data:`snsurrogate.demo.settings.MATERIALS` whose fitted laws it runs.
    description
        What happens, with its numbers and units.
    long
        A long run: its end time is ``Settings.long_steps`` steps of the run's ``dt`` (passed as ``end``).
    """

    key: str
    title: str
    material: str
    description: str
    long: bool = False

    def case(self, material: dict[str, Any], dt: float | str, settings: Settings,
             end: float | None = None) -> dict[str, Any]:
        """The case dictionary for a ``[material]`` section and a time step ``dt`` [s] (or ``"auto"``);
        ``end`` [s] is the end time of a long run (required there, ignored otherwise)."""
        body = BUILDERS[self.key](settings)
        if self.long:
            if end is None:
                raise ValueError(f"the long run {self.key!r} needs an end time")
            body["time"]["end"] = end
        body["units"] = dict(UNITS)
        body["material"] = dict(material)
        body["time"]["dt"] = dt
        body["time"]["allow_unsafe_dt"] = dt != "auto"  # the nominal step is above the certified one
        body["output"] = {"frames": settings.frames, "progress": False}
        return body


def _bar(settings: Settings, sign: float) -> dict[str, Any]:
    return {
        "mesh": {"generate": "line", "length": BAR_LENGTH, "divisions": settings.bar_divisions, "section": 1.0},
        "boundary": [
            {"name": "striker", "type": "velocity", "nodes": {"group": "left"}, "components": ["x"],
             "value": [sign * BAR_SPEED], "amplitude": [[0.0, 0.0], [1e-5, 1.0], [1.0, 1.0]]},
            {"name": "support", "type": "fixed", "nodes": {"group": "right"}},
        ],
        "time": {"end": BAR_END},
    }


def _punch(settings: Settings) -> dict[str, Any]:
    lx, ly = BLOCK
    return {
        "mesh": {"generate": "rectangle", "size": [lx, ly], "divisions": list(settings.block_divisions),
                 "element": "quad4", "section": 1.0},
        "boundary": [
            {"name": "punch", "type": "velocity", "nodes": {"x": [0.0, PUNCH_HALF_WIDTH], "y": ly},
             "components": ["y"], "value": [-PUNCH_SPEED], "amplitude": PUNCH_PULSE},
            {"name": "base", "type": "fixed", "nodes": {"group": "bottom"}, "components": ["y"]},
            {"name": "symmetry", "type": "fixed", "nodes": {"group": "left"}, "components": ["x"]},
        ],
        "time": {"end": PUNCH_END},
    }


def rubber_end_time() -> float:
    """End time [s] at which the pulled end has moved ``(RUBBER_STRETCH - 1) x BAR_LENGTH``."""
    return (RUBBER_STRETCH - 1.0) * BAR_LENGTH / RUBBER_SPEED / 0.95  # the 10 % ramp loses 5 % of the travel


def _rubber(settings: Settings) -> dict[str, Any]:
    end = rubber_end_time()
    return {
        "mesh": {"generate": "line", "length": BAR_LENGTH, "divisions": settings.rubber_divisions, "section": 1.0},
        "boundary": [
            {"name": "clamp", "type": "fixed", "nodes": {"group": "left"}},
            {"name": "pull", "type": "velocity", "nodes": {"group": "right"}, "components": ["x"],
             "value": [RUBBER_SPEED], "amplitude": [[0.0, 0.0], [0.1 * end, 1.0], [end, 1.0]]},
        ],
        "time": {"end": end},
    }


def _vibration(settings: Settings, two_d: bool) -> dict[str, Any]:
    if two_d:
        lx, ly = BLOCK
        mesh = {"generate": "rectangle", "size": [lx, ly], "divisions": list(settings.long_divisions),
                "element": "quad4", "section": 1.0}
        fixed = [{"name": "base", "type": "fixed", "nodes": {"group": "bottom"}}]
    else:
        mesh = {"generate": "line", "length": BAR_LENGTH, "divisions": settings.bar_divisions, "section": 1.0}
        fixed = [{"name": f"{side} end", "type": "fixed", "nodes": {"group": side}} for side in ("left", "right")]
    return {"mesh": mesh, "boundary": fixed,
            "initial": {"random_velocity": {"amplitude": settings.long_speed, "seed": LONG_SEED}},
            "time": {}}


BUILDERS = {
    "bar_tension": lambda s: _bar(s, -1.0),
    "bar_compression": lambda s: _bar(s, 1.0),
    "punch_2d": _punch,
    "rubber_stretch": _rubber,
    "bar_vibration": lambda s: _vibration(s, False),
    "block_vibration": lambda s: _vibration(s, True),
}

SCENARIOS = {
    "bar_tension": Scenario(
        "bar_tension", "1-D bar impact, tension", "cubic",
        "100 mm bar, right end fixed, left end pulled at 65 m/s (10 us ramp): incident strain 0.04, about "
        "0.08 after reflection at the fixed end; 120 us"),
    "bar_compression": Scenario(
        "bar_compression", "1-D bar impact, compression", "cubic",
        "the same bar, left end pushed at 65 m/s: strain -0.04 incident, about -0.08 after reflection; 120 us"),
    "punch_2d": Scenario(
        "punch_2d", "2-D block hit by a rigid punch (plane strain)", "plane",
        "40 mm x 20 mm block (half model), punch of half-width 10 mm at 20 m/s for 15 us, then stopped "
        "and held; 60 us"),
    "rubber_stretch": Scenario(
        "rubber_stretch", "rubber bar under large stretch (real data)", "rubber",
        f"100 mm natural-rubber bar, left end clamped, right end pulled at 10 m/s to a mean stretch of "
        f"{RUBBER_STRETCH:g}; {rubber_end_time() * 1e3:.1f} ms"),
    "bar_vibration": Scenario(
        "bar_vibration", "1-D bar, free vibration (long run)", "cubic",
        "100 mm bar, both ends fixed, random initial velocity (standard deviation `long_speed` per node), "
        "`long_steps` steps at each dt; nothing put in after the start", long=True),
    "block_vibration": Scenario(
        "block_vibration", "2-D block, free vibration (long run)", "plane",
        "40 mm x 20 mm plane-strain block, bottom edge fixed, random initial velocity (standard deviation "
        "`long_speed` per component), `long_steps` steps at each dt; nothing put in after the start", long=True),
}
