"""The command line: `labeler.cli.main.main` is the entry point."""

from labeler.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
