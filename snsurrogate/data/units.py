"""Stress and strain units: from column names, from a units row, or from the options.

No unit is assumed silently. The stress unit is the ``stress_unit`` option or is read from the stress
column names (``stress_MPa``, ``stress [MPa]``, ``stress (kPa)``, ``Stress/GPa``, ...) or from a units
row under the header; strain is dimensionless unless the name, the units row or ``strain_unit`` says
percent; a stretch column gives the engineering strain ``λ - 1``. Every inference is recorded as a
note (the ``notes`` list passed in).
"""

from __future__ import annotations

import re

import numpy as np

from snsurrogate.errors import DataError

from .messages import names as _names

__all__ = ["STRAIN_UNITS", "STRESS_UNIT_TO_PA", "as_given", "to_strain"]

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
_DIMENSIONLESS = {"-", "1", "mm/mm", "m/m", "in/in", "", "[-]", "(-)"}

_SEP = r"A-Za-z0-9"
_UNIT_IN_NAME = re.compile(
    rf"(?<![{_SEP}])(N/mm\^?2|N/mm²|[kMG]?Pa|psi|ksi|bar)(?![{_SEP}^²])", re.IGNORECASE
)
_PERCENT_IN_NAME = re.compile(rf"%|(?<![{_SEP}])(percent|pct)(?![{_SEP}])", re.IGNORECASE)
_MICRO_IN_NAME = re.compile(rf"[µμ]|(?<![{_SEP}])(microstrain|ustrain|ue)(?![{_SEP}])", re.IGNORECASE)
_LENGTH_IN_NAME = re.compile(rf"(?<![{_SEP}/])(mm|cm)(?![{_SEP}/])|[\[(](in|inch)[\])]", re.IGNORECASE)
_HOW_STRESS_UNIT = (
    "pass --stress-unit (API: stress_unit=), e.g. --stress-unit MPa; units recognised in column "
    "names: Pa, kPa, MPa, GPa, psi, ksi, N/mm2, N/mm^2 and bar (bar only as [bar], (bar) or /bar), as in "
    "'stress_MPa', 'stress [MPa]', 'stress (MPa)', 'stress/MPa'"
)


def to_strain(values: np.ndarray, unit: str) -> np.ndarray:
    """Dimensionless engineering strain from values in ``unit`` (``"-"``, ``"%"`` or ``"stretch"``).

    Parameters
    ----------
    values
        Shape ``(n, d_in)``: the strain columns as given (percent, or the stretch ``λ`` [-]).
    unit
        ``"-"`` (returned as a copy), ``"%"`` (divided by 100) or ``"stretch"`` (``λ - 1``).
    """
    if unit == "stretch":
        return values - 1.0
    if unit == "%":
        return values / 100.0
    return values.copy()


def as_given(strain: np.ndarray, unit: str) -> np.ndarray:
    """The inverse of :func:`to_strain`: strain values as the source gave them, for messages."""
    if unit == "stretch":
        return strain + 1.0
    if unit == "%":
        return strain * 100.0
    return strain


def check_unit_options(source: str, stress_unit: object, strain_unit: object, stretch: bool) -> None:
    """Raise DataError for a ``strain_unit`` or ``stress_unit`` option that cannot be used."""
    if stretch:
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


def canonical_stress_unit(given: str, notes: list[str]) -> str:
    """The canonical spelling of a given stress unit (``"mpa"`` -> ``"MPa"``); unknown units are kept,
    with a note."""
    unit = _STRESS_UNIT_SPELLINGS.get(given.strip().lower(), given.strip())
    if unit not in STRESS_UNIT_TO_PA:
        notes.append(f"stress unit {unit!r} (as given) is not one of the known units {_names(STRESS_UNIT_TO_PA)}")
    return unit


def units_in_name(name: str) -> list[str]:
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


def stress_unit(source: str, header_no: int, columns: tuple[str, ...], given: str | None, notes: list[str]) -> str:
    """The stress unit: ``given`` (noting columns that name another unit) or read from the column names.

    Raises
    ------
    DataError
        No unit given and a column name names none, several, or not the same as the others.
    """
    per_name = {name: units_in_name(name) for name in columns}
    if given is not None:
        unit = canonical_stress_unit(given, notes)
        for name, units in per_name.items():
            if units and units != [unit]:
                notes.append(
                    f"column {name!r} names the unit {'/'.join(units)} but stress_unit={unit!r} was given; "
                    f"using {unit!r}"
                )
        return unit
    for name, units in per_name.items():
        if len(units) > 1:
            raise DataError(
                f"the column name names several stress units ({', '.join(units)}); {_HOW_STRESS_UNIT}",
                source,
                header_no,
                name,
            )
    missing = [name for name, units in per_name.items() if not units]
    if missing:
        raise DataError(
            f"cannot tell the stress unit from the column name; {_HOW_STRESS_UNIT}", source, header_no, missing[0]
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
    notes.append(f"stress unit {unit!r}{extra} taken from the column name(s) {_names(columns)}")
    return unit


def strain_unit(source: str, header_no: int, columns: tuple[str, ...], given: str | None, notes: list[str]) -> str:
    """The unit of the strain columns, ``"-"`` or ``"%"``: ``given``, or read from the column names.

    Raises
    ------
    DataError
        No unit given and a name suggests microstrain or a length, or only some names say percent.
    """
    percent = [name for name in columns if _PERCENT_IN_NAME.search(name)]
    if given is not None:
        unit = STRAIN_UNITS[given]
        if percent and unit != "%":
            notes.append(
                f"column(s) {_names(percent)} look like percent but strain_unit={given!r} was given; "
                "strain used as is"
            )
        if unit == "%":
            notes.append(f"strain column(s) {_names(columns)} in percent (strain_unit='%'): divided by 100")
        return unit
    for name in columns:
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
        if len(percent) != len(columns):
            plain = [name for name in columns if name not in percent]
            raise DataError(
                f"strain columns {_names(percent)} look like percent but {_names(plain)} do not; "
                "pass --strain-unit (API: strain_unit=) '%' or '-' for all of them",
                source,
                header_no,
                plain[0],
            )
        notes.append(f"strain in percent (from the column name(s) {_names(columns)}): divided by 100")
        return "%"
    notes.append(
        f"strain column(s) {_names(columns)} taken as dimensionless (strain unit '-'); pass --strain-unit % "
        "(API: strain_unit='%') if they are in percent"
    )
    return "-"


def known_stress_unit(cell: str) -> str | None:
    """The canonical stress unit a units-row cell names, or None when it names none this reader knows."""
    return _STRESS_UNIT_SPELLINGS.get(cell.strip().lower())


def known_strain_unit(cell: str) -> str | None:
    """``"-"`` or ``"%"`` for a units-row cell that names a dimensionless strain or percent, else None."""
    cell = cell.strip().lower()
    if cell in _DIMENSIONLESS:
        return "-"
    return "%" if cell in ("%", "percent", "pct") else None


def stress_unit_from_row(source: str, row_no: int, cell: str, column: str, notes: list[str]) -> str:
    """The stress unit that one units-row cell states, or a DataError when it is not a known unit."""
    unit = _STRESS_UNIT_SPELLINGS.get(cell.lower())
    if unit is None:
        raise DataError(
            f"line {row_no} looks like a units row, but {cell!r} is not a stress unit this reader "
            f"knows ({_names(STRESS_UNIT_TO_PA)}); pass --stress-unit (API: stress_unit=)",
            source,
            row_no,
            column,
        )
    notes.append(f"stress unit {unit!r} taken from the units row (line {row_no})")
    return unit


def strain_unit_from_row(source: str, row_no: int, columns: tuple[str, ...], row_units: dict[str, str]) -> str:
    """The strain unit that a units row states (``"-"`` or ``"%"``), or an error for anything else."""
    found = set()
    for name in columns:
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
