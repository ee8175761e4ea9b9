"""Choosing the Lipschitz target ``L`` from the data (``--lipschitz auto``).

Rule
----
``L_auto = margin * S`` with ``margin = 1.2`` by default, where ``S`` [stress unit / strain unit] is
the steepest slope of the data after smoothing:

- one strain component: sort by strain; at every point fit a straight line (least squares) to the
  points within a strain bandwidth ``h = 0.02 * (strain range)`` on either side, widened to at least
  the 5 nearest points in strain order; ``S = max |slope|`` (the Euclidean norm of the slope vector
  when there are several stress components);
- several strain components: at every point (at most 4000, evenly sub-sampled) fit an affine map
  ``sigma ~ a + C (eps - eps_i)`` to its ``k = max(10, 3 (d_in + 1))`` nearest neighbours (strain scaled
  by one scalar), and ``S`` is the largest spectral norm ``||C||_2``, and at least that of the global
  linear fit.

What to expect: the fitted law's tangent never exceeds ``L`` anywhere, so the fit follows the data
wherever the data are less steep than ``L``; a feature steeper than ``S`` over less than about 2 % of
the strain range (for example a short toe region at the start of a tensile test, or noise) is
smoothed. The margin leaves the network room to fit the steepest part of the curve; the certified
stable time step of an explicit simulation scales as ``1/sqrt(L)``, so a larger ``L`` costs steps. Pass
an explicit value (``--lipschitz 70000``) to override.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

DEFAULT_MARGIN = 1.2
BANDWIDTH = 0.02
MIN_POINTS = 5


def steepest_slope(strain: np.ndarray, stress: np.ndarray) -> float:
    """Steepest smoothed slope ``S`` of the data (see the module docstring) [stress unit / strain unit].

    Parameters
    ----------
    strain
        ``(n, d_in)`` strains [strain unit].
    stress
        ``(n, d_out)`` stresses [stress unit].
    """
    strain = np.asarray(strain, dtype=np.float64)
    stress = np.asarray(stress, dtype=np.float64)
    if strain.ndim == 1:
        strain = strain[:, None]
    if stress.ndim == 1:
        stress = stress[:, None]
    if strain.shape[1] == 1:
        return _steepest_1d(strain[:, 0], stress)
    return _steepest_nd(strain, stress)


def _steepest_1d(eps: np.ndarray, sig: np.ndarray) -> float:
    order = np.argsort(eps, kind="stable")
    x, y = eps[order], sig[order]
    n = len(x)
    h = BANDWIDTH * (x[-1] - x[0])
    idx = np.arange(n)
    lo = np.minimum(np.searchsorted(x, x - h, side="left"), np.clip(idx - MIN_POINTS // 2, 0, n - MIN_POINTS))
    hi = np.maximum(np.searchsorted(x, x + h, side="right"), np.clip(idx - MIN_POINTS // 2, 0, n - MIN_POINTS) + MIN_POINTS)
    hi = np.minimum(hi, n)
    # Window sums by cumulative sums, centred at each window's mean strain for conditioning.
    xc = x - x.mean()

    def window_sum(v: np.ndarray) -> np.ndarray:
        c = np.concatenate((np.zeros((1,) + v.shape[1:]), np.cumsum(v, axis=0)))
        return c[hi] - c[lo]

    m = (hi - lo).astype(np.float64)
    sx = window_sum(xc)
    sxx = window_sum(xc * xc)
    sy = window_sum(y)
    sxy = window_sum(xc[:, None] * y)
    var = sxx - sx * sx / m
    valid = var > 1e-300
    slope = (sxy - sx[:, None] * sy / m[:, None])[valid] / var[valid, None]
    if not valid.any():
        return 0.0
    return float(np.max(np.linalg.norm(slope, axis=1)))


def _steepest_nd(eps: np.ndarray, sig: np.ndarray) -> float:
    n, d = eps.shape
    scale = np.max(np.abs(eps)) or 1.0
    k = min(n, max(10, 3 * (d + 1)))
    tree = cKDTree(eps / scale)
    centres = np.arange(n) if n <= 4000 else np.linspace(0, n - 1, 4000).astype(int)
    _, nbr = tree.query(eps[centres] / scale, k=k)
    de = eps[nbr] - eps[centres][:, None, :]  # (m, k, d_in)
    ds = sig[nbr] - sig[centres][:, None, :]  # (m, k, d_out)
    a = np.concatenate((np.ones(de.shape[:2] + (1,)), de), axis=2)  # affine fit
    coef = _lstsq(a, ds)
    c = np.swapaxes(coef[:, 1:, :], 1, 2)  # (m, d_out, d_in)
    local = np.linalg.norm(c, ord=2, axis=(1, 2))
    glob = np.linalg.lstsq(np.column_stack((np.ones(n), eps)), sig, rcond=None)[0][1:].T
    return float(max(np.max(local), np.linalg.norm(glob, ord=2)))


def _lstsq(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Batched least squares ``argmin ||a x - b||`` via the pseudo-inverse: ``(m, p, q)``."""
    return np.linalg.pinv(a) @ b


def auto_lipschitz(strain: np.ndarray, stress: np.ndarray, margin: float = DEFAULT_MARGIN) -> tuple[float, float]:
    """Return ``(L_auto, S)``: the target ``margin * S`` and the steepest smoothed slope ``S``.

    Both in stress unit per strain unit. Raises ``ValueError`` when the data have no slope at all.
    """
    if not margin >= 1.0:
        raise ValueError(f"the Lipschitz margin must be at least 1, got {margin!r}")
    s = steepest_slope(strain, stress)
    if not (np.isfinite(s) and s > 0):
        raise ValueError("the stress does not vary with strain in these data: no Lipschitz target can be derived")
    return margin * s, s
