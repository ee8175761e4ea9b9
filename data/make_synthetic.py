#!/usr/bin/env python3
"""Deterministic generator of the synthetic stress-strain data sets shipped in ``data/``.

Run ``python data/make_synthetic.py`` (optionally ``--out DIR``; default: the folder of this script)
to (re)write the five ``synthetic_*.csv`` files.  The output is byte-identical from run to run: every
random number comes from ``numpy.random.default_rng`` with a fixed seed per file, the computations
use only correctly rounded operations (+, -, *, /, sqrt), and every value is written with
10 significant digits (``%.10g``) after the strains have been rounded to exactly the digits that are
written, so the noise-free law evaluated at a stored strain is the value the noise was added to.
(NumPy does not promise that ``Generator`` streams never change between NumPy versions; if a future
NumPy changes the normal sampler, the regenerated noise differs and the regeneration test says so.)

Each file is written atomically (:func:`fem.atomic.write_bytes`: a temporary file in the destination
folder, fsynced, then ``os.replace``).

Units: stress in MPa, strain and stretch dimensionless.

Voigt convention (multiaxial files): engineering shear strains (gamma_ij = 2 eps_ij) and tensor shear
stresses; 3D order xx, yy, zz, yz, xz, xy; plane-strain order xx, yy, xy.  With this convention the
Voigt stress is energy-conjugate to the Voigt strain: ``sigma_i = d psi / d strain_voigt_i``.

The laws are small vectorized functions below, so tests (and users) can import this file as a
module (``importlib`` from its path) and compare the stored data with the noise-free law.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # run as `python data/make_synthetic.py`: the repository's fem package
    sys.path.insert(0, str(HERE.parent))

from fem.atomic import write_bytes  # noqa: E402

GENERATOR = "data/make_synthetic.py"
REGENERATE = "python data/make_synthetic.py [--out DIR]"

# ----------------------------------------------------------------------------------------------------
# (a) hardening (stiffening) cubic, 1D
# ----------------------------------------------------------------------------------------------------
CUBIC_E = 2000.0  # MPa, initial (small-strain) modulus
CUBIC_EPS_H = 0.05  # [-], strain at which the cubic term equals the linear term


def cubic_stress(strain, E: float = CUBIC_E, eps_h: float = CUBIC_EPS_H) -> np.ndarray:
    """Uniaxial stress [MPa] of the hardening cubic ``sigma = E eps (1 + (eps/eps_h)^2)``.

    Odd in ``eps`` (tension and compression are symmetric); tangent ``E (1 + 3 (eps/eps_h)^2)``.
    """
    eps = np.asarray(strain, dtype=float)
    r = eps / eps_h
    return E * eps * (1.0 + r * r)


def cubic_tangent(strain, E: float = CUBIC_E, eps_h: float = CUBIC_EPS_H) -> np.ndarray:
    """Tangent stiffness ``d sigma / d eps = E (1 + 3 (eps/eps_h)^2)`` [MPa] of :func:`cubic_stress`."""
    eps = np.asarray(strain, dtype=float)
    r = eps / eps_h
    return E * (1.0 + 3.0 * r * r)


def cubic_energy(strain, E: float = CUBIC_E, eps_h: float = CUBIC_EPS_H) -> np.ndarray:
    """Strain energy density [MPa] ``E (eps^2/2 + eps^4/(4 eps_h^2))`` whose derivative is the stress."""
    eps = np.asarray(strain, dtype=float)
    e2 = eps * eps
    return E * (0.5 * e2 + 0.25 * e2 * e2 / (eps_h * eps_h))


# ----------------------------------------------------------------------------------------------------
# (b) incompressible neo-Hookean, uniaxial, nominal stress
# ----------------------------------------------------------------------------------------------------
NH_MU = 0.4  # MPa, shear modulus


def neohookean_nominal_stress(stretch, mu: float = NH_MU) -> np.ndarray:
    """Nominal (1st Piola-Kirchhoff) uniaxial stress [MPa] ``P = mu (lambda - lambda^-2)``.

    Incompressible neo-Hookean material, ``psi = mu/2 (I1 - 3)``, lateral stretches ``lambda^-1/2``,
    traction-free lateral faces.  Valid for tension (lambda > 1) and compression (0 < lambda < 1).
    """
    lam = np.asarray(stretch, dtype=float)
    return mu * (lam - 1.0 / (lam * lam))


def neohookean_tangent(stretch, mu: float = NH_MU) -> np.ndarray:
    """``dP/dlambda = mu (1 + 2 lambda^-3)`` [MPa]; equals 3 mu (the small-strain Young's modulus) at 1."""
    lam = np.asarray(stretch, dtype=float)
    return mu * (1.0 + 2.0 / (lam * lam * lam))


# ----------------------------------------------------------------------------------------------------
# (c) cyclic loading-unloading-reloading on top of law (a)
# ----------------------------------------------------------------------------------------------------
CYCLIC_REVERSAL = 0.06  # strain at which the virgin loading is reversed
CYCLIC_MAX = 0.1  # final strain
CYCLIC_N_UNLOAD = 25  # rows on the unloading line (and again on the reloading line)


def cyclic_unload_slope() -> float:
    """Slope [MPa] of the elastic unloading/reloading line: the virgin tangent at the reversal point.

    Law (a) stiffens, so its secant and tangent at the reversal point exceed ``E``; a line of slope
    ``E`` through the reversal point would lie *above* the virgin curve (negative dissipation) and
    would reach zero stress only at a negative strain.  The tangent at the reversal is the smallest
    slope for which the unloading line stays below the virgin curve, so the loop dissipates energy
    and the residual strain is positive.
    """
    return float(cubic_tangent(CYCLIC_REVERSAL))


def cyclic_residual_strain() -> float:
    """Strain at which the unloading line reaches zero stress."""
    return CYCLIC_REVERSAL - float(cubic_stress(CYCLIC_REVERSAL)) / cyclic_unload_slope()


def cyclic_path() -> tuple[np.ndarray, np.ndarray]:
    """Strains (in test order, already rounded to the written digits) and segment codes of test (c).

    Segment codes: 0 virgin loading 0 -> 0.06 (law (a)), 1 elastic unloading to zero stress,
    2 elastic reloading back to the reversal point, 3 virgin loading 0.06 -> 0.1 (law (a)).
    """
    rev, res, n = CYCLIC_REVERSAL, cyclic_residual_strain(), CYCLIC_N_UNLOAD
    j = np.arange(1, n + 1, dtype=float)
    load1 = np.arange(0, 61, dtype=float) / 1000.0  # 0, 0.001, ..., 0.06
    unload = rev - (rev - res) * j / n  # last one = residual strain
    reload = res + (rev - res) * j / n  # last one = reversal strain
    load2 = np.arange(61, 101, dtype=float) / 1000.0  # 0.061, ..., 0.1
    strain = _round_written(np.concatenate([load1, unload, reload, load2]))
    segment = np.concatenate(
        [np.zeros(load1.size, int), np.ones(n, int), np.full(n, 2), np.full(load2.size, 3)]
    )
    return strain, segment


def cyclic_stress(strain, segment) -> np.ndarray:
    """Noise-free stress [MPa] of test (c): law (a) on virgin segments, the elastic line otherwise."""
    eps = np.asarray(strain, dtype=float)
    seg = np.asarray(segment)
    elastic = cyclic_unload_slope() * (eps - cyclic_residual_strain())
    return np.where((seg == 1) | (seg == 2), elastic, cubic_stress(eps))


# ----------------------------------------------------------------------------------------------------
# (d), (e) hardening isotropic hyperelastic law, small strain, engineering Voigt
# ----------------------------------------------------------------------------------------------------
HYPER_E = 1000.0  # MPa, small-strain Young's modulus
HYPER_NU = 0.3  # [-], small-strain Poisson ratio
HYPER_BETA = 400.0  # [-], hardening coefficient of the deviatoric part (multiplies e:e)


def hyper_moduli(E: float = HYPER_E, nu: float = HYPER_NU) -> tuple[float, float]:
    """Bulk and shear moduli ``K = E/(3(1-2 nu))``, ``mu = E/(2(1+nu))`` [MPa]."""
    return E / (3.0 * (1.0 - 2.0 * nu)), E / (2.0 * (1.0 + nu))


def _voigt_to_components(strain_voigt) -> tuple[np.ndarray, ...]:
    """Engineering Voigt strain (n, 3) plane strain or (n, 6) 3D -> tensor components of eps.

    Returns ``(xx, yy, zz, yz, xz, xy)`` tensor components (shear = engineering shear / 2); in plane
    strain ``zz = yz = xz = 0``.
    """
    v = np.asarray(strain_voigt, dtype=float)
    if v.ndim != 2 or v.shape[1] not in (3, 6):
        raise ValueError(f"strain_voigt must have shape (n, 3) or (n, 6), got {v.shape}")
    if v.shape[1] == 3:
        zero = np.zeros(v.shape[0])
        return v[:, 0], v[:, 1], zero, zero, zero, 0.5 * v[:, 2]
    return v[:, 0], v[:, 1], v[:, 2], 0.5 * v[:, 3], 0.5 * v[:, 4], 0.5 * v[:, 5]


def _deviator(strain_voigt):
    """Trace, 3D deviator components ``(xx, yy, zz, yz, xz, xy)`` and ``e:e`` of the strain."""
    xx, yy, zz, yz, xz, xy = _voigt_to_components(strain_voigt)
    tr = xx + yy + zz
    m = tr / 3.0
    dxx, dyy, dzz = xx - m, yy - m, zz - m
    q = dxx * dxx + dyy * dyy + dzz * dzz + 2.0 * (yz * yz + xz * xz + xy * xy)
    return tr, (dxx, dyy, dzz, yz, xz, xy), q


def hyper_energy(strain_voigt, E: float = HYPER_E, nu: float = HYPER_NU, beta: float = HYPER_BETA):
    """Energy density [MPa] ``psi = K/2 (tr eps)^2 + mu (e:e) + mu beta/2 (e:e)^2``, shape (n,).

    ``e = eps - (tr eps / 3) I`` is the 3D deviator (in plane strain eps_zz = 0 but e_zz != 0).
    """
    K, mu = hyper_moduli(E, nu)
    tr, _, q = _deviator(strain_voigt)
    return 0.5 * K * tr * tr + mu * q + 0.5 * mu * beta * q * q


def hyper_stress_3d(strain_voigt, E: float = HYPER_E, nu: float = HYPER_NU, beta: float = HYPER_BETA):
    """Full 3D Voigt stress (n, 6) ``[sxx, syy, szz, syz, sxz, sxy]`` [MPa] for (n, 3) or (n, 6) strain.

    ``sigma = K tr(eps) I + 2 mu (1 + beta e:e) e``.  For plane-strain input, ``szz`` is the
    out-of-plane reaction and ``syz = sxz = 0``.
    """
    K, mu = hyper_moduli(E, nu)
    tr, (dxx, dyy, dzz, yz, xz, xy), q = _deviator(strain_voigt)
    f = 2.0 * mu * (1.0 + beta * q)
    p = K * tr
    return np.stack([p + f * dxx, p + f * dyy, p + f * dzz, f * yz, f * xz, f * xy], axis=1)


_PLANE = [0, 1, 5]  # positions of xx, yy, xy in the 3D Voigt order


def hyper_stress(strain_voigt, E: float = HYPER_E, nu: float = HYPER_NU, beta: float = HYPER_BETA):
    """Voigt stress [MPa] of the hardening law, same layout as the input strain.

    Input: engineering Voigt strain ``[exx, eyy, gxy]`` (n, 3, plane strain) or
    ``[exx, eyy, ezz, gyz, gxz, gxy]`` (n, 6).  Output: ``[sxx, syy, sxy]`` or
    ``[sxx, syy, szz, syz, sxz, sxy]``.  Equals ``d hyper_energy / d strain_voigt``.
    """
    s = hyper_stress_3d(strain_voigt, E, nu, beta)
    return s[:, _PLANE] if np.shape(strain_voigt)[1] == 3 else s


def hyper_tangent(strain_voigt, E: float = HYPER_E, nu: float = HYPER_NU, beta: float = HYPER_BETA):
    """Consistent tangent ``d sigma_voigt / d strain_voigt`` (n, m, m) [MPa], engineering Voigt.

    ``C = K 1x1 + 2 mu (1 + beta e:e) P_dev + 4 mu beta e x e`` written for engineering shear
    strains (the shear-shear block of ``P_dev`` is 1/2 on the diagonal).  Symmetric.
    """
    K, mu = hyper_moduli(E, nu)
    v = np.asarray(strain_voigt, dtype=float)
    _, dev, q = _deviator(v)
    e = np.stack(dev, axis=1)  # (n, 6) tensor components of the deviator
    vol = np.zeros((6, 6))
    vol[:3, :3] = 1.0
    pdev = np.zeros((6, 6))
    pdev[:3, :3] = np.eye(3) - 1.0 / 3.0
    pdev[3:, 3:] = 0.5 * np.eye(3)
    f = 2.0 * mu * (1.0 + beta * q)
    C = K * vol + f[:, None, None] * pdev + 4.0 * mu * beta * e[:, :, None] * e[:, None, :]
    if v.shape[1] == 3:
        C = C[:, _PLANE][:, :, _PLANE]
    return C


def linear_elastic_voigt(ncomp: int, E: float = HYPER_E, nu: float = HYPER_NU) -> np.ndarray:
    """Isotropic linear-elastic stiffness in engineering Voigt form [MPa].

    ``ncomp = 3``: plane strain ``E/((1+nu)(1-2nu)) [[1-nu, nu, 0], [nu, 1-nu, 0], [0, 0, (1-2nu)/2]]``;
    ``ncomp = 6``: 3D, order xx, yy, zz, yz, xz, xy.
    """
    c = E / ((1.0 + nu) * (1.0 - 2.0 * nu))
    if ncomp == 3:
        return c * np.array([[1.0 - nu, nu, 0.0], [nu, 1.0 - nu, 0.0], [0.0, 0.0, 0.5 * (1.0 - 2.0 * nu)]])
    if ncomp == 6:
        C = np.zeros((6, 6))
        C[:3, :3] = c * nu
        C[[0, 1, 2], [0, 1, 2]] = c * (1.0 - nu)
        C[[3, 4, 5], [3, 4, 5]] = c * 0.5 * (1.0 - 2.0 * nu)
        return C
    raise ValueError("ncomp must be 3 (plane strain) or 6 (3D)")


HYPER_MAX_NORM = 0.05  # largest tensor norm sqrt(eps:eps) of a sampled strain state


def sample_strain_states(rng: np.random.Generator, n: int, ncomp: int) -> np.ndarray:
    """``n`` random strain states plus the zero state first, engineering Voigt, shape (n + 1, ncomp).

    Direction: a normalized standard-normal vector in tensor-component space, i.e. uniform on the
    unit sphere of ``(eps_xx, eps_yy, eps_xy)`` (plane strain) or of
    ``(eps_xx, eps_yy, eps_zz, eps_yz, eps_xz, eps_xy)`` (3D).  Magnitude: the direction is rescaled
    so that the tensor norm ``sqrt(eps:eps)`` (shear components counted twice) equals
    ``r ~ U[0, 0.05)``.  Draw order: all directions, then all magnitudes.
    """
    g = rng.standard_normal((n, ncomp))
    nshear = 1 if ncomp == 3 else 3
    sq = g * g
    # explicit, fixed-order sums (no reduction whose order could depend on the NumPy build)
    euclid = sq[:, 0]
    for k in range(1, ncomp):
        euclid = euclid + sq[:, k]
    d = g / np.sqrt(euclid)[:, None]
    dsq = d * d
    tnorm2 = dsq[:, 0]
    for k in range(1, ncomp):
        tnorm2 = tnorm2 + (2.0 if k >= ncomp - nshear else 1.0) * dsq[:, k]
    r = rng.uniform(0.0, HYPER_MAX_NORM, n)
    eps = d * (r / np.sqrt(tnorm2))[:, None]  # tensor components
    eps[:, ncomp - nshear :] *= 2.0  # engineering shear strains
    return _round_written(np.vstack([np.zeros((1, ncomp)), eps]))


# ----------------------------------------------------------------------------------------------------
# file specifications
# ----------------------------------------------------------------------------------------------------
SEEDS = {
    "synthetic_cubic_1d.csv": 20240101,
    "synthetic_neohookean_uniaxial.csv": 20240102,
    "synthetic_cyclic_1d.csv": 20240103,
    "synthetic_plane_strain.csv": 20240104,
    "synthetic_3d.csv": 20240105,
}
NOISE_FRACTION = {  # noise standard deviation as a fraction of max |noise-free stress| over the file
    "synthetic_cubic_1d.csv": 0.01,
    "synthetic_neohookean_uniaxial.csv": 0.005,
    "synthetic_cyclic_1d.csv": 0.005,
    "synthetic_plane_strain.csv": 0.01,
    "synthetic_3d.csv": 0.01,
}
N_PLANE = 600
N_3D = 800


def _fmt(x: float) -> str:
    return f"{float(x) + 0.0:.10g}"  # + 0.0 turns -0.0 into 0.0


def _round_written(a: np.ndarray) -> np.ndarray:
    """Round to exactly the value that ``_fmt`` writes, so law(stored strain) = pre-noise stress."""
    a = np.asarray(a, dtype=float)
    return np.array([float(_fmt(x)) for x in a.ravel()]).reshape(a.shape)


def _noise(rng: np.random.Generator, clean: np.ndarray, fraction: float) -> tuple[np.ndarray, float]:
    sd = fraction * float(np.max(np.abs(clean)))
    return clean + sd * rng.standard_normal(clean.shape), sd


def _noise_line(name: str, sd: float, what: str) -> str:
    return (
        f"# noise: additive Gaussian, independent, on {what} of every row (strains exact); standard "
        f"deviation = {_fmt(sd)} MPa = {NOISE_FRACTION[name]:g} x max|noise-free stress| over the file; "
        f"numpy.random.default_rng(seed={SEEDS[name]})"
    )


def _csv(comments: list[str], header: list[str], columns: list[np.ndarray]) -> str:
    data = np.column_stack(columns)
    lines = list(comments)
    lines.append(",".join(header))
    lines.extend(",".join(_fmt(x) for x in row) for row in data)
    return "\n".join(lines) + "\n"


def _first_line(what: str) -> str:
    return (
        f"# generated by {GENERATOR} (snsurrogate); SYNTHETIC data, not a measurement: {what}; "
        f"regenerate byte-identically with: {REGENERATE}; values written with 10 significant digits"
    )


VOIGT_LINE = (
    "# Voigt convention: engineering shear strains (g_ij = 2 eps_ij), tensor shear stresses; "
    "3D order xx, yy, zz, yz, xz, xy; plane-strain order xx, yy, xy; "
    "stress_voigt = d psi / d strain_voigt (energy-conjugate)"
)


def make_cubic() -> str:
    name = "synthetic_cubic_1d.csv"
    rng = np.random.default_rng(SEEDS[name])
    strain = np.arange(-100, 101, dtype=float) / 1000.0
    clean = cubic_stress(strain)
    stress, sd = _noise(rng, clean, NOISE_FRACTION[name])
    comments = [
        _first_line("1D hardening cubic law, uniaxial tension AND compression"),
        f"# law: stress = E*strain*(1 + (strain/eps_h)^2) with E = {CUBIC_E:g} MPa, "
        f"eps_h = {CUBIC_EPS_H:g} [-]; tangent d stress/d strain = E*(1 + 3*(strain/eps_h)^2)",
        f"# points: {strain.size} strains k/1000 for k = -100..100, evenly spaced on [-0.1, 0.1], "
        f"strain 0 included exactly; noise-free stress at strain +-0.1 is +-{_fmt(cubic_stress(0.1))} MPa",
        _noise_line(name, sd, "the stress"),
        "# columns: strain = uniaxial strain [-]; stress_MPa = uniaxial stress [MPa] (noise-free + noise)",
    ]
    return _csv(comments, ["strain", "stress_MPa"], [strain, stress])


def make_neohookean() -> str:
    name = "synthetic_neohookean_uniaxial.csv"
    rng = np.random.default_rng(SEEDS[name])
    k = np.arange(0, 121, dtype=float)
    stretch = (120.0 + 7.0 * k) / 240.0  # 0.5 + 3.5 k / 120
    clean = neohookean_nominal_stress(stretch)
    stress, sd = _noise(rng, clean, NOISE_FRACTION[name])
    comments = [
        _first_line("incompressible neo-Hookean, uniaxial tension AND compression"),
        f"# law: nominal (1st Piola-Kirchhoff, force per undeformed area) stress P = mu*(lambda - lambda^-2) "
        f"with mu = {NH_MU:g} MPa (energy psi = mu/2*(I1 - 3), incompressible, lateral stretches "
        "lambda^-1/2, lateral faces traction-free); tangent dP/dlambda = mu*(1 + 2*lambda^-3)",
        f"# points: {stretch.size} stretches 0.5 + 3.5*k/120 for k = 0..120, evenly spaced on [0.5, 4.0] "
        "(lambda < 1 is compression; lambda = 1 is not a grid point)",
        _noise_line(name, sd, "the nominal stress"),
        "# columns: stretch = principal stretch lambda in the loading direction [-] (= 1 + engineering "
        "strain); nominal_stress_MPa = P [MPa] (noise-free + noise)",
    ]
    return _csv(comments, ["stretch", "nominal_stress_MPa"], [stretch, stress])


def make_cyclic() -> str:
    name = "synthetic_cyclic_1d.csv"
    rng = np.random.default_rng(SEEDS[name])
    strain, seg = cyclic_path()
    clean = cyclic_stress(strain, seg)
    stress, sd = _noise(rng, clean, NOISE_FRACTION[name])
    rows = np.arange(1, strain.size + 1)
    ranges = [f"{rows[seg == s][0]}-{rows[seg == s][-1]}" for s in range(4)]
    S, res = cyclic_unload_slope(), cyclic_residual_strain()
    comments = [
        _first_line(
            "1D loading-unloading-reloading test that NO single-valued stress-strain law can represent; "
            "for the --branch loading option (fit the virgin loading branch only)"
        ),
        f"# virgin law = law of synthetic_cubic_1d.csv: stress = E*strain*(1 + (strain/eps_h)^2), "
        f"E = {CUBIC_E:g} MPa, eps_h = {CUBIC_EPS_H:g} [-]",
        f"# path in test order (data rows numbered from 1 after the header): rows {ranges[0]} virgin "
        f"loading 0 -> {CYCLIC_REVERSAL:g}; rows {ranges[1]} elastic unloading to zero stress; rows "
        f"{ranges[2]} elastic reloading back to the virgin curve at {CYCLIC_REVERSAL:g}; rows {ranges[3]} "
        f"virgin loading {CYCLIC_REVERSAL + 0.001:g} -> {CYCLIC_MAX:g}",
        f"# unloading/reloading line: stress = S*(strain - eps_r), S = virgin tangent at the reversal = "
        f"E*(1 + 3*({CYCLIC_REVERSAL:g}/eps_h)^2) = {_fmt(S)} MPa, residual strain eps_r = "
        f"{_fmt(res)}; (a slope of E would run above the stiffening virgin curve: negative dissipation)",
        "# loading branch = rows whose strain exceeds every earlier strain = virgin rows "
        f"{ranges[0]} and {ranges[3]}, which follow the virgin law on [0, {CYCLIC_MAX:g}]",
        _noise_line(name, sd, "the stress"),
        "# columns: strain = uniaxial strain [-]; stress_MPa = uniaxial stress [MPa] (noise-free + noise)",
    ]
    return _csv(comments, ["strain", "stress_MPa"], [strain, stress])


def _hyper_law_line() -> str:
    K, mu = hyper_moduli()
    return (
        "# law: small-strain isotropic hardening hyperelasticity, energy psi = K/2*(tr eps)^2 + mu*(e:e) + "
        "mu*beta/2*(e:e)^2, e = eps - (tr eps/3)*I (3D deviator); stress sigma = K*tr(eps)*I + "
        f"2*mu*(1 + beta*(e:e))*e; E = {HYPER_E:g} MPa, nu = {HYPER_NU:g} [-], beta = {HYPER_BETA:g} [-], "
        f"K = E/(3*(1-2*nu)) = {_fmt(K)} MPa, mu = E/(2*(1+nu)) = {_fmt(mu)} MPa; "
        "small-strain limit = isotropic linear elasticity with E, nu"
    )


def _sampling_line(n: int, space: str) -> str:
    return (
        f"# points: the zero strain state (first row) + {n} random states: direction uniform on the unit "
        f"sphere of tensor-component space {space} (normalized standard normal), rescaled so that the tensor "
        f"norm sqrt(eps:eps) (shears counted twice) is r ~ uniform[0, {HYPER_MAX_NORM:g}); "
        "the same rng draws directions, then magnitudes, then noise"
    )


def _hyper_sample(name: str, n: int, ncomp: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Strain states, noisy stress and the noise standard deviation [MPa] of a multiaxial file."""
    rng = np.random.default_rng(SEEDS[name])
    strain = sample_strain_states(rng, n, ncomp)
    stress, sd = _noise(rng, hyper_stress(strain), NOISE_FRACTION[name])
    return strain, stress, sd


def make_plane_strain() -> str:
    name = "synthetic_plane_strain.csv"
    strain, stress, sd = _hyper_sample(name, N_PLANE, 3)
    comments = [
        _first_line("multiaxial small-strain hardening hyperelastic law, PLANE STRAIN"),
        _hyper_law_line(),
        "# plane strain: eps_zz = eps_yz = eps_xz = 0; sigma_zz (out-of-plane reaction) is not written",
        VOIGT_LINE,
        _sampling_line(N_PLANE, "(eps_xx, eps_yy, eps_xy)"),
        _noise_line(name, sd, "each written stress component"),
        "# columns: exx, eyy = normal strains [-]; gxy = engineering shear strain 2*eps_xy [-]; "
        "sxx_MPa, syy_MPa = normal stresses [MPa]; sxy_MPa = shear stress sigma_xy [MPa] "
        "(stresses noise-free + noise)",
    ]
    header = ["exx", "eyy", "gxy", "sxx_MPa", "syy_MPa", "sxy_MPa"]
    return _csv(comments, header, [strain, stress])


def make_3d() -> str:
    name = "synthetic_3d.csv"
    strain, stress, sd = _hyper_sample(name, N_3D, 6)
    comments = [
        _first_line("multiaxial small-strain hardening hyperelastic law, full 3D"),
        _hyper_law_line(),
        VOIGT_LINE,
        _sampling_line(N_3D, "(eps_xx, eps_yy, eps_zz, eps_yz, eps_xz, eps_xy)"),
        _noise_line(name, sd, "each stress component"),
        "# columns: exx, eyy, ezz = normal strains [-]; gyz, gxz, gxy = engineering shear strains "
        "2*eps_ij [-]; sxx_MPa, syy_MPa, szz_MPa = normal stresses [MPa]; syz_MPa, sxz_MPa, sxy_MPa = "
        "shear stresses sigma_ij [MPa] (stresses noise-free + noise)",
    ]
    header = ["exx", "eyy", "ezz", "gyz", "gxz", "gxy"]
    header += ["sxx_MPa", "syy_MPa", "szz_MPa", "syz_MPa", "sxz_MPa", "sxy_MPa"]
    return _csv(comments, header, [strain, stress])


MAKERS = {
    "synthetic_cubic_1d.csv": make_cubic,
    "synthetic_neohookean_uniaxial.csv": make_neohookean,
    "synthetic_cyclic_1d.csv": make_cyclic,
    "synthetic_plane_strain.csv": make_plane_strain,
    "synthetic_3d.csv": make_3d,
}


def generate(out_dir: str | os.PathLike[str] = HERE) -> list[Path]:
    """Write every synthetic file into ``out_dir`` (created if missing); return the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, maker in MAKERS.items():
        path = out / name
        write_bytes(path, maker().encode("ascii"))  # ASCII, '\n' line ends on every platform
        written.append(path)
    return written


def read_csv(path: str | os.PathLike[str]) -> tuple[list[str], list[str], np.ndarray]:
    """Read a data file of this folder: (``#`` comment lines, column names, float array (rows, cols))."""
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    i = 0
    while i < len(lines) and lines[i].startswith("#"):
        i += 1
    comments, header = lines[:i], lines[i].split(",")
    rows = [[float(x) for x in ln.split(",")] for ln in lines[i + 1 :] if ln.strip()]
    return comments, header, np.array(rows, dtype=float).reshape(len(rows), len(header))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(HERE), help="output folder (default: the folder of this script)")
    args = parser.parse_args(argv)
    for path in generate(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
