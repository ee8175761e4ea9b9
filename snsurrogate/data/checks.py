"""Checks that a law ``σ = f(ε)`` can fit a :class:`~snsurrogate.data.dataset.Dataset`, wherever it came from.

:func:`check` runs them all, in this order: shapes (2-D arrays, 1, 3 or 6 strain columns, as many rows
and names as values), finite values, branch selection (one strain column: a strain reversal is an
error, or with ``branch="loading"`` the loading envelope is kept), enough rows, a varying strain in
every column, and no conflicting stresses at nearly one strain. Problems are raised as
:class:`~snsurrogate.errors.DataError` located by the data set's source and, for a file, its 1-based
line; for arrays (:meth:`Dataset.from_arrays <snsurrogate.data.dataset.Dataset.from_arrays>`) the
message names the 0-based row instead.

Single-valuedness
-----------------
A law ``σ = f(ε)`` cannot represent hysteresis or two different stresses at one strain, so such data
is rejected (or, for one strain column and ``branch="loading"``, reduced to its loading envelope).

With one strain column, the loading direction is that of the first move away from the first row by
more than the tolerance :data:`REVERSAL_TOL` × (strain range); tension and compression are both
allowed. A retreat from the running extreme strain by more than that tolerance is a reversal; smaller
wiggles are noise and are kept. Rows whose strain reverses but which, sorted by strain, form one smooth
curve (:func:`strain_order`: no row off the line through its neighbours by more than
:data:`SORTED_STRESS_TOL`) are rows not in test order, not hysteresis: they are sorted by strain, with a
note, for either ``branch``; only data whose stress differs between the branches get the reversal
error (``branch="all"``) or the loading envelope (``branch="loading"``).

Conflicts are checked on the kept rows for any number of strain columns: strains are divided by
max |strain| and stresses by max |stress| (one scalar each); two rows closer than
:data:`CONFLICT_STRAIN_TOL` in strain conflict when their stresses differ by more than
``CONFLICT_STRESS_TOL + 2 S d``, where ``d`` is their strain distance and ``S`` the steepest chord slope
of the data along the rows (chords at least ``CONFLICT_STRAIN_TOL / 2`` long), so that a steep but
single-valued elastic branch is not mistaken for a conflict. Exact duplicate rows do not conflict.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

from snsurrogate.errors import DataError

from .messages import fmt_row, line_ranges, plural
from .messages import names as _names
from .units import as_given

if TYPE_CHECKING:
    from .dataset import Dataset

__all__ = ["BRANCHES", "CONFLICT_STRAIN_TOL", "CONFLICT_STRESS_TOL", "REVERSAL_TOL", "SORTED_STRESS_TOL", "check",
           "fracture_rows", "strain_order", "FRACTURE_DROP", "FRACTURE_ROWS"]

#: Retreat from the running extreme strain, as a fraction of the strain range, that counts as a
#: direction reversal (smaller retreats are measurement noise).
REVERSAL_TOL = 0.01
#: Strain distance (strains divided by max |strain|) below which two rows are "at one strain".
CONFLICT_STRAIN_TOL = 2e-3
#: Stress difference (stresses divided by max |stress|) above which two rows at one strain conflict,
#: on top of what the steepest slope of the data explains (see the module docstring).
CONFLICT_STRESS_TOL = 0.05
#: Off-line distance (stresses divided by max |stress|) of a row from the line through its neighbours in
#: strain order above which data whose strain reverses are not single-valued (see :func:`strain_order`).
SORTED_STRESS_TOL = 0.05
#: Fall of the stress, as a fraction of its peak, within :data:`FRACTURE_ROWS` rows that marks a fracture
#: at the end of a test (:func:`fracture_rows`).
FRACTURE_DROP = 0.2
#: Number of rows within which the stress must fall by :data:`FRACTURE_DROP` of its peak.
FRACTURE_ROWS = 3
#: Accepted values of ``branch``.
BRANCHES = ("all", "loading")
#: Numbers of strain columns: uniaxial, plane Voigt (xx, yy, xy), 3D Voigt (xx, yy, zz, yz, xz, xy).
STRAIN_COMPONENTS = (1, 3, 6)
# Above this many (ordered) pairs within CONFLICT_STRAIN_TOL, the conflict check compares each row with
# its 16 nearest neighbours only, to bound time and memory on densely sampled data.
_EXACT_PAIR_LIMIT = 4_000_000


def check_options(source: str, branch: object, min_rows: object, strain_columns: Sequence[str]) -> None:
    """Raise DataError for a ``branch`` or ``min_rows`` option that cannot be used with these columns."""
    if branch not in BRANCHES:
        raise DataError(f"branch must be 'all' or 'loading', got {branch!r}", source)
    if branch == "loading" and len(strain_columns) != 1:
        raise DataError(
            f"branch='loading' (--branch loading) needs one strain column; got {len(strain_columns)} "
            f"({_names(strain_columns)}). Use branch='all' for multiaxial data",
            source,
        )
    if isinstance(min_rows, bool) or not isinstance(min_rows, int | np.integer) or min_rows < 1:
        raise DataError(f"min_rows must be a positive integer, got {min_rows!r}", source)


def check(ds: Dataset, branch: str = "all", min_rows: int = 10, keep_fracture: bool = False) -> Dataset:
    """Run every check on ``ds``; return it with the rows kept and the notes added.

    Parameters
    ----------
    ds
        The data set.
    branch
        ``"all"``: every row is kept, and a strain reversal (unloading) is an error. ``"loading"`` (one
        strain column only): keep the loading envelope, i.e. virgin loading and reloading beyond the
        previous extreme strain; the rows from where unloading starts until the strain passes the
        previous extreme again are dropped.
    min_rows
        Minimum number of rows that must remain (after branch selection).
    keep_fracture
        Keep the rows after a fracture at the end of the test (:func:`fracture_rows`); by default (one
        strain column) they are dropped with a note naming them.

    Returns
    -------
    Dataset
        A copy of ``ds`` with the rows kept, the new notes (a note already present is not repeated) and
        ``checked_branch`` set to ``branch``.
    """
    check_shapes(ds)
    check_options(ds.source, branch, min_rows, ds.strain_columns)
    check_finite(ds)
    notes: list[str] = []
    n_given = ds.n_points
    if ds.d_in == 1 and n_given > 1:
        keep = select_branch(ds, branch, notes)
        if keep is not None:
            ds = dataclasses.replace(
                ds, strain=ds.strain[keep], stress=ds.stress[keep], line_numbers=ds.line_numbers[keep]
            )
    if not isinstance(keep_fracture, bool | np.bool_):
        raise DataError(f"keep_fracture must be True or False, got {keep_fracture!r}", ds.source)
    if ds.d_in == 1 and not keep_fracture:
        first = fracture_rows(ds.strain[:, 0], ds.stress)
        if first is not None:
            cut = ds.line_numbers[first:]
            label = ds.row_label if cut.size == 1 else ds.row_label + "s"
            notes.append(
                f"fracture: the stress falls by {100 * FRACTURE_DROP:g}% or more of its peak within "
                f"{FRACTURE_ROWS} rows at the end of the test; dropped the last {plural(cut.size, 'row')} "
                f"({label} {line_ranges(cut)}) after fracture (keep them with --keep-fracture, API: "
                "keep_fracture=True)"
            )
            ds = dataclasses.replace(ds, strain=ds.strain[:first], stress=ds.stress[:first],
                                     line_numbers=ds.line_numbers[:first])
    if ds.n_points < min_rows:
        n = ds.n_points
        found = plural(n, "data row")
        if n != n_given:
            found = f"{plural(n, 'row')} kept by branch='loading' (of {n_given} read)"
        raise DataError(f"too few data rows: found {found}; at least {min_rows} are needed", ds.source)
    check_varies(ds)
    check_conflicts(ds)
    new = tuple(note for note in notes if note not in ds.notes)
    return dataclasses.replace(ds, notes=ds.notes + new, checked_branch=branch)


def _where(ds: Dataset, k: int) -> str:
    """``line 12`` (a file) or ``row 11`` (arrays) for row ``k`` of ``ds``."""
    return f"{ds.row_label} {int(ds.line_numbers[k])}"


def _line(ds: Dataset, k: int) -> int | None:
    """The file line of row ``k`` for the error's location, or None when the rows are not file lines."""
    return int(ds.line_numbers[k]) if ds.row_label == "line" else None


def check_shapes(ds: Dataset) -> None:
    """Raise DataError unless strain and stress are ``(n, d)`` arrays with matching rows and names."""
    e, s = ds.strain, ds.stress
    if e.ndim != 2 or s.ndim != 2 or e.shape[0] != s.shape[0]:
        raise DataError(
            f"strain and stress must be (n, d) arrays with one row per data point, got shapes {e.shape} and "
            f"{s.shape}",
            ds.source,
        )
    if e.shape[1] not in STRAIN_COMPONENTS:
        raise DataError(
            f"got {e.shape[1]} strain columns; expected 1 (uniaxial), 3 (plane Voigt xx, yy, xy) or 6 "
            "(3D Voigt xx, yy, zz, yz, xz, xy)",
            ds.source,
        )
    if s.shape[1] < 1:
        raise DataError("no stress columns; expected at least one", ds.source)
    if (len(ds.strain_columns), len(ds.stress_columns)) != (e.shape[1], s.shape[1]):
        raise DataError(
            f"{len(ds.strain_columns)} strain and {len(ds.stress_columns)} stress column names for "
            f"{e.shape[1]} strain and {s.shape[1]} stress columns; expected one name per column",
            ds.source,
        )
    if ds.line_numbers.shape != (e.shape[0],):
        raise DataError(f"{ds.line_numbers.shape} line numbers for {e.shape[0]} rows", ds.source)


def check_finite(ds: Dataset) -> None:
    """Raise DataError at the first NaN or infinite value (in row order, strain before stress)."""
    both = np.hstack([ds.strain, ds.stress])
    bad = np.argwhere(~np.isfinite(both))
    if bad.size:
        k, c = (int(v) for v in bad[0])
        columns = ds.strain_columns + ds.stress_columns
        kind = "NaN" if math.isnan(both[k, c]) else "infinite"
        raise DataError(
            f"{kind} value at {_where(ds, k)}; expected a finite number (fill in the value or remove the row)",
            ds.source,
            _line(ds, k),
            columns[c],
        )


def check_positive_stretch(source: str, stretch: np.ndarray, line_numbers: np.ndarray, label: str, column: str):
    """Raise DataError at the first stretch ``λ ≤ 0`` in ``stretch`` (shape ``(n,)``)."""
    bad = np.flatnonzero(~(stretch > 0.0))
    if bad.size:
        k = int(bad[0])
        where = f" at {label} {int(line_numbers[k])}" if label != "line" else ""
        raise DataError(
            f"stretch {stretch[k]:g}{where} is not positive; expected a stretch λ = L/L0 > 0 "
            "(if this column is a strain, pass it as strain (--strain) instead of stretch)",
            source,
            int(line_numbers[k]) if label == "line" else None,
            column,
        )


def select_branch(ds: Dataset, branch: str, notes: list[str]) -> np.ndarray | None:
    """Detect strain reversals in the one strain column; return the rows to keep (None: all).

    Raises DataError at the first reversal with ``branch="all"``; with ``"loading"`` keeps the loading
    envelope and notes the rows dropped.
    """
    strain = ds.strain[:, 0]
    raw = as_given(strain, ds.strain_unit)
    name, label = ds.strain_columns[0], ds.row_label
    span = float(strain.max() - strain.min())
    if span == 0.0:
        return None
    tol = REVERSAL_TOL * span
    moved = np.flatnonzero(np.abs(strain - strain[0]) > tol)
    direction = 1.0 if strain[moved[0]] > strain[0] else -1.0
    u = direction * (strain - strain[0])
    running = np.maximum.accumulate(u)
    retreat = np.flatnonzero(u < running - tol)
    sense = "tension, strain increasing" if direction > 0 else "compression, strain decreasing"
    if direction < 0:
        notes.append(f"loading direction: compression (strain in {name!r} decreases)")
    if retreat.size == 0:
        if branch == "loading":
            notes.append("branch='loading': no unloading found; all rows kept")
        return None
    k = int(retreat[0])
    peak = int(np.flatnonzero(u[:k] == running[k])[-1])
    order = strain_order(strain, ds.stress)
    if order is not None:
        reversals = max(1, int(np.count_nonzero(np.diff(u) < -tol)))  # steps back by more than the tolerance
        notes.append(
            f"rows were not in test order: sorted by strain ({plural(reversals, 'reversal')}, the first at "
            f"{_where(ds, peak + 1)}; sorted by strain the stress is one smooth curve, not hysteresis)"
        )
        return order
    if branch == "all":
        how = '--branch loading (API: branch="loading")' if label == "line" else 'branch="loading"'
        raise DataError(
            f"the strain reverses: unloading starts at {_where(ds, peak + 1)}. Loading "
            f"({sense}) reaches {raw[peak]:g} at {_where(ds, peak)}, then the strain goes back "
            f"to {raw[k]:g} at {_where(ds, k)}, by more than 1% of the strain range. A "
            f"single-valued law σ = f(ε) cannot represent unloading or hysteresis; pass {how} "
            "to keep only the loading envelope, or remove the unloading rows",
            ds.source,
            _line(ds, peak + 1),
            name,
        )
    keep = _loading_envelope(u, tol)
    dropped = ds.line_numbers[~keep]
    notes.append(
        f"branch='loading': kept {int(keep.sum())} of {keep.size} rows (the loading envelope); dropped "
        f"{plural(dropped.size, 'row')} of unloading and of reloading up to the previous extreme strain "
        f"({label if dropped.size == 1 else label + 's'} {line_ranges(dropped)})"
    )
    return keep


def strain_order(strain: np.ndarray, stress: np.ndarray) -> np.ndarray | None:
    """The rows sorted by strain when, so sorted, the data are single-valued; else None (hysteresis).

    Sorted by strain (in the direction of the largest |strain|, stable), each interior row is compared
    with the straight line through its two neighbours in strain order (their mean where the neighbours
    share one strain). The data are single-valued when no row is off that line by more than
    :data:`SORTED_STRESS_TOL` × max |stress| (Euclidean norm over several stress columns): the two
    branches of a hysteresis loop, interleaved by sorting, zigzag by their gap; a smooth curve in
    shuffled rows does not.
    """
    n = strain.size
    s_scale = float(np.max(np.abs(stress)))
    if n < 3 or s_scale == 0.0:
        return None
    sign = 1.0 if strain[int(np.argmax(np.abs(strain)))] >= 0 else -1.0
    order = np.argsort(sign * strain, kind="stable")
    x, y = sign * strain[order], stress[order] / s_scale
    dx = x[2:] - x[:-2]
    w = np.where(dx > 0, (x[1:-1] - x[:-2]) / np.where(dx > 0, dx, 1.0), 0.5)
    line = y[:-2] + w[:, None] * (y[2:] - y[:-2])
    off = np.linalg.norm(y[1:-1] - line, axis=1)
    return order if float(off.max()) <= SORTED_STRESS_TOL else None


def fracture_rows(strain: np.ndarray, stress: np.ndarray) -> int | None:
    """The first row after fracture at the end of a test, or None when the test does not end in one.

    With ``σ`` the stress in the loading direction (the sign of the strain of largest magnitude; the
    Euclidean norm over several stress columns) and ``P`` its peak: the test ends in a fracture when a
    row ``j`` after the peak lies more than :data:`FRACTURE_DROP` × ``P`` below the highest of the
    :data:`FRACTURE_ROWS` rows before it, every row from ``j`` to the end stays that far below it, and
    the strain does not go back after the fall starts (by more than :data:`REVERSAL_TOL` of its range).
    The post-fracture rows start at the steepest one-row fall among those rows. Necking is a
    gradual softening (about 1% of the peak per row at the end of the bundled Al 6061 test) and does
    not trigger this; nor does the end of an elastomer test, whose stress rises to the last row.
    """
    n = strain.size
    if n < FRACTURE_ROWS + 2:
        return None
    sign = 1.0 if strain[int(np.argmax(np.abs(strain)))] >= 0 else -1.0
    u = sign * strain
    sig = stress[:, 0] * sign if stress.shape[1] == 1 else np.linalg.norm(stress, axis=1)
    peak_at = int(np.argmax(sig))
    peak = float(sig[peak_at])
    if peak <= 0.0 or peak_at >= n - 1:
        return None
    drop = FRACTURE_DROP * peak
    for j in range(peak_at + 1, n):
        lo = max(peak_at, j - FRACTURE_ROWS)
        top = float(np.max(sig[lo:j]))
        if top - sig[j] > drop:
            i = lo + int(np.argmin(np.diff(sig[lo : j + 1])))  # the fall starts after row i: its steepest step
            tol = REVERSAL_TOL * float(u.max() - u.min())
            if np.all(sig[j:] < top - drop) and np.all(u[i:] >= np.maximum.accumulate(u[i:]) - tol):
                return i + 1
            return None
    return None


def _loading_envelope(u: np.ndarray, tol: float) -> np.ndarray:
    """Rows of the loading envelope of ``u`` (strain in the loading direction, shape ``(n,)``): drop from
    the row after each peak until the strain passes that peak again."""
    keep = np.ones(u.size, dtype=bool)
    top, top_idx, unloaded = float(u[0]), 0, False
    for i, ui in enumerate(u.tolist()):
        if i == 0:
            continue
        if unloaded:
            if ui > top:
                unloaded = False
                top, top_idx = ui, i
            else:
                keep[i] = False
        elif ui >= top:
            top, top_idx = ui, i
        elif ui < top - tol:
            keep[top_idx + 1 : i + 1] = False
            unloaded = True
    return keep


def check_varies(ds: Dataset) -> None:
    """Raise DataError for a strain column whose values are all equal."""
    raw = as_given(ds.strain, ds.strain_unit)
    for j, name in enumerate(ds.strain_columns):
        if np.all(ds.strain[:, j] == ds.strain[0, j]):
            raise DataError(
                f"all {ds.n_points} values are equal ({raw[0, j]:g}); the law would be unconstrained along "
                "this strain component; expected strain data that varies in every strain column",
                ds.source,
                None,
                name,
            )


def _steepest_chord(es: np.ndarray, ss: np.ndarray, r: float) -> float:
    """Steepest chord slope of scaled stress ``ss`` over scaled strain ``es`` along the rows, over chords
    at least ``r / 2`` long."""
    n = es.shape[0]
    h = 0.5 * r
    steps = np.linalg.norm(np.diff(es, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(steps)])
    ends = np.searchsorted(arc, arc + h, side="left")
    starts = np.flatnonzero(ends < n)
    ends = ends[starts]
    disp = np.linalg.norm(es[ends] - es[starts], axis=1)
    ok = disp >= 0.5 * h
    if not ok.any():
        return 0.0
    return float(np.max(np.linalg.norm(ss[ends[ok]] - ss[starts[ok]], axis=1) / disp[ok]))


def _conflicting_pairs(es: np.ndarray, ss: np.ndarray, allowance: float):
    """``(a, b, d, ds, exact)``: rows ``a < b`` within CONFLICT_STRAIN_TOL whose stresses conflict, their
    scaled strain and stress distances, and whether every pair was compared (else 16 neighbours each)."""
    n, r = es.shape[0], CONFLICT_STRAIN_TOL
    tree = cKDTree(es)
    exact = tree.count_neighbors(tree, r) <= _EXACT_PAIR_LIMIT
    if exact:
        pairs = tree.query_pairs(r, output_type="ndarray")
        a, b = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
        d = np.linalg.norm(es[a] - es[b], axis=1)
        dss = np.linalg.norm(ss[a] - ss[b], axis=1)
        bad = dss > CONFLICT_STRESS_TOL + allowance * d
        return a[bad], b[bad], d[bad], dss[bad], True
    found = []  # very dense data: check each row against its 16 nearest neighbours only
    for lo in range(0, n, 20_000):
        rows = np.arange(lo, min(n, lo + 20_000))
        dist, idx = tree.query(es[rows], k=min(n, 16), distance_upper_bound=r)
        valid = np.isfinite(dist) & (idx != rows[:, None])
        ii, kk = np.nonzero(valid)
        p, q = rows[ii], idx[ii, kk]
        dd = dist[ii, kk]
        dss = np.linalg.norm(ss[p] - ss[q], axis=1)
        bad = dss > CONFLICT_STRESS_TOL + allowance * dd
        found.append((np.minimum(p, q)[bad], np.maximum(p, q)[bad], dd[bad], dss[bad]))
    a, b, d, dss = (np.concatenate(parts) for parts in zip(*found, strict=True))
    return a, b, d, dss, False


def check_conflicts(ds: Dataset) -> None:
    """Raise DataError if two rows have conflicting stresses at nearly one strain (module docstring)."""
    n = ds.n_points
    e_scale = float(np.max(np.abs(ds.strain)))
    s_scale = float(np.max(np.abs(ds.stress)))
    if n < 2 or e_scale == 0.0 or s_scale == 0.0:
        return
    es, ss = ds.strain / e_scale, ds.stress / s_scale
    allowance = 2.0 * _steepest_chord(es, ss, CONFLICT_STRAIN_TOL)
    a, b, d, dss, exact = _conflicting_pairs(es, ss, allowance)
    if a.size == 0:
        return
    first = int(np.lexsort((a, b))[0])
    i, j = int(a[first]), int(b[first])
    count = int(np.unique(a.astype(np.int64) * n + b).size)
    more = ""
    if count > 1:
        more = f" ({'' if exact else 'at least '}{count} conflicting pairs of rows in all)"
    raw = as_given(ds.strain, ds.strain_unit)
    strain_names, stress_names = ds.strain_columns, ds.stress_columns
    raise DataError(
        f"conflicting stresses at nearly the same strain: {_where(ds, i)} has "
        f"{fmt_row(raw[i], strain_names)}, {fmt_row(ds.stress[i], stress_names)} and "
        f"{_where(ds, j)} has {fmt_row(raw[j], strain_names)}, "
        f"{fmt_row(ds.stress[j], stress_names)}: "
        f"the stresses differ by {100 * dss[first]:.3g}% of the largest |stress| while the strains differ "
        f"by {100 * d[first]:.2g}% of the largest |strain|{more}. A single-valued law σ = f(ε) cannot fit "
        "both; expected one stress per strain (remove or correct one of the rows, or split the file)",
        ds.source,
        _line(ds, j),
    )
