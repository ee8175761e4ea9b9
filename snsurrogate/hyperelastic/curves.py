"""Test curves: one homogeneous test (a mode, its deformation and the stress it measured), from a file or arrays.

Every problem is a :class:`~snsurrogate.errors.DataError` naming the file (or ``<arrays>``), the line and
the column: a mode that does not match the columns (a biaxial test needs two stretch and two stress
columns, simple shear a ``shear`` column), stretches or volume ratios ≤ 0, too few rows, a stress whose
sign contradicts the deformation (tension stored negative, compression stored positive), and two rows of
one curve with different stresses at one deformation. :func:`check_consistent` compares curves with each
other (two files of one mode that disagree).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..data import table, units
from ..data.checks import CONFLICT_STRAIN_TOL, CONFLICT_STRESS_TOL
from ..errors import DataError
from .modes import FIT_MODES, MEASURES, spec

#: Fewest rows a test curve may have.
MIN_ROWS = 3


@dataclass(frozen=True)
class TestCurve:
    """One test: ``x`` (stretch λ ``(n,)``; ``(n, 2)`` for biaxial; amount of shear γ for simple shear; volume
    ratio J for volumetric, all dimensionless) and the stress it measured, ``(n,)`` or ``(n, 2)``, in
    :attr:`stress_unit`: nominal (first Piola–Kirchhoff) or Cauchy in the loading direction(s) (``measure``);
    pressure (Cauchy, > 0 in compression) for volumetric. ``weight`` multiplies the curve's residuals
    (:mod:`snsurrogate.hyperelastic.fitting`). ``line_numbers`` are 1-based file lines (0-based rows for arrays).
    """

    __test__ = False  # not a pytest test class

    mode: str
    x: np.ndarray
    stress: np.ndarray
    measure: str = "nominal"
    weight: float = 1.0
    stress_unit: str = "unspecified"
    source: str = "<arrays>"
    columns: tuple[str, ...] = ()
    line_numbers: np.ndarray = field(default=None)  # type: ignore[assignment]
    sha256: str = ""
    row_label: str = "row"
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def n_points(self) -> int:
        return int(self.x.shape[0])

    @property
    def label(self) -> str:
        """``mode=source`` as the command line names it."""
        return f"{self.mode}={self.source}"

    def where(self, k: int) -> str:
        """``'line 12'`` or ``'row 11'`` for row ``k``."""
        return f"{self.row_label} {int(self.line_numbers[k])}"

    def stretches(self) -> np.ndarray:
        """Every stretch this test prescribes (for the knot range): loaded stretches; the in-plane
        principal stretches of simple shear; ``J^{1/3}`` for volumetric. Dimensionless, flat."""
        if self.mode == "simple_shear":
            big = np.sqrt(1.0 + 0.25 * self.x**2) + 0.5 * np.abs(self.x)  # the sign of γ only swaps the two
            return np.concatenate((big, 1.0 / big))
        if self.mode == "volumetric":
            return np.cbrt(self.x)
        return np.asarray(self.x).ravel()


def _bad(curve: TestCurve, message: str, k: int | None = None, column: int | None = None) -> DataError:
    line = None if k is None else int(curve.line_numbers[k])
    name = curve.columns[column] if column is not None and column < len(curve.columns) else None
    if curve.row_label == "row" and line is not None:
        return DataError(f"row {line}: {message}", curve.source, None, name)
    return DataError(message, curve.source, line, name)


def _validate(c: TestCurve) -> None:
    s = spec(c.mode) if c.mode in FIT_MODES else None
    if s is None:
        raise DataError(f"unknown test mode {c.mode!r}; expected one of {', '.join(FIT_MODES)}", c.source)
    if c.measure not in MEASURES:
        raise DataError(f"unknown stress measure {c.measure!r}; expected one of {', '.join(MEASURES)}", c.source)
    x = np.asarray(c.x, dtype=np.float64)
    y = np.asarray(c.stress, dtype=np.float64)
    want = (-1, 2) if s.inputs == 2 else (-1,)
    if s.inputs == 2 and (x.ndim != 2 or x.shape[1] != 2):
        raise DataError(f"a {c.mode} test needs two stretch columns (λ₁, λ₂), got array shape {x.shape}", c.source)
    if s.outputs == 2 and (y.ndim != 2 or y.shape[1] != 2):
        raise DataError(f"a {c.mode} test needs two stress columns (P₁₁, P₂₂), got array shape {y.shape}", c.source)
    x, y = x.reshape(want), y.reshape(want)
    if x.shape[0] != y.shape[0]:
        raise DataError(f"{x.shape[0]} deformation rows but {y.shape[0]} stress rows", c.source)
    if c.line_numbers is None:
        object.__setattr__(c, "line_numbers", np.arange(x.shape[0], dtype=np.int64))
    if not c.sha256:  # arrays: the hash of their float64 bytes, as Dataset.from_arrays records
        object.__setattr__(c, "sha256", arrays_digest(x, y))
    object.__setattr__(c, "x", x)
    object.__setattr__(c, "stress", y)
    if not (np.isfinite(c.weight) and c.weight > 0):
        raise DataError(f"the weight of a test must be a finite number > 0, got {c.weight!r}", c.source)
    for a, what in ((x, 0), (y, s.inputs)):
        bad = np.flatnonzero(~np.isfinite(a).reshape(len(a), -1).all(axis=1))
        if bad.size:
            raise _bad(c, "non-finite value", int(bad[0]), what)
    if x.shape[0] < MIN_ROWS:
        raise DataError(f"a {c.mode} test needs at least {MIN_ROWS} rows, got {x.shape[0]}", c.source)
    if c.mode != "simple_shear":
        k, j = np.unravel_index(int(np.argmin(x.reshape(len(x), -1))), x.reshape(len(x), -1).shape)
        if x.reshape(len(x), -1)[k, j] <= 0:
            what = "volume ratio J" if c.mode == "volumetric" else "stretch"
            raise _bad(c, f"{what} {x.reshape(len(x), -1)[k, j]:g} is not > 0 ({what} = current / initial "
                          "length; a strain column is stretch - 1)", int(k), int(j))
    _check_signs(c)
    _check_single_valued(c)


def _drive(c: TestCurve) -> np.ndarray:
    """The deformation measure whose sign the stress should follow, per stress column ``(n, q)``."""
    if c.mode == "simple_shear":
        return c.x.reshape(-1, 1)
    if c.mode == "volumetric":
        return (1.0 - c.x).reshape(-1, 1)  # pressure > 0 in compression, J < 1
    return c.x.reshape(len(c.x), -1) - 1.0


def _check_signs(c: TestCurve) -> None:
    """Refuse a curve whose stresses mostly have the opposite sign to the deformation (a compression test
    stored with positive numbers, a swapped column, a biaxial test with its stress columns mixed up)."""
    d = _drive(c)
    y = c.stress.reshape(len(c.stress), -1)
    if c.mode == "biaxial":
        return  # a biaxial stress can be negative in tension when the other direction is stretched more
    loaded = np.abs(d) > 1e-3 * max(float(np.abs(d).max()), 1e-300)
    wrong = loaded & (np.sign(y) == -np.sign(d)) & (y != 0)
    if loaded.sum() and wrong.sum() > 0.5 * loaded.sum():
        k = int(np.flatnonzero(wrong.any(axis=1))[0])
        expect = ("a pressure > 0 where J < 1 (compression)" if c.mode == "volumetric" else
                  "tension (stretch > 1, γ > 0) with stress > 0 and compression with stress < 0")
        raise _bad(c, f"the stress has the opposite sign to the deformation in {int(wrong.sum())} of "
                      f"{int(loaded.sum())} loaded rows; expected {expect}. Is this the right mode and column, "
                      "or is compression stored as positive numbers?", k, spec(c.mode).inputs)


def _check_single_valued(c: TestCurve) -> None:
    """Two rows at nearly one deformation with clearly different stresses (hysteresis or mixed tests)."""
    x = c.x.reshape(len(c.x), -1)
    y = c.stress.reshape(len(c.stress), -1)
    scale = max(float(np.abs(y).max()), 1e-300)
    order = np.lexsort(x.T[::-1])
    xs, ys = x[order], y[order]
    near = np.all(np.abs(np.diff(xs, axis=0)) <= CONFLICT_STRAIN_TOL * np.maximum(1.0, np.abs(xs[1:])), axis=1)
    far = np.any(np.abs(np.diff(ys, axis=0)) > CONFLICT_STRESS_TOL * scale, axis=1)
    hit = np.flatnonzero(near & far)
    if hit.size:
        a, b = int(order[hit[0]]), int(order[hit[0] + 1])
        raise _bad(c, f"{c.where(a)} and {c.where(b)} give different stresses ({float(y[a, 0]):g}, "
                      f"{float(y[b, 0]):g}) at one deformation; a hyperelastic law has one stress per deformation "
                      "(unloading or several tests in one file? --branch loading keeps the loading envelope)", b,
                   spec(c.mode).inputs)


def check_consistent(curves: Sequence[TestCurve]) -> None:
    """Refuse curves of one mode and measure that contradict each other: at a deformation both cover, their
    stresses (linearly interpolated) differ by more than :data:`~snsurrogate.data.checks.CONFLICT_STRESS_TOL`
    × 4 of the larger stress (scatter between specimens is allowed; a wrong mode or unit is not)."""
    for i, a in enumerate(curves):
        for b in curves[i + 1:]:
            if a.mode != b.mode or a.measure != b.measure or spec(a.mode).inputs != 1:
                continue
            lo, hi = max(a.x.min(), b.x.min()), min(a.x.max(), b.x.max())
            inside = (b.x >= lo) & (b.x <= hi)
            if hi <= lo or not inside.any():
                continue
            order = np.argsort(a.x)
            ya = np.interp(b.x[inside], a.x[order], a.stress[order])
            gap = np.abs(ya - b.stress[inside])
            tol = 4 * CONFLICT_STRESS_TOL * np.maximum(np.abs(ya), np.abs(b.stress[inside])).max()
            if gap.max() > tol:
                k = int(np.flatnonzero(inside)[int(np.argmax(gap))])
                raise DataError(
                    f"{b.where(k)}: the {b.mode} stress {float(b.stress[k]):g} contradicts {a.source} "
                    f"({float(ya[int(np.argmax(gap))]):g} {a.stress_unit} at the same deformation): two {b.mode} "
                    "tests of one material must agree; is one of them another mode, unit or material?", b.source)


def read_test(path: str | os.PathLike[str], mode: str, *, stretch: Sequence[str] = (), stress: Sequence[str] = (),
              shear: str | None = None, volume: str | None = None, measure: str = "nominal",
              stress_unit: str | None = None, weight: float = 1.0, delimiter: str = ",", decimal: str = ".",
              skip_rows: int = 0, strain: Sequence[str] = (), strain_unit: str | None = None,
              branch: str = "all") -> TestCurve:
    """Read one test curve from a CSV file (the table format of :mod:`snsurrogate.data.table`).

    ``stretch``: the stretch column (two for biaxial: λ₁, λ₂), or ``strain``: engineering strain column(s)
    instead (``λ = 1 + ε``; ``strain_unit="%"`` or a ``%`` in the name divides by 100); ``shear``: the
    amount-of-shear column γ (simple shear, instead of ``stretch``); ``volume``: the volume-ratio column J
    (volumetric); ``stress``: one stress column (two for biaxial). The stress unit comes from
    ``stress_unit``, a units row or the column names. ``branch="loading"`` keeps the loading envelope of a test
    with unloading cycles (Mullins softening, hysteresis; one deformation column), as
    :func:`snsurrogate.data.read_curves` does, with a note naming what was dropped (``curve.notes``).
    """
    source = os.fspath(path)
    if mode not in FIT_MODES:
        raise DataError(f"unknown test mode {mode!r}; expected one of {', '.join(FIT_MODES)}", source)
    if strain and stretch:
        raise DataError("give the deformation either as stretch columns (--stretch) or as engineering strain "
                        "columns (--strain), not both", source)
    deformation = _deformation_columns(source, mode, tuple(stretch or strain), shear, volume)
    stress = tuple(stress)
    if len(stress) != spec(mode).outputs:
        raise DataError(f"a {mode} test takes {spec(mode).outputs} stress column(s) (--stress), got {len(stress)}"
                        + (f": {', '.join(stress)}" if stress else ""), source)
    columns = deformation + stress
    delim = table.resolve_delimiter(source, delimiter)
    table.check_decimal(source, decimal, delim)
    lines = table.read_lines(source, table.check_skip_rows(source, skip_rows))
    split = table.splitter(delim)
    header, col_idx = table.header_columns(lines, split, delim, columns)
    rows, notes = lines.rows, []
    found = table.units_row(rows, split, len(header), col_idx)
    if found is not None:
        rows = rows[1:]
        cells = set(found[1][len(deformation):])
        if stress_unit is None and len(cells) == 1:
            stress_unit = units.stress_unit_from_row(source, found[0], cells.pop(), stress[0], notes)
    unit = units.stress_unit(source, lines.header_no, stress, stress_unit, notes)
    raw, line_numbers = table.parse_rows(source, rows, split, delim, len(header), col_idx, columns, decimal)
    n_in = len(deformation)
    if strain:
        file_unit = units.strain_unit(source, lines.header_no, tuple(strain), strain_unit, notes)
        raw[:, :n_in] = 1.0 + units.to_strain(raw[:, :n_in], file_unit)
    if branch != "all":
        raw, line_numbers = _loading_branch(source, raw, line_numbers, columns, branch, n_in, notes)
    return TestCurve(mode, raw[:, :n_in].reshape(-1, n_in) if n_in == 2 else raw[:, 0],
                     raw[:, n_in:] if n_in == 2 else raw[:, n_in], measure=measure, weight=weight, stress_unit=unit,
                     source=source, columns=columns, line_numbers=line_numbers, sha256=lines.sha256, row_label="line",
                     notes=tuple(notes))


def _loading_branch(source, raw, line_numbers, columns, branch, n_in, notes):
    """The rows of the loading envelope (``branch="loading"``), by the checks of :mod:`snsurrogate.data.checks`."""
    from ..data import Dataset

    if branch != "loading":
        raise DataError(f"branch must be 'all' or 'loading', got {branch!r}", source)
    if n_in != 1:
        raise DataError("branch='loading' needs one deformation column (a biaxial test has two)", source)
    ds = Dataset.from_arrays(raw[:, 0], raw[:, 1:], strain_names=columns[:1], stress_names=columns[1:],
                             source=source, branch="loading", min_rows=MIN_ROWS, keep_fracture=True)
    keep = np.sort(ds.line_numbers)
    dropped = len(raw) - len(keep)
    if dropped:
        first = int(line_numbers[np.setdiff1d(np.arange(len(raw)), keep)[0]])
        notes.append(f"branch='loading': kept the loading envelope, {dropped} rows dropped (the first at line {first})")
    return raw[keep], line_numbers[keep]


def _deformation_columns(source: str, mode: str, stretch: tuple[str, ...], shear: str | None,
                         volume: str | None) -> tuple[str, ...]:
    if mode == "simple_shear":
        if stretch or shear is None:
            raise DataError("a simple_shear test takes its amount of shear γ from --shear COLUMN, not --stretch",
                            source)
        return (shear,)
    if shear is not None:
        raise DataError(f"--shear is for simple_shear tests; a {mode} test takes --stretch", source)
    if mode == "volumetric":
        if volume is None:
            raise DataError("a volumetric test takes its volume ratio J from --volume COLUMN", source)
        return (volume,)
    need = spec(mode).inputs
    if len(stretch) != need:
        raise DataError(f"a {mode} test takes {need} stretch (or strain) column(s) (--stretch), got {len(stretch)}"
                        + (f": {', '.join(stretch)}" if stretch else ""), source)
    return stretch


def arrays_digest(*arrays: np.ndarray) -> str:
    """Hex SHA-256 of float64 arrays, as :class:`TestCurve` records for data given as arrays."""
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    return h.hexdigest()


__all__ = ["MIN_ROWS", "TestCurve", "arrays_digest", "check_consistent", "read_test"]
