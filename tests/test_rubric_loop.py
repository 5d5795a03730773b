"""The tightening loop on real files: bump, diff, changelog + resolves, health, and tighten from the review screen."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLE
from labeler.vcs.identity import Identity
from labeler.stats.numbers import rubric_health
from labeler.dataset import Workspace, open_dataset
from labeler.truth.store import load_rubric_file
from labeler.ui.app import LabelerApp
from labeler.rubrics.tighten import collect_evidence, diff_rubrics


def run(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "labeler", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def test_diff_of_the_shipped_versions():
    ws = Workspace(EXAMPLE)
    diffs = {d.criterion: d for d in diff_rubrics(ws.rubric("support-summary", 1), ws.rubric("support-summary", 2))}
    assert diffs["tone"].status == "changed" and diffs["action_items"].status == "same"
    assert set(diffs["tone"].fields) == {"question", "description"}
    assert diffs["tone"].fields["question"] == [("=", "Does the"), ("-", "summary's tone match"), ("+", "summary convey"),
                                                ("=", "the customer's"), ("-", "situation?"), ("+", "urgency and emotional state accurately?")]
    assert diffs["tone"].points == {"0": "changed", "1": "changed", "2": "changed"}


def test_bump_prefills_resolves_keeps_comments_and_moves_the_dataset(example: Path):
    ds = open_dataset(example / "datasets" / "support-summary")
    # read off the fixture's files: latest labels made under v2 with an unclear flag, and maya's gap marks under v2
    expected = ["accessibility-screenreader-good", "downgrade-plan-missing", "login-2fa-lockout-halluc",
                "password-reset-email-halluc", "refund-double-charge-halluc", "refund-double-charge-missing", "wrong-item-missing"]
    assert sorted({e.case for e in collect_evidence(ds)}) == expected
    r = run(example, "rubric", "bump", "support-summary", "--no-edit", "--summary", "Clarify implied actions",
            "--author", "Maya Chen", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["version"] == 3 and out["resolves"] == expected and out["moved"] == ["support-summary"]
    v3 = example / "rubrics" / "support-summary" / "v3.yaml"
    text = v3.read_text()
    assert text.startswith("# Rubric for support-ticket summaries.")  # comments survive
    rubric = load_rubric_file(v3)
    assert rubric.changelog[-1].resolves == expected and rubric.changelog[-1].author == "Maya Chen"
    assert rubric.changelog[-1].summary == "Clarify implied actions"
    # nothing changed in the criteria: every current label carries over
    ds3 = open_dataset(example / "datasets" / "support-summary")
    assert ds3.config.rubric_version == 3
    assert run(example, "validate").returncode == 0
    from labeler.derived.queue import LabelQueue

    assert LabelQueue(ds3, "alice").progress().mine_done == 60
    # v2 is never overwritten by a second bump
    assert run(example, "rubric", "bump", "support-summary", "--no-edit").returncode == 0
    assert (example / "rubrics" / "support-summary" / "v4.yaml").exists()


def test_bump_with_an_editor_that_changes_a_criterion(example: Path, tmp_path: Path):
    editor = tmp_path / "ed.py"
    editor.write_text("import sys,pathlib; p=pathlib.Path(sys.argv[1]); "
                      "p.write_text(p.read_text().replace('Count words separated by spaces.', 'Count words separated by whitespace; hyphenated words count once.'))")
    r = run(example, "rubric", "bump", "support-summary", "--summary", "words", env={"EDITOR": f"{sys.executable} {editor}"})
    assert r.returncode == 0, r.stderr
    ds = open_dataset(example / "datasets" / "support-summary")
    from labeler.derived.staleness import VersionIndex

    vi = VersionIndex(ds)
    lab = ds.labels["alice"]["wrong-item-good"]
    assert vi.current_criteria(lab) == {"action_items", "tone", "no_hallucinated_resolution"}
    r = run(example, "rubric", "diff", "support-summary", "2", "3", "--json")
    d = {x["criterion"]: x for x in json.loads(r.stdout)}
    assert d["under_80_words"]["status"] == "changed" and d["tone"]["status"] == "same"


def test_a_broken_edit_is_reported_and_the_dataset_stays(example: Path, tmp_path: Path):
    editor = tmp_path / "ed.py"
    editor.write_text("import sys,pathlib; p=pathlib.Path(sys.argv[1]); p.write_text(p.read_text().replace('type: binary', 'type: ternary'))")
    r = run(example, "rubric", "bump", "support-summary", env={"EDITOR": f"{sys.executable} {editor}"})
    assert r.returncode == 1 and "v3.yaml:" in r.stderr
    assert open_dataset(example / "datasets" / "support-summary").config.rubric_version == 2


def test_health_on_the_shipped_example(example_ds):
    ds = open_dataset(example_ds)
    h = {x.criterion: x for x in rubric_health(ds)}
    assert h["action_items"].verdict == "stable"
    assert h["tone"].verdict == "unstable"
    assert [v for v, _, _ in h["tone"].history] == [1, 2]
    assert h["tone"].history[0][1].value < h["tone"].history[1][1].value
    assert h["tone"].alpha.n >= 20


def test_rubric_commands_cli(example: Path):
    for args in (("list",), ("show", "support-summary"), ("show", "support-summary", "v1"), ("diff", "support-summary", "1", "2"),
                 ("health", "support-summary")):
        r = run(example, "rubric", *args)
        assert r.returncode == 0 and r.stdout, args
    r = run(example, "rubric", "health", "support-summary", "--json")
    assert {c["criterion"]: c["verdict"] for c in json.loads(r.stdout)["criteria"]}["tone"] == "unstable"
    r = run(example, "rubric", "show", "nope")
    assert r.returncode == 1 and "no rubric versions" in r.stderr


async def test_tighten_from_the_review_screen(example_ds: Path):
    ds = open_dataset(example_ds)
    app = LabelerApp(ds, mode="review", identity=Identity("maya"))
    async with app.run_test(size=(140, 45)) as pilot:
        s = app.screen.session
        s.focus = s.criteria.index("action_items")
        await pilot.press("t")
        await pilot.pause()
        screen = app.screen
        area = screen.query_one("#description")
        area.text = "List every action the ticket asks for. Implied actions with a date (\"reply by Friday\") count."
        screen.query_one("#point-1").text = "At least one action item is stated and at least one, explicit or implied, is missing."
        screen.query_one("#summary").value = "Implied actions count"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen.session.rubric.version == 3
    v3 = load_rubric_file(example_ds.parent.parent / "rubrics" / "support-summary" / "v3.yaml")
    c = v3.criteria["action_items"]
    assert "Implied actions with a date" in c.description
    assert c.scale.points[1].when.startswith("At least one action item")
    assert c.scale.points[0].when == "No action item is stated, or the summary only restates the problem."
    assert v3.changelog[-1].summary == "Implied actions count" and v3.changelog[-1].resolves
    ds3 = open_dataset(example_ds)
    assert ds3.config.rubric_version == 3
    from labeler.derived.queue import LabelQueue

    q = LabelQueue(ds3, "alice")
    assert q.progress().stale == 60  # action_items changed: every alice label is stale for it


async def test_health_screen_opens_from_review(example_ds: Path):
    app = LabelerApp(open_dataset(example_ds), mode="review", identity=Identity("maya"))
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.press("H")
        await pilot.pause()
        assert "HealthScreen" == type(app.screen).__name__
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("escape")
        assert type(app.screen).__name__ == "ReviewScreen"


async def test_health_screen_answers_while_it_computes_and_closes_cleanly_midway(example_ds: Path, monkeypatch):
    """The numbers come from a thread: the screen shows at once, Escape closes it while they are still being
    worked out, and the late result lands nowhere (no crash, the review screen is untouched)."""
    import threading

    import labeler.ui.screens.health as health
    from screens_text import screen_text

    release, real = threading.Event(), health.by_prompt_version
    monkeypatch.setattr(health, "by_prompt_version", lambda ds: (release.wait(10), real(ds))[1])
    app = LabelerApp(open_dataset(example_ds), mode="review", identity=Identity("maya"))
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.press("H")
        await pilot.pause()
        screen = app.screen
        assert type(screen).__name__ == "HealthScreen"
        assert "computing the judge's agreement by prompt version" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "ReviewScreen"
        release.set()
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running and type(app.screen).__name__ == "ReviewScreen"
    assert app.return_code in (None, 0)
