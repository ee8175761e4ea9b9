"""The case-file reference (printed by ``snsurrogate simulate --help``), generated from the models:
each section, each variant of a tagged union, each key with its kind, unit, default and meaning, the
keys of a node selection and the rules that relate sections."""

from __future__ import annotations

import textwrap
from typing import Any

from pydantic.fields import FieldInfo

from .kinds import extra_of, kind_name
from .models import ARRAYS, SECTIONS, UNIONS, Case, NodeSelection, Table, Variant

RULES = (
    "[material] mode must fit the mesh dimension (1-D: 1d; 2-D: plane_strain, plane_stress; 3-D: 3d), and nu is "
    "required unless the mode is 1d",
    "[[boundary]] components must be components of the mesh, with one value per component",
    "[initial] velocity has one value per mesh dimension",
    "node selections use only coordinates the mesh has",
    "a mesh file is checked against these rules once it is read",
)
"""The rules between sections, checked by :meth:`Case._fits_the_mesh` (stated in the reference)."""


def toml(value: Any) -> str:
    """A default as TOML writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, tuple):
        return repr(list(value))
    return repr(value)


def key_line(name: str, info: FieldInfo) -> str:
    """``end = positive number [time] (required): end time``."""
    extra = extra_of(info)
    unit = f" [{extra['unit']}]" if extra.get("unit") else ""
    if info.is_required():
        state = " (required)"
    elif extra.get("default_doc"):
        doc = extra["default_doc"]
        state = f", {doc}" if doc.startswith("required") else f", default {doc}"
    elif info.default is not None and not isinstance(info.default, Table):
        state = f", default {toml(info.default)}"
    else:
        state = ""
    return f"{name} = {kind_name(info)}{unit}{state}: {info.description}"


def table_lines(table: type[Table], width: int, indent: str, skip: str | None = None) -> list[str]:
    lines = []
    for name, info in table.model_fields.items():
        if name != skip:
            lines += textwrap.wrap(key_line(name, info), width, initial_indent=indent,
                                   subsequent_indent=indent + "    ")
    return lines


def schema_reference(width: int = 100) -> str:
    """The case-file reference, generated from the models (:mod:`snsurrogate.case` holds a copy)."""
    lines = []
    for name, info in Case.model_fields.items():
        label = f"[[{name}]]" if name in ARRAYS else f"[{name}]"
        required = " (required)" if info.is_required() else ""
        union = name in UNIONS
        lines += textwrap.wrap(f"{label}{required}: {info.description}{'; one of' if union else ''}", width,
                               subsequent_indent="        ")
        if not union:
            lines += table_lines(SECTIONS[name][0], width, "    ")
            continue
        variant: type[Variant]
        for variant in SECTIONS[name]:
            head, summary = variant.when(), variant.summary()
            if variant.selector[1] is None:  # selected by the presence of a key: say what it takes
                info = variant.model_fields[variant.selector[0]]
                head, summary = f"{head} = {kind_name(info)}", f"{info.description}: {summary}"
            lines += textwrap.wrap(f"{head}: {summary}", width, initial_indent="    ",
                                   subsequent_indent="        ")
            lines += table_lines(variant, width, "        ", skip=variant.selector[0])
    lines += textwrap.wrap(f"node selection (nodes, [initial] nodes, [output] probes): {NodeSelection.summary()}",
                           width, subsequent_indent="        ")
    lines += table_lines(NodeSelection, width, "    ")
    lines.append("rules:")
    for rule in RULES:
        lines += textwrap.wrap(rule, width, initial_indent="    ", subsequent_indent="        ")
    return "\n".join(lines)
