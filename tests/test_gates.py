"""Every CI gate, on data built on each side of its bar: exit 0, then exit 1 naming what failed; a gate
that names nothing real, or that cannot be evaluated, is exit 2 with the reason, never a pass."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from labeler import cli

N = 60
GOLDEN = 40
"""Cases t00..t59: the first 40 are tier golden, the rest adversarial; none is tier regression."""


def _log(path: Path, records) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        for r in records:
            f.write("- " + json.dumps(r) + "\n")


def _truth(i: int) -> dict:
    return {"correct": i % 3, "polite": "pass" if i % 2 else "fail", "topic": ("billing", "tech", "other")[i % 3]}


def _worse(v: dict) -> dict:
    return {**v, "correct": 0, "polite": "fail"}


def _run(ds: Path, name: str, values: dict, model: str = "m", candidate: str | None = None) -> None:
    folder = ds / "judge" / name
    shutil.rmtree(folder, ignore_errors=True)  # built again on top: the run is this one
    folder.mkdir(parents=True)
    (folder / "run.yaml").write_text(f"name: {name}\nmodel: {model}\nrubric: tiny\nrubric_version: 1\nprompt_hash: p\n"
                                     + (f"candidate: {candidate}\n" if candidate else ""))
    _log(folder / "verdicts.yaml", ({"case": c, "values": {k: {"value": x, "rationale": "r"} for k, x in v.items()}}
                                    for c, v in values.items()))


def build(root: Path, *, split: int = 0, judge_wrong: int = 0, drop: int = 0) -> Path:
    """Two annotators who disagree on `split` cases (correct and polite), a judge run `cal` on the golden
    outputs wrong on `judge_wrong` cases (correct), and a candidate run `cand` of the same judge that is
    worse than `base` (the same judge on the golden outputs) on `drop` cases, all in tier golden."""
    ds = root / "datasets" / "tiny"
    (ds / "cases.yaml").write_text("# cases\n" + "".join(
        f"t{i:02d}:\n  input: question {i}\n  output: answer {i}\n  tier: {'golden' if i < GOLDEN else 'adversarial'}\n"
        for i in range(N)))
    _log(ds / "labels" / "ann.yaml", ({"case": f"t{i:02d}", "rubric": 1, "values": _truth(i)} for i in range(N)))
    _log(ds / "labels" / "ben.yaml", ({"case": f"t{i:02d}", "rubric": 1, "values": {
        **_truth(i), **({"correct": (i + 1) % 3, "polite": "fail" if i % 2 else "pass"} if i < split else {})}}
        for i in range(N)))
    _run(ds, "cal", {f"t{i:02d}": {**_truth(i), **({"correct": (i + 1) % 3} if i < judge_wrong else {})} for i in range(N)})
    _run(ds, "base", {f"t{i:02d}": _truth(i) for i in range(N)})
    _run(ds, "cand", {f"t{i:02d}": _worse(_truth(i)) if i < drop else _truth(i) for i in range(N)}, candidate="v2")
    return root


@pytest.fixture
def ws(tiny: Path, monkeypatch):
    monkeypatch.chdir(tiny)

    def make(**kw) -> Path:
        return build(tiny, **kw)
    return make


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main([*args, "--replicates", "300"])
    out, err = capsys.readouterr()
    return code, out, err


def test_agreement_min_alpha_on_each_side_of_the_bar(ws, capsys):
    ws(split=0)
    code, out, err = run(capsys, "agreement", "tiny", "--min-alpha", "0.8")
    assert code == 0 and "gates met" in out
    ws(split=15)
    code, out, err = run(capsys, "agreement", "tiny", "--min-alpha", "0.8")
    assert code == 1 and "gate failed: correct: alpha" in err and "gate failed: polite: alpha" in err and "topic" not in err


def test_agreement_min_agreement_on_each_side_of_the_bar(ws, capsys):
    ws(split=3)  # 95% of cases agree
    code, out, err = run(capsys, "agreement", "tiny", "--min-agreement", "0.9")
    assert code == 0 and "gates met" in out
    ws(split=9)  # labels appended, the last per case wins: 9 of 60 disagree, 85%
    code, out, err = run(capsys, "agreement", "tiny", "--min-agreement", "0.9")
    assert code == 1 and "gate failed: correct: agreement 85.0% < 90%" in err


def test_agreement_gate_on_the_lower_bound(ws, capsys):
    """4 of 60 split: alpha 0.9 passes a 0.85 bar on the point, not on the lower bound of its interval."""
    ws(split=4)
    code, out, err = run(capsys, "agreement", "tiny", "--min-alpha", "0.85", "--json")
    r = json.loads(out)
    crit = {c["criterion"]: c for c in r["groups"][0]["criteria"]}
    assert code == 0 and crit["correct"]["alpha"]["value"] > 0.85 and r["gates"]["on"] == "point estimate"
    low = r["intervals"]["criteria"]["correct"]["alpha"]["low"]
    assert low < 0.85
    code, out, err = run(capsys, "agreement", "tiny", "--min-alpha", "0.85", "--on", "lower")
    assert code == 1 and f"correct: alpha {crit['correct']['alpha']['value']:.3f}, lower 95% bound {low:.3f} < 0.85" in err
    assert "gates on the lower bound of the 95% interval" in out


def test_calibrate_min_on_each_side_of_the_bar(ws, capsys):
    ws(judge_wrong=0)
    code, out, err = run(capsys, "calibrate", "tiny", "--run", "cal", "--min", "0.8")
    assert code == 0 and "every criterion at or above 80%" in out
    code, out, err = run(capsys, "calibrate", "tiny", "--run", "cal", "--min", "0.9", "--on", "lower")
    assert code == 0 and "on the lower bound" in out
    ws(judge_wrong=6)  # a new workspace on top: the judge run `cal` is written again below
    code, out, err = run(capsys, "calibrate", "tiny", "--run", "cal", "--min", "0.95")
    assert code == 1 and "under the bar: correct: judge agreement 90.0% < 95%" in err and "polite" not in err
    code, out, err = run(capsys, "calibrate", "tiny", "--run", "cal", "--min", "0.85")
    assert code == 0
    code, out, err = run(capsys, "calibrate", "tiny", "--run", "cal", "--min", "0.85", "--on", "lower")
    assert code == 1 and "correct: judge agreement 90.0%, lower 95% bound" in err


@pytest.mark.parametrize("by", ["criterion", "tier", "tag", "difficulty"])
def test_regress_max_drop_is_evaluated_whatever_the_grouping(ws, capsys, by):
    ws(drop=3)  # one case worse on each of correct and polite: -1.7%, an interval that holds 0
    code, out, err = run(capsys, "regress", "tiny", "--candidate", "cand", "--max-drop", "0.01", "--by", by)
    assert code == 0 and "gates met" in out and "base: judge run base" in out


@pytest.mark.parametrize("by", ["criterion", "tier", "tag", "difficulty"])
def test_regress_max_drop_fails_whatever_the_grouping(tiny: Path, monkeypatch, capsys, by):
    monkeypatch.chdir(tiny)
    build(tiny, drop=30)  # correct -16.7%, polite -25%
    code, out, err = run(capsys, "regress", "tiny", "--candidate", "cand", "--max-drop", "0.02", "--by", by)
    assert code == 1 and "gate failed: correct: pass rate fell" in err and "gate failed: polite: pass rate fell" in err


@pytest.mark.parametrize("by", ["criterion", "tier", "tag"])
def test_regress_min_pass_is_evaluated_whatever_the_grouping(tiny: Path, monkeypatch, capsys, by):
    monkeypatch.chdir(tiny)
    build(tiny, drop=20)  # tier golden: correct 7 of 40 pass (17.5%), polite 10 of 40
    code, out, err = run(capsys, "regress", "tiny", "--candidate", "cand", "--min-pass", "golden=0.15", "--by", by)
    assert code == 0 and "gates met" in out
    code, out, err = run(capsys, "regress", "tiny", "--candidate", "cand", "--min-pass", "golden=0.2", "--by", by)
    assert code == 1 and "gate failed: correct on tier golden: pass rate 17.5% < 20% (n=40)" in err
    code, out, err = run(capsys, "regress", "tiny", "--candidate", "cand", "--min-pass", "golden=0.15", "--on", "lower")
    assert code == 1 and "correct on tier golden: pass rate 17.5%, lower 95% bound" in err


def test_a_gate_naming_nothing_real_or_unevaluable_is_a_usage_error(ws, capsys):
    ws(drop=0)
    code, out, err = run(capsys, "regress", "tiny", "--candidate", "cand", "--min-pass", "golde=0.9")
    assert code == 2 and "no tier 'golde'" in err
    code, out, err = run(capsys, "regress", "tiny", "--candidate", "cand", "--min-pass", "regression=0.5")
    assert code == 2 and "gate cannot be evaluated: --min-pass regression: no case of tier regression" in err


def test_a_drop_gate_with_no_case_scored_by_both_sides_is_a_usage_error(ws, capsys):
    root = ws(drop=0)
    _run(root / "datasets" / "tiny", "other", {"t00": {"topic": "tech"}}, candidate="v3")
    code, out, err = run(capsys, "regress", "tiny", "--candidate", "other", "--base", "base", "--max-drop", "0.01")
    assert code == 2 and "gate cannot be evaluated: --max-drop on correct: no case scored by both sides" in err


def test_regress_warns_when_the_two_sides_are_different_instruments(ws, capsys):
    ws(drop=0)
    code, out, err = run(capsys, "regress", "tiny", "--candidate", "cand", "--base", "gold", "--json")
    assert code == 0 and "base is human gold, the candidate is scored by judge m: two instruments" in err
    code, out, err = run(capsys, "regress", "tiny", "--candidate", "cand", "--json")
    r = json.loads(out)
    assert r["base"]["name"] == "base" and not any("two instruments" in w for w in r["warnings"])
    c = r["groups"][0]["criteria"]["correct"]
    assert c["pass_base_ci95"]["low"] < c["pass_base"] < c["pass_base_ci95"]["high"]


@pytest.mark.parametrize("command", [["agreement", "tiny"], ["calibrate", "tiny", "--run", "cal"],
                                     ["regress", "tiny", "--candidate", "cand"], ["report", "tiny", "--json"]])
def test_strict_fails_on_a_record_left_out(ws, capsys, command):
    root = ws(drop=0)
    assert cli.main([*command, "--strict", "--replicates", "50"]) == 0
    capsys.readouterr()
    with open(root / "datasets" / "tiny" / "labels" / "ann.yaml", "a") as f:
        f.write('- {"case": "t01", "rubric": 1, "values": {"correct": 7}}\n')  # 7 is on no point of the scale
    assert cli.main([*command, "--replicates", "50"]) == 0
    capsys.readouterr()
    assert cli.main([*command, "--strict", "--replicates", "50"]) == 1
    assert "ann.yaml:" in capsys.readouterr().err
