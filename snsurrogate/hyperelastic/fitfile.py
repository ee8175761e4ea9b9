"""The TOML fit file of a test-mode fit (``snsurrogate fit --tests FIT.toml``): per-test files, columns,
weights and stress measures, and the tests to predict. Every key is checked; an error names the file, the
table and the key.

Example (paths are relative to the fit file)::

    stretch = "stretch"                 # defaults for every test below (optional)
    stress = "nominal_stress_MPa"
    stress_unit = "MPa"                 # optional when the column names carry it

    [[test]]
    mode = "uniaxial"
    file = "ut.csv"

    [[test]]
    mode = "biaxial"
    file = "biax.csv"
    stretch = ["lambda_1", "lambda_2"]
    stress = ["P11_MPa", "P22_MPa"]
    weight = 2.0                        # multiplies this test's residuals
    measure = "cauchy"                  # "nominal" (default) or "cauchy"

    [[test]]
    mode = "simple_shear"
    file = "shear.csv"
    shear = "gamma"
    stress = "P12_MPa"

    [[predict]]                         # reported, not fitted
    mode = "pure_shear"
    file = "ps.csv"
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import DataError
from .modes import FIT_MODES


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    mode: Literal[FIT_MODES]  # type: ignore[valid-type]
    file: str
    stretch: str | list[str] | None = None
    strain: str | list[str] | None = None
    strain_unit: str | None = None
    branch: Literal["all", "loading"] = "all"
    stress: str | list[str] | None = None
    shear: str | None = None
    volume: str | None = None
    stress_unit: str | None = None
    measure: Literal["nominal", "cauchy"] = "nominal"
    weight: float = Field(1.0, gt=0)
    delimiter: str | None = None
    skip_rows: int = Field(0, ge=0)


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    stretch: str | list[str] | None = None
    stress: str | list[str] | None = None
    shear: str | None = None
    volume: str | None = None
    stress_unit: str | None = None
    delimiter: str = ","
    test: list[_Entry] = Field(min_length=1)
    predict: list[_Entry] = []


@dataclass(frozen=True)
class TestSpec:
    """One test to read: what :func:`snsurrogate.hyperelastic.curves.read_test` takes."""

    __test__ = False

    mode: str
    path: str
    stretch: tuple[str, ...] = ()
    stress: tuple[str, ...] = ()
    shear: str | None = None
    volume: str | None = None
    stress_unit: str | None = None
    measure: str = "nominal"
    weight: float = 1.0
    delimiter: str = ","
    skip_rows: int = 0
    strain: tuple[str, ...] = ()
    strain_unit: str | None = None
    branch: str = "all"

    def read(self):
        from .curves import read_test

        return read_test(self.path, self.mode, stretch=self.stretch, stress=self.stress, shear=self.shear,
                         volume=self.volume, measure=self.measure, stress_unit=self.stress_unit, weight=self.weight,
                         delimiter=self.delimiter, skip_rows=self.skip_rows, strain=self.strain,
                         strain_unit=self.strain_unit, branch=self.branch)


def _names(value) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _spec(doc: _Document, e: _Entry, base: Path) -> TestSpec:
    path = Path(e.file)
    path = path if path.is_absolute() else base / path
    shear = e.shear if e.shear is not None else (doc.shear if e.mode == "simple_shear" else None)
    volume = e.volume if e.volume is not None else (doc.volume if e.mode == "volumetric" else None)
    strain = _names(e.strain)
    stretch = () if strain else _names(e.stretch if e.stretch is not None else
                                       (doc.stretch if e.mode not in ("simple_shear", "volumetric") else None))
    return TestSpec(e.mode, os.fspath(path), stretch, _names(e.stress if e.stress is not None else doc.stress), shear,
                    volume, e.stress_unit or doc.stress_unit, e.measure, e.weight, e.delimiter or doc.delimiter,
                    e.skip_rows, strain, e.strain_unit, e.branch)


def _where(err) -> str:
    where = "".join(f"[{p}]" if isinstance(p, str) else f" #{p + 1}" for p in err["loc"])
    return f"{where.strip()}: {err['msg']}"


def read_fit_file(path: str | os.PathLike[str]) -> tuple[list[TestSpec], list[TestSpec]]:
    """``(tests, predictions)`` of a fit file; :class:`~snsurrogate.errors.DataError` naming the key on a bad one."""
    source = os.fspath(path)
    try:
        raw = tomllib.loads(Path(source).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("no such fit file", source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read the fit file: {exc}", source) from None
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"not valid TOML: {exc}", source) from None
    try:
        doc = _Document.model_validate(raw)
    except ValidationError as exc:
        raise DataError("; ".join(_where(err) for err in exc.errors()[:4]), source) from None
    base = Path(source).parent
    return [_spec(doc, e, base) for e in doc.test], [_spec(doc, e, base) for e in doc.predict]


__all__ = ["TestSpec", "read_fit_file"]
