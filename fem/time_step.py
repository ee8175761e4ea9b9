"""The step a run takes and why: ``dt = "auto"`` from the certified bounds of :mod:`fem.stability`, or a user step
checked against them (:func:`choose_time_step`, :class:`TimeStep`).

Units: ``dt`` in the time unit of the consistent system.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from .errors import InputError
from .inertia import predicted_factor_bytes
from .kinematics import Geometry, geometry
from .stability import StabilityReport, critical_time_step, damping_factor, damping_ratio


@dataclass
class TimeStep:
    """The step a run takes and why: what :func:`choose_time_step` returns.

    Attributes
    ----------
    dt
        The step [time].
    method
        How it was chosen: ``"auto: 0.9 x certified element step"`` or ``"user"``.
    report
        The certified bounds (element and nodal) it was checked against, with the damping factor.
    damping_ratio
        ``xi = alpha dt_certified / 4``: the fraction of critical damping that mass-proportional damping
        ``alpha`` [1/time] gives the highest certified frequency ``2 / dt_certified`` [-].
    unsafe
        True for a user ``dt`` above the certified step that was allowed to run (``allow_unsafe``).
    warnings
        What the caller should tell the user.
    """

    dt: float
    method: str
    report: StabilityReport
    damping_ratio: float
    unsafe: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def dt_certified(self) -> float:
        """The certified stable step [time], before safety and damping factors."""
        return self.report.dt_certified

    @property
    def controlling(self) -> str:
        """Where the certified step is controlled (``"element 12"``, ``"node 3"``)."""
        return self.report.bounds[self.report.certified_method].where


#: Memory budget of the certified global bound in :func:`choose_time_step` [bytes] (predicted Cholesky factor,
#: :func:`fem.inertia.predicted_factor_bytes`): about 3·10⁵ dofs in 2-D and 4·10⁴ in 3-D, a few seconds at most.
AUTO_GLOBAL_BYTES = 256 * 2**20


def choose_time_step(mesh, material, *, dt: float | str = "auto", safety: float | None = None, alpha: float = 0.0,
                     allow_unsafe: bool = False, geom: Geometry | None = None, section: float = 1.0,
                     global_bytes: float = AUTO_GLOBAL_BYTES) -> TimeStep:
    """The time step of a run: ``dt = "auto"`` or a user value checked against the certified step.

    ``"auto"`` is ``safety x (sqrt(1 + xi^2) - xi) x dt_certified``, the certified step being the largest of
    the element, nodal (Gershgorin) and, where its factorization fits ``global_bytes`` [bytes] (0: never),
    certified global bounds (:mod:`fem.inertia`), and ``xi = alpha dt_certified / 4`` the fraction of critical
    damping that mass-proportional damping ``alpha`` [1/time] gives the highest certified frequency
    ``2 / dt_certified`` (conservative: the step shrinks as that frequency grows). A user ``dt`` [time]
    above ``damping factor x dt_certified`` raises :class:`~fem.errors.InputError` (parameter ``dt``)
    unless ``allow_unsafe``, which records ``unsafe`` and a warning.
    """
    if geom is None:
        geom = geometry(mesh, section=section)
    if getattr(material, "finite_strain", False):
        from .step_control import finite_time_step

        return finite_time_step(geom, material, dt=dt, safety=safety, alpha=alpha, allow_unsafe=allow_unsafe)
    n = geom.n_nodes * geom.dim
    methods = ("element", "nodal") + (("global_certified",) if predicted_factor_bytes(n, geom.dim) <= global_bytes
                                      else ())
    report = critical_time_step(mesh, material, safety=safety, methods=methods, geom=geom, max_bytes=global_bytes)
    xi = damping_ratio(alpha, report.dt_certified)
    if xi:
        report = replace(report, damping_ratio=xi, damping_factor=damping_factor(xi))
    if isinstance(dt, str):
        if dt != "auto":
            raise InputError(f"dt must be a positive number or 'auto', got {dt!r}", "dt")
        damp = f" x damping factor {report.damping_factor:.4g}" if xi else ""
        return TimeStep(report.dt_auto, f"auto: {report.safety:g}{damp} x certified {report.certified_method} step",
                        report, xi)
    dt = float(dt)
    if not (math.isfinite(dt) and dt > 0):
        raise InputError(f"dt must be a positive number or 'auto', got {dt!r}", "dt")
    chosen = TimeStep(dt, "user", report, xi)
    limit = report.damping_factor * report.dt_certified
    if dt > limit:
        msg = (f"dt = {dt:.6g} is {dt / limit:.3g} times the certified stable step {limit:.6g} "
               f"({report.certified_method} bound, {chosen.controlling})")
        if not allow_unsafe:
            raise InputError(f"{msg}: the run is not guaranteed stable. Use dt = 'auto', a smaller dt, or "
                             "allow the unsafe step to run it anyway (not recommended)", "dt")
        chosen.unsafe = True
        chosen.warnings.append(msg + "; running anyway because the unsafe step was allowed")
    return chosen
