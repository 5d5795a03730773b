"""`labeler status` answers from a summary under .cache/ while no file it read changed: byte for byte what
reading the whole dataset prints, and never stale (an appended label, an edited rubric, another day, git
starting to track the cache)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from labeler.dataset import open_dataset
from labeler.truth.models import Label

RUN = ("import sys\nfrom labeler.cli.main import main\ncode = main(sys.argv[1:])\n"
       "sys.stderr.write('#opened' if 'labeler.dataset' in sys.modules else '#summary')\nsys.exit(code)")


def status(cwd: Path, *args: str) -> tuple[str, str, int, bool]:
    """(stdout, stderr, exit code, whether the dataset was opened) of `labeler status ...` in its own process."""
    r = subprocess.run([sys.executable, "-c", RUN, "status", *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    err, _, how = r.stderr.rpartition("#")
    return r.stdout, err, r.returncode, how == "opened"


def summary(example: Path) -> Path:
    return example / "datasets" / "support-summary" / ".cache" / "status.json"


def with_a_bad_line(example: Path) -> None:
    """Something left out of the numbers, so stderr has lines to compare too."""
    with (example / "datasets" / "support-summary" / "labels" / "alice.yaml").open("a") as f:
        f.write('- {"case": "nope", "rubric": 2, "values": {}}\n')


def test_the_summary_prints_what_the_whole_dataset_prints(example: Path):
    with_a_bad_line(example)
    for args in (["support-summary", "--json"], ["support-summary"], ["support-summary", "--strict"],
                 ["support-summary", "--days", "3", "--json"], ["datasets/support-summary", "--json"]):
        summary(example).unlink(missing_ok=True)
        full = status(example, *args)
        fast = status(example, *args)
        assert full[3] and not fast[3], args
        assert fast[:3] == full[:3], args
        assert full[0] and "left out of these numbers" in full[1]
    assert status(example, "support-summary", "--strict")[2] == 1


def test_an_appended_label_is_counted_at_once(example: Path):
    before = status(example, "support-summary", "--json")
    assert status(example, "support-summary", "--json")[3] is False
    ds = open_dataset(example / "datasets" / "support-summary")
    ds.save_label("zed", Label(case=ds.cases.ids[0], rubric=2, values={}))
    after = status(example, "support-summary", "--json")
    assert after[3] and after[0] != before[0]
    assert "zed" in json.loads(after[0])["annotators"] and "zed" not in json.loads(before[0])["annotators"]
    summary(example).unlink()
    assert status(example, "support-summary", "--json")[:3] == after[:3]


def test_an_edited_rubric_another_day_or_other_days_read_the_files(example: Path):
    status(example, "support-summary", "--json")
    assert status(example, "support-summary", "--days", "3", "--json")[3]  # other flags: read again
    status(example, "support-summary", "--json")
    assert not status(example, "support-summary", "--json")[3]
    rubric = example / "rubrics" / "support-summary" / "v2.yaml"
    rubric.write_text(rubric.read_text() + "\n")
    assert status(example, "support-summary", "--json")[3]
    doc = json.loads(summary(example).read_text())
    doc["extra"]["today"] = "2000-01-01"
    summary(example).write_text(json.dumps(doc))
    assert status(example, "support-summary", "--json")[3]
    summary(example).write_text("{not json")
    assert status(example, "support-summary", "--json")[3]


def test_a_cache_git_tracks_is_not_read(example: Path):
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=example, check=True)
    status(example, "support-summary", "--json")
    assert not status(example, "support-summary", "--json")[3]
    subprocess.run([*git, "add", "-f", "datasets/support-summary/.cache"], cwd=example, check=True)
    out, err, code, opened = status(example, "support-summary", "--json")
    assert opened and "is tracked by git" in err
    assert status(example, "support-summary", "--json")[3]
