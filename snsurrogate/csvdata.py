"""Read experimental stress–strain curves from CSV files.

:func:`read_curves` turns a CSV file of measured strain and stress into a :class:`Dataset` of float64
arrays, or raises :class:`~snsurrogate.errors.DataError` naming the file, the line (1-based, as an
editor shows it) and the column of the problem, with a message that says what was expected.

File format
-----------
* UTF-8 text, with or without a byte-order mark; ``\\n``, ``\\r\\n`` or ``\\r`` line ends.
* Lines whose first non-blank character is ``#`` are comments, anywhere in the file; their text is
  kept in :attr:`Dataset.comments` as provenance. Blank lines are skipped.
* The first other line is the header of column names; every later line is a data row with as many
  fields as the header. Fields are split with the :mod:`csv` module (quoted names and cells are
  allowed); whitespace around names and cells is ignored. Columns that are not selected are ignored
  but must still be present in every row.

Units
-----
No unit is assumed silently. The stress unit is the ``stress_unit`` argument or is read from the
stress column names (``stress_MPa``, ``stress [MPa]``, ``stress (kPa)``, ``Stress/GPa``, ...); strain
is dimensionless unless the name or ``strain_unit`` says percent; a stretch column gives the
engineering strain ``λ - 1``. Every inference is recorded in :attr:`Dataset.notes`.

Single-valuedness
-----------------
A law ``σ = f(ε)`` cannot represent hysteresis or two different stresses at one strain, so such data
is rejected (or, for one strain column and ``branch="loading"``, reduced to its loading envelope);
see :func:`read_curves`.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from snsurrogate.errors import DataError

__all__ = [
    "BRANCHES",
    "CONFLICT_STRAIN_TOL",
    "CONFLICT_STRESS_TOL",
    "REVERSAL_TOL",
    "STRAIN_UNITS",
    "STRESS_UNIT_TO_PA",
    "Dataset",
    "read_curves",
]

#: Retreat from the running extreme strain, as a fraction of the strain range, that counts as a
#: direction reversal (smaller retreats are measurement noise).
REVERSAL_TOL = 0.01
#: Strain distance (strains divided by max |strain|) below which two rows are "at one strain".
CONFLICT_STRAIN_TOL = 2e-3
#: Stress difference (stresses divided by max |stress|) above which two rows at one strain conflict,
#: on top of what the steepest slope of the data explains (see :func:`read_curves`).
CONFLICT_STRESS_TOL = 0.05

#: Accepted values of ``branch``.
BRANCHES = ("all", "loading")
#: Accepted values of ``strain_unit`` and the unit recorded for them.
STRAIN_UNITS = {"-": "-", "1": "-", "mm/mm": "-", "%": "%"}
#: Stress units recognised in column names and ``stress_unit`` (canonical spelling -> pascals).
STRESS_UNIT_TO_PA = {
    "Pa": 1.0,
    "kPa": 1e3,
    "MPa": 1e6,
    "GPa": 1e9,
    "psi": 6894.757293168361,
    "ksi": 6894757.293168361,
    "N/mm^2": 1e6,
    "bar": 1e5,
}
_STRESS_UNIT_SPELLINGS = {u.lower(): u for u in STRESS_UNIT_TO_PA} | {"n/mm2": "N/mm^2", "n/mm²": "N/mm^2"}
_DELIMITER_ALIASES = {
    "\\t": "\t",
    "tab": "\t",
    "space": " ",
    "whitespace": " ",
    "semicolon": ";",
    "comma": ",",
}

_SEP = r"A-Za-z0-9"
_UNIT_IN_NAME = re.compile(
    rf"(?<![{_SEP}])(N/mm\^?2|N/mm²|[kMG]?Pa|psi|ksi|bar)(?![{_SEP}^²])", re.IGNORECASE
)
_PERCENT_IN_NAME = re.compile(rf"%|(?<![{_SEP}])(percent|pct)(?![{_SEP}])", re.IGNORECASE)
_MICRO_IN_NAME = re.compile(rf"[µμ]|(?<![{_SEP}])(microstrain|ustrain|ue)(?![{_SEP}])", re.IGNORECASE)
_LENGTH_IN_NAME = re.compile(rf"(?<![{_SEP}/])(mm|cm)(?![{_SEP}/])|[\[(](in|inch)[\])]", re.IGNORECASE)
_DECIMAL_COMMA = re.compile(r"[+-]?(\d+,\d*|,\d+)([eE][+-]?\d+)?")
# Above this many (ordered) pairs within CONFLICT_STRAIN_TOL, the conflict check compares each row with
# its 16 nearest neighbours only, to bound time and memory on densely sampled files.
_EXACT_PAIR_LIMIT = 4_000_000


@dataclass(frozen=True)
class Dataset:
    """Stress–strain data read from one CSV file.

    Attributes
    ----------
    strain : numpy.ndarray
        Shape ``(n, d_in)``, float64: engineering strain, dimensionless (already divided by 100 for
        percent, already ``λ - 1`` for a stretch column). ``d_in`` is 1 (uniaxial), 3 (plane Voigt
        ``xx, yy, xy``) or 6 (3D Voigt ``xx, yy, zz, yz, xz, xy``); shear is engineering shear.
    stress : numpy.ndarray
        Shape ``(n, d_out)``, float64, in :attr:`stress_unit`, as in the file.
    strain_columns : tuple of str
        Names of the strain columns in the file (the stretch column's name when read from stretch).
    stress_columns : tuple of str
        Names of the stress columns in the file.
    stress_unit : str
        Stress unit, e.g. ``"MPa"`` (canonical spellings are the keys of :data:`STRESS_UNIT_TO_PA`).
    strain_unit : str
        Unit of the strain column(s) in the file: ``"-"`` (dimensionless), ``"%"`` or ``"stretch"``.
    source : str
        Path of the file as given.
    sha256 : str
        Hex SHA-256 of the file's bytes.
    line_numbers : numpy.ndarray
        Shape ``(n,)``, int64: 1-based line number in the file of each row kept.
    comments : tuple of str
        Text of the ``#`` comment lines, in file order, without the ``#`` and surrounding blanks.
    notes : tuple of str
        Human-readable notes on what was inferred or dropped (units, branch selection).

    The arrays are not copied on access; treat them as read-only.
    """

    strain: np.ndarray
    stress: np.ndarray
    strain_columns: tuple[str, ...]
    stress_columns: tuple[str, ...]
    stress_unit: str
    strain_unit: str
    source: str
    sha256: str
    line_numbers: np.ndarray
    comments: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def n_points(self) -> int:
        """Number of data rows kept, ``n``."""
        return int(self.strain.shape[0])

    @property
    def d_in(self) -> int:
        """Number of strain components (1, 3 or 6)."""
        return int(self.strain.shape[1])

    @property
    def d_out(self) -> int:
        """Number of stress components."""
        return int(self.stress.shape[1])


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
) -> Dataset:
    """Read stress–strain data from a CSV file and check that a law ``σ = f(ε)`` can fit it.

    Parameters
    ----------
    path
        The CSV file (format in the module docstring).
    stress
        Names of the stress columns (one or more).
    strain
        Names of the strain columns: 1 (uniaxial), 3 (plane Voigt ``xx, yy, xy``) or 6 (3D Voigt
        ``xx, yy, zz, yz, xz, xy``), engineering shear. Exactly one of ``strain`` and ``stretch``.
    stretch
        Name of one stretch column ``λ = L/L0`` (> 0); the strain is ``λ - 1``.
    stress_unit
        Stress unit. Default: read from the stress column names, which must then all carry the same
        unit. Known spellings (case-insensitive) are normalised, e.g. ``"mpa"`` -> ``"MPa"``.
    strain_unit
        ``"-"``, ``"1"`` or ``"mm/mm"`` (dimensionless) or ``"%"`` (divided by 100). Default: percent
        if the strain column names say so (``%``, ``percent``, ``pct``), otherwise dimensionless.
        Not used with ``stretch`` (``None`` or ``"stretch"`` only).
    delimiter
        Field separator, one character. Aliases: ``"\\\\t"`` or ``"tab"`` for a tab, ``"semicolon"``,
        ``"comma"``, and ``" "``, ``"space"`` or ``"whitespace"`` for runs of spaces and tabs.
    decimal
        Decimal separator of the numbers: ``"."`` (default) or ``","`` (then the delimiter must be
        another character, e.g. ``";"``).
    branch
        ``"all"``: every row is kept, and a strain reversal (unloading) is an error.
        ``"loading"`` (one strain column only): keep the loading envelope, i.e. virgin loading and
        reloading beyond the previous extreme strain; the rows from the line where unloading starts
        until the strain passes the previous extreme again are dropped.
    min_rows
        Minimum number of rows that must remain (after branch selection).

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
        cell; a stretch ≤ 0; a stress unit that is neither given nor readable from the names; fewer
        than ``min_rows`` rows; a strain column whose values are all equal; a strain reversal with
        ``branch="all"``; two rows with conflicting stresses at nearly one strain.

    Notes
    -----
    With one strain column, the loading direction is that of the first move away from the first
    row by more than the tolerance ``REVERSAL_TOL`` × (strain range); tension and compression are
    both allowed. A retreat from the running extreme strain by more than that tolerance is a
    reversal; smaller wiggles are noise and are kept.

    Conflicts are checked on the kept rows for any number of strain columns: strains are divided by
    max |strain| and stresses by max |stress| (one scalar each); two rows closer than
    ``CONFLICT_STRAIN_TOL`` in strain conflict when their stresses differ by more than
    ``CONFLICT_STRESS_TOL + 2 S d``, where ``d`` is their strain distance and ``S`` the steepest
    chord slope of the data along the file (chords at least ``CONFLICT_STRAIN_TOL / 2`` long), so
    that a steep but single-valued elastic branch is not mistaken for a conflict. Exact duplicate
    rows do not conflict.
    """
    source = os.fspath(path)
    strain_names, stretch_name, stress_names = _check_selection(source, strain, stretch, stress)
    if branch not in BRANCHES:
        raise DataError(f"branch must be 'all' or 'loading', got {branch!r}", source)
    if branch == "loading" and stretch_name is None and len(strain_names) != 1:
        raise DataError(
            f"branch='loading' (--branch loading) needs one strain column; got {len(strain_names)} "
            f"({_names(strain_names)}). Use branch='all' for multiaxial data",
            source,
        )
    if isinstance(min_rows, bool) or not isinstance(min_rows, int | np.integer) or min_rows < 1:
        raise DataError(f"min_rows must be a positive integer, got {min_rows!r}", source)
    delim = _resolve_delimiter(source, delimiter)
    if decimal not in (".", ","):
        raise DataError(f"decimal must be '.' or ',', got {decimal!r} (--decimal)", source)
    if decimal == "," and delim == ",":
        raise DataError(
            "a decimal comma needs another field separator: pass --delimiter ';' (API: delimiter=';') "
            "with --decimal ,",
            source,
        )
    if stretch_name is not None:
        if strain_unit not in (None, "stretch"):
            raise DataError(
                f"strain_unit={strain_unit!r} cannot be used with a stretch column; the stretch "
                "λ = L/L0 is converted to the engineering strain λ - 1",
                source,
            )
    elif strain_unit is not None and (not isinstance(strain_unit, str) or strain_unit not in STRAIN_UNITS):
        raise DataError(
            f"unknown strain unit {strain_unit!r}; expected one of "
            f"{', '.join(repr(u) for u in STRAIN_UNITS)} (--strain-unit)",
            source,
        )
    if stress_unit is not None and (not isinstance(stress_unit, str) or not stress_unit.strip()):
        raise DataError(f"stress_unit must be a non-empty string, got {stress_unit!r}", source)

    data = _read_bytes(source)
    digest = hashlib.sha256(data).hexdigest()
    text = _decode(source, data)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")

    comments: list[str] = []
    comment_lines: list[tuple[int, str]] = []
    header_no = 0
    header_text = ""
    rows: list[tuple[int, str]] = []
    for no, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            comments.append(stripped[1:].strip())
            comment_lines.append((no, stripped[1:]))
        elif not header_no:
            header_no, header_text = no, line
        else:
            rows.append((no, line))
    if not header_no:
        what = "has only comments and blank lines" if comments else "is empty"
        raise DataError(
            f"no header line: the file {what}; expected a header line of column names followed by data rows",
            source,
        )

    split = _splitter(delim)
    selected_names = (strain_names if stretch_name is None else (stretch_name,)) + stress_names
    header = [name.strip() for name in _split_line(source, header_no, header_text, split)]
    if len(header) == 1:
        raise DataError(_one_field_message(header[0], rows, delim), source, header_no)
    if not set(selected_names) <= set(header) and all(_is_number(h) for h in header):
        raise DataError(
            _numeric_header_message(header_text, comment_lines, header_no, split, selected_names),
            source,
            header_no,
        )
    first_seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if not name:
            continue
        if name in first_seen:
            raise DataError(
                f"duplicate column name {name!r} (columns {first_seen[name] + 1} and {i + 1}); "
                "column names must be unique",
                source,
                header_no,
                name,
            )
        first_seen[name] = i
    selected = selected_names
    for name in selected:
        if name not in first_seen:
            raise DataError(_missing_column_message(name, header), source, header_no, name)
    col_idx = [first_seen[name] for name in selected]
    d_in = len(selected) - len(stress_names)

    notes: list[str] = []
    units_row = _units_row(rows, split, len(header), col_idx)
    if units_row is not None:
        row_no, cells = units_row
        rows = rows[1:]
        row_units = dict(zip(selected, cells))
        notes.append(f"line {row_no} read as a units row: " + ", ".join(f"{k} [{v}]" for k, v in row_units.items()))
        stress_cells = {row_units[name] for name in stress_names}
        if stress_unit is None and len(stress_cells) == 1:
            cell = stress_cells.pop()
            stress_unit = _STRESS_UNIT_SPELLINGS.get(cell.lower())
            if stress_unit is None:
                raise DataError(
                    f"line {row_no} looks like a units row, but {cell!r} is not a stress unit this reader "
                    f"knows ({_names(STRESS_UNIT_TO_PA)}); pass --stress-unit (API: stress_unit=)",
                    source,
                    row_no,
                    stress_names[0],
                )
            notes.append(f"stress unit {stress_unit!r} taken from the units row (line {row_no})")
        if stretch_name is None and strain_unit is None:
            strain_unit = _strain_unit_from_row(source, row_no, strain_names, row_units)
    unit = _stress_unit(source, header_no, stress_names, stress_unit, notes)
    if stretch_name is not None:
        file_strain_unit = "stretch"
        notes.append(f"strain = stretch - 1 (engineering strain) from column {stretch_name!r}")
    else:
        file_strain_unit = _strain_unit(source, header_no, strain_names, strain_unit, notes)

    raw, line_numbers = _parse_rows(source, rows, split, delim, len(header), col_idx, selected, decimal)
    strain_raw = raw[:, :d_in]
    stress_arr = np.ascontiguousarray(raw[:, d_in:])
    if stretch_name is not None:
        bad = np.flatnonzero(strain_raw[:, 0] <= 0.0)
        if bad.size:
            k = int(bad[0])
            raise DataError(
                f"stretch {strain_raw[k, 0]:g} is not positive; expected a stretch λ = L/L0 > 0 "
                "(if this column is a strain, pass it as strain (--strain) instead of stretch)",
                source,
                int(line_numbers[k]),
                stretch_name,
            )
        strain_arr = strain_raw - 1.0
    elif file_strain_unit == "%":
        strain_arr = strain_raw / 100.0
    else:
        strain_arr = strain_raw.copy()
    strain_cols = strain_names if stretch_name is None else (stretch_name,)

    n_read = strain_arr.shape[0]
    keep = None
    if d_in == 1 and n_read > 1:
        keep = _select_branch(
            source, strain_arr[:, 0], strain_raw[:, 0], line_numbers, strain_cols[0], branch, notes
        )
    if keep is not None:
        strain_arr, stress_arr = strain_arr[keep], stress_arr[keep]
        strain_raw, line_numbers = strain_raw[keep], line_numbers[keep]
    n = strain_arr.shape[0]
    if n < min_rows:
        found = (
            _plural(n, "data row")
            if n == n_read
            else f"{_plural(n, 'row')} kept by branch='loading' (of {n_read} read)"
        )
        raise DataError(f"too few data rows: found {found}; at least {min_rows} are needed", source)
    for j, name in enumerate(strain_cols):
        if np.all(strain_raw[:, j] == strain_raw[0, j]):
            raise DataError(
                f"all {n} values are equal ({strain_raw[0, j]:g}); the law would be unconstrained along "
                "this strain component; expected strain data that varies in every strain column",
                source,
                None,
                name,
            )
    _check_conflicts(source, strain_arr, stress_arr, strain_raw, line_numbers, strain_cols, stress_names)

    return Dataset(
        strain=np.ascontiguousarray(strain_arr, dtype=np.float64),
        stress=np.ascontiguousarray(stress_arr, dtype=np.float64),
        strain_columns=tuple(strain_cols),
        stress_columns=tuple(stress_names),
        stress_unit=unit,
        strain_unit=file_strain_unit,
        source=source,
        sha256=digest,
        line_numbers=np.asarray(line_numbers, dtype=np.int64),
        comments=tuple(comments),
        notes=tuple(notes),
    )


# ----------------------------------------------------------------------------------------------
# options


def _names(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names)


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


def _check_selection(
    source: str, strain: object, stretch: object, stress: object
) -> tuple[tuple[str, ...], str | None, tuple[str, ...]]:
    if (strain is None) == (stretch is None):
        raise DataError(
            "give exactly one of strain (strain column names, --strain) and stretch (one stretch "
            f"column, --stretch); got {'both' if strain is not None else 'neither'}",
            source,
        )
    stress_names = _name_list(source, stress, "stress")
    stretch_name = None
    strain_names: tuple[str, ...] = ()
    if stretch is not None:
        names = _name_list(source, stretch, "stretch")
        if len(names) != 1:
            raise DataError(f"stretch takes one column name, got {len(names)}: {_names(names)}", source)
        stretch_name = names[0]
        selected = (stretch_name, *stress_names)
    else:
        strain_names = _name_list(source, strain, "strain")
        if len(strain_names) not in (1, 3, 6):
            raise DataError(
                f"got {len(strain_names)} strain columns ({_names(strain_names)}); expected 1 "
                "(uniaxial), 3 (plane Voigt xx, yy, xy) or 6 (3D Voigt xx, yy, zz, yz, xz, xy)",
                source,
            )
        selected = strain_names + stress_names
    strain_set = set(selected[: len(selected) - len(stress_names)])
    for name in stress_names:
        if name in strain_set:
            raise DataError(
                f"column {name!r} is selected both as strain and as stress; expected different columns",
                source,
                None,
                name,
            )
    seen: set[str] = set()
    for name in selected:
        if name in seen:
            raise DataError(
                f"column {name!r} is selected twice; expected each column once", source, None, name
            )
        seen.add(name)
    return strain_names, stretch_name, stress_names


def _resolve_delimiter(source: str, delimiter: object) -> str:
    if not isinstance(delimiter, str):
        raise DataError(f"delimiter must be a one-character string, got {delimiter!r}", source)
    delim = _DELIMITER_ALIASES.get(delimiter.lower(), delimiter)
    if len(delim) != 1 or delim in '"\r\n#' or delim.isalnum() or delim in ".+-":
        raise DataError(
            f"delimiter must be one character such as ',', ';', '\\t' or ' ' (whitespace), got {delimiter!r}",
            source,
        )
    return delim


# ----------------------------------------------------------------------------------------------
# file and lines


def _read_bytes(source: str) -> bytes:
    if os.path.isdir(source):
        raise DataError("is a directory; expected a CSV file", source)
    try:
        with open(source, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise DataError("no such file; expected an existing CSV file", source) from None
    except IsADirectoryError:
        raise DataError("is a directory; expected a CSV file", source) from None
    except OSError as exc:
        raise DataError(f"cannot read the file: {exc.strerror or exc}", source) from None


def _decode(source: str, data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError("the file is UTF-16 encoded; expected UTF-8 text (save it as UTF-8 CSV)", source, 1)
    nul = data.find(b"\x00")
    if nul >= 0:
        raise DataError(
            "binary data (a NUL byte); expected a UTF-8 text CSV file",
            source,
            data.count(b"\n", 0, nul) + 1,
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"not valid UTF-8 text (byte 0x{data[exc.start]:02x}); expected a UTF-8 text CSV file "
            "(re-save it as UTF-8, e.g. a Latin-1 'µ' or '°' is not UTF-8)",
            source,
            line,
        ) from None


def _splitter(delim: str):
    """A function that splits one line into raw (unstripped) fields."""
    if delim == " ":

        def split(line: str) -> list[str]:
            line = line.strip().replace("\t", " ")
            if '"' not in line:
                return line.split()
            return next(csv.reader([line], delimiter=" ", skipinitialspace=True))

    else:

        def split(line: str) -> list[str]:
            if '"' not in line:
                return line.split(delim)
            return next(csv.reader([line], delimiter=delim, skipinitialspace=True))

    return split


def _split_line(source: str, no: int, line: str, split) -> list[str]:
    try:
        return split(line)
    except csv.Error as exc:
        raise DataError(f"cannot split the line into fields: {exc}", source, no) from None


def _delimiter_name(delim: str) -> str:
    return {",": "commas", ";": "semicolons", "\t": "tabs", " ": "whitespace"}.get(delim, repr(delim))


_SEPARATED = {",": "comma", ";": "semicolon", "\t": "tab", " ": "whitespace"}


def _delimiter_option(delim: str) -> str:
    shown = {"\t": "\\t"}.get(delim, delim)
    api = {"\t": '"\\t"'}.get(delim, repr(delim))
    return f"pass --delimiter '{shown}' (API: delimiter={api})"


def _one_field_message(field: str, rows: list[tuple[int, str]], delim: str) -> str:
    """Message for a header with a single field: usually a wrong delimiter."""
    first = rows[0][1] if rows else ""
    counts = {
        ";": (field.count(";") + 1, first.count(";") + 1),
        "\t": (field.count("\t") + 1, first.count("\t") + 1),
        ",": (field.count(",") + 1, first.count(",") + 1),
        " ": (len(field.split()), len(first.split())),
    }
    candidates = [d for d in (";", "\t", ",", " ") if d != delim and counts[d][0] >= 2]
    consistent = [d for d in candidates if not rows or counts[d][0] == counts[d][1]]
    guess = (consistent or candidates or [None])[0]
    if guess is None:
        return (
            f"the header has a single column {field!r}; expected the strain and stress column names "
            f"separated by {_delimiter_name(delim)}"
        )
    return (
        f"the header has a single column {field!r} when split on {_delimiter_name(delim)}, but it "
        f"looks {_SEPARATED[guess]}-separated: {_delimiter_option(guess)}"
    )


def _missing_column_message(name: str, header: list[str]) -> str:
    present = [h for h in header if h]
    lowered = {h.lower(): h for h in present}
    match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    hint = f"did you mean {lowered[match[0]]!r}? " if match else ""
    shown = present if len(present) <= 40 else present[:40]
    more = f", ... ({len(present) - 40} more)" if len(present) > 40 else ""
    return f"no such column in the header; {hint}The columns are: {_names(shown)}{more}"


def _parse_rows(
    source: str,
    rows: list[tuple[int, str]],
    split,
    delim: str,
    n_fields: int,
    col_idx: list[int],
    names: Sequence[str],
    decimal: str = ".",
) -> tuple[np.ndarray, np.ndarray]:
    """Parse the selected cells of every data row into an ``(n, len(col_idx))`` float64 array."""

    def number(text: str) -> float:
        return float(text.replace(",", ".")) if decimal == "," else float(text)

    values: list[list[float]] = []
    line_numbers: list[int] = []

    def finite_check(upto: int) -> None:
        # report a NaN/inf in an earlier row before a later row's error
        if not values[:upto]:
            return
        arr = np.asarray(values[:upto], dtype=np.float64)
        bad = np.argwhere(~np.isfinite(arr))
        if bad.size:
            r, c = (int(v) for v in bad[0])
            no, line = rows[r]
            cell = split(line)[col_idx[c]].strip()
            kind = "NaN" if math.isnan(arr[r, c]) else "infinite"
            raise DataError(
                f"{kind} value {cell!r}; expected a finite number (fill in the value or remove the row)",
                source,
                no,
                names[c],
            )

    for r, (no, line) in enumerate(rows):
        try:
            fields = split(line)
        except csv.Error as exc:
            finite_check(r)
            raise DataError(f"cannot split the line into fields: {exc}", source, no) from None
        if len(fields) != n_fields:
            finite_check(r)
            raise DataError(
                f"row has {_plural(len(fields), 'field')} but the header has {n_fields}; expected {n_fields} "
                f"fields separated by {_delimiter_name(delim)}",
                source,
                no,
            )
        try:
            values.append([number(fields[i]) for i in col_idx])
        except ValueError:
            finite_check(r)
            for c, i in enumerate(col_idx):
                cell = fields[i].strip()
                try:
                    number(cell)
                except ValueError:
                    raise DataError(_cell_message(cell), source, no, names[c]) from None
            raise  # pragma: no cover - float() failed above, so some cell fails here
        line_numbers.append(no)
    finite_check(len(values))
    arr = np.asarray(values, dtype=np.float64).reshape(len(values), len(col_idx))
    return arr, np.asarray(line_numbers, dtype=np.int64)


_DIMENSIONLESS = {"-", "1", "mm/mm", "m/m", "in/in", "", "[-]", "(-)"}


def _units_row(rows, split, n_fields: int, col_idx: list[int]):
    """``(line, cells)`` when the first data row is a row of units (every selected cell non-numeric).

    Test machines often export a second header line such as ``mm/mm,MPa``; it names the units.
    """
    if not rows:
        return None
    no, line = rows[0]
    try:
        fields = split(line)
    except csv.Error:
        return None
    if len(fields) != n_fields:
        return None
    cells = [fields[i].strip() for i in col_idx]
    if any(not c for c in cells):
        return None
    if any(_is_number(c) or _DECIMAL_COMMA.fullmatch(c) for c in cells):  # numbers, with either separator
        return None
    return no, [c.strip("[]() ") or c for c in cells]


def _strain_unit_from_row(source: str, row_no: int, names: tuple[str, ...], row_units: dict[str, str]) -> str | None:
    """The strain unit that a units row states (``"-"`` or ``"%"``), or an error for anything else."""
    found = set()
    for name in names:
        cell = row_units[name].strip().lower()
        if cell in _DIMENSIONLESS:
            found.add("-")
        elif cell in ("%", "percent", "pct"):
            found.add("%")
        else:
            raise DataError(
                f"the units row gives {row_units[name]!r} for a strain column; expected a dimensionless "
                "strain ('-', 'mm/mm') or percent ('%'); convert the column, or pass --strain-unit",
                source,
                row_no,
                name,
            )
    if len(found) > 1:
        raise DataError("the units row mixes percent and plain strain columns; pass --strain-unit", source, row_no)
    return found.pop()


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _numeric_header_message(
    header_text: str, comment_lines: list[tuple[int, str]], header_no: int, split, selected: Sequence[str]
) -> str:
    """Message for a first non-comment line that holds numbers instead of column names."""
    message = (
        f"the first line that is not a comment looks like data ({header_text.strip()!r}), not a header; "
        "expected a header line of column names before the data"
    )
    for no, text in reversed(comment_lines):
        if no > header_no:
            continue
        try:
            names = {name.strip() for name in split(text)}
        except csv.Error:
            continue
        if set(selected) <= names:
            message += f"; the header seems to be commented out: remove the '#' on line {no}"
            break
    return message


def _cell_message(cell: str) -> str:
    if not cell:
        return "empty cell; expected a number (fill in the value or remove the row)"
    if _DECIMAL_COMMA.fullmatch(cell):
        return (
            f"cannot read {cell!r} as a number: it looks like a decimal comma; expected a decimal point "
            f"({cell.replace(',', '.')!r}); pass --decimal , (API: decimal=',') with a ';' or tab delimiter, "
            "or re-export the file with '.' as the decimal separator"
        )
    return f"cannot read {cell!r} as a number; expected a decimal number such as 0.0123 or 1.5e-3"


# ----------------------------------------------------------------------------------------------
# units


def _units_in_name(name: str) -> list[str]:
    """Canonical stress units named in a column name (``bar`` only in ``[bar]``, ``(bar)``, ``/bar``)."""
    found = []
    for m in _UNIT_IN_NAME.finditer(name):
        unit = _STRESS_UNIT_SPELLINGS[m.group(1).lower()]
        if unit == "bar" and (m.start() == 0 or name[m.start() - 1] not in "[({/"):
            continue
        rest = name[: m.start()] + name[m.end() :]
        if not re.search(r"[A-Za-z]", rest):
            continue  # the name is only a unit (e.g. 'psi'): no quantity, do not read it as a unit
        if unit not in found:
            found.append(unit)
    return found


def _stress_unit(
    source: str, header_no: int, names: tuple[str, ...], given: str | None, notes: list[str]
) -> str:
    per_name = {name: _units_in_name(name) for name in names}
    if given is not None:
        unit = _STRESS_UNIT_SPELLINGS.get(given.strip().lower(), given.strip())
        if unit not in STRESS_UNIT_TO_PA:
            notes.append(
                f"stress unit {unit!r} (as given) is not one of the known units {_names(STRESS_UNIT_TO_PA)}"
            )
        for name, units in per_name.items():
            if units and units != [unit]:
                notes.append(
                    f"column {name!r} names the unit {'/'.join(units)} but stress_unit={unit!r} was given; "
                    f"using {unit!r}"
                )
        return unit
    how = (
        "pass --stress-unit (API: stress_unit=), e.g. --stress-unit MPa; units recognised in column "
        "names: Pa, kPa, MPa, GPa, psi, ksi, N/mm2, N/mm^2 and bar (bar only as [bar], (bar) or /bar), as in "
        "'stress_MPa', 'stress [MPa]', 'stress (MPa)', 'stress/MPa'"
    )
    for name, units in per_name.items():
        if len(units) > 1:
            raise DataError(
                f"the column name names several stress units ({', '.join(units)}); {how}",
                source,
                header_no,
                name,
            )
    missing = [name for name, units in per_name.items() if not units]
    if missing:
        raise DataError(
            f"cannot tell the stress unit from the column name; {how}", source, header_no, missing[0]
        )
    units = {units[0] for units in per_name.values()}
    if len(units) > 1:
        which = ", ".join(f"{name!r} in {u[0]}" for name, u in per_name.items())
        raise DataError(
            f"the stress columns name different units ({which}); expected one unit for all stress "
            "columns (convert the file, or pass --stress-unit (API: stress_unit=) to override)",
            source,
            header_no,
        )
    unit = units.pop()
    extra = " (= MPa)" if unit == "N/mm^2" else ""
    notes.append(f"stress unit {unit!r}{extra} taken from the column name(s) {_names(names)}")
    return unit


def _strain_unit(
    source: str, header_no: int, names: tuple[str, ...], given: str | None, notes: list[str]
) -> str:
    percent = [name for name in names if _PERCENT_IN_NAME.search(name)]
    if given is not None:
        unit = STRAIN_UNITS[given]
        if percent and unit != "%":
            notes.append(
                f"column(s) {_names(percent)} look like percent but strain_unit={given!r} was given; "
                "strain used as is"
            )
        if unit == "%":
            notes.append(f"strain column(s) {_names(names)} in percent (strain_unit='%'): divided by 100")
        return unit
    for name in names:
        if _MICRO_IN_NAME.search(name):
            raise DataError(
                "the column name suggests microstrain; expected strain as a plain fraction ('-') or in "
                "percent: convert it, or pass --strain-unit - (API: strain_unit='-') if it is a plain strain",
                source,
                header_no,
                name,
            )
        if _LENGTH_IN_NAME.search(name):
            raise DataError(
                "the column name suggests a length (a displacement, not a strain); expected a "
                "dimensionless strain: convert it, or pass --strain-unit - (API: strain_unit='-') if it "
                "is a strain",
                source,
                header_no,
                name,
            )
    if percent:
        if len(percent) != len(names):
            plain = [name for name in names if name not in percent]
            raise DataError(
                f"strain columns {_names(percent)} look like percent but {_names(plain)} do not; "
                "pass --strain-unit (API: strain_unit=) '%' or '-' for all of them",
                source,
                header_no,
                plain[0],
            )
        notes.append(f"strain in percent (from the column name(s) {_names(names)}): divided by 100")
        return "%"
    notes.append(
        f"strain column(s) {_names(names)} taken as dimensionless (strain unit '-'); pass --strain-unit % "
        "(API: strain_unit='%') if they are in percent"
    )
    return "-"


# ----------------------------------------------------------------------------------------------
# single-valuedness


def _line_ranges(lines: np.ndarray, limit: int = 8) -> str:
    """'3-7, 12, 20-25' for sorted line numbers (consecutive data rows form one range)."""
    if lines.size == 0:
        return ""
    groups: list[tuple[int, int]] = []
    start = prev = int(lines[0])
    for v in lines[1:]:
        v = int(v)
        if v != prev + 1:
            groups.append((start, prev))
            start = v
        prev = v
    groups.append((start, prev))
    parts = [f"{a}" if a == b else f"{a}-{b}" for a, b in groups[:limit]]
    if len(groups) > limit:
        parts.append(f"... ({len(groups) - limit} more ranges)")
    return ", ".join(parts)


def _select_branch(
    source: str,
    strain: np.ndarray,
    raw: np.ndarray,
    line_numbers: np.ndarray,
    name: str,
    branch: str,
    notes: list[str],
) -> np.ndarray | None:
    """Detect strain reversals in one strain column; return the rows to keep (None: all)."""
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
    if branch == "all":
        raise DataError(
            f"the strain reverses: unloading starts at line {line_numbers[peak + 1]}. Loading "
            f"({sense}) reaches {raw[peak]:g} at line {line_numbers[peak]}, then the strain goes back "
            f"to {raw[k]:g} at line {line_numbers[k]}, by more than 1% of the strain range. A "
            "single-valued law σ = f(ε) cannot represent unloading or hysteresis; pass --branch loading "
            '(API: branch="loading") to keep only the loading envelope, or remove the unloading rows',
            source,
            int(line_numbers[peak + 1]),
            name,
        )
    # loading envelope: drop from the row after each peak until the strain passes that peak again
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
    dropped = line_numbers[~keep]
    notes.append(
        f"branch='loading': kept {int(keep.sum())} of {keep.size} rows (the loading envelope); dropped "
        f"{_plural(dropped.size, 'row')} of unloading and of reloading up to the previous extreme strain "
        f"({'line' if dropped.size == 1 else 'lines'} {_line_ranges(dropped)})"
    )
    return keep


def _fmt_row(values: np.ndarray, names: Sequence[str]) -> str:
    if len(names) == 1:
        return f"{names[0]} = {values[0]:g}"
    return f"({', '.join(names)}) = ({', '.join(f'{v:g}' for v in values)})"


def _check_conflicts(
    source: str,
    strain: np.ndarray,
    stress: np.ndarray,
    strain_raw: np.ndarray,
    line_numbers: np.ndarray,
    strain_names: Sequence[str],
    stress_names: Sequence[str],
) -> None:
    """Raise DataError if two rows have conflicting stresses at nearly one strain (see read_curves)."""
    n = strain.shape[0]
    e_scale = float(np.max(np.abs(strain)))
    s_scale = float(np.max(np.abs(stress)))
    if n < 2 or e_scale == 0.0 or s_scale == 0.0:
        return
    es = strain / e_scale
    ss = stress / s_scale
    r = CONFLICT_STRAIN_TOL

    # steepest chord slope along the file, over chords at least r/2 long (in scaled units)
    h = 0.5 * r
    steps = np.linalg.norm(np.diff(es, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(steps)])
    ends = np.searchsorted(arc, arc + h, side="left")
    starts = np.flatnonzero(ends < n)
    ends = ends[starts]
    disp = np.linalg.norm(es[ends] - es[starts], axis=1)
    ok = disp >= 0.5 * h
    slope = 0.0
    if ok.any():
        slope = float(np.max(np.linalg.norm(ss[ends[ok]] - ss[starts[ok]], axis=1) / disp[ok]))
    allowance = 2.0 * slope

    tree = cKDTree(es)
    exact = tree.count_neighbors(tree, r) <= _EXACT_PAIR_LIMIT
    if exact:
        pairs = tree.query_pairs(r, output_type="ndarray")
        a, b = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
        d = np.linalg.norm(es[a] - es[b], axis=1)
        ds = np.linalg.norm(ss[a] - ss[b], axis=1)
        bad = ds > CONFLICT_STRESS_TOL + allowance * d
        a, b, d, ds = a[bad], b[bad], d[bad], ds[bad]
    else:  # very dense data: check each row against its 16 nearest neighbours only
        found = []
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
        a, b, d, ds = (np.concatenate(parts) for parts in zip(*found, strict=True))
    if a.size == 0:
        return
    first = int(np.lexsort((a, b))[0])
    i, j = int(a[first]), int(b[first])
    count = int(np.unique(a.astype(np.int64) * n + b).size)
    more = ""
    if count > 1:
        more = f" ({'' if exact else 'at least '}{count} conflicting pairs of rows in all)"
    raise DataError(
        f"conflicting stresses at nearly the same strain: line {line_numbers[i]} has "
        f"{_fmt_row(strain_raw[i], strain_names)}, {_fmt_row(stress[i], stress_names)} and line "
        f"{line_numbers[j]} has {_fmt_row(strain_raw[j], strain_names)}, "
        f"{_fmt_row(stress[j], stress_names)}: "
        f"the stresses differ by {100 * ds[first]:.3g}% of the largest |stress| while the strains differ "
        f"by {100 * d[first]:.2g}% of the largest |strain|{more}. A single-valued law σ = f(ε) cannot fit "
        "both; expected one stress per strain (remove or correct one of the rows, or split the file)",
        source,
        int(line_numbers[j]),
    )
