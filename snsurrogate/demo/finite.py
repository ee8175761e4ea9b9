"""The finite-strain part of the demo: Treloar's three test modes fitted as the certified law (SN) and as its
unconstrained counterpart, and a rubber plate with a hole pulled to large stretch with each (:func:`compare`).

The certified law is the convex ridge network of :func:`snsurrogate.fit_tests` (non-negative least squares:
deterministic, one fit); the unconstrained one a free 32x32x32 tanh MLP of ``ln λ`` by Adam, one per seed
(:mod:`snsurrogate.hyperelastic.unconstrained`; it certifies only ``|w''| <= L/λ``, the product of its layer norms).
Each runs the plate (a quarter of a 20 mm square with a 4 mm hole, plane strain, total Lagrangian quad4, far edge
pulled at 10 m/s to ``stretch``) twice:

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
WIDTH, RADIUS, SPEED = 10.0, 2.0, 1.0e4  # mm, mm, mm/s
DENSITY = 1.1e-9  # t/mm^3
FILES = {"uniaxial": "treloar1944_uniaxial_tension.csv", "equibiaxial": "treloar1944_equibiaxial_tension.csv",
         "pure_shear": "treloar1944_pure_shear.csv"}
DESCRIPTION = ("quarter of a 20 mm square natural-rubber plate with a 4 mm hole (plane strain, total Lagrangian "
               "quad4), far edge pulled at 10 m/s to a stretch of {stretch:g}; Treloar's law fitted to three modes")


def plate_case(model: str | Path, dt: float | str, stretch: float, divisions=(8, 4), frames: int = 4) -> dict:
    """The plate case for a model file and a step ``dt`` [s] (or ``"auto"``), pulled to ``stretch``."""
    return {"units": {"length": "mm", "time": "s", "mass": "t", "stress": "MPa"},
            "mesh": {"generate": "plate_with_hole", "width": WIDTH, "radius": RADIUS, "divisions": list(divisions)},
            "material": {"model": str(model), "density": DENSITY},
            "boundary": [{"name": "symmetry x", "type": "fixed", "nodes": {"group": "left"}, "components": ["x"]},
                         {"name": "symmetry y", "type": "fixed", "nodes": {"group": "bottom"}, "components": ["y"]},
                         {"name": "pull", "type": "velocity", "nodes": {"group": "right"}, "components": ["x"],
                          "value": [SPEED]}],
            "time": {"end": (stretch - 1.0) * WIDTH / SPEED, "dt": dt, "safety": SAFETY,
                     "allow_unsafe_dt": dt != "auto"},
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


def compare(out: str | Path, seeds: int = 2, stretch: float = 3.0, epochs: int = 3000) -> list[dict]:
    """Fit and run everything (module docstring) into ``out``; one record per run: ``kind``, ``seed``, ``r2`` per
    mode, ``bound`` [MPa], ``smallest_w2`` [MPa], ``step``, ``stable``, ``steps``, ``dt_min``/``dt_max`` [s],
    ``energy_drift``, ``wall_seconds`` [s], ``unstable_at``, ``out``. Files: ``<law>.pt`` and ``<law>_<step>/``."""
    import snsurrogate

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for kind, seed, fit in fit_laws(seeds, epochs):
        tag = kind if seed is None else f"{kind}_seed{seed}"
        fit.law.save(out / f"{tag}.pt")
        record = {"kind": kind, "seed": seed, "r2": {m: v.r2 for m, v in fit.modes.items()},
                  "bound": fit.law.lipschitz_bound, "smallest_w2": fit.law.summary["smallest_w2"],
                  "fit_seconds": fit.seconds}
        first = None
        for step in ("certified", "nominal"):
            dt = "auto" if first is None else NOMINAL * first["dt_certified"]
            t0 = time.perf_counter()
            s = dict(snsurrogate.simulate(plate_case(out / f"{tag}.pt", dt, stretch), out / f"{tag}_{step}").summary)
            first = first or s
            rows.append({**record, "step": step, "stable": s["stable"], "steps": s["steps"],
                         "dt_min": s.get("dt_min", s["dt"]), "dt_max": s.get("dt_max", s["dt"]),
                         "energy_drift": s["energy_drift"], "wall_seconds": time.perf_counter() - t0,
                         "unstable_at": s.get("unstable_at"), "out": f"{tag}_{step}"})
    return rows


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
           "| law | R² UT / ET / PS | smallest w'' [MPa] | step | stable | steps | dt [s] | energy drift |",
           "|---|---|---|---|---|---|---|---|"]
    for r in block["runs"]:
        name = "SN" if r["seed"] is None else f"unconstrained, seed {r['seed']}"
        where = "" if r["stable"] else f" (t = {_g((r['unstable_at'] or {}).get('time'))} s)"
        out.append(f"| {name} | {' / '.join(f'{v:.4f}' for v in r['r2'].values())} | {_g(r['smallest_w2'], '.3g')} "
                   f"| {r['step']} | {'yes' if r['stable'] else 'NO' + where} | {r['steps']} | "
                   f"{_g(r['dt_max'])} .. {_g(r['dt_min'])} | {_g(r['energy_drift'])} |")
    return out + ["", "The nominal step is the small-strain step of the undeformed rubber; it becomes unsafe as the "
                  "rubber stiffens. The certified step follows the state.", ""]


__all__ = ["DESCRIPTION", "NOMINAL", "compare", "finite_section", "fit_laws", "plate_case"]
