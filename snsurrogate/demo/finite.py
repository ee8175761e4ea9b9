"""The finite-strain part of the demo: Treloar's three test modes fitted as the certified law (SN) and as its
unconstrained counterpart, and two rubber parts at large strain run with each (:func:`compare`).

The certified law is the convex ridge network of :func:`snsurrogate.fit_tests` (non-negative least squares:
deterministic, one fit); the unconstrained one a free 32x32x32 tanh MLP of ``ln λ`` by Adam, one per seed
(:mod:`snsurrogate.hyperelastic.unconstrained`; it certifies only ``|w''| <= L/λ``, the product of its layer norms).
The cases (:data:`CASES`; plane strain, total Lagrangian quad4):

- ``plate``: a quarter of a 20 mm square with a 4 mm hole, far edge pulled at 10 m/s to ``stretch``
  (:func:`plate_case`);
- ``punch``: a 40 mm x 20 mm block bonded to a rigid base, a 10 mm wide rigid punch bonded to the middle of its
  top driven down at 5 m/s by ``depth`` (:func:`punch_case`; ``examples/cases/rubber_punch.toml`` with the
  fitted law).

Each law runs each case twice:

- ``certified``: ``dt = "auto"``, the step recomputed at every state from the law's certified ``a(F)`` (safety 0.5);
- ``nominal``: :data:`NOMINAL` x the certified step of the undeformed mesh (``F = I``: the initial stiffness) held
  constant, the step an engineer would take from the small-strain moduli (``allow_unsafe_dt``).

Units: mm, s, t, MPa.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .. import datasets

NOMINAL = 0.9  # the nominal step: this factor x the certified step at F = I, held constant
SAFETY = 0.5  # of the certified state step in the adaptive runs
WIDTH, RADIUS, SPEED = 10.0, 2.0, 1.0e4  # the plate: mm, mm, mm/s
BLOCK, PUNCH, PUNCH_SPEED = (40.0, 20.0), 10.0, 5.0e3  # the punched block: mm, punch width mm, mm/s
DENSITY = 1.1e-9  # t/mm^3
FILES = {"uniaxial": "treloar1944_uniaxial_tension.csv", "equibiaxial": "treloar1944_equibiaxial_tension.csv",
         "pure_shear": "treloar1944_pure_shear.csv"}
CASES = {"plate": "a quarter of a 20 mm square natural-rubber plate with a 4 mm hole, far edge pulled at 10 m/s to a "
                  "stretch of {stretch:g}",
         "punch": "a 40 mm x 20 mm natural-rubber block on a rigid base, a 10 mm wide rigid punch bonded to the "
                  "middle of its top driven down at 5 m/s by {depth:g} mm"}
DESCRIPTION = ("{cases}; plane strain, total Lagrangian quad4, Treloar's law fitted to three test modes")


def _units() -> dict:
    return {"length": "mm", "time": "s", "mass": "t", "stress": "MPa"}


def _time(end: float, dt: float | str) -> dict:
    return {"end": end, "dt": dt, "safety": SAFETY, "allow_unsafe_dt": dt != "auto"}


def plate_case(model: str | Path, dt: float | str, stretch: float, divisions=(8, 4), frames: int = 4) -> dict:
    """The plate case for a model file and a step ``dt`` [s] (or ``"auto"``), pulled to ``stretch``."""
    return {"units": _units(),
            "mesh": {"generate": "plate_with_hole", "width": WIDTH, "radius": RADIUS, "divisions": list(divisions)},
            "material": {"model": str(model), "density": DENSITY},
            "boundary": [{"name": "symmetry x", "type": "fixed", "nodes": {"group": "left"}, "components": ["x"]},
                         {"name": "symmetry y", "type": "fixed", "nodes": {"group": "bottom"}, "components": ["y"]},
                         {"name": "pull", "type": "velocity", "nodes": {"group": "right"}, "components": ["x"],
                          "value": [SPEED]}],
            "time": _time((stretch - 1.0) * WIDTH / SPEED, dt),
            "output": {"frames": frames, "progress": False}}


def punch_case(model: str | Path, dt: float | str, depth: float, divisions=(16, 8), frames: int = 4) -> dict:
    """The punched block for a model file and a step ``dt`` [s] (or ``"auto"``), the punch driven ``depth`` [mm]."""
    mid = 0.5 * BLOCK[0]
    return {"units": _units(),
            "mesh": {"generate": "rectangle", "size": list(BLOCK), "divisions": list(divisions)},
            "material": {"model": str(model), "density": DENSITY},
            "boundary": [{"name": "base", "type": "fixed", "nodes": {"group": "bottom"}},
                         {"name": "punch", "type": "velocity",
                          "nodes": {"group": "top", "x": [mid - PUNCH / 2, mid + PUNCH / 2]},
                          "value": [0.0, -PUNCH_SPEED]}],
            "time": _time(depth / PUNCH_SPEED, dt),
            "output": {"frames": frames, "progress": False}}


def fit_laws(seeds: int, epochs: int) -> list[tuple[str, int | None, Any]]:
    """``(kind, seed, FitResult)``: the certified law, then one unconstrained law per seed ``0 .. seeds-1``."""
    import snsurrogate

    curves = [snsurrogate.read_test(datasets.path(f), m, stretch=["stretch"], stress=["nominal_stress_MPa"])
              for m, f in FILES.items()]
    laws: list[tuple[str, int | None, Any]] = [("sn", None, snsurrogate.fit_tests(curves))]
    for seed in range(seeds):
        opts = snsurrogate.HyperelasticOptions(unconstrained=True, seed=seed, epochs=epochs)
        laws.append(("unconstrained", seed, snsurrogate.fit_tests(curves, opts)))
    return laws


def compare(out: str | Path, seeds: int = 2, stretch: float = 3.0, epochs: int = 3000, depth: float = 5.0
            ) -> list[dict]:
    """Fit and run everything (module docstring) into ``out``; one record per run: ``case``, ``kind``, ``seed``,
    ``r2`` per mode, ``bound`` [MPa], ``smallest_w2`` [MPa], ``step``, ``stable``, ``steps``, ``dt_min``/``dt_max``
    [s], ``energy_drift``, ``wall_seconds`` [s], ``unstable_at``, ``out``. Files: ``<law>.pt`` and
    ``<law>_<case>_<step>/``."""
    import snsurrogate

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cases = {"plate": lambda m, dt: plate_case(m, dt, stretch), "punch": lambda m, dt: punch_case(m, dt, depth)}
    rows = []
    for kind, seed, fit in fit_laws(seeds, epochs):
        tag = kind if seed is None else f"{kind}_seed{seed}"
        fit.law.save(out / f"{tag}.pt")
        record = {"kind": kind, "seed": seed, "r2": {m: v.r2 for m, v in fit.modes.items()},
                  "bound": fit.law.lipschitz_bound, "smallest_w2": fit.law.summary["smallest_w2"],
                  "fit_seconds": fit.seconds}
        for case, build in cases.items():
            first = None
            for step in ("certified", "nominal"):
                dt = "auto" if first is None else NOMINAL * first["dt_certified"]
                t0 = time.perf_counter()
                name = f"{tag}_{case}_{step}"
                s = dict(snsurrogate.simulate(build(out / f"{tag}.pt", dt), out / name).summary)
                first = first or s
                rows.append({"case": case, **record, "step": step, "stable": s["stable"], "steps": s["steps"],
                             "dt_min": s.get("dt_min", s["dt"]), "dt_max": s.get("dt_max", s["dt"]),
                             "energy_drift": s["energy_drift"], "wall_seconds": time.perf_counter() - t0,
                             "unstable_at": s.get("unstable_at"), "out": name,
                             "stopped_by": (s.get("unstable_at") or {}).get("cause") if not s["stable"] else None})
    return rows


def describe(stretch: float, depth: float) -> str:
    """The cases in words (``summary["finite_strain"]["description"]``)."""
    return DESCRIPTION.format(cases="; ".join(f"{k}: " + v.format(stretch=stretch, depth=depth)
                                              for k, v in CASES.items()))


def _g(x, fmt=".3g") -> str:
    return "n/a" if x is None else format(x, fmt)


def finite_section(block: dict[str, Any] | None) -> list[str]:
    """The ``report.md`` section of the finite-strain comparison (``summary["finite_strain"]``)."""
    if not block:
        return []
    out = ["## Finite strain: SN against unconstrained", "",
           f"Case: {block['description']}. Each law at `dt = \"auto\"` (the step recomputed at every state from its "
           f"certified state bound a(F), safety {SAFETY}) and at a *nominal* step ({NOMINAL} x the certified step "
           "of the undeformed mesh, held constant). The unconstrained law certifies only |w''| <= L/λ.", "",
           "| case | law | R² UT / ET / PS | smallest w'' [MPa] | step | stable | steps | dt [s] | energy drift |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in block["runs"]:
        name = "SN" if r["seed"] is None else f"unconstrained, seed {r['seed']}"
        where = "" if r["stable"] else f" (t = {_g((r['unstable_at'] or {}).get('time'))} s)"
        r2 = " / ".join(f"{v:.4f}" for v in r["r2"].values())
        out.append(f"| {r['case']} | {name} | {r2} | {_g(r['smallest_w2'], '.3g')} "
                   f"| {r['step']} | {'yes' if r['stable'] else 'NO' + where} | {r['steps']} | "
                   f"{_g(r['dt_max'])} .. {_g(r['dt_min'])} | {_g(r['energy_drift'])} |")
    return out + ["", "The nominal step is the small-strain step of the undeformed rubber; it becomes unsafe as the "
                  "rubber stiffens. The certified step follows the state.", ""]


__all__ = ["CASES", "NOMINAL", "compare", "describe", "finite_section", "fit_laws", "plate_case", "punch_case"]
