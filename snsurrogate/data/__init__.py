"""Stress–strain data: reading CSV tables, units, and the checks that a law ``σ = f(ε)`` can fit them.

Modules
-------
:mod:`~snsurrogate.data.reader`
    :func:`read_curves`: a CSV file to a checked :class:`Dataset`.
:mod:`~snsurrogate.data.table`
    The text table: bytes and encoding, delimiter and decimal mark, header, units row, numeric cells.
:mod:`~snsurrogate.data.units`
    Stress and strain units from column names, a units row or the options.
:mod:`~snsurrogate.data.checks`
    Shapes, finite values, hysteresis (loading-envelope ``branch`` selection), too few rows, constant
    strain columns and conflicting stresses at one strain: run on any :class:`Dataset`.
:mod:`~snsurrogate.data.dataset`
    :class:`Dataset`, with :meth:`Dataset.from_arrays` and :meth:`Dataset.check`.

Every problem is a :class:`~snsurrogate.errors.DataError` naming the file, the line (1-based, as an
editor shows it) and the column, e.g. ``data.csv:9: column 'strain': the strain reverses: ...``; for
arrays the message names the 0-based row instead of a line.
"""

from .checks import BRANCHES, CONFLICT_STRAIN_TOL, CONFLICT_STRESS_TOL, REVERSAL_TOL
from .dataset import Dataset
from .reader import read_curves
from .units import STRAIN_UNITS, STRESS_UNIT_TO_PA

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
