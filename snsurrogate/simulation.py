"""Run a case (:mod:`snsurrogate.case`) with the explicit solver of :mod:`fem`: :func:`simulate`.

The case is turned into a mesh, a material, boundary and initial conditions and an
:class:`fem.ExplicitSolver` by :func:`snsurrogate.case.build.build`; the time step is chosen by
:func:`choose_time_step`; the run writes ``results.pvd``, ``frames/`` and ``history.csv``
(:class:`fem.OutputWriter`) and then ``summary.json`` (atomically). A run that becomes unstable is
not an error here: its summary says ``stable: false`` and where it happened.

Before it starts, the run is planned (:meth:`fem.ExplicitSolver.plan`: the steps, and their wall time
measured on a few real steps) and refused when it is absurd: more than
:data:`fem.explicit.MAX_STEPS` (10^8) steps or an estimated :data:`fem.explicit.MAX_SECONDS` (24 h),
unless ``[time] allow_long_run = true``, ``simulate(..., allow_long_run=True)`` or ``snsurrogate simulate
--allow-long-run``.

The outputs are one set (:class:`fem.output.RunFolder`): the run writes into ``<out>.incomplete-<pid>/``
(marked by a file ``INCOMPLETE``), ``summary.json`` last, and that folder then replaces ``out`` in one
step. **``DIR/summary.json`` exists if and only if DIR holds a complete run**; a killed run leaves
the earlier outputs as they were and a marked incomplete folder beside them, which the next run
into the same folder removes. An ``out`` that holds anything but run files is refused, not emptied.
"""

from __future__ import annotations

import json
import math
import os
import time as _time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import fem
from fem.atomic import write_text
from fem.errors import InputError, InstabilityError
from fem.explicit import RunPlan
from fem.output import RunFolder

from .case import Case, Time, load_case
from .case.build import Setup, build, build_conditions, build_material, build_mesh, plan_warnings, select
from .errors import CaseFileError

__all__ = ["Setup", "SimulationResult", "build", "build_conditions", "build_material", "build_mesh", "choose_time_step",
           "describe", "n_steps", "select", "simulate"]  # the build functions live in snsurrogate.case.build


@dataclass
class SimulationResult:
    """What :func:`simulate` produced.

    Attributes
    ----------
    summary
        The content of ``summary.json``.
    out_dir
        The output folder (``results.pvd``, ``frames/``, ``history.csv``, ``summary.json``).
    result
        The solver's :class:`fem.Result`, or ``None`` when the run became unstable.
    instability
        The :class:`fem.errors.InstabilityError` that stopped the run, or ``None``.
    snapshots
        With ``simulate(..., keep_frames=True)``: ``(time, strain, stress)`` of every frame written,
        element-averaged ``(n_el, n_voigt)`` arrays [time, -, stress] (see :class:`fem.OutputWriter`).
    """

    summary: dict[str, Any]
    out_dir: Path
    result: fem.Result | None = None
    instability: InstabilityError | None = None
    snapshots: list = field(default_factory=list)

    @property
    def history(self) -> dict[str, np.ndarray]:
        """The energy history of the run, stable or not (see :class:`fem.Result`)."""
        return self.result.history if self.result is not None else self.instability.history

    @property
    def stable(self) -> bool:
        return self.instability is None

    @property
    def summary_path(self) -> Path:
        return self.out_dir / "summary.json"


# ---------------------------------------------------------------------------------------------- time step
def choose_time_step(solver: fem.ExplicitSolver, time: Time, alpha: float = 0.0, *,
                     case_name: str | None = None) -> fem.TimeStep:
    """The step of a run with the ``[time]`` table ``time`` and damping ``alpha`` [1/time]
    (:func:`fem.time_step.choose_time_step`); a refused step is a :class:`CaseFileError` at ``[time] dt``."""
    try:
        safety = None if time.safety == "auto" else time.safety
        return fem.choose_time_step(solver.mesh, solver.material, dt=time.dt, safety=safety, alpha=alpha,
                                    allow_unsafe=time.allow_unsafe_dt, geom=solver.geom)
    except InputError as exc:
        keys = {"dt": "[time] dt", "safety": "[time] safety", "damping": "[damping] alpha"}
        where = keys.get(exc.parameter, "[time]")
        hint = " (allow_unsafe_dt = true in [time])" if exc.parameter == "dt" else ""
        raise CaseFileError(f"{exc}{hint}", case_name, where) from exc


n_steps = fem.n_steps


def symmetry_warning(material, report: fem.stability.StabilityReport | None = None) -> str | None:
    """A warning for a 2-D/3-D learned law whose tangent is not symmetric by construction (``symmetric``
    not True), with the linearised growth rate at the initial state where ``report`` has it."""
    sym = getattr(material, "symmetric", None)
    if sym is True or material.n_voigt <= 1 or (sym is None and not hasattr(material, "network")):
        return None  # an analytic fem law without the attribute is symmetric by derivation
    growth = getattr(report, "growth", None)
    rate = f" (linearised growth rate at the initial state {growth.growth_rate:.3g} /time)" if growth else ""
    return ("the law's tangent is not symmetric by construction (a plain MLP stress map): its certified step "
            f"bounds the symmetric part only and does not imply stability{rate}; refit with --law potential "
            "(the default for 2-D/3-D) for a conservative law")


def softening_warning(material) -> str | None:
    """A warning for a learned law whose tangent can become negative (an MLP without a lower bound that
    softens on its data box or 3x beyond, :func:`snsurrogate.softening.model_softening`); ``None`` for
    analytic laws and potential laws (certified ``m >= 0``)."""
    model = getattr(material, "model", None)
    if model is None:
        return None
    from .softening import model_softening

    soft = model_softening(model)
    if soft is None or not soft.softens:
        return None
    return (f"the law can soften: {soft.describe(model.stress_unit)} (data range and 3x beyond); where the "
            "tangent is negative the linearised system grows at any time step and no step bound helps")


def law_warnings(material, report: fem.stability.StabilityReport | None = None) -> list[str]:
    """What a user must know about a law before a run: :func:`symmetry_warning`, :func:`softening_warning`."""
    return [w for w in (symmetry_warning(material, report), softening_warning(material)) if w]


def plan_run(setup: Setup, step: fem.TimeStep, *, allow_long_run: bool | None = None) -> RunPlan:
    """The steps of the run of ``setup`` with ``step`` and its estimated wall time
    (:meth:`fem.ExplicitSolver.plan`); an absurd run (:meth:`fem.explicit.RunPlan.too_long`) is a
    :class:`CaseFileError` at ``[time]`` unless ``allow_long_run`` (default: ``[time] allow_long_run``)."""
    case = setup.case
    plan = setup.solver.plan(case.time.end, step.dt)
    allowed = case.time.allow_long_run if allow_long_run is None else allow_long_run
    why = None if allowed else plan.too_long()
    if why is not None:
        raise CaseFileError(
            f"refused: {plan.describe(setup.units['time'])}, {why} (usually end or dt in the wrong unit); "
            "check end and dt, or allow it: allow_long_run = true in [time], or snsurrogate simulate "
            "--allow-long-run", case.name, "[time]")
    return plan


# ---------------------------------------------------------------------------------------------- the run
def simulate(case: str | os.PathLike[str] | dict | Case, out_dir: str | os.PathLike[str], *,
             progress: bool | None = None, keep_frames: bool = False, allow_long_run: bool | None = None,
             name: str | None = None, report: Callable[[str], None] | None = None) -> SimulationResult:
    """Run a case and write its outputs into ``out_dir``.

    Parameters
    ----------
    case
        A TOML case file, a dict of the same structure (relative paths from the working directory) or a
        :class:`snsurrogate.case.Case`.
    out_dir
        Output folder: ``results.pvd``, ``frames/``, ``history.csv`` and ``summary.json``, written as one set
        (see the module's description): absent, empty, or the folder of an earlier run, which is replaced
        when this one is complete (stable or not).
    progress
        Show a progress bar; default ``[output] progress``.
    keep_frames
        Also return the element strain and stress of every frame (``SimulationResult.snapshots``).
    allow_long_run
        Run even above 10^8 steps or an estimated 24 h (default: refused).
    name
        The case's name in ``summary.json`` (``"case"``) and in messages; default: the file as given, a
        loaded :class:`Case`'s own name, or for a dict the output folder's name.
    report
        Called with the plan line before the run starts (``planned N steps of dt = ...: about ...``); the
        command line prints it.

    Returns
    -------
    SimulationResult
        Stable or not; an instability is reported in ``summary["unstable_at"]``, not raised.

    Raises
    ------
    snsurrogate.errors.CaseFileError
        Any problem with the case (message ``<file>: <section> <key>: <what is wrong>``), an absurd run.
    fem.errors.InputError
        ``out_dir`` exists and holds files that no run wrote (``parameter = "out_dir"``); nothing is written.
    """
    from_dict = isinstance(case, dict)
    loaded = load_case(case)
    if name is not None:
        loaded = loaded.model_copy().located(name, loaded.base_dir)
    setup = build(loaded)
    case = setup.case
    step = choose_time_step(setup.solver, case.time, case.damping.alpha, case_name=case.name)
    plan = plan_run(setup, step, allow_long_run=allow_long_run)
    for w in law_warnings(setup.solver.material, step.report):  # before the run, and in the summary's warnings
        step.warnings.append(w)
        if report is not None:
            report(f"warning: {w}")
    if report is not None:
        report(plan.describe(setup.units["time"]))
    out = Path(out_dir)
    label = Path(os.path.realpath(out)).name if from_dict and name is None else case.name
    folder = RunFolder(out, note={"case": label})
    try:
        summary, writer, result, instability = _run(setup, step, plan, folder.staging, label, progress, keep_frames)
        write_text(folder.staging / "summary.json", json.dumps(summary, indent=2, allow_nan=False) + "\n")
        folder.commit()
    except BaseException as exc:
        folder.abandon(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        raise
    return SimulationResult(summary, out, result, instability, writer.snapshots)


def _run(setup: Setup, step: fem.TimeStep, plan: RunPlan, staging: Path, label: str, progress, keep_frames):
    """The run itself, writing into ``staging``: ``(summary, writer, result, instability)``."""
    case, out_spec, u = setup.case, setup.case.output, setup.units
    writer = fem.OutputWriter(staging, setup.mesh, {k: u[k] for k in ("length", "time", "stress", "energy")},
                              keep=keep_frames)
    messages = setup.warnings + list(step.warnings) + plan_warnings(case, step.dt, u)
    result = instability = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = _time.perf_counter()
        try:
            adaptive = setup.solver.finite and case.time.dt == "auto"  # the step at every state
            result = setup.solver.run(case.time.end, "auto" if adaptive else step.dt, writer=writer,
                                      safety=step.report.safety, output_every=out_spec.every,
                                      n_frames=out_spec.n_frames,
                                      progress=out_spec.progress if progress is None else progress,
                                      probes=setup.probe_nodes or None, max_steps=None,  # plan_run decided
                                      progress_every=fem.explicit.progress_every(plan.seconds_per_step),
                                      energy_warn=case.time.energy_warn,
                                      energy_stop=case.time.energy_stop or None)
        except InstabilityError as exc:
            instability = exc
        wall = _time.perf_counter() - t0
    for w in caught:
        if str(w.message) not in messages and issubclass(w.category, (RuntimeWarning, UserWarning)):
            messages.append(str(w.message))
    summary = _summary(case, setup, step, result, instability, wall, messages, len(writer.frames))
    summary["case"] = label
    summary["planned_steps"] = plan.n_steps
    summary["estimated_seconds"] = plan.seconds
    summary["units"]["estimated_seconds"] = "s (the planned steps at the step time measured before the run)"
    return summary, writer, result, instability


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _summary(case: Case, setup: Setup, step: fem.TimeStep, result, instability, wall, messages, n_frames
             ) -> dict[str, Any]:
    u, dt, report = setup.units, step.dt, step.report
    mesh = setup.mesh
    if result is not None:
        steps, t_end, err, wall = result.steps, result.t_end, result.energy_error, result.wall_seconds
    else:
        from fem.energy import energy_balance_error

        errors = energy_balance_error(instability.history)  # null when the energies became non-finite
        err = float(errors.max()) if errors.size and np.isfinite(errors).all() else None
        steps, t_end = instability.step, instability.time
    source = result if result is not None else instability
    monitor = getattr(source, "energy_monitor", "work")
    summary: dict[str, Any] = {
        "case": case.name,
        "stable": instability is None,
        "energy_drift": _finite(getattr(source, "energy_drift", None)),
        "energy_monitor": monitor,
        "energy_monitor_note": fem.explicit.MONITOR_NOTES[monitor],
        "steps": steps,
        "dt": dt,
        "dt_method": step.method,
        "dt_certified": step.dt_certified,
        "dt_over_certified": dt / step.dt_certified,
        "certified_method": report.certified_method,
        "controlling": step.controlling,
        "dt_element": report.dt_element,
        "dt_nodal": report.dt_nodal,
        "dt_global_certified": report.dt_global_certified,
        "metric": report.metric,
        "safety": report.safety,
        "damping_ratio": step.damping_ratio,
        "damping_factor": report.damping_factor,
        "unsafe_dt": step.unsafe,
        "t_end": t_end,
        "end": case.time.end,
        "energy_error": _finite(err),
        "wall_seconds": wall,
        "steps_per_second": steps / wall if wall > 0 else None,
        "lipschitz_bound": report.lipschitz_bound,
        "n_nodes": mesh.n_nodes,
        "n_elements": mesh.n_cells,
        "element": mesh.cell_type,
        "dim": mesh.dim,
        "material": setup.material_description,
        "damping": case.damping.alpha,
        "frames": n_frames,
        "probes": setup.probes,
        "warnings": messages,
        "outputs": {"paraview": "results.pvd", "frames": "frames/", "history": "history.csv"},
        "unit_system": u,
    }
    units = {"dt": u["time"], "dt_certified": u["time"], "dt_element": u["time"], "dt_nodal": u["time"],
             "dt_global_certified": u["time"],
             "damping_ratio": "- (fraction of critical damping in the highest certified mode)",
             "t_end": u["time"], "end": u["time"],
             "energy_error": "-", "dt_over_certified": "-", "wall_seconds": "s", "steps_per_second": "1/s",
             "lipschitz_bound": f"{u['stress']} per unit strain", "damping": f"1/{u['time']}",
             "probes": u["length"]}
    if instability is not None:
        summary["unstable_at"] = {"step": instability.step, "time": _finite(instability.time),
                                  "element": instability.element, "cause": instability.cause,
                                  "message": str(instability)}
        units["unstable_at.time"] = u["time"]
    control = setup.solver.step_control_summary()
    summary["kinematics"] = "finite" if setup.solver.finite else "small"
    if control is not None:  # a finite-strain run with the step recomputed at every state
        summary.update(control)
        summary["dt"] = control["dt_min"]
        summary["lipschitz_bound"] = getattr(setup.solver.material, "lipschitz_bound", None)
        summary["lipschitz_bound_of"] = "w''" if hasattr(setup.solver.material, "law") else "a(F = I)"
        units.update({"dt_min": u["time"], "dt_max": u["time"], "dt_history.time": u["time"],
                      "dt_history.dt": u["time"], "dt_controlling.time": u["time"],
                      "dt_controlling.a_element": f"{u['stress']} (bound of dP/dF at that element)",
                      "dt_controlling.dt_certified": u["time"],
                      "lipschitz_bound": f"{u['stress']} (bound of the law's w'', or a(F = I))"})
    summary["units"] = units
    return summary


def describe(summary: dict[str, Any]) -> str:
    """A few lines on a finished run (what ``snsurrogate simulate`` prints)."""
    s, u = summary, summary["unit_system"]
    t = u["time"]
    lines = [
        f"mesh        {s['n_elements']} {s['element']} elements, {s['n_nodes']} nodes ({s['dim']}-D)",
        f"material    {s['material']}",
        f"bound       certified L = {s['lipschitz_bound']:.6g} {u['stress']} per unit strain",
        f"time step   dt = {s['dt']:.6g} {t} ({s['dt_method']}; certified step {s['dt_certified']:.6g} {t}, "
        f"{s['controlling']})",
    ]
    if s.get("kinematics") == "finite" and "dt_max" in s:
        where = s["dt_controlling"]
        lines[2] = (f"bound       certified {s['lipschitz_bound']:.6g} {u['stress']} ({s['lipschitz_bound_of']}); the "
                    "step is certified at each state from the principal-frame bound a(F) of dP/dF")
        lines[3] = (f"time step   {s['dt_min']:.6g} to {s['dt_max']:.6g} {t} "
                    f"({s['dt_rule']}); smallest at element {where.get('element')}, t = {where.get('time', 0):.4g} {t}")
    rate = f", {s['steps_per_second']:.4g} steps/s" if s["steps_per_second"] else ""
    err = "n/a (non-finite energies)" if s["energy_error"] is None else f"{s['energy_error']:.3g}"
    lines.append(f"run         {s['steps']} steps to t = {s['t_end']:.6g} {t} in {s['wall_seconds']:.3g} s{rate}; "
                 f"energy balance error {err}")
    drift = "n/a (non-finite)" if s["energy_drift"] is None else f"{s['energy_drift']:.3g}"
    lines.append(f"energy      largest true-energy drift {drift} (monitor: {s['energy_monitor']}"
                 + ("" if s["energy_monitor"] == "potential" else ", the work balance only: a weaker check") + ")")
    lines.append("result      stable" if s["stable"] else f"result      UNSTABLE: {s['unstable_at']['message']}")
    return "\n".join(lines)
