"""The ``snsurrogate`` command line: a thin layer over the Python API.

Each subcommand lives in its own module with ``add_args(parser)`` and ``run(args) -> int``.
`main` turns every :class:`~snsurrogate.errors.SnsurrogateError` and :class:`fem.errors.FemError`
into ``error: <message>`` on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from fem.errors import FemError

from ..errors import SnsurrogateError
from ..version import __version__
from . import demo, fit, info, simulate, stability

COMMANDS = {"fit": fit, "info": info, "simulate": simulate, "stability": stability, "demo": demo}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="snsurrogate",
        description="Certified spectrally-normalized neural material laws. Units are never assumed: "
        "stresses keep the unit of the data, strains are dimensionless (engineering, Voigt).",
    )
    parser.add_argument("--version", action="version", version=f"snsurrogate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module in COMMANDS.items():
        p = sub.add_parser(name, help=module.HELP, description=module.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_args(p)
        p.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (SnsurrogateError, FemError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
