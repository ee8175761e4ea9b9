"""The text table of a CSV file: bytes and encoding, lines, delimiter and decimal mark, header, units
row and numeric cells, each problem raised as a :class:`~snsurrogate.errors.DataError` located by
file, line (1-based, as an editor shows it) and column.

Format: UTF-8 text, with or without a byte-order mark; ``\\n``, ``\\r\\n`` or ``\\r`` line ends. Lines
whose first non-blank character is ``#`` are comments, anywhere in the file. Blank lines are skipped.
The first other line is the header of column names; every later line is a data row with as many fields
as the header. Fields are split with the :mod:`csv` module (quoted names and cells are allowed);
whitespace around names and cells is ignored.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from snsurrogate.errors import DataError

from .messages import is_number, plural
from .messages import names as _names

Splitter = Callable[[str], list[str]]

_DELIMITER_ALIASES = {
    "\\t": "\t",
    "tab": "\t",
    "space": " ",
    "whitespace": " ",
    "semicolon": ";",
    "comma": ",",
}
_DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", " ": "whitespace"}
_SEPARATED = {",": "comma", ";": "semicolon", "\t": "tab", " ": "whitespace"}
_DECIMAL_COMMA = re.compile(r"[+-]?(\d+,\d*|,\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class Lines:
    """The lines of a CSV file, sorted into comments, the header and data rows.

    Attributes
    ----------
    source : str
        Path of the file as given.
    sha256 : str
        Hex SHA-256 of the file's bytes.
    comments : tuple of (int, str)
        ``(line number, text after the '#')`` of every comment line, in file order.
    header_no : int
        1-based line number of the header.
    header : str
        Text of the header line.
    rows : tuple of (int, str)
        ``(line number, text)`` of every data row (blank lines and comments left out).
    """

    source: str
    sha256: str
    comments: tuple[tuple[int, str], ...]
    header_no: int
    header: str
    rows: tuple[tuple[int, str], ...]


def resolve_delimiter(source: str, delimiter: object) -> str:
    """The one-character field separator that ``delimiter`` (or an alias such as ``"tab"``) names."""
    if not isinstance(delimiter, str):
        raise DataError(f"delimiter must be a one-character string, got {delimiter!r}", source)
    delim = _DELIMITER_ALIASES.get(delimiter.lower(), delimiter)
    if len(delim) != 1 or delim in '"\r\n#' or delim.isalnum() or delim in ".+-":
        raise DataError(
            f"delimiter must be one character such as ',', ';', '\\t' or ' ' (whitespace), got {delimiter!r}",
            source,
        )
    return delim


def check_decimal(source: str, decimal: object, delim: str) -> None:
    """Raise DataError unless ``decimal`` is ``"."`` or ``","`` (and then ``delim`` is not a comma)."""
    if decimal not in (".", ","):
        raise DataError(f"decimal must be '.' or ',', got {decimal!r} (--decimal)", source)
    if decimal == "," and delim == ",":
        raise DataError(
            "a decimal comma needs another field separator: pass --delimiter ';' (API: delimiter=';') "
            "with --decimal ,",
            source,
        )


def check_skip_rows(source: str, skip_rows: object) -> int:
    """``skip_rows`` as an int, or a DataError unless it is a non-negative integer."""
    if isinstance(skip_rows, bool) or not isinstance(skip_rows, int | np.integer) or skip_rows < 0:
        raise DataError(f"skip_rows must be a non-negative integer (--skip-rows N), got {skip_rows!r}", source)
    return int(skip_rows)


def read_lines(source: str, skip_rows: int = 0) -> Lines:
    """Read, hash and decode the file, and sort its lines (raises DataError without a header line).

    The first ``skip_rows`` lines (a test machine's preamble) are left out, whatever they hold.
    """
    data = _read_bytes(source)
    text = _decode(source, data)
    comments: list[tuple[int, str]] = []
    header_no, header = 0, ""
    rows: list[tuple[int, str]] = []
    for no, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        if no <= skip_rows:
            continue
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            comments.append((no, stripped[1:]))
        elif not header_no:
            header_no, header = no, line
        else:
            rows.append((no, line))
    if not header_no:
        what = "has only comments and blank lines" if comments else "is empty"
        if skip_rows:
            what += f" after the {plural(skip_rows, 'line')} skipped (skip_rows={skip_rows})"
        raise DataError(
            f"no header line: the file {what}; expected a header line of column names followed by data rows",
            source,
        )
    return Lines(source, hashlib.sha256(data).hexdigest(), tuple(comments), header_no, header, tuple(rows))


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


def splitter(delim: str) -> Splitter:
    """A function that splits one line into raw (unstripped) fields on ``delim`` (``" "``: whitespace)."""
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


def _split_line(source: str, no: int, line: str, split: Splitter) -> list[str]:
    try:
        return split(line)
    except csv.Error as exc:
        raise DataError(f"cannot split the line into fields: {exc}", source, no) from None


# ----------------------------------------------------------------------------------------------
# header


def header_columns(lines: Lines, split: Splitter, delim: str, selected: Sequence[str]) -> tuple[list[str], list[int]]:
    """The header's column names and the index of each selected column in it.

    Raises
    ------
    DataError
        A header of one field (a wrong delimiter, with the likely one named), a header of numbers (with
        the commented-out header found, if any), a duplicate name, or a selected column that is missing
        (with the nearest name suggested).
    """
    source, header_no = lines.source, lines.header_no
    header = [name.strip() for name in _split_line(source, header_no, lines.header, split)]
    if not set(selected) <= set(header):
        preamble = _preamble_message(lines, split, header, selected)
        if preamble:
            raise DataError(preamble, source, header_no)
    if len(header) == 1:
        raise DataError(_one_field_message(header[0], lines.rows, delim), source, header_no)
    if not set(selected) <= set(header) and all(is_number(h) for h in header):
        raise DataError(_numeric_header_message(lines, split, selected), source, header_no)
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
    for name in selected:
        if name not in first_seen:
            raise DataError(_missing_column_message(name, header), source, header_no, name)
    return header, [first_seen[name] for name in selected]


def _preamble_message(lines: Lines, split: Splitter, header: list[str], selected: Sequence[str]) -> str | None:
    """A message for a preamble before the header (test-machine exports: quoted text lines, no ``#``):
    the header is a later line that holds every selected column, or the first line with as many fields
    as the data rows below it when the first line has fewer. None when neither is found."""
    later: list[tuple[int, list[str]]] = []
    for no, text in lines.rows[:200]:
        try:
            later.append((no, [f.strip() for f in split(text)]))
        except csv.Error:
            continue
    found = next((no for no, fields in later if set(selected) <= set(fields)), None)
    why = f"the columns {_names(selected)} are in the header at line {found}"
    if found is None:
        counts = [len(fields) for _, fields in later[-50:]]
        if not counts:
            return None
        width = max(set(counts), key=counts.count)  # the data rows' number of fields
        if len(header) >= width:
            return None
        found = next((no for no, fields in later if len(fields) == width), None)
        if found is None or found == later[-1][0]:
            return None
        why = (f"line {lines.header_no} has {plural(len(header), 'field')} but the data rows have {width}, "
               f"first at line {found}, which may be the header")
    skip = found - 1
    return (
        f"line {lines.header_no} ({lines.header.strip()[:60]!r}) is not the header: {why}; the lines before "
        f"it look like a preamble (a test-machine export): pass --skip-rows {skip} (API: skip_rows={skip})"
    )


def _delimiter_option(delim: str) -> str:
    shown = {"\t": "\\t"}.get(delim, delim)
    api = {"\t": '"\\t"'}.get(delim, repr(delim))
    return f"pass --delimiter '{shown}' (API: delimiter={api})"


def _delimiter_name(delim: str) -> str:
    return _DELIMITER_NAMES.get(delim, repr(delim))


def _one_field_message(field: str, rows: Sequence[tuple[int, str]], delim: str) -> str:
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


def _numeric_header_message(lines: Lines, split: Splitter, selected: Sequence[str]) -> str:
    """Message for a first non-comment line that holds numbers instead of column names."""
    message = (
        f"the first line that is not a comment looks like data ({lines.header.strip()!r}), not a header; "
        "expected a header line of column names before the data"
    )
    for no, text in reversed(lines.comments):
        if no > lines.header_no:
            continue
        try:
            found = {name.strip() for name in split(text)}
        except csv.Error:
            continue
        if set(selected) <= found:
            message += f"; the header seems to be commented out: remove the '#' on line {no}"
            break
    return message


def _missing_column_message(name: str, header: list[str]) -> str:
    present = [h for h in header if h]
    lowered = {h.lower(): h for h in present}
    # a column that starts with the given name ('Tensile strain' -> 'Tensile strain (Extension)') first
    prefixed = [h for h in present if h.lower().startswith(name.lower())]
    match = prefixed[:1] or difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    hint = f"did you mean {lowered.get(match[0], match[0])!r}? " if match else ""
    shown = present if len(present) <= 40 else present[:40]
    more = f", ... ({len(present) - 40} more)" if len(present) > 40 else ""
    return f"no such column in the header; {hint}The columns are: {_names(shown)}{more}"


def units_row(
    rows: Sequence[tuple[int, str]], split: Splitter, n_fields: int, col_idx: list[int]
) -> tuple[int, list[str]] | None:
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
    if any(is_number(c) or _DECIMAL_COMMA.fullmatch(c) for c in cells):  # numbers, with either separator
        return None
    return no, [c.strip("[]() ") or c for c in cells]


# ----------------------------------------------------------------------------------------------
# cells


def parse_rows(
    source: str,
    rows: Sequence[tuple[int, str]],
    split: Splitter,
    delim: str,
    n_fields: int,
    col_idx: list[int],
    columns: Sequence[str],
    decimal: str = ".",
) -> tuple[np.ndarray, np.ndarray]:
    """Parse the selected cells of every data row.

    Returns
    -------
    values : numpy.ndarray
        Shape ``(n, len(col_idx))``, float64, finite.
    line_numbers : numpy.ndarray
        Shape ``(n,)``, int64: the 1-based line of each row.

    Raises
    ------
    DataError
        A row that cannot be split or has the wrong number of fields, an empty or non-numeric cell (a
        decimal comma is recognised and named), a NaN or infinite cell: the first of these in file order.
    """

    def number(text: str) -> float:
        return float(text.replace(",", ".")) if decimal == "," else float(text)

    values: list[list[float]] = []
    line_numbers: list[int] = []
    for no, line in rows:
        try:
            fields = split(line)
        except csv.Error as exc:
            _finite_check(source, values, rows, split, col_idx, columns)
            raise DataError(f"cannot split the line into fields: {exc}", source, no) from None
        if len(fields) != n_fields:
            _finite_check(source, values, rows, split, col_idx, columns)
            raise DataError(
                f"row has {plural(len(fields), 'field')} but the header has {n_fields}; expected {n_fields} "
                f"fields separated by {_delimiter_name(delim)}",
                source,
                no,
            )
        try:
            values.append([number(fields[i]) for i in col_idx])
        except ValueError:
            _finite_check(source, values, rows, split, col_idx, columns)
            for c, i in enumerate(col_idx):
                cell = fields[i].strip()
                try:
                    number(cell)
                except ValueError:
                    raise DataError(_cell_message(cell), source, no, columns[c]) from None
            raise  # pragma: no cover - float() failed above, so some cell fails here
        line_numbers.append(no)
    _finite_check(source, values, rows, split, col_idx, columns)
    arr = np.asarray(values, dtype=np.float64).reshape(len(values), len(col_idx))
    return arr, np.asarray(line_numbers, dtype=np.int64)


def _finite_check(
    source: str,
    values: list[list[float]],
    rows: Sequence[tuple[int, str]],
    split: Splitter,
    col_idx: list[int],
    columns: Sequence[str],
) -> None:
    """Raise for the first NaN or infinite cell among the rows parsed so far (reported before a later
    row's error)."""
    if not values:
        return
    arr = np.asarray(values, dtype=np.float64)
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
            columns[c],
        )


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
