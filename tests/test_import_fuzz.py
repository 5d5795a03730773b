"""import-labels loses nothing silently: every value of every variant either lands in a label or is reported with its
record, with a failing exit; names, ids, task data, and malformed exports are said, not guessed."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from labeler import cli
from labeler.dataset import open_dataset

VARIANTS = [2, "2", 2.0, " 2 ", 1, 0, "0", True, False, None, "", "   ", [], [2], [2, 1], {}, {"value": 2}, 7, -1, 1.5,
            "1.5", "two", "２", "2\u200b", "Ⅱ", "é", "\U0001f600", "null", "2 ", "nan", 1e308, -0.0, "02", "+2", [[2]]]
FORMATS = ["csv", "jsonl", "long", "label-studio", "json-min", "argilla", "argilla-flat", "prodigy"]


def _write(tmp: Path, fmt: str, v) -> tuple[Path, list[str], object]:
    """A file with one record of annotator ann for case t1: correct = v (and polite = pass, which always maps)."""
    if fmt == "csv":
        p = tmp / "x.csv"
        cell = json.dumps(v) if isinstance(v, (list, dict)) else "" if v is None else str(v)
        with open(p, "w", newline="") as f:
            csv.writer(f).writerows([["id", "annotator", "correct", "polite"], ["t1", "ann", cell, "pass"]])
        return p, ["--format", "csv"], cell
    if fmt in ("jsonl", "long"):
        p = tmp / "x.jsonl"
        rows = [{"id": "t1", "annotator": "ann", "correct": v, "polite": "pass"}] if fmt == "jsonl" else \
            [{"case": "t1", "annotator": "ann", "criterion": c, "value": x} for c, x in (("correct", v), ("polite", "pass"))]
        p.write_text("".join(json.dumps(r) + "\n" for r in rows))
        return p, ["--format", "jsonl"], v
    if fmt == "label-studio":
        p = tmp / "ls.json"
        p.write_text(json.dumps([{"id": 1, "data": {"case_id": "t1"}, "annotations": [{"id": 9, "completed_by": {"email": "ann@x.org"},
                     "result": [{"from_name": "correct", "type": "number", "value": {"number": v}},
                                {"from_name": "polite", "type": "choices", "value": {"choices": ["pass"]}}]}]}]))
        return p, ["--format", "label-studio"], v
    if fmt == "json-min":
        p = tmp / "min.json"
        p.write_text(json.dumps([{"case_id": "t1", "id": 1, "annotator": "ann", "annotation_id": 9, "correct": v, "polite": "pass"}]))
        return p, ["--format", "label-studio"], (_first_rating(v))
    if fmt == "argilla":
        p = tmp / "records.json"
        p.write_text(json.dumps([{"id": "r1", "fields": {"case_id": "t1"}, "responses": {
            "correct": [{"value": v, "user_id": "ann"}], "polite": [{"value": "pass", "user_id": "ann"}]}}]))
        return p, ["--format", "argilla", "--case-field", "case_id"], v
    if fmt == "argilla-flat":
        p = tmp / "flat.json"
        p.write_text(json.dumps([{"id": "r1", "case_id": "t1", "correct.responses": [v], "correct.responses.users": ["ann"],
                                  "correct.responses.status": ["submitted"], "polite.responses": ["pass"],
                                  "polite.responses.users": ["ann"], "polite.responses.status": ["submitted"]}]))
        return p, ["--format", "argilla", "--case-field", "case_id"], v
    p = tmp / "prodigy.jsonl"
    p.write_text(json.dumps({"case_id": "t1", "label": "correct", "options": [{"id": 0}, {"id": 1}, {"id": 2}], "accept": [v],
                             "answer": "accept", "_annotator_id": "ann"}) + "\n")
    return p, ["--format", "prodigy", "--case-field", "case_id"], v


def _first_rating(v):
    if isinstance(v, dict):
        return v
    if isinstance(v, list) and v and isinstance(v[0], dict):
        return v[0].get("rating")
    return v


def _expected(value):
    """What correct (ordinal 0..2) takes this value as, or None where it is not on the scale."""
    from conftest import SMALL_RUBRIC
    from ruamel.yaml import YAML

    from labeler.truth.models import Rubric

    scale = Rubric.model_validate(YAML(typ="safe").load(SMALL_RUBRIC)).criteria["correct"].scale
    if isinstance(value, list) and len(value) == 1:
        value = value[0]  # Label Studio and Prodigy hand a single choice over as it is
    try:
        return scale.coerce(value)
    except ValueError:
        return None


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_value_is_dropped_silently(fmt, tiny: Path, tmp_path: Path, monkeypatch, capsys):
    """8 formats x 35 values = 280 variants: the value lands, or the run fails and names the record."""
    monkeypatch.chdir(tiny)
    log = tiny / "datasets" / "tiny" / "labels" / "ann.yaml"
    silent = []
    for i, v in enumerate(VARIANTS):
        if log.exists():
            log.unlink()
        sub = tmp_path / f"{fmt}-{i}"
        sub.mkdir()
        path, flags, sent = _write(sub, fmt, v)
        code = cli.main(["import-labels", "tiny", str(path), *flags])
        err = capsys.readouterr().err
        assert "Traceback" not in err
        got = open_dataset(tiny / "datasets" / "tiny").labels.get("ann", {}).get("t1") if log.exists() else None
        landed = got is not None and "correct" in got.values
        want = _expected(sent)
        if landed and want is not None and got.values["correct"] == want:
            continue
        if fmt == "csv" and sent == "" and code == 0 and not landed:
            continue  # an empty cell of a sheet: a question not answered, not a value
        where = "line 2" if fmt == "csv" else ("line 1", "task 1", "row 1", "record r1")
        reported = code != 0 and path.name in err and any(w in err for w in ([where] if isinstance(where, str) else where))
        if not reported:
            silent.append((v, code, got.values if got else None, err.strip()[:120]))
    assert silent == []


def test_json_min_reads_task_data_as_data_and_says_what_it_carries(tiny: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tiny)
    rows = [{"id": 7, "case_id": f"t{n}", "input": "q", "output": "a", "reference": "r", "tier": "golden", "tags": "x",
             "rubric": "tiny", "rubric_version": 1, "gold.correct": 2, "source": "s", "added": "2026-10-01", "extra_field": "data",
             "annotator": "ann", "annotation_id": 100 + n, "created_at": "2026-10-01T10:00:00Z", "updated_at": "2026-10-01T10:00:00Z",
             "lead_time": 3.5, "correct": 2, "polite": "pass"} for n in (1, 2)]
    p = tmp_path / "min.json"
    p.write_text(json.dumps(rows))
    args = ["import-labels", "tiny", str(p), "--format", "label-studio", "--case-field", "case_id"]
    assert cli.main(args) == 1  # the one unknown field: named, with both ways out
    err = capsys.readouterr().err
    assert "question 'extra_field' is not a criterion" in err and "--ignore extra_field" in err and "reference" not in err
    assert cli.main([*args, "--ignore", "extra_field"]) == 0
    out = capsys.readouterr().out
    assert "wrote 2 label(s)" in out and "no ground_truth flag (so no gold)" in out


def test_user_ids_and_unsafe_or_colliding_names_are_refused_with_the_names(tiny: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tiny)
    uuid = "0b5b3c1e-7a2f-4d7b-9c1e-2f3a4b5c6d7e"
    recs = [{"id": "r1", "fields": {"case_id": "t1"}, "responses": {"polite": [{"value": "pass", "user_id": uuid}]}}]
    p = tmp_path / "records.json"
    p.write_text(json.dumps(recs))
    assert cli.main(["import-labels", "tiny", str(p), "--format", "argilla", "--case-field", "case_id"]) == 2
    assert f"user ids, not names: {uuid}" in capsys.readouterr().err
    for names, said in ((["../alice"], "'../alice' is not a name"), (["a/b", "a-b"], "'a/b' is not a name"),
                        (["Ada Lovelace", "ada-lovelace"], "'Ada Lovelace' and 'ada-lovelace' would both be written as 'ada-lovelace'")):
        q = tmp_path / "names.jsonl"
        q.write_text("".join(json.dumps({"id": f"t{i + 1}", "annotator": n, "polite": "pass"}) + "\n" for i, n in enumerate(names)))
        assert cli.main(["import-labels", "tiny", str(q), "--format", "jsonl"]) == 2
        assert said in capsys.readouterr().err
        assert not (tiny / "datasets" / "tiny" / "labels").exists()
    assert cli.main(["import-labels", "tiny", str(q), "--format", "jsonl", "--annotator-map", "Ada Lovelace=ada"]) == 0
    assert "'ada-lovelace' as 'ada-lovelace'" not in capsys.readouterr().out
    assert set(open_dataset(tiny / "datasets" / "tiny").labels) == {"ada", "ada-lovelace"}


def test_argilla_skips_are_counted_per_record(tiny: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tiny)
    rec = {"id": "r1", "case_id": "t1"}
    for q in ("correct", "polite", "topic"):
        rec |= {f"{q}.responses": [None], f"{q}.responses.users": ["u-x"], f"{q}.responses.status": ["discarded"]}
    p = tmp_path / "flat.json"
    p.write_text(json.dumps([rec]))
    assert cli.main(["import-labels", "tiny", str(p), "--format", "argilla", "--case-field", "case_id", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["skipped"] == {"discarded": 1}


def test_label_studio_csv_and_malformed_exports_are_one_line_each(tiny: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tiny)
    p = tmp_path / "ls.csv"
    p.write_text("text,id,annotator,annotation_id,created_at,updated_at,lead_time,polite\nq,1,ann,5,x,y,2,pass\n")
    assert cli.main(["import-labels", "tiny", str(p), "--format", "csv"]) == 1
    err = capsys.readouterr().err
    assert "ls.csv:1: this is Label Studio's CSV export" in err and "--format label-studio" in err and len(err.splitlines()) == 1
    q = tmp_path / "bad.json"
    q.write_text(json.dumps([{"id": 4, "data": {"case_id": "t1"}, "annotations": "notalist"}, "a string"]))
    assert cli.main(["import-labels", "tiny", str(q), "--format", "label-studio", "--case-field", "case_id"]) == 1
    err = capsys.readouterr().err
    assert "bad.json: task 4: annotations must be a list, not text" in err and "bad.json: item 2: a task must be a JSON object" in err
    assert "Traceback" not in err


def test_a_time_that_is_no_time_is_said_and_the_label_kept(tiny: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tiny)
    p = tmp_path / "t.jsonl"
    p.write_text(json.dumps({"id": "t1", "annotator": "ann", "polite": "pass", "seconds": "abc", "at": "yesterday"}) + "\n")
    assert cli.main(["import-labels", "tiny", str(p), "--format", "jsonl"]) == 1
    err = capsys.readouterr().err
    assert "t.jsonl: line 1: time spent 'abc' is not a number of seconds" in err and "line 1: time 'yesterday'" in err
    assert open_dataset(tiny / "datasets" / "tiny").labels["ann"]["t1"].values == {"polite": "pass"}
    q = tmp_path / "long.jsonl"
    q.write_text("".join(json.dumps({"case": "t3", "annotator": "ben", "criterion": "correct", "value": v}) + "\n" for v in (2, 0)))
    assert cli.main(["import-labels", "tiny", str(q), "--format", "jsonl"]) == 1
    assert "long.jsonl: line 1: correct given again at line 2 for this case and annotator: the first (2) kept, 0 left out" in capsys.readouterr().err
