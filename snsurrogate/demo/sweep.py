"""The network-size sweep of the demo: what the certified bound, and so the time step, costs as the
network grows (:func:`sweep_point`, :func:`sweep_ratios`).

For every depth (hidden layers) and width of :class:`~snsurrogate.demo.settings.Settings`, an SN and an
unconstrained MLP are fitted to the 1-D cubic data with the same seed, data and (longer) training
budget. Their certified bounds differ in kind:

- SN: the bound is designed. Every layer's spectral norm is held at its gain and the product of the
  gains is the target ``L`` set from the data before training, so ``L`` does not grow with the network;
- unconstrained: the bound is the product of the exact spectral norms of the free layers
  ``L = (s_sigma / s_eps) prod_i ||W_i||_2``, a valid certificate too, which training never asked to
  keep small; it grows with depth and width while the network's real steepness (the largest tangent
  found) stays near the data's slope.

Each bound is turned into the certified step on the mesh of the 1-D bar cases
(:func:`snsurrogate.simulation.choose_time_step`, 0.9 safety) and the number of steps it takes to run
the bar impact (``BAR_END`` [s]): the step scales as ``1 / sqrt(L)``, so the unconstrained network
pays ``sqrt(L_unconstrained / L_SN)`` times the steps.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from ..data import read_curves
from ..material import as_material
from ..simulation import n_steps
from .runs import fit_models, model_record, time_steps
from .scenarios import BAR_END, SCENARIOS
from .settings import MATERIALS, Settings

#: The 1-D material and the case whose mesh sizes the steps.
MATERIAL, SCENARIO = "cubic", "bar_tension"


def sweep_architectures(settings: Settings) -> list[tuple[int, int]]:
    """``(depth, width)`` pairs of the sweep, in order."""
    return [(d, w) for d in settings.sweep_depths for w in settings.sweep_widths]


def sweep_point(depth: int, width: int, settings: Settings, out: str | Path) -> list[dict[str, Any]]:
    """Fit the SN and the unconstrained network with ``depth`` hidden layers of ``width`` units (seed 0,
    ``sweep_epochs`` Adam epochs) and return one record per kind: fit quality, bound [MPa], largest
    tangent found [MPa], certified step on the bar mesh [s] and the steps to ``BAR_END``.

    Models go to ``out/models/sweep/<depth>x<width>_<kind>.pt``.
    """
    mat = MATERIALS[MATERIAL]
    data = read_curves(mat.path, **mat.read)
    t0 = time.perf_counter()
    fitted = fit_models(data, 0, settings.with_(hidden=(width,) * depth, epochs=settings.sweep_epochs))
    records = []
    for kind, model in fitted.items():
        path = Path(out) / "models" / "sweep" / f"{depth}x{width}_{kind}.pt"
        path.parent.mkdir(parents=True, exist_ok=True)
        model.save(path)
        law = as_material(model, mat.density)
        section = {"model": str(path.resolve()), "density": mat.density}
        steps = time_steps(SCENARIOS[SCENARIO], section, settings, law)
        rec = model_record(mat, kind, model, path.relative_to(out), law)
        rec.update({"depth": depth, "width": width, "parameters": sum(p.numel() for p in model.network.parameters()),
                    "dt_certified": steps["dt_certified"], "dt": steps["certified"],
                    "steps": n_steps(BAR_END, steps["certified"])})
        records.append(rec)
    for rec in records:
        rec["pair_seconds"] = time.perf_counter() - t0
    return records


def sweep_ratios(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per architecture: unconstrained over SN bound, steps and R² (one row per ``(depth, width)``)."""
    rows = []
    for depth, width in dict.fromkeys((r["depth"], r["width"]) for r in records):
        by = {r["kind"]: r for r in records if (r["depth"], r["width"]) == (depth, width)}
        sn, unc = by["sn"], by["unconstrained"]
        rows.append({"depth": depth, "width": width, "parameters": sn["parameters"],
                     "sn_r2": sn["r2"], "unconstrained_r2": unc["r2"],
                     "sn_bound": sn["lipschitz_bound"], "unconstrained_bound": unc["lipschitz_bound"],
                     "sn_largest_tangent": sn["largest_tangent"],
                     "unconstrained_largest_tangent": unc["largest_tangent"],
                     "bound_ratio": unc["lipschitz_bound"] / sn["lipschitz_bound"],
                     "sn_steps": sn["steps"], "unconstrained_steps": unc["steps"],
                     "steps_ratio": unc["steps"] / sn["steps"],
                     "sqrt_bound_ratio": math.sqrt(unc["lipschitz_bound"] / sn["lipschitz_bound"])})
    return rows
