"""Isotropic hyperelastic laws fitted to standard test modes, with a certified stretch-energy network.

Modules
-------
:mod:`~snsurrogate.hyperelastic.modes`
    Test-mode kinematics (uniaxial, equibiaxial, pure shear, biaxial, simple shear, volumetric), the
    stress-free lateral stretch at a finite bulk modulus, and each mode's stress as a linear functional of ``w'``.
:mod:`~snsurrogate.hyperelastic.law`
    :class:`HyperelasticLaw`: ``W = Σ w(λ_i) + κ/2 (J - 1)²``, ``P(F)``, ``σ(F)``, the test-mode stresses, the
    certificate ``m <= w'' <= L`` and the state bound ``a(F) >= λ_max(∂P/∂F)``.
:mod:`~snsurrogate.hyperelastic.ridges`
    The stretch energy as a convex ridge network built from a dictionary of monotone curvature ramps.
:mod:`~snsurrogate.hyperelastic.fitting`
    :func:`fit_tests`: the joint fit, a convex non-negative least-squares problem; per-mode metrics.
:mod:`~snsurrogate.hyperelastic.unconstrained`
    The free-weight counterpart for comparisons (``HyperelasticOptions(unconstrained=True)``): an MLP of ``ln λ``
    fitted by Adam, certified only ``|w''| <= L/λ`` (product of its layer norms), no convexity.
:mod:`~snsurrogate.hyperelastic.certificate`
    :func:`audit`: the certificate against autograd, in 1-D and at random 3-D deformations.
:mod:`~snsurrogate.hyperelastic.curves`
    :class:`TestCurve` and :func:`read_test` (CSV files), with located errors.
:mod:`~snsurrogate.hyperelastic.fitfile`
    The TOML fit file of ``snsurrogate fit --tests``.
:mod:`~snsurrogate.hyperelastic.report`
    ``MODEL.json``, the per-mode plot and the printed summary.
"""

from .curves import TestCurve, read_test
from .fitting import FitResult, HyperelasticOptions, fit_tests
from .law import HyperelasticLaw
from .modes import FIT_MODES, MODES

__all__ = ["FIT_MODES", "MODES", "FitResult", "HyperelasticLaw", "HyperelasticOptions", "TestCurve", "fit_tests",
           "read_test"]
