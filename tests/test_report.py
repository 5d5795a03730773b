"""`labeler report`: numbers on hand-built data, bootstrap intervals against a plain reference, the
Rogan-Gladen correction in closed form, and Markdown and HTML that real parsers read."""

from __future__ import annotations

import json
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from labeler import cli
from labeler.stats.agreement import krippendorff_alpha, percent_agreement
from bca_ref import scipy_bca, tail_error
from labeler.stats.bootstrap import alpha_interval, percent_interval, rogan_gladen
from labeler.stats.report import build_report
from labeler.report_formats import html_page, markdown
from labeler.dataset import open_dataset


def _log(path: Path, *records: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        for r in records:
            f.write("- " + json.dumps(r) + "\n")


def test_bootstrap_intervals_agree_with_scipys_bca_within_monte_carlo_error():
    """alpha and percent agreement on 60 cases against scipy.stats.bootstrap(method='BCa') at the expanded
    level, with draws of its own: the ends agree within 4 Monte-Carlo standard errors of a tail quantile
    (labeler's 1000 replicates and scipy's 4000 together), and the same seed gives the same numbers."""
    rng = np.random.default_rng(7)
    data = rng.integers(0, 3, size=(4, 60))
    data[rng.random(data.shape) < 0.2] = -1
    got = alpha_interval(data, 3, "ordinal", replicates=1000, seed=11)
    assert got == alpha_interval(data, 3, "ordinal", replicates=1000, seed=11)  # same seed, same numbers
    for mine, stat in ((got, lambda idx: krippendorff_alpha(data[:, idx], 3, "ordinal").value),
                       (percent_interval(data, 3, replicates=1000, seed=11), lambda idx: percent_agreement(data[:, idx], 3).value)):
        lo, hi, se = scipy_bca(stat, 60)
        tol = 4 * np.hypot(tail_error(se, 60, 1000), tail_error(se, 60, 4000))
        assert mine.low == pytest.approx(lo, abs=tol) and mine.high == pytest.approx(hi, abs=tol)
        assert mine.low <= stat(np.arange(60)) <= mine.high


def test_bootstrap_intervals_narrow_as_one_over_root_n_and_cover_in_a_small_simulation():
    """Properties no draw order can fake: four times the cases halve the width; and over 200 simulated
    judges (25 cases, kappa and percent against gold) the intervals hold the population value about 95% of
    the time (at least 90%: the Monte-Carlo standard error of a 95% rate over 200 runs is 1.5 points)."""
    from labeler.stats.agreement import cohen_kappa
    from labeler.stats.bootstrap import agreement_vs

    rng = np.random.default_rng(3)
    gold = rng.choice(3, size=40, p=[0.2, 0.3, 0.5])
    judge = np.where(rng.random(40) < 0.7, gold, rng.integers(0, 3, 40))
    small = agreement_vs(judge, gold, 3, "quadratic", 1000, 0)[1]
    big = agreement_vs(np.tile(judge, 4), np.tile(gold, 4), 3, "quadratic", 1000, 0)[1]
    assert 1.7 < (small.high - small.low) / (big.high - big.low) < 2.3

    def draw(n):
        g = rng.choice(3, size=n, p=[0.2, 0.3, 0.5])
        return np.where(rng.random(n) < 0.8, g, rng.integers(0, 3, n)), g
    j, g = draw(200_000)
    truth = ((j == g).mean(), cohen_kappa(j, g, 3, "quadratic").value)
    held = np.zeros(2)
    for s in range(200):
        for k, iv in enumerate(agreement_vs(*draw(25), 3, "quadratic", 500, s)):
            held[k] += iv.low <= truth[k] <= iv.high
    assert (held / 200 >= 0.90).all(), held / 200


def test_rogan_gladen_closed_form():
    # true prevalence 0.6, sensitivity 0.9, specificity 0.8 -> observed 0.6*0.9 + 0.4*0.2 = 0.62
    assert rogan_gladen(0.62, 0.9, 0.8) == pytest.approx(0.6)
    assert rogan_gladen(0.1, 0.9, 0.8) == 0.0  # clipped
    assert rogan_gladen(0.5, 0.5, 0.5) is None  # a judge no better than chance corrects nothing


def test_report_numbers_on_a_hand_built_dataset(tiny: Path):
    ds_path = tiny / "datasets" / "tiny"
    (ds_path / "dataset.yaml").write_text("name: tiny\nrubric: tiny\nrubric_version: 1\noverlap: 2\n"
                                          "target: {common: 50, edge: 0, adversarial: 50}\n")
    cases = ds_path / "cases.yaml"
    cases.write_text(cases.read_text().replace("output: answer 1\n", "output: answer 1\n  added: 2026-01-01\n"))
    v = {"correct": 2, "polite": "pass", "topic": "tech"}
    _log(ds_path / "labels" / "ann.yaml", *({"case": f"t{i}", "rubric": 1, "values": v, "seconds": s,
                                            "at": f"2026-11-2{d}T10:00:00Z"} for i, s, d in ((1, 10, 8), (2, 20, 8), (3, 30, 9), (4, 40, 9))))
    _log(ds_path / "labels" / "ben.yaml", *({"case": f"t{i}", "rubric": 1, "values": {**v, "polite": "fail" if i == 2 else "pass"},
                                            "seconds": 60, "at": "2026-11-29T11:00:00Z"} for i in (1, 2)))
    # the judge: right on t1 (pass) and on t2's gold? t2 has no gold for polite (they disagree); t3, t4 judge only
    run = ds_path / "judge" / "r"
    run.mkdir(parents=True)
    (run / "run.yaml").write_text("name: r\nmodel: m\nrubric: tiny\nrubric_version: 1\n")
    _log(run / "verdicts.yaml", *({"case": c, "values": {k: {"value": x} for k, x in vals.items()}} for c, vals in (
        ("t1", v), ("t3", {**v, "polite": "fail"}), ("t4", v), ("t5", v))))
    r = build_report(open_dataset(ds_path), today=date(2026, 11, 30), replicates=200, seed=3)
    comp = r["composition"]
    # 3 golden (common) + 2 adversarial; a 50/50 target: 3 common need 3 adversarial -> add 1
    assert comp["strata"]["common"]["cases"] == 3 and comp["strata"]["adversarial"]["to_add"] == 1
    assert comp["strata"]["common"]["to_add"] == 0 and comp["strata"]["edge"]["to_add"] == 0
    assert comp["target_source"] == "dataset.yaml"
    assert r["freshness"]["older_than_days"] == 1 and r["freshness"]["with_date"] == 1
    ann = r["throughput"]["by_annotator"]["ann"]
    assert ann["labels"] == 4 and ann["active_days"] == 2 and ann["labels_per_day"] == 2.0
    assert ann["median_seconds"] == 25.0 and ann["p90_seconds"] == pytest.approx(37.0)
    assert ann["labels_per_hour_labeling"] == pytest.approx(4 / (100 / 3600), rel=1e-3)
    # k=2 on 5 cases; t1 has 2 current labels, t2 has 2, t3 and t4 one, t5 none -> 1 + 1 + 2 = 4 to go
    assert r["throughput"]["labels_to_reach_k"] == 4
    q = r["quality"]["polite"]
    assert q["percent_agreement"]["value"] == 0.5 and q["percent_agreement"]["n"] == 2
    assert r["bootstrap"] == {"replicates": 200, "seed": 3, "resampled": "cases"}
    j = r["judge"][0]["criteria"]["polite"]
    # gold for polite: t1 (both pass); judge pass on t1 -> sensitivity 1 (n=1), no gold fails -> specificity undefined
    # 1 of 1 is all a resample can show, so the interval is the exact binomial one: [0.025, 1] (Clopper-Pearson)
    sens = j["pass"]["sensitivity"]
    assert (sens["value"], sens["n"]) == (1.0, 1) and (sens["ci95"]["low"], sens["ci95"]["high"]) == (0.025, 1.0)
    assert j["pass"]["specificity"]["value"] is None and "ci95" not in j["pass"]["specificity"]  # undefined: no interval
    assert j["pass"]["judge_only_cases"] == 3 and j["pass"]["raw_pass_rate"]["value"] == pytest.approx(2 / 3, abs=1e-4)
    assert j["pass"]["corrected_pass_rate"]["value"] is None  # no specificity, no correction: said, not guessed
    md = markdown(r).split("pass decisions on cases with gold")[1]
    rates = next(line for line in md.splitlines() if line.startswith("| polite"))  # what a reader sees
    assert rates.replace("\\", "").rstrip(" |").split(" | ")[1:3] == [f"100% [{0.025:.0%}, 100%] (n=1)", "undefined"]


def test_markdown_and_html_parse(example: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(example)
    assert cli.main(["report", "support-summary", "--markdown", "--replicates", "50", "--html", str(tmp_path / "r.html")]) == 0
    md = capsys.readouterr().out
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    assert sum(1 for t in tokens if t.type == "table_open") >= 5
    assert any(t.type == "heading_open" for t in tokens)

    class Check(HTMLParser):
        def __init__(self):
            super().__init__()
            self.stack, self.tags = [], {}

        def handle_starttag(self, tag, attrs):
            self.tags[tag] = self.tags.get(tag, 0) + 1
            if tag not in ("meta", "rect", "line", "br"):
                self.stack.append(tag)

        def handle_endtag(self, tag):
            if tag in ("rect", "line"):
                return
            assert self.stack and self.stack[-1] == tag, (tag, self.stack[-3:])
            self.stack.pop()

    page = (tmp_path / "r.html").read_text()
    c = Check()
    c.feed(page)
    assert not c.stack and c.tags["svg"] >= 3 and c.tags["table"] >= 5
    assert "<script" not in page and "http" not in page.replace("http://www.w3.org/2000/svg", "")


def test_report_text_from_files_is_escaped(example: Path):
    ds = open_dataset(example / "datasets" / "support-summary")
    r = build_report(ds, replicates=20)
    r["dataset"] = "<script>alert(1)</script> | [link](x)"
    assert "<script>" not in html_page(r)
    assert "\\|" in markdown(r).splitlines()[0] and "\\[link\\]" in markdown(r).splitlines()[0]


def tone_alpha_from_the_files(example: Path) -> float:
    """Tone's alpha by the `krippendorff` oracle on the raw label lines: each annotator's latest label per
    case, counted when made under v2 (tone changed from v1 to v2, so a v1 value does not hold)."""
    import krippendorff

    files = sorted((example / "datasets" / "support-summary" / "labels").glob("*.yaml"))
    latest = [{r["case"]: r for r in (json.loads(x[2:]) for x in f.read_text().splitlines() if x.startswith("- "))} for f in files]
    cases = sorted({c for per in latest for c in per})
    rows = [[per[c]["values"].get("tone", np.nan) if c in per and per[c]["rubric"] == 2 else np.nan for c in cases] for per in latest]
    return krippendorff.alpha(reliability_data=np.array(rows, dtype=float), level_of_measurement="ordinal")


def test_dashboard_numbers_match_the_report(example: Path):
    from labeler.stats.dashboard import dashboard_data

    ds = open_dataset(example / "datasets" / "support-summary")
    d = dashboard_data(ds, replicates=50)
    r = build_report(ds, replicates=50, runs=[])
    assert d["alpha"]["tone"][0] == pytest.approx(tone_alpha_from_the_files(example), abs=1e-4)
    assert r["quality"]["tone"]["alpha"]["value"] == pytest.approx(tone_alpha_from_the_files(example), abs=1e-4)
    assert {v for v, _ in d["by_version"]["tone"]} == {1, 2}
    shares = d["distributions"]["tone"]["series"]
    assert abs(sum(shares["people"]) - 1) < 1e-9 and set(shares) >= {"people", "gpt-4o-mini-2026-10"}
    assert sum(n for _, n in d["per_day"]["alice"]) == r["throughput"]["by_annotator"]["alice"]["labels"]


def test_the_t_quantile_behind_the_widened_intervals():
    from scipy.stats import t

    from labeler.stats.bootstrap import t_quantile

    assert t_quantile(0.975, 4) == pytest.approx(t.ppf(0.975, 4), abs=1e-2)
    for df in (9, 24, 59, 999):
        assert t_quantile(0.975, df) == pytest.approx(t.ppf(0.975, df), abs=1e-3)


def test_an_undefined_statistic_has_no_interval():
    """A corrected pass rate the judge cannot correct (no better than chance on gold) once carried
    ci95 [0, 1] from the replicates where it happened to be defined."""
    from labeler.stats.bootstrap import block_interval
    from labeler.stats.report import _coef

    judge_no_better = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])  # undefined on the data, defined on some resamples

    def stat(block):
        s = block @ judge_no_better / block.sum(axis=1)
        return np.where(np.isclose(s, 0.5), np.nan, s)
    ci = block_interval(stat, 6, 200, 0)
    assert (ci.low, ci.high, ci.replicates) == (None, None, 0)
    assert "ci95" not in _coef(None, 6, ci) and _coef(0.4, 6, ci)["ci95"]["low"] is None


def test_a_number_no_resample_moves_reaches_as_far_as_unseen_cases_could_move_it():
    """A judge agreeing with gold on all 25 cases once got [1, 1] for both percent and kappa: a certainty no
    25 cases can give. Now the share of disagreeing cases never seen is bounded as Clopper-Pearson bounds
    0 of 25 (1 - 0.025^(1/25) = 0.137); for kappa they are the costliest disagreement (0 vs 2, half each
    way), as for any disagreement costlier than the cases show (the next test)."""
    from labeler.stats.bootstrap import agreement_vs, mean_interval

    gold = np.array([0] * 5 + [1] * 8 + [2] * 12)
    pct, kap = agreement_vs(gold.copy(), gold, 3, "quadratic", 500, 0)
    q = 1 - 0.025 ** (1 / 25)
    assert (pct.low, pct.high) == pytest.approx((1 - q, 1.0))
    assert (kap.low, kap.high) == pytest.approx((_kappa_with_unseen(gold, gold, q), 1.0))
    passes = mean_interval(np.ones(25), 500, 0, (0.0, 1.0))  # 25 of 25 pass
    assert (passes.low, passes.high) == pytest.approx((1 - q, 1.0))
    assert mean_interval(np.zeros(25), 500, 0, (-1.0, 1.0)).high == pytest.approx(q)  # nothing changed on 25 cases


def _kappa_with_unseen(a: np.ndarray, b: np.ndarray, q: float, i: int = 0, j: int = 2) -> float:
    """scikit-learn's quadratic kappa of the cases (a, b) weighted 1 - q in all, plus a share q of cases
    i vs j, half each way: what a disagreement never seen in them could bring the kappa down to."""
    from sklearn.metrics import cohen_kappa_score

    w = np.concatenate([np.full(len(a), (1 - q) / len(a)), [q / 2, q / 2]])
    return cohen_kappa_score(np.concatenate([a, [i, j]]), np.concatenate([b, [j, i]]), labels=[0, 1, 2],
                             weights="quadratic", sample_weight=w)


def test_a_kappa_interval_reaches_a_costlier_disagreement_no_case_shows():
    """Issue #28: 25 cases where two raters never disagree by 0 vs 2 (quadratic cost 4; 8% of such samples
    when 1 case in 10 is one) got kappa 0.93 in [0.74, 1]: no resample can show that disagreement, yet it
    can be as common as 1 - 0.025^(1/25) = 13.7% of cases (Clopper-Pearson, 0 of 25). The interval now
    reaches the kappa with that share of them, for a pair of raters and for a rater against gold alike."""
    from labeler.stats.bootstrap import agreement_vs, mean_kappa_interval

    conf = {(0, 0): 7, (1, 1): 9, (2, 1): 2, (2, 2): 7}  # 25 cases, no 0 vs 2
    a = np.repeat([r for r, _ in conf], list(conf.values()))
    b = np.repeat([c for _, c in conf], list(conf.values()))
    floor = _kappa_with_unseen(a, b, 1 - 0.025 ** (1 / 25))
    assert floor == pytest.approx(0.528, abs=1e-3)
    pair = mean_kappa_interval(np.stack([a, b]), 3, "quadratic", 1000, 0)
    _, vs = agreement_vs(a, b, 3, "quadratic", 1000, 0)
    for iv in (pair, vs):
        assert iv.low == pytest.approx(floor) and iv.high == 1.0


def test_kappa_intervals_of_samples_without_the_costliest_disagreement_cover():
    """The blind spot in numbers: two raters on 25 cases (the true value with chance 0.75, else a uniform
    draw on 0-2; kappa 0.53), among samples showing no 0 vs 2 disagreement the old intervals held the
    population kappa 1 time in 5 (they sat high: nothing in the data can pull a resample down); now
    most of the time (70-96% over seeds in benchmarks/coverage.py runs)."""
    from labeler.stats.agreement import cohen_kappa
    from labeler.stats.bootstrap import mean_kappa_interval

    rng = np.random.default_rng(5)

    def draw(n):
        z = rng.choice(3, size=n, p=[0.2, 0.3, 0.5])
        return np.stack([np.where(rng.random(n) < 0.75, z, rng.integers(0, 3, n)) for _ in range(2)])
    big = draw(200_000)
    truth = cohen_kappa(big[0], big[1], 3, "quadratic").value
    held = blind = 0
    while blind < 30:
        d = draw(25)
        if (np.abs(d[0] - d[1]) == 2).any():
            continue
        iv = mean_kappa_interval(d, 3, "quadratic", 300, blind)
        held += iv.low <= truth <= iv.high
        blind += 1
    assert held / blind >= 0.6, held / blind


def test_a_judge_that_always_says_pass_has_a_kappa_interval_as_wide_as_unseen_cases_allow():
    """Kappa is 0 on every resample when the judge never varies; the interval reaches as far as
    unseen_share(n) of the cases in one unseen cell could move it (sklearn's weighted kappa, not [0, 0])."""
    from sklearn.metrics import cohen_kappa_score

    from labeler.stats.bootstrap import agreement_vs, unseen_share

    gold = np.array([1] * 40 + [0] * 3)
    judge = np.ones(43, dtype=int)
    _, kap = agreement_vs(judge, gold, 2, None, 300, 0)
    q = unseen_share(43)
    a = np.concatenate([judge, [0]])  # one more case: the judge says fail, gold says fail, weighing q of the whole
    b = np.concatenate([gold, [0]])
    w = np.concatenate([np.full(43, (1 - q) / 43), [q]])
    high = cohen_kappa_score(a, b, sample_weight=w)
    w_low = w.copy()
    b_low = np.concatenate([gold, [1]])  # the judge says fail where gold passes
    low = cohen_kappa_score(a, b_low, sample_weight=w_low)
    assert kap.low == pytest.approx(low, abs=1e-9) and kap.high == pytest.approx(high, abs=1e-9)
    assert kap.low < 0 < 0.5 < kap.high
