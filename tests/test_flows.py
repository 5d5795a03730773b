"""Labeling and review flows found slippery in use: resume where you left off, search with a count, a
reason that lands on the criterion whose gold was just set."""

from __future__ import annotations

from pathlib import Path

from labeler.flows.labeling import LabelSession
from labeler.flows.review import ReviewSession
from labeler.dataset import open_dataset
from labeler.vcs.identity import Identity
from labeler.ui.app import LabelerApp


def test_reopening_resumes_at_the_open_case_and_keeps_skips_last(tiny: Path):
    ds_path = tiny / "datasets" / "tiny"
    s = LabelSession(open_dataset(ds_path), "ann")
    first = s.case_id
    s.skip()
    second = s.case_id
    assert second != first and s.is_skipped(first)
    s2 = LabelSession(open_dataset(ds_path), "ann")  # a new session, as after quitting
    assert s2.case_id == second and s2.is_skipped(first)
    for k in ("2", "y", "1"):
        s2.press(k)
    order = [s2.case_id]
    while True:
        s2.skip()
        if s2.case_id in order:
            break
        order.append(s2.case_id)
    # the labeled case is done; the other four come once each, the skipped one last
    assert order[-1] == first and len(order) == len(set(order)) == 4 and second not in order


def test_search_says_which_match_and_goes_on_to_the_next(tiny: Path):
    s = LabelSession(open_dataset(tiny / "datasets" / "tiny"), "ann")
    out = s.search("question")
    assert out.advanced and "match" in out.message and "of 5" in out.message
    a = s.case_id
    out = s.search("question")
    assert s.case_id != a and s.last_query == "question"
    assert "not found" in s.search("no such words").message


def test_a_reason_attaches_to_the_criterion_whose_gold_was_just_set(example_ds: Path):
    r = ReviewSession(open_dataset(example_ds), "lee")
    d = r.current
    assert len(d.criteria) >= 1
    c = r.focused
    crit = r.rubric.criteria[c]
    r.set_gold(crit.scale.keys()[crit.scale.values()[0]])
    assert r.reason_target == c  # focus may have moved on; the reason is still for c
    msg = r.set_reason("because the ticket says so")
    assert msg == f"reason saved for {c}"
    ds = open_dataset(example_ds)
    assert ds.adjudications.reason(d.case, c).text == "because the ticket says so"
    r.move(1)
    assert r.reason_target == r.focused


async def test_label_screen_resumes_where_the_annotator_left_off(example_ds: Path):
    app = LabelerApp(open_dataset(example_ds), identity=Identity("dora"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        await pilot.press("s")
        left_at = app.screen.session.case_id
        await pilot.press("q")
    app = LabelerApp(open_dataset(example_ds), identity=Identity("dora"))
    async with app.run_test(size=(120, 40)):
        assert app.screen.session.case_id == left_at


async def test_the_app_says_when_a_file_has_a_torn_last_line(example_ds: Path):
    path = example_ds / "labels" / "alice.yaml"
    path.write_text(path.read_text() + '- {"case": "wrong-item-good", "rub')
    app = LabelerApp(open_dataset(example_ds), identity=Identity("dora"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert any("alice.yaml" in m and "incomplete last line" in m for m in said), said


async def test_an_empty_output_is_said_in_words(tiny: Path):
    cases = tiny / "datasets" / "tiny" / "cases.yaml"
    cases.write_text(cases.read_text() + 'blank:\n  input: "   "\n  output: ""\n')
    app = LabelerApp(open_dataset(tiny / "datasets" / "tiny"), identity=Identity("ann"))
    async with app.run_test(size=(120, 40)) as pilot:
        app.screen.jump_to("blank")
        await pilot.pause()
        out = str(app.screen.query_one("#body-output").render())
        inp = str(app.screen.query_one("#body-input").render())
        assert "(empty output)" in out and "only whitespace: 3 characters" in inp


def test_chats_and_documents_are_shown_as_turns_and_a_numbered_list(tmp_path: Path):
    import json

    from labeler.truth.importer import as_text
    from labeler.ui.widgets.case_view import structured_text

    chat = as_text([{"role": "user", "content": "[bold]hi[/bold]"}, {"role": "assistant", "content": "hello"}])
    t = structured_text(chat)
    assert t is not None and str(t) == "user: [bold]hi[/bold]\nassistant: hello\n"  # markup stays text
    docs = structured_text(json.dumps(["first doc", {"text": "second doc"}]))
    assert str(docs) == "[1] first doc\n[2] second doc\n"
    assert structured_text("[not json") is None and structured_text("plain text") is None


def test_go_to_takes_a_prefix_or_a_part_that_names_one_case(example_ds: Path):
    s = LabelSession(open_dataset(example_ds), "ann")
    assert s.jump("gdpr-delete-mis").advanced and s.case_id == "gdpr-delete-missing"
    out = s.jump("gdpr-delete")
    assert not out.advanced and "3 match" in out.message
    assert s.jump("2fa-lockout-halluc").advanced and s.case_id == "login-2fa-lockout-halluc"
