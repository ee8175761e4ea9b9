"""The demo's numbers: aggregation over seeds (:func:`summarize`) and the outputs ``summary.json``
and ``report.md`` (:func:`write_outputs`). Every number comes from the runs; the explanation in the
report is chosen by what was measured, never written in advance.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from fem.atomic import write_text

from ..version import __version__
from .finite import describe, finite_section
from .scenarios import SCENARIOS
from .settings import KIND_NAMES, KINDS, LONG_STEPS, MATERIALS, UNITS, Settings
from .sweep import MATERIAL as SWEEP_MATERIAL
from .sweep import SCENARIO as SWEEP_SCENARIO
from .sweep import sweep_ratios

UNIAXIAL = [k for k, m in MATERIALS.items() if len(m.read.get("stress", ())) == 1]
SPIKE = 1.25  # largest tangent above 1.25 x the steepest smoothed data slope: a tangent spike
FLAT = 0.75  # below 0.75 x: the fit misses the stiffest part of the data
DRIFT_WARN = 0.01  # the solver's energy_warn: a true-energy drift above 1 % is reported
LAW_NAMES = {**KIND_NAMES, "exact": "exact law (reference)"}
RECORD_UNITS = {
    "rmse": "MPa", "lipschitz_bound": "MPa per unit strain", "largest_tangent": "MPa per unit strain",
    "nominal_stiffness": "MPa per unit strain", "steepest_data_slope": "MPa per unit strain", "r2": "-",
    "tightness": "- (lipschitz_bound / largest_tangent)", "fit_seconds": "s", "dt": "s", "dt_certified": "s",
    "dt_over_certified": "-", "blowup_time": "s", "energy_error": "-",
    "energy_growth": "- (largest stored energy / energy put in)", "wall_seconds": "s", "max_strain": "-",
    "data_strain": "-", "largest_tangent_in_run": "MPa per unit strain",
    "energy_drift": "- (largest |true energy - initial| / reference energy; see energy_monitor)",
    "parameters": "-", "steps": "-",
}


def _clean(x):
    """JSON-ready: numpy scalars to floats, non-finite numbers to ``None``."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


def _stats(values) -> dict[str, float] | None:
    v = np.array([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    if not v.size:
        return None
    return {"median": float(np.median(v)), "min": float(v.min()), "max": float(v.max())}


def _long_claim(runs: list[dict], step: str) -> dict[str, Any]:
    """SN long runs at ``step``: how many, how many stable within 1 % true-energy drift, the largest drift."""
    rows = [r for r in runs if r["kind"] == "sn" and r["step"] == step and r["long"]]
    return {"runs": len(rows), "clean": sum(r["stable"] and (r["energy_drift"] or 0.0) <= DRIFT_WARN for r in rows),
            "largest_drift": max((r["energy_drift"] for r in rows if r["energy_drift"] is not None), default=None)}


def _claim(runs: list[dict], finite: list[dict], settings: Settings) -> dict[str, Any]:
    """``summary["claim"]``: no SN run blew up at its certified step (drift stops counted apart), with counts."""
    sn_cert = [r for r in runs + finite if r["kind"] == "sn" and r["step"] == "certified"]
    drift_stops = [r for r in sn_cert if not r["stable"] and r.get("stopped_by") == "energy_drift"]
    blowups = [r for r in sn_cert if not r["stable"] and r.get("stopped_by") != "energy_drift"]
    holds = not blowups  # what the certificate proves: the linearised system never grows
    unc_cert = [r for r in runs + finite if r["kind"] == "unconstrained" and r["step"] == "certified"]
    n_ok = sum(r["stable"] for r in sn_cert)
    claim = {
        "holds": holds, "sn_long_runs": {step: _long_claim(runs, step) for step in ("certified", "auto")},
        "sn_certified_stable": n_ok, "sn_certified_runs": len(sn_cert),
        "sn_certified_blowups": len(blowups), "sn_certified_drift_stops": len(drift_stops),
        "unconstrained_certified_stable": sum(r["stable"] for r in unc_cert),
        "unconstrained_certified_runs": len(unc_cert),
        "statement": (f"SN model at its certified step: {len(blowups)} blow-ups in {len(sn_cert)} runs over "
                      f"{settings.seeds} seeds" + (" and the finite-strain plate and punch" if finite else "")
                      + f"; {n_ok} ran to the end"
                      + (f", {len(drift_stops)} were stopped by the true-energy monitor (drift above 10 %, energy "
                         "bounded: the certificate covers the linearised system, not the nonlinear drift)"
                         if drift_stops else "")),
    }
    return claim


def summarize(results: list[dict], sweep: list[dict], settings: Settings, seconds: float,
              finite: list[dict] | None = None) -> dict[str, Any]:
    """Aggregate the per-seed results of :func:`snsurrogate.demo.runs.run_seed`, the records of the
    network-size sweep (:func:`snsurrogate.demo.sweep.sweep_point`) and of the finite-strain comparison
    (:func:`snsurrogate.demo.finite.compare`)."""
    models = [m for r in results for m in r["models"]]
    runs = [{k: v for k, v in run.items() if k not in ("history", "snapshots")} for r in results for run in r["runs"]]
    model_table = []
    for mat in MATERIALS:
        for kind in KINDS:
            rows = [m for m in models if m["material"] == mat and m["kind"] == kind]
            model_table.append({"material": mat, "kind": kind, "n": len(rows), **{
                key: _stats(m[key] for m in rows) for key in
                ("rmse", "r2", "lipschitz_bound", "largest_tangent", "nominal_stiffness", "tightness", "fit_seconds")}})
    ratios = {}
    for mat in MATERIALS:
        by_seed = {(m["seed"], m["kind"]): m for m in models if m["material"] == mat}
        seeds = sorted({s for s, _ in by_seed})
        ratios[mat] = {
            "bound": _stats(by_seed[s, "unconstrained"]["lipschitz_bound"] / by_seed[s, "sn"]["lipschitz_bound"]
                            for s in seeds),
            "bound_below_sn": sum(by_seed[s, "unconstrained"]["lipschitz_bound"] < by_seed[s, "sn"]["lipschitz_bound"]
                                  for s in seeds),
            "largest_tangent": _stats(by_seed[s, "unconstrained"]["largest_tangent"] /
                                      by_seed[s, "sn"]["largest_tangent"] for s in seeds),
            "rmse": _stats(by_seed[s, "unconstrained"]["rmse"] / by_seed[s, "sn"]["rmse"] for s in seeds),
        }
        for kind in KINDS:  # largest tangent against the steepest smoothed slope of the data
            rel = [by_seed[s, kind]["largest_tangent"] / by_seed[s, kind]["steepest_data_slope"] for s in seeds]
            ratios[mat][f"{kind}_over_data_slope"] = _stats(rel)
            ratios[mat][f"{kind}_spikes"] = sum(r > SPIKE for r in rel)
            ratios[mat][f"{kind}_flat"] = sum(r < FLAT for r in rel)
    rates = []
    for sc in SCENARIOS:
        for kind in (*KINDS, "exact"):
            for step in LONG_STEPS:
                rows = [r for r in runs if r["scenario"] == sc and r["kind"] == kind and r["step"] == step]
                if not rows:
                    continue
                stable = sum(r["stable"] for r in rows)
                rates.append({"scenario": sc, "kind": kind, "step": step, "stable": stable, "n": len(rows),
                              **{k: _stats(r[k] for r in rows) for k in
                                 ("dt", "dt_over_certified", "steps", "energy_growth", "energy_error", "wall_seconds",
                                  "max_strain", "largest_tangent_in_run", "energy_drift")},
                              "drift_above_1_percent": sum((r["energy_drift"] or 0.0) > DRIFT_WARN or not r["stable"]
                                                           for r in rows),
                              "energy_monitor": rows[0]["energy_monitor"], "long": SCENARIOS[sc].long,
                              "blowup_time": _stats(r["blowup_time"] for r in rows if not r["stable"])})
    steps_ratio = {}
    for sc in SCENARIOS:
        pick = {(r["seed"], r["kind"]): r["steps"] for r in runs
                if r["scenario"] == sc and r["step"] == "certified" and r["kind"] != "exact"}
        seeds = sorted({s for s, _ in pick})
        steps_ratio[sc] = _stats(pick[s, "unconstrained"] / pick[s, "sn"] for s in seeds)
    finite = finite or []
    claim = _claim(runs, finite, settings)
    return _clean({
        "title": "snsurrogate demo: spectrally normalized against unconstrained material laws",
        "package_version": __version__, "settings": asdict(settings), "seeds": settings.seeds,
        "unit_system": UNITS, "units": RECORD_UNITS,
        "materials": {k: {"title": m.title, "file": f"data/{m.file}", "density": m.density,
                          "density_unit": "t/mm^3"} for k, m in MATERIALS.items()},
        "scenarios": {k: {"title": s.title, "material": s.material, "description": s.description}
                      for k, s in SCENARIOS.items()},
        "claim": claim, "model_table": model_table, "ratios": ratios, "steps_ratio_certified": steps_ratio,
        "rates": rates, "models": models, "runs": runs, "finite_strain": _finite_block(finite, settings),
        "sweep": {"records": sweep, "rows": sweep_ratios(sweep) if sweep else [],
                  "material": SWEEP_MATERIAL, "scenario": SWEEP_SCENARIO, "epochs": settings.sweep_epochs},
        "warnings": [w for r in results for w in r["warnings"]],
        "seed_seconds": [r["seconds"] for r in results], "wall_seconds": seconds,
    })


def _finite_block(finite: list[dict], settings: Settings) -> dict[str, Any] | None:
    """``summary["finite_strain"]``: the case, its stretch and the runs of :func:`snsurrogate.demo.finite.compare`."""
    if not finite:
        return None
    return {"description": describe(settings.finite_stretch, settings.finite_depth),
            "stretch": settings.finite_stretch, "depth": settings.finite_depth, "depth_unit": "mm", "runs": finite}


# ---------------------------------------------------------------------------------------------- report.md
def _g(x, fmt=".3g") -> str:
    return "n/a" if x is None else format(x, fmt)


def _range(st, fmt=".3g") -> str:
    if st is None:
        return "n/a"
    if math.isclose(st["min"], st["max"], rel_tol=1e-9):
        return _g(st["median"], fmt)
    return f"{_g(st['median'], fmt)} [{_g(st['min'], fmt)}, {_g(st['max'], fmt)}]"


def _table(header, rows) -> list[str]:
    """A Markdown table: the header row, the rule, one line per row of cells."""
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + \
        ["| " + " | ".join(map(str, row)) + " |" for row in rows]


def _rate(r) -> str:
    return f"{r['stable']}/{r['n']}"


def report_markdown(s: dict[str, Any]) -> str:
    """The text of ``report.md``."""
    st = s["settings"]
    hidden = "x".join(str(h) for h in st["hidden"])
    cmd = "snsurrogate demo --out DIR" + (" --quick" if st["quick"] else "") + f" --seeds {s['seeds']}"
    wall = s.get("wall_seconds_total") or s["wall_seconds"]
    lines = [f"# {s['title']}", "",
             f"Reproduce: `{cmd}` (snsurrogate {s['package_version']}; {wall:.0f} s wall, {st['workers']} worker "
             "process(es)).", "",
             f"Each seed fits, for each material, a spectrally normalized (SN) and an unconstrained network with the "
             f"same data, architecture ({st['activation']} {hidden}), seed and training budget ({st['epochs']} Adam "
             f"+ {st['polish_epochs']} L-BFGS epochs, early stopping on a 15 % validation split), then runs every "
             "case with each law at two time steps, both from the same certified formula (0.9 x the larger of "
             "the element and nodal bounds, which scale as 1/sqrt(stiffness)):", "",
             "- **nominal**: with the law's initial stiffness E0 = ||C_t(0)||_2, the step an engineer would take "
             "from the nominal modulus;",
             "- **certified**: with the law's certified bound L, the step `snsurrogate simulate` takes "
             "(`dt = \"auto\"`). For the unconstrained network L is the product of its exact layer norms, "
             "a valid certificate too, just not one it was trained to keep small.", "",
             "Units: mm, s, t, MPa (force N, energy mJ). Medians over seeds, with [min, max].", "",
             "## Result", "", f"**{s['claim']['statement']}**"
             + ("." if s["claim"]["holds"] else ": THE CLAIM FAILED, see the table below."),
             f"The unconstrained model was stable at its own certified step in "
             f"{s['claim']['unconstrained_certified_stable']}/{s['claim']['unconstrained_certified_runs']} runs.", ""]
    lines += _table(("case", "law", "step", "stable", "dt [s]", "dt / dt_certified", "steps", "stored / input energy",
                     "blow-up time [s]", "wall [s]"),
                    [(SCENARIOS[r["scenario"]].title, LAW_NAMES[r["kind"]], r["step"], _rate(r), _range(r["dt"]),
                      _range(r["dt_over_certified"]), _range(r["steps"], ".0f"), _range(r["energy_growth"]),
                      _range(r["blowup_time"]), _range(r["wall_seconds"], ".2f")) for r in s["rates"]
                     if not r["long"]])
    lines += ["", "A run is stopped as unstable when a value becomes non-finite, the stored energy exceeds 1000 "
              "times the energy put in, or (laws with an energy) the true energy drifts by more than 10 %; "
              "*steps* is then the step where that happened.", ""]
    lines += _long_section(s) + _sweep_section(s) + finite_section(s.get("finite_strain")) + ["## Models", ""]
    lines += _table(("material", "law", "RMSE [MPa]", "R2", "certified L [MPa]", "largest tangent found [MPa]",
                     "E0 = initial stiffness [MPa]", "L / largest tangent", "fit [s]"),
                    [(m["material"], LAW_NAMES[m["kind"]], _range(m["rmse"]), _range(m["r2"], ".4f"),
                      _range(m["lipschitz_bound"], ".4g"), _range(m["largest_tangent"], ".4g"),
                      _range(m["nominal_stiffness"], ".4g"), _range(m["tightness"]), _range(m["fit_seconds"], ".2f"))
                     for m in s["model_table"]])
    lines += ["", "*Largest tangent found*: the largest ||C_t||_2 that a dense sample of the data's strain range "
              "(and 10 % beyond) plus projected gradient ascent found; a lower estimate of the network's true "
              "Lipschitz constant, where L is the certified upper one.", "",
              "## Why", ""] + _why(s)
    lines += ["", "## Cases", ""] + [f"- **{v['title']}** ({MATERIALS[v['material']].title}): {v['description']}."
                                      for v in s["scenarios"].values()]
    lines += ["", "## Files", "",
              "- `summary.json`: every number of this report, per seed and per run, with units;",
              "- `fits.png`, `energy.png`, `waves.png`, `punch.png`, `rates.png`, `sweep.png`: the figures (seed 0 "
              "for the first four);",
              "- `models/seed<k>/<material>_<sn|unconstrained>.pt`: the fitted laws (`snsurrogate info`);",
              "- `models/sweep/<depth>x<width>_<sn|unconstrained>.pt`: the networks of the size sweep;",
              "- `runs/seed<k>/<case>/<law>_<step>/`: `results.pvd` (open in ParaView), `frames/`, `history.csv`, "
              "`summary.json` of each run;",
              "- `finite/<law>.pt` and `finite/<law>_<step>/`: the finite-strain laws and runs."]
    if s["warnings"]:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in s["warnings"][:30]]
        if len(s["warnings"]) > 30:
            lines.append(f"- ... and {len(s['warnings']) - 30} more in summary.json")
    return "\n".join(lines) + "\n"


def _long_section(s: dict[str, Any]) -> list[str]:
    """The long-run table: stability and the true-energy drift over thousands of steps."""
    rows = [r for r in s["rates"] if r["long"]]
    if not rows:
        return []
    c, st = s["claim"], s["settings"]
    out = ["## Long runs: what is certified and what is monitored", "",
           f"Free vibration from a random initial velocity ({st['long_speed']:g} mm/s standard deviation per "
           f"component), {st['long_steps']} certified steps (the nominal-step runs cover the same time). Nothing is "
           "put in after the start, so the true energy must stay constant. **Certified**: for a law with a "
           "symmetric tangent bounded by L, the linearised system at every state is stable at the certified step "
           "(dt < 2 / omega_max). **Monitored, not certified**: the nonlinear energy. The central-difference "
           "method conserves a modified energy only approximately for a nonlinear law, so the solver measures "
           "the true energy (kinetic + strain energy - work) of laws that have one (`energy monitor = potential`), "
           "warns above 1 % drift and stops above 10 %; for a law without an energy (the 1-D MLPs) only the work "
           "balance is checked (`work`), which closes by construction and catches blow-ups alone.", ""]
    out += _table(("case", "law", "step", "stable", "dt / dt_certified", "steps", "energy monitor",
                   "true-energy drift", "runs above 1 % drift (or unstable)", "largest strain"),
                  [(SCENARIOS[r["scenario"]].title, LAW_NAMES[r["kind"]], r["step"], _rate(r),
                    _range(r["dt_over_certified"]), _range(r["steps"], ".0f"), r["energy_monitor"],
                    _range(r["energy_drift"]), f"{r['drift_above_1_percent']}/{r['n']}", _range(r["max_strain"]))
                   for r in rows])
    said = []
    for step, name in (("certified", "the certified step (safety 0.9)"), ("auto", "the default dt = \"auto\"")):
        x = c["sn_long_runs"][step]
        largest = "n/a" if x["largest_drift"] is None else f"{100 * x['largest_drift']:.3g} %"
        said.append(f"at {name} {x['clean']}/{x['runs']} (largest drift {largest})")
    out += ["", "SN long runs stable with at most 1 % drift: " + "; ".join(said) + ". The drift of a `work` "
            "monitor is not an energy check. `docs/nonlinear-stability.md` measures the drift over 4,592 "
            "randomized runs and explains it.", ""]
    return out


def _sweep_section(s: dict[str, Any]) -> list[str]:
    """The network-size sweep table: the designed SN bound against the unconstrained product of norms."""
    rows = s["sweep"]["rows"]
    if not rows:
        return []
    sc = SCENARIOS[s["sweep"]["scenario"]]
    out = ["## Network size: what the bound costs", "",
           f"SN and unconstrained MLPs ({s['settings']['activation']}) of each depth and width, fitted to the "
           f"{MATERIALS[s['sweep']['material']].title} data with seed 0 and {s['sweep']['epochs']} Adam epochs; "
           f"steps to run *{sc.title}* at each law's certified step. The SN bound is designed (set from the data "
           "before training); the unconstrained one is the product of the exact layer norms, a valid certificate "
           "that grows with the network while its largest tangent found stays near the data's slope.", ""]
    out += _table(("hidden layers x width", "parameters", "R2 SN", "R2 unconstrained", "L SN [MPa]",
                   "L unconstrained [MPa]", "largest tangent SN / unconstrained [MPa]", "unconstrained / SN bound",
                   "steps SN", "steps unconstrained"),
                  [(f"{r['depth']} x {r['width']}", r["parameters"], _g(r["sn_r2"], ".4f"),
                    _g(r["unconstrained_r2"], ".4f"), _g(r["sn_bound"], ".4g"), _g(r["unconstrained_bound"], ".4g"),
                    f"{_g(r['sn_largest_tangent'], '.4g')} / {_g(r['unconstrained_largest_tangent'], '.4g')}",
                    _g(r["bound_ratio"]), r["sn_steps"], r["unconstrained_steps"]) for r in rows])
    return out + [""]


def _find(s, scenario, kind, step):
    return next((r for r in s["rates"] if r["scenario"] == scenario and r["kind"] == kind and r["step"] == step), None)


def _why_fit_error(s: dict[str, Any]) -> list[str]:
    """The paragraph(s) on what the constraint costs in accuracy."""
    out = []
    rm = ", ".join(f"{k} {_range(v['rmse'])}" for k, v in s["ratios"].items() if v["rmse"])
    out.append(f"**Fit error.** RMSE of the unconstrained fit / RMSE of the SN fit, same seed: {rm}. "
               "Below 1 the SN fit was the less accurate one at this training budget (the spectral "
               "normalization slows the optimizer down, and the cap forbids following the noise, whose level in "
               "the synthetic data is 1 % of the largest stress); above 1 it was the more accurate one.")
    return out


def _why_nominal(s: dict[str, Any]) -> list[str]:
    """The paragraph(s) on the nominal step."""
    out = []
    nominal_failed = [r for r in s["rates"] if r["step"] == "nominal" and r["stable"] < r["n"]]
    if nominal_failed:
        names = sorted({SCENARIOS[r["scenario"]].title for r in nominal_failed})
        tang = {m["material"]: m for m in s["model_table"] if m["kind"] == "sn"}
        growth = ", ".join(f"{k}: {tang[k]['largest_tangent']['median'] / tang[k]['nominal_stiffness']['median']:.3g}x"
                           for k in ("cubic", "rubber") if tang.get(k) and tang[k]["largest_tangent"])
        exact = [r for r in nominal_failed if r["kind"] == "exact"]
        out.append(f"**The nominal step is unsafe for a stiffening material, whatever represents it.** Runs at the "
                   f"nominal step blew up in: {', '.join(names)}. The tangent of these materials grows with strain "
                   f"(largest tangent / initial stiffness of the SN fits: {growth}), so once the wave loads the "
                   "material into its stiff range the highest frequency exceeds 2/dt. "
                   + ("The exact analytic law blows up at its nominal step too, so this is mechanics, not the "
                      "network. " if exact else "")
                   + "A step taken from the certified bound covers the stiffest state the law can reach.")
    held = [r for r in s["rates"] if r["step"] == "nominal" and r["stable"] == r["n"]]
    if held:
        out.append("Runs that survived the nominal step: " + ", ".join(
            f"{SCENARIOS[r['scenario']].title} ({LAW_NAMES[r['kind']]}, largest tangent met "
            f"{_range(r['largest_tangent_in_run'])} MPa)" for r in held)
                   + ". There the strains stayed where the tangent is close to the initial one, and the certified "
                   "formula is conservative (dt / dt_certified above 1 can still be stable); nothing guaranteed it.")
    return out


def _why_certified(s: dict[str, Any]) -> list[str]:
    """The paragraph(s) on the certified step."""
    out = []
    c = s["claim"]
    ratio = ", ".join(f"{k} {_range(v['bound'])}" for k, v in s["ratios"].items() if v["bound"])
    steps = ", ".join(f"{SCENARIOS[k].title} {_range(v)}" for k, v in s["steps_ratio_certified"].items() if v)
    out.append(f"**At the certified step.** SN: stable in {c['sn_certified_stable']}/{c['sn_certified_runs']} runs "
               f"({c.get('sn_certified_blowups', 0)} blow-ups, {c.get('sn_certified_drift_stops', 0)} stopped by the "
               "true-energy monitor); "
               f"unconstrained: {c['unconstrained_certified_stable']}/{c['unconstrained_certified_runs']}. Both steps "
               "are certificates (the bound of either network is an upper bound of its tangent everywhere), so "
               "stability there is expected; what differs is the price. The unconstrained network's bound is "
               f"looser by a factor (unconstrained L / SN L) of {ratio}, so its certified step is smaller by the "
               f"square root of that and it needs more steps for the same simulated time (unconstrained / SN "
               f"steps: {steps}). The product of layer norms is tight only when the layers' leading singular "
               "directions line up; SN training fixes every layer's norm so that the product is the designed L, "
               "set from the data's slope before training, while free weights are never pushed to align, so their "
               "product overestimates the network's real steepness (L / largest tangent found in the Models table).")
    if c["unconstrained_certified_stable"] < c["unconstrained_certified_runs"]:
        bad = [r for r in s["runs"] if r["kind"] == "unconstrained" and r["step"] == "certified" and not r["stable"]]
        out.append("Unconstrained runs that failed at their certified step (a non-symmetric tangent can grow at any "
                   "step, which no bound on its norm prevents): " + ", ".join(
                       f"seed {r['seed']} {r['scenario']} at t = {_g(r['blowup_time'])} s" for r in bad) + ".")
    stops = [r for r in s["runs"] if r["kind"] == "sn" and r["step"] == "certified" and not r["stable"]]
    if stops:
        out.append("SN runs stopped at their certified step: " + ", ".join(
            f"seed {r['seed']} {r['scenario']} at t = {_g(r['blowup_time'])} s ({r.get('stopped_by')}, true-energy "
            f"drift {_g(r['energy_drift'])}, stored energy / energy put in {_g(r['energy_growth'])})" for r in stops)
            + ". A drift stop is the nonlinear limit the certificate does not cover: the linearised system is "
            "stable at every state, the stored energy stays bounded, but central differences drift at a step this "
            "close to the critical one; `dt = \"auto\"` takes 0.05 x the certified step for such laws.")
    return out


def _why_tangents(s: dict[str, Any]) -> list[str]:
    """The paragraph(s) on tangent spikes and under-fitting, against the data's own steepest slope."""
    out = []
    r = s["ratios"]
    per = "; ".join(f"{k}: SN {_range(v['sn_over_data_slope'])}, unconstrained "
                    f"{_range(v['unconstrained_over_data_slope'])}" for k, v in r.items())
    spikes = {k: v["unconstrained_spikes"] for k, v in r.items() if v["unconstrained_spikes"]}
    flat = {(k, kind): v[f"{kind}_flat"] for k, v in r.items() for kind in KINDS
            if v[f"{kind}_flat"] and k in UNIAXIAL}  # the n-D slope estimate is too rough for this test
    text = ("**Tangent spikes from overfitting the noise.** Largest tangent found / steepest smoothed slope of "
            f"the data ({per}). ")
    if spikes:
        text += ("The unconstrained network is steeper than the data by more than "
                 f"{SPIKE:g}x in " + ", ".join(f"{n}/{s['seeds']} seeds of {k}" for k, n in spikes.items())
                 + ": between and beyond the noisy points the free network bends harder than the material. ")
    else:
        text += (f"No unconstrained fit exceeded {SPIKE:g}x the data's slope: with early stopping on a validation "
                 "split and piecewise-linear GroupSort units the free fits stay smooth at this size and budget "
                 "(a larger network on few points is where spikes appear; try `--hidden 128 128 128`). ")
    text += ("The SN law cannot spike: its tangent is capped by L (by default 1.1 x the data's steepest slope) "
             "by construction.")
    out.append(text)
    if flat:
        below = ", ".join(f"{v['bound_below_sn']}/{s['seeds']} seeds of {k}" for k, v in r.items()
                          if v["bound_below_sn"]) or "no seed"
        out.append("**Under-fitting the stiff end.** " + ", ".join(
            f"{n}/{s['seeds']} {LAW_NAMES[kind]} fits of {k}" for (k, kind), n in flat.items())
                   + f" stay below {FLAT:g}x the steepest smoothed slope of their uniaxial data: they miss the "
                   "stiffest part of the curve. "
                   f"For an unconstrained fit that means a smaller product bound (below the SN one in {below}) and "
                   "a larger step, but a law that is too soft where the material is stiffest; for an SN fit the "
                   "bound is fixed from the data, so only the accuracy suffers.")
    return out


def _why_beyond(s: dict[str, Any]) -> list[str]:
    """The paragraph(s) on extrapolation beyond the data."""
    out = []
    beyond = [r for r in s["rates"] if r["step"] == "certified" and r["max_strain"]
              and r["kind"] != "exact" and r["max_strain"]["max"] > 1.0 * _data_strain(s, r["scenario"])]
    if beyond:
        out.append("**Beyond the data.** Strains in " + ", ".join(
            f"{SCENARIOS[r['scenario']].title} ({LAW_NAMES[r['kind']]}, up to {r['max_strain']['max']:.3g} against "
            f"{_data_strain(s, r['scenario']):.3g} in the data)" for r in beyond)
                   + " left the data's range. There the fitted law is extrapolating; the SN certificate still holds "
                   "there (it is a property of the weights, not of the data), and so does the unconstrained "
                   "network's product bound, while the largest tangent found on the data says nothing.")
    else:
        out.append("**Beyond the data.** At the certified step no run left the strain range of its data, so "
                   "extrapolation played no part in these results.")
    return out

def _why(s: dict[str, Any]) -> list[str]:
    """The explanation, each paragraph chosen by the measured outcome."""
    parts = (_why_fit_error, _why_nominal, _why_certified, _why_tangents, _why_beyond)
    return [p + "\n" for part in parts for p in part(s)]


def _data_strain(s, scenario) -> float:
    return next(r["data_strain"] for r in s["runs"] if r["scenario"] == scenario)


def write_outputs(summary: dict[str, Any], out: Path) -> list[Path]:
    """Write ``summary.json`` and ``report.md`` atomically; return their paths."""
    files = [out / "summary.json", out / "report.md"]
    write_text(files[0], json.dumps(summary, indent=1, allow_nan=False) + "\n")
    write_text(files[1], report_markdown(summary))
    return files
