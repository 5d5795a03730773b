"""Exports that harnesses grade honestly, and a CSV that survives spreadsheets and itself."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from labeler import cli
from labeler.stats.numbers import gold
from labeler.stats.report import pass_values
from labeler.dataset import open_dataset


def pass_point(crit):
    return next(iter(pass_values(crit)))


def _export(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["export", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _lines(text: str) -> list[dict]:
    return [json.loads(x) for x in text.splitlines()]


def test_promptfoo_rubrics_show_the_grader_the_case_and_the_pass_point(example: Path, monkeypatch, capsys):
    monkeypatch.chdir(example)
    ds = open_dataset(example / "datasets" / "support-summary")
    code, out, _ = _export(capsys, "support-summary", "--format", "promptfoo")
    tests = {t["description"]: t for t in _lines(out)}
    with_ref, without = tests["refund-double-charge-good"], tests["refund-double-charge-halluc"]
    for t in (with_ref, without):
        for a in t["assert"]:
            crit = ds.rubric().criteria[a["metric"]]
            assert "{{input}}" in a["value"] and crit.question in a["value"]
            assert f"passes only if it {'earns' if crit.scale.type.value == 'ordinal' else 'is'} {pass_point(crit)} " in a["value"]
            assert a["threshold"] == 1.0  # the top of 0..2, and a binary "yes", both score 1
    assert all("{{reference}}" in a["value"] for a in with_ref["assert"]) and "reference" in with_ref["vars"]
    assert not any("{{reference}}" in a["value"] for a in without["assert"]) and "reference" not in without["vars"]


def test_promptfoo_refuses_pairwise_and_leaves_out_empty_outputs(example: Path, tiny: Path, monkeypatch, capsys):
    monkeypatch.chdir(example)
    code, out, err = _export(capsys, "support-pairwise", "--format", "promptfoo")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "pairwise" in err
    monkeypatch.chdir(tiny)
    cases = tiny / "datasets" / "tiny" / "cases.yaml"
    cases.write_text(cases.read_text().replace("output: answer 2", "output: ''"))
    code, out, err = _export(capsys, "tiny", "--format", "promptfoo")
    tests = _lines(out)
    assert code == 0 and [t["description"] for t in tests] == ["t1", "t3", "t4", "t5"]
    assert all(t["providerOutput"] for t in tests)  # promptfoo calls the provider for an empty one
    assert "left out t2: empty output" in err
    # the categorical criterion has no pass point: not asserted, and said
    assert {a["metric"] for a in tests[0]["assert"]} == {"correct", "polite"} and "topic" in err


def test_promptfoo_grader_flag_writes_a_config_that_runs_without_a_model_call(example: Path, tmp_path: Path, monkeypatch, capsys):
    from ruamel.yaml import YAML

    monkeypatch.chdir(example)
    out = tmp_path / "pf" / "tests.jsonl"
    out.parent.mkdir()
    code, _, err = _export(capsys, "support-summary", "--format", "promptfoo", "--out", str(out), "--grader", "openai:chat:gpt-4o-mini")
    assert code == 0 and "promptfooconfig.yaml" in err
    config = YAML(typ="safe").load((tmp_path / "pf" / "promptfooconfig.yaml").read_text())
    assert config["tests"] == "file://tests.jsonl" and config["providers"] == ["echo"]
    assert config["defaultTest"]["options"]["provider"] == "openai:chat:gpt-4o-mini"
    assert _export(capsys, "support-summary", "--format", "promptfoo", "--out", str(out), "--grader", "openai:chat:other")[0] == 0
    mine = tmp_path / "mine" / "promptfooconfig.yaml"  # a config of the user's own is never overwritten
    mine.parent.mkdir()
    mine.write_text("prompts: [hand written]\n")
    code, _, err = _export(capsys, "support-summary", "--format", "promptfoo", "--out", str(mine.parent / "t.jsonl"), "--grader", "g")
    assert code == 1 and "not written by labeler" in err and mine.read_text() == "prompts: [hand written]\n"
    assert not (mine.parent / "t.jsonl").exists()
    code, _, err = _export(capsys, "support-summary", "--format", "jsonl", "--grader", "x")
    assert code == 2 and "--grader" in err


def test_inspect_targets_never_empty_a_case_without_reference_is_graded_against_the_rubric(example: Path, monkeypatch, capsys):
    monkeypatch.chdir(example)
    ds = open_dataset(example / "datasets" / "support-summary")
    samples = _lines(_export(capsys, "support-summary", "--format", "inspect")[1])
    assert len(samples) == 60 and all(s["target"] for s in samples)
    no_ref = [s for s in samples if not ds.cases[s["id"]].reference]
    assert len(no_ref) == 55 and all(s["metadata"]["target_is"] == "rubric" for s in no_ref)
    for crit in ds.rubric().criteria.values():
        assert crit.question in no_ref[0]["target"]
    # a string scorer (Inspect's `includes`) no longer counts every output as correct
    assert not any(s["target"] in s["metadata"]["output"] for s in no_ref)


def test_legacy_evals_ideal_is_never_an_output_gold_failed(example: Path, monkeypatch, capsys):
    monkeypatch.chdir(example)
    ds = open_dataset(example / "datasets" / "support-summary")
    g = gold(ds)
    code, out, err = _export(capsys, "support-summary", "--format", "openai-evals", "--legacy")
    samples = {s["id"]: s for s in _lines(out)}
    assert "refund-double-charge-halluc" not in samples
    assert "left out refund-double-charge-halluc: no reference, and gold fails its output on" in err
    for cid, s in samples.items():
        case = ds.cases[cid]
        if case.reference:
            assert s["ideal"] == case.reference
            continue
        assert s["ideal"] == case.output
        for c, v in g.get(cid, {}).items():
            p = pass_point(ds.rubric().criteria[c])
            assert v.value == p, (cid, c)
    assert err.count("gold fails its output") == 33 and len(samples) == 21


def _no_null(obj) -> bool:
    if isinstance(obj, dict):
        return all(v is not None and _no_null(v) for v in obj.values())
    if isinstance(obj, list):
        return all(_no_null(v) for v in obj)
    return True


def test_evals_api_items_leave_missing_fields_out(example: Path, monkeypatch, capsys):
    monkeypatch.chdir(example)
    items = _lines(_export(capsys, "support-summary", "--format", "openai-evals")[1])
    assert all(_no_null(x) for x in items)
    no_ref = next(x["item"] for x in items if x["item"]["id"] == "refund-double-charge-halluc")
    assert "reference" not in no_ref and "context" not in no_ref and no_ref["output"]


def test_deepeval_goldens_carry_the_case_id_as_name_and_come_as_an_array(example: Path, monkeypatch, capsys):
    monkeypatch.chdir(example)
    lines = _lines(_export(capsys, "support-summary", "--format", "deepeval")[1])
    assert [x["name"] for x in lines] == open_dataset(example / "datasets" / "support-summary").cases.ids
    code, out, _ = _export(capsys, "support-summary", "--format", "deepeval", "--array")
    assert code == 0 and json.loads(out) == lines


HOSTILE = ["=2+2", "+1", "-1", "@SUM(A1)", "\tlead", "\rlead", "a\rb", "a\r\nb", "a\nb", '"quoted"', 'x","y', "a,b",
           "'=already", "''=twice", "'plain", "=HYPERLINK(\"http://x\",\"y\")", "-", "+", "@", " =spaced", "trail\r",
           "\r", "\n", ",", '"', "ünï\u202ecode", "=1\r=2", "line\r\nbreak", "tab\tinside"]


def test_csv_export_neutralises_formulas_quotes_bare_cr_and_round_trips(tiny: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tiny)
    src = tmp_path / "hostile.jsonl"
    src.write_text("".join(json.dumps({"id": f"h{i}", "input": h, "output": f"out {h}", "notes": h}) + "\n"
                           for i, h in enumerate(HOSTILE)) + json.dumps({"id": "=2+2", "input": "id cell", "output": "o"}) + "\n")
    assert cli.main(["import", "tiny", str(src)]) == 0
    capsys.readouterr()
    ds = open_dataset(tiny / "datasets" / "tiny")
    code, out, _ = _export(capsys, "tiny", "--format", "csv")
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert len(rows) == 1 + len(ds.cases)  # 35 cases, 35 rows: no row split at a bare CR
    cells = [c for r in rows[1:] for c in r]
    assert not any(c[:1] in ("=", "+", "-", "@", "\t", "\r") for c in cells)
    assert ["'=2+2", "id cell"] == rows[-1][:2]
    raw = list(csv.reader(io.StringIO(_export(capsys, "tiny", "--format", "csv", "--raw-formulas")[1], newline="")))
    assert raw[-1][0] == "=2+2" and len(raw) == len(rows)
    # and back: import undoes the prefix, so every field is exactly what it was
    f = tmp_path / "back.csv"
    f.write_text(out, newline="")
    assert cli.main(["init", "copy"]) == 0 and cli.main(["import", "copy", str(f)]) == 0
    new = open_dataset(tiny / "datasets" / "copy")
    for cid in ds.cases:
        a, b = ds.cases[cid].model_dump(), new.cases[cid].model_dump()
        assert {k: a[k] for k in ("id", "input", "output", "notes")} == {k: b[k] for k in ("id", "input", "output", "notes")}, cid


def test_a_csv_field_over_128_kib_round_trips(tiny: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tiny)
    big = "x" * (1 << 20)
    src = tmp_path / "big.jsonl"
    src.write_text(json.dumps({"id": "big", "input": "in", "output": big}) + "\n")
    assert cli.main(["import", "tiny", str(src)]) == 0
    f = tmp_path / "big.csv"
    assert cli.main(["export", "tiny", "--format", "csv", "--out", str(f)]) == 0
    assert cli.main(["init", "copy"]) == 0
    capsys.readouterr()
    assert cli.main(["import", "copy", str(f)]) == 0, capsys.readouterr().err
    assert open_dataset(tiny / "datasets" / "copy").cases["big"].output == big


def test_a_csv_cut_off_mid_row_is_refused_with_its_line(tiny: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tiny)
    f = tmp_path / "cut.csv"
    f.write_text("id,input,output,notes\na,in a,out a,fine\nb,in b,out b is cut he")
    f2 = tmp_path / "cut2.csv"
    f2.write_text('id,input,output,notes\na,in a,out a,fine\nb,in b,"out b\nis cut')
    for p, line in ((f, 3), (f2, 3)):
        assert cli.main(["import", "tiny", str(p)]) == 1
        err = capsys.readouterr().err
        assert f"{p.name}:{line}:" in err and len(err.strip().splitlines()) == 1
