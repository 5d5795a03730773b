"""Tests that pin promises hand-made mutants showed were unpinned (issue 28): durable appends (write,
fsync, return), ties and both-bad credited to both sides, adjudicated gold in win tables, the labels
count, gate and band boundaries, calibration warnings, and the test fixture kept in step with the shipped
example."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from labeler.stats.agreement import Coefficient, CriterionReport, Ratings, criterion_report, landis_koch
from labeler.stats.calibrate import Calibration, below_bar
from labeler.stats.numbers import Group, check_gates, gold
from labeler.stats.winrate import _table, win_tables
from labeler.truth.logs import LogWriter
from labeler.truth.models import Criterion
from labeler.dataset import open_dataset

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "example"


def test_the_test_fixture_is_a_byte_copy_of_the_shipped_example():
    """tests/fixtures/example stands in for datasets/ and rubrics/: an edit to one must reach the other."""
    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
                if p.is_file() and ".cache" not in p.relative_to(root).parts}

    for part in ("datasets", "rubrics"):
        shipped, fixture = files(ROOT / part), files(FIXTURE / part)
        assert sorted(shipped) == sorted(fixture), f"{part}: files differ; copy {part}/ to tests/fixtures/example/{part}/"
        changed = [k for k in shipped if shipped[k] != fixture[k]]
        assert not changed, f"{part}: {changed} differ; copy {part}/ to tests/fixtures/example/{part}/"


# ---------------------------------------------------------------- durable when it returns


def _spy(monkeypatch) -> list[tuple[str, str]]:
    """Record every os.write and os.fsync with the file it touched, in order."""
    events: list[tuple[str, str]] = []

    def name(fd: int) -> str:
        return "<dir>" if stat.S_ISDIR(os.fstat(fd).st_mode) else os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))

    real_write, real_fsync = os.write, os.fsync

    def write(fd, data):
        events.append(("write", name(fd)))
        return real_write(fd, data)

    def fsync(fd):
        events.append(("fsync", name(fd)))
        return real_fsync(fd)

    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(os, "fsync", fsync)
    return events


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="names open files through /proc")
def test_an_append_is_written_then_fsynced_before_it_returns(tmp_path, monkeypatch):
    log = tmp_path / "labels" / "ann.yaml"
    events = _spy(monkeypatch)
    LogWriter(log, "labels of ann").append({"case": "c1", "values": {"x": 1}})
    # a new file: the bytes, then their fsync, then the folder's fsync (the new name is durable too)
    assert events == [("write", "ann.yaml"), ("fsync", "ann.yaml"), ("fsync", "<dir>")]
    events.clear()
    LogWriter(log, "labels of ann").append({"case": "c2", "values": {"x": 2}})
    assert events == [("write", "ann.yaml"), ("fsync", "ann.yaml")]
    assert [x[:16] for x in log.read_text().splitlines() if x.startswith("- ")] == ['- {"case": "c1",', '- {"case": "c2",']


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="names open files through /proc")
def test_a_torn_tail_is_set_aside_durably_before_the_next_append(tmp_path, monkeypatch):
    log = tmp_path / "ann.yaml"
    log.write_text('# labels\n- {"case": "c1", "values": {"x": 1}}\n- {"case": "c2", "val')
    events = _spy(monkeypatch)
    LogWriter(log, "labels").append({"case": "c3", "values": {"x": 3}})
    fsynced = [f for e, f in events if e == "fsync"]
    # the torn bytes are kept (and synced) before the log is cut, and the cut is synced before the append
    assert fsynced == ["ann.yaml.torn", "ann.yaml", "ann.yaml"]
    assert events[-2:] == [("write", "ann.yaml"), ("fsync", "ann.yaml")]
    assert (tmp_path / "ann.yaml.torn").read_text() == '- {"case": "c2", "val\n'
    assert log.read_text().endswith('"c1", "values": {"x": 1}}\n- {"case": "c3", "values": {"x": 3}}\n')


# ---------------------------------------------------------------- win tables


def test_ties_and_both_bad_count_for_both_sides():
    # case 1: s0 (A) vs s1 (B), a tie; case 2: s1 (A) vs s0 (B), both bad; case 3: s0 (A) beats s1 (B)
    t = _table("c", "gold", "all", ["s0", "s1"], np.array([0, 1, 0]), np.array([1, 0, 1]), np.array([2, 3, 0]), np.zeros(3, bool))
    s0, s1 = t.sources["s0"], t.sources["s1"]
    assert (s0.wins, s0.losses, s0.ties, s0.both_bad) == (1, 0, 1, 1)
    assert (s1.wins, s1.losses, s1.ties, s1.both_bad) == (0, 1, 1, 1)
    m = t.matchups[("s0", "s1")]
    assert (m.a_wins, m.b_wins, m.ties, m.both_bad) == (1, 0, 1, 1)


def test_win_tables_use_the_leads_gold_over_the_annotators_consensus(example: Path):
    path = example / "datasets" / "support-pairwise"
    ds = open_dataset(path)
    g = gold(ds)
    crit, case = next((c, cid) for cid, per in g.items() for c, v in per.items() if v.source == "consensus" and v.value == "A")
    src_a, src_b = ds.cases.fields[ds.cases.index[case]]["sources"]

    def record(d, source):
        return next(t for t in win_tables(d) if t.criterion == crit and t.by == "gold").sources[source]

    before_a, before_b = record(ds, src_a), record(ds, src_b)
    with open(path / "adjudications" / "zed.yaml", "a") as f:  # a lead says B, against everyone's A
        f.write("- " + json.dumps({"case": case, "rubric": ds.config.rubric_version, "gold": {crit: "B"},
                                   "at": "2030-01-01T00:00:00Z"}) + "\n")
    ds = open_dataset(path)
    after_a, after_b = record(ds, src_a), record(ds, src_b)
    assert (after_a.wins, after_a.losses) == (before_a.wins - 1, before_a.losses + 1)
    assert (after_b.wins, after_b.losses) == (before_b.wins + 1, before_b.losses - 1)


# ---------------------------------------------------------------- counts, gates and bands


def _binary() -> Criterion:
    return Criterion.model_validate({"question": "q", "scale": {"type": "binary", "points": {"pass": {"label": "p"}, "fail": {"label": "f"}}}})


def test_the_labels_count_leaves_out_empty_cells():
    r = Ratings.build("x", _binary(), {"a": {"c1": "pass", "c2": "fail"}, "b": {"c1": "pass"}, "c": {"c3": "fail"}},
                      ["c1", "c2", "c3", "c4"])
    assert criterion_report(r).labels == 4  # 3 raters x 4 cases = 12 cells, 4 of them labeled


def _report(alpha: float, pct: float) -> CriterionReport:
    return CriterionReport("x", "binary", "nominal", Coefficient(alpha, 20), Coefficient(pct, 20, chance_corrected=False), 40)


def test_gates_pass_at_the_bar_and_fail_just_under_it():
    at = Group("g", "g", [_report(0.8, 0.9)])
    assert check_gates(at, 0.8, 0.9) == []
    under = Group("g", "g", [_report(0.7999, 0.8999)])
    assert [f.what.split()[0] for f in check_gates(under, 0.8, 0.9)] == ["alpha", "agreement"]
    cal = Calibration("x", ["pass", "fail"], Coefficient(0.8, 10, chance_corrected=False), Coefficient(0.5, 10), [[0, 0], [0, 0]])
    assert below_bar([cal], 0.8) == []
    cal.judge_percent = Coefficient(0.7999, 10, chance_corrected=False)
    assert below_bar([cal], 0.8) and "< 80%" in below_bar([cal], 0.8)[0]


def test_gates_on_the_lower_bound_pass_at_the_bar_and_fail_under_it_or_without_one():
    from labeler.stats.bootstrap import Interval

    def failures(alpha_low, pct_low):
        ci = {"x": {"alpha": Interval(alpha_low, 0.95, 100), "percent": Interval(pct_low, 0.99, 100)}}
        return [f.what.split()[0] for f in check_gates(Group("g", "g", [_report(0.9, 0.95)]), 0.8, 0.9, on="lower", intervals=ci)]

    assert failures(0.8, 0.9) == []  # the lower bounds sit on the bars: pass
    assert failures(0.7999, 0.8999) == ["alpha", "agreement"]
    assert failures(None, 0.95) == ["alpha"]  # no lower bound is no evidence: fail
    assert [f.what for f in check_gates(Group("g", "g", [_report(0.9, 0.95)]), 0.8, None, on="lower")] == [
        "alpha has no interval, gate 0.80 on the lower bound"]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="names open files through /proc")
def test_a_last_line_without_its_newline_gets_one_durably_before_the_next_append(tmp_path, monkeypatch):
    log = tmp_path / "ann.yaml"
    log.write_text('# labels\n- {"case": "c1", "values": {"x": 1}}')  # a whole record, its newline never written
    events = _spy(monkeypatch)
    LogWriter(log, "labels").append({"case": "c2", "values": {"x": 2}})
    # the newline is synced before the append, then the append is written and synced; nothing is set aside
    assert [f for e, f in events if e == "fsync"] == ["ann.yaml", "ann.yaml"]
    assert events[-2:] == [("write", "ann.yaml"), ("fsync", "ann.yaml")] and not (tmp_path / "ann.yaml.torn").exists()
    assert log.read_text() == '# labels\n- {"case": "c1", "values": {"x": 1}}\n- {"case": "c2", "values": {"x": 2}}\n'


@pytest.mark.parametrize("x, band", [(-0.0001, "poor"), (0.0, "slight"), (0.2, "slight"), (0.2001, "fair"), (0.4, "fair"),
                                     (0.4001, "moderate"), (0.6, "moderate"), (0.6001, "substantial"), (0.8, "substantial"),
                                     (0.8001, "almost perfect"), (1.0, "almost perfect"), (None, "undefined")])
def test_landis_koch_band_edges(x, band):
    assert landis_koch(x) == band


# ---------------------------------------------------------------- calibration warnings (regress)


def _judge_run(ds: Path, name: str, model: str, polite: str | list[str], candidate: str | None = None) -> None:
    run = ds / "judge" / name
    run.mkdir(parents=True)
    (run / "run.yaml").write_text(f"name: {name}\nmodel: {model}\nrubric: tiny\nrubric_version: 1\n"
                                  + (f"candidate: {candidate}\n" if candidate else ""))
    with open(run / "verdicts.yaml", "w") as f:
        for i in range(1, 6):
            vals = {"correct": 2, "topic": "tech", "polite": polite if isinstance(polite, str) else polite[i - 1]}
            f.write("- " + json.dumps({"case": f"t{i}", "values": {k: {"value": v} for k, v in vals.items()}}) + "\n")


def _two_people_agree_on_everything(tiny: Path) -> Path:
    """Annotators a and b give t1-t5 the same values (polite: pass), so gold is "pass" on all five."""
    ds = tiny / "datasets" / "tiny"
    (ds / "labels").mkdir(exist_ok=True)
    for who in ("a", "b"):
        with open(ds / "labels" / f"{who}.yaml", "a") as f:
            for i in range(1, 6):
                f.write("- " + json.dumps({"case": f"t{i}", "rubric": 1, "values": {"correct": 2, "topic": "tech", "polite": "pass"}}) + "\n")
    return ds


def test_calibration_warnings_name_an_uncalibrated_or_a_weak_judge(tiny: Path):
    from labeler.stats.regress import calibration_warnings

    ds = _two_people_agree_on_everything(tiny)
    _judge_run(ds, "new", "m", "pass", candidate="v2")
    [w] = calibration_warnings(open_dataset(ds), "new")
    assert "has no run on the golden outputs" in w
    _judge_run(ds, "gold-run", "m", "pass")
    assert calibration_warnings(open_dataset(ds), "new") == []
    _judge_run(ds, "weak", "w", "fail")
    [w] = calibration_warnings(open_dataset(ds), "weak")
    assert "under 80% on polite 0%" in w


def test_a_judge_exactly_at_the_calibration_bar_is_not_warned_about(tiny: Path):
    from labeler.stats.regress import calibration_warnings

    ds = _two_people_agree_on_everything(tiny)
    _judge_run(ds, "edge", "e", ["pass", "pass", "pass", "pass", "fail"])  # 4 of 5 with gold: 80%, the bar
    assert calibration_warnings(open_dataset(ds), "edge") == []
    assert "under 90% on polite 80%" in calibration_warnings(open_dataset(ds), "edge", bar=0.9)[0]



def test_a_judge_with_no_gold_to_compare_is_said_to_have_none(tiny: Path):
    """No labels yet: the judge's agreement with gold is not low, it is unmeasured; the warning says so
    instead of "agrees with gold under 80% on polite undefined"."""
    from labeler.stats.regress import calibration_warnings

    ds = tiny / "datasets" / "tiny"
    _judge_run(ds, "cal", "m", "pass")
    [w] = calibration_warnings(open_dataset(ds), "cal")
    assert "undefined" not in w and "under 80%" not in w
    assert "no case with both a verdict and gold on correct, polite, topic" in w
