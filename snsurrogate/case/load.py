"""Reading a case: TOML (:mod:`tomllib`) or a dict, validated by the models of
:mod:`snsurrogate.case.models`; a pydantic ``ValidationError`` becomes a located
:class:`snsurrogate.errors.CaseFileError` (``<file>: [section] key: what is wrong``).

Of several problems the first is reported, in the order a reader of the file meets them: unknown
sections, then section by section (and condition by condition) unknown keys, wrong values, keys of
another variant and missing keys.
"""

from __future__ import annotations

import os
import re
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from ..errors import CaseFileError
from .kinds import (
    MAX_PATH,
    QUOTE,
    choices_of,
    clip,
    did_you_mean,
    expected_of,
    extra_of,
    find_kind,
    kind_name,
    path_problem,
    show,
)
from .models import ARRAYS, SECTIONS, UNIONS, Case, NodeSelection

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10: the tomli backport, if installed
    try:
        import tomli as tomllib
    except ModuleNotFoundError:
        tomllib = None

_MISSING = object()


def load_case(source: str | os.PathLike[str] | dict | Case, *, base_dir: str | os.PathLike[str] | None = None
              ) -> Case:
    """Read and validate a case: a TOML file path, a dict of the same structure, or a :class:`Case`.

    ``base_dir`` (default: the file's folder, or the working directory for a dict) resolves relative
    mesh and model paths. Raises :class:`snsurrogate.errors.CaseFileError` naming the file and the key.
    """
    if isinstance(source, Case):
        return source if base_dir is None else source.model_copy().located(source.name, base_dir)
    if isinstance(source, dict):
        name, raw, folder = "<case>", source, Path.cwd()
    else:
        path = Path(source)
        name, raw, folder = os.fspath(source), read_toml(path), path.parent
    return validate(raw, name, Path(base_dir) if base_dir is not None else folder)


def validate(raw: dict, name: str = "<case>", base_dir: str | os.PathLike[str] | None = None,
             context: dict[str, Any] | None = None) -> Case:
    """Validate a dict as a :class:`Case` named ``name``; ``context`` as for :meth:`Case.model_validate`."""
    try:
        case = Case.model_validate(raw, context=context)
    except ValidationError as exc:
        raise case_file_error(exc, raw, name) from None
    return case.located(name, base_dir if base_dir is not None else Path.cwd())


def fit_to_mesh(case: Case, dim: int, cell_type: str | None = None) -> Case:
    """``case`` validated again for a ``dim``-D mesh (a mesh file, whose dimension is known once it is read)."""
    raw = case.model_dump(exclude_unset=True)
    return validate(raw, case.name, case.base_dir, context={"dim": dim, "cell_type": cell_type})


MAX_CASE_BYTES = 1 << 20
"""The largest case file read [bytes] (1 MiB): a case is a page of keys; long tables (meshes, measured
curves) belong in the files it names. A larger file is refused before it is parsed."""

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = {b"\xff\xfe": "UTF-16 (little-endian)", b"\xfe\xff": "UTF-16 (big-endian)"}


def file_label(path: str | os.PathLike[str]) -> str:
    """How messages name a file: as given, or its first characters when the name is absurdly long."""
    name = os.fspath(path)
    return name if len(name) <= MAX_PATH else f"{name[:QUOTE]}... ({len(name)} characters)"


def read_toml(path: Path) -> dict:
    """Parse a TOML file; a syntax error becomes ``CaseFileError("<file>: line L, column C: TOML syntax error")``.

    A file larger than :data:`MAX_CASE_BYTES` is refused before it is parsed; a leading UTF-8 byte-order
    mark is skipped; a UTF-16 file (its byte-order mark) is refused with a message saying so.
    """
    label = file_label(path)
    if tomllib is None:  # pragma: no cover
        raise CaseFileError("reading case files needs Python >= 3.11 (tomllib) or the tomli package", label)
    problem = path_problem(os.fspath(path))
    if problem:
        raise CaseFileError(f"cannot read the case file: {problem}", label)
    try:
        if not path.is_file():
            raise CaseFileError("no such case file" if not path.exists() else "not a file", label)
        size = path.stat().st_size
        if size > MAX_CASE_BYTES:
            raise CaseFileError(f"the case file is {size} bytes; a case file is at most {MAX_CASE_BYTES} bytes "
                                "(1 MiB): put meshes and long tables in the files it names", label)
        with open(path, "rb") as fh:
            data = fh.read(MAX_CASE_BYTES + 1)
    except OSError as exc:
        raise CaseFileError(f"cannot read the case file: {exc.strerror or exc}", label) from None
    if len(data) > MAX_CASE_BYTES:  # grew since stat
        raise CaseFileError(f"the case file is over {MAX_CASE_BYTES} bytes (1 MiB)", label)
    return parse_toml(data, label)


def parse_toml(data: bytes, label: str = "<case>") -> dict:
    """Parse the bytes of a case file named ``label`` (see :func:`read_toml`)."""
    for bom, encoding in _UTF16_BOMS.items():
        if data.startswith(bom):
            raise CaseFileError(f"the file is {encoding} text (it starts with a UTF-16 byte-order mark); "
                                "save the case file as UTF-8", label)
    if data.startswith(_UTF8_BOM):  # written by some Windows editors: read the text after it
        data = data[len(_UTF8_BOM):]
    elif b"\x00" in data[:256]:
        raise CaseFileError("the file has NUL bytes: it is not UTF-8 text (UTF-16 without a byte-order mark, or "
                            "binary?); save the case file as UTF-8", label)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CaseFileError(f"not UTF-8 text (byte {exc.start}); save the case file as UTF-8", label) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        text = str(exc)
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)", text)
        where = f"line {m.group(1)}, column {m.group(2)}: " if m else ""
        text = text[: m.start()] + text[m.end():] if m else text
        m_end = re.search(r"\s*\(at end of document\)", text)
        if m_end:
            where, text = "end of file: ", text[: m_end.start()]
        raise CaseFileError(f"{where}TOML syntax error: {text}", label) from None
    except RecursionError:
        raise CaseFileError("TOML syntax error: tables or arrays nested too deeply", label) from None


# ---------------------------------------------------------------------------------------------- messages
def case_file_error(exc: ValidationError, raw: Any, name: str) -> CaseFileError:
    """The first problem of ``exc`` (see the module docstring) as a located :class:`CaseFileError`."""
    problems = [_problem(err, raw) for err in exc.errors(include_url=False)]
    rank, where, message = min(problems, key=lambda p: p[0])
    return CaseFileError(message, name, where)


class _Place:
    """Where an error is: section, condition index, variant (tagged unions), key, and what lies deeper."""

    def __init__(self, loc: tuple, raw: Any) -> None:
        self.section, rest = str(loc[0]), list(loc[1:])
        self.index = rest.pop(0) if self.section in ARRAYS and rest and isinstance(rest[0], int) else None
        variants = SECTIONS.get(self.section, ())
        self.table: type[BaseModel] | None = variants[0] if len(variants) == 1 else None
        if self.section in UNIONS and rest:
            tag = rest.pop(0)
            self.table = next((v for v in variants if v.tag() == tag), None)
        self.key: str | None = str(rest.pop(0)) if rest else None
        self.rest = tuple(rest)
        self.raw = raw

    @property
    def label(self) -> str:
        if self.section not in ARRAYS:
            return f"[{self.section}]"
        if self.index is None:
            return f"[[{self.section}]]"
        table = self.dig(self.section, self.index)
        name = table.get("name") if isinstance(table, dict) else None
        return f"[[{self.section}]] #{self.index + 1}" + (f" ({_short(name)})" if isinstance(name, str) and name
                                                          else "")

    @property
    def where(self) -> str:
        return self.label if self.key is None else f"{self.label} {_short(self.key)}"

    @property
    def field(self) -> FieldInfo | None:
        return self.table.model_fields.get(self.key) if self.table is not None and self.key else None

    def dig(self, *path) -> Any:
        """The raw value at ``path`` (``_MISSING`` where there is none)."""
        value = self.raw
        for step in path:
            if isinstance(value, dict) and step in value:
                value = value[step]
            elif isinstance(value, (list, tuple)) and isinstance(step, int) and 0 <= step < len(value):
                value = value[step]
            else:
                return _MISSING
        return value

    def value(self, *deeper) -> Any:
        """The raw value of the key (and ``deeper`` inside it)."""
        head = (self.section,) if self.index is None else (self.section, self.index)
        return self.dig(*head, self.key, *deeper)

    def key_names(self) -> list[str]:
        """Every key of the section, over all its variants, in order."""
        return list(dict.fromkeys(k for v in SECTIONS[self.section] for k in v.model_fields))


def _problem(err: dict, raw: Any) -> tuple[tuple, str, str]:
    """``(rank, where, message)`` of one pydantic error."""
    loc, kind, ctx = tuple(err["loc"]), err["type"], err.get("ctx") or {}
    if kind == "case" and "loc" in ctx:
        loc = tuple(ctx["loc"])
    if not loc:  # pragma: no cover - the case itself is not a table
        return (0,), "", f"expected a table of sections, got {show(raw)}"
    if loc[0] not in SECTIONS:
        return (0,), f"[{_short(loc[0])}]", (f"unknown section{did_you_mean(loc[0], SECTIONS)} "
                                    f"(the sections are {', '.join(SECTIONS)})")
    place = _Place(loc, raw)
    if kind == "case" and "key" in ctx:
        place.key = ctx["key"]
    order = (1, list(SECTIONS).index(place.section), place.index or 0)
    if kind == "case":
        return (*order, 1), place.where, _deeper(place.rest) + ctx["message"]
    if kind == "extra_forbidden":
        return _unknown_key(place, order)
    if kind == "missing" and not place.rest:  # (a missing item of a fixed-length list is a wrong value)
        if place.key is None:
            doc = Case.model_fields[place.section].description
            return (*order, 3), place.where, f"missing required section ({doc})"
        return (*order, 3), place.where, _missing(place)
    return (*order, 1), place.where, _wrong_value(place, err)


def _short(name: object) -> str:
    """A key or name as a message shows it: unquoted when short, else its first characters."""
    text = str(name)
    return text if len(text) <= QUOTE else clip(text)


def _deeper(rest: tuple) -> str:
    """``"#2: "`` for the second of a list of node selections, ``"x: "`` for a key inside one."""
    return "".join(f"#{r + 1}: " if isinstance(r, int) else f"{r}: " for r in rest)


def _unknown_key(place: _Place, order: tuple) -> tuple[tuple, str, str]:
    if place.rest:  # inside a node selection
        key_ = place.rest[-1]
        keys = list(NodeSelection.model_fields)
        place.rest = place.rest[:-1]
        return (*order, 0), place.where, (f"{_deeper(place.rest)}unknown key {clip(key_)} in the node selection"
                                          f"{did_you_mean(key_, keys)} (the keys are {', '.join(keys)})")
    users = [v for v in SECTIONS[place.section] if place.key in v.model_fields]
    if users and place.table is not None:
        owners = " / ".join(v.when() for v in users)
        return (*order, 2), place.where, f"not used with {place.table.when()} (it belongs to {owners})"
    names = place.key_names()
    hint = did_you_mean(place.key, names)
    return (*order, 0), place.where, f"unknown key{hint}" + ("" if hint else f" (the keys are {', '.join(names)})")


def _missing(place: _Place) -> str:
    info = place.field
    unit = extra_of(info).get("unit", "")
    unit = f" [{unit}]" if unit and unit != "-" else ""
    return f"missing required key ({info.description}{unit}, {kind_name(info)})"


def _wrong_value(place: _Place, err: dict) -> str:
    if place.key is None:  # a section that is not a table
        value = place.dig(place.section) if place.index is None else place.dig(place.section, place.index)
        if place.section in ARRAYS:
            return f"expected an array of tables [[{place.section}]], got {show(value)}"
        return f"expected a table [{place.section}], got {show(value)}"
    info = place.field
    if info is not None and _holds(info, NodeSelection) and place.rest:
        ints = tuple(r for r in place.rest if isinstance(r, int))
        names = [r for r in place.rest if isinstance(r, str)]
        if names:  # a key inside a node selection
            inner = NodeSelection.model_fields[names[0]]
            return (f"{_deeper(ints)}{names[0]}: expected {expected_of(inner)}, "
                    f"got {show(place.value(*ints, names[0]))}")
        return f"{_deeper(ints)}expected a node selection like {{ group = \"left\" }} or {{ x = 0.0 }}, " \
               f"got {show(place.value(*ints))}"
    if info is not None and _holds(info, NodeSelection) and not place.rest and not _holds_list(info):
        return f"expected a node selection like {{ group = \"left\" }} or {{ x = 0.0 }}, got {show(place.value())}"
    value = place.value()
    expected = expected_of(info) if info is not None else "a valid value"
    if err["type"] == "literal_error" and isinstance(value, str) and find_kind(info.annotation) is None:
        # a name that is not one of the choices (a key that takes nothing but names)
        return f"expected {expected}, got {clip(value)}{did_you_mean(value, _choices(info))}"
    return f"expected {expected}, got {show(value)}"


def _choices(info: FieldInfo | None) -> tuple:
    return choices_of(info.annotation) if info is not None else ()


def _holds(info: FieldInfo, model: type[BaseModel]) -> bool:
    """Whether the field's type has ``model`` in it."""
    def walk(tp) -> bool:
        return tp is model or any(walk(a) for a in typing.get_args(tp))
    return walk(info.annotation)


def _holds_list(info: FieldInfo) -> bool:
    def walk(tp) -> bool:
        return typing.get_origin(tp) is tuple or any(walk(a) for a in typing.get_args(tp))
    return walk(info.annotation)
