"""The `labeler` command: one module per group of subcommands; heavy imports only inside the command that needs them."""

from __future__ import annotations

import argparse
import sys

from labeler import __version__
from labeler.cli import data, drift, git, judge, numbers, pairs, rubric, screens, serve
from labeler.cli.common import EXIT_FAIL, EXIT_OK, EXIT_USAGE, _err, _relative
from labeler.errors import FileFormatError, LabelerError, UsageError


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `labeler CMD: error: what (see --help)`, exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        from labeler.safetext import inert

        self.exit(EXIT_USAGE, f"{self.prog}: error: {inert(message)} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="labeler", description="Golden sets for LLM features: label, agree, adjudicate, judge. Plain YAML in git.")
    p.add_argument("--version", action="version", version=f"labeler {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name: str, func, help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help.replace("%", "%%"), description=help)  # argparse %-formats help
        sp.set_defaults(func=func)
        return sp

    data.register(add)
    screens.register(add)
    serve.register(add)
    numbers.register(add)
    rubric.register_group(sub, _Parser)
    judge.register(add)
    pairs.register(add)
    drift.register(add)
    git.register(add)
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return EXIT_USAGE
        return args.func(args)
    except UsageError as e:
        _err(str(e))
        return EXIT_USAGE
    except FileFormatError as e:
        _err(str(FileFormatError(_relative(e.path), e.line, e.message)))
        return EXIT_FAIL
    except LabelerError as e:
        _err(str(e))
        return EXIT_FAIL
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except OSError as e:  # a full disk, a read-only folder, a directory where a file was asked for
        if isinstance(e, BrokenPipeError):
            return EXIT_OK
        where = f"{_relative(e.filename)}: " if getattr(e, "filename", None) else ""
        _err(f"{where}{e.strerror or e}; nothing already saved was lost")
        return EXIT_FAIL
    except BrokenPipeError:
        return EXIT_OK
    except SystemExit:
        raise
    except BaseException as e:  # a bug (or a library's panic, a BaseException): one line, the traceback in a file
        path = _crash_report()
        _err(f"internal error ({type(e).__name__}: {e}); nothing saved was lost; details in {path}")
        return EXIT_FAIL


def _crash_report() -> str:
    """Write the current exception's traceback to a temp file; its path (never the traceback) is shown."""
    import tempfile
    import traceback

    try:
        fd, path = tempfile.mkstemp(prefix="labeler-crash-", suffix=".txt")
        with open(fd, "w", encoding="utf-8") as f:
            traceback.print_exc(file=f)
        return path
    except OSError:
        return "(no file: the temp folder is not writable)"
