"""The numbers a CI can trust and the error paths, one test per finding of the outside check (issue 11)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from labeler import cli
from labeler.stats.agreement import Coefficient, cohen_kappa, percent_agreement
from labeler.errors import LabelerError
from labeler.vcs.identity import resolve_identity
from labeler.truth.models import Adjudication, Label
from labeler.stats.numbers import agreement_groups, disagreements, gold
from labeler.derived.presence import SessionMark
from labeler.dataset import open_dataset
from labeler.flows.validate import validate_paths
from labeler.derived.staleness import VersionIndex

TINY = "datasets/tiny"


def main(*argv: str) -> tuple[int, str, str]:
    """Run the CLI in this process; (exit code, stdout, stderr) via capsys in the caller."""
    try:
        return cli.main(list(argv))
    except SystemExit as e:
        return e.code


def log(path: Path, *records: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        for r in records:
            f.write("- " + json.dumps(r) + "\n")


def at(minute: int) -> str:
    return f"2026-11-01T10:{minute:02d}:00Z"


def labels(ds_path: Path, who: str, rows: dict[str, dict]) -> None:
    log(ds_path / "labels" / f"{who}.yaml", *({"case": c, "rubric": 1, "values": v} for c, v in rows.items()))


ALL = {"correct": 2, "polite": "pass", "topic": "tech"}


# ---------------------------------------------------------------- 1. one rule for values of the wrong type


def test_numeric_text_is_the_same_value_for_every_reader(tiny: Path):
    ds_path = tiny / TINY
    labels(ds_path, "ann", {f"t{i}": {**ALL, "correct": i % 3} for i in range(1, 6)})
    labels(ds_path, "ben", {f"t{i}": {**ALL, "correct": str(i % 3)} for i in range(1, 6)})  # "2", not 2
    log(ds_path / "adjudications" / "lee.yaml", {"case": "t1", "rubric": 1, "gold": {"correct": "0"}, "at": at(1)})
    ds = open_dataset(ds_path)
    assert not ds.problems
    assert ds.labels["ben"]["t2"].values["correct"] == 2 and isinstance(ds.labels["ben"]["t2"].values["correct"], int)
    rep = {r.criterion: r for r in agreement_groups(ds)[0].reports}["correct"]
    assert rep.percent.value == 1.0 and rep.percent.n == 5 and rep.labels == 10
    assert gold(ds)["t1"]["correct"].value == 0 and gold(ds)["t1"]["correct"].source == "adjudicated"
    assert validate_paths([tiny]) == []


def test_value_off_the_scale_is_rejected_by_validate_and_never_counted(tiny: Path):
    ds_path = tiny / TINY
    labels(ds_path, "ann", {"t1": {**ALL, "correct": 7}, "t2": ALL})
    ds = open_dataset(ds_path)
    assert "t1" not in ds.labels["ann"] and "t2" in ds.labels["ann"]
    [p] = ds.problems
    assert p.line == 1 and "correct: 7 is not on the scale" in p.message and p.blocks
    assert [(f.line, f.severity) for f in validate_paths([tiny])] == [(1, "error")]


# ---------------------------------------------------------------- 2, 3. adjudications merged per criterion by time


def test_two_leads_latest_decision_wins_whatever_the_file_names(tiny: Path):
    adj = tiny / TINY / "adjudications"
    log(adj / "zoe.yaml", {"case": "t1", "rubric": 1, "gold": {"correct": 1}, "at": at(1)})
    log(adj / "amy.yaml", {"case": "t1", "rubric": 1, "gold": {"correct": 1}, "at": at(5)})
    ds = open_dataset(tiny / TINY)
    d = ds.adjudications.gold("t1", "correct", VersionIndex(ds).holds).decision
    assert (d.lead, d.value) == ("amy", 1)
    # zoe changes her mind later: leads now disagree, so there is no gold and it is said everywhere
    log(adj / "zoe.yaml", {"case": "t1", "rubric": 1, "gold": {"correct": 0}, "at": at(9)})
    ds = open_dataset(tiny / TINY)
    assert "correct" not in gold(ds).get("t1", {})
    conflict = [d for d in disagreements(ds) if d.case == "t1"]
    assert conflict and conflict[0].conflicts == ["correct"] and not conflict[0].adjudicated
    found = [f for f in validate_paths([tiny]) if "leads disagree" in f.message]
    assert len(found) == 1 and "amy says 1" in found[0].message and "zoe says 0" in found[0].message
    # amy settles it in review (a later decision made seeing both): gold again, by time, not by file name
    log(adj / "amy.yaml", {"case": "t1", "rubric": 1, "gold": {"correct": 0}, "settles": ["correct"], "at": at(20)})
    ds = open_dataset(tiny / TINY)
    assert gold(ds)["t1"]["correct"].value == 0 and not [f for f in validate_paths([tiny]) if "leads disagree" in f.message]


def test_gold_of_one_criterion_survives_a_later_adjudication_of_another_under_a_new_version(tiny: Path):
    ds_path = tiny / TINY
    v2 = (tiny / "rubrics/tiny/v1.yaml").read_text().replace("version: 1", "version: 2").replace("Is it polite?", "Is it polite to the user?")
    (tiny / "rubrics/tiny/v2.yaml").write_text(v2)
    log(ds_path / "adjudications" / "lee.yaml", {"case": "t1", "rubric": 1, "gold": {"correct": 2, "polite": "pass"}, "at": at(1)})
    (ds_path / "dataset.yaml").write_text("name: tiny\nrubric: tiny\nrubric_version: 2\noverlap: 2\n")
    log(ds_path / "adjudications" / "lee.yaml", {"case": "t1", "rubric": 2, "gold": {"topic": "tech"}, "at": at(2)})
    g = gold(open_dataset(ds_path))["t1"]
    assert {c: x.value for c, x in g.items()} == {"correct": 2, "topic": "tech"}  # polite changed in v2: stale


# ---------------------------------------------------------------- 4. nobody is scored against their own label


def test_annotator_vs_gold_leaves_their_own_label_out(tiny: Path):
    ds_path = tiny / TINY
    labels(ds_path, "a", {"t1": ALL, "t2": {**ALL, "correct": 1}})
    labels(ds_path, "b", {"t1": ALL, "t2": ALL})
    labels(ds_path, "c", {"t1": ALL, "t2": ALL})
    ds = open_dataset(ds_path)
    rep = {r.criterion: r for r in agreement_groups(ds)[0].reports}["correct"]
    pct, _ = rep.vs_gold["a"]
    assert (pct.value, pct.n) == (0.5, 2)  # t2: b and c say 2 without a; a said 1
    pct_b, _ = rep.vs_gold["b"]
    assert pct_b.n == 1  # t2 without b: a and c disagree, no consensus
    assert "correct" not in gold(ds)["t2"]  # consensus of everyone: none
    assert gold(ds, rule="majority")["t2"]["correct"].value == 2  # an explicit option, never the default
    rep_m = {r.criterion: r for r in agreement_groups(ds, gold_rule="majority")[0].reports}["correct"]
    assert rep_m.vs_gold["b"][0].n == 1  # with two others who disagree, no majority either


# ---------------------------------------------------------------- 5. bands and weights


def test_percent_agreement_has_no_kappa_band_and_linear_weights_are_real():
    data = np.array([[0, 1, 0], [1, 0, 1]])
    pa = percent_agreement(data, 2)
    assert pa.value == 0.0 and pa.band == "" and "band" not in pa.as_dict()
    assert Coefficient(0.5, 3).band == "moderate"
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    for w in ("linear", "quadratic", None):
        assert cohen_kappa(a, b, 4, w).value == pytest.approx(cohen_kappa_score(a, b, weights=w, labels=[0, 1, 2, 3]), abs=1e-12)
    with pytest.raises(ValueError, match="weights"):
        cohen_kappa(a, b, 4, "cubic")


# ---------------------------------------------------------------- 6. a reply that is not JSON


def test_a_200_reply_that_is_not_json_is_one_case_error_and_the_run_goes_on(tiny: Path, monkeypatch):
    from fake_openai import FakeOpenAI
    from labeler.judge.run import JudgeConfig, run_async
    from labeler.truth.models import Case

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    ds = open_dataset(tiny / TINY)
    ds.add_cases([Case(id="broken-proxy", input="@@notjson_body@@", output="x")])
    with FakeOpenAI() as server:
        cfg = JudgeConfig(model="m", run="r1", base_url=server.base_url, retries=0, timeout=5)
        summary = asyncio.run(run_async(open_dataset(tiny / TINY), cfg))
    assert summary.done == 5 and summary.errors == {"bad_response": 1}
    meta, verdicts = open_dataset(tiny / TINY).judge_run("r1")
    assert verdicts["broken-proxy"][0].error == "bad_response" and meta.finished is not None
    assert "could not be read" in summary.why["bad_response"]


def test_connection_failure_names_the_host_and_cause(tiny: Path, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.chdir(tiny)
    code = main("judge", "tiny", "--model", "m", "--base-url", "http://127.0.0.1:9/v1", "--retries", "0", "--timeout", "2", "--limit", "1")
    out = capsys.readouterr().out
    assert code == 1 and "connection 1 (http://127.0.0.1:9/v1:" in out and ("refused" in out.lower() or "errno 111" in out.lower())
    assert open_dataset(tiny / TINY).judge_run("m")[0].finished is not None  # every case was asked
    code = main("judge", "drop", "tiny", "m")
    assert code == 0 and not (tiny / TINY / "judge" / "m").exists()


# ---------------------------------------------------------------- 8. a file validate rejects is never appended to


@pytest.mark.parametrize("bad", [
    ("labels/ann.yaml", {"case": "t1", "rubric": 1, "values": {"correct": 9}}),
    ("adjudications/ann.yaml", {"case": "t1", "rubric": 1, "gold": {"nosuch": 1}}),
    ("adjudications/ann.yaml", {"case": "../../x", "rubric": 1, "gold": {}}),
])
def test_files_that_do_not_validate_are_never_written(tiny: Path, bad):
    rel, record = bad
    path = tiny / TINY / rel
    log(path, record)
    before = path.read_bytes()
    ds = open_dataset(tiny / TINY)
    assert any(f.path == path for f in validate_paths([tiny]))
    with pytest.raises(LabelerError, match="not writing to ann.yaml until it is fixed"):
        if rel.startswith("labels"):
            ds.save_label("ann", Label(case="t2", rubric=1, values=ALL))
        else:
            ds.save_adjudication("ann", Adjudication(case="t2", rubric=1, gold={"correct": 1}))
    assert path.read_bytes() == before


# ---------------------------------------------------------------- 9, 18. import: bad bytes, surrogates, open quotes


@pytest.mark.parametrize("name,data,line", [
    ("bad.jsonl", b'{"input": "a", "output": "b"}\n{"input": "caf\xe9", "output": "b"}\n', 2),
    ("sur.jsonl", b'{"input": "a", "output": "b"}\n\n{"input": "\\ud800", "output": "b"}\n', 3),
    ("open.csv", b'input,output\na,b\n"never closed,c\nd,e\n', 3),
])
def test_import_refuses_with_file_line_and_writes_nothing(tiny: Path, monkeypatch, capsys, name, data, line):
    (tiny / name).write_bytes(data)
    cases = (tiny / TINY / "cases.yaml").read_bytes()
    monkeypatch.chdir(tiny)
    assert main("import", "tiny", name) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {name}:{line}: ") and err.count("\n") == 1
    assert (tiny / TINY / "cases.yaml").read_bytes() == cases


# ---------------------------------------------------------------- 10, 18. flags: one line, exit 2


@pytest.mark.parametrize("argv,says", [
    (["label", "tiny", "--annotator", "../evil"], "annotator '../evil'"),
    (["label", "tiny", "--annotator", ""], "annotator is empty"),
    (["review", "tiny", "--lead", "../evil"], "lead"),
    (["judge", "tiny", "--model", "m", "--run", "../../x"], "run name"),
    (["status", "x/../../y"], "dataset name"),
    (["sample", "tiny", "--mix", "abc"], "not a list of percentages"),
    (["sample", "tiny", "--mix", "50,50"], "2 part(s) but there are 3 strata"),
    (["sample", "tiny", "--by", "nosuchfield"], "not a case field"),
    (["init", "bad name/x"], "forbidden character"),
    (["review", "tiny", "--criterion", "nosuch"], "not in rubric tiny v1"),
    (["judge", "tiny", "--model", "m", "--repeat", "0"], "at least 1"),
    (["agreement", "tiny", "--min-alpha", "high"], "not a number"),
])
def test_bad_flags_are_one_line_and_exit_2(tiny: Path, monkeypatch, capsys, argv, says):
    monkeypatch.chdir(tiny)
    assert main(*argv) == 2
    out, err = capsys.readouterr()
    assert says in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


def test_sample_says_when_it_picks_fewer_than_asked(tiny: Path, monkeypatch, capsys):
    monkeypatch.chdir(tiny)
    assert main("sample", "tiny", "--n", "1000", "--json") == 0
    assert "has only 5 to pick from" in capsys.readouterr().err


# ---------------------------------------------------------------- 11, 16. torn tails and left-out lines are said


def test_status_and_agreement_say_what_they_leave_out_and_strict_fails(tiny: Path, monkeypatch, capsys):
    ds_path = tiny / TINY
    labels(ds_path, "ann", {"t1": ALL, "t2": ALL})
    labels(ds_path, "ben", {"t1": ALL})
    with open(ds_path / "labels" / "ben.yaml", "a") as f:
        f.write("- {oops\n")
        f.write('- {"case": "t2", "rubric": 1, "values": {"correct": 2, "polite": "maybe", "topic": "tech"}}\n')
        f.write('- {"case": "t3", "rub')  # torn by a crash
    monkeypatch.chdir(tiny)
    assert main("agreement", "tiny", "--json") == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    crit = {c["criterion"]: c for c in data["groups"][0]["criteria"]}
    assert crit["correct"]["percent_agreement"]["n"] == crit["correct"]["alpha"]["n"] == 1  # ben kept, t1 counted
    assert "datasets/tiny/labels/ben.yaml:2: error:" in err and "datasets/tiny/labels/ben.yaml:3: error:" in err
    assert "ben.yaml:4: warning: incomplete last line" in err
    assert main("agreement", "tiny", "--strict") == 1
    capsys.readouterr()
    assert main("status", "tiny") == 0
    assert "ben.yaml:4: warning: incomplete last line" in capsys.readouterr().err


# ---------------------------------------------------------------- 13, 14. case ids as written; size limits


def test_numeric_looking_case_ids_stay_text_and_errors_point_at_the_case(tiny: Path):
    cases = tiny / TINY / "cases.yaml"
    cases.write_text(cases.read_text() + "007:\n  input: a\n  output: b\n1e3:\n  input: c\n  output: d\n")
    ds = open_dataset(tiny / TINY)
    assert {"007", "1e3"} <= set(ds.cases)
    n = cases.read_text().count("\n")
    cases.write_text(cases.read_text() + "true:\n  input: a\n  output: b\n  tier: nosuch\n")
    from labeler.errors import FileFormatError

    with pytest.raises(FileFormatError) as e:
        open_dataset(tiny / TINY)
    assert e.value.line == n + 4 and "case true: tier" in e.value.message


def test_a_rubric_over_the_size_limit_is_refused_at_once(tiny: Path):
    with open(tiny / "rubrics/tiny/v1.yaml", "a") as f:
        f.write("# " + "x" * (1 << 21) + "\n")
    from labeler.errors import FileFormatError

    with pytest.raises(FileFormatError, match="may hold at most 1,048,576"):
        open_dataset(tiny / TINY)


# ---------------------------------------------------------------- 19. identity only when it is the annotator's own


def test_git_identity_is_recorded_only_for_its_owner(tmp_path: Path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "config", "user.name", "Ada Lovelace"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "config", "user.email", "ada@example.com"], check=True)
    assert resolve_identity(None, tmp_path).email == "ada@example.com"
    assert resolve_identity("ada-lovelace", tmp_path).git_name == "Ada Lovelace"
    bob = resolve_identity("bob", tmp_path)
    assert bob.name == "bob" and bob.email is None and bob.git_name is None


# ---------------------------------------------------------------- also: a second window of the same annotator


def test_a_second_session_of_the_same_annotator_is_seen_and_a_dead_one_cleaned(tiny: Path):
    ds_path = tiny / TINY
    first = SessionMark(ds_path, "ann")
    assert first.others == []
    folder = ds_path / ".cache" / "sessions"
    twin = folder / f"ann.{first.host}.999999999.json"  # a window on this host
    twin.write_text(json.dumps({"pid": os.getppid(), "host": first.host, "started": "now", "mode": "label"}))
    dead = folder / f"ann.{first.host}.1.json"
    dead.write_text(json.dumps({"pid": 2 ** 22 + 12345, "host": first.host, "started": "then", "mode": "label"}))
    second = SessionMark(ds_path, "ann")
    assert [o.pid for o in second.others] == [os.getppid()] and not dead.exists()
    assert SessionMark(ds_path, "ben").others == []
    second.release()
    assert not second.path.exists()
