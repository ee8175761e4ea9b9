"""Fitting a hyperelastic law to several test curves jointly: a convex least-squares problem.

Every mode's stress is linear in ``w'`` once the lateral stretches are known
(:func:`snsurrogate.hyperelastic.modes.linear_form`), and ``w'`` is linear in the ramp coefficients ``h >= 0``
of :class:`~snsurrogate.hyperelastic.ridges.RampDictionary`; a volumetric test adds ``κ`` as one more
non-negative unknown. So the fit is

.. math::

    \\min_{h \\ge 0,\\ \\kappa \\ge 0} \\sum_r \\omega_r (A_r h - y_r)^2 + \\beta\\, s\\, |h|^2,

solved exactly by non-negative least squares (``scipy.optimize.nnls``), with the lateral stretches updated
from the current law at the given bulk modulus and the problem solved again (a fixed point: incompressible
stretches first, then the law's own; stopped when no stretch moves by more than 1e-10 relative, at most
:data:`MAX_OUTER` times). No gradient descent, no random start: the same data give the same law.

Row weights ``ω``: by default each test mode counts alike, ``ω = weight / (n_mode · mean(y²)_mode)``
(``"balanced"``, so no mode is fitted at another's expense); ``relative=True`` uses relative residuals,
``ω = weight / (n_mode · max(|y|, 0.01 max|y|)²)``. ``weight`` is the curve's (``--weight MODE=W``). ``β``
(``smoothing``, dimensionless; ``s`` the mean diagonal of the weighted normal matrix) keeps ``h`` small and
spread between the data points.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize
import torch

from ..errors import DataError, TrainingError
from .certificate import audit
from .curves import TestCurve, check_consistent
from .law import HyperelasticLaw
from .modes import lateral_stretch, linear_form, prescribed, spec
from .ridges import RampDictionary
from .unconstrained import FREE_ACTIVATIONS, fit_unconstrained

#: Default small-strain bulk-to-shear modulus ratio ``K/μ`` when neither a bulk modulus nor a volumetric
#: test is given (see the README's hyperelastic section for why).
DEFAULT_BULK_RATIO = 1000.0
DEFAULT_KNOTS = 40
DEFAULT_SMOOTHING = 1e-10
MAX_OUTER = 30
#: Below this R² a fitted mode is reported as poorly fitted.
POOR_R2 = 0.99
#: The knots reach this factor beyond the stretch range of the tests on both sides.
KNOT_PAD = 1.02


@dataclass(frozen=True)
class HyperelasticOptions:
    """How :func:`fit_tests` fits (all optional).

    Attributes
    ----------
    bulk_modulus
        Small-strain bulk modulus ``K`` [stress unit of the data]; ``None``: from a volumetric test if
        given, else ``bulk_ratio × μ`` with ``μ`` from the incompressible fit.
    bulk_ratio
        ``K/μ`` used when ``bulk_modulus`` is None and no volumetric test is given.
    relative
        Relative residuals instead of the balanced absolute ones (module docstring).
    knots
        Number of knots of the ramp dictionary (log-spaced over every stretch the tests reach).
    smoothing
        ``β`` of the module docstring (dimensionless, ≥ 0).
    unconstrained
        Fit the free-weight counterpart instead (:mod:`~snsurrogate.hyperelastic.unconstrained`: an MLP of
        ``ln λ`` by Adam; no convexity, no designed bound), for comparisons. ``knots`` and ``smoothing`` then do
        not apply; ``hidden``, ``activation`` (``tanh`` or ``softplus``), ``epochs``, ``lr`` and ``seed`` do.
    """

    bulk_modulus: float | None = None
    bulk_ratio: float = DEFAULT_BULK_RATIO
    relative: bool = False
    knots: int = DEFAULT_KNOTS
    smoothing: float = DEFAULT_SMOOTHING
    unconstrained: bool = False
    hidden: tuple[int, ...] = (32, 32, 32)
    activation: str = "tanh"
    epochs: int = 3000
    lr: float = 1e-2
    seed: int = 0

    def __post_init__(self) -> None:
        if self.bulk_modulus is not None and not (math.isfinite(self.bulk_modulus) and self.bulk_modulus > 0):
            raise ValueError(f"bulk_modulus must be a finite number > 0, got {self.bulk_modulus!r}")
        if not (math.isfinite(self.bulk_ratio) and self.bulk_ratio > 2.0 / 3.0):
            raise ValueError(f"bulk_ratio must be > 2/3 (K > 2μ/3, so that κ > 0), got {self.bulk_ratio!r}")
        if not (isinstance(self.knots, int) and 4 <= self.knots <= 400):
            raise ValueError(f"knots must be an integer from 4 to 400, got {self.knots!r}")
        if not (math.isfinite(self.smoothing) and self.smoothing >= 0):
            raise ValueError(f"smoothing must be a finite number >= 0, got {self.smoothing!r}")
        if not (self.hidden and all(isinstance(w, int) and w >= 1 for w in self.hidden)):
            raise ValueError(f"hidden must list positive integer widths, got {self.hidden!r}")
        if self.activation not in FREE_ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(FREE_ACTIVATIONS)}, got {self.activation!r}")
        if not (isinstance(self.epochs, int) and self.epochs >= 1):
            raise ValueError(f"epochs must be a positive integer, got {self.epochs!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")


@dataclass(frozen=True)
class CurveMetrics:
    """Fit of one curve or mode: ``r2`` (1 - SS_res/SS_tot over all its stress values), ``rmse`` and
    ``max_error`` [stress unit], ``n`` values."""

    r2: float
    rmse: float
    max_error: float
    n: int

    def to_dict(self) -> dict:
        return {"r2": self.r2, "rmse": self.rmse, "max_error": self.max_error, "n": self.n}


@dataclass(frozen=True)
class FitResult:
    """What :func:`fit_tests` returns: the law, per-mode metrics on the fitted tests (``modes``) and on the
    predicted ones (``predicted``), the outer iterations, the wall time [s], notes and warnings (one mode
    only; a mode fitted below :data:`POOR_R2`)."""

    law: HyperelasticLaw
    modes: dict[str, CurveMetrics]
    predicted: dict[str, CurveMetrics]
    iterations: int
    seconds: float
    notes: tuple[str, ...] = field(default=())
    warnings: tuple[str, ...] = field(default=())


def predict(law: HyperelasticLaw, curve: TestCurve) -> np.ndarray:
    """The law's stress at a curve's deformations, shaped like ``curve.stress`` [stress unit]."""
    x = torch.from_numpy(curve.x).to(law.dtype)
    if curve.mode == "volumetric":
        return law.pressure(x).numpy()
    stress = law.cauchy_stress if curve.measure == "cauchy" else law.nominal_stress
    return stress(curve.mode, x).numpy()


def metrics(curves: Sequence[TestCurve], preds: Sequence[np.ndarray]) -> CurveMetrics:
    """:class:`CurveMetrics` over the values of several curves together."""
    y = np.concatenate([c.stress.ravel() for c in curves])
    p = np.concatenate([q.ravel() for q in preds])
    res = p - y
    tot = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((res**2).sum()) / tot if tot > 0 else float("nan")
    return CurveMetrics(r2, float(np.sqrt((res**2).mean())), float(np.abs(res).max()), int(y.size))


def by_mode(law: HyperelasticLaw, curves: Sequence[TestCurve]) -> dict[str, CurveMetrics]:
    """Metrics of ``law`` per mode (curves of one mode pooled), in the order the modes first appear."""
    out: dict[str, CurveMetrics] = {}
    for mode in dict.fromkeys(c.mode for c in curves):
        group = [c for c in curves if c.mode == mode]
        out[mode] = metrics(group, [predict(law, c) for c in group])
    return out


def _row_weights(curves: Sequence[TestCurve], relative: bool) -> list[np.ndarray]:
    out = []
    for c in curves:
        group = np.concatenate([g.stress.ravel() for g in curves if g.mode == c.mode])
        y = np.abs(c.stress.ravel())
        if relative:
            floor = 0.01 * float(np.abs(group).max())
            w = 1.0 / (group.size * np.maximum(y, floor) ** 2)
        else:
            w = np.full(y.shape, 1.0 / (group.size * float((group**2).mean())))
        out.append(c.weight * w)
    return out


def _system(curves, dictionary, lateral, weights):
    """Weighted rows ``(B, b)`` of the least-squares problem; the last column is ``κ`` (volumetric rows only)."""
    blocks, rhs = [], []
    for c, t, w in zip(curves, lateral, weights):
        x = torch.from_numpy(c.x)
        if c.mode == "volumetric":
            lam = x.pow(1.0 / 3.0)
            a = -(dictionary.first_derivative(lam) * (lam / x).unsqueeze(1)).numpy()
            rows = np.concatenate((a, -(c.x - 1.0).reshape(-1, 1)), axis=1)
        else:
            stretches, coefs = linear_form(c.mode, x, None if t is None else torch.from_numpy(t), c.measure)
            basis = (dictionary.first_derivative(stretches) * coefs.unsqueeze(-1)).sum(dim=2)  # (n, q, size)
            rows = np.concatenate((basis.reshape(-1, dictionary.size).numpy(),
                                   np.zeros((basis.shape[0] * basis.shape[1], 1))), axis=1)
        sw = np.sqrt(w)
        blocks.append(rows * sw[:, None])
        rhs.append(c.stress.ravel() * sw)
    return np.concatenate(blocks), np.concatenate(rhs)


def _solve(b_mat, rhs, smoothing, fixed_kappa):
    """NNLS with the ridge rows; ``fixed_kappa`` removes the ``κ`` column. Returns ``(h, κ or None)``."""
    cols = b_mat[:, :-1] if fixed_kappa else b_mat
    s = float((cols**2).sum(axis=0).mean())
    aug = np.concatenate((cols, np.sqrt(smoothing * s) * np.eye(cols.shape[1])))
    sol, _ = scipy.optimize.nnls(aug, np.concatenate((rhs, np.zeros(cols.shape[1]))), maxiter=50 * cols.shape[1])
    return (sol, None) if fixed_kappa else (sol[:-1], float(sol[-1]))


def stretch_range(curves: Sequence[TestCurve]) -> tuple[float, float]:
    """Smallest and largest principal stretch the tests reach, lateral stretches included (their
    incompressible values ``p^{-1/k}``), and always 1: the range the certificate's tightness refers to."""
    values = [np.ones(1)]
    for c in curves:
        values.append(c.stretches())
        if spec(c.mode).has_lateral:
            p = prescribed(c.mode, torch.from_numpy(c.x)).prod(dim=1).numpy()
            values.append(p ** (-1.0 / spec(c.mode).lateral))
    v = np.concatenate(values)
    return float(v.min()), float(v.max())


def _lateral(curves, law: HyperelasticLaw | None) -> list[np.ndarray | None]:
    out = []
    for c in curves:
        if not spec(c.mode).has_lateral:
            out.append(None)
            continue
        x = torch.from_numpy(c.x)
        if law is None:
            out.append(lateral_stretch(c.mode, x, None, None, None).numpy())  # type: ignore[arg-type]
        else:
            out.append(law.lateral_stretch(c.mode, x).numpy())
    return out


def _check_inputs(curves: Sequence[TestCurve]) -> str:
    if not curves:
        raise DataError("no test curves given: pass at least one --test MODE=FILE")
    units = {c.stress_unit for c in curves}
    if len(units) > 1:
        raise DataError("the test curves are in different stress units ("
                        + ", ".join(f"{c.source}: {c.stress_unit}" for c in curves)
                        + "); convert them to one unit (or pass --stress-unit)")
    if all(c.mode == "volumetric" for c in curves):
        raise DataError("a volumetric test alone cannot determine the stretch energy w; add a uniaxial, "
                        "equibiaxial, pure-shear, biaxial or simple-shear test")
    check_consistent(curves)
    return units.pop()


def _fixed_point(curves, dictionary, weights, options: HyperelasticOptions, fixed: bool, unit: str):
    """Alternate the convex fit and the lateral stretches of its law (module docstring):
    ``(law, passes, notes)``. With ``fixed``, ``κ = K - 2μ/3`` with ``K`` from the options (or ``K/μ`` times
    ``μ``) and this pass's ``μ``; otherwise ``κ`` is fitted with ``h``."""
    lateral, law, kappa, prev = _lateral(curves, None), None, None, None
    notes: list[str] = []
    for outer in range(1, MAX_OUTER + 1):  # noqa: B007 (the count is returned)
        h, fitted_kappa = _solve(*_system(curves, dictionary, lateral, weights), options.smoothing, fixed)
        net = dictionary.network(h)
        mu = 0.5 * float(net.tangent(torch.zeros(1, 1, dtype=torch.float64))[0, 0, 0])
        # the small-strain K given or K/μ, with this pass's μ (exact at the fixed point)
        kappa = fitted_kappa if fitted_kappa is not None else _kappa_rule(options, unit)(mu)
        if not kappa > 0:
            raise TrainingError("the volumetric test gave a bulk coefficient κ <= 0; check its sign convention "
                                "(pressure > 0 in compression, J < 1)")
        law = HyperelasticLaw(net, kappa)
        try:
            new = _lateral(curves, law)
        except RuntimeError as exc:
            raise TrainingError(f"lateral stretches: {exc}") from None
        moved = max((float(np.abs(a / b - 1.0).max()) for a, b in zip(new, lateral) if a is not None), default=0.0)
        lateral = new
        if moved <= 1e-10 or prev is not None and np.array_equal(h, prev):
            break
        prev = h
    else:
        notes.append(f"the lateral stretches still moved by {moved:.2g} (relative) after {MAX_OUTER} passes")
    assert law is not None
    return law, outer, notes


def _kappa_rule(options: HyperelasticOptions, unit: str):
    """``κ(μ) = K - 2μ/3`` with ``K`` given or ``K/μ`` times ``μ``; :class:`DataError` if it is not > 0."""
    def kappa_of(mu: float) -> float:
        k_small = options.bulk_modulus if options.bulk_modulus is not None else options.bulk_ratio * mu
        kappa = k_small - 2.0 * mu / 3.0
        if not kappa > 0:
            raise DataError(f"bulk modulus {k_small:g} {unit} is not above 2μ/3 = {2 * mu / 3:g} {unit} "
                            f"(μ = {mu:g} {unit} from the fit): the law would have κ <= 0")
        return kappa
    return kappa_of


def _free(curves, weights, options: HyperelasticOptions, fixed: bool, unit: str, stretches):
    """The unconstrained fit (:func:`~snsurrogate.hyperelastic.unconstrained.fit_unconstrained`) as a law."""
    net, kappa, passes, notes = fit_unconstrained(curves, weights, options, _kappa_rule(options, unit) if fixed
                                                  else None, stretches)
    if not kappa > 0:
        raise TrainingError("the unconstrained fit gave κ <= 0")
    return HyperelasticLaw(net, kappa), passes, notes


def fit_tests(curves: Sequence[TestCurve], options: HyperelasticOptions | None = None,
              predict_curves: Sequence[TestCurve] = ()) -> FitResult:
    """Fit one :class:`HyperelasticLaw` to every curve jointly (module docstring) and report per-mode
    metrics on them and on ``predict_curves`` (not fitted). Raises :class:`~snsurrogate.errors.DataError`
    for bad or contradictory curves and :class:`~snsurrogate.errors.TrainingError` if the fixed point fails."""
    options = options or HyperelasticOptions()
    start = time.perf_counter()
    unit = _check_inputs(curves)
    lo, hi = stretch_range(curves)
    dictionary = RampDictionary.spanning(lo / KNOT_PAD, hi * KNOT_PAD, options.knots)
    weights = _row_weights(curves, options.relative)
    has_volume = any(c.mode == "volumetric" for c in curves)
    fixed = options.bulk_modulus is not None or not has_volume
    if options.unconstrained:
        law, outer, notes = _free(curves, weights, options, fixed, unit, (lo, hi))
    else:
        law, outer, notes = _fixed_point(curves, dictionary, weights, options, fixed, unit)
    certificate = audit(law, (lo, hi))
    fitted = by_mode(law, curves)
    predicted = by_mode(law, predict_curves) if predict_curves else {}
    warnings = _warnings(curves, fitted) + _extrapolation(predict_curves, lo, hi)
    seconds = time.perf_counter() - start
    source = ("given" if options.bulk_modulus is not None else "fitted to the volumetric test" if not fixed
              else f"default K/μ = {options.bulk_ratio:g}")
    law.metadata.update({
        "units": {"stress": unit, "stretch": "-"},
        "tests": [_describe(c) for c in curves],
        "predict_tests": [_describe(c) for c in predict_curves],
        "certificate": certificate.to_dict(),
        "summary": {
            "law": "hyperelastic: W = sum_i w(lambda_i) + kappa/2 (J - 1)^2 (Valanis-Landel, no isochoric split)",
            "modes": {k: v.to_dict() for k, v in fitted.items()},
            "predicted": {k: v.to_dict() for k, v in predicted.items()},
            "lipschitz_bound": law.lipschitz_bound, "tangent_lower_bound": law.tangent_lower_bound,
            "largest_w2_data": certificate.largest_w2_data, "largest_w2_at": certificate.largest_w2_at,
            "tightness": certificate.tightness, "stretch_range": [lo, hi],
            "shear_modulus": law.shear_modulus, "bulk_modulus": law.bulk_modulus, "kappa": law.kappa,
            "bulk_modulus_source": source, "residuals": "relative" if options.relative else "balanced",
            "iterations": outer, "seconds": seconds, "notes": notes, "warnings": warnings,
            "constrained": law.constrained, "smallest_w2": certificate.smallest_w2,
            **({"ridges": law.arch.hidden[0], "knots": options.knots, "smoothing": options.smoothing}
               if law.constrained else
               {"hidden": list(options.hidden), "activation": options.activation, "epochs": options.epochs,
                "lr": options.lr, "seed": options.seed}),
        },
    })
    return FitResult(law, fitted, predicted, outer, seconds, tuple(notes), tuple(warnings))


def _extrapolation(curves: Sequence[TestCurve], lo: float, hi: float) -> list[str]:
    """A warning for each predicted test whose principal stretches (lateral ones included) leave the fitted range
    ``[lo, hi]`` by more than 5 %: its prediction is extrapolation (constant ``w''`` beyond the range)."""
    out = []
    for c in curves:
        a, b = stretch_range([c])
        if a < lo / 1.05 or b > hi * 1.05:
            out.append(f"the {c.mode} test {c.source} reaches principal stretches {a:.3g} .. {b:.3g}, beyond the "
                       f"fitted {lo:.3g} .. {hi:.3g}: its prediction is extrapolation (w'' is held constant outside "
                       "the data)")
    return out


def _warnings(curves: Sequence[TestCurve], fitted: dict[str, CurveMetrics]) -> list[str]:
    out = []
    if len({c.mode for c in curves if c.mode != "volumetric"}) == 1:
        out.append("one test mode does not determine a 3-D law: what it predicts for other modes is unreliable "
                   "(Treloar's rubber fitted to uniaxial tension alone predicts equibiaxial tension with R² -3.5 "
                   "and pure shear with -3.4; benchmarks/hyperelastic_modes.py); fit every mode you have")
    for mode, m in fitted.items():
        if m.r2 < POOR_R2:
            out.append(f"{mode} is fitted with R² {m.r2:.4f} < {POOR_R2}: the law (a convex energy of each principal "
                       "stretch, W = Σ w(λ_i) + U(J)) may not represent these data; check the plot, the mode and the "
                       "stress measure (nominal or --cauchy)")
    return out


def _describe(c: TestCurve) -> dict:
    return {"mode": c.mode, "file": c.source, "sha256": c.sha256, "columns": list(c.columns),
            "measure": c.measure, "weight": c.weight, "n_points": c.n_points}


__all__ = ["DEFAULT_BULK_RATIO", "CurveMetrics", "FitResult", "HyperelasticOptions", "by_mode", "fit_tests",
           "metrics", "predict"]
