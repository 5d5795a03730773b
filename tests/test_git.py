"""Git as the shared store, with real git: a bare remote, two clones, sync in both orders, conflicts, history."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import copy_example
from labeler.errors import LabelerError
from labeler.vcs.repo import commit, history, status, sync
from labeler.truth.models import Label
from labeler.dataset import open_dataset

V = {"action_items": 1, "tone": 1, "no_hallucinated_resolution": 2, "under_80_words": "pass"}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def clones(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A bare remote holding the shipped example, and two clones (ann and ben)."""
    seed = tmp_path / "seed"
    seed.mkdir()
    copy_example(seed)
    git(seed, "init", "-q", "-b", "main")
    git(seed, "config", "user.name", "Seed")
    git(seed, "config", "user.email", "seed@example.com")
    git(seed, "add", "-A")
    git(seed, "commit", "-qm", "seed")
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(remote))
    out = []
    for who in ("ann", "ben"):
        c = tmp_path / who
        git(tmp_path, "clone", "-q", str(remote), str(c))
        git(c, "config", "user.name", who.title())
        git(c, "config", "user.email", f"{who}@example.com")
        out.append(c)
    return remote, out[0], out[1]


def ds_of(clone: Path):
    return open_dataset(clone / "datasets" / "support-summary")


def label(clone: Path, who: str, cases: list[str], tone: int = 1) -> None:
    ds = ds_of(clone)
    for cid in cases:
        ds.save_label(who, Label(case=cid, rubric=2, values={**V, "tone": tone}))


def test_commit_stages_only_labeler_files_with_a_message_that_says_what(clones):
    _, ann, _ = clones
    label(ann, "ann", ["wrong-item-good", "wrong-item-missing"])
    label(ann, "alice", ["wrong-item-good"])  # a change to an existing label
    (ann / "notes.txt").write_text("not mine")
    (ann / "datasets" / "support-summary" / "stray.txt").write_text("not mine either")
    git(ann, "add", "notes.txt")  # staged by the user: must stay staged, not committed
    st = status(ds_of(ann))
    assert st.uncommitted_labels == 3 and st.branch == "main" and st.upstream == "origin/main"
    r = commit(ds_of(ann))
    assert r.message == "Add 2 labels and change 1 by alice, ann in support-summary (rubric v2)"
    files = git(ann, "show", "--name-only", "--format=", "HEAD").splitlines()
    assert sorted(files) == ["datasets/support-summary/labels/alice.yaml", "datasets/support-summary/labels/ann.yaml"]
    assert "A  notes.txt" in git(ann, "status", "--porcelain")
    assert "?? datasets/support-summary/stray.txt" in git(ann, "status", "--porcelain")
    assert commit(ds_of(ann)).sha is None  # nothing to commit says so
    assert status(ds_of(ann)).ahead == 1


@pytest.mark.parametrize("first", ["ann", "ben"])
def test_two_annotators_sync_in_either_order_without_conflict(clones, first):
    remote, ann, ben = clones
    label(ann, "ann", ["wrong-item-good", "refund-double-charge-good"])
    label(ben, "ben", ["wrong-item-good", "gdpr-delete-good"])  # the same case, another annotator's file
    order = [(ann, "ann"), (ben, "ben")] if first == "ann" else [(ben, "ben"), (ann, "ann")]
    for clone, _ in order:
        r = sync(ds_of(clone))
        assert r.ok, r.message
    r = sync(ds_of(order[0][0]))  # the first one pulls the other's labels
    assert r.ok, r.message
    for clone, _ in order:
        ds = ds_of(clone)
        assert set(ds.labels["ann"]) == {"wrong-item-good", "refund-double-charge-good"}
        assert set(ds.labels["ben"]) == {"wrong-item-good", "gdpr-delete-good"}
    log = git(ann, "log", "--format=%s", "origin/main")
    assert "by ann" in log and "by ben" in log


def test_same_annotator_on_two_machines_merges_both_logs_in_time_order(clones):
    _, ann, ben = clones
    label(ann, "alice", ["wrong-item-good"], tone=0)  # alice on machine one
    time.sleep(1.1)  # a later second: her second label is the latest
    label(ben, "alice", ["wrong-item-good", "gdpr-delete-good"], tone=2)  # alice on machine two
    assert sync(ds_of(ann)).ok
    r = sync(ds_of(ben))
    assert r.ok, r.message
    assert r.merged == ["datasets/support-summary/labels/alice.yaml"] and "in time order" in r.message
    assert git(ben, "status", "--porcelain") == ""
    text = git(ben, "show", "HEAD:datasets/support-summary/labels/alice.yaml")
    assert "<<<<" not in text and ">>>>" not in text
    tail = [json.loads(ln[2:]) for ln in text.splitlines()[-3:]]
    assert [(t["case"], t["values"]["tone"]) for t in tail] == [("wrong-item-good", 0), ("wrong-item-good", 2), ("gdpr-delete-good", 2)]
    assert ds_of(ben).labels["alice"]["wrong-item-good"].values["tone"] == 2  # the later label wins
    assert sync(ds_of(ann)).ok  # and machine one gets the merged log
    assert ds_of(ann).labels["alice"]["wrong-item-good"].values["tone"] == 2
    assert not ds_of(ann).problems


def test_a_real_conflict_is_reported_with_a_pull_command_git_accepts(clones):
    _, ann, ben = clones
    for clone, text in ((ann, "one"), (ben, "two")):
        ds = ds_of(clone)
        cfg = ds.path / "dataset.yaml"
        cfg.write_text(cfg.read_text().replace("overlap: 3", f"overlap: 3  # {text}"))
        git(clone, "commit", "-qam", f"edit {text}")
    assert sync(ds_of(ann)).ok
    for strategy, pull in (("rebase", "git pull --rebase"), ("merge", "git pull --no-rebase")):
        r = sync(ds_of(ben), strategy)
        assert not r.ok and r.conflicts == ["datasets/support-summary/dataset.yaml"], r.message
        assert f"`{pull}`" in r.message and "nothing was overwritten" in r.message
        assert git(ben, "status", "--porcelain") == ""


def test_offline_and_no_remote_say_one_clear_line(clones, tmp_path):
    remote, ann, _ = clones
    label(ann, "ann", ["wrong-item-good"])
    shutil.rmtree(remote)
    r = sync(ds_of(ann))
    assert not r.ok and r.message.startswith("cannot reach origin") and "committed locally" in r.message
    git(ann, "remote", "remove", "origin")
    r = sync(ds_of(ann))
    assert not r.ok and r.message.startswith("no remote")


def test_history_of_a_case_changed_three_times(clones):
    _, ann, _ = clones
    for tone in (0, 1, 2):
        label(ann, "ann", ["wrong-item-good"], tone=tone)
        commit(ds_of(ann))
    ds = ds_of(ann)
    ds.save_adjudication("lead", __import__("labeler.truth.models", fromlist=["Adjudication"]).Adjudication(
        case="wrong-item-good", rubric=2, gold={"tone": 2}, by="lead"))
    changes = [c for c in history(ds_of(ann), "wrong-item-good") if c.who in ("ann", "lead")]
    assert [(c.who, c.values.get("tone"), c.before.get("tone")) for c in changes] == [
        ("ann", 0, None), ("ann", 1, 0), ("ann", 2, 1), ("lead", 2, None)]
    assert all(c.commit and c.author == "Ann" for c in changes[:3]) and changes[3].commit is None
    r = subprocess.run([sys.executable, "-m", "labeler", "history", "support-summary", "wrong-item-good", "--json"],
                       cwd=ann, capture_output=True, text=True, timeout=60)
    rows = json.loads(r.stdout)
    assert [x["values"].get("tone") for x in rows if x["who"] == "ann"] == [0, 1, 2]


def test_outside_git_everything_else_works(example: Path):
    ds = open_dataset(example / "datasets" / "support-summary")
    with pytest.raises(LabelerError, match="git features are off"):
        commit(ds)
    r = subprocess.run([sys.executable, "-m", "labeler", "commit", "support-summary"], cwd=example, capture_output=True, text=True)
    assert r.returncode == 1 and r.stderr.strip() == "error: git features are off: this folder is not in a git repository"
    assert subprocess.run([sys.executable, "-m", "labeler", "status", "support-summary"], cwd=example,
                          capture_output=True).returncode == 0


async def test_commit_key_in_the_app(clones):
    from labeler.vcs.identity import Identity
    from labeler.ui.app import LabelerApp

    _, ann, _ = clones
    app = LabelerApp(ds_of(ann), identity=Identity("ann"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2", "1", "2", "y")
        await pilot.press("ctrl+g")
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert git(ann, "log", "-1", "--format=%s") == "Add 1 label by ann in support-summary (rubric v2)"


def test_uncommitted_counts_cases_labeled_not_lines_appended(clones):
    _, ann, _ = clones
    label(ann, "ann", ["wrong-item-good"], tone=0)
    label(ann, "ann", ["wrong-item-good"], tone=2)  # the same case again: still one label
    label(ann, "ann", ["gdpr-delete-good"])
    ds = ds_of(ann)
    ds.save_label("ann", Label(case="gdpr-delete-good", rubric=2, retract=True))  # undone
    assert status(ds_of(ann)).uncommitted_labels == 1


def test_a_committed_label_relabeled_then_withdrawn_is_one_change_to_commit(clones):
    _, ann, _ = clones
    label(ann, "ann", ["wrong-item-good"], tone=0)
    commit(ds_of(ann))
    assert status(ds_of(ann)).uncommitted_labels == 0
    label(ann, "ann", ["wrong-item-good"], tone=2)  # relabeled since HEAD...
    ds_of(ann).save_label("ann", Label(case="wrong-item-good", rubric=2, retract=True))  # ...then withdrawn
    assert status(ds_of(ann)).uncommitted_labels == 1  # HEAD has the label; the tree does not
