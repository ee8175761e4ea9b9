"""The typed stress–strain data set, :class:`Dataset`, from a CSV file or from arrays."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from snsurrogate.errors import DataError

from . import checks, units
from .messages import names

__all__ = ["ARRAYS_SOURCE", "Dataset"]

#: :attr:`Dataset.source` of a data set made from arrays, unless another is given.
ARRAYS_SOURCE = "<arrays>"


@dataclass(frozen=True)
class Dataset:
    """Stress–strain data: from a CSV file (:func:`~snsurrogate.data.reader.read_curves`) or from
    arrays (:meth:`from_arrays`); :meth:`check` runs the checks of :mod:`snsurrogate.data.checks` on
    either.

    Attributes
    ----------
    strain : numpy.ndarray
        Shape ``(n, d_in)``, float64: engineering strain, dimensionless (already divided by 100 for
        percent, already ``λ - 1`` for a stretch column). ``d_in`` is 1 (uniaxial), 3 (plane Voigt
        ``xx, yy, xy``) or 6 (3D Voigt ``xx, yy, zz, yz, xz, xy``); shear is engineering shear.
    stress : numpy.ndarray
        Shape ``(n, d_out)``, float64, in :attr:`stress_unit`, as in the source.
    strain_columns : tuple of str
        Names of the strain columns (the stretch column's name when read from stretch; ``strain_0``,
        ... for arrays unless named).
    stress_columns : tuple of str
        Names of the stress columns (``stress_0``, ... for arrays unless named).
    stress_unit : str
        Stress unit, e.g. ``"MPa"`` (canonical spellings are the keys of
        :data:`~snsurrogate.data.units.STRESS_UNIT_TO_PA`); ``"unspecified"`` for arrays without one.
    strain_unit : str
        Unit of the strain column(s) in the source: ``"-"`` (dimensionless), ``"%"`` or ``"stretch"``.
    source : str
        Path of the file as given, or :data:`ARRAYS_SOURCE` (or a given label) for arrays.
    sha256 : str
        Hex SHA-256 of the file's bytes; for arrays, of the float64 bytes of the strain and then the
        stress array as given, in C order.
    line_numbers : numpy.ndarray
        Shape ``(n,)``, int64: for a file the 1-based line of each row kept; for arrays the 0-based
        index of each row kept in the arrays given (see :attr:`row_label`).
    comments : tuple of str
        Text of the ``#`` comment lines, in file order, without the ``#`` and surrounding blanks.
    notes : tuple of str
        Human-readable notes on what was inferred or dropped (units, branch selection).
    row_label : str
        ``"line"`` when :attr:`line_numbers` are lines of a file, ``"row"`` when they are array rows;
        messages say ``line 12`` or ``row 11`` accordingly.
    checked_branch : str or None
        The ``branch`` option that :meth:`check` last passed this data set with (``"all"`` or
        ``"loading"``), or None when it has not been checked (a Dataset built directly). :func:`read_curves`
        and :meth:`from_arrays` return checked data sets; :func:`~snsurrogate.training.fit` checks one
        that is not. :func:`dataclasses.replace` keeps it: check again after changing the arrays.

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
    comments: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    row_label: str = "line"
    checked_branch: str | None = None

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

    def check(self, branch: str = "all", min_rows: int = 10, keep_fracture: bool = False) -> Dataset:
        """Run the shape, finite-value, branch, row-count, varying-strain and conflict checks.

        Parameters
        ----------
        branch
            ``"all"`` (a strain reversal is an error) or ``"loading"`` (one strain column: keep the
            loading envelope), see :func:`snsurrogate.data.checks.check`.
        min_rows
            Minimum number of rows that must remain.
        keep_fracture
            Keep the rows after a fracture at the end of the test (default: dropped, with a note).

        Returns
        -------
        Dataset
            A copy with the rows kept, notes added and :attr:`checked_branch` set.

        Raises
        ------
        DataError
            The first check that fails, located by source and line (or array row) and column.
        """
        return checks.check(self, branch=branch, min_rows=min_rows, keep_fracture=keep_fracture)

    @classmethod
    def from_arrays(
        cls,
        strain: ArrayLike,
        stress: ArrayLike,
        *,
        stress_unit: str | None = None,
        strain_unit: str | None = None,
        strain_names: Sequence[str] | None = None,
        stress_names: Sequence[str] | None = None,
        source: str = ARRAYS_SOURCE,
        branch: str = "all",
        min_rows: int = 10,
        keep_fracture: bool = False,
    ) -> Dataset:
        """A checked data set from arrays of strain and stress, rows in test order (one strain column:
        rows in another order that are single-valued are sorted by strain, with a note).

        Parameters
        ----------
        strain
            Shape ``(n,)`` or ``(n, d_in)`` with ``d_in`` 1, 3 or 6 (Voigt, engineering shear), in
            ``strain_unit``.
        stress
            Shape ``(n,)`` or ``(n, d_out)``, in ``stress_unit``.
        stress_unit
            Stress unit (known spellings are normalised, e.g. ``"mpa"`` -> ``"MPa"``); default
            ``"unspecified"``, with a note.
        strain_unit
            ``"-"``, ``"1"`` or ``"mm/mm"`` (dimensionless, the default), ``"%"`` (divided by 100) or
            ``"stretch"`` (one column of ``λ = L/L0 > 0``; the strain is ``λ - 1``).
        strain_names, stress_names
            Column names used in messages and recorded in a model; default ``strain_0``, ... and
            ``stress_0``, ....
        source
            What the messages name as the source.
        branch, min_rows, keep_fracture
            As in :meth:`check`.

        Returns
        -------
        Dataset
            ``line_numbers`` are the 0-based rows of the arrays kept; ``sha256`` hashes the arrays.

        Raises
        ------
        DataError
            Non-numeric or badly shaped arrays, a bad unit, and every check of :meth:`check`; messages
            name the 0-based row and the column, e.g. ``<arrays>: column 'strain_0': the strain
            reverses: unloading starts at row 9 ...``.
        """
        try:
            e = np.asarray(strain, dtype=np.float64)
            s = np.asarray(stress, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError(f"strain and stress must be arrays of numbers: {exc}", source) from None
        e = e[:, None] if e.ndim == 1 else e
        s = s[:, None] if s.ndim == 1 else s
        stretch = strain_unit == "stretch"
        units.check_unit_options(source, stress_unit, strain_unit, stretch)
        notes: list[str] = []
        if stress_unit is None:
            unit = "unspecified"
            notes.append("no stress unit given (stress_unit=): recorded as 'unspecified'")
        else:
            unit = units.canonical_stress_unit(stress_unit, notes)
        file_unit = "stretch" if stretch else units.STRAIN_UNITS[strain_unit or "-"]
        e_names = _column_names(source, strain_names, "strain", e)
        s_names = _column_names(source, stress_names, "stress", s)
        rows = np.arange(e.shape[0] if e.ndim else 0, dtype=np.int64)
        digest = hashlib.sha256()
        for a in (e, s):
            digest.update(np.ascontiguousarray(a).tobytes())
        ds = cls(e, s, e_names, s_names, unit, file_unit, source, digest.hexdigest(), rows, (), (), "row")
        checks.check_shapes(ds)
        checks.check_finite(ds)
        if stretch:
            checks.check_positive_stretch(source, e[:, 0], rows, "row", e_names[0])
            notes.append(f"strain = stretch - 1 (engineering strain) from column {e_names[0]!r}")
        elif file_unit == "%":
            notes.append(f"strain column(s) {names(e_names)} in percent (strain_unit='%'): divided by 100")
        strain_arr = np.ascontiguousarray(units.to_strain(e, file_unit))
        ds = cls(strain_arr, s, e_names, s_names, unit, file_unit, source, ds.sha256, rows, (), tuple(notes), "row")
        return ds.check(branch=branch, min_rows=min_rows, keep_fracture=keep_fracture)


def _column_names(source: str, given: Sequence[str] | None, what: str, values: np.ndarray) -> tuple[str, ...]:
    """The given column names as a tuple of str, or ``what_0``, ``what_1``, ... for each column."""
    if given is None:
        count = values.shape[1] if values.ndim == 2 else 0
        return tuple(f"{what}_{i}" for i in range(count))
    names = (given,) if isinstance(given, str) else tuple(given)
    if not all(isinstance(name, str) and name.strip() for name in names):
        raise DataError(f"{what}_names must be non-empty strings, got {names!r}", source)
    return tuple(name.strip() for name in names)
