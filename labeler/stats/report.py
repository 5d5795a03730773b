"""The lead's whole view of a dataset in one structure: composition, freshness, throughput, quality
with bootstrap intervals, and each judge run's calibration with the judge-corrected pass rate.

Plain data (dicts, lists, numbers): `labeler report` prints it as tables, JSON, Markdown or HTML,
and the dashboard screen plots it. Gold is as everywhere else: adjudicated, else consensus of the
others; an annotator is never scored against gold that includes their own label.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone

import numpy as np

from labeler.derived.current import Current
from labeler.stats.gather import adjudicated_of, ratings_of
from labeler.derived.label_table import NO_TIME
from labeler.derived.staleness import VersionIndex
from labeler.stats.agreement import MISSING, cohen_kappa, kappa_weights, level_of
from labeler.stats.alttest import alt_test
from labeler.stats.bootstrap import (B_DEFAULT, Interval, agreement_vs, alpha_interval, block_interval,
                                     flat_mean, mean_kappa_interval, percent_interval, ratio_interval, rogan_gladen)
from labeler.stats.numbers import agreement_groups
from labeler.truth.models import Criterion, ScaleKind
from labeler.dataset import Dataset

DEFAULT_TARGET = {"common": 60.0, "edge": 25.0, "adversarial": 15.0}


def pass_values(criterion: Criterion) -> set | None:
    """What counts as a pass: the "yes" point of a binary scale, the top point of an ordinal one;
    a categorical criterion has no pass rate."""
    scale = criterion.scale
    if scale.type is ScaleKind.binary:
        return {v for v, k in scale.keys().items() if k == "y"}
    if scale.type is ScaleKind.ordinal:
        return {max(scale.values())}
    return None


def _coef(value, n: int, interval: Interval | None = None) -> dict:
    out = {"value": None if value is None or (isinstance(value, float) and math.isnan(value)) else round(float(value), 4), "n": int(n)}
    if interval is not None and out["value"] is not None:  # undefined means no interval
        out["ci95"] = interval.as_dict()
    return out


def build_report(ds: Dataset, days: int = 14, seed: int = 0, replicates: int = B_DEFAULT, today: date | None = None,
                 runs: list[str] | None = None) -> dict:
    today = today or date.today()
    versions = ds.versions
    cur = Current(ds, versions)
    return {
        "dataset": ds.name, "rubric": ds.config.rubric, "rubric_version": ds.config.rubric_version,
        "overlap_k": ds.config.overlap, "cases": len(ds.cases), "today": today.isoformat(),
        "bootstrap": {"replicates": replicates, "seed": seed, "resampled": "cases"},
        "composition": composition(ds),
        "freshness": freshness(ds, cur, versions, days, today),
        "throughput": throughput(ds, cur, today),
        "quality": quality(ds, cur, versions, seed, replicates),
        "judge": [judge_report(ds, cur, versions, run, seed, replicates) for run in (runs if runs is not None else ds.judge_runs())],
        "drift": drift_history(ds),
        "win_rates": win_rates(ds, runs) if versions.in_force.pairwise else None,
        "human_position_bias": position_bias(ds, replicates, seed) if versions.in_force.pairwise else None,
        "left_out": [str(p) for p in ds.problems],
    }


def position_bias(ds: Dataset, replicates: int = B_DEFAULT, seed: int = 0) -> list[dict]:
    """A pairwise dataset: how often each annotator's decisive labels picked the output shown first."""
    from labeler.stats.winrate import human_position_bias

    return [b.as_dict() for b in human_position_bias(ds, replicates, seed)]


def win_rates(ds: Dataset, runs: list[str] | None) -> list[dict]:
    """A pairwise dataset: who wins how often, per criterion, by gold and by each judge run."""
    from labeler.stats.winrate import win_tables

    return [t.as_dict() for t in win_tables(ds, "source", runs)]


# ---------------------------------------------------------------- composition


def composition(ds: Dataset) -> dict:
    store = ds.cases
    n = len(store)
    tiers = store.tiers
    strata = []
    for j in range(n):
        if tiers[j] == "adversarial":
            strata.append("adversarial")
        elif store.fields[j].get("difficulty") == "hard" or "edge" in store.tags[j]:
            strata.append("edge")
        else:
            strata.append("common")
    target = ds.config.target or DEFAULT_TARGET
    have = {s: strata.count(s) for s in target}
    share = {s: target[s] / sum(target.values()) for s in target}
    # the smallest set that holds what is there and meets the target: every stratum at or above its share
    total = max([n] + [math.ceil(have[s] / share[s]) for s in target if share[s] > 0 and have[s]])
    add = {s: max(0, math.ceil(share[s] * total - 1e-9) - have[s]) for s in target}

    def counts(keys) -> dict:
        out: dict[str, int] = {}
        for k in keys:
            out[k] = out.get(k, 0) + 1
        return dict(sorted(out.items()))

    return {
        "by_tier": counts(tiers.tolist()),
        "by_difficulty": counts(f.get("difficulty") or "unset" for f in store.fields),
        "by_tag": counts(t for tags in store.tags for t in tags),
        "strata": {s: {"cases": have[s], "share": round(have[s] / n, 4) if n else None, "target": round(share[s], 4),
                       "to_add": add[s]} for s in target},
        "target_source": "dataset.yaml" if ds.config.target else "default 60/25/15",
    }


# ---------------------------------------------------------------- freshness and staleness


def freshness(ds: Dataset, cur: Current, versions: VersionIndex, days: int, today: date) -> dict:
    added = ds.cases.added
    cutoff = (today - timedelta(days=days) - date(1970, 1, 1)).days
    known = added >= 0
    old = int(((added < cutoff) & known).sum())
    t = ds.table
    stale = {}
    for c in versions.in_force.criteria:
        col = t.cols.get(c)
        had = np.zeros(cur.rows.shape, dtype=bool)
        if col is not None:
            had[cur.has] = col.a[cur.rows[cur.has]] >= 0
        stale[c] = int((had & (cur.matrix(c) == MISSING)).sum())
    return {"days": days, "older_than_days": old, "with_date": int(known.sum()),
            "stale_share": round(old / int(known.sum()), 4) if known.any() else None,
            "stale_labels_by_criterion": stale}


# ---------------------------------------------------------------- throughput


def throughput(ds: Dataset, cur: Current, today: date) -> dict:
    t = ds.table
    keep = ~t.retract.v
    ann, at, secs = t.ann.v[keep], t.at.v[keep], t.seconds.v[keep].astype(float)
    per = {}
    for i, name in sorted(enumerate(t.annotators), key=lambda x: x[1]):
        mine = ann == i
        when = at[mine][at[mine] != NO_TIME]
        day = np.unique(when // 86_400_000_000) if len(when) else np.zeros(0)
        s = secs[mine]
        s = s[np.isfinite(s)]
        per[name] = {
            "labels": int(mine.sum()), "active_days": int(len(day)),
            "labels_per_day": round(int(mine.sum()) / len(day), 2) if len(day) else None,
            "median_seconds": round(float(np.median(s)), 1) if len(s) else None,
            "p90_seconds": round(float(np.percentile(s, 90)), 1) if len(s) else None,
            "labels_per_hour_labeling": round(len(s) / (s.sum() / 3600), 1) if len(s) and s.sum() > 0 else None,
        }
    k = ds.config.overlap
    complete = cur.complete()
    have = complete.sum(axis=0) if complete.size else np.zeros(len(ds.cases), np.int64)
    remaining = int(np.maximum(0, k - have).sum())
    end = (datetime.combine(today, datetime.min.time(), timezone.utc) + timedelta(days=1)).timestamp() * 1e6
    recent = at[(at != NO_TIME) & (at >= end - 14 * 86_400_000_000) & (at < end)]
    pace = len(recent) / 14 if len(recent) else 0.0
    return {"by_annotator": per, "labels_to_reach_k": remaining, "pace_last_14_days_per_day": round(pace, 2),
            "projected_days_to_k": (round(remaining / pace, 1) if pace else None) if remaining else 0.0}


# ---------------------------------------------------------------- quality


def quality(ds: Dataset, cur: Current, versions: VersionIndex, seed: int, replicates: int) -> dict:
    rubric = versions.in_force
    point = {r.criterion: r for r in agreement_groups(ds, "criterion")[0].reports}
    out = {}
    for c, crit in rubric.criteria.items():
        r = ratings_of(cur, c)
        n_values = len(crit.scale.points)
        kind = kappa_weights(crit)
        rep = point[c]
        adjudicated = adjudicated_of(cur, r)
        vs_gold = {}
        for i, a in enumerate(r.raters):
            ref = r.gold("consensus", adjudicated, without=i)
            p, kk = rep.vs_gold.get(a, (None, None))
            pi, ki = agreement_vs(r.data[i], ref, n_values, kind, replicates, seed)
            if p is not None and p.n:
                vs_gold[a] = {"percent": _coef(p.value, p.n, pi), "kappa": _coef(kk.value, kk.n, ki)}
        out[c] = {
            "scale": crit.scale.type.value, "level": level_of(crit),
            "alpha": _coef(rep.alpha.value, rep.alpha.n, alpha_interval(r.data, n_values, level_of(crit), replicates, seed)),
            "percent_agreement": _coef(rep.percent.value, rep.percent.n, percent_interval(r.data, n_values, replicates, seed)),
            "mean_pairwise_kappa": _coef(rep.mean_kappa.value, rep.mean_kappa.n,
                                         mean_kappa_interval(r.data, n_values, kind, replicates, seed)),
            "annotator_vs_gold": vs_gold,
        }
    return out


# ---------------------------------------------------------------- judge


def judge_report(ds: Dataset, cur: Current, versions: VersionIndex, run: str, seed: int, replicates: int) -> dict:
    meta, verdicts = ds.judge_run(run)
    rubric = versions.in_force
    judged = verdicts.first_values() if hasattr(verdicts, "first_values") else {}
    from labeler.stats.heldout import example_cases

    shown = example_cases(ds, meta.prompt_version)  # the judge saw these graded: measured on the others only
    judged = {cid: v for cid, v in judged.items() if cid not in shown}
    out = {"run": run, "model": meta.model, "rubric_version": meta.rubric_version, "prompt_version": meta.prompt_version,
           "excluded_examples": len(shown & set(ds.case_index)), "criteria": {}}
    for c, crit in rubric.criteria.items():
        r = ratings_of(cur, c)
        n_values = len(crit.scale.points)
        kind = kappa_weights(crit)
        adj = adjudicated_of(cur, r)
        gold = r.gold("consensus", adj)
        j = r.ref_vector({cid: v[c] for cid, v in judged.items() if c in v})
        both = (j != MISSING) & (gold != MISSING)
        p_i, k_i = agreement_vs(j, gold, n_values, kind, replicates, seed)
        pct = float((j[both] == gold[both]).mean()) if both.any() else None
        kap = cohen_kappa(j, gold, n_values, kind)
        alt = alt_test(r.data, j, r.raters, n_values, level_of(crit) == "ordinal")
        item = {"judge_vs_gold": {"percent": _coef(pct, int(both.sum()), p_i), "kappa": _coef(kap.value, kap.n, k_i)},
                "same_cases": same_cases(r, j, adj, replicates, seed),
                "alt_test": {**alt.as_dict(), "summary": alt.summary()}}
        passing = pass_values(crit)
        if passing:
            scale = crit.scale.values()
            is_pass = np.array([scale[x] in passing if x != MISSING else False for x in range(n_values)] + [False])
            jp = np.where(j != MISSING, is_pass[np.where(j == MISSING, n_values, j)], False)
            gp = np.where(gold != MISSING, is_pass[np.where(gold == MISSING, n_values, gold)], False)
            only = (j != MISSING) & (gold == MISSING)
            item["pass"] = {"pass_values": sorted(map(str, passing)), **pass_rates(jp, gp, both, only, replicates, seed)}
        out["criteria"][c] = item
    return out


def pass_rates(jp: np.ndarray, gp: np.ndarray, both: np.ndarray, only: np.ndarray, replicates: int, seed: int) -> dict:
    """The judge's pass rates, each with a 95% interval over resampled cases: sensitivity (judge passes
    where gold passes) and specificity (judge fails where gold fails) on the `both` cases, the raw pass
    rate on the judge-only cases, and that rate corrected by the two (Rogan-Gladen). jp/gp: the judge's
    and gold's pass per case; `only`: cases the judge scored that have no gold."""
    pos, neg = both & gp, both & ~gp
    masks = np.stack([pos & jp, pos, neg & ~jp, neg, only & jp, only]).astype(float).T  # cases x 6
    n = len(jp)

    def rates(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sensitivity, specificity, raw judge-only pass rate) for each row of case weights."""
        m = np.atleast_2d(w) @ masks
        with np.errstate(divide="ignore", invalid="ignore"):
            return m[:, 0] / m[:, 1], m[:, 2] / m[:, 3], m[:, 4] / m[:, 5]

    sens, spec, p_obs = (float(x[0]) for x in rates(np.ones(n)))

    def corrected(block: np.ndarray) -> np.ndarray:
        s, t, p = rates(block)
        youden = s + t - 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.clip((p + t - 1.0) / youden, 0.0, 1.0)
        return np.where(youden > 0, x, np.nan)

    def rate(k: int, value: float, count: int) -> dict:
        iv = (block_interval(lambda b: rates(b)[k], n, replicates, seed, bounds=(0.0, 1.0), flat=flat_mean(value, count))
              if count else None)
        return _coef(value, count, iv)

    est = None if any(math.isnan(x) for x in (sens, spec, p_obs)) else rogan_gladen(p_obs, sens, spec)
    return {"sensitivity": rate(0, sens, int(pos.sum())), "specificity": rate(1, spec, int(neg.sum())),
            "judge_only_cases": int(only.sum()), "raw_pass_rate": rate(2, p_obs, int(only.sum())),
            "corrected_pass_rate": _coef(est, int(only.sum()), block_interval(corrected, n, replicates, seed, bounds=(0.0, 1.0))
                                         if only.any() else None),
            "method": "Rogan-Gladen: (raw + specificity - 1) / (sensitivity + specificity - 1), clipped to [0, 1]"}


def same_cases(r, j: np.ndarray, adjudicated: np.ndarray, replicates: int = B_DEFAULT, seed: int = 0) -> dict:
    """The judge and the people on the same footing: for each annotator, the cases they and the judge both
    labeled that have gold made without them; judge and annotator are both scored against that gold
    there, and the matches are pooled over annotators. (Gold from everyone exists mostly where people
    agreed, so the judge on those cases beside people on all cases flatters the judge.) The 95% intervals
    (each rate and the judge's lead) resample cases, each with all its annotator pairs."""
    hits_j = np.zeros(r.data.shape[1])
    hits_h = np.zeros(r.data.shape[1])
    pairs = np.zeros(r.data.shape[1])
    for i in range(len(r.raters)):
        g = r.gold("consensus", adjudicated, without=i)
        on = (r.data[i] != MISSING) & (j != MISSING) & (g != MISSING)
        hits_j += on & (j == g)
        hits_h += on & (r.data[i] == g)
        pairs += on
    n = int(pairs.sum())
    rate = lambda x: float(x.sum()) / n if n else None  # noqa: E731
    return {"judge_percent": _coef(rate(hits_j), n, ratio_interval(hits_j, pairs, replicates, seed)),
            "annotators_percent": _coef(rate(hits_h), n, ratio_interval(hits_h, pairs, replicates, seed)),
            "judge_minus_annotators": _coef(rate(hits_j - hits_h), n, ratio_interval(hits_j - hits_h, pairs, replicates, seed,
                                                                                      (-1.0, 1.0))),
            "n_counts": "annotator-case pairs: a case each annotator and the judge labeled, with gold made without that "
                        "annotator; intervals resample cases"}


def drift_history(ds: Dataset) -> dict:
    """Each recorded `labeler drift` run (oldest first) and the largest uncovered clusters of the latest."""
    from labeler.errors import FileFormatError
    from labeler.truth.yamlio import load_fast

    runs = []
    folder = ds.path / "drift"
    for p in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            r = load_fast(p)
        except FileFormatError as e:
            ds.problem(e.path, e.line, f"{e.message}; drift run left out", blocks=False)
            continue
        if isinstance(r, dict) and isinstance(r.get("score"), (int, float)):
            runs.append(r)
    runs.sort(key=lambda r: (str(r.get("date")), str(r.get("file_hash"))))
    return {"runs": [{k: r.get(k) for k in ("date", "file", "score", "covered_share", "production_inputs", "model")} for r in runs],
            "latest_clusters": (runs[-1].get("clusters") or [])[:3] if runs else []}
