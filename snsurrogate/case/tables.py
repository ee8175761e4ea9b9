"""The base classes of the case tables: :class:`Table` (frozen, unknown keys rejected), :class:`Variant`
(one form of a tagged union, with its selector) and :class:`Selector` (picks the variant of a raw table
and says what is wrong with its selector key)."""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from .kinds import clip, did_you_mean, invalid, show


class Table(BaseModel):
    """A table of the case file: frozen, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def summary(cls) -> str:
        """The first line of the docstring (what the reference says of the table)."""
        text = inspect.cleandoc(cls.__doc__ or "").split("\n\n")[0].replace("\n", " ").replace("``", "").rstrip(".")
        return text[:1].lower() + text[1:]


class Variant(Table):
    """One form of a section that comes in several, selected by ``selector = (key, value)``: the value
    of ``key`` (``generate = 'line'``) or, with ``value = None``, its presence (``file``)."""

    selector: ClassVar[tuple[str, str | None]]

    @classmethod
    def tag(cls) -> str:
        key_, value = cls.selector
        return value if value is not None else key_

    @classmethod
    def when(cls) -> str:
        """``"generate = 'line'"`` or ``"file"``: how messages and the reference name the variant."""
        key_, value = cls.selector
        return f"{key_} = {value!r}" if value is not None else key_


class Selector:
    """Picks the variant of a tagged union from the raw table, with the messages of a wrong selector."""

    def __init__(self, label: str, variants: tuple[type[Variant], ...], array: bool = False) -> None:
        self.label, self.variants, self.array = label, variants, array
        self.keys = tuple(dict.fromkeys(v.selector[0] for v in variants))

    def check(self, value: Any) -> Any:
        """``BeforeValidator``: a table with exactly one selector key, of a known value."""
        if isinstance(value, BaseModel):
            return value
        if not isinstance(value, dict):
            raise invalid(f"expected an array of tables {self.label}, got {show(value)}" if self.array
                          else f"expected a table {self.label}, got {show(value)}")
        present = [k for k in self.keys if k in value]
        if len(present) > 1:
            raise invalid(f"give either {' or '.join(self.keys)}, not both", key=present[1])
        if not present:
            forms = []
            for k in self.keys:
                values = [repr(v.selector[1]) for v in self.variants if v.selector == (k, v.selector[1])
                          and v.selector[1] is not None]
                forms.append(f"{k} = {' | '.join(values)}" if values else f"{k} = \"...\"")
            raise invalid(f"missing required key (give {' or '.join(forms)})", key=self.keys[0])
        k = present[0]
        values = [v.selector[1] for v in self.variants if v.selector[0] == k and v.selector[1] is not None]
        if values and value[k] not in values:
            if not (isinstance(value[k], str) and value[k]):
                raise invalid(f"expected a non-empty string, got {show(value[k])}", key=k)
            raise invalid(f"expected one of {', '.join(map(repr, values))}, got {clip(value[k])}"
                          f"{did_you_mean(value[k], values)}", key=k)
        return value

    def tag(self, value: Any) -> str | None:
        """``Discriminator``: the tag of the variant (after :meth:`check`)."""
        if isinstance(value, Variant):
            return value.tag()
        k = next(k for k in self.keys if k in value)
        return value[k] if any(v.selector == (k, value[k]) for v in self.variants) else k
