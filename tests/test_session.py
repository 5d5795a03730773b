"""The labeling rules without a UI: C keystrokes per case, undo, skip, previous, note, flag, stale."""

from __future__ import annotations

from pathlib import Path

from labeler.truth.logs import read_log
from labeler.flows.labeling import LabelSession
from labeler.dataset import open_dataset


def _session(tiny: Path, who: str = "ann") -> LabelSession:
    return LabelSession(open_dataset(tiny / "datasets" / "tiny"), who)


def test_three_criteria_take_three_keys_and_save(tiny: Path):
    s = _session(tiny)
    assert s.case_id == "t1"
    assert not s.press("2").saved
    assert not s.press("y").saved
    out = s.press("2")  # topic 'tech' is the 2nd category -> key 2
    assert out.saved and out.advanced and s.case_id == "t2"
    records = read_log(tiny / "datasets" / "tiny" / "labels" / "ann.yaml").records
    assert records[-1][1]["values"] == {"correct": 2, "polite": "pass", "topic": "tech"}
    assert records[-1][1]["rubric"] == 1 and records[-1][1]["seconds"] >= 0


def test_wrong_key_is_explained_not_saved(tiny: Path):
    s = _session(tiny)
    out = s.press("7")
    assert "not a value of correct" in out.message and not out.saved


def test_undo_withdraws_and_reopens(tiny: Path):
    s = _session(tiny)
    for k in "2y1":
        s.press(k)
    assert s.case_id == "t2"
    out = s.undo()
    assert s.case_id == "t1" and "undid" in out.message
    assert "t1" not in open_dataset(tiny / "datasets" / "tiny").labels.get("ann", {})
    assert s.draft.values == {"correct": 2, "polite": "pass", "topic": "billing"}
    s.press("3")  # fix the last criterion: topic other
    assert open_dataset(tiny / "datasets" / "tiny").labels["ann"]["t1"].values["topic"] == "other"


def test_skip_previous_note_and_flag(tiny: Path):
    s = _session(tiny)
    s.skip()
    assert s.case_id == "t2"
    s.previous()
    assert s.case_id == "t1"
    s.set_note("looks fine")
    s.move(1)
    s.flag_unclear("polite to whom?")
    s.move(-1)
    for k in "1n3":
        s.press(k)
    lab = open_dataset(tiny / "datasets" / "tiny").labels["ann"]["t1"]
    assert lab.note == "looks fine"
    assert [(f.kind, f.criterion, f.reason) for f in lab.flags] == [("rubric_unclear", "polite", "polite to whom?")]
    # a note on a complete label is saved at once
    s.jump("t1")
    s.set_note("changed my mind")
    assert open_dataset(tiny / "datasets" / "tiny").labels["ann"]["t1"].note == "changed my mind"


def test_reopen_resumes_and_shows_own_values(tiny: Path):
    s = _session(tiny)
    for k in "2y2":
        s.press(k)
    s2 = _session(tiny)
    assert s2.case_id == "t2"
    s2.jump("t1")
    assert s2.draft.values == {"correct": 2, "polite": "pass", "topic": "tech"}


def test_jump_and_search(tiny: Path):
    s = _session(tiny)
    assert "no case" in s.jump("nope").message
    s.search("question 4")
    assert s.case_id == "t4"


def test_label_records_git_identity(tiny: Path):
    s = LabelSession(open_dataset(tiny / "datasets" / "tiny"), "ada", email="ada@example.com", git_name="Ada Lovelace")
    for k in "2y2":
        s.press(k)
    lab = open_dataset(tiny / "datasets" / "tiny").labels["ada"]["t1"]
    assert (lab.email, lab.git_name) == ("ada@example.com", "Ada Lovelace")
