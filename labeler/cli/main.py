"""The `labeler` command: one module per group of subcommands; heavy imports only inside the command that needs them."""

from __future__ import annotations

import argparse
import sys

from labeler import __version__
from labeler.cli.common import EXIT_FAIL, EXIT_OK, EXIT_USAGE, _err, _relative
from labeler.errors import FileFormatError, LabelerError, UsageError


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `labeler CMD: error: what (see --help)`, exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        from labeler.safetext import inert

        self.exit(EXIT_USAGE, f"{self.prog}: error: {inert(message)} (see `{self.prog} --help`)\n")


COMMANDS: list[tuple[str, str, str]] = [
    # (command, module under labeler.cli, one-line help): `labeler --help` lists these without importing any
    # command module, and a module's `register` takes each command's help from here (written once).
    ("init", "data", "Scaffold a rubric (rubrics/NAME/v1.yaml) and an empty dataset (datasets/NAME/)."),
    ("import", "data", "Import cases from JSONL or CSV; duplicates (same input + output) are skipped."),
    ("sample", "data", "Pick a reproducible stratified golden set (common / edge / adversarial by default)."),
    ("validate", "data", "Check every rubric, dataset, label and reference; path:line messages; exit 1 on errors."),
    ("status", "data", "Cases by tier, labels per annotator, overlap reached, flagged and old cases."),
    ("import-labels", "data", "Bring existing labels in: CSV/JSONL (wide or long), Label Studio (JSON, JSON-MIN), Argilla 2.x "
                              "(records, nested or flat), Prodigy (JSONL). Labels already imported, from any file, are not written again."),
    ("candidate", "data", "`labeler candidate add DATASET NAME FILE`: a new system version's outputs for the dataset's inputs "
                          "(JSONL/CSV), matched by case id or by input; rows that match no case are reported by line."),
    ("export", "data", "The golden set for eval harnesses: jsonl, csv, inspect (Inspect AI json_dataset), promptfoo (tests JSONL), "
                       "openai-evals (Evals API items, or --legacy registry samples), deepeval (goldens)."),
    ("label", "screens", "Open the labeling screen for one annotator (blind to the others)."),
    ("review", "screens", "Open the lead's disagreement queue: side by side, adjudicate gold."),
    ("audit", "screens", "Audit the judge: its verdicts beside gold and each annotator; mark right or wrong."),
    ("serve", "serve", "Serve the labeling and review screens to browsers: one secret link per person "
                       "(needs `pip install 'labeler[serve]'`)."),
    ("agreement", "numbers", "Agreement per criterion (percent, Krippendorff's alpha, Cohen's kappa); gates for CI."),
    ("calibrate", "numbers", "Judge vs human gold per criterion (agreement, kappa, confusion), beside each annotator; a gate for CI."),
    ("report", "numbers", "The lead's view: composition, freshness, throughput, agreement with bootstrap 95% intervals, each "
                          "judge run's calibration and its corrected pass rate; Markdown for CI, one self-contained HTML file."),
    ("regress", "numbers", "A candidate's judge run against a baseline (human gold on the golden outputs, or another run): per "
                           "criterion mean and pass rate, the difference with a paired bootstrap 95% interval, the cases that "
                           "got worse; CI gates."),
    ("rubric", "rubric", "Rubric versions: list, show, diff, bump, health."),
    ("judge", "judge", "Score cases with an LLM judge through any OpenAI-compatible endpoint: "
                       "`labeler judge DATASET --model M`. The subcommands below look after the runs (compare, status, drop) "
                       "and teach the judge from audits (prompt versions, few-shot examples from corrected verdicts); "
                       "`labeler judge SUBCOMMAND --help` says more."),
    ("pair", "pairs", "Pairwise cases from two versions' outputs for the same inputs: A and B are candidates of DATASET (or "
                      "`golden`, its own outputs); written to a pairwise dataset (--into)."),
    ("winrate", "pairs", "Pairwise win rates per criterion: how often each source wins, by gold and by each judge run, ties "
                         "shown, with n and a 95% Wilson interval; Bradley-Terry past two sources."),
    ("drift", "drift", "Production inputs against the golden set: a drift score, what is covered, clusters of what is not, and "
                       "what to label next (--propose N --into DATASET)."),
    ("commit", "git", "Commit every file labeler writes in this workspace (labels, adjudications, cases, rubrics, judge runs "
                      "and audits, candidates, drift runs) and nothing else, with a subject that says what changed."),
    ("sync", "git", "Commit, fetch, rebase (or --merge) and push; a real conflict is reported, nothing overwritten."),
    ("history", "git", "Every change to one case's labels and adjudications: who, when, what, which commit."),
]
"""Every command in the order `labeler --help` lists them; a module's commands stay together."""


def build_parser(command: str | None = "*", listed_only: bool = False) -> argparse.ArgumentParser:
    """The parser; with `command` named, only its module is imported and its subparsers built (the others are
    listed from COMMANDS, with their help, so errors and `labeler --help` read the same; with `listed_only`
    not even listed: nothing then reads the list). "*" builds them all."""
    import importlib

    p = _Parser(prog="labeler", description="Golden sets for LLM features: label, agree, adjudicate, judge. Plain YAML in git.")
    p.add_argument("--version", action="version", version=f"labeler {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    helps = {name: help for name, _, help in COMMANDS}

    def add(name: str, func) -> argparse.ArgumentParser:
        """A command's parser, its one-line help taken from COMMANDS (written once, there)."""
        sp = sub.add_parser(name, help=helps[name].replace("%", "%%"), description=helps[name])  # argparse %-formats help
        sp.set_defaults(func=func)
        return sp

    wanted = {m for n, m, _ in COMMANDS if command == "*" or n == command}
    built: set[str] = set()
    for name, module, help in COMMANDS:
        if module not in wanted:
            if not (wanted and listed_only):  # listed only: never parses (another command runs)
                sub.add_parser(name, help=help.replace("%", "%%"))
        elif module not in built:
            built.add(module)
            mod = importlib.import_module(f"labeler.cli.{module}")
            if module == "rubric":
                mod.register_group(sub, _Parser, helps["rubric"])
            else:
                mod.register(add)
    return p


def _command(argv: list[str]) -> str | None:
    """The command named on the command line (the first word that is not an option), or None."""
    return next((w for w in argv if not w.startswith("-")), None)


def main(argv: list[str] | None = None) -> int:
    try:
        argv = sys.argv[1:] if argv is None else argv
        command = _command(argv)
        parser = build_parser(command, listed_only=bool(argv) and argv[0] == command)  # no option before it
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
