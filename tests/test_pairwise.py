"""Pairwise cases end to end: the scale, labels stored as A/B whatever the order shown, a judge asked in
both orders (a position-biased one is caught), win rates with Wilson intervals, Bradley-Terry, `labeler pair`."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from fake_openai import FakeOpenAI
from labeler import cli
from labeler.flows.labeling import LabelSession
from labeler.judge.run import JudgeConfig, position_consistency, run_async
from labeler.stats.calibrate import below_bar, calibrate
from labeler.stats.winrate import Matchup, bradley_terry, wilson, win_tables
from labeler.truth.logs import read_log
from labeler.truth.models import Case, Rubric, content_hash_of
from labeler.truth.pairs import from_position, shown_order
from labeler.dataset import open_dataset
from labeler.truth.store import load_rubric_file
from labeler.ui.app import LabelerApp
from labeler.vcs.identity import Identity

PAIR_RUBRIC = """name: duel
version: 1
task: Which answer is better?
criteria:
  correct:
    question: Which answer is more correct?
    scale:
      type: pairwise
      points:
        A: {label: A}
        B: {label: B}
        tie: {label: tie}
        both_bad: {label: both bad}
  concise:
    question: Which answer is more concise?
    scale:
      type: pairwise
      points:
        A: {label: A}
        B: {label: B}
        tie: {label: tie}
"""


def _workspace(root: Path, cases: list[dict]) -> Path:
    (root / "rubrics" / "duel").mkdir(parents=True)
    (root / "rubrics" / "duel" / "v1.yaml").write_text(PAIR_RUBRIC)
    ds = root / "datasets" / "duel"
    ds.mkdir(parents=True)
    (ds / "dataset.yaml").write_text("name: duel\nrubric: duel\nrubric_version: 1\noverlap: 2\n")
    lines = []
    for c in cases:
        lines.append(f"{c['id']}:\n  input: {json.dumps(c.get('input', 'q ' + c['id']))}\n  output: {json.dumps(c['a'])}\n"
                     f"  output_b: {json.dumps(c['b'])}\n  origin_a: {{candidate: {c.get('sa', 'x')}}}\n"
                     f"  origin_b: {{candidate: {c.get('sb', 'y')}}}\n  tier: {c.get('tier', 'golden')}\n")
    (ds / "cases.yaml").write_text("# pairwise cases\n" + "".join(lines))
    return ds


def _labels(ds: Path, who: str, values: dict[str, dict]) -> None:
    (ds / "labels").mkdir(exist_ok=True)
    with open(ds / "labels" / f"{who}.yaml", "a") as f:
        for cid, v in values.items():
            f.write("- " + json.dumps({"case": cid, "rubric": 1, "values": v, "at": "2026-11-01T10:00:00Z"}) + "\n")


# ---------------------------------------------------------------- formats


def test_a_pairwise_scale_needs_a_and_b_and_a_rubric_is_one_kind_or_the_other():
    from pydantic import ValidationError

    ok = Rubric.model_validate({"name": "r", "version": 1, "criteria": {"c": {"question": "?", "scale": {
        "type": "pairwise", "points": {"A": {"label": "a"}, "B": {"label": "b"}}}}}})
    assert ok.pairwise and ok.criteria["c"].scale.keys() == {"A": "1", "B": "2"}
    with pytest.raises(ValidationError, match="A and B"):
        Rubric.model_validate({"name": "r", "version": 1, "criteria": {"c": {"question": "?", "scale": {
            "type": "pairwise", "points": {"A": {"label": "a"}, "left": {"label": "b"}}}}}})
    with pytest.raises(ValidationError, match="either pairwise"):
        Rubric.model_validate({"name": "r", "version": 1, "criteria": {
            "c": {"question": "?", "scale": {"type": "pairwise", "points": {"A": {"label": "a"}, "B": {"label": "b"}}}},
            "d": {"question": "?", "scale": {"type": "binary", "points": {"pass": {"label": "p"}, "fail": {"label": "f"}}}}}})


def test_old_files_keep_their_hashes(example: Path):
    """Adding pairwise fields changed no rubric hash and no single-output case hash: old labels stay current."""
    v2 = load_rubric_file(example / "rubrics" / "support-summary" / "v2.yaml")
    run = (example / "datasets" / "support-summary" / "judge" / "gpt-4o-mini-2026-10" / "run.yaml").read_text()
    assert f"rubric_hash: {v2.content_hash()}" in run
    expected = hashlib.sha256(b"in\x00out").hexdigest()[:16]
    assert content_hash_of("in", "out") == expected == Case(id="c", input="in", output="out").content_hash()
    assert Case(id="c", input="in", output="out", output_b="other").content_hash() != expected


def test_the_order_shown_is_fixed_per_annotator_and_case_and_balanced():
    orders = [shown_order("ann", f"case-{i}") for i in range(2000)]
    assert orders == [shown_order("ann", f"case-{i}") for i in range(2000)]
    assert 0.45 < orders.count("BA") / len(orders) < 0.55
    assert [shown_order("bob", f"case-{i}") for i in range(50)] != orders[:50]
    assert from_position("A", "BA") == "B" and from_position("B", "BA") == "A" and from_position("tie", "BA") == "tie"
    assert from_position("A", "AB") == "A"


# ---------------------------------------------------------------- labeling


def test_keys_pick_positions_and_labels_are_stored_as_a_and_b(tmp_path: Path):
    ds_path = _workspace(tmp_path, [{"id": f"p{i}", "a": f"answer A{i}", "b": f"answer B{i}"} for i in range(12)])
    s = LabelSession(open_dataset(ds_path), "ann")
    seen = {}
    while s.draft is not None and s.case_id not in seen:
        seen[s.case_id] = s.draft.shown
        s.press("1")  # correct: the output shown first
        s.press("2")  # concise: the output shown second
    assert set(seen.values()) == {"AB", "BA"}, "both orders occur among 12 cases"
    labels = {rec["case"]: rec for _, rec in read_log(ds_path / "labels" / "ann.yaml").records}
    assert set(labels) == set(seen)
    for cid, shown in seen.items():
        first, second = ("A", "B") if shown == "AB" else ("B", "A")
        assert labels[cid]["shown"] == shown
        assert labels[cid]["values"] == {"correct": first, "concise": second}


async def test_the_app_shows_two_outputs_blind_and_saves_what_was_meant(tmp_path: Path):
    ds_path = _workspace(tmp_path, [{"id": "p1", "a": "the A text", "b": "the B text", "sa": "model-x", "sb": "model-y"}])
    app = LabelerApp(open_dataset(ds_path), identity=Identity("zed"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        shown = app.screen.session.draft.shown
        first = str(app.screen.query_one("#body-side-1").render())
        titles = str(app.screen.query_one("#title-side-1").render()) + str(app.screen.query_one("#title-side-2").render())
        assert ("the A text" in first) == (shown == "AB")
        assert "model-x" not in titles and "OUTPUT 1" in titles, "the annotator does not see which version is which"
        assert app.screen.query_one("#body-output").has_class("hidden")
        await pilot.press("1", "3")
        await pilot.press("question_mark")
        await pilot.pause()
        from io import StringIO

        from rich.console import Console

        con = Console(file=StringIO(), width=300)
        for w in app.screen.query("Static"):
            con.print(w.content)
        helptext = con.file.getvalue()
        assert "1=output 1 is better" in helptext and "1=A" not in helptext
    rec = read_log(ds_path / "labels" / "zed.yaml").records[-1][1]
    assert rec["values"] == {"correct": "A" if shown == "AB" else "B", "concise": "tie"} and rec["shown"] == shown


async def test_the_review_screen_shows_both_outputs_with_their_sources(tmp_path: Path):
    ds_path = _workspace(tmp_path, [{"id": "p1", "a": "the A text", "b": "the B text", "sa": "model-x", "sb": "model-y"}])
    _labels(ds_path, "ann", {"p1": {"correct": "A", "concise": "tie"}})
    _labels(ds_path, "bob", {"p1": {"correct": "B", "concise": "tie"}})
    app = LabelerApp(open_dataset(ds_path), mode="review", identity=Identity("lead"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        t1 = str(app.screen.query_one("#title-side-1").render())
        t2 = str(app.screen.query_one("#title-side-2").render())
        assert "OUTPUT A" in t1 and "model-x" in t1 and "OUTPUT B" in t2 and "model-y" in t2
        assert "the B text" in str(app.screen.query_one("#body-side-2").render())


def test_pairwise_agreement_is_nominal_and_equals_the_oracle(tmp_path: Path):
    krippendorff = pytest.importorskip("krippendorff")
    from labeler.stats.numbers import agreement_groups

    rng = np.random.default_rng(3)
    vals = ["A", "B", "tie", "both_bad"]
    ds_path = _workspace(tmp_path, [{"id": f"p{i}", "a": f"a{i}", "b": f"b{i}"} for i in range(30)])
    data = rng.integers(0, 4, size=(3, 30))
    data[1, :20] = data[0, :20]
    for k, who in enumerate(("ann", "bob", "cy")):
        _labels(ds_path, who, {f"p{i}": {"correct": vals[data[k, i]], "concise": "tie"} for i in range(30)})
    report = next(r for r in agreement_groups(open_dataset(ds_path))[0].reports if r.criterion == "correct")
    assert report.as_dict()["level"] == "nominal"
    oracle = krippendorff.alpha(reliability_data=data.astype(float), level_of_measurement="nominal")
    assert abs(report.alpha.value - oracle) < 1e-9


# ---------------------------------------------------------------- judge


def _judge(ds_path: Path, answerer, run: str = "j1", monkeypatch=None):
    with FakeOpenAI(answerer=answerer) as server:
        cfg = JudgeConfig(model="fake-1", run=run, base_url=server.base_url, timeout=10, retries=0)
        summary = asyncio.run(run_async(open_dataset(ds_path), cfg))
        calls = server.total
    return summary, calls, open_dataset(ds_path)


def test_a_judge_that_always_says_first_is_inconsistent_on_every_case(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    ds_path = _workspace(tmp_path, [{"id": f"p{i}", "a": f"a{i}", "b": f"b{i}"} for i in range(6)])
    _labels(ds_path, "ann", {f"p{i}": {"correct": "A", "concise": "A"} for i in range(6)})
    _labels(ds_path, "bob", {f"p{i}": {"correct": "A", "concise": "A"} for i in range(6)})
    summary, calls, ds = _judge(ds_path, lambda prompt, allowed: {c: "first" for c in allowed})
    assert summary.done == 6 and calls == 12, "each case asked in both orders"
    meta, verdicts = ds.judge_run("j1")
    for cid in verdicts:
        for c, cv in verdicts[cid][0].values.items():
            assert cv.inconsistent and cv.value is None and cv.orders == {"AB": "A", "BA": "B"}
    assert position_consistency(verdicts, ds.rubric()) == {"correct": (0.0, 6), "concise": (0.0, 6)}
    cal = {c.criterion: c for c in calibrate(ds, verdicts)}
    assert cal["correct"].judge_percent.n == 0 and cal["correct"].inconsistent == 6
    assert any("position consistency 0.0%" in f for f in below_bar(list(cal.values()), 0.8))
    judge_table = next(t for t in win_tables(ds) if t.by == "j1" and t.criterion == "correct")
    assert judge_table.inconsistent == 6 and all(s.n == 0 for s in judge_table.sources.values())
    # a second run asks nothing: both orders are cached under one key
    summary2, calls2, _ = _judge(ds_path, lambda prompt, allowed: {c: "first" for c in allowed})
    assert summary2.skipped == 6 and calls2 == 0


def test_a_judge_that_reads_the_outputs_is_consistent_and_mapped_to_a_and_b(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    cases = [{"id": "p0", "a": "good @@better@@", "b": "meh"}, {"id": "p1", "a": "meh", "b": "good @@better@@"},
             {"id": "p2", "a": "same", "b": "same too"}]
    ds_path = _workspace(tmp_path, cases)

    def reader(prompt: str, allowed):
        first = prompt.split("--- OUTPUT 1 ---")[1].split("--- OUTPUT 2 ---")[0]
        second = prompt.split("--- OUTPUT 2 ---")[1]
        pick = "first" if "@@better@@" in first else "second" if "@@better@@" in second.split("Judge each")[0] else "tie"
        return {c: pick for c in allowed}

    _, _, ds = _judge(ds_path, reader)
    _, verdicts = ds.judge_run("j1")
    got = verdicts.first_values()
    assert got == {"p0": {"correct": "A", "concise": "A"}, "p1": {"correct": "B", "concise": "B"},
                   "p2": {"correct": "tie", "concise": "tie"}}
    assert position_consistency(verdicts, ds.rubric())["correct"] == (1.0, 3)
    # the cached columns keep the orders: a second open reads them from the cache
    again = open_dataset(ds_path).judge_run("j1")[1]
    assert again["p1"][0].values["correct"].orders == {"AB": "B", "BA": "B"}


def test_a_pairwise_judge_prompt_must_name_both_outputs(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    ds_path = _workspace(tmp_path, [{"id": "p0", "a": "x", "b": "y"}])
    (tmp_path / "rubrics" / "duel" / "judge.md").write_text("Grade {output} only")
    with FakeOpenAI() as server:
        code = cli.main(["judge", str(ds_path), "--model", "m", "--base-url", server.base_url])
    assert code == 1


# ---------------------------------------------------------------- win rates


def test_wilson_interval_matches_a_hand_computation():
    lo, hi = wilson(6, 8)
    # p = .75, n = 8, z = 1.96: centre (p + z²/2n) / (1 + z²/n) = .6689, half-width .2596
    assert abs(lo - 0.40928) < 1e-4 and abs(hi - 0.92849) < 1e-4
    assert wilson(0, 0) is None
    lo, hi = wilson(0, 5)
    assert lo == 0.0 and abs(hi - 0.43448) < 1e-4


def test_win_rates_by_gold_on_a_hand_counted_set(tmp_path: Path):
    # x vs y on 10 cases: x wins 6, y wins 2, 2 ties; both annotators agree, so consensus gold is their value
    outcomes = ["A"] * 5 + ["B"] * 2 + ["tie"] * 2
    cases = [{"id": f"p{i}", "a": f"a{i}", "b": f"b{i}"} for i in range(9)]
    cases.append({"id": "p9", "a": "b9", "b": "a9", "sa": "y", "sb": "x"})  # x is B here: a B verdict is an x win
    outcomes.append("B")
    ds_path = _workspace(tmp_path, cases)
    labels = {f"p{i}": {"correct": v, "concise": "tie"} for i, v in enumerate(outcomes)}
    _labels(ds_path, "ann", labels)
    _labels(ds_path, "bob", labels)
    ds = open_dataset(ds_path)
    t = next(t for t in win_tables(ds) if t.criterion == "correct" and t.by == "gold")
    x, y = t.sources["x"], t.sources["y"]
    assert (x.wins, x.losses, x.ties, x.both_bad, x.n) == (6, 2, 2, 0, 10)
    assert (y.wins, y.losses) == (2, 6) and x.rate == 0.75
    d = x.as_dict()
    assert d["ci95"] == [0.4093, 0.9285]
    m = t.matchups[("x", "y")]
    assert (m.a_wins, m.b_wins, m.ties) == (6, 2, 2)
    assert t.ranking is None, "two sources: head to head says it all"
    by_tier = [t for t in win_tables(ds, by="tier") if t.criterion == "correct" and t.by == "gold"]
    assert [t.group for t in by_tier] == ["golden"] and by_tier[0].sources["x"].wins == 6


def test_bradley_terry_ranks_three_sources_and_solves_its_equations():
    ms = [Matchup("x", "y", a_wins=3, b_wins=1), Matchup("y", "z", a_wins=3, b_wins=1), Matchup("x", "z", a_wins=3, b_wins=1, ties=2)]
    ranking = bradley_terry(ms)
    assert [s for s, _ in ranking] == ["x", "y", "z"]
    p = dict(ranking)
    assert abs(sum(p.values()) - 1) < 1e-9
    # at the maximum of the likelihood, each source's (prior-smoothed) wins equal their expectation
    for s in p:
        won = expected = 0.0
        for m in ms:
            if s not in (m.a, m.b):
                continue
            other = m.b if s == m.a else m.a
            mine = (m.a_wins if s == m.a else m.b_wins) + 0.5 * m.ties + 0.5
            games = m.a_wins + m.b_wins + m.ties + 1
            won += mine
            expected += games * p[s] / (p[s] + p[other])
        assert abs(won - expected) < 1e-6


def test_winrate_cli_json_and_a_single_output_dataset_is_one_line(example: Path, monkeypatch, capsys):
    monkeypatch.chdir(example)
    assert cli.main(["winrate", "support-pairwise", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    overall = next(t for t in out["tables"] if t["criterion"] == "overall" and t["by"] == "gold")
    golden = next(s for s in overall["sources"] if s["source"] == "golden")
    assert golden["wins"] + golden["losses"] + golden["ties"] + golden["both_bad"] == golden["cases"] > 0
    judged = next(t for t in out["tables"] if t["criterion"] == "overall" and t["by"] == "gpt-4o-mini-pairwise")
    assert judged["inconsistent_left_out"] > 0, "the shipped judge run shows the position check at work"
    assert cli.main(["winrate", "support-summary"]) == 1
    assert "not pairwise" in capsys.readouterr().err


# ---------------------------------------------------------------- building pairwise cases


def test_pair_builds_cases_from_two_versions_once(example: Path, monkeypatch, capsys):
    monkeypatch.chdir(example)
    args = ["pair", "support-summary", "--a", "golden", "--b", "summarizer-v2", "--into", "duel2", "--rubric", "support-pairwise"]
    assert cli.main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["added"] == 11 and len(out["left_out_identical"]) == 49
    ds = open_dataset(example / "datasets" / "duel2")
    assert not ds.problems and len(ds.cases) == 11
    c = ds.cases["export-csv-broken-good"]
    src = open_dataset(example / "datasets" / "support-summary")
    assert c.output == src.cases["export-csv-broken-good"].output
    assert c.output_b == src.candidate("summarizer-v2").outputs["export-csv-broken-good"]
    assert c.source_names() == ("golden", "summarizer-v2") and c.origin_b.model == "summarizer-2026-11"
    assert cli.main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["added"] == 0, "a rerun adds no duplicate"
    assert cli.main(["pair", "support-summary", "--a", "golden", "--b", "nope", "--into", "duel3", "--rubric", "support-pairwise"]) == 1
    assert "no candidate 'nope'" in capsys.readouterr().err
    assert cli.main(["pair", "support-summary", "--a", "golden", "--b", "summarizer-v2", "--into", "duel4",
                     "--rubric", "support-summary"]) == 1
    assert "not a pairwise rubric" in capsys.readouterr().err


def test_import_accepts_pairwise_rows_and_refuses_the_other_kind(tmp_path: Path, capsys):
    ds_path = _workspace(tmp_path, [{"id": "p0", "a": "x", "b": "y"}])
    f = tmp_path / "pairs.jsonl"
    f.write_text(json.dumps({"id": "n1", "input": "q", "output_a": "one", "output_b": "two", "source_a": "v1",
                             "source_b": {"candidate": "v2", "model": "m-2"}}) + "\n")
    assert cli.main(["import", str(ds_path), str(f)]) == 0
    c = open_dataset(ds_path).cases["n1"]
    assert (c.output, c.output_b, c.source_names(), c.origin_b.model) == ("one", "two", ("v1", "v2"), "m-2")
    h = tmp_path / "pairs.csv"
    h.write_text("id,input,output_a,output_b,model_a,model_b,prompt_version_b\nn2,q2,first,second,m-1,m-2,p7\n")
    assert cli.main(["import", str(ds_path), str(h)]) == 0
    c2 = open_dataset(ds_path).cases["n2"]
    assert (c2.output, c2.output_b, c2.source_names(), c2.origin_b.prompt_version) == ("first", "second", ("m-1", "m-2"), "p7")
    g = tmp_path / "single.jsonl"
    g.write_text(json.dumps({"input": "q2", "output": "only one"}) + "\n")
    assert cli.main(["import", str(ds_path), str(g)]) == 1
    err = capsys.readouterr().err
    assert "single.jsonl:1" in err and "pairwise" in err


def test_validate_reports_single_output_cases_under_a_pairwise_rubric(tmp_path: Path, capsys):
    ds_path = _workspace(tmp_path, [{"id": "p0", "a": "x", "b": "y"}])
    with open(ds_path / "cases.yaml", "a") as f:
        f.write("lonely:\n  input: q\n  output: just one\n")
    assert cli.main(["validate", str(ds_path)]) == 1
    said = capsys.readouterr()
    assert "'lonely'" in said.out + said.err
    ds = open_dataset(ds_path)
    assert any("lonely" in p.message and "pairwise" in p.message for p in ds.problems)


def test_export_then_import_keeps_both_outputs_and_origins(example: Path, monkeypatch, capsys):
    monkeypatch.chdir(example)
    out = example / "pairs.jsonl"
    assert cli.main(["export", "support-pairwise", "--format", "jsonl", "--out", str(out)]) == 0
    ds_path = _workspace(example / "w", [])
    assert cli.main(["import", str(ds_path), str(out)]) == 0
    back, src = open_dataset(ds_path), open_dataset(example / "datasets" / "support-pairwise")
    assert len(back.cases) == len(src.cases) == 11
    for cid in src.cases:
        assert back.cases[cid].model_dump() == src.cases[cid].model_dump()
    csv_out = example / "pairs.csv"
    assert cli.main(["export", "support-pairwise", "--format", "csv", "--out", str(csv_out)]) == 0
    ds2 = _workspace(example / "w2", [])
    assert cli.main(["import", str(ds2), str(csv_out)]) == 0
    again = open_dataset(ds2)
    for cid in src.cases:
        a, b = again.cases[cid], src.cases[cid]
        assert (a.output, a.output_b, a.origin_a, a.origin_b) == (b.output, b.output_b, b.origin_a, b.origin_b)
    capsys.readouterr()
    assert cli.main(["regress", "support-pairwise", "--candidate", "gpt-4o-mini-pairwise"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "winrate" in err


def test_audit_puts_inconsistent_verdicts_aside_and_will_not_mark_them(example: Path):
    from labeler.flows.audit import AuditSession

    ds = open_dataset(example / "datasets" / "support-pairwise")
    s = AuditSession(ds, "dana", "gpt-4o-mini-pairwise")
    flagged = [cid for cid in s.queue if s.inconsistent(cid)]
    assert flagged, "the shipped run has order-inconsistent verdicts"
    cid = flagged[0]
    s.select(s.queue.index(cid))
    crit = next(c for c, cv in s.judge[cid].items() if cv.inconsistent)
    s.focus = s.criteria.index(crit)
    assert "inconsistent" in s.mark(True)
    assert (cid, crit) not in ds.audits("gpt-4o-mini-pairwise")


def test_the_report_of_a_pairwise_dataset_carries_its_win_rates(example: Path):
    from labeler.report_formats import markdown
    from labeler.stats.report import build_report

    r = build_report(open_dataset(example / "datasets" / "support-pairwise"), replicates=50)
    gold_overall = next(t for t in r["win_rates"] if t["criterion"] == "overall" and t["by"] == "gold")
    assert {s["source"] for s in gold_overall["sources"]} == {"golden", "summarizer-v2"}
    assert "## Win rates (pairwise)" in markdown(r)
    assert {b["annotator"] for b in r["human_position_bias"]} == {"alice", "bob", "chen"} and "position bias" in markdown(r)
    assert build_report(open_dataset(example / "datasets" / "support-summary"), replicates=50)["win_rates"] is None


def test_pair_in_one_step_makes_a_pairwise_rubric_from_the_source(example: Path, monkeypatch, capsys):
    monkeypatch.chdir(example)
    assert cli.main(["pair", "support-summary", "--a", "golden", "--b", "summarizer-v2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["into"] == "support-summary-golden-vs-summarizer-v2" and out["rubric_created"] and out["added"] == 11
    made = load_rubric_file(example / "rubrics" / "support-summary-pairwise" / "v1.yaml")
    src = load_rubric_file(example / "rubrics" / "support-summary" / "v2.yaml")
    assert made.pairwise and list(made.criteria) == list(src.criteria)
    assert "{output_1}" in (example / "rubrics" / "support-summary-pairwise" / "judge.md").read_text()
    assert cli.main(["validate"]) == 0
    capsys.readouterr()
    assert cli.main(["pair", "support-summary", "--a", "golden", "--b", "summarizer-v2", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["added"] == 0 and not again["rubric_created"]


def test_a_judge_answering_a_or_b_means_the_output_shown_first_or_second():
    from labeler.judge.run import parse_answer

    rubric = Rubric.model_validate({"name": "r", "version": 1, "criteria": {"c": {"question": "?", "scale": {
        "type": "pairwise", "points": {"A": {"label": "a"}, "B": {"label": "b"}, "tie": {"label": "t"}}}}}})
    assert parse_answer('{"c": {"value": "A"}}', rubric, "BA")["c"].value == "B"
    assert parse_answer('{"c": {"value": "second"}}', rubric, "BA")["c"].value == "A"
    assert parse_answer('{"c": {"value": "tie"}}', rubric, "BA")["c"].value == "tie"
    with pytest.raises(ValueError, match="not on the scale"):
        parse_answer('{"c": {"value": "both_bad"}}', rubric, "AB")


def test_the_judge_command_reports_position_consistency(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    ds_path = _workspace(tmp_path, [{"id": f"p{i}", "a": f"a{i}", "b": f"b{i}"} for i in range(4)])
    with FakeOpenAI(answerer=lambda prompt, allowed: {c: "first" for c in allowed}) as server:
        assert cli.main(["judge", str(ds_path), "--model", "m", "--base-url", server.base_url, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # 0 of 4: no resample moves it, so the interval is the exact binomial reach [0, 1 - 0.025^(1/4)] (as calibrate's)
    assert out["position_consistency"]["correct"] == {"rate": 0.0, "verdicts": 4,
                                                      "ci95": {"low": 0.0, "high": round(1 - 0.025 ** (1 / 4), 4)}}
    with FakeOpenAI() as server:  # the default answer is the last allowed value: the same in both orders
        assert cli.main(["judge", str(ds_path), "--model", "m", "--base-url", server.base_url, "--run", "r2"]) == 0
    said = capsys.readouterr().out
    assert "position consistency correct: both orders agree on 100% [40%, 100%] of 4 cases" in said
    assert "(key" not in said and "sk-test" not in "".join(p.read_text() for p in ds_path.rglob("*.yaml"))


def test_a_hand_written_inconsistent_verdict_never_counts_its_value(tmp_path: Path):
    ds_path = _workspace(tmp_path, [{"id": "p0", "a": "x", "b": "y"}])
    run = ds_path / "judge" / "hand"
    run.mkdir(parents=True)
    rubric = load_rubric_file(tmp_path / "rubrics" / "duel" / "v1.yaml")
    (run / "run.yaml").write_text(f"name: hand\nmodel: m\nrubric: duel\nrubric_version: 1\nrubric_hash: {rubric.content_hash()}\n")
    (run / "verdicts.yaml").write_text('- {"case": "p0", "values": {"correct": {"value": "A", "inconsistent": true, '
                                       '"orders": {"AB": "A", "BA": "B"}}, "concise": {"value": "tie", "orders": {"AB": "tie", "BA": "tie"}}}}\n')
    _, verdicts = open_dataset(ds_path).judge_run("hand")
    assert verdicts.first_values() == {"p0": {"concise": "tie"}}
    assert verdicts.position_counts() == {"correct": (0, 1), "concise": (1, 1)}


def test_people_who_always_pick_the_first_output_show_their_position_bias(tmp_path: Path):
    from labeler.stats.winrate import human_position_bias

    ds_path = _workspace(tmp_path, [{"id": f"p{i}", "a": f"a{i}", "b": f"b{i}"} for i in range(10)])
    s = LabelSession(open_dataset(ds_path), "lazy")
    for _ in range(10):
        s.press("1")  # correct: whatever is shown first
        s.press("3")  # concise: tie (not decisive, not counted)
    t = LabelSession(open_dataset(ds_path), "fair")
    for _ in range(10):
        t.set_value("A")  # always the same version, wherever it is shown
        t.set_value("A")
    bias = {b.annotator: b for b in human_position_bias(open_dataset(ds_path))}
    assert (bias["lazy"].first, bias["lazy"].decisive) == (10, 10)
    fair_first = sum(shown_order("fair", f"p{i}") == "AB" for i in range(10)) * 2
    assert (bias["fair"].first, bias["fair"].decisive) == (fair_first, 20)
    # 10 of 10 labels picked first: no resample moves it, so the interval reaches as far as unseen labels could
    # (the exact binomial bound over 10 labels), not [1, 1]
    assert bias["lazy"].as_dict()["ci95"] == [round(0.025 ** (1 / 10), 4), 1.0]


async def test_the_dashboard_of_a_pairwise_dataset_plots_win_rates(example: Path):
    ds = open_dataset(example / "datasets" / "support-pairwise")
    app = LabelerApp(ds, identity=Identity("lead"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+d")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        wins = screen.data["wins"]["overall"]
        assert wins["sources"] == ["golden", "summarizer-v2"] and set(wins["series"]) == {"gold", "gpt-4o-mini-pairwise"}
        assert abs(wins["series"]["gold"]["golden"][0] - 7 / 9) < 1e-9
        screen.query_one("#dash-tabs").active = "tab-wins"
        await pilot.pause()
        assert screen.query_one("#plot-wins").display


def test_what_differs_marks_only_the_words_one_output_has():
    from labeler.ui.widgets.case_view import DIFF_STYLE, marked_pair

    a, b = marked_pair("refund the [bold]charge[/bold] today\nthanks", "refund the charge\x1b[2J today\nthanks")
    marked = lambda t: [t.plain[s.start:s.end] for s in t.spans if s.style == DIFF_STYLE]  # noqa: E731
    assert marked(a) == ["[bold]charge[/bold]"] and marked(b) == ["charge␛[2J"]
    assert a.plain == "refund the [bold]charge[/bold] today\nthanks", "markup stays text, lines stay lines"
    assert marked_pair("", "x") is None and marked_pair('[{"role": "user", "content": "hi"}]', "x") is None


async def test_w_marks_the_differences_on_the_labeling_screen(tmp_path: Path):
    from labeler.ui.widgets.case_view import DIFF_STYLE

    ds_path = _workspace(tmp_path, [{"id": "p1", "a": "same words here", "b": "same words there"}])
    app = LabelerApp(open_dataset(ds_path), identity=Identity("zed"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("w")
        await pilot.pause()
        texts = [app.screen.query_one(f"#body-side-{k}").content for k in (1, 2)]
        got = sorted(t.plain[s.start:s.end] for t in texts for s in t.spans if s.style == DIFF_STYLE)
        assert got == ["here", "there"]
        await pilot.press("w")
        await pilot.pause()
        assert not any(s.style == DIFF_STYLE for k in (1, 2) for s in app.screen.query_one(f"#body-side-{k}").content.spans)


def test_bradley_terry_strengths_carry_intervals_that_match_a_plain_refit_and_narrow_with_cases():
    """Each strength has a 95% interval from resampling the group's compared cases: with many cases it
    matches a plain percentile bootstrap that refits bradley_terry on multinomially redrawn outcomes, and
    sixteen times the cases make it about four times narrower."""
    from labeler.stats.winrate import _table, strength_intervals

    small = [Matchup("x", "y", a_wins=6, b_wins=2), Matchup("y", "z", a_wins=5, b_wins=3, ties=1), Matchup("x", "z", a_wins=6, b_wins=2)]
    big = [Matchup(m.a, m.b, a_wins=16 * m.a_wins, b_wins=16 * m.b_wins, ties=16 * m.ties) for m in small]
    width = {}
    for name, ms in (("small", small), ("big", big)):
        p = dict(bradley_terry(ms))
        ci = strength_intervals(ms, 1000, 0)
        assert all(ci[s][0] <= p[s] <= ci[s][1] for s in p)
        width[name] = np.mean([ci[s][1] - ci[s][0] for s in p])
    assert 2.5 < width["small"] / width["big"] < 6
    # the reference: outcomes redrawn as counts of (matchup, who won) cells, each redraw refitted
    rng = np.random.default_rng(1)
    cells = [(i, k) for i, m in enumerate(big) for k in range(3)]
    counts = np.array([(big[i].a_wins, big[i].b_wins, big[i].ties)[k] for i, k in cells], dtype=float)
    refs = []
    for draw in rng.multinomial(int(counts.sum()), counts / counts.sum(), size=2000):
        got = {c: x for c, x in zip(cells, draw)}
        redrawn = [Matchup(m.a, m.b, got[(i, 0)], got[(i, 1)], got[(i, 2)]) for i, m in enumerate(big)]
        refs.append(dict(bradley_terry(redrawn)))
    ci = strength_intervals(big, 2000, 0)
    for s in ("x", "y", "z"):  # Monte-Carlo error of a 2.5% quantile from 2000 draws: about 0.004 here
        lo, hi = np.percentile([r[s] for r in refs], [2.5, 97.5])
        assert ci[s][0] == pytest.approx(lo, abs=0.02) and ci[s][1] == pytest.approx(hi, abs=0.02)
    # through the table: JSON and the ranking both carry them
    t = _table("c", "gold", "all", ["x", "y", "z"], np.array([0, 0, 1]), np.array([1, 2, 2]), np.array([0, 0, 1]), np.zeros(3, bool))
    for row in t.as_dict()["bradley_terry"]:
        assert row["ci95"] is not None and row["ci95"][0] <= row["strength"] <= row["ci95"][1]


def test_the_position_consistency_rate_carries_its_interval(tmp_path: Path, monkeypatch, capsys):
    """0 of 6 verdicts consistent: no resample can show anything else, so the interval is the exact binomial
    one, [0, 1 - 0.025^(1/6)] = [0, 0.459]; in calibrate's JSON and its table."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    ds_path = _workspace(tmp_path, [{"id": f"p{i}", "a": f"a{i}", "b": f"b{i}"} for i in range(6)])
    _labels(ds_path, "ann", {f"p{i}": {"correct": "A", "concise": "A"} for i in range(6)})
    _labels(ds_path, "bob", {f"p{i}": {"correct": "A", "concise": "A"} for i in range(6)})
    _judge(ds_path, lambda prompt, allowed: {c: "first" for c in allowed})
    monkeypatch.chdir(tmp_path)
    assert cli.main(["calibrate", str(ds_path), "--run", "j1", "--json"]) in (0, 1)
    out = json.loads(capsys.readouterr().out)
    rows = [x for x in _walk(out) if isinstance(x, dict) and "position_consistency" in x]
    pc = rows[0]["position_consistency"]
    assert pc["rate"] == 0.0 and pc["n"] == 6 and pc["ci95"] == {"low": 0.0, "high": round(1 - 0.025 ** (1 / 6), 4)}
    monkeypatch.setenv("COLUMNS", "200")  # the whole cell on one line
    cli.main(["calibrate", str(ds_path), "--run", "j1"])
    assert "0% [0%, 46%] of 6" in capsys.readouterr().out


def _walk(x):
    """Every dict and list inside a JSON value, depth first."""
    yield x
    for v in (x.values() if isinstance(x, dict) else x if isinstance(x, list) else ()):
        yield from _walk(v)


def test_judge_status_gives_the_pooled_order_consistency_its_interval_resampling_verdicts(tmp_path: Path, monkeypatch, capsys):
    """Each of 4 verdicts is consistent on one criterion of two: pooled 50%, and since every verdict is
    exactly half, no resample of verdicts moves it: the interval is the binomial reach of unseen verdicts
    over 4 of them, 0.5 -+ 0.5 (1 - 0.025^(1/4)). Resampling the 8 criteria as if independent would
    give a bootstrap spread instead."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    ds_path = _workspace(tmp_path, [{"id": f"p{i}", "a": f"a{i}", "b": f"b{i}"} for i in range(4)])
    _judge(ds_path, lambda prompt, allowed: {"correct": "first", "concise": allowed["concise"][-1]})
    assert cli.main(["judge", "status", str(ds_path), "--json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    q = 1 - 0.025 ** (1 / 4)
    assert row["position_consistency"] == 0.5 and row["position_consistency_verdicts"] == 4
    assert row["position_consistency_ci95"] == {"low": round(0.5 - 0.5 * q, 4), "high": round(0.5 + 0.5 * q, 4)}
    monkeypatch.setenv("COLUMNS", "200")
    assert cli.main(["judge", "status", str(ds_path)]) == 0
    assert "50% [20%, 80%] of 4" in capsys.readouterr().out


def test_calibrate_on_lower_gates_position_consistency_on_its_lower_bound_too(tmp_path: Path, monkeypatch, capsys):
    """6 of 6 verdicts consistent: 100% on the point, but 6 verdicts cannot rule out that 1 - 0.025^(1/6) = 46%
    of them would flip: with --on lower, --min 0.8 fails on position consistency (it passed on the point
    whatever --on said)."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    ds_path = _workspace(tmp_path, [{"id": f"p{i}", "a": f"a{i}", "b": f"b{i}"} for i in range(6)])
    _, _, ds = _judge(ds_path, lambda prompt, allowed: {c: "tie" for c in allowed})
    cal = calibrate(ds, ds.judge_run("j1")[1])
    position = lambda on: [f for f in below_bar(cal, 0.8, on) if "position consistency" in f]  # noqa: E731
    assert position("point") == []
    assert position("lower") == [f"{c}: position consistency 100.0% [54.1%, 100.0%], lower 95% bound < 80% "
                                 "(0 of 6 pairwise verdicts changed with the order)" for c in ("correct", "concise")]
    monkeypatch.chdir(tmp_path)
    assert cli.main(["calibrate", str(ds_path), "--run", "j1", "--min", "0.8", "--on", "lower"]) == 1
    assert "correct: position consistency 100.0% [54.1%, 100.0%], lower 95% bound < 80%" in capsys.readouterr().err
