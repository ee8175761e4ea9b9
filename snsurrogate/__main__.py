"""``python -m snsurrogate`` runs the command line."""

try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C in the first milliseconds
    import sys

    print("interrupted", file=sys.stderr)
    raise SystemExit(130) from None

raise SystemExit(main())
