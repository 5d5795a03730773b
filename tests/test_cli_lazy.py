"""`labeler X` imports and builds only X's module: every help and usage error reads as the full parser's does."""

import subprocess
import sys

import pytest

from labeler import cli
from labeler.cli.main import COMMANDS, build_parser


def _subcommands(parser) -> dict:
    return parser._subparsers._group_actions[0].choices  # noqa: SLF001 - argparse keeps the subcommands here


def _argvs() -> list[list[str]]:
    """--help of the top level, of every command and of every command's own subcommands; a few usage errors."""
    full = build_parser()
    out = [["--help"], [], ["no-such-command"], ["status", "--no-such-flag"], ["rubric", "nope"]]
    for name, sp in _subcommands(full).items():
        out.append([name, "--help"])
        if sp._subparsers is not None:  # noqa: SLF001
            out += [[name, sub, "--help"] for sub in _subcommands(sp)]
    return out


def _full(argv: list[str]):
    """What the whole parser (every module imported, every subparser built) does with `argv`."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return e.code
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return None


def test_the_table_lists_what_the_modules_register():
    full = build_parser()
    listed = [(a.dest, a.help) for a in full._subparsers._group_actions[0]._choices_actions]  # noqa: SLF001
    assert listed == [(n, h.replace("%", "%%")) for n, _, h in COMMANDS]
    for name, module, _ in COMMANDS:
        assert _subcommands(full)[name].get_default("func").__module__ == f"labeler.cli.{module}" or name == "rubric"


@pytest.mark.parametrize("argv", _argvs(), ids=lambda a: " ".join(a) or "(none)")
def test_lazy_help_and_errors_read_as_the_full_parser(argv, capsys):
    code = _full(argv)
    want = capsys.readouterr()
    try:
        got_code = cli.main(argv)
    except SystemExit as e:
        got_code = e.code
    got = capsys.readouterr()
    assert (got.out, got.err, got_code) == (want.out, want.err, code)
    assert got.out or got.err


def test_help_imports_no_command_module():
    code = ("import sys\nfrom labeler.cli.main import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('labeler.cli.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()[-1]
    assert out == "['labeler.cli.common', 'labeler.cli.main']"
    code = code.replace("['--help']", "['status', '--help']")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()[-1]
    assert out == "['labeler.cli.common', 'labeler.cli.data', 'labeler.cli.main']"
