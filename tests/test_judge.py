"""The judge end to end: the real openai client over real HTTP to a local OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fake_openai import FakeOpenAI
from labeler.judge.run import (JudgeConfig, compare_runs, parse_answer, render_prompt, run_async, self_consistency,
                           verdict_schema)
from labeler.truth.logs import read_log
from labeler.truth.models import Case
from labeler.truth.store import open_dataset

TINY_VALUES = {"correct": [0, 1, 2], "polite": ["pass", "fail"], "topic": ["billing", "tech", "other"]}


@pytest.fixture
def judged(tiny: Path, monkeypatch) -> Path:
    """The tiny dataset with cases steering the fake server, and an API key in the environment."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-never-stored")
    ds = open_dataset(tiny / "datasets" / "tiny")
    ds.add_cases([
        Case(id="m429", input="@@429@@ please", output="x"),
        Case(id="m500", input="@@500@@ please", output="x"),
        Case(id="mgarbage", input="@@garbage@@", output="x"),
        Case(id="mgarbage-once", input="@@garbage_once@@", output="x"),
        Case(id="moutside", input="@@outside@@", output="x"),
        Case(id="mpick0", input="@@pick0@@", output="x", reference="ref answer", context="ctx"),
    ])
    return tiny / "datasets" / "tiny"


def _run(ds_path: Path, server: FakeOpenAI, **kw) -> tuple:
    ds = open_dataset(ds_path)
    cfg = JudgeConfig(model="fake-1", run=kw.pop("run", "r1"), base_url=server.base_url, timeout=kw.pop("timeout", 10),
                      retries=kw.pop("retries", 2), **kw)
    summary = asyncio.run(run_async(ds, cfg))
    return summary, open_dataset(ds_path).judge_run(cfg.run)


def test_prompt_and_schema_come_from_the_rubric(tiny: Path):
    ds = open_dataset(tiny / "datasets" / "tiny")
    rubric = ds.rubric()
    case = Case(id="c", input="{output} {{not a field}}", output="OUT", reference="REF")
    p = render_prompt("T={task}\n{criteria}\nI={input}\nO={output}{reference}{context} {{json}}", rubric, case)
    assert "I={output} {{not a field}}" in p  # case text is never re-read as template syntax
    assert "O=OUT" in p and "REFERENCE ANSWER ---\nREF" in p and "{json}" in p
    assert '- "pass": polite' in p and "## correct: Is it correct?" in p
    schema = verdict_schema(rubric)
    assert schema["properties"]["correct"]["properties"]["value"] == {"type": "integer", "enum": [0, 1, 2]}
    assert schema["properties"]["polite"]["properties"]["value"]["enum"] == ["pass", "fail"]
    assert schema["required"] == ["correct", "polite", "topic"]
    with pytest.raises(ValueError, match="correct: 7 is not on the scale"):
        parse_answer('{"correct": {"value": 7}, "polite": {"value": "pass"}, "topic": {"value": "tech"}}', rubric)
    with pytest.raises(ValueError, match="not JSON"):
        parse_answer("nope", rubric)
    ok = parse_answer('```json\n{"correct": {"value": "2", "rationale": "r"}, "polite": {"value": "pass"}, "topic": {"value": "tech"}}\n```', rubric)
    assert ok["correct"].value == 2


def test_verdicts_errors_resume_and_no_key_on_disk(judged: Path):
    with FakeOpenAI() as server:
        summary, (meta, verdicts) = _run(judged, server)
        assert summary.done == 9 and dict(summary.errors) == {"invalid_answer": 2}
        assert summary.tokens_reported and summary.tokens > 0
        # verdicts on disk are what the server answered
        assert {c: v.value for c, v in verdicts["t1"][0].values.items()} == {"correct": 2, "polite": "fail", "topic": "other"}
        assert {c: v.value for c, v in verdicts["mpick0"][0].values.items()} == {"correct": 0, "polite": "pass", "topic": "billing"}
        assert verdicts["t1"][0].values["correct"].rationale == "server picked 2"
        assert verdicts["mgarbage-once"][0].error is None  # the re-ask fixed it
        g = verdicts["mgarbage"][0]
        assert g.error == "invalid_answer" and "not json" in g.raw
        assert verdicts["moutside"][0].error == "invalid_answer"
        assert meta.model == "fake-1" and meta.endpoint_host.startswith("127.0.0.1") and meta.finished is not None
        assert meta.prompt_hash and meta.rubric_hash == open_dataset(judged).rubric().content_hash()
        calls = server.total
        # resume: finished cases are skipped with zero calls; only the two errors are asked again
        summary2, _ = _run(judged, server)
        assert summary2.skipped == 9 and server.total - calls == 2 * 2  # the two errors: asked and re-asked again
    for p in judged.rglob("*"):
        if p.is_file():
            assert "sk-test-never-stored" not in p.read_text(errors="ignore")


def test_timeouts_and_server_errors_become_recorded_errors(judged: Path):
    ds = open_dataset(judged)
    ds.add_cases([Case(id="mhang", input="@@hang@@", output="x"), Case(id="m500always", input="@@500always@@", output="x"),
                  Case(id="m429always", input="@@429always@@", output="x")])
    with FakeOpenAI() as server:
        t0 = time.perf_counter()
        summary, (_, verdicts) = _run(judged, server, timeout=1, retries=1, cases="mhang,m500always,m429always,t1")
        assert time.perf_counter() - t0 < 20
    assert verdicts["mhang"][0].error == "timeout"
    assert verdicts["m500always"][0].error == "http_500"
    assert verdicts["m429always"][0].error == "rate_limited"
    assert verdicts["t1"][0].error is None and summary.done == 1
    assert read_log(judged / "judge" / "r1" / "verdicts.yaml").torn_tail is None


def test_fallback_without_structured_output(judged: Path):
    with FakeOpenAI(criteria=TINY_VALUES, structured=False) as server:
        summary, (meta, verdicts) = _run(judged, server, cases="t1,t2")
    assert summary.done == 2 and not summary.structured
    assert meta.settings["structured_output"] is False
    assert verdicts["t2"][0].values["topic"].value == "other"


def test_repeat_self_consistency_and_compare(judged: Path):
    with FakeOpenAI() as server:
        _run(judged, server, run="a", cases="t*", repeat=3, temperature=0.7)
        _run(judged, server, run="b", cases="t*,mpick0")
    ds = open_dataset(judged)
    _, va = ds.judge_run("a")
    assert all(len(v) == 3 for v in va.values())
    sc = self_consistency(va, ds.rubric())
    assert sc["correct"] == (1.0, 5)
    _, vb = ds.judge_run("b")
    comp = {c.criterion: c for c in compare_runs(va, vb, ds.rubric())}
    assert comp["correct"].agreement == 1.0 and comp["correct"].n == 5


def test_a_run_name_cannot_silently_change_model(judged: Path):
    with FakeOpenAI() as server:
        _run(judged, server, cases="t1")
        ds = open_dataset(judged)
        cfg = JudgeConfig(model="other-model", run="r1", base_url=server.base_url)
        from labeler.errors import LabelerError

        with pytest.raises(LabelerError, match="was made with model 'fake-1'"):
            asyncio.run(run_async(ds, cfg))


def test_cli_sigint_mid_run_leaves_a_valid_file_and_resume_finishes(judged: Path):
    ds = open_dataset(judged)
    ds.add_cases([Case(id=f"bulk{i:03d}", input=f"bulk {i}", output="y") for i in range(60)])
    with FakeOpenAI(delay=0.1) as server:
        env = {**os.environ, "OPENAI_API_KEY": "sk-x"}
        cmd = [sys.executable, "-m", "labeler", "judge", str(judged), "--model", "fake-1", "--run", "big",
               "--base-url", server.base_url, "--concurrency", "2", "--cases", "bulk*", "--json"]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        path = judged / "judge" / "big" / "verdicts.yaml"
        deadline = time.time() + 30
        while time.time() < deadline and (not path.exists() or len(read_log(path).records) < 5):
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert json.loads(out)["interrupted"] is True
        read = read_log(path)
        assert read.torn_tail is None and 5 <= len(read.records) < 60
        first = len(read.records)
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        summary = json.loads(r.stdout)
        assert summary["skipped_cached"] == first and summary["done"] == 60 - first
    assert len(read_log(path).records) == 60


def test_batch_round_trip(judged: Path):
    with FakeOpenAI() as server:
        env = {**os.environ, "OPENAI_API_KEY": "sk-x"}
        base = [sys.executable, "-m", "labeler", "judge", str(judged), "--model", "fake-1", "--run", "bat",
                "--base-url", server.base_url, "--batch", "--cases", "t*"]
        r = subprocess.run(base, env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "submitted batch" in r.stdout, r.stderr
        st = subprocess.run([sys.executable, "-m", "labeler", "judge", "status", str(judged), "--json", "--base-url", server.base_url],
                            env=env, capture_output=True, text=True, timeout=60)
        rows = {x["run"]: x for x in json.loads(st.stdout)}
        assert rows["bat"]["batch"]["status"] in ("validating", "in_progress") and not rows["bat"]["batch"]["collected"]
        r = subprocess.run(base + ["--wait", "10", "--poll", "0.1", "--json"], env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["done"] == 5
    _, verdicts = open_dataset(judged).judge_run("bat")
    assert {c: v.value for c, v in verdicts["t3"][0].values.items()} == {"correct": 2, "polite": "fail", "topic": "other"}
