"""Did a new version get worse? A candidate's judge run against a baseline (human gold on the golden
outputs, or another judge run), per criterion: mean score and pass rate of each side on the cases both
scored, the difference with a paired bootstrap 95% interval, the cases that got worse, and CI gates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from labeler.derived.staleness import VersionIndex
from labeler.stats.bootstrap import B_DEFAULT, Interval, block_interval
from labeler.stats.report import pass_values
from labeler.truth.models import ScaleKind
from labeler.truth.store import Dataset

GROUPS = ("criterion", "tier", "difficulty", "tag")


@dataclass
class Side:
    name: str
    describe: str
    values: dict[str, dict]
    """case -> criterion -> value."""
    rationales: dict[str, dict[str, str]] = field(default_factory=dict)


def side(ds: Dataset, ref: str) -> Side:
    """'gold' (human gold on the golden outputs) or a judge run."""
    from labeler.stats.numbers import gold

    if ref == "gold":
        g = gold(ds)
        return Side("gold", "human gold on the golden outputs (adjudicated, else consensus)",
                    {cid: {c: gv.value for c, gv in per.items()} for cid, per in g.items()})
    meta, verdicts = ds.judge_run(ref)
    first = verdicts.first_verdicts()
    what = f"candidate {meta.candidate}" if meta.candidate else "the golden outputs"
    return Side(ref, f"judge run {ref} ({meta.model}) on {what}",
                {cid: {c: cv.value for c, cv in per.items()} for cid, per in first.items()},
                {cid: {c: cv.rationale for c, cv in per.items()} for cid, per in first.items()})


def _groups(ds: Dataset, by: str) -> dict[str, set[str]]:
    store = ds.cases
    if by == "criterion":
        return {"all cases": set(store)}
    out: dict[str, set[str]] = {}
    for j, cid in enumerate(store.ids):
        keys = {"tier": [store.field(j, "tier")], "difficulty": [store.field(j, "difficulty") or "unset"],
                "tag": list(store.tags[j])}[by]
        for k in keys:
            out.setdefault(f"{by} {k}", set()).add(cid)
    return dict(sorted(out.items()))


def regress(ds: Dataset, base: str, candidate: str, by: str = "criterion", seed: int = 0,
            replicates: int = B_DEFAULT) -> dict:
    if by not in GROUPS:
        raise ValueError(f"--by must be one of {', '.join(GROUPS)}")
    versions = VersionIndex(ds)
    rubric = versions.in_force
    if rubric.pairwise:
        from labeler.errors import LabelerError

        raise LabelerError(f"{ds.name} is pairwise: its verdicts say which output is better, not a score to compare "
                         "across runs; use `labeler winrate`")
    a, b = side(ds, base), side(ds, candidate)
    out = {"dataset": ds.name, "base": {"name": a.name, "what": a.describe}, "candidate": {"name": b.name, "what": b.describe},
           "bootstrap": {"replicates": replicates, "seed": seed, "resampled": "paired cases"}, "groups": []}
    for title, members in _groups(ds, by).items():
        group = {"group": title, "criteria": {}}
        for c, crit in rubric.criteria.items():
            paired = sorted(cid for cid in members if c in a.values.get(cid, {}) and c in b.values.get(cid, {}))
            passing = pass_values(crit)
            item: dict = {"cases": len(paired)}
            if not paired:
                group["criteria"][c] = item
                continue
            va = [a.values[cid][c] for cid in paired]
            vb = [b.values[cid][c] for cid in paired]
            if crit.scale.type is ScaleKind.ordinal:
                item["mean_base"] = round(float(np.mean(va)), 4)
                item["mean_candidate"] = round(float(np.mean(vb)), 4)
            worse = []
            if passing:
                pa = np.array([v in passing for v in va], dtype=float)
                pb = np.array([v in passing for v in vb], dtype=float)
                diff = pb - pa
                ci: Interval = block_interval(lambda w: (w @ diff) / len(diff), len(diff), replicates, seed)
                item.update({"pass_base": round(float(pa.mean()), 4), "pass_candidate": round(float(pb.mean()), 4),
                             "pass_diff": round(float(diff.mean()), 4), "pass_diff_ci95": ci.as_dict()})
                worse = [i for i in range(len(paired)) if pa[i] > pb[i]]
            if crit.scale.type is ScaleKind.ordinal:
                worse = sorted(set(worse) | {i for i in range(len(paired)) if vb[i] < va[i]})
            elif not passing:
                worse = [i for i in range(len(paired)) if vb[i] != va[i]]  # categorical: every change, for a look
                item["changed"] = len(worse)
            item["worse"] = [{"case": paired[i], "base": va[i], "candidate": vb[i],
                              "rationale": b.rationales.get(paired[i], {}).get(c, "")} for i in worse]
            group["criteria"][c] = item
        out["groups"].append(group)
    return out


def gates(result: dict, max_drop: float | None, min_pass: dict[str, float]) -> list[str]:
    """What fails CI: a criterion whose pass rate fell by more than max_drop (all cases), or a tier under its floor."""
    failures = []
    overall = next((g for g in result["groups"] if g["group"] == "all cases"), None)
    if max_drop is not None and overall is not None:
        for c, item in overall["criteria"].items():
            if "pass_diff" in item and item["pass_diff"] < -max_drop:
                failures.append(f"{c}: pass rate fell {-item['pass_diff']:.1%} ({item['pass_base']:.1%} -> "
                                f"{item['pass_candidate']:.1%}, n={item['cases']}), more than {max_drop:.1%}")
    for g in result["groups"]:
        tier = g["group"].removeprefix("tier ")
        if g["group"].startswith("tier ") and tier in min_pass:
            for c, item in g["criteria"].items():
                if "pass_candidate" in item and item["pass_candidate"] < min_pass[tier]:
                    failures.append(f"{c} on tier {tier}: pass rate {item['pass_candidate']:.1%} < {min_pass[tier]:.0%} "
                                    f"(n={item['cases']})")
    return failures


def calibration_warnings(ds: Dataset, run: str, bar: float = 0.8) -> list[str]:
    """Has this judge (model and prompt) passed calibration on this dataset? A run of it on the golden
    outputs must agree with gold on every criterion at `bar` or more."""
    from labeler.stats.calibrate import calibrate

    meta, _ = ds.judge_run(run)
    peers = []
    for name in ds.judge_runs():
        m, v = ds.judge_run(name)
        if m.model == meta.model and m.prompt_hash == meta.prompt_hash and not m.candidate:
            peers.append((name, v))
    if not peers:
        return [f"judge {meta.model} (this prompt) has no run on the golden outputs of {ds.name}: its verdicts are "
                "not calibrated against gold (run `labeler judge` without --candidate, then `labeler calibrate`)"]
    name, verdicts = peers[0]
    low = [f"{c.criterion} {c.judge_percent.value:.0%}" if c.judge_percent.value is not None else f"{c.criterion} undefined"
           for c in calibrate(ds, verdicts) if c.judge_percent.value is None or c.judge_percent.value < bar]
    if low:
        return [f"judge {meta.model} agrees with gold under {bar:.0%} on {', '.join(low)} (calibration run {name}): "
                "read those criteria's regressions with care"]
    return []
