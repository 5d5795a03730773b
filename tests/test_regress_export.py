"""The golden set at work: candidates, the judge on a candidate, regression numbers worked by hand, CI
gates, and exports each tool reads as it is."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from fake_openai import FakeOpenAI
from labeler import cli
from labeler.judge.run import JudgeConfig, run_async
from labeler.stats.regress import gates, regress
from labeler.dataset import open_dataset


def _log(path: Path, *records: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        for r in records:
            f.write("- " + json.dumps(r) + "\n")


def _run(ds_path: Path, name: str, values: dict[str, dict], candidate: str | None = None) -> None:
    folder = ds_path / "judge" / name
    folder.mkdir(parents=True)
    (folder / "run.yaml").write_text(f"name: {name}\nmodel: m\nrubric: tiny\nrubric_version: 1\nprompt_hash: p\n"
                                     + (f"candidate: {candidate}\n" if candidate else ""))
    _log(folder / "verdicts.yaml", *({"case": c, "values": {k: {"value": v, "rationale": f"why {c}"} for k, v in vals.items()}}
                                     for c, vals in values.items()))


def test_candidate_add_matches_by_id_and_by_input_and_reports_the_rest(tiny: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tiny)
    f = tmp_path / "v2.jsonl"
    f.write_text(json.dumps({"id": "t1", "output": "better answer 1"}) + "\n"
                 + json.dumps({"input": "question 2\nsecond line\n", "output": "better answer 2"}) + "\n"
                 + json.dumps({"input": "never asked", "output": "x"}) + "\n")
    assert cli.main(["candidate", "add", "tiny", "v2", str(f), "--model", "m2", "--meta", "team=search"]) == 1
    out, err = capsys.readouterr()
    assert "v2.jsonl: line 3: matches no case" in err and "2 output(s)" in out
    cand = open_dataset(tiny / "datasets" / "tiny").candidate("v2")
    assert cand.outputs == {"t1": "better answer 1", "t2": "better answer 2"} and cand.model == "m2"
    assert cand.metadata == {"team": "search"}


def test_the_judge_scores_a_candidates_outputs_and_records_which(tiny: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    ds_path = tiny / "datasets" / "tiny"
    f = tmp_path / "v2.jsonl"
    f.write_text(json.dumps({"id": "t1", "output": "CANDIDATE-OUTPUT @@pick0@@"}) + "\n")
    monkeypatch.chdir(tiny)
    cli.main(["candidate", "add", "tiny", "v2", str(f)])
    with FakeOpenAI() as server:
        cfg = JudgeConfig(model="m", run="v2run", base_url=server.base_url, retries=0, timeout=5, candidate="v2")
        summary = asyncio.run(run_async(open_dataset(ds_path), cfg))
    assert summary.done == 1  # only the cases the candidate has an output for
    meta, verdicts = open_dataset(ds_path).judge_run("v2run")
    assert meta.candidate == "v2" and list(verdicts) == ["t1"]
    assert verdicts["t1"][0].values["correct"].value == 0  # the server saw the candidate's output (@@pick0@@)


HAND = {
    # case: (gold correct, gold polite, base run, candidate run) ; pass: correct == 2, polite == "pass"
    "t1": (2, "pass"), "t2": (2, "pass"), "t3": (1, "fail"), "t4": (2, "pass"), "t5": (0, "fail"),
}


def test_regression_numbers_by_hand_and_the_gates(tiny: Path):
    ds_path = tiny / "datasets" / "tiny"
    base = {c: {"correct": g[0], "polite": g[1], "topic": "tech"} for c, g in HAND.items()}
    cand = {**base, "t1": {"correct": 1, "polite": "pass", "topic": "tech"},  # correct got worse on t1
            "t3": {"correct": 1, "polite": "pass", "topic": "tech"}}          # polite got better on t3
    _run(ds_path, "base", base)
    _run(ds_path, "cand", cand, candidate=None)
    ds = open_dataset(ds_path)
    r = regress(ds, "base", "cand", "criterion", seed=5, replicates=400)
    c = r["groups"][0]["criteria"]["correct"]
    assert (c["cases"], c["pass_base"], c["pass_candidate"], c["pass_diff"]) == (5, 0.6, 0.4, -0.2)
    assert c["mean_base"] == pytest.approx(7 / 5) and c["mean_candidate"] == pytest.approx(6 / 5)
    assert [w["case"] for w in c["worse"]] == ["t1"] and c["worse"][0]["rationale"] == "why t1"
    p = r["groups"][0]["criteria"]["polite"]
    assert (p["pass_base"], p["pass_candidate"], p["worse"]) == (0.6, 0.8, [])
    # the paired bootstrap interval of the difference (-1 on t1, 0 elsewhere): a resample's mean is -k/5 with
    # k ~ Binomial(5, 1/5), never above 0, and k >= 3 has chance 5.8%: beyond a 2.5% tail, so the interval
    # reaches -0.6 or further down, and no further up than 0
    lo, hi = c["pass_diff_ci95"]["low"], c["pass_diff_ci95"]["high"]
    assert -1.0 <= lo <= -0.6 and hi == 0.0
    assert gates(r, 0.01, {}) == []  # one case in five: no drop shown beyond 1%
    by_tier = regress(ds, "base", "cand", "tier", replicates=50)
    golden = next(g for g in by_tier["groups"] if g["group"] == "tier golden")
    assert golden["criteria"]["correct"]["pass_candidate"] == pytest.approx(1 / 3, abs=1e-4)
    fails = gates(by_tier, None, {"golden": 0.5, "adversarial": 0.4})
    assert fails == ["correct on tier golden: pass rate 33.3% < 50% (n=3)"]


def test_regress_cli_on_the_shipped_example(example: Path, monkeypatch, capsys):
    monkeypatch.chdir(example)
    code = cli.main(["regress", "support-summary", "--candidate", "gpt-4o-mini-2026-10-v2", "--base", "gpt-4o-mini-2026-10",
                     "--max-drop", "0.01", "--replicates", "100", "--json"])
    out, err = capsys.readouterr()
    r = json.loads(out)
    assert code == 1 and any(f.startswith("action_items: pass rate fell") for f in r["failures"])
    assert r["candidate"]["what"].endswith("on candidate summarizer-v2")
    code = cli.main(["regress", "support-summary", "--candidate", "gpt-4o-mini-2026-10-v2", "--replicates", "50", "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["base"]["name"] == "gpt-4o-mini-2026-10"  # the same judge
    code = cli.main(["regress", "support-summary", "--candidate", "gpt-4o-mini-2026-10-v2", "--base", "gold", "--replicates",
                     "50", "--json"])
    r = json.loads(capsys.readouterr().out)
    assert code == 0 and r["base"]["name"] == "gold" and "two instruments" in r["warnings"][0]


@pytest.fixture
def exported(example: Path, monkeypatch, capsys):
    monkeypatch.chdir(example)

    def run(fmt: str, *extra: str) -> list:
        assert cli.main(["export", "support-summary", "--format", fmt, *extra]) == 0
        text = capsys.readouterr().out
        return text if fmt == "csv" else [json.loads(x) for x in text.splitlines()]
    return run


def test_exports_field_by_field(exported, example: Path):
    ds = open_dataset(example / "datasets" / "support-summary")
    case = ds.cases["refund-double-charge-good"]
    inspect = {r["id"]: r for r in exported("inspect")}
    s = inspect[case.id]
    assert set(s) == {"id", "input", "target", "metadata"} and s["input"] == case.input and s["target"] == case.reference
    assert s["metadata"]["output"] == case.output and s["metadata"]["tier"] == "golden" and "action_items" in s["metadata"]["gold"]
    pf = {r["description"]: r for r in exported("promptfoo")}[case.id]
    assert pf["vars"]["input"] == case.input and pf["providerOutput"] == case.output
    assert [a["metric"] for a in pf["assert"]] == list(ds.rubric().criteria) and all(a["type"] == "llm-rubric" for a in pf["assert"])
    ev = exported("openai-evals")[0]
    assert set(ev) == {"item"} and ev["item"]["id"] == ds.cases.ids[0]
    legacy = exported("openai-evals", "--legacy")[0]
    assert legacy["input"][0]["role"] == "user" and "ideal" in legacy
    de = {r["additional_metadata"]["id"]: r for r in exported("deepeval")}[case.id]
    assert (de["input"], de["actual_output"], de["expected_output"]) == (case.input, case.output, case.reference)
    cand = {r["id"]: r for r in exported("jsonl", "--candidate", "summarizer-v2")}
    assert cand[case.id]["output"] == ds.candidate("summarizer-v2").outputs[case.id]
    assert len(exported("jsonl", "--tier", "adversarial")) == 4
    assert exported("csv").splitlines()[0].endswith("gold.under_80_words")


def test_export_is_byte_identical_and_round_trips_every_case_field(example: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(example)
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert cli.main(["export", "support-summary", "--format", "jsonl", "--out", str(a)]) == 0
    assert cli.main(["export", "support-summary", "--format", "jsonl", "--out", str(b)]) == 0
    assert a.read_bytes() == b.read_bytes()
    assert cli.main(["init", "copy"]) == 0
    assert cli.main(["import", "copy", str(a)]) == 0
    old, new = open_dataset(example / "datasets" / "support-summary"), open_dataset(example / "datasets" / "copy")
    assert list(new.cases) == list(old.cases)
    for cid in old.cases:
        assert new.cases[cid].model_dump() == old.cases[cid].model_dump(), cid


async def test_a_regression_audit_shows_the_worsened_cases_and_records_a_wrong_verdict(example_ds: Path):
    from labeler.truth.logs import read_log
    from labeler.ui.app import LabelerApp
    from labeler.vcs.identity import Identity

    ds = open_dataset(example_ds)
    app = LabelerApp(ds, mode="audit", identity=Identity("kim"), audit_runs=("gpt-4o-mini-2026-10-v2", "gpt-4o-mini-2026-10", True))
    async with app.run_test(size=(120, 40)) as pilot:
        s = app.screen.session
        assert len(s.queue) == 8 and all(s.worse(c) == ["action_items"] for c in s.queue)
        first = s.current
        assert s.case(first).output == ds.candidate("summarizer-v2").outputs[first]
        assert s.previous_output(first) == ds.cases[first].output
        await pilot.press("n", "1")
        await pilot.press(*"the list is there")
        await pilot.press("enter")
        await pilot.pause()
    recs = [r for _, r in read_log(example_ds / "judge" / "gpt-4o-mini-2026-10-v2" / "audits" / "kim.yaml").records]
    assert recs[0]["case"] == first and recs[0]["criterion"] == "action_items" and recs[0]["correct"] is False
    assert recs[0]["reason"] == "judge_misread" and recs[0]["note"] == "the list is there"
