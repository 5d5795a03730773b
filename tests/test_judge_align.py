"""Teaching the judge from audits (issue #24): prompt versions, examples from corrections, a held-out
split enforced in calibrate, before/after with a paired interval, and the audit screen's example key."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fake_openai import FakeOpenAI
from labeler.errors import LabelerError
from labeler.flows.audit import AuditSession
from labeler.judge import examples as ex
from labeler.judge import prompts
from labeler.judge.run import first_values
from labeler.stats.calibrate import calibrate, compare_runs, pooled
from labeler.stats.numbers import gold
from labeler.truth.logs import read_log
from labeler.truth.models import Adjudication, Label
from labeler.dataset import open_dataset
from labeler.flows.validate import validate_paths

RUN = "gpt-4o-mini-2026-10"


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labeler", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def audit_all_wrong(ds_path: Path, run: str = RUN, who: str = "maya", mark_examples: bool = False) -> int:
    """Mark every verdict of `run` that differs from gold wrong, with a note (what a lead does with n)."""
    s = AuditSession(open_dataset(ds_path), who, run, only_disagreements=True)
    n = 0
    for i in range(len(s.queue)):
        s.index = i
        for k, c in enumerate(s.criteria):
            cid = s.current
            j, g = s.judge.get(cid, {}).get(c), s.gold.get(cid, {}).get(c)
            if j is not None and g is not None and j.value is not None and j.value != g.value:
                s.index, s.focus = i, k
                s.mark(False, "1", f"the gold is {g.value} on {c}")
                if mark_examples:
                    s.index, s.focus = i, k
                    s.mark_example()
                n += 1
    return n


def test_legacy_judge_md_is_version_one_and_bump_adds_the_examples_placeholder(example_ds: Path):
    ds = open_dataset(example_ds)
    vs = prompts.versions(ds)
    assert list(vs) == [1] and vs[1].name == "judge.md"
    new, path, added = prompts.bump(ds)
    assert (new, added) == (2, True) and path == example_ds.parent.parent / "rubrics" / "support-summary" / "judge" / "v2.md"
    text = path.read_text()
    assert "{examples}" in text and text.replace("\n{examples}", "", 1) == vs[1].read_text()
    assert prompts.latest(open_dataset(example_ds)) == 2


def test_examples_never_include_held_out_cases_over_random_splits(example_ds: Path):
    """A property over 40 random splits: nothing picked is in the held-out part, and the split is fixed per case."""
    audit_all_wrong(example_ds)
    ds = open_dataset(example_ds)
    rng = random.Random(7)
    ever = set()
    for _ in range(40):
        fraction, seed, per = rng.choice([0.0, 0.1, 0.3, 0.5, 0.8, 0.95]), rng.randrange(1000), rng.randrange(1, 6)
        picked = ex.pick(ds, RUN, per_criterion=per, holdout=fraction, seed=seed)
        assert not [e.case for e in picked.examples if prompts.in_holdout(e.case, fraction, seed)]
        assert all(n <= per for n in picked.per_criterion().values())
        ever |= {e.case for e in picked.examples}
        held = [c for c in ds.cases.ids if prompts.in_holdout(c, fraction, seed)]
        assert held == [c for c in ds.cases.ids if prompts.in_holdout(c, fraction, seed)]  # deterministic
        if fraction == 0.5:
            assert 0.25 * len(ds.cases) < len(held) < 0.75 * len(ds.cases)
    assert ever  # the splits did leave cases to pick from
    with pytest.raises(LabelerError, match="--holdout"):
        ex.pick(ds, RUN, holdout=1.0)


def test_examples_are_balanced_corrections_with_the_leads_reason(example_ds: Path):
    audit_all_wrong(example_ds)
    ds = open_dataset(example_ds)
    g = gold(ds)
    judged = first_values(ds.judge_run(RUN)[1])
    picked = ex.pick(ds, RUN, per_criterion=2, holdout=0.0, max_chars=40)
    assert picked.examples
    for e in picked.examples:
        assert e.value == g[e.case][e.criterion].value  # the example teaches gold
        assert len(e.output) <= 40 + len(" [... 9999 more characters trimmed]")
        if e.source == "audit":
            assert e.explanation == f"the gold is {e.value} on {e.criterion}"  # the auditor's note explains it
            assert judged[e.case][e.criterion] != e.value
        else:
            assert e.explanation == ds.adjudications.reason(e.case, e.criterion).text.strip()
    per = picked.per_criterion()
    assert set(per) == set(ds.rubric().criteria) and max(per.values()) <= 2
    # two scale points in a pool: the round robin shows both before a second of either
    ai = [e.value for e in picked.examples if e.criterion == "action_items"]
    assert len(set(ai)) == len(ai)


def test_a_stale_label_or_a_gold_conflict_is_never_an_example(example_ds: Path):
    audit_all_wrong(example_ds)
    ds = open_dataset(example_ds)
    before = ex.pick(ds, RUN, per_criterion=50, holdout=0.0)
    old = ds.rubric(1)
    changed = {c for c, h in ds.rubric(2).criterion_hashes().items() if old.criterion_hashes().get(c) not in (None, h)}
    second = next(e for e in before.examples if e.criterion in changed)
    first = next(e for e in before.examples if e.case != second.case)
    # two leads disagree on the first example's gold
    other = next(x for x in ds.rubric().criteria[first.criterion].scale.values() if x != first.value)
    for lead, value in (("maya", first.value), ("omar", other)):
        ds.save_adjudication(lead, Adjudication(case=first.case, rubric=2, gold={first.criterion: value}, by=lead))
    # an annotator's latest label of the second example's case was made under v1, where the criterion differed
    ann = next(iter(ds.labels))
    v = old.criteria[second.criterion].scale.values()[0]
    ds.save_label(ann, Label(case=second.case, rubric=1, values={second.criterion: v}))
    after = ex.pick(open_dataset(example_ds), RUN, per_criterion=50, holdout=0.0)
    keys = {(e.case, e.criterion) for e in after.examples}
    assert (first.case, first.criterion) not in keys and after.skipped["gold_conflict"] >= 1
    assert (second.case, second.criterion) not in keys and after.skipped["stale_label"] >= 1


def test_the_loop_end_to_end_from_the_cli(example: Path, monkeypatch):
    """audit -> examples -> new prompt version -> judge (a scripted judge that learns from examples) -> calibrate --vs."""
    ds_path = example / "datasets" / "support-summary"
    assert audit_all_wrong(ds_path) > 0
    r = cli(example, "judge", "examples", "support-summary", "--from", RUN, "--into", "2")
    assert r.returncode == 1 and "no judge prompt v2 yet" in r.stderr
    r = cli(example, "judge", "prompt", "bump", "support-summary")
    assert r.returncode == 0 and "judge prompt v2" in r.stdout, r.stderr
    r = cli(example, "judge", "examples", "support-summary", "--from", RUN, "--into", "2", "--per-criterion", "3", "--json")
    assert r.returncode == 0, r.stderr
    made = json.loads(r.stdout)
    assert made["examples"] > 0 and made["prompt_problems"] == [] and made["left_out"]["held_out"] > 0
    shown = prompts.example_cases(open_dataset(ds_path), 2)
    assert len(shown) == made["cases"]

    ds = open_dataset(ds_path)
    before = first_values(ds.judge_run(RUN)[1])
    g = gold(ds)
    by_text = {(ds.cases[c].input, ds.cases[c].output): c for c in ds.cases.ids}
    fence = re.compile(r"<<<BEGIN (\w+) (input|output)>>>\n(.*?)\n<<<END \1 \2>>>", re.S)

    def learner(prompt: str, allowed: dict) -> dict:
        texts = {m.group(2): m.group(3) for m in fence.finditer(prompt)}
        cid = by_text[(texts["input"], texts["output"])]
        taught = set(re.findall(r"^- (\w+): ", prompt.split("--- EXAMPLES", 1)[1], re.M)) if "--- EXAMPLES" in prompt else set()
        return {c: g[cid][c].value if c in taught and c in g.get(cid, {}) else before.get(cid, {}).get(c, vals[-1])
                for c, vals in allowed.items()}

    with FakeOpenAI(answerer=learner) as srv:
        r = cli(example, "judge", "support-summary", "--model", "m", "--run", "v2-run", "--base-url", srv.base_url)
        assert r.returncode == 0, r.stderr
        r = cli(example, "judge", "support-summary", "--model", "m", "--run", "v1-run", "--prompt", "1", "--base-url", srv.base_url)
        assert r.returncode == 0, r.stderr
        with_examples = [p for p in srv.prompts if "--- EXAMPLES" in p]
    assert len(with_examples) == 60  # v2's 60 cases; v1's prompt has none
    example_block = with_examples[0].split("--- EXAMPLES", 1)[1]
    assert "<<<BEGIN" in example_block and "example 1 input" in example_block  # example text fenced like case text
    meta = open_dataset(ds_path).judge_run("v2-run")[0]
    assert meta.prompt_version == 2 and meta.prompt_template == "rubrics/support-summary/judge/v2.md"
    assert open_dataset(ds_path).judge_run("v1-run")[0].prompt_version == 1

    # the examples file of a used version cannot be rewritten
    r = cli(example, "judge", "examples", "support-summary", "--from", RUN, "--into", "2")
    assert r.returncode == 1 and "was used by run v2-run" in r.stderr

    r = cli(example, "calibrate", "support-summary", "--run", "v2-run", "--json")
    data = json.loads(r.stdout)
    assert data["excluded_examples"] == len(shown) and "examples in judge prompt v2" in r.stderr

    r = cli(example, "calibrate", "support-summary", "--run", "v2-run", "--vs", "v1-run", "--json")
    assert r.returncode == 0, r.stderr
    vs = json.loads(r.stdout)
    assert vs["excluded_examples"] == len(shown) and vs["held_out_cases"] == 60 - len(shown)
    assert vs["overall"]["gain"] > 0
    fixed = [c for crit in vs["criteria"] for c in crit["wrong_to_right"]]
    assert fixed and not set(fixed) & shown and all(not c["right_to_wrong"] for c in vs["criteria"])
    r = cli(example, "calibrate", "support-summary", "--run", "v2-run", "--vs", "v1-run")
    assert r.returncode == 0 and "wrong→right" in r.stdout and "overall agreement" in r.stdout
    # gates: asking for more gain than there was fails; the reverse direction is a significant loss or no gain
    r = cli(example, "calibrate", "support-summary", "--run", "v2-run", "--vs", "v1-run", "--min-gain", "50%")
    assert r.returncode == 1 and "gate failed: overall: agreement gain" in r.stderr
    r = cli(example, "calibrate", "support-summary", "--run", "v1-run", "--vs", "v2-run", "--min-gain", "0")
    assert r.returncode == 1 and "gate failed" in r.stderr
    r = cli(example, "calibrate", "support-summary", "--run", "v2-run", "--min-gain", "0")
    assert r.returncode == 2 and "--min-gain needs --vs" in r.stderr

    # report and regress measure a run of v2 on the other cases too
    r = cli(example, "report", "support-summary", "--run", "v2-run", "--json", "--replicates", "50")
    rep = json.loads(r.stdout)["judge"][0]
    assert rep["excluded_examples"] == len(shown) and rep["prompt_version"] == 2
    assert all(v["judge_vs_gold"]["percent"]["n"] <= 60 - len(shown) for v in rep["criteria"].values())
    r = cli(example, "regress", "support-summary", "--base", "v1-run", "--candidate", "v2-run", "--json", "--replicates", "50")
    reg = json.loads(r.stdout)
    assert reg["excluded_examples"] == len(shown)
    assert all(item["cases"] <= 60 - len(shown) for item in reg["groups"][0]["criteria"].values())

    r = cli(example, "judge", "prompt", "list", "support-summary", "--json")
    rows = {row["version"]: row for row in json.loads(r.stdout)}
    assert rows[2]["examples"] == made["examples"] and rows[2]["runs"][0]["run"] == "v2-run"
    assert rows[2]["runs"][0]["excluded_examples"] == len(shown) and rows[1]["runs"][0]["excluded_examples"] == 0
    r = cli(example, "judge", "prompt", "diff", "support-summary", "1", "2")
    assert r.returncode == 0 and "+{examples}" in r.stdout and "+example " in r.stdout

    # a used version edited in place fails validate; restoring it passes
    p = example / "rubrics" / "support-summary" / "judge" / "v2.md"
    text = p.read_text()
    assert not [f for f in validate_paths([example]) if "edited in place" in f.message]
    p.write_text(text + "Be strict.\n")
    found = [f for f in validate_paths([example]) if "edited in place" in f.message]
    assert found and "judge prompt v2" in found[0].message and found[0].path == p
    r = cli(example, "validate")
    assert r.returncode == 1 and "judge prompt v2 was edited in place after run v2-run" in r.stdout + r.stderr
    p.write_text(text)
    exfile = prompts.examples_path(open_dataset(ds_path), 2)
    exfile.write_text(exfile.read_text().replace("explanation: ", "explanation: x", 1))
    assert [f for f in validate_paths([example]) if "edited in place" in f.message]


def test_excluded_cases_are_exactly_the_prompts_examples(example_ds: Path):
    audit_all_wrong(example_ds)
    ds = open_dataset(example_ds)
    prompts.bump(ds)
    picked = ex.pick(ds, RUN, per_criterion=4, holdout=0.3, seed=3)
    ex.write(ds, 2, RUN, picked, 0.3, 3)
    meta, verdicts = ds.judge_run(RUN)
    tagged = meta.model_copy(update={"prompt_version": 2})
    keep, excluded = prompts.held_out(ds, [tagged])
    assert set(ds.cases.ids) - set(keep) == {e.case for e in picked.examples} and excluded == len({e.case for e in picked.examples})
    assert prompts.held_out(ds, [meta]) == (list(ds.cases.ids), 0)  # a run made before versions: nothing excluded


def test_old_runs_without_a_prompt_version_calibrate_as_before(example: Path):
    """Examples in a newer version do not touch a run that names no version: same numbers as before the feature."""
    before = cli(example, "calibrate", "support-summary", "--run", RUN, "--json")
    ds_path = example / "datasets" / "support-summary"
    audit_all_wrong(ds_path)
    ds = open_dataset(ds_path)
    prompts.bump(ds)
    ex.write(ds, 2, RUN, ex.pick(ds, RUN, holdout=0.0), 0.0, 0)
    after = cli(example, "calibrate", "support-summary", "--run", RUN, "--json")
    assert before.returncode == after.returncode == 0
    a, b = json.loads(before.stdout), json.loads(after.stdout)
    assert b.pop("excluded_examples") == 0 and b.pop("prompt_version") is None
    a.pop("excluded_examples", None), a.pop("prompt_version", None)
    assert a == b
    assert open_dataset(ds_path).judge_run(RUN)[0].prompt_version is None


def test_paired_interval_against_scipys_bca(example_ds: Path):
    """compare_runs' point numbers and flips worked by hand, and its intervals against an independent
    BCa: scipy.stats.bootstrap(method='BCa') at the expanded level (tests/bca_ref.py) over the scored
    cases, agreement by counting and kappa by agreement.cohen_kappa, with draws of its own. They agree
    within 4 Monte-Carlo standard errors of a tail quantile (labeler's 4000 replicates and scipy's 4000)
    plus one atom (1/n: quantiles of a distribution on a lattice can land one step apart). A plain
    percentile interval (what --vs printed before) is narrower at this n and sits off the skew."""
    from bca_ref import scipy_bca, tail_error

    from labeler.stats.agreement import cohen_kappa, kappa_weights

    ds = open_dataset(example_ds)
    cases = list(ds.cases.ids)
    new, old = ds.judge_run("gpt-4o-mini-2026-10-v2")[1], ds.judge_run("llama-3.1-8b-local")[1]
    got = {c.criterion: c for c in compare_runs(ds, new, old, cases, replicates=4000, seed=5)}
    g = gold(ds)
    vn, vo = first_values(new), first_values(old)
    rubric = ds.rubric()
    crits = list(rubric.criteria)

    def scored(cid, c):
        return c in g.get(cid, {}) and vn.get(cid, {}).get(c) is not None and vo.get(cid, {}).get(c) is not None

    rows = [cid for cid in cases if any(scored(cid, c) for c in crits)]
    n = len(rows)
    checked = 0
    for c in crits:
        scale = rubric.criteria[c].scale.values()
        w = kappa_weights(rubric.criteria[c])
        both = [cid for cid in rows if scored(cid, c)]
        point = np.mean([(vn[x][c] == g[x][c].value) - (vo[x][c] == g[x][c].value) for x in both])
        assert got[c].n == len(both) and got[c].diff == pytest.approx(point)
        assert got[c].fixed == [x for x in both if vn[x][c] == g[x][c].value != vo[x][c]]
        assert got[c].broke == [x for x in both if vo[x][c] == g[x][c].value != vn[x][c]]

        def arrays(idx):
            on = [rows[i] for i in idx if scored(rows[i], c)]
            return [np.array([scale.index(v) for v in vals]) for vals in zip(*[(vn[x][c], vo[x][c], g[x][c].value) for x in on])]

        def diff(idx):
            a, b, gg = arrays(idx)
            return np.mean((a == gg).astype(float) - (b == gg))

        def kappa_diff(idx):
            a, b, gg = arrays(idx)
            kn, ko = cohen_kappa(a, gg, len(scale), w).value, cohen_kappa(b, gg, len(scale), w).value
            return np.nan if kn is None or ko is None else kn - ko

        for mine, stat in ((got[c].percent_ci, diff), (got[c].kappa_ci, kappa_diff)):
            if len(set(map(tuple, np.array(arrays(range(n))).T))) < 2 or not np.isfinite(stat(range(n))):
                continue  # nothing any resample could move: scipy has no BCa for it
            lo, hi, se = scipy_bca(stat, n, resamples=4000, seed=9)
            if not np.isfinite([lo, hi]).all():
                continue  # a resample where kappa is undefined: labeler leaves it out, scipy cannot
            tol = 4 * np.hypot(tail_error(se, n, 4000), tail_error(se, n, 4000)) + 1 / len(both)
            assert mine == pytest.approx((lo, hi), abs=tol), c
            checked += 1
    assert checked >= 2


def test_the_overall_gain_min_gain_gates_on_has_a_bca_interval_resampling_cases(example: Path):
    """--min-gain's overall gain pools every criterion's scored cases; its interval resamples cases with all
    their criteria, checked against scipy's BCa over the same cases (criteria correlated within a case);
    --on lower gates on that interval's lower bound: +5.4% passes --min-gain 0 on the point, not on the
    lower bound."""
    from bca_ref import scipy_bca, tail_error

    ds = open_dataset(example / "datasets" / "support-summary")
    cases = list(ds.cases.ids)
    new, old = ds.judge_run("gpt-4o-mini-2026-10-v2")[1], ds.judge_run("llama-3.1-8b-local")[1]
    g, vn, vo = gold(ds), first_values(new), first_values(old)
    crits = list(ds.rubric().criteria)
    per = []  # per case: (fixed minus broke, criteria scored)
    for cid in cases:
        on = [c for c in crits if c in g.get(cid, {}) and vn.get(cid, {}).get(c) is not None and vo.get(cid, {}).get(c) is not None]
        if on:
            per.append((sum((vn[cid][c] == g[cid][c].value) - (vo[cid][c] == g[cid][c].value) for c in on), len(on)))
    per = np.array(per, dtype=float)
    stat = lambda idx: per[idx, 0].sum() / per[idx, 1].sum()  # noqa: E731
    _, _, gain, ci = pooled(compare_runs(ds, new, old, cases), 4000, 3)
    assert gain == pytest.approx(stat(np.arange(len(per))))
    lo, hi, se = scipy_bca(stat, len(per), resamples=4000, seed=4)
    tol = 4 * np.hypot(tail_error(se, len(per), 4000), tail_error(se, len(per), 4000))
    assert ci == pytest.approx((lo, hi), abs=tol)
    assert ci[0] < 0 < gain
    args = ("calibrate", "support-summary", "--run", "gpt-4o-mini-2026-10-v2", "--vs", "llama-3.1-8b-local", "--min-gain", "0")
    assert cli(example, *args).returncode == 0
    r = cli(example, *args, "--on", "lower", "--json")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["min_gain_on"] == "lower bound of the 95% interval" and out["overall"]["gain_ci95"]["low"] < 0
    assert "overall: agreement gain +5.4%" in out["failures"][0]


def test_two_runs_that_never_flip_get_the_reach_of_unseen_flips_not_zero_width():
    """No case flipped in 30: no resample moves the difference, yet up to 1 - 0.025^(1/30) of cases never
    seen could flip either way (the exact binomial bound); the percentile code said [0, 0]."""
    from labeler.stats.bootstrap import paired_change

    rng = np.random.default_rng(1)
    gold_ = rng.integers(0, 2, 30)
    judge = np.where(rng.random(30) < 0.8, gold_, 1 - gold_)
    pct, kap = paired_change(judge, judge, gold_, 2, None, 1000, 0)
    q = 1 - 0.025 ** (1 / 30)
    assert (pct.low, pct.high) == pytest.approx((-q, q))
    assert kap.low < 0 < kap.high


async def test_audit_screen_example_key_and_footer_counts(example_ds: Path):
    from labeler.ui.app import LabelerApp
    from labeler.vcs.identity import Identity

    ds = open_dataset(example_ds)
    app = LabelerApp(ds, mode="audit", identity=Identity("kim"), audit_runs=("llama-3.1-8b-local", None))
    async with app.run_test(size=(160, 45)) as pilot:
        s = app.screen.session
        # find a disagreement outside the held-out half
        target = next((i, k) for i, cid in enumerate(s.queue) if not prompts.in_holdout(cid, 0.5, 0)
                      for k, c in enumerate(s.criteria) if s.judge.get(cid, {}).get(c) is not None and c in s.gold.get(cid, {})
                      and s.judge[cid][c].value != s.gold[cid][c].value)
        s.select(target[0])
        s.focus = target[1]
        cid, crit = s.current, s.focused
        app.screen.refresh_all()
        await pilot.press("e")
        await pilot.pause()
        assert "mark the judge wrong first" in str(app.screen.query_one("#message").render())
        await pilot.press("n", "1", *"misses the refund", "enter")
        s.select(target[0])
        s.focus = target[1]
        await pilot.press("e")
        await pilot.pause()
        assert s.example_counts()[crit] == 1
        assert f"{crit} " in str(app.screen.query_one("#numbers").render()) and "ex1" in str(app.screen.query_one("#numbers").render())
        held = next(c for c in s.queue if prompts.in_holdout(c, 0.5, 0))
        s.audits[(held, crit)] = s.audits[(cid, crit)].model_copy(update={"case": held, "example": False})
        s.select(s.queue.index(held))
        s.focus = s.criteria.index(crit)
        assert "is held out" in s.mark_example()
    recs = [r for _, r in read_log(example_ds / "judge" / "llama-3.1-8b-local" / "audits" / "kim.yaml").records]
    assert recs[-1]["case"] == cid and recs[-1]["criterion"] == crit and recs[-1]["example"] is True and recs[-1]["correct"] is False
    picked = ex.pick(open_dataset(example_ds), "llama-3.1-8b-local", per_criterion=1, holdout=0.5)
    mine = [e for e in picked.examples if e.criterion == crit]
    assert mine and (mine[0].case, mine[0].explanation) == (cid, "misses the refund")  # a picked one goes first


def test_align_benchmark_smoke():
    """benchmarks/align.py runs (small) so it cannot rot; its real run is 100,000 cases x 5 runs."""
    bench = Path(__file__).resolve().parent.parent / "benchmarks" / "align.py"
    out = subprocess.run([sys.executable, str(bench), "--cases", "300", "--audits", "200", "--smoke", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout)
    assert r["cases"] == 300 and r["examples"] > 0 and 0 < r["excluded_examples"] <= r["examples"]
    assert r["held_out_cases"] == 300 - r["excluded_examples"]
    assert r["pick_in_process_s"] > 0 and r["compare_in_process_s"] > 0


def test_commit_takes_prompt_versions_and_examples(example: Path):
    """A new prompt version and its examples are labeler's files: `labeler commit` stages them and says so."""
    git = lambda *a: subprocess.run(["git", *a], cwd=example, capture_output=True, text=True, check=True).stdout  # noqa: E731
    git("init", "-q")
    git("config", "user.name", "Maya")
    git("config", "user.email", "maya@example.com")
    git("add", "-A")
    git("commit", "-qm", "start")
    ds_path = example / "datasets" / "support-summary"
    audit_all_wrong(ds_path)
    ds = open_dataset(ds_path)
    prompts.bump(ds)
    ex.write(ds, 2, RUN, ex.pick(ds, RUN), 0.5, 0)
    r = cli(example, "commit", "support-summary")
    assert r.returncode == 0, r.stderr
    files = git("show", "--name-only", "--format=", "HEAD").split("\n")
    assert "rubrics/support-summary/judge/v2.md" in files and "rubrics/support-summary/judge-examples/v2.yaml" in files
    message = git("log", "-1", "--format=%B")
    assert "the judge prompt v2 of support-summary" in message and "the examples of judge prompt v2" in message
    assert not [f for f in validate_paths([example]) if "not a kind of file" in f.message]


def _two_prompt_versions(example_ds: Path) -> dict[str, int]:
    """Prompt v1 and v2 (v2 with examples from audited corrections) and a run of each, copied from shipped runs."""
    import shutil

    audit_all_wrong(example_ds)
    ds = open_dataset(example_ds)
    prompts.bump(ds)
    ex.write(ds, 2, RUN, ex.pick(ds, RUN, per_criterion=4, holdout=0.3, seed=3), 0.3, 3)
    runs = {"p1-llama": ("llama-3.1-8b-local", 1), "p2-gpt": ("gpt-4o-mini-2026-10-v2", 2)}
    for name, (src, version) in runs.items():
        dst = example_ds / "judge" / name
        dst.mkdir()
        shutil.copy(example_ds / "judge" / src / "verdicts.yaml", dst / "verdicts.yaml")
        meta = (example_ds / "judge" / src / "run.yaml").read_text().replace(f"name: {src}", f"name: {name}")
        (dst / "run.yaml").write_text(meta + f"prompt_version: {version}\n")
    return {name: version for name, (_, version) in runs.items()}


def _by_hand(example_ds: Path, run: str, version: int) -> tuple[dict, int]:
    """criterion -> (agreement, kappa, n) on the run's held-out cases, from the files: the examples file read as
    YAML, the verdicts as JSON lines, gold from stats.numbers.gold, kappa from scikit-learn."""
    from ruamel.yaml import YAML
    from sklearn.metrics import cohen_kappa_score

    ds = open_dataset(example_ds)
    ex_file = example_ds.parent.parent / "rubrics" / "support-summary" / "judge-examples" / f"v{version}.yaml"
    shown = {e["case"] for e in YAML(typ="safe").load(ex_file.read_text())["examples"]} if ex_file.is_file() else set()
    first: dict[str, dict] = {}
    for line in (example_ds / "judge" / run / "verdicts.yaml").read_text().splitlines():
        if line.startswith("- "):
            rec = json.loads(line[2:])
            if "values" in rec and rec["case"] not in first:
                first[rec["case"]] = {c: v["value"] for c, v in rec["values"].items()}
    g = gold(ds)
    out = {}
    for c, crit in ds.rubric().criteria.items():
        pairs = [(first[x][c], g[x][c].value) for x in ds.cases.ids if x not in shown and x in first
                 and first[x].get(c) is not None and c in g.get(x, {})]
        scale = crit.scale.values()
        j, gg = ([scale.index(p[i]) for p in pairs] for i in (0, 1))
        kappa = cohen_kappa_score(j, gg, labels=list(range(len(scale))), weights="quadratic" if crit.scale.type.value == "ordinal" else None)
        out[c] = (sum(a == b for a, b in pairs) / len(pairs), kappa, len(pairs))
    return out, len(shown)


async def test_health_screen_shows_the_judge_agreement_per_prompt_version(example_ds: Path):
    """Two prompt versions, a run of each: the health screen's numbers are what the files say, worked out by hand."""
    from labeler.ui.app import LabelerApp
    from labeler.vcs.identity import Identity
    from screens_text import screen_text

    runs = _two_prompt_versions(example_ds)
    app = LabelerApp(open_dataset(example_ds), mode="review", identity=Identity("maya"))
    async with app.run_test(size=(150, 60)) as pilot:
        await pilot.press("H")
        await pilot.pause()
        assert type(app.screen).__name__ == "HealthScreen"
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        text = screen_text(app)
    assert "judge agreement by prompt version" in text
    crits = list(open_dataset(example_ds).rubric().criteria)
    for run, version in runs.items():
        want, shown = _by_hand(example_ds, run, version)
        assert (shown > 0) == (version == 2)
        row = next(ln for ln in text.splitlines() if f" {run} " in ln)
        assert re.search(rf"\bv{version}\b", row) and f"{60 - shown} ({shown})" in row
        cells = re.findall(r"(\d+)% (-?\d\.\d\d|undef) \((\d+)\)", row)
        assert len(cells) == len(crits), row
        for c, (pct, kap, n) in zip(crits, cells):
            agree, kappa, count = want[c]
            assert (int(pct), float(kap), int(n)) == (round(agree * 100), round(kappa, 2), count), (run, c)


def test_prompt_list_json_gives_agreement_and_kappa_per_criterion(example: Path):
    ds_path = example / "datasets" / "support-summary"
    runs = _two_prompt_versions(ds_path)
    r = cli(example, "judge", "prompt", "list", "support-summary", "--json")
    assert r.returncode == 0, r.stderr
    got = {m["run"]: m for row in json.loads(r.stdout) for m in row["runs"]}
    assert {m["run"]: m["version"] for m in got.values()} == runs
    for run, version in runs.items():
        want, shown = _by_hand(ds_path, run, version)
        assert got[run]["excluded_examples"] == shown and got[run]["held_out_cases"] == 60 - shown
        for c, (agree, kappa, n) in want.items():
            item = got[run]["criteria"][c]
            assert item["percent"]["value"] == pytest.approx(agree, abs=1e-4) and item["percent"]["n"] == n
            assert item["kappa"]["value"] == pytest.approx(kappa, abs=1e-4)
    r = cli(example, "judge", "prompt", "list", "support-summary")
    assert r.returncode == 0 and "judge agreement by prompt version" in r.stdout and "p2-gpt" in r.stdout
    r = cli(example, "judge", "prompt", "bump", "support-summary", "--json")
    assert r.returncode == 0 and json.loads(r.stdout) == {"version": 3, "file": "rubrics/support-summary/judge/v3.md",
                                                          "placeholder_added": False}


@pytest.mark.parametrize("argv, own", [
    (["judge", "prompt"], "Versions of the judge's prompt, as rubric versions have them"),
    (["judge", "prompt", "list"], "measured on held-out cases"),
    (["judge", "prompt", "show"], "The template of a version"),
    (["judge", "prompt", "diff"], "VERSION_A VERSION_B"),
    (["judge", "prompt", "bump"], "FROM_VERSION"),
    (["judge", "examples"], "--per-criterion"),
    (["judge", "compare"], "RUN_A RUN_B"),
    (["judge", "status"], "Every run (or one)"),
    (["judge", "drop"], "--force"),
])
def test_each_judge_subcommand_has_its_own_help(argv, own, capsys):
    """`labeler judge prompt --help` is prompt's help, not the judge group's (it was, while actions were words)."""
    from labeler.cli.main import main

    with pytest.raises(SystemExit) as e:
        main([*argv, "--help"])
    out = capsys.readouterr().out
    assert e.value.code == 0 and out.startswith(f"usage: labeler {' '.join(argv)} ") and own in out
    assert "--model" not in out and "Score cases with an LLM judge" not in out


def test_the_old_judge_command_lines_parse_as_before():
    """Every spelling that worked while the actions were positional words still means the same."""
    from labeler.cli.main import build_parser

    p = build_parser()
    ns = lambda *argv: vars(p.parse_args(["judge", *argv]))  # noqa: E731
    for argv in (["ds", "--model", "m", "--run", "r", "--json"], ["--model", "m", "--run", "r", "ds", "--json"],
                 ["--model", "m", "ds", "--json", "--run", "r"]):
        got = ns(*argv)
        assert (got["judge_action"], got["dataset"], got["model"], got["run"], got["json"]) == (None, "ds", "m", "r", True), argv
    assert ns("ds", "--model", "m", "--prompt", "v2", "--batch", "--wait", "5")["prompt"] == 2
    for argv in (["status", "ds", "--run", "r", "--json"], ["--json", "status", "ds", "--run", "r"]):
        got = ns(*argv)
        assert (got["judge_action"], got["dataset"], got["run"], got["json"]) == ("status", "ds", "r", True), argv
    got = ns("compare", "ds", "a", "b", "--json")
    assert (got["judge_action"], got["dataset"], got["run_a"], got["run_b"], got["json"]) == ("compare", "ds", "a", "b", True)
    got = ns("drop", "ds", "r", "--force")
    assert (got["judge_action"], got["run_name"], got["force"]) == ("drop", "r", True)
    assert [ns("prompt", x, "ds")["prompt_action"] for x in ("list", "show", "bump")] == ["list", "show", "bump"]
    assert ns("prompt", "show", "ds", "v2", "--json")["version"] == 2 and ns("prompt", "bump", "ds", "1")["version"] == 1
    assert (ns("prompt", "diff", "ds", "1", "v2")["a"], ns("prompt", "diff", "ds", "1", "v2")["b"]) == (1, 2)
    got = ns("examples", "ds", "--from", "r", "--per-criterion", "2", "--into", "3", "--holdout", "0.3", "--seed", "4",
             "--max-chars", "99", "--json")
    assert (got["from_run"], got["per_criterion"], got["into"], got["holdout"], got["seed"], got["max_chars"], got["json"]) == \
        ("r", 2, 3, 0.3, 4, 99, True)


@pytest.mark.parametrize("argv, says", [
    (["judge"], "required: DATASET | SUBCOMMAND"),
    (["judge", "prompt"], "required: SUBCOMMAND"),
    (["judge", "prompt", "show"], "required: dataset"),
    (["judge", "prompt", "diff", "ds", "1"], "VERSION_B"),
    (["judge", "prompt", "show", "ds", "latest"], "'latest' is not a prompt version"),
    (["judge", "examples", "ds"], "--from"),
    (["judge", "compare", "ds", "a"], "RUN_B"),
    (["judge", "ds", "extra", "--model", "m"], "unexpected argument 'extra'"),
    (["judge", "ds", "--model"], "expected one argument"),
])
def test_judge_usage_errors_are_one_line_exit_2(argv, says, capsys):
    from labeler.cli.main import main

    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and says in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


def test_which_prompt_a_run_used_is_read_without_its_verdicts(example_ds: Path):
    """`used` (behind `judge examples`, validate and the health screen) reads run.yaml only: a run's
    verdicts (100,000 lines at scale, five runs) are not parsed to learn which prompt it used."""
    _two_prompt_versions(example_ds)
    with open(example_ds / "judge" / "p2-gpt" / "verdicts.yaml", "a") as f:
        f.write("- {not a verdict\n")
    ds = open_dataset(example_ds)
    assert prompts.used(ds) == {1: [("p1-llama", ds.judge_meta("p1-llama").prompt_hash)],
                                2: [("p2-gpt", ds.judge_meta("p2-gpt").prompt_hash)]}
    assert not [p for p in ds.problems if "p2-gpt" in str(p)]  # its verdicts were never read
    ds.judge_run("p2-gpt")
    assert [p for p in ds.problems if "p2-gpt" in str(p)]  # reading them does report the broken line


@pytest.mark.parametrize("dataset, run", [("support-summary", RUN), ("support-summary", "llama-3.1-8b-local"),
                                          ("support-pairwise", "gpt-4o-mini-pairwise")])
def test_a_run_read_back_from_the_cache_is_the_run_as_parsed(example: Path, dataset: str, run: str):
    """The cached run (its text columns stored as raw bytes, rows built when asked for) says exactly what
    the parse said; a verdict for a case the dataset lacks is left out either way; an entry in the
    older layout is rebuilt, not trusted."""
    from labeler.derived import cache as c

    path = example / "datasets" / dataset
    with open(path / "judge" / run / "verdicts.yaml", "a") as f:
        f.write('- {"case": "ghost", "values": {}, "error": "timeout"}\n')

    def seen(ds):
        _, rv = ds.judge_run(run)
        index = dict(ds.case_index)
        codes, incons = rv.first_matrix(index, len(index))
        return {"cases": list(rv), "verdicts": {k: [v.model_dump() for v in rv[k]] for k in rv},
                "first": rv.first_values(), "errored": rv.errored(), "open_errors": rv.open_errors(),
                "positions": rv.position_counts(), "keys": rv.done_keys(), "codes": codes.tolist(), "incons": incons.tolist(),
                "ghost": [str(p) for p in ds.problems if "ghost" in str(p)]}

    parsed = seen(open_dataset(path))
    entry = path / ".cache" / f"judge__{run}__verdicts.yaml.cache"
    data = entry.read_bytes()
    head = data[:data.index(b"\n", len(c.MAGIC))]
    assert b"rationale" not in head and b'\\"r\\"' not in head  # the rationales are raw bytes after the header
    cached = seen(open_dataset(path))
    assert cached == parsed and "ghost" not in parsed["cases"] and parsed["ghost"]
    older = c.loads(data)["value"].__getstate__()
    older["blob"] = older["blob"].decode("utf-8")
    with pytest.raises(c.Bad):  # the older layout (the blob as one JSON string) is not this code's: rebuilt
        c._verdicts(older)
