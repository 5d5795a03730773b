"""The store: round trips, path:line errors, atomic saves, torn tails, the cache."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import EXAMPLE
from labeler.errors import FileFormatError, LabelerError
from labeler.truth.logs import LogWriter, read_log, record_line
from labeler.truth.models import Case, Label
from labeler.dataset import open_dataset
from labeler.truth.store import load_rubric_file, parse_cases, save_model_rt
from labeler.truth.yamlio import atomic_write, dump_fast, load_rt


def test_rubric_round_trip_is_byte_identical(example: Path):
    path = example / "rubrics" / "support-summary" / "v2.yaml"
    before = path.read_bytes()
    rubric = load_rubric_file(path)
    save_model_rt(path, rubric)
    assert path.read_bytes() == before


def test_comment_survives_an_edit(example_ds: Path):
    path = example_ds / "dataset.yaml"
    ds = open_dataset(example_ds)
    ds.config.overlap = 2
    ds.save_config()
    text = path.read_text()
    assert text.startswith("# The golden set for support-ticket summaries")
    assert "overlap: 2" in text
    assert open_dataset(example_ds).config.overlap == 2


@pytest.mark.parametrize(
    "content, line, words",
    [
        ("name: support-summary\nversion: 2\ntask: [unclosed\n", 3, "invalid YAML"),
        ("name: support-summary\nversion: two\ncriteria: {}\n", 2, "version"),
        ("name: support-summary\nversion: 2\ncriteria:\n  tone:\n    question: q\n    scale:\n      type: ordinal\n      points:\n        a: {label: x}\n        b: {label: y}\n", 6, "integers"),
        ("- just\n- a list\n", 1, "mapping"),
    ],
)
def test_broken_rubric_reports_path_line_and_is_untouched(example: Path, content: str, line: int, words: str):
    path = example / "rubrics" / "support-summary" / "v2.yaml"
    path.write_text(content)
    with pytest.raises(FileFormatError) as e:
        load_rubric_file(path)
    assert e.value.path == path and e.value.line == line, str(e.value)
    assert words in str(e.value)
    assert str(e.value).startswith(f"{path}:{line}: ")
    assert path.read_text() == content


def test_broken_cases_report_line(example_ds: Path):
    path = example_ds / "cases.yaml"
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    # break the tier of the 5th case
    idx = [i for i, ln in enumerate(lines) if ln.startswith("  tier: regression")][0]
    lines[idx] = "  tier: platinum\n"
    path.write_text("".join(lines))
    with pytest.raises(FileFormatError) as e:
        open_dataset(example_ds)
    assert e.value.line == idx + 1 and "tier" in e.value.message
    path.write_text("a:\n  input: x\n  output: y\na:\n  input: z\n  output: w\n")
    with pytest.raises(FileFormatError) as e:
        open_dataset(example_ds)
    assert e.value.line is not None and "a" in e.value.message


def test_broken_dataset_yaml(example_ds: Path):
    p = example_ds / "dataset.yaml"
    p.write_text("name: x\nrubric: support-summary\nrubric_version: 0\n")
    with pytest.raises(FileFormatError) as e:
        open_dataset(example_ds)
    assert e.value.line == 3 and "rubric_version" in e.value.message


def test_broken_label_file_is_reported_and_never_written(example_ds: Path):
    path = example_ds / "labels" / "bob.yaml"
    lines = path.read_text().splitlines(keepends=True)
    lines[5] = '- {"case": "x", "rubric": "not a number"}\n'
    broken = "".join(lines)
    path.write_text(broken)
    ds = open_dataset(example_ds)
    assert any(p.path == path and p.line == 6 for p in ds.problems), ds.problems
    with pytest.raises(LabelerError, match="not writing to bob.yaml until it is fixed"):
        ds.save_label("bob", Label(case="wrong-item-good", rubric=2, values={}))
    assert path.read_text() == broken


def test_torn_tail_is_ignored_reported_and_set_aside(example_ds: Path):
    path = example_ds / "labels" / "alice.yaml"
    good = path.read_text()
    path.write_text(good + '- {"case": "wrong-item-good", "rub')
    read = read_log(path)
    assert read.torn_tail is not None
    ds = open_dataset(example_ds)
    lines = good.count("\n") + 1
    assert [(p.path, p.line, p.severity, p.blocks) for p in ds.problems] == [(path, lines, "warning", False)]
    assert "incomplete last line" in ds.problems[0].message
    assert len(ds.labels["alice"]) == 60
    ds.save_label("alice", Label(case="wrong-item-good", rubric=2, values={"tone": 1}))
    assert path.read_text().startswith(good)
    assert read_log(path).torn_tail is None
    assert (path.parent / "alice.yaml.torn").read_text().startswith('- {"case": "wrong-item-good", "rub')


def test_hand_edited_block_yaml_log_still_loads(tmp_path: Path):
    p = tmp_path / "x.yaml"
    p.write_text("# edited by hand\n- case: a\n  rubric: 1\n  values:\n    correct: 2\n")
    read = read_log(p)
    assert read.records == [(2, {"case": "a", "rubric": 1, "values": {"correct": 2}})]


def test_record_line_is_valid_yaml_and_json_for_hostile_text(tmp_path: Path):
    nasty = "a\x1b[2J\x07 \u202e \x85 \u2028 [bold] é \"quote\" \\ back"
    line = record_line({"case": "c", "note": nasty})
    assert line.count("\n") == 1
    p = tmp_path / "l.yaml"
    p.write_text(line)
    assert load_rt(p)[0]["note"] == nasty
    assert read_log(p).records[0][1]["note"] == nasty


@pytest.mark.parametrize("text", ["one\ntwo\n", "tab\there\nx", "bell\x07\nx", "crlf\r\nx", "  lead\nx", "trail  \nx\n\n", "x" * 5000, "ünï\ncode ✓"])
def test_cases_text_round_trips_any_string(tmp_path: Path, text: str):
    from labeler.truth.store import cases_text

    c = Case(id="c1", input=text, output=text + "!", notes=text)
    p = tmp_path / "cases.yaml"
    p.write_text(cases_text([c]))
    assert parse_cases(p)["c1"] == c
    if text in ("one\ntwo\n", "ünï\ncode ✓"):
        assert "|" in p.read_text()  # plain multi-line text is a readable block


def test_long_lines_are_never_rewrapped(tmp_path: Path):
    text = dump_fast({"a": "word " * 2000})
    assert len(text.splitlines()) == 1


def test_atomic_write_leaves_old_or_new(tmp_path: Path):
    p = tmp_path / "f.yaml"
    atomic_write(p, "old\n")
    # a crash mid-write: simulated by a failing write after the temp file exists
    class Boom(Exception):
        pass

    import labeler.truth.yamlio as y

    real = os.fsync

    def failing(fd):
        raise Boom()

    y.os.fsync = failing
    try:
        with pytest.raises(Boom):
            atomic_write(p, "new\n")
    finally:
        y.os.fsync = real
    assert p.read_text() == "old\n"
    assert [x.name for x in tmp_path.iterdir()] == ["f.yaml"]


def test_kill_between_label_writes_leaves_only_whole_records(example_ds: Path):
    """A process that appends labels is SIGKILLed mid-stream: every line on disk is whole."""
    script = textwrap.dedent(f"""
        import sys
        from labeler.dataset import open_dataset
        from labeler.truth.models import Label
        ds = open_dataset({str(example_ds)!r})
        i = 0
        while True:
            cid = list(ds.cases)[i % len(ds.cases)]
            ds.save_label("killme", Label(case=cid, rubric=2, values={{"tone": i % 3}}, note="n" * (i % 5000)))
            i += 1
            if i == 20:
                print("go", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"go"
    proc.kill()
    proc.wait()
    path = example_ds / "labels" / "killme.yaml"
    read = read_log(path)
    assert len(read.records) >= 20
    ds = open_dataset(example_ds)
    assert not ds.problems
    assert len(ds.labels["killme"]) >= 20 or len(ds.labels["killme"]) == len(ds.cases)


def test_cache_is_used_and_changed_files_are_reread(example_ds: Path):
    ds = open_dataset(example_ds)
    assert ds.cache_path.exists()
    assert (ds.cache_path.parent / ".gitignore").read_text().strip().endswith("*")
    # append a label by another process' means: the log changes, the cache must notice
    LogWriter(example_ds / "labels" / "alice.yaml", "").append({"case": "wrong-item-good", "rubric": 2, "values": {"tone": 0}, "note": "changed"})
    ds2 = open_dataset(example_ds)
    assert ds2.labels["alice"]["wrong-item-good"].note == "changed"
    # a corrupt cache is ignored, never trusted
    ds.cache_path.write_bytes(b"garbage")
    assert open_dataset(example_ds).labels["alice"]["wrong-item-good"].note == "changed"


def test_unsafe_names_are_refused(example_ds: Path):
    ds = open_dataset(example_ds)
    for bad in ["../evil", "a/b", ".hidden", "nul\x00", "..", ""]:
        with pytest.raises((ValueError, LabelerError)):
            ds.save_label(bad, Label(case="x", rubric=2))
    assert not (example_ds / "evil.yaml").exists()
    with pytest.raises(ValueError):
        Case(id="../x", input="", output="")


def test_scale_keys():
    r = load_rubric_file(EXAMPLE / "rubrics" / "support-summary" / "v2.yaml")
    assert r.criteria["tone"].scale.keys() == {0: "0", 1: "1", 2: "2"}
    assert r.criteria["under_80_words"].scale.keys() == {"pass": "y", "fail": "n"}


@pytest.mark.parametrize("kind", ["adjudication", "verdict", "run"])
def test_other_broken_files_report_path_line(example_ds: Path, kind: str):
    from labeler.flows.validate import validate_paths

    if kind == "adjudication":
        path = example_ds / "adjudications" / "maya.yaml"
        lines = path.read_text().splitlines(keepends=True)
        lines[2] = '- {"case": "x", "rubric": 2, "gold": "not a mapping"}\n'
        expect_line = 3
    elif kind == "verdict":
        path = example_ds / "judge" / "gpt-4o-mini-2026-10" / "verdicts.yaml"
        lines = path.read_text().splitlines(keepends=True)
        lines[1] = '- {"case": "x", "values": {"tone": {"value": [1, 2]}}}\n'
        expect_line = 2
    else:
        path = example_ds / "judge" / "gpt-4o-mini-2026-10" / "run.yaml"
        lines = path.read_text().splitlines(keepends=True)
        idx = next(i for i, ln in enumerate(lines) if ln.startswith("rubric_version:"))
        lines[idx] = "rubric_version: latest\n"
        expect_line = idx + 1
    broken = "".join(lines)
    path.write_text(broken)
    findings = [f for f in validate_paths([example_ds]) if f.path == path]
    assert findings and findings[0].line == expect_line, findings
    assert path.read_text() == broken
