"""Nothing acknowledged is lost: the per-dataset writer lock, torn lines, crashes mid-way, and git carrying
every file labeler writes. Real processes, real files, real git (a bare remote and two clones)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import copy_example
from fake_openai import FakeOpenAI
from labeler.errors import LabelerError
from labeler.truth.layout import kind_of
from labeler.truth.lock import dataset_lock
from labeler.truth.logs import read_log
from labeler.truth.models import Adjudication, Audit, Case, Label
from labeler.dataset import open_dataset
from labeler.flows.validate import validate_paths
from labeler.vcs.repo import commit, status, sync, uncommitted
from test_git import V, clones, git  # noqa: F401  (the clones fixture)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import races  # noqa: E402

DS = "support-summary"


def cli(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": "sk-test"}
    return subprocess.run([sys.executable, "-m", "labeler", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def ds_at(root: Path):
    return open_dataset(root / "datasets" / DS)


def notes(path: Path) -> list[str]:
    return [r.get("note", "") for _, r in read_log(path).records]


# ---------------------------------------------------------------- the lock


def test_a_save_in_another_process_waits_for_the_lock_and_then_lands(example: Path):
    ds_path = example / "datasets" / DS
    log = ds_path / "labels" / "zed.yaml"
    script = ("import sys; from labeler.dataset import open_dataset; from labeler.truth.models import Label;"
              f"open_dataset(sys.argv[1]).save_label('zed', Label(case='refund-double-charge-good', rubric=2, values={V!r}, note='late'));"
              "print('saved', flush=True)")
    with dataset_lock(ds_path, "a test"):
        p = subprocess.Popen([sys.executable, "-c", script, str(ds_path)], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
        time.sleep(2.5)  # long enough to open the dataset and reach the save
        assert p.poll() is None and not log.exists()  # waiting, not writing under the holder
    assert p.communicate(timeout=60)[0].strip() == "saved"
    assert notes(log) == ["late"]


def test_sync_takes_the_lock_of_every_dataset(clones):
    _, ann, _ = clones
    ds_at(ann).save_label("ann", Label(case="refund-double-charge-good", rubric=2, values=V))
    done = threading.Event()
    other = ann / "datasets" / "support-pairwise"  # not the dataset synced: git rewrites it too
    with dataset_lock(other, "a test"):
        t = threading.Thread(target=lambda: (sync(ds_at(ann)), done.set()))
        t.start()
        time.sleep(1.0)
        assert not done.is_set()
        assert git(ann, "log", "-1", "--format=%s") == "seed"  # nothing committed while another writer holds a lock
    t.join(60)
    assert done.is_set() and git(ann, "log", "-1", "--format=%s").startswith("Add 1 label by ann")


@pytest.mark.parametrize("scenario,trials", [("torn", 6), ("imports", 3)])
def test_races_lose_nothing(scenario, trials, tmp_path):
    """A small run of benchmarks/races.py (its full run measures many more trials)."""
    e = races.Env(ROOT)
    for t in range(trials):
        (tmp_path / str(t)).mkdir()
        r = races.torn_race(e, tmp_path / str(t)) if scenario == "torn" else races.import_race(e, tmp_path / str(t))
        assert r["lost"] == 0 and r.get("failed_runs", 0) == 0, r


def test_sync_while_a_writer_saves_loses_nothing(tmp_path):
    r = races.sync_race(races.Env(ROOT), tmp_path, syncs=6, interval=0.05)
    assert r["acknowledged"] > 20 and r["lost"] == 0 and r["lost_on_remote"] == 0 and r["failed_syncs"] == 0, r


def test_two_dataset_objects_adding_cases_keep_both_and_the_cache_stays_true(example: Path):
    a, b = ds_at(example), ds_at(example)  # two processes' views, opened before either writes
    a.add_cases([Case(id=f"a{i}", input=f"qa {i}", output="x") for i in range(5)])
    b.add_cases([Case(id=f"b{i}", input=f"qb {i}", output="x") for i in range(5)])
    assert "a0" in b.cases and b.cases["a4"].input == "qa 4" and b.cases["b4"].input == "qb 4"
    fresh = ds_at(example)  # from the cache b wrote
    assert {"a0", "a4", "b0", "b4"} <= set(fresh.cases) and fresh.cases["a2"].input == "qa 2"
    with pytest.raises(LabelerError, match="already exists"):
        a.add_cases([Case(id="b1", input="again", output="x")])


# ---------------------------------------------------------------- torn and unterminated lines


def test_a_valid_last_label_without_newline_is_a_label(example: Path):
    log = example / "datasets" / DS / "labels" / "alice.yaml"
    before = len(read_log(log).records)
    log.write_bytes(log.read_bytes().rstrip(b"\n"))
    assert not [f for f in validate_paths([example]) if f.severity == "error"]
    ds_at(example).save_label("alice", Label(case="refund-double-charge-good", rubric=2, values=V, note="next"))
    assert len(read_log(log).records) == before + 1 and notes(log)[-1] == "next"
    assert not log.with_name("alice.yaml.torn").exists()


def test_a_torn_line_is_never_committed_and_is_kept_aside(clones):
    remote, ann, _ = clones
    log = ann / "datasets" / DS / "labels" / "ann.yaml"
    ds_at(ann).save_label("ann", Label(case="refund-double-charge-good", rubric=2, values=V))
    with open(log, "ab") as f:
        f.write(b'- {"case": "login-2fa-lockout-good", "rub')  # a crash mid-save
    r = sync(ds_at(ann))
    assert r.ok and "incomplete last line" in r.message
    pushed = git(remote, "show", f"main:datasets/{DS}/labels/ann.yaml")
    assert "login-2fa-lockout-good" not in pushed and len(pushed.strip().splitlines()) == 3  # 2 header lines + 1 label
    assert log.with_name("ann.yaml.torn").read_text() == '- {"case": "login-2fa-lockout-good", "rub\n'
    warn = [f for f in validate_paths([ann / "datasets" / DS]) if f.path.name == "ann.yaml.torn"]
    assert warn and warn[0].severity == "warning" and "1 incomplete line" in warn[0].message


def test_a_crash_that_cuts_a_character_in_two_leaves_a_torn_line_not_an_unreadable_file(example: Path):
    log = example / "datasets" / DS / "labels" / "zoe.yaml"
    ds = ds_at(example)
    ds.save_label("zoe", Label(case="refund-double-charge-good", rubric=2, values=V, note="ok"))
    with open(log, "ab") as f:
        f.write('- {"case": "x", "note": "caf\u00e9'.encode()[:-1])  # the é cut in half
    ds2 = ds_at(example)
    assert "refund-double-charge-good" in ds2.labels["zoe"]
    ds2.save_label("zoe", Label(case="login-2fa-lockout-good", rubric=2, values=V, note="after"))
    assert notes(log) == ["ok", "after"]


# ---------------------------------------------------------------- crashes mid-way


def _crash_after(cwd: Path, target: str, n: int, *args: str) -> int:
    """Run `labeler ARGS` in a process that dies (os._exit, like kill -9: no cleanup) right after the n-th
    call of `target` ("module:function"): the state a crash between two files leaves."""
    mod, fn = target.split(":")
    script = (f"import os, sys, importlib; m = importlib.import_module({mod!r}); orig = getattr(m, {fn!r}); calls = [0]\n"
              "def crash(*a, **k):\n    r = orig(*a, **k); calls[0] += 1\n"
              f"    if calls[0] >= {n}: os._exit(9)\n    return r\n"
              f"setattr(m, {fn!r}, crash)\n"
              "from labeler.cli.main import main; sys.exit(main(sys.argv[1:]))")
    return subprocess.run([sys.executable, "-c", script, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}).returncode


def test_a_bump_killed_between_files_is_finished_by_a_rerun(example: Path):
    shutil_copy = example / "datasets" / "also"  # a second dataset on the same rubric version
    import shutil

    shutil.copytree(example / "datasets" / DS, shutil_copy, ignore=shutil.ignore_patterns(".cache", "labels", "adjudications", "judge"))
    cfg = shutil_copy / "dataset.yaml"
    cfg.write_text(cfg.read_text().replace(f"name: {DS}", "name: also"))
    for n in (1, 2):  # after the new version is written; after the first dataset moved
        work = example.parent / f"w{n}"
        shutil.copytree(example, work)
        assert _crash_after(work, "labeler.truth.yamlio:atomic_write", n + 1, "rubric", "bump", DS, "--no-edit") == 9
        r = cli(work, "rubric", "bump", DS, "--no-edit")
        assert r.returncode == 0, r.stderr
        assert sorted(p.name for p in (work / "rubrics" / DS).glob("v*.yaml")) == ["v1.yaml", "v2.yaml", "v3.yaml"]
        for d in (DS, "also"):
            assert "rubric_version: 3" in (work / "datasets" / d / "dataset.yaml").read_text(), (n, d)
        assert not list((work / "rubrics" / DS).glob(".*"))


def test_pair_killed_after_its_first_rubric_file_is_completed_by_a_rerun(example: Path):
    import shutil

    shutil.rmtree(example / "rubrics" / "support-pairwise")
    shutil.rmtree(example / "datasets" / "support-pairwise")
    args = ("pair", DS, "--a", "golden", "--b", "summarizer-v2", "--into", "pp")
    assert _crash_after(example, "labeler.truth.yamlio:atomic_write", 1, *args) == 9
    r = cli(example, *args)
    assert r.returncode == 0, r.stderr
    folder = example / "rubrics" / f"{DS}-pairwise"
    assert (folder / "judge.md").is_file() and (folder / "v1.yaml").is_file()
    assert cli(example, "validate").returncode == 0


def test_a_rubric_made_by_pair_without_its_judge_prompt_gets_one_on_rerun(example: Path):
    """The state the old order (v1.yaml, then judge.md) left after a kill between the two."""
    import shutil

    shutil.rmtree(example / "datasets" / "support-pairwise")
    (example / "rubrics" / "support-pairwise").rename(example / "rubrics" / f"{DS}-pairwise")
    folder = example / "rubrics" / f"{DS}-pairwise"
    (folder / "v1.yaml").write_text((folder / "v1.yaml").read_text().replace("name: support-pairwise", f"name: {DS}-pairwise"))
    (folder / "judge.md").unlink()
    assert cli(example, "pair", DS, "--a", "golden", "--b", "summarizer-v2", "--into", "pp").returncode == 0
    assert (folder / "judge.md").is_file()


def test_a_stale_git_lock_is_named_with_the_command_that_clears_it(clones):
    _, ann, _ = clones
    ds_at(ann).save_label("ann", Label(case="refund-double-charge-good", rubric=2, values=V))
    (ann / ".git" / "index.lock").write_text("")  # what a git killed mid-commit leaves
    r = cli(ann, "commit", DS)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and "internal error" not in r.stderr
    assert "index.lock" in r.stderr and f"rm {ann / '.git' / 'index.lock'}" in r.stderr
    (ann / ".git" / "index.lock").unlink()
    assert cli(ann, "commit", DS).returncode == 0


def test_temp_files_of_a_killed_save_are_swept_on_open(example: Path):
    labels = example / "datasets" / DS / "labels"
    old, fresh = labels / ".alice.yaml.k2j3.tmp", labels / ".bob.yaml.x9.tmp"
    for p in (old, fresh):
        p.write_text("- {half")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    ds_at(example)
    assert not old.exists() and fresh.exists()  # a save under way elsewhere is never touched


# ---------------------------------------------------------------- git


def test_a_detached_head_is_refused_before_committing_and_says_how_back(clones):
    _, ann, _ = clones
    git(ann, "checkout", "-q", "--detach")
    ds_at(ann).save_label("ann", Label(case="refund-double-charge-good", rubric=2, values=V))
    for run in (lambda: commit(ds_at(ann)), lambda: sync(ds_at(ann))):
        with pytest.raises(LabelerError, match=r"HEAD is detached .*nothing was committed.*`git switch main`"):
            run()
    assert git(ann, "log", "-1", "--format=%s") == "seed"
    git(ann, "switch", "-q", "main")  # what the message says
    assert "refund-double-charge-good" in ds_at(ann).labels["ann"]
    r = cli(ann, "sync", DS)
    assert r.returncode == 0 and "pushed 1 commit (Add 1 label by ann in support-summary (rubric v2))" in r.stdout, r.stderr


def test_a_detached_head_on_no_branch_says_how_to_keep_it(clones):
    _, ann, _ = clones
    git(ann, "checkout", "-q", "--detach")
    git(ann, "commit", "-q", "--allow-empty", "-m", "made on the detached head")
    r = cli(ann, "commit", DS)
    assert r.returncode == 1 and "on no branch" in r.stderr and "git switch -c labels-" in r.stderr


def test_sync_with_a_change_that_is_not_labelers_says_what_to_do(clones):
    _, ann, ben = clones
    (ann / "README.md").write_text("notes\n")
    git(ann, "add", "README.md")
    git(ann, "commit", "-qm", "readme")
    (ann / "README.md").write_text("notes, edited\n")
    ds_at(ben).save_label("ben", Label(case="refund-double-charge-good", rubric=2, values=V))
    assert sync(ds_at(ben)).ok
    ds_at(ann).save_label("ann", Label(case="refund-double-charge-good", rubric=2, values=V))
    r = sync(ds_at(ann))
    assert not r.ok and "README.md" in r.message and "git stash" in r.message and "committed locally" in r.message
    assert "conflict in error" not in r.message
    assert git(ann, "log", "-1", "--format=%s").startswith("Add 1 label by ann")


@pytest.mark.parametrize("who", ["Zoe Q", "Zoë 李", "a[1]", "o'neil"])
def test_any_name_labeler_accepts_commits(clones, who):
    _, ann, _ = clones
    ds_at(ann).save_label(who, Label(case="refund-double-charge-good", rubric=2, values=V))
    assert uncommitted(ds_at(ann)) == {"labels": 1}
    r = cli(ann, "commit", DS)
    assert r.returncode == 0, r.stderr
    assert git(ann, "log", "-1", "--format=%s") == f"Add 1 label by {who} in support-summary (rubric v2)"
    assert git(ann, "status", "--porcelain") == ""


def test_status_counts_every_kind_and_commit_leaves_nothing_of_labelers_behind(clones, tmp_path):
    """After each command that writes, `labeler commit` leaves git status clean (every kind in truth/layout.py)."""
    _, ann, _ = clones

    def committed(expect: str) -> None:
        r = cli(ann, "commit", DS)
        assert r.returncode == 0, r.stderr
        assert git(ann, "log", "-1", "--format=%s").startswith(expect), (expect, r.stdout)
        assert git(ann, "status", "--porcelain", "--untracked-files=all") == "", expect
        assert uncommitted(ds_at(ann)) == {}

    ds = ds_at(ann)
    ds.save_adjudication("maya", Adjudication(case="refund-double-charge-good", rubric=2, gold={"tone": 2}, by="maya"))
    st = status(ds_at(ann))
    assert st.uncommitted == {"adjudications": 1} and "1 adjudication uncommitted" in st.line()
    committed("Adjudicate 1 case in support-summary")

    rows = tmp_path / "new.jsonl"
    rows.write_text("".join(json.dumps({"id": f"n{i}", "input": f"q {i}", "output": "a"}) + "\n" for i in range(3)))
    assert cli(ann, "import", DS, str(rows)).returncode == 0
    committed("Add 3 cases to support-summary")

    outs = tmp_path / "cand.jsonl"
    outs.write_text("".join(json.dumps({"id": cid, "output": f"v3 says {cid}"}) + "\n" for cid in list(ds_at(ann).cases.ids)[:6]))
    assert cli(ann, "candidate", "add", DS, "v3", str(outs)).returncode == 0
    committed("Add candidate v3 of support-summary")

    with FakeOpenAI() as server:
        r = cli(ann, "judge", DS, "--model", "fake-1", "--run", "r9", "--base-url", server.base_url, "--cases", "refund-*")
        assert r.returncode == 0, r.stderr
    committed("Add judge run r9 in support-summary")
    ds = ds_at(ann)
    _, verdicts = ds.judge_run("r9")
    ds.save_audit("r9", "maya", Audit(case="refund-double-charge-good", criterion="tone", correct=True, by="maya"))
    assert status(ds_at(ann)).uncommitted == {"audits": 1}
    committed("Audit 1 verdict of judge run r9")

    prod = tmp_path / "prod.jsonl"
    prod.write_text("".join(json.dumps({"input": f"production question {i} about invoices"}) + "\n" for i in range(8)))
    r = cli(ann, "drift", DS, str(prod))
    assert r.returncode in (0, 1), r.stderr
    committed("Add 1 drift run of support-summary")

    assert cli(ann, "pair", DS, "--a", "golden", "--b", "v3", "--into", "pp").returncode == 0
    committed("Add dataset pp with 6 cases")  # its cases, its new pairwise rubric and judge prompt too
    assert git(ann, "show", "--name-only", "--format=", "HEAD").count("rubrics/support-summary-pairwise/") == 2

    assert cli(ann, "rubric", "bump", DS, "--no-edit", "--summary", "tighter").returncode == 0
    committed("Add rubric support-summary v3 and move support-summary to it")

    r = cli(ann, "sync", DS)
    assert r.returncode == 0 and "pushed 8 commits (" in r.stdout, r.stdout + r.stderr
    assert cli(ann, "sync", DS).stdout.strip() == "synced main with origin/main: pushed 0 commits"


def test_validate_names_a_file_labeler_never_reads(example: Path):
    stray = example / "datasets" / DS / "labels" / "bob.yml"
    stray.write_text("- {}\n")
    found = [f for f in validate_paths([example]) if f.path == stray]
    assert found and found[0].severity == "warning" and "ignored" in found[0].message
    assert kind_of("datasets/x/labels/bob.yml") is None and kind_of("datasets/x/labels/bob.yaml")[0].name == "labels"


def test_one_annotator_with_a_spaced_name_on_two_machines_merges_both_logs(clones):
    _, ann, ben = clones
    for clone, cid in ((ann, "refund-double-charge-good"), (ben, "login-2fa-lockout-good")):
        ds_at(clone).save_label("Zoe Q", Label(case=cid, rubric=2, values=V))
    assert sync(ds_at(ann)).ok
    r = sync(ds_at(ben))
    assert r.ok and r.merged == [f"datasets/{DS}/labels/Zoe Q.yaml"], r.message
    assert set(ds_at(ben).labels["Zoe Q"]) == {"refund-double-charge-good", "login-2fa-lockout-good"}


def test_validate_says_a_bump_was_interrupted(example: Path):
    assert _crash_after(example, "labeler.truth.yamlio:atomic_write", 1, "rubric", "bump", DS, "--no-edit") == 9
    found = [f for f in validate_paths([example]) if "was interrupted" in f.message]
    assert found and f"labeler rubric bump {DS}" in found[0].message
    assert cli(example, "rubric", "bump", DS, "--no-edit").returncode == 0
    assert not [f for f in validate_paths([example]) if "was interrupted" in f.message]
