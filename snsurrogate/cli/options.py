"""Option syntax that several subcommands share."""

from __future__ import annotations

import argparse
import re


def parse_widths(text: str) -> tuple[int, ...]:
    """Hidden layer widths from ``64,64,64``, ``64 64 64``, ``64, 64, 64`` or ``64x64x64``."""
    parts = [w for w in re.split(r"[\s,]+|(?<=\d)x(?=\d)", text.strip()) if w]
    try:
        widths = tuple(int(w) for w in parts)
    except ValueError:
        widths = ()
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer for each width (like 32,32,32 or 32 32 32), "
                                         f"got {text!r}")
    return widths


class Widths(argparse.Action):
    """``--hidden W[,W...]``: one or more arguments, separated by commas and/or spaces; stores a tuple."""

    def __init__(self, option_strings, dest, **kwargs):
        kwargs.setdefault("nargs", "+")
        kwargs.setdefault("metavar", "W")
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        text = " ".join(values if isinstance(values, list) else [values])
        try:
            setattr(namespace, self.dest, parse_widths(text))
        except argparse.ArgumentTypeError as exc:
            raise argparse.ArgumentError(self, str(exc)) from None


HIDDEN_HELP = "hidden layer widths: 32,32,32 or 32 32 32 (either syntax)"
