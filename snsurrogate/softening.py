"""Softening: where the data, or a fitted law, have a negative tangent stiffness.

A negative tangent (necking, strain softening, an unloading branch) makes the linearised explicit
system grow at *any* time step, so a step bound says nothing there. Two checks:

- :func:`data_softening`, at fit time: one strain component: the smoothed local slopes of
  :func:`snsurrogate.lipschitz_target.smoothed_slopes` (a least-squares line over 2 % of the strain range,
  at least 5 points) that are negative, grouped into strain intervals; several components: the
  smallest eigenvalue of the symmetric part of local affine fits over the nearest neighbours, counted
  below ``-NOISE_FLOOR`` (0.25) times the median local stiffness only (noise makes single fits scatter).
- :func:`law_softening`: the smallest eigenvalue of the symmetric part of a fitted law's tangent on a
  dense sample of the data's strain box and of a box three times larger (strains beyond the data).
  A potential law has a certified lower bound ``m >= 0`` instead, so it never softens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.spatial import cKDTree

from .lipschitz_target import smoothed_slopes

#: Several components: a local fit softens only below ``-NOISE_FLOOR`` x the median local ``||C||_2``.
NOISE_FLOOR = 0.25


@dataclass(frozen=True)
class Softening:
    """Where a tangent is negative.

    Attributes
    ----------
    fraction
        Share of the points examined with a negative tangent [-].
    min_tangent
        Most negative tangent found (1-D slope, or smallest eigenvalue of the symmetric part) [stress unit].
    at
        Strain where it was found (Voigt components) [-].
    ranges
        1-D: the strain intervals ``(lo, hi)`` of negative slope [-]; several components: empty.
    """

    fraction: float
    min_tangent: float
    at: tuple[float, ...]
    ranges: tuple[tuple[float, float], ...] = ()

    @property
    def softens(self) -> bool:
        return self.min_tangent < 0

    def describe(self, unit: str) -> str:
        """One line: ``softening over 76 % of the data (strain 0.03 .. 0.17); tangent down to -2696 MPa ...``."""
        if not self.softens:
            return "no softening found"
        where = ", ".join(f"{a:.4g} .. {b:.4g}" for a, b in self.ranges[:4])
        more = f" and {len(self.ranges) - 4} more" if len(self.ranges) > 4 else ""
        span = f" (strain {where}{more})" if where else ""
        at = ", ".join(f"{v:.4g}" for v in self.at)
        return (f"softening over {100 * self.fraction:.3g} % of the points{span}; tangent down to "
                f"{self.min_tangent:.5g} {unit} at strain {at}")

    def to_dict(self) -> dict:
        return {"softens": self.softens, "fraction": self.fraction, "min_tangent": self.min_tangent,
                "at": list(self.at), "ranges": [list(r) for r in self.ranges]}

    @classmethod
    def from_dict(cls, d: dict) -> Softening:
        """The inverse of :meth:`to_dict` (the ``data_softening`` and ``law_softening`` of a fit summary)."""
        return cls(float(d["fraction"]), float(d["min_tangent"]), tuple(d["at"]), tuple(map(tuple, d["ranges"])))


def model_softening(model) -> Softening | None:
    """Where a fitted law softens: ``None`` for a potential law (certified ``m >= 0``); else the fit
    summary's ``law_softening``, or, for a model file written before it was recorded, :func:`law_softening`
    on the data box stored in its metadata (``None`` if that is missing too)."""
    if model.kind == "potential":
        return None
    saved = (model.summary or {}).get("law_softening")
    if saved:
        return Softening.from_dict(saved)
    data = model.metadata.get("data", {})
    if data.get("strain_min") is None or data.get("strain_max") is None:
        return None
    return law_softening(model, data["strain_min"], data["strain_max"])


def data_softening(strain: np.ndarray, stress: np.ndarray) -> Softening:
    """Negative tangents in the data: ``strain (n, d)`` [-], ``stress (n, d_out)`` [stress unit]."""
    strain = np.asarray(strain, np.float64).reshape(len(strain), -1)
    stress = np.asarray(stress, np.float64).reshape(len(stress), -1)
    if strain.shape[1] == 1:
        x, slope = smoothed_slopes(strain[:, 0], stress)
        if not len(x):
            return Softening(0.0, 0.0, (0.0,))
        s = slope[:, 0] if slope.shape[1] == 1 else -np.linalg.norm(slope, axis=1) * (slope.sum(axis=1) < 0)
        neg = s < 0
        i = int(np.argmin(s))
        edges = np.flatnonzero(np.diff(np.concatenate(([0], neg.astype(np.int8), [0]))))
        ranges = tuple((float(x[a]), float(x[b - 1])) for a, b in zip(edges[::2], edges[1::2]))
        return Softening(float(neg.mean()), float(s[i]), (float(x[i]),), ranges)
    n, d = strain.shape
    if stress.shape[1] != d:
        return Softening(0.0, 0.0, tuple(0.0 for _ in range(d)))
    k = min(n, max(20, 5 * (d + 1)))
    centres = np.arange(n) if n <= 4000 else np.linspace(0, n - 1, 4000).astype(int)
    scale = np.max(np.abs(strain)) or 1.0
    _, nbr = cKDTree(strain / scale).query(strain[centres] / scale, k=k)
    de = strain[nbr] - strain[centres][:, None, :]
    ds = stress[nbr] - stress[centres][:, None, :]
    a = np.concatenate((np.ones(de.shape[:2] + (1,)), de), axis=2)
    c = np.swapaxes((np.linalg.pinv(a) @ ds)[:, 1:, :], 1, 2)
    low = np.linalg.eigvalsh(0.5 * (c + np.swapaxes(c, 1, 2)))[:, 0]
    # local fits over noisy neighbourhoods scatter about the true tangent: count a neighbourhood as
    # softening only below -NOISE_FLOOR x the median local stiffness
    floor = -NOISE_FLOOR * float(np.median(np.linalg.norm(c, ord=2, axis=(1, 2))))
    low = np.where(low < floor, low, np.maximum(low, 0.0))
    i = int(np.argmin(low))
    return Softening(float(np.mean(low < 0)), float(low[i]), tuple(float(v) for v in strain[centres[i]]))


def law_softening(model, lower, upper, n_samples: int = 4096, widen: float = 3.0, seed: int = 0) -> Softening:
    """Smallest tangent eigenvalue of a law on its data box ``[lower, upper]`` [-] and on the box widened
    ``widen`` times about its centre: a dense sample (a grid in 1-D, Sobol points otherwise)."""
    lo, hi = np.asarray(lower, np.float64).reshape(-1), np.asarray(upper, np.float64).reshape(-1)
    d = lo.size
    mid, half = 0.5 * (lo + hi), 0.5 * np.maximum(hi - lo, 1e-12)
    if d == 1:
        unit = np.linspace(-1.0, 1.0, n_samples)[:, None]
    else:
        unit = torch.quasirandom.SobolEngine(d, scramble=True, seed=seed).draw(n_samples).double().numpy() * 2 - 1
    pts = np.concatenate((mid + unit * half, mid + unit * half * widen))
    with torch.no_grad():
        c = torch.cat([model.tangent(torch.as_tensor(chunk)).double() for chunk in np.array_split(pts, 8)])
    low = torch.linalg.eigvalsh(0.5 * (c + c.transpose(1, 2)))[:, 0].numpy()
    i = int(np.argmin(low))
    neg = low < 0
    ranges: tuple[tuple[float, float], ...] = ()
    if d == 1:
        order = np.argsort(pts[:, 0])
        xs, ng = pts[order, 0], neg[order]
        edges = np.flatnonzero(np.diff(np.concatenate(([0], ng.astype(np.int8), [0]))))
        ranges = tuple((float(xs[a]), float(xs[b - 1])) for a, b in zip(edges[::2], edges[1::2]))
    return Softening(float(neg.mean()), float(low[i]), tuple(float(v) for v in pts[i]), ranges)
