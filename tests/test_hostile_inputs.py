"""Hostile files written straight to disk, run through the real CLI in its own process.

Nothing from a clone runs (no pickle is ever loaded); values are never changed without a word;
nesting, alias bombs, huge lines, conflict markers and odd encodings are one line with path:line,
a non-zero exit and no traceback, within a timeout (a hang or a crash fails the test).
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import copy_example
from fake_openai import FakeOpenAI

ROOT = Path(__file__).resolve().parent.parent
DS = "datasets/support-summary"
RUN = "gpt-4o-mini-2026-10"


def run(root: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GIT_CEILING_DIRECTORIES": str(root.parent)}
    env.pop("LABELER_WORKERS", None)
    return subprocess.run([sys.executable, "-m", "labeler", *args], cwd=root, capture_output=True, text=True,
                          timeout=timeout, env=env)


def one_line_error(r: subprocess.CompletedProcess, where: str, code: int = 1) -> str:
    """The run failed with `code`, no traceback, and said what is wrong at `where` (path:line) in one line."""
    both = r.stdout + r.stderr
    assert r.returncode == code, (r.returncode, both[-2000:])
    assert "Traceback" not in both and "internal error" not in both, both[-2000:]
    lines = [ln for ln in both.splitlines() if where in ln]
    assert lines, (where, both[-2000:])
    return lines[0]


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "ws")


# ---------------------------------------------------------------- nothing from a clone runs


class _Payload:
    """Unpickling this creates a file: proof that a cache file ran code."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_in_a_tracked_cache_never_runs(ws: Path):
    cache = ws / DS / ".cache"
    cache.mkdir()
    marker = ws.parent / "PWNED"
    evil = pickle.dumps(_Payload(marker))
    names = ["cases.meta.pickle", "labels__alice.yaml.pickle", "adjudications__maya.yaml.pickle",
             f"judge__{RUN}__verdicts.yaml.pickle", "cases.meta.cache", "labels__alice.yaml.cache"]
    for name in names:
        (cache / name).write_bytes(evil)
    (cache / "cases.text").write_bytes(b"{}\n")
    git = {"cwd": ws, "capture_output": True, "check": True}
    subprocess.run(["git", "init", "-q"], **git)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "add", "-f", "."], **git)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "clone"], **git)
    before = {p.name: p.read_bytes() for p in cache.iterdir()}
    for argv in (["status", "support-summary"], ["calibrate", "support-summary", "--run", RUN], ["validate"]):
        r = run(ws, *argv)
        assert not marker.exists(), "a cache file ran code"
        assert "Traceback" not in r.stdout + r.stderr
    assert "is tracked by git" in r.stdout + r.stderr and f"{DS}/.cache" in r.stdout + r.stderr
    assert {p.name: p.read_bytes() for p in cache.iterdir()} == before  # a tracked cache is not written either
    assert json.loads(run(ws, "status", "support-summary", "--json").stdout)  # and the numbers still come out


def test_a_forged_cache_entry_is_checked_and_rebuilt(ws: Path):
    from labeler.derived import cache as c
    from labeler.dataset import open_dataset

    ds = open_dataset(ws / DS)
    want = {a: {k: v.values for k, v in ds.labels[a].items()} for a in ds.annotators()}
    entry = ws / DS / ".cache" / "labels__alice.yaml.cache"
    data = c.loads(entry.read_bytes())
    assert data["value"].case_codes.size  # the entry is what the next open reads
    data["value"].case_codes[:] = 10_000  # points past the case names: must never be used
    entry.write_bytes(c.dumps(data))
    meta = ws / DS / ".cache" / "cases.meta.cache"
    m = c.loads(meta.read_bytes())
    m["tier_codes"][:] = 99
    meta.write_bytes(c.dumps(m))
    ds2 = open_dataset(ws / DS)
    assert {a: {k: v.values for k, v in ds2.labels[a].items()} for a in ds2.annotators()} == want
    assert set(ds2.case_tiers()) <= {"golden", "silver", "candidate", "retired"} | set(ds.case_tiers())
    with pytest.raises(c.Bad):  # an object array would need pickle: refused, never loaded
        c.loads(c.MAGIC + b'{"v":{"~":"nd","i":0},"a":[["|O",[1],0]]}\n' + b"\0" * 8)


# ---------------------------------------------------------------- values changed without a word


def test_true_on_a_0_to_2_scale_is_refused_not_read_as_1(ws: Path):
    with open(ws / DS / "labels" / "bob.yaml", "a") as f:
        f.write('- {"case": "wrong-item-good", "rubric": 2, "values": {"tone": true}}\n')
    with open(ws / DS / "adjudications" / "maya.yaml", "a") as f:
        f.write('- {"case": "wrong-item-good", "rubric": 2, "gold": {"tone": true}}\n')
    n_bob = len((ws / DS / "labels" / "bob.yaml").read_text().splitlines())
    n_maya = len((ws / DS / "adjudications" / "maya.yaml").read_text().splitlines())
    r = run(ws, "validate")
    line = one_line_error(r, f"{DS}/labels/bob.yaml:{n_bob}:")
    assert "not on the scale" in line
    assert "not on the scale" in one_line_error(r, f"{DS}/adjudications/maya.yaml:{n_maya}:")


@pytest.mark.parametrize("value, shown", [('["pass"]', "['pass']"), ('{"a": 1}', "{'a': 1}"), ("1.5", "1.5")])
def test_a_value_of_the_wrong_type_is_named_once_with_what_it_was(ws: Path, value: str, shown: str):
    """A list, a mapping or a fraction where a value goes: one line that says so, not pydantic's first
    union member ("values.tone.bool: Input should be a valid boolean (+2 more)")."""
    with open(ws / DS / "labels" / "bob.yaml", "a") as f:
        f.write('- {"case": "wrong-item-good", "rubric": 2, "values": {"tone": %s}}\n' % value)
    n = len((ws / DS / "labels" / "bob.yaml").read_text().splitlines())
    line = one_line_error(run(ws, "validate"), f"{DS}/labels/bob.yaml:{n}:")
    assert f"values.tone: a value is true/false, a whole number or a text (got {shown})" in line, line
    assert ".bool" not in line and "more)" not in line


def test_true_on_a_binary_scale_is_its_yes_point(tmp_path: Path):
    from conftest import SMALL_RUBRIC

    from labeler.dataset import open_dataset

    (tmp_path / "rubrics" / "tiny").mkdir(parents=True)
    (tmp_path / "rubrics" / "tiny" / "v1.yaml").write_text(SMALL_RUBRIC)
    d = tmp_path / "datasets" / "t"
    (d / "labels").mkdir(parents=True)
    (d / "dataset.yaml").write_text("name: t\nrubric: tiny\nrubric_version: 1\n")
    (d / "cases.yaml").write_text("a1:\n  input: q\n  output: o\n")
    (d / "labels" / "ann.yaml").write_text('- {"case": "a1", "rubric": 1, "values": {"polite": true, "correct": 2}}\n')
    ds = open_dataset(d)
    assert not ds.problems and ds.labels["ann"]["a1"].values == {"polite": "pass", "correct": 2}


# ---------------------------------------------------------------- inputs that crashed or hung


def _many_cases(n: int) -> str:
    return "".join(f"c{i:05d}:\n  input: question {i}\n  output: answer {i}\n" for i in range(n))


@pytest.mark.parametrize("damage", ["yaml-error", "conflict-markers"])
def test_a_big_cases_file_with_one_error_is_one_line_not_a_hang(ws: Path, damage: str):
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("the parallel parse needs two cores")
    text = _many_cases(8400)
    lines = text.splitlines(keepends=True)
    at = 8000 * 3  # inside the last slice a worker parses
    bad = ["  tags: [unclosed\n"] if damage == "yaml-error" else ["<<<<<<< HEAD\n", "=======\n", ">>>>>>> theirs\n"]
    lines[at:at] = bad
    (ws / DS / "cases.yaml").write_text("".join(lines))
    r = run(ws, "status", "support-summary", timeout=120)
    msg = one_line_error(r, f"{DS}/cases.yaml:")
    line = int(msg.split(f"{DS}/cases.yaml:")[1].split(":")[0])
    assert abs(line - (at + 1)) <= 3, msg


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("where,text,argv,code", [
    (f"{DS}/cases.yaml", f"deep:\n  input: q\n  output: a\n  tags: {DEEP}\n", ["status", "support-summary", "--json"], 1),
    (f"{DS}/cases.yaml", "deep:\n" + "  - " * 50_000 + "x\n", ["status", "support-summary", "--json"], 1),
    (f"{DS}/candidates/summarizer-v2.yaml", f"name: summarizer-v2\noutputs: {DEEP}\n",
     ["export", "support-summary", "--format", "jsonl", "--candidate", "summarizer-v2"], 1),
    # a report leaves a broken drift run out and says so (exit 0 unless --strict)
    (f"{DS}/drift/2026-11-01-abc.yaml", f"score: {DEEP}\n", ["report", "support-summary", "--replicates", "5", "--json"], 0),
], ids=["cases-brackets", "cases-dashes", "candidate", "drift-run"])
def test_deep_nesting_in_yaml_is_one_line_not_a_segfault(ws: Path, where: str, text: str, argv: list[str], code: int):
    path = ws / where
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a" if where.endswith("cases.yaml") else "w") as f:
        f.write(text)
    r = run(ws, *argv)
    assert r.returncode not in (-11, 139), "segfault"
    msg = one_line_error(r, f"{where}:", code)
    assert "nested" in msg or "deep" in msg, msg


@pytest.mark.parametrize("depth", [1_500, 100_000])
def test_a_deep_log_line_is_a_bad_line_and_every_command_still_works(ws: Path, depth: int):
    log = ws / DS / "labels" / "bob.yaml"
    with open(log, "a") as f:
        f.write('- {"case": "wrong-item-good", "rubric": 2, "values": {"tone": ' + "[" * depth + "]" * depth + "}}\n")
    n = len(log.read_text().splitlines())
    r = run(ws, "validate")
    assert "nested deeper than" in one_line_error(r, f"{DS}/labels/bob.yaml:{n}:")
    for argv in (["status", "support-summary", "--json"], ["agreement", "support-summary", "--json"]):
        r = run(ws, *argv)
        assert r.returncode == 0 and "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr


def test_a_yaml_alias_bomb_in_a_log_is_refused_quickly(ws: Path):
    log = ws / DS / "labels" / "bob.yaml"
    bomb = '- {a: &a ["x","x","x","x","x","x","x","x","x"], b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a], ' \
           'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b], d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c], e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d], ' \
           'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e], g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f], h: [*g,*g,*g,*g,*g,*g,*g,*g,*g]}\n'
    with open(log, "a") as f:
        f.write(bomb)
    n = len(log.read_text().splitlines())
    t = time.perf_counter()
    r = run(ws, "validate", timeout=30)
    assert "not a record" in one_line_error(r, f"{DS}/labels/bob.yaml:{n}:")
    assert time.perf_counter() - t < 20
    # the same bomb in a log someone rewrote as block YAML (read with the YAML parser)
    log.write_text("- case: wrong-item-good\n  rubric: 2\n  values: {tone: 1}\n" + bomb.replace("- {a:", "- {zz:"))
    r = run(ws, "validate", timeout=30)
    assert "aliases" in one_line_error(r, f"{DS}/labels/bob.yaml")


def test_an_anchored_string_reused_100000_times_in_a_rubric_is_one_line(ws: Path):
    rubric = ws / "rubrics" / "support-summary" / "v2.yaml"
    text = rubric.read_text() + "notes: &big " + "x" * 400_000 + "\nmore: [" + ", ".join(["*big"] * 100_000) + "]\n"
    rubric.write_text(text)
    assert 850_000 < len(text) < (1 << 20)
    r = run(ws, "status", "support-summary", timeout=60)
    assert "aliases" in one_line_error(r, "rubrics/support-summary/v2.yaml")


def test_a_50mb_production_line_is_bounded_and_said(ws: Path):
    prod = ws / "prod.jsonl"
    prod.write_text(json.dumps({"input": "where is my parcel " * 2_700_000}) + "\n" + json.dumps({"input": "refund me"}) + "\n")
    assert prod.stat().st_size > 50_000_000
    t = time.perf_counter()
    r = run(ws, "drift", "support-summary", "prod.jsonl", timeout=90)
    assert r.returncode in (0, 1) and "Traceback" not in r.stderr, r.stderr
    assert "prod.jsonl:1: input of 51,300,000 characters: its first 20,000 are compared" in r.stderr
    assert time.perf_counter() - t < 60


def test_a_judge_prompt_that_is_not_utf8_is_one_line(ws: Path):
    (ws / "rubrics" / "support-summary" / "judge.md").write_bytes(b"Grade {output}\xff\xfe\n")
    r = run(ws, "judge", "support-summary", "--model", "m", "--base-url", "http://127.0.0.1:9", "--batch")
    assert "utf-8" in one_line_error(r, "rubrics/support-summary/judge.md").lower()


def test_embeddings_of_unequal_lengths_are_one_line(ws: Path):
    (ws / "prod.jsonl").write_text(json.dumps({"input": "where is my parcel"}) + "\n"
                                   + json.dumps({"input": "refund @@short_embedding@@"}) + "\n")
    with FakeOpenAI() as server:
        env_key = {"OPENAI_API_KEY": "sk-test"}
        os.environ.update(env_key)
        try:
            r = run(ws, "drift", "support-summary", "prod.jsonl", "--embed", "openai", "--model", "fake-embed",
                    "--base-url", server.base_url)
        finally:
            os.environ.pop("OPENAI_API_KEY", None)
    assert r.returncode == 1 and "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    assert "same length" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_a_byte_order_mark_is_accepted_everywhere(ws: Path):
    for rel in (f"{DS}/cases.yaml", f"{DS}/labels/alice.yaml", f"{DS}/adjudications/maya.yaml",
                f"{DS}/judge/{RUN}/verdicts.yaml", f"{DS}/dataset.yaml", "rubrics/support-summary/v2.yaml"):
        p = ws / rel
        p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    r = run(ws, "validate")
    assert r.returncode == 0 and "everything validates" in r.stdout, r.stdout + r.stderr


NAMES = ["007", "null", "Null", "~", "true", "false", "1e3", "0x1F", "%x", "@x", "`x", "!x", "&x", "[x", "{x", "#x",
         "'x", "- x", "x #y", "1_000", "2026-01-01", "=", "+1", "-"]


def test_init_names_that_yaml_reads_specially_round_trip(tmp_path: Path):
    from labeler.flows.scaffold import scaffold
    from labeler.dataset import Workspace

    ws = Workspace(tmp_path)
    for name in NAMES:
        scaffold(tmp_path, name)
        ds = ws.dataset(name)
        assert ds.name == name and ds.rubric().name == name and not ds.problems, name
    r = run(tmp_path, "init", "null")
    assert r.returncode == 1 and "already exists" in r.stderr
    r = run(tmp_path, "status", "%x", "--json")
    assert r.returncode == 0, r.stderr


def test_a_panic_from_a_library_is_one_line(ws: Path, monkeypatch, capsys):
    """pyo3's PanicException derives from BaseException, past `except Exception`."""
    from labeler import cli
    from labeler.cli import data

    class PanicException(BaseException):
        pass

    def boom(a):
        raise PanicException("called `Result::unwrap()` on an `Err` value: capacity overflow")

    monkeypatch.chdir(ws)
    monkeypatch.setattr(data, "cmd_status", boom)
    assert cli.main(["status", "support-summary"]) == 1
    err = capsys.readouterr().err
    assert "internal error (PanicException" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit):
        cli.main(["--version"])


# ---------------------------------------------------------------- the bound itself


def test_check_depth_counts_structure_not_text():
    from labeler.truth.limits import TooDeep, check_depth

    check_depth('{"note": "' + "[" * 5000 + '"}', "x")  # brackets inside a string nest nothing
    check_depth("]" * 5000 + "[" * 50, "x")
    with pytest.raises(TooDeep) as e:
        check_depth('{"a": 1,\n"b": ' + "[" * 200, "f.json", line=7)
    assert str(e.value).startswith("f.json:8: nested deeper than 100 levels")
    assert isinstance(e.value, ValueError)
    assert pickle.loads(pickle.dumps(e.value)).line == 8  # crosses a process pool intact


def test_deep_json_in_session_files_is_skipped_not_a_crash(ws: Path):
    from labeler.derived.presence import SessionMark
    from labeler.flows.labeling import LabelSession
    from labeler.dataset import open_dataset

    sessions = ws / DS / ".cache" / "sessions"
    sessions.mkdir(parents=True)
    deep = "[" * 5000 + "]" * 5000
    (sessions / "zoe.place.json").write_text(deep)
    (sessions / "zoe.otherhost.1.json").write_text(deep)
    assert SessionMark(ws / DS, "zoe").others == []
    s = LabelSession(open_dataset(ws / DS), "zoe")
    assert s.case_id is not None  # starts at the head of the queue instead
