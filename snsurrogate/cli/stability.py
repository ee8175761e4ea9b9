"""Time-step bounds of a case: the certified steps from the material's Lipschitz bound against the true
critical step at the reference state.

Prints the bound L and how it is certified, each step with its method and status (certified or
estimate), where it is controlled, its ratio to dt_true and the number of steps to [time] end; then
the tangent check at the reference state (certificate, symmetry, softening). --compare MODEL.pt
adds the same for another fitted law on the same mesh (e.g. an unconstrained network against the
spectrally normalized one): its certified step and how many more steps it costs.

Example:
  snsurrogate stability examples/cases/plate_impact.toml --json out/plate_stability.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys

HELP = "certified time-step bounds of a case against its true critical step"


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("case", metavar="CASE.toml", help="a case file (the same as for 'simulate')")
    p.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    p.add_argument("--compare", metavar="MODEL", help="a fitted model file to compare on the same mesh")
    p.add_argument("--no-global", dest="use_global", action="store_false",
                   help="skip the Lanczos estimate and its certification (large meshes)")
    p.add_argument("--max-memory", type=float, default=4.0, metavar="GIB",
                   help="memory budget of the certified global bound's Cholesky factor [GiB] (default 4): above "
                        "it that bound falls back to the element and nodal bounds, and says so")


def run(args: argparse.Namespace) -> int:
    from fem.atomic import write_text
    from fem.stability import critical_time_step, damping_ratio

    from ..case import load_case
    from ..case.build import build, plan_warnings
    from ..case.load import file_label
    from ..simulation import law_warnings

    setup = build(load_case(args.case))
    case, solver, mat = setup.case, setup.solver, setup.solver.material
    for w in setup.warnings:  # the same mesh notes and case warnings that 'simulate' records
        print(f"warning: {w}")
    if solver.finite:
        return _finite(args, setup)
    t_end, safety = case.time.end, (None if case.time.safety == "auto" else case.time.safety)  # None: default
    methods = ("element", "nodal", "global", "global_certified", "true") if args.use_global \
        else ("element", "nodal", "true")
    constrained = solver.bc.constrained.cpu().numpy()
    first = critical_time_step(setup.mesh, mat, methods=("element", "nodal"), geom=solver.geom)
    xi = damping_ratio(case.damping.alpha, first.dt_certified)
    report = critical_time_step(setup.mesh, mat, safety=safety, damping=xi, methods=methods, geom=solver.geom,
                                constrained=constrained, max_bytes=args.max_memory * 2**30)
    u = setup.units
    tu, su = u["time"], u["stress"]
    print(f"case        {case.name}: {setup.mesh.n_cells} {setup.mesh.cell_type} elements, {setup.mesh.n_nodes} nodes")
    print(f"material    {setup.material_description}")
    print(f"bound       L = {report.lipschitz_bound:.6g} {su} per unit strain, certified by {report.certified_by}")
    print(f"metric      {report.metric}")
    print()
    print(f"{'method':<16} {'status':<10} {'dt [' + tu + ']':>14} {'dt/dt_true':>11} {'steps to end':>13}  where")
    rows = []
    for name in ("element", "nodal", "global", "global_certified", "true"):
        b = report.bounds.get(name)
        if b is None:
            continue
        status = "certified" if b.certified else ("reference" if name == "true" else
                                                  "fallback" if name == "global_certified" else "estimate")
        ratio = b.dt / report.dt_true if report.dt_true and math.isfinite(report.dt_true) else float("nan")
        steps = report.steps(t_end, b.dt) if math.isfinite(b.dt) else 0
        rows.append((name, status, b.dt, ratio, steps, b.where))
        print(f"{name:<16} {status:<10} {b.dt:>14.6g} {ratio:>11.3f} {steps:>13}  {b.where}")
    print(f"{'auto':<16} {'certified':<10} {report.dt_auto:>14.6g} "
          f"{report.dt_auto / report.dt_true if report.dt_true else float('nan'):>11.3f} "
          f"{report.steps(t_end, report.dt_auto):>13}  = safety {report.safety:g} x damping factor "
          f"{report.damping_factor:.4g} (xi = {xi:.3g}) x {report.certified_method} step")
    print()
    if report.dt_global:
        print("global is a converged Lanczos estimate of the same bound, not a certificate (Lanczos approaches "
              "lambda_max from below); global_certified is that bound proved by a Cholesky factorization of "
              "mu M - A (an inertia check) with its rounding margin")
    c = report.tangent
    print(f"tangent at the reference state: max ||C_t||_2 = {c.max_norm:.6g} {su} = {c.ratio:.3f} L (certificate "
          f"holds); symmetry defect {c.symmetry_defect:.3g}; smallest eigenvalue of its symmetric part "
          f"{c.min_eigenvalue:.6g} {su}")
    _print_growth(report, tu)
    for note in report.notes:
        print(f"note: {note}")
    planned = case.time.dt if case.time.dt != "auto" else report.dt_auto
    for w in [*law_warnings(mat, report), *plan_warnings(case, planned, u)]:
        print(f"warning: {w}")
    doc = {"case": case.name, "t_end": t_end, **report.to_dict(),
           "steps_to_end": {r[0]: r[4] for r in rows} | {"auto": report.steps(t_end, report.dt_auto)},
           "units": {"dt": tu, "lipschitz_bound": f"{su} per unit strain", "t_end": tu}}
    if args.compare:
        doc["compare"] = _compare(args.compare, setup, report, safety, constrained,
                                  tuple(m for m in methods if m != "global"))
    if args.json:
        try:
            write_text(args.json, json.dumps(doc, indent=2) + "\n")  # atomic: never a half-written file
        except OSError as exc:  # a full disk, a missing permission, a name too long
            print(f"error: cannot write {file_label(args.json)}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        print(f"wrote {args.json}")
    return 0


def _compare(path: str, setup, report, safety, constrained, methods=("element", "nodal", "true")) -> dict:
    """``--compare MODEL``: the same bounds for another fitted law on the same mesh (printed; returned for JSON)."""
    from fem.stability import critical_time_step

    from .. import load
    from ..material import as_material

    tu, su, t_end = setup.units["time"], setup.units["stress"], setup.case.time.end
    other = as_material(load(path), setup.solver.material.density)
    if getattr(other, "finite_strain", False):
        from ..errors import UnsupportedLawError

        raise UnsupportedLawError(f"{path}: a finite-strain law (fitted to test modes) cannot be compared on this "
                                  "small-strain case; run 'stability' on a case that uses it (kinematics = 'finite')")
    r2 = critical_time_step(setup.mesh, other, safety=safety, methods=methods,
                            geom=setup.solver.geom, constrained=constrained)
    more = report.dt_certified / r2.dt_certified
    kind = "spectrally normalized" if other.model.constrained else "unconstrained"
    print(f"\ncompare     {path} ({kind}): L = {r2.lipschitz_bound:.6g} {su} per unit strain; certified "
          f"step {r2.dt_certified:.6g} {tu} ({r2.steps(t_end, r2.dt_certified)} steps to end), "
          f"{more:.3g} x the steps of this case's law; dt_true {r2.dt_true:.6g} {tu}")
    _print_growth(r2, tu)
    return {"model": path, **r2.to_dict(), "steps_ratio": more}


#: Largest number of dofs for which the true critical step of a finite-strain case is computed (dense).
TRUE_DOFS = 3000


def _finite(args: argparse.Namespace, setup) -> int:
    """A finite-strain case: the certified step at the reference state (the run recomputes it at every state)
    against the true critical step of the assembled ``K(F = I)`` where the mesh is small enough."""
    import torch

    from fem.atomic import write_text
    from fem.finite_strain import DeformationForce
    from fem.stability import n_steps

    case, solver, mat = setup.case, setup.solver, setup.solver.material
    tu, su = setup.units["time"], setup.units["stress"]
    safety = None if case.time.safety == "auto" else case.time.safety
    step = solver.time_step("auto", safety) if not isinstance(case.time.dt, float) else solver.time_step(case.time.dt)
    step = step or solver.time_step("auto", safety)
    b = step.report.bounds["element"]
    true = None
    n_dof = setup.mesh.n_nodes * setup.mesh.dim
    if n_dof <= TRUE_DOFS:
        law = getattr(mat, "law", mat)
        kin = DeformationForce(solver.geom, buffered=False)

        def force(u):
            F = kin.deformation_gradient(u)
            return kin.force(law.first_piola(F.reshape(-1, 3, 3)).view(F.shape))

        # central differences (autograd through the eigendecomposition fails at F = I, where stretches coincide)
        h = 1e-7 * float(solver.geom.volume.sum() ** (1.0 / setup.mesh.dim))
        eye = torch.eye(n_dof, dtype=solver.dtype) * h
        with torch.no_grad():
            K = torch.stack([(force(eye[j]) - force(-eye[j])) / (2 * h) for j in range(n_dof)], dim=1)
        free = torch.ones(n_dof, dtype=torch.bool)
        free[solver.bc.constrained] = False
        s = solver.m_dof.rsqrt()
        A = (0.5 * (K + K.T) * s[:, None] * s[None, :])[free][:, free]
        top = float(torch.linalg.eigvalsh(A)[-1]) if A.numel() else 0.0
        true = 2.0 / math.sqrt(top) if top > 0 else math.inf
    print(f"case        {case.name}: {setup.mesh.n_cells} {setup.mesh.cell_type} elements, {setup.mesh.n_nodes} nodes "
          "(finite strain)")
    print(f"material    {setup.material_description}")
    print(f"bound       a(F = I) = {step.report.lipschitz_bound:.6g} {su} (bound of dP/dF), certified by "
          f"{mat.certified_by}")
    print(f"element     certified {b.dt:.6g} {tu} at the reference state ({b.where})"
          + (f"; dt_true {true:.6g} {tu} (ratio {b.dt / true:.3f}; K(F = I) by central differences)" if true else
             f"; dt_true not computed above {TRUE_DOFS} dofs"))
    print(f"auto        {step.dt:.6g} {tu} = safety {step.report.safety:g} x the certified step, recomputed at every "
          f"state during the run (about {n_steps(case.time.end, step.dt)} steps to end if it did not shrink)")
    doc = {"case": case.name, "kinematics": "finite", "t_end": case.time.end, **step.report.to_dict(),
           "dt_true_reference": true, "units": {"dt": tu, "lipschitz_bound": f"{su} (a(F = I))", "t_end": tu}}
    if args.json:
        write_text(args.json, json.dumps(doc, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


def _print_growth(report, tu: str) -> None:
    """The linearised growth rate and the symmetry defect of the assembled ``K_t``, where computed."""
    g = report.growth
    if g is None:
        return
    est = ", an ARPACK estimate" if g.method == "estimate" else ""
    fold = f"e-folding time {g.e_folding_time:.6g} {tu}" if g.growth_rate > 0 else "nothing grows"
    print(f"growth rate {g.growth_rate:.6g} /{tu} of the linearised system at the reference state ({fold}{est})")
    print(f"symmetry    ||K_t - K_t^T||_F / ||K_t||_F = {g.symmetry_defect:.3g}; smallest eigenvalue of "
          f"M^-1/2 K_t M^-1/2 {g.min_real_eigenvalue:.6g} /{tu}^2")
