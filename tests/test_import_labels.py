"""Existing labels in: one known label matrix written in each tool's own shape gives exactly its numbers."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import krippendorff
import numpy as np
import pytest

from labeler import cli
from labeler.stats.numbers import agreement_groups
from labeler.truth.logs import read_log
from labeler.dataset import open_dataset

CASES = ["t1", "t2", "t3", "t4", "t5"]
# who -> case -> (correct, polite); None: not labeled
MATRIX = {
    "ann": {"t1": (2, "pass"), "t2": (1, "pass"), "t3": (0, "fail"), "t4": (2, "pass"), "t5": (1, "fail")},
    "ben": {"t1": (2, "pass"), "t2": (2, "pass"), "t3": (0, "fail"), "t4": (1, "fail")},
    "cat": {"t1": (1, "pass"), "t2": (1, "fail"), "t3": (0, "fail"), "t5": (1, "fail")},
}
IDS = {"ann": 11, "ben": 12, "cat": 13}  # the tools' numeric user ids
AMAP = [f"--annotator-map={i}={n}" for n, i in IDS.items()]


def expected_alpha(criterion: str) -> float:
    values = [0, 1, 2] if criterion == "correct" else ["pass", "fail"]
    k = 0 if criterion == "correct" else 1
    data = np.full((3, 5), -1)
    for r, who in enumerate(MATRIX):
        for j, c in enumerate(CASES):
            if c in MATRIX[who]:
                data[r, j] = values.index(MATRIX[who][c][k])
    rel = np.where(data >= 0, data, np.nan).astype(float)  # the GPL oracle, test-only
    return krippendorff.alpha(reliability_data=rel, level_of_measurement="ordinal" if criterion == "correct" else "nominal")


def write(tmp: Path, fmt: str) -> Path:
    rows = [(who, c, v) for who, per in MATRIX.items() for c, v in per.items()]
    if fmt == "csv":
        p = tmp / "sheet.csv"
        with open(p, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "annotator", "correct", "polite", "seconds"])
            for who, c, (x, y) in rows:
                w.writerow([c, IDS[who], x, y, 12])
        return p
    if fmt == "jsonl":  # the long form: one value per line
        p = tmp / "long.jsonl"
        with open(p, "w") as f:
            for who, c, (x, y) in rows:
                for crit, v in (("correct", x), ("polite", y)):
                    f.write(json.dumps({"case": c, "annotator": IDS[who], "criterion": crit, "value": v}) + "\n")
        return p
    if fmt == "label-studio":  # the project JSON export
        tasks = []
        for n, c in enumerate(CASES, 1):
            anns = [{"id": 100 * n + IDS[who], "completed_by": IDS[who], "was_cancelled": False, "lead_time": 9.5,
                     "created_at": "2026-10-01T10:00:00.000000Z", "ground_truth": False,
                     "result": [{"from_name": "correctness", "to_name": "text", "type": "rating", "value": {"rating": v[0] + 1}},
                                {"from_name": "polite", "to_name": "text", "type": "choices", "value": {"choices": [v[1].title()]}},
                                {"from_name": "comment", "to_name": "text", "type": "textarea", "value": {"text": ["ok"]}}]}
                    for who, per in MATRIX.items() if (v := per.get(c))]
            anns.append({"id": 999, "completed_by": 14, "was_cancelled": True, "result": []})
            tasks.append({"id": n, "data": {"case_id": c, "text": "..."}, "annotations": anns})
        p = tmp / "project.json"
        p.write_text(json.dumps(tasks))
        return p
    if fmt == "argilla":  # flat records, with a discarded response that must not count
        recs = []
        for c in CASES:
            who = [w for w in MATRIX if c in MATRIX[w]]
            recs.append({"id": f"rec-{c}", "case_id": c, "text": "...",
                         "correct.responses": [MATRIX[w][c][0] for w in who] + [0],
                         "correct.responses.users": [f"u{IDS[w]}" for w in who] + ["u99"],
                         "correct.responses.status": ["submitted"] * len(who) + ["discarded"],
                         "polite.responses": [MATRIX[w][c][1] for w in who],
                         "polite.responses.users": [f"u{IDS[w]}" for w in who],
                         "polite.responses.status": ["submitted"] * len(who)})
        p = tmp / "records.json"
        p.write_text(json.dumps(recs))
        return p
    p = tmp / "prodigy.jsonl"  # binary accept/reject for polite, and an ignored task
    with open(p, "w") as f:
        for who, c, (x, y) in rows:
            f.write(json.dumps({"text": "...", "case_id": c, "label": "POLITE", "answer": "accept" if y == "pass" else "reject",
                                "_annotator_id": f"polite-{who}", "_session_id": f"polite-{who}", "_timestamp": 1760000000}) + "\n")
        f.write(json.dumps({"text": "...", "case_id": "t1", "label": "POLITE", "answer": "ignore", "_annotator_id": "polite-ann"}) + "\n")
    return p


FLAGS = {
    "csv": AMAP, "jsonl": AMAP,
    "label-studio": AMAP + ["--case-field=case_id", "--map=correctness=correct", "--map=comment=note",
                            "--value-map=correct:1=0", "--value-map=correct:2=1", "--value-map=correct:3=2",
                            "--value-map=polite:Pass=pass", "--value-map=polite:Fail=fail"],
    "argilla": [f"--annotator-map=u{i}={n}" for n, i in IDS.items()] + ["--case-field=case_id"],
    "prodigy": [f"--annotator-map=polite-{n}={n}" for n in IDS] + ["--case-field=case_id", "--map=POLITE=polite",
                                                                   "--value-map=polite:accept=pass", "--value-map=polite:reject=fail"],
}


@pytest.mark.parametrize("fmt", list(FLAGS))
def test_each_format_imports_the_matrix_and_gives_its_numbers(fmt, tiny: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tiny)
    src = write(tmp_path, fmt)
    before = sorted((tiny / "datasets" / "tiny").rglob("*.yaml"))
    assert cli.main(["import-labels", "tiny", str(src), "--format", fmt, "--dry-run", "--json", *FLAGS[fmt]]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dry_run"] and report["labels"] == 13
    assert sorted((tiny / "datasets" / "tiny").rglob("*.yaml")) == before  # a dry run writes nothing
    assert cli.main(["import-labels", "tiny", str(src), "--format", fmt, "--json", *FLAGS[fmt]]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["labels"] == 13 and set(out["by_annotator"]) == set(MATRIX)
    ds = open_dataset(tiny / "datasets" / "tiny")
    reps = {r.criterion: r for r in agreement_groups(ds)[0].reports}
    crits = ["polite"] if fmt == "prodigy" else ["correct", "polite"]
    for c in crits:
        assert reps[c].alpha.value == pytest.approx(expected_alpha(c), abs=1e-12), c
    rec = read_log(tiny / "datasets" / "tiny" / "labels" / "ann.yaml").records[0][1]
    assert rec["imported"].startswith(f"{fmt}:{src.name}#")
    if fmt == "label-studio":
        assert out["skipped"] == {"cancelled": 5} and rec["note"] == "ok" and rec["seconds"] == 9.5
    if fmt == "argilla":
        assert out["skipped"] == {"discarded": 5}
    if fmt == "prodigy":
        assert out["skipped"] == {"ignored": 1}
    # a second import of the same file writes nothing new
    assert cli.main(["import-labels", "tiny", str(src), "--format", fmt, "--json", *FLAGS[fmt]]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["labels"] == 0 and again["skipped"].get("already imported") == 13


def test_what_does_not_map_is_reported_with_its_position(tiny: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tiny)
    p = tmp_path / "bad.csv"
    p.write_text("id,annotator,correct,mood\nt1,ann,2,\nt2,ann,7,\nnope,ann,1,\nt3,ann,1,happy\n")
    assert cli.main(["import-labels", "tiny", str(p), "--format", "csv"]) == 1
    out, err = capsys.readouterr()
    assert "bad.csv: line 3: correct: '7' is not on the scale" in err
    assert "bad.csv: line 4: no case 'nope'" in err
    assert "bad.csv: line 5: question 'mood' is not a criterion" in err and "--map mood=CRITERION" in err
    assert "wrote 1 label(s)" in out


def test_label_studio_ground_truth_becomes_an_adjudication_and_stays_the_annotators_label(tiny: Path, tmp_path: Path,
                                                                                           monkeypatch, capsys):
    monkeypatch.chdir(tiny)
    tasks = [{"id": n, "data": {"case_id": f"t{n}"}, "annotations": [
        {"id": 10 + n, "completed_by": 3, "ground_truth": n == 1, "was_cancelled": False,
         "result": [{"from_name": "polite", "type": "choices", "value": {"choices": ["pass"]}}]}]} for n in (1, 2, 3)]
    p = tmp_path / "gt.json"
    p.write_text(json.dumps(tasks))
    args = ["import-labels", "tiny", str(p), "--format", "label-studio", "--case-field", "case_id", "--gold-lead", "lead"]
    assert cli.main(args) == 2  # 3 is a user id, not a name: said, nothing written
    assert "user ids, not names: 3" in capsys.readouterr().err and not (tiny / "datasets" / "tiny" / "labels").exists()
    assert cli.main([*args, "--annotator-map", "3=alice"]) == 0
    out = capsys.readouterr().out
    assert "wrote 3 label(s) and 1 adjudication(s)" in out and "stay their annotators' labels" in out
    ds = open_dataset(tiny / "datasets" / "tiny")
    from labeler.derived.staleness import VersionIndex

    assert ds.adjudications.gold_values("t1", VersionIndex(ds).holds) == {"polite": "pass"}
    assert sorted(ds.labels["alice"]) == ["t1", "t2", "t3"]  # alice made 3: all 3 arrive
    # the same records from a file with another name: nothing again, gold included
    q = tmp_path / "renamed.json"
    q.write_text(p.read_text())
    assert cli.main(["import-labels", "tiny", str(q), *args[3:], "--annotator-map", "3=alice", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["labels"], again["adjudications"]) == (0, 0)
    assert again["skipped"] == {"already imported": 3, "gold already imported": 1}


def test_argilla_nested_records_count_every_response_and_say_so(tiny: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tiny)
    recs = [{"id": "r1", "fields": {"case_id": "t1", "text": "..."}, "metadata": {},
             "responses": {"polite": [{"value": "pass", "user_id": "u1"}, {"value": "fail", "user_id": "u2"}]},
             "suggestions": {"polite": {"value": "pass", "score": 0.9, "agent": "gpt"}}}]
    p = tmp_path / "records.json"
    p.write_text(json.dumps(recs))
    assert cli.main(["import-labels", "tiny", str(p), "--format", "argilla", "--case-field", "case_id", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["labels"] == 2 and set(out["by_annotator"]) == {"u1", "u2"}
    assert any("nested form carries no response status" in n for n in out["notes"])


def test_add_cases_makes_a_case_from_a_record_with_input_and_output(tiny: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tiny)
    p = tmp_path / "new.jsonl"
    p.write_text(json.dumps({"annotator": "ann", "input": "a new question", "output": "its answer", "correct": 2}) + "\n"
                 + json.dumps({"annotator": "ben", "input": "a new question", "output": "its answer", "correct": 1}) + "\n")
    assert cli.main(["import-labels", "tiny", str(p), "--format", "jsonl"]) == 1  # no such case: reported
    capsys.readouterr()
    assert cli.main(["import-labels", "tiny", str(p), "--format", "jsonl", "--add-cases", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["new_cases"] == 1 and out["labels"] == 2
    ds = open_dataset(tiny / "datasets" / "tiny")
    [cid] = [c for c in ds.cases if c.startswith("c-")]
    assert ds.cases[cid].input == "a new question" and ds.labels["ben"][cid].values == {"correct": 1}


def test_argilla_suggestions_become_a_judge_run_that_calibrates(tiny: Path, tmp_path: Path, monkeypatch, capsys):
    """Nested and flat suggestions are read; with --suggestions-run they are a judge run (once), else counted as skipped."""
    from labeler.stats.calibrate import calibrate

    monkeypatch.chdir(tiny)
    recs = [{"id": "r1", "fields": {"case_id": "t1", "text": "..."}, "metadata": {},
             "responses": {"polite": [{"value": "pass", "user_id": "u1"}, {"value": "pass", "user_id": "u2"}]},
             "suggestions": {"polite": {"value": "pass", "score": 0.9, "agent": "gpt-x"}}},
            {"id": "r2", "fields": {"case_id": "t2", "text": "..."}, "metadata": {},
             "responses": {"polite": [{"value": "fail", "user_id": "u1"}, {"value": "fail", "user_id": "u2"}]},
             "suggestions": {"polite": {"value": "pass", "score": 0.6, "agent": "gpt-x"}}}]
    p = tmp_path / "records.json"
    p.write_text(json.dumps(recs))
    assert cli.main(["import-labels", "tiny", str(p), "--format", "argilla", "--case-field", "case_id", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["suggestions"] == 0 and any("suggestions" in k for k in out["skipped"])
    assert cli.main(["import-labels", "tiny", str(p), "--format", "argilla", "--case-field", "case_id",
                     "--suggestions-run", "argilla-gpt-x", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["suggestions"] == 2
    ds = open_dataset(tiny / "datasets" / "tiny")
    meta, verdicts = ds.judge_run("argilla-gpt-x")
    assert meta.model == "gpt-x" and meta.prompt_template.startswith("(imported from argilla")
    assert verdicts.first_values() == {"t1": {"polite": "pass"}, "t2": {"polite": "pass"}}
    assert verdicts["t2"][0].values["polite"].rationale == "imported suggestion (score 0.6)"
    polite = next(c for c in calibrate(ds, verdicts) if c.criterion == "polite")
    assert polite.judge_percent.n == 2 and polite.judge_percent.value == 0.5
    # flat records (to_list(flatten=True)) and a second import: nothing is written twice
    flat = [{"id": "r3", "case_id": "t3", "text": "...", "polite.suggestion": "fail", "polite.suggestion.score": 0.7,
             "polite.suggestion.agent": "gpt-x"},
            {"id": "r1", "case_id": "t1", "text": "...", "polite.suggestion": "pass", "polite.suggestion.agent": "gpt-x"}]
    q = tmp_path / "flat.json"
    q.write_text(json.dumps(flat))
    assert cli.main(["import-labels", "tiny", str(q), "--format", "argilla", "--case-field", "case_id",
                     "--suggestions-run", "argilla-gpt-x", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["suggestions"] == 1 and out["skipped"] == {"suggestions already in the run": 1}
    assert open_dataset(tiny / "datasets" / "tiny").judge_run("argilla-gpt-x")[1].first_values()["t3"] == {"polite": "fail"}
