"""Read experimental stress–strain curves from CSV files: :func:`read_curves`.

The file is read as a table (:mod:`~snsurrogate.data.table`), its units are found
(:mod:`~snsurrogate.data.units`), and the resulting :class:`~snsurrogate.data.dataset.Dataset` is
checked (:mod:`~snsurrogate.data.checks`) before it is returned.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from snsurrogate.errors import DataError

from . import checks, table, units
from .dataset import Dataset
from .messages import names as _names

__all__ = ["read_curves"]


def read_curves(
    path: str | os.PathLike[str],
    *,
    stress: Sequence[str],
    strain: Sequence[str] | None = None,
    stretch: str | None = None,
    stress_unit: str | None = None,
    strain_unit: str | None = None,
    delimiter: str = ",",
    decimal: str = ".",
    branch: str = "all",
    min_rows: int = 10,
    skip_rows: int = 0,
    keep_fracture: bool = False,
) -> Dataset:
    """Read stress–strain data from a CSV file and check that a law ``σ = f(ε)`` can fit it.

    Parameters
    ----------
    path
        The CSV file (format in :mod:`snsurrogate.data.table`).
    stress
        Names of the stress columns (one or more).
    strain
        Names of the strain columns: 1 (uniaxial), 3 (plane Voigt ``xx, yy, xy``) or 6 (3D Voigt
        ``xx, yy, zz, yz, xz, xy``), engineering shear. Exactly one of ``strain`` and ``stretch``.
    stretch
        Name of one stretch column ``λ = L/L0`` (> 0); the strain is ``λ - 1``.
    stress_unit
        Stress unit. Default: read from a units row under the header or from the stress column names,
        which must then all carry the same unit. Known spellings (case-insensitive) are normalised,
        e.g. ``"mpa"`` -> ``"MPa"``.
    strain_unit
        ``"-"``, ``"1"`` or ``"mm/mm"`` (dimensionless) or ``"%"`` (divided by 100). Default: percent
        if the units row or the strain column names say so (``%``, ``percent``, ``pct``), otherwise
        dimensionless. Not used with ``stretch`` (``None`` or ``"stretch"`` only).
    delimiter
        Field separator, one character. Aliases: ``"\\\\t"`` or ``"tab"`` for a tab, ``"semicolon"``,
        ``"comma"``, and ``" "``, ``"space"`` or ``"whitespace"`` for runs of spaces and tabs.
    decimal
        Decimal separator of the numbers: ``"."`` (default) or ``","`` (then the delimiter must be
        another character, e.g. ``";"``).
    branch
        ``"all"``: every row is kept, and a strain reversal (unloading) is an error, unless the rows,
        sorted by strain, form one smooth curve: then they were not in test order and are sorted (a note).
        ``"loading"`` (one strain column only): keep the loading envelope, i.e. virgin loading and
        reloading beyond the previous extreme strain; the rows from the line where unloading starts
        until the strain passes the previous extreme again are dropped.
    min_rows
        Minimum number of rows that must remain (after branch selection).
    skip_rows
        Number of lines at the top of the file to leave out before the header, whatever they hold
        (the preamble of a test-machine export: sample name, date, ... without ``#``). A header line
        that lacks the selected columns while a later line holds them, or that has fewer fields than the
        data rows, is reported with the ``--skip-rows N`` that skips the preamble.
    keep_fracture
        Keep the rows after fracture at the end of a tensile test (a sudden final drop of the stress,
        :func:`snsurrogate.data.checks.fracture_rows`); by default they are dropped with a note naming the
        lines.

    Returns
    -------
    Dataset
        ``strain`` of shape ``(n, d_in)`` (dimensionless), ``stress`` of shape ``(n, d_out)`` (in
        ``stress_unit``), line numbers, units, provenance and notes.

    Raises
    ------
    DataError
        Missing, unreadable, undecodable or empty file; bad options; header problems (one field,
        which suggests a wrong delimiter; duplicate names; a missing column, with the nearest name
        suggested); a row with the wrong number of fields; an empty, non-numeric, NaN or infinite
        cell; a stretch ≤ 0; a stress unit that is neither given nor readable from the names; and the
        checks of :mod:`snsurrogate.data.checks`: fewer than ``min_rows`` rows; a strain column whose
        values are all equal; a strain reversal with ``branch="all"``; two rows with conflicting
        stresses at nearly one strain.
    """
    source = os.fspath(path)
    sel = _check_selection(source, strain, stretch, stress)
    checks.check_options(source, branch, min_rows, sel.strain_columns)
    delim = table.resolve_delimiter(source, delimiter)
    table.check_decimal(source, decimal, delim)
    units.check_unit_options(source, stress_unit, strain_unit, sel.stretch)

    lines = table.read_lines(source, table.check_skip_rows(source, skip_rows))
    split = table.splitter(delim)
    header, col_idx = table.header_columns(lines, split, delim, sel.columns)
    rows = lines.rows
    notes: list[str] = []
    found = table.units_row(rows, split, len(header), col_idx)
    if found is not None:
        rows = rows[1:]
        stress_unit, strain_unit = _units_from_row(source, sel, found, stress_unit, strain_unit, notes)
    unit = units.stress_unit(source, lines.header_no, sel.stress_columns, stress_unit, notes)
    if sel.stretch:
        file_strain_unit = "stretch"
        notes.append(f"strain = stretch - 1 (engineering strain) from column {sel.strain_columns[0]!r}")
    else:
        file_strain_unit = units.strain_unit(source, lines.header_no, sel.strain_columns, strain_unit, notes)

    raw, line_numbers = table.parse_rows(source, rows, split, delim, len(header), col_idx, sel.columns, decimal)
    d_in = len(sel.strain_columns)
    if sel.stretch:
        checks.check_positive_stretch(source, raw[:, 0], line_numbers, "line", sel.strain_columns[0])
    dataset = Dataset(
        strain=np.ascontiguousarray(units.to_strain(raw[:, :d_in], file_strain_unit), dtype=np.float64),
        stress=np.ascontiguousarray(raw[:, d_in:], dtype=np.float64),
        strain_columns=sel.strain_columns,
        stress_columns=sel.stress_columns,
        stress_unit=unit,
        strain_unit=file_strain_unit,
        source=source,
        sha256=lines.sha256,
        line_numbers=line_numbers,
        comments=tuple(text.strip() for _, text in lines.comments),
        notes=tuple(notes),
    )
    return dataset.check(branch=branch, min_rows=min_rows, keep_fracture=keep_fracture)


@dataclass(frozen=True)
class _Selection:
    """The columns selected: strain (or the one stretch column, then ``stretch`` is True) and stress."""

    strain_columns: tuple[str, ...]
    stress_columns: tuple[str, ...]
    stretch: bool

    @property
    def columns(self) -> tuple[str, ...]:
        return self.strain_columns + self.stress_columns


def _units_from_row(
    source: str,
    sel: _Selection,
    found: tuple[int, list[str]],
    stress_unit: str | None,
    strain_unit: str | None,
    notes: list[str],
) -> tuple[str | None, str | None]:
    """``(stress_unit, strain_unit)`` after a units row: the options where given, else the row's units."""
    row_no, cells = found
    row_units = dict(zip(sel.columns, cells, strict=True))
    notes.append(f"line {row_no} read as a units row: " + ", ".join(f"{k} [{v}]" for k, v in row_units.items()))
    stress_cells = {row_units[name] for name in sel.stress_columns}
    if stress_unit is None and len(stress_cells) == 1:
        stress_unit = units.stress_unit_from_row(source, row_no, stress_cells.pop(), sel.stress_columns[0], notes)
    elif stress_unit is not None:
        _refuse_contradiction("stress", stress_unit, units.canonical_stress_unit(stress_unit, []),
                              units.known_stress_unit, sel.stress_columns, row_units, source, row_no)
    if not sel.stretch and strain_unit is None:
        strain_unit = units.strain_unit_from_row(source, row_no, sel.strain_columns, row_units)
    elif not sel.stretch:
        _refuse_contradiction("strain", strain_unit, units.STRAIN_UNITS[strain_unit], units.known_strain_unit,
                              sel.strain_columns, row_units, source, row_no)
    return stress_unit, strain_unit


def _name_list(source: str, value: object, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    try:
        names = tuple(value)  # type: ignore[arg-type]
    except TypeError:
        raise DataError(f"{what} must be a list of column names, got {value!r}", source) from None
    if not names:
        raise DataError(f"no {what} columns given; expected at least one column name", source)
    out = []
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise DataError(f"{what} column names must be non-empty strings, got {name!r}", source)
        out.append(name.strip())
    return tuple(out)


def _check_selection(source: str, strain: object, stretch: object, stress: object) -> _Selection:
    """The selected columns, or a DataError for a selection that cannot be read."""
    if (strain is None) == (stretch is None):
        raise DataError(
            "give exactly one of strain (strain column names, --strain) and stretch (one stretch "
            f"column, --stretch); got {'both' if strain is not None else 'neither'}",
            source,
        )
    stress_names = _name_list(source, stress, "stress")
    if stretch is not None:
        names = _name_list(source, stretch, "stretch")
        if len(names) != 1:
            raise DataError(f"stretch takes one column name, got {len(names)}: {_names(names)}", source)
        strain_names = names
    else:
        strain_names = _name_list(source, strain, "strain")
        if len(strain_names) not in checks.STRAIN_COMPONENTS:
            raise DataError(
                f"got {len(strain_names)} strain columns ({_names(strain_names)}); expected 1 "
                "(uniaxial), 3 (plane Voigt xx, yy, xy) or 6 (3D Voigt xx, yy, zz, yz, xz, xy)",
                source,
            )
    for name in stress_names:
        if name in strain_names:
            raise DataError(
                f"column {name!r} is selected both as strain and as stress; expected different columns",
                source,
                None,
                name,
            )
    seen: set[str] = set()
    for name in strain_names + stress_names:
        if name in seen:
            raise DataError(f"column {name!r} is selected twice; expected each column once", source, None, name)
        seen.add(name)
    return _Selection(strain_names, stress_names, stretch is not None)


def _refuse_contradiction(what: str, option: str, given: str, known, columns, row_units: dict[str, str],
                          source: str, row_no: int) -> None:
    """Refuse a ``--stress-unit``/``--strain-unit`` option that names another unit than the file's units row
    (the same unit spelled differently, e.g. ``mpa`` and ``MPa``, is accepted)."""
    for name in columns:
        row_unit = known(row_units[name])
        if row_unit is not None and row_unit != given:
            raise DataError(
                f"the units row says {row_units[name]!r} but --{what}-unit (API: {what}_unit=) {option!r} was "
                f"given; expected one {what} unit: drop the option to use the file's {row_unit!r}, or correct "
                "the units row", source, row_no, name)
