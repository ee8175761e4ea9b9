"""One seed of the demo: fit the SN and the unconstrained model of every material, run every case at
the nominal and the certified step, and return the measured numbers (:func:`run_seed`).

The two time steps of a model on a mesh, both from the same certified formula
(:func:`snsurrogate.simulation.choose_time_step`: ``0.9 x`` the larger of the element and nodal
bounds, each proportional to ``1 / sqrt(stiffness)``):

- ``certified``: with the model's certified Lipschitz bound ``L`` [MPa]: ``dt_certified``;
- ``nominal``: with the model's initial stiffness ``E_0 = ||C_t(0)||_2`` [MPa] (the tangent at zero
  strain) in place of ``L``, the step an engineer would take from the nominal modulus:
  ``dt_nominal = dt_certified x sqrt(L / E_0)``;
- ``auto`` (long runs only): what ``dt = "auto"`` takes by default,
  :func:`fem.stability.default_safety` ``x`` the certified step (the nonlinear safety factor of the
  study ``docs/nonlinear-stability.md`` for every law here).

A long run takes ``Settings.long_steps`` steps at each of its steps (so the three cover different times).

Runs above the certified step are made with ``allow_unsafe_dt = true`` and recorded as such.
"""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..case import load_case
from ..case.build import build
from ..data import read_curves
from ..model import SurrogateModel
from ..simulation import choose_time_step, n_steps, simulate
from ..training import fit
from .scenarios import SCENARIOS, Scenario
from .settings import KINDS, LONG_STEPS, MATERIALS, STEPS, Material, Settings

SAFETY = 0.9


def strain_norm(strain: np.ndarray) -> np.ndarray:
    """Size of engineering Voigt strains ``(n, d)``: ``|eps|`` (d = 1) or the tensor norm ``sqrt(eps:eps)``
    with the shear counted twice (d = 3: ``sqrt(exx^2 + eyy^2 + gxy^2 / 2)``; d = 6 likewise) [-]."""
    s = np.asarray(strain, dtype=np.float64)
    d = s.shape[-1]
    if d == 1:
        return np.abs(s[..., 0])
    normal = 2 if d == 3 else 3
    return np.sqrt((s[..., :normal] ** 2).sum(-1) + 0.5 * (s[..., normal:] ** 2).sum(-1))


def energy_growth(history: dict[str, np.ndarray]) -> float:
    """Largest stored energy over the energy put in, ``max(W_kin + |W_int|) / max |W_ext|`` [-].

    At most about 1 for a stable run (energy is exchanged, never created); it reaches the solver's
    runaway threshold (1000) when a run blows up. ``inf`` when the energies became non-finite.
    """
    stored = np.abs(history["kinetic"]) + np.abs(history["internal"])
    put_in = np.abs(history["external"]) + abs(float(history["kinetic"][0]))
    if not (np.isfinite(stored).all() and np.isfinite(put_in).all()):
        return math.inf
    return float(stored.max() / max(put_in.max(), np.finfo(float).tiny))


def fit_models(data, seed: int, settings: Settings) -> dict[str, SurrogateModel]:
    """The SN and the unconstrained model of a :class:`~snsurrogate.data.Dataset`: same data,
    architecture, seed and budget."""
    return {kind: fit(data, unconstrained=kind == "unconstrained", hidden=settings.hidden,
                      activation=settings.activation, epochs=settings.epochs, polish_epochs=settings.polish_epochs,
                      seed=seed, device="cpu")
            for kind in KINDS}


def nominal_stiffness(material_law) -> float:
    """``E_0 = ||C_t(0)||_2`` [stress]: the spectral norm of the tangent at zero strain."""
    zero = torch.zeros(1, material_law.n_voigt, dtype=torch.float64)
    return float(torch.linalg.matrix_norm(material_law.tangent(zero)[0], ord=2))


def largest_tangent(material_law, strains: np.ndarray) -> float:
    """Largest ``||C_t||_2`` [stress] over the finite rows of ``strains`` ``(n, n_voigt)``."""
    s = np.asarray(strains, dtype=np.float64).reshape(-1, material_law.n_voigt)
    s = s[np.isfinite(s).all(axis=1)]
    if not len(s):
        return math.nan
    t = material_law.tangent(torch.as_tensor(s, dtype=torch.float64))
    return float(torch.linalg.matrix_norm(t, ord=2).max())


def model_record(material: Material, kind: str, model: SurrogateModel, path: Path, law) -> dict[str, Any]:
    """Fit quality and stiffness numbers of one fitted model."""
    s = model.summary
    return {
        "material": material.key, "kind": kind, "file": str(path),
        "rmse": s["rmse"], "r2": s["r2"], "lipschitz_bound": s["lipschitz_bound"],
        "largest_tangent": s["lipschitz_empirical"], "largest_tangent_at": s.get("lipschitz_empirical_at"),
        "nominal_stiffness": nominal_stiffness(law), "steepest_data_slope": s.get("steepest_data_slope"),
        "tightness": s["tightness"], "fit_seconds": s["seconds"], "epochs_run": s["epochs_run"],
        "stop_reason": s["stop_reason"],
    }


def time_steps(scenario: Scenario, section: dict, settings: Settings, law) -> dict[str, float]:
    """``certified``, ``nominal`` and ``auto`` steps [s] of a law on the scenario's mesh, and the bound used."""
    case = load_case(scenario.case(section, "auto", settings, end=1.0))  # any end: only the step is sized
    solver = build(case).solver
    step = choose_time_step(solver, case.time.model_copy(update={"dt": "auto", "safety": SAFETY}))
    auto = choose_time_step(solver, case.time.model_copy(update={"dt": "auto", "safety": "auto"}))
    certified, bound, e0 = step.dt, step.report.lipschitz_bound, nominal_stiffness(law)
    return {"certified": certified, "nominal": certified * math.sqrt(bound / e0), "auto": auto.dt,
            "dt_certified": step.dt_certified, "lipschitz_bound": bound, "nominal_stiffness": e0}


def run_case(scenario: Scenario, section: dict, kind: str, step: str, steps: dict, settings: Settings,
             out: Path, law, data_strain: float, keep: bool) -> dict[str, Any]:
    """Run one case and return its record (and, with ``keep``, its energy history and snapshots)."""
    dt = steps[step]
    end = settings.long_steps * dt if scenario.long else None
    res = simulate(scenario.case(section, dt, settings, end=end), out, progress=False, keep_frames=True)
    s = res.summary
    strains = [e for _, e, _ in res.snapshots]
    finite = [e for e in strains if np.isfinite(e).all()]
    size = max((float(strain_norm(e).max()) for e in finite), default=math.nan)
    rec = {
        "scenario": scenario.key, "material": scenario.material, "kind": kind, "step": step,
        "dt": dt, "dt_certified": steps["dt_certified"], "dt_over_certified": dt / steps["dt_certified"],
        "stable": s["stable"], "steps": s["steps"], "steps_planned": n_steps(s["end"], dt),
        "energy_error": s["energy_error"], "energy_growth": energy_growth(res.history),
        "energy_drift": s["energy_drift"], "energy_monitor": s["energy_monitor"], "long": scenario.long,
        "wall_seconds": s["wall_seconds"],
        "blowup_time": s["unstable_at"]["time"] if not s["stable"] else None,
        "stopped_by": s["unstable_at"].get("cause", "blow-up") if not s["stable"] else None,
        "max_strain": size, "data_strain": data_strain,
        "largest_tangent_in_run": largest_tangent(law, np.concatenate(finite)) if finite else math.nan,
        "out": str(out),
    }
    if keep:
        h = res.history
        rec["history"] = {k: np.asarray(h[k]) for k in ("time", "kinetic", "internal", "external")}
        rec["snapshots"] = [(t, e, sg) for t, e, sg in res.snapshots]
    return rec


def run_seed(seed: int, settings: Settings, out: str | Path, keep: bool = False) -> dict[str, Any]:
    """Fit and run everything for one seed; ``keep`` also returns histories, snapshots and curves for plots.

    Files: ``out/models/seed<k>/<material>_<kind>.pt`` and ``out/runs/seed<k>/<scenario>/<kind>_<step>/``.
    """
    from fem.materials import HardeningCubic

    from ..material import as_material

    out = Path(out)
    t0 = time.perf_counter()
    models, runs, curves, notes = [], [], {}, []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for mat in MATERIALS.values():
            data = read_curves(mat.path, **mat.read)
            fitted = fit_models(data, seed, settings)
            data_strain = float(strain_norm(data.strain).max())
            laws, tables = {}, {}
            for kind, model in fitted.items():
                path = out / "models" / f"seed{seed}" / f"{mat.key}_{kind}.pt"
                path.parent.mkdir(parents=True, exist_ok=True)
                model.save(path)
                laws[kind] = as_material(model, mat.density)
                tables[kind] = {"model": str(path.resolve()), "density": mat.density}
                models.append({"seed": seed, **model_record(mat, kind, model, path.relative_to(out), laws[kind])})
            if keep:
                curves[mat.key] = _curves(mat, data, fitted)
            if mat.exact is not None and keep:  # the exact law, as a reference (seed-independent)
                E, eps_h = mat.exact
                eps_max = 1.2 * data_strain  # certificate of the analytic law holds up to this strain
                laws["exact"] = HardeningCubic(E, eps_h, eps_max, density=mat.density)
                tables["exact"] = {"type": "cubic", "E": E, "eps_h": eps_h, "eps_max": eps_max,
                                     "density": mat.density}
            for sc in (s for s in SCENARIOS.values() if s.material == mat.key):
                for kind, section in tables.items():
                    steps = time_steps(sc, section, settings, laws[kind])
                    for step in LONG_STEPS if sc.long else STEPS:
                        where = out / "runs" / f"seed{seed}" / sc.key / f"{kind}_{step}"
                        rec = run_case(sc, section, kind, step, steps, settings, where, laws[kind], data_strain, keep)
                        rec["out"] = str(where.relative_to(out))
                        runs.append({"seed": seed, **rec})
    for w in caught:
        text = f"seed {seed}: {w.category.__name__}: {w.message}"
        if text not in notes:
            notes.append(text)
    return {"seed": seed, "models": models, "runs": runs, "curves": curves, "warnings": notes,
            "seconds": time.perf_counter() - t0}


def _curves(mat: Material, data, fitted: dict[str, SurrogateModel]) -> dict[str, Any]:
    """Stress and tangent of each model along a strain path through and 50 % beyond the data, for plots."""
    strain = np.asarray(data.strain, dtype=np.float64)
    d = strain.shape[1]
    if d == 1:
        lo, hi = float(strain.min()), float(strain.max())
        pad = 0.5 * (hi - lo)
        grid = np.linspace(lo - pad if lo < 0 else lo - 0.1 * (hi - lo), hi + pad, 801)[:, None]
        label = "strain"
    else:  # uniaxial strain along x, through and beyond the data's radius
        r = float(strain_norm(strain).max())
        grid = np.zeros((801, d))
        grid[:, 0] = np.linspace(-1.5 * r, 1.5 * r, 801)
        label = "strain exx (uniaxial strain path)"
    out = {"strain": grid[:, 0], "label": label, "data_strain": strain[:, 0] if d == 1 else None,
           "data_stress": np.asarray(data.stress)[:, 0] if d == 1 else None, "data_range": None}
    if d == 1:
        out["data_range"] = (float(strain.min()), float(strain.max()))
    else:
        r = float(strain_norm(strain).max())
        out["data_range"] = (-r, r)
    for kind, model in fitted.items():
        x = torch.as_tensor(grid, dtype=model.dtype)
        with torch.no_grad():
            sig = model(x)[:, 0].double().numpy()
        tan = torch.linalg.matrix_norm(model.tangent(x).double(), ord=2).numpy()
        out[kind] = {"stress": sig, "tangent": tan, "lipschitz_bound": model.lipschitz_bound}
    return out
