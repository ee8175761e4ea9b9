"""Value kinds of the case file: annotated pydantic types that also say how the reference and the error
messages name them, and the helpers that the models' validators share.

Every scalar is validated strictly (``strict=True``): TOML gives real numbers, booleans and strings,
and a string is never converted to a number. Numbers must be finite; integers are never taken for
booleans or floats for integers. Lists are read as tuples, so that a validated case is immutable.
"""

from __future__ import annotations

import difflib
import os
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, Strict
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError, PydanticUndefined

from fem.stability import LINEAR_SAFETY, NONLINEAR_SAFETY

AXES = ("x", "y", "z")
Axis = Literal["x", "y", "z"]


@dataclass(frozen=True)
class Kind:
    """How a value type is named: ``name`` in the reference, ``expected`` in a message (``expected a
    positive number, got the string '10.0'``)."""

    name: str
    expected: str


# ---------------------------------------------------------------------------------------------- messages
def invalid(message: str, *, key: str | None = None, loc: tuple | None = None) -> PydanticCustomError:
    """A validation error whose ``message`` is shown as it is (after ``<file>: <section> <key>: ``).

    ``key`` names the key of the table being validated (for validators of a whole table), ``loc`` the
    full place from the top of the case (``("boundary", 1, "components")``, for validators of the case).
    """
    ctx: dict[str, Any] = {"message": message}
    if key is not None:
        ctx["key"] = key
    if loc is not None:
        ctx["loc"] = tuple(loc)
    return PydanticCustomError("case", "{message}", ctx)


QUOTE = 60
"""A message quotes at most this many characters of a value (the rest is counted, never echoed)."""


def clip(value: Any, limit: int = QUOTE) -> str:
    """``repr`` of ``value`` (a string: its first ``limit`` characters, and how many there are)."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def show(value: Any) -> str:
    """How a rejected value is quoted in a message (at most :data:`QUOTE` characters of it)."""
    if isinstance(value, str):
        return f"the string {clip(value)}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        keys = list(value)
        shown = ", ".join(clip(k)[1:-1] if isinstance(k, str) and len(k) <= QUOTE else clip(k) for k in keys[:8])
        return "a table {" + shown + (", ..." if len(keys) > 8 else "") + "}"
    if isinstance(value, tuple):
        return clip(list(value))
    return clip(value)


def did_you_mean(word: Any, options) -> str:
    """``"; did you mean 'end'?"`` for the closest of ``options`` to ``word``, or ``""``."""
    word = str(word)
    if len(word) > 4 * QUOTE:  # nothing is close to a very long word (and difflib would be slow)
        return ""
    close = difflib.get_close_matches(word, [str(o) for o in options], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def key(doc: str, *, unit: str = "", default: Any = PydanticUndefined, default_doc: str = "",
        expected: str = "", kind: str = "") -> Any:
    """A field of a case table: its meaning ``doc``, ``unit`` (names from ``[units]``), default, and how
    the reference (``kind``, ``default_doc``) and messages (``expected``) describe it where its type's
    :class:`Kind` does not say it well enough."""
    extra = {"unit": unit, "default_doc": default_doc, "expected": expected, "kind": kind}
    return Field(default, description=doc, json_schema_extra={k: v for k, v in extra.items() if v})


def extra_of(info: FieldInfo) -> dict[str, str]:
    """The documentation a field got from :func:`key` (``unit``, ``default_doc``, ``expected``, ``kind``)."""
    return info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}


def find_kind(tp: Any) -> Kind | None:
    """The :class:`Kind` annotated on ``tp`` or on the first of its arguments that has one."""
    if typing.get_origin(tp) is Annotated:
        for m in tp.__metadata__:
            if isinstance(m, Kind):
                return m
    for arg in typing.get_args(tp):
        found = find_kind(arg)
        if found is not None:
            return found
    return None


def choices_of(tp: Any) -> tuple[str, ...]:
    """The values of the ``Literal`` in ``tp`` (``()`` if there is none)."""
    if typing.get_origin(tp) is Literal:
        return tuple(typing.get_args(tp))
    for arg in typing.get_args(tp):
        if not isinstance(arg, (str, int, float)) and (found := choices_of(arg)):
            return found
    return ()


def kind_name(info: FieldInfo) -> str:
    """How the reference names the kind of value a field takes."""
    extra = extra_of(info)
    if extra.get("kind"):
        return extra["kind"]
    kind = next((m for m in info.metadata if isinstance(m, Kind)), None) or find_kind(info.annotation)
    if kind is not None:
        return kind.name
    choices = choices_of(info.annotation)
    return " | ".join(repr(c) for c in choices) if choices else "value"


def expected_of(info: FieldInfo) -> str:
    """What a message says a field expected (``a positive number``, ``one of 'quad4', 'tri3'``)."""
    extra = extra_of(info)
    if extra.get("expected"):
        return extra["expected"]
    kind = next((m for m in info.metadata if isinstance(m, Kind)), None) or find_kind(info.annotation)
    if kind is not None:
        return kind.expected
    choices = choices_of(info.annotation)
    return "one of " + ", ".join(repr(c) for c in choices) if choices else "a valid value"


# ---------------------------------------------------------------------------------------------- kinds
def _finite(**constraints) -> Any:
    return Field(allow_inf_nan=False, **constraints)


Number = Annotated[float, Strict(), _finite(), Kind("number", "a number")]
PositiveNumber = Annotated[float, Strict(), _finite(gt=0), Kind("positive number", "a positive number")]
NonNegative = Annotated[float, Strict(), _finite(ge=0), Kind("number >= 0", "a number >= 0")]
Fraction = Annotated[float, Strict(), _finite(gt=0, le=1), Kind("number in (0, 1]", "a number in (0, 1]")]
Poisson = Annotated[float, Strict(), _finite(gt=-1, lt=0.5), Kind("number in (-1, 0.5)", "a number in (-1, 0.5)")]
PositiveInt = Annotated[int, Strict(), Field(ge=1), Kind("positive integer", "a positive integer")]
Integer = Annotated[int, Strict(), Kind("integer", "an integer")]
Seed = Annotated[int, Strict(), Field(ge=0), Kind("integer >= 0", "an integer >= 0")]
MAX_NAME = 200
"""The longest name a case holds (units, boundary names, node groups) [characters]."""
MAX_PATH = 4096
"""The longest path a case holds (``[mesh] file``, ``[material] model``) [characters] (Linux PATH_MAX)."""
NAME_MAX = 255
"""The longest component of a path [bytes of its file-system encoding], where the OS does not say
(``os.pathconf(folder, "PC_NAME_MAX")``; 255 on Linux, macOS and Windows)."""


def _bounded(limit: int, what: str):
    def check(value: Any) -> Any:
        if isinstance(value, str) and len(value) > limit:
            raise invalid(f"{what} of {len(value)} characters ({clip(value)}); at most {limit} characters")
        return value
    return check


def name_max(folder: str = ".") -> int:
    """The longest file name in ``folder`` [bytes] (:data:`NAME_MAX` where the OS does not say)."""
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return NAME_MAX


def path_problem(value: str, folder: str = ".") -> str | None:
    """What is wrong with ``value`` as a path (too long, a component too long, a NUL byte), or ``None``."""
    if len(value) > MAX_PATH:
        return f"a path of {len(value)} characters ({clip(value)}); at most {MAX_PATH} characters"
    if "\x00" in value:
        return f"a path with a NUL character ({clip(value)})"
    limit = name_max(folder)
    for part in value.replace("\\", "/").split("/"):
        size = len(os.fsencode(part)) if part else 0
        if size > limit:
            return (f"a file or folder name of {size} bytes ({clip(part)}) in {clip(value)}; this system allows "
                    f"at most {limit} bytes per name")
    return None


def _path(value: Any) -> Any:
    if isinstance(value, str) and (problem := path_problem(value)):
        raise invalid(problem)
    return value


Text = Annotated[str, Strict(), Field(min_length=1), BeforeValidator(_bounded(MAX_NAME, "a name")),
                 Kind("string", f"a non-empty string of at most {MAX_NAME} characters")]
"""A name (unit, boundary name, node group): 1 to :data:`MAX_NAME` characters."""
PathText = Annotated[str, Strict(), Field(min_length=1), BeforeValidator(_path),
                     Kind("string", "a non-empty path")]
"""A file path: at most :data:`MAX_PATH` characters, each component at most :func:`name_max` bytes."""
Flag = Annotated[bool, Strict(), Kind("bool", "true or false")]


def _one_to_three(value: tuple) -> tuple:
    if not 1 <= len(value) <= 3:
        raise ValueError("1 to 3 values")
    return value


Values = Annotated[tuple[Number, ...], AfterValidator(_one_to_three),
                   Kind("list of numbers", "a list of 1 to 3 numbers")]
"""One number per component or mesh dimension (1 to 3)."""


EnergyStop = Annotated[Literal[False] | Fraction, Kind("number in (0, 1] or false", "a number in (0, 1] or false")]
"""A fraction, or ``false`` for "never"."""

SAFETY_HELP = (f"factor on the certified step (dt = 'auto'); 'auto': {LINEAR_SAFETY:g} for a linear law, "
               f"{NONLINEAR_SAFETY:g} for any other (docs/nonlinear-stability.md)")
Safety = Annotated[Literal["auto"] | Fraction, Kind("number in (0, 1] or 'auto'", "a number in (0, 1] or 'auto'")]
Dt = Annotated[Literal["auto"] | PositiveNumber, Kind("positive number or 'auto'", "a positive number or 'auto'")]


def _check_components(value: Any) -> Any:
    """Old-style messages for the two mistakes a user makes: a wrong name and a name listed twice."""
    if isinstance(value, (list, tuple)) and value and all(isinstance(c, str) for c in value):
        for c in value:
            if c not in AXES:
                raise invalid(f"unknown component {clip(c)}; the components are 'x', 'y', 'z'{did_you_mean(c, AXES)}")
        if len(set(value)) != len(value):
            raise invalid(f"a component is listed twice: {list(value)!r}")
    return value


Components = Annotated[tuple[Axis, ...], Field(min_length=1), BeforeValidator(_check_components),
                       Kind("list of 'x', 'y', 'z'", "a list of component names from 'x', 'y', 'z'")]


def _increasing_times(pairs: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
    times = [p[0] for p in pairs]
    if any(b <= a for a, b in zip(times, times[1:])):
        raise invalid(f"the times must increase strictly, got {clip(times)}")
    return pairs


AmplitudeTable = Annotated[tuple[tuple[Number, Number], ...], Field(min_length=1), AfterValidator(_increasing_times),
                           Kind("[[t, factor], ...]", "a list of [time, factor] pairs with increasing times, "
                                                      "e.g. [[0.0, 0.0], [1e-6, 1.0]]")]


def _interval(value: float | tuple[float, float]) -> float | tuple[float, float]:
    if isinstance(value, tuple) and value[0] > value[1]:
        raise ValueError("lo > hi")
    return value


Coordinate = Annotated[Number | tuple[Number, Number], AfterValidator(_interval),
                       Kind("number or [lo, hi]", "a number or a range [lo, hi] with lo <= hi")]
