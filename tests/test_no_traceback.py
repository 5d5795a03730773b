"""Every subcommand over a set of broken datasets written straight to disk: never a Python traceback.

Each command either works or says what is wrong in one line with a non-zero exit; an internal
error (a bug caught by the last-resort handler) fails the test as well.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import copy_example
from labeler import cli

DS = "datasets/support-summary"
RUN = "gpt-4o-mini-2026-10"
PDS = "datasets/support-pairwise"
PRUN = "gpt-4o-mini-pairwise"
BAD_CASE = '- {"case": "../../x", "rubric": 2, "values": {"tone": 1}}\n'


def _write(root: Path, rel: str, data: str | bytes, append: bool = False) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = ("ab" if append else "wb") if isinstance(data, bytes) else ("a" if append else "w")
    with open(path, mode) as f:
        f.write(data)


BROKEN = {
    "dataset-yaml-syntax": lambda r: _write(r, f"{DS}/dataset.yaml", "name: [support\nrubric: x\n"),
    "dataset-yaml-types": lambda r: _write(r, f"{DS}/dataset.yaml", "name: support-summary\nrubric: support-summary\nrubric_version: two\noverlap: many\n"),
    "dataset-yaml-empty": lambda r: _write(r, f"{DS}/dataset.yaml", ""),
    "dataset-yaml-binary": lambda r: _write(r, f"{DS}/dataset.yaml", b"\xff\xfe\x00garbage\x80"),
    "rubric-syntax": lambda r: _write(r, "rubrics/support-summary/v2.yaml", "name: support-summary\nversion: 2\ncriteria: {tone: [\n"),
    "rubric-scale-type": lambda r: _write(r, "rubrics/support-summary/v2.yaml",
                                          (r / "rubrics/support-summary/v2.yaml").read_text().replace("type: ordinal", "type: stars", 1)),
    "rubric-missing-version": lambda r: (r / "rubrics/support-summary/v2.yaml").unlink(),
    "rubric-v1-broken": lambda r: _write(r, "rubrics/support-summary/v1.yaml", "criteria: 7\n"),
    "cases-syntax": lambda r: _write(r, f"{DS}/cases.yaml", "a1:\n  input: [unclosed\n  output: x\n"),
    "cases-not-mapping": lambda r: _write(r, f"{DS}/cases.yaml", "- just\n- a list\n"),
    "cases-numeric-ids": lambda r: _write(r, f"{DS}/cases.yaml", "007:\n  input: a\n  output: b\n1e3:\n  input: c\n  output: d\n", append=True),
    "labels-garbage": lambda r: _write(r, f"{DS}/labels/bob.yaml", "- {not json\n\x00\x01 binary\n" + BAD_CASE
                                       + '- {"case": "wrong-item-good", "rubric": 2, "values": {"tone": "loud", "nope": 1}}\n', append=True),
    "labels-block-yaml-broken": lambda r: _write(r, f"{DS}/labels/zed.yaml", "- case: a\n  values: {tone: [\n"),
    "labels-torn": lambda r: _write(r, f"{DS}/labels/alice.yaml", '- {"case": "wrong-item-good", "rub', append=True),
    "labels-not-utf8": lambda r: _write(r, f"{DS}/labels/eve.yaml", b'- {"case": "\xff\xfe"}\n'),
    "adjudications-bad": lambda r: _write(r, f"{DS}/adjudications/lee.yaml",
                                          '- {"case": "wrong-item-good", "rubric": 2, "gold": {"nosuch": 1}}\n' + BAD_CASE.replace('"values"', '"gold"')),
    "verdicts-garbage": lambda r: _write(r, f"{DS}/judge/{RUN}/verdicts.yaml", "- {garbage\n- [1, 2]\n", append=True),
    "run-yaml-broken": lambda r: _write(r, f"{DS}/judge/{RUN}/run.yaml", "model: [\n"),
    "audits-broken": lambda r: _write(r, f"{DS}/judge/{RUN}/audits/kim.yaml", '- {"case": "wrong-item-good", "criterion": 5}\n'),
    "huge-rubric": lambda r: _write(r, "rubrics/support-summary/v2.yaml", "# " + "x" * (2 << 20) + "\n", append=True),
    "candidate-broken": lambda r: _write(r, f"{DS}/candidates/summarizer-v2.yaml", "name: [\noutputs: 7\n"),
    "candidate-wrong-types": lambda r: _write(r, f"{DS}/candidates/summarizer-v2.yaml", "name: summarizer-v2\noutputs: {'../x': 3}\n"),
    "drift-run-broken": lambda r: _write(r, f"{DS}/drift/2026-11-01-abc.yaml", "score: [\n"),
    "run-unknown-candidate": lambda r: _write(r, f"{DS}/judge/gpt-4o-mini-2026-10-v2/run.yaml",
                                              (r / f"{DS}/judge/gpt-4o-mini-2026-10-v2/run.yaml").read_text().replace("summarizer-v2", "nosuch")),
    "prod-file-garbage": lambda r: _write(r, "prod.jsonl", b"\xff\xfe not json\n"),
    # pairwise files written by hand
    "pair-labels-bad": lambda r: _write(r, f"{PDS}/labels/bob.yaml", '- {"case": "mobile-crash-good", "rubric": 1, "values": '
                                        '{"overall": "left"}, "shown": "XY"}\n- {"case": "mobile-crash-good", "rubric": 1, '
                                        '"values": {"overall": "A"}, "shown": 3}\n', append=True),
    "pair-cases-odd": lambda r: _write(r, f"{PDS}/cases.yaml", "single:\n  input: q\n  output: one only\n"
                                                              "typed:\n  input: q\n  output: a\n  output_b: [1, 2]\n", append=True),
    "pair-origin-text": lambda r: _write(r, f"{PDS}/cases.yaml", "named:\n  input: q\n  output: a\n  output_b: b\n"
                                                                 "  origin_a: gpt-x\n  origin_b: {candidate: 7, extra: 1}\n", append=True),
    "pair-verdicts-bad": lambda r: _write(r, f"{PDS}/judge/{PRUN}/verdicts.yaml", '- {"case": "mobile-crash-good", "values": '
                                          '{"overall": {"value": "A", "orders": {"XY": "A"}}}}\n- {"case": "mobile-crash-good", '
                                          '"values": {"overall": {"value": "left", "inconsistent": "maybe"}}}\n', append=True),
    "pair-rubric-mixed": lambda r: _write(r, "rubrics/support-pairwise/v1.yaml", (r / "rubrics/support-pairwise/v1.yaml").read_text()
                                          .replace("type: pairwise", "type: binary", 1)),
    "pair-judge-md-single": lambda r: _write(r, "rubrics/support-pairwise/judge.md", "Grade {output}"),
}

COMMANDS = [
    ["validate"], ["validate", "--json"],
    ["status", "support-summary"], ["status", "support-summary", "--json", "--strict"],
    ["agreement", "support-summary"], ["agreement", "support-summary", "--json", "--by", "version"],
    ["agreement", "support-summary", "--by", "annotator", "--gold", "majority", "--min-alpha", "0.8"],
    ["calibrate", "support-summary", "--run", RUN], ["calibrate", "support-summary", "--run", RUN, "--by", "tier", "--json"],
    ["rubric", "list"], ["rubric", "show", "support-summary"], ["rubric", "diff", "support-summary", "1", "2"],
    ["rubric", "health", "support-summary"],
    ["judge", "status", "support-summary"], ["judge", "compare", "support-summary", RUN, "llama-3.1-8b-local"],
    ["label", "support-summary", "--annotator", "zoe"], ["review", "support-summary", "--lead", "lee"],
    ["audit", "support-summary", "--run", RUN, "--auditor", "kim"],
    ["history", "support-summary", "wrong-item-good"], ["commit", "support-summary"], ["sync", "support-summary"],
    ["sample", "support-summary", "--n", "10"], ["import", "support-summary", "nosuch.jsonl"],
    ["report", "support-summary", "--replicates", "20", "--markdown"], ["report", "support-summary", "--replicates", "20", "--json"],
    ["regress", "support-summary", "--candidate", "gpt-4o-mini-2026-10-v2", "--replicates", "20"],
    ["regress", "support-summary", "--candidate", "gpt-4o-mini-2026-10-v2", "--base", RUN, "--replicates", "20", "--json"],
    ["export", "support-summary", "--format", "promptfoo"], ["export", "support-summary", "--format", "jsonl", "--candidate", "summarizer-v2"],
    ["candidate", "add", "support-summary", "v3", "nosuch.jsonl"], ["import-labels", "support-summary", "nosuch.json", "--format", "label-studio"],
    ["drift", "support-summary", "prod.jsonl", "--propose", "2"],
    ["audit", "support-summary", "--run", "gpt-4o-mini-2026-10-v2", "--vs", RUN, "--worse"],
    ["judge", "drop", "support-summary", "nosuch"],
    ["judge", "prompt", "list", "support-summary"], ["judge", "prompt", "list", "support-summary", "--json"],
    ["judge", "prompt", "show", "support-summary"], ["judge", "prompt", "diff", "support-summary", "1", "1"],
    ["status", "support-pairwise"], ["agreement", "support-pairwise", "--json"], ["winrate", "support-pairwise"],
    ["winrate", "support-pairwise", "--by", "tag", "--json"], ["winrate", "support-pairwise", "--run", "nosuch"],
    ["calibrate", "support-pairwise", "--run", PRUN], ["report", "support-pairwise", "--replicates", "20", "--json"],
    ["label", "support-pairwise", "--annotator", "zoe"], ["review", "support-pairwise", "--lead", "lee"],
    ["audit", "support-pairwise", "--run", PRUN, "--auditor", "kim"], ["export", "support-pairwise", "--format", "csv"],
    ["pair", "support-summary", "--a", "golden", "--b", "summarizer-v2"], ["pair", "support-summary", "--a", "x", "--b", "x"],
    ["pair", "support-summary", "--a", "golden", "--b", "summarizer-v2", "--into", "support-summary"],
    ["judge", "support-pairwise", "--model", "m", "--base-url", "http://127.0.0.1:9", "--batch"],
    ["regress", "support-pairwise", "--candidate", PRUN],
]


@pytest.fixture
def no_screen(monkeypatch):
    """The screens are not opened here (their own tests drive them): opening one counts as running fine."""
    from labeler.ui.app import LabelerApp

    opened = []
    monkeypatch.setattr(LabelerApp, "run", lambda self, *a, **k: opened.append(self.mode))
    return opened


@pytest.mark.parametrize("damage", sorted(BROKEN))
def test_every_command_on_a_broken_dataset_says_one_line(damage, tmp_path, monkeypatch, capsys, no_screen):
    root = copy_example(tmp_path)
    (root / "prod.jsonl").write_text(json.dumps({"input": "where is my parcel"}) + "\n" + json.dumps({"input": "refund me"}) + "\n")
    BROKEN[damage](root)
    monkeypatch.chdir(root)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    for argv in COMMANDS:
        try:
            code = cli.main(list(argv))
        except SystemExit as e:  # argparse
            code = e.code
        out, err = capsys.readouterr()
        both = out + err
        assert "Traceback" not in both and "internal error" not in both, (damage, argv, both[-2000:])
        if code:
            lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
            assert len(lines) <= 1, (damage, argv, err)


def test_validate_reports_each_bad_line_once_at_its_own_line(tmp_path, monkeypatch, capsys):
    root = copy_example(tmp_path)
    BROKEN["labels-garbage"](root)
    BROKEN["rubric-v1-broken"](root)
    monkeypatch.chdir(root)
    code = cli.main(["validate"])
    out = capsys.readouterr().out
    assert code == 1
    bob = (root / DS / "labels" / "bob.yaml").read_text().splitlines()
    n = len(bob)
    # every bad line of bob.yaml at its own number, relative paths
    for k, why in ((n - 4, "not a record"), (n - 3, "not a record"), (n - 2, "case id"), (n - 1, "not on the scale")):
        assert f"{DS}/labels/bob.yaml:{k + 1}: error:" in out and why in out, (k, out)
    assert not any(ln.startswith("/") for ln in out.splitlines())
    # the broken old rubric: its own error once, then one count per file, not one line per label
    assert out.count("rubrics/support-summary/v1.yaml:1") == 1
    assert "label(s) made under rubric support-summary v1, which does not load" in out
    assert out.count("v1, which does not load") <= 3  # alice, bob, chen: a count each


def test_broken_rubric_in_force_is_one_root_error_everywhere(tmp_path, monkeypatch, capsys, no_screen):
    root = copy_example(tmp_path)
    BROKEN["rubric-scale-type"](root)
    monkeypatch.chdir(root)
    for argv in (["label", "support-summary", "--annotator", "zoe"], ["review", "support-summary"], ["validate"]):
        code = cli.main(argv)
        out, err = capsys.readouterr()
        assert code == 1 and not no_screen
        text = out + err
        assert "rubrics/support-summary/v2.yaml:" in text and "stars" in text
        assert len([ln for ln in text.splitlines() if "v2.yaml" in ln]) == 1, text


def test_writing_where_it_cannot_is_one_line(tmp_path, monkeypatch, capsys):
    root = copy_example(tmp_path)
    monkeypatch.chdir(root)
    assert cli.main(["report", "support-summary", "--replicates", "5", "--html", str(tmp_path)]) == 1
    assert cli.main(["export", "support-summary", "--format", "jsonl", "--out", "/proc/no/such/x.jsonl"]) == 1
    err = capsys.readouterr().err
    assert "is a folder" in err and "No such file or directory" in err and "Traceback" not in err
    assert len([ln for ln in err.splitlines() if ln.startswith("error:")]) == 2


def test_every_help_prints(capsys):
    """`labeler --help` and every subcommand's --help print and exit 0 (argparse %-formats help strings)."""
    parser = cli.build_parser()
    names = [a for a in parser._subparsers._group_actions[0].choices]  # noqa: SLF001 - the real list of subcommands
    assert {"label", "review", "report", "regress", "drift", "import-labels", "export", "candidate"} <= set(names)
    for argv in [["--help"]] + [[n, "--help"] for n in names] + [["rubric", x, "--help"] for x in ("list", "show", "diff", "bump", "health")]:
        try:
            cli.main(argv)
        except SystemExit as e:
            assert e.code == 0, argv
        out, err = capsys.readouterr()
        assert "usage:" in out and "Traceback" not in out + err and "internal error" not in out + err, argv
