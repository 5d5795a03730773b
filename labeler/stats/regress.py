"""Did a new version get worse? A candidate's judge run against a baseline (the same judge on the golden
outputs, or human gold), per criterion: mean score and pass rate of each side on the cases both scored,
each with a paired bootstrap (BCa) 95% interval, the cases that got worse, and CI gates.

The drop gate counts a drop only when the data show it beyond the margin: the whole 95% interval of the
difference lies below -margin (a one-sided test at 2.5%). Gating on the point estimate instead fails
about every other run when nothing changed (benchmarks/gates_sim.py measures both rules).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from labeler.errors import UsageError
from labeler.stats.bootstrap import B_DEFAULT, mean_interval
from labeler.stats.report import pass_values
from labeler.truth.models import ScaleKind, Tier
from labeler.dataset import Dataset

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
    versions = ds.versions
    rubric = versions.in_force
    if rubric.pairwise:
        from labeler.errors import LabelerError

        raise LabelerError(f"{ds.name} is pairwise: its verdicts say which output is better, not a score to compare "
                         "across runs; use `labeler winrate`")
    a, b = side(ds, base), side(ds, candidate)
    shown = _examples(ds, base, candidate)
    out = {"dataset": ds.name, "base": {"name": a.name, "what": a.describe}, "candidate": {"name": b.name, "what": b.describe},
           "bootstrap": {"replicates": replicates, "seed": seed, "resampled": "paired cases"}, "groups": [],
           "excluded_examples": len(shown & set(ds.case_index))}
    for title, members in _groups(ds, by).items():
        members = members - shown
        group = {"group": title, "criteria": {}}
        for c, crit in rubric.criteria.items():
            paired = sorted(cid for cid in members if c in a.values.get(cid, {}) and c in b.values.get(cid, {}))
            passing = pass_values(crit)
            if not paired:
                group["criteria"][c] = {"cases": 0}
                continue
            va = [a.values[cid][c] for cid in paired]
            vb = [b.values[cid][c] for cid in paired]
            passes = (np.array([v in passing for v in va]), np.array([v in passing for v in vb])) if passing else (None, None)
            item, worse = paired_change(np.asarray(va), np.asarray(vb), *passes, crit.scale.type is ScaleKind.ordinal,
                                        replicates, seed)
            item["worse"] = [{"case": paired[i], "base": va[i], "candidate": vb[i],
                              "rationale": b.rationales.get(paired[i], {}).get(c, "")} for i in worse]
            group["criteria"][c] = item
        out["groups"].append(group)
    return out


def paired_change(base: np.ndarray, candidate: np.ndarray, base_pass: np.ndarray | None = None,
                  candidate_pass: np.ndarray | None = None, ordinal: bool = False, replicates: int = B_DEFAULT,
                  seed: int = 0) -> tuple[dict, list[int]]:
    """One criterion on paired cases (position i of every array is one case): each side's mean (`ordinal`),
    each side's pass rate and the difference, each with a paired bootstrap (BCa) 95% interval; and the
    positions that got worse: a pass lost, a lower score, or (a categorical scale with no pass values) any change."""
    item: dict = {"cases": len(base)}
    if ordinal:
        item["mean_base"] = round(float(np.mean(base)), 4)
        item["mean_candidate"] = round(float(np.mean(candidate)), 4)
    worse: list[int] = []
    if base_pass is not None and candidate_pass is not None:
        pa, pb = np.asarray(base_pass, dtype=float), np.asarray(candidate_pass, dtype=float)
        diff = pb - pa
        item.update({"pass_base": round(float(pa.mean()), 4),
                     "pass_base_ci95": mean_interval(pa, replicates, seed, (0.0, 1.0)).as_dict(),
                     "pass_candidate": round(float(pb.mean()), 4),
                     "pass_candidate_ci95": mean_interval(pb, replicates, seed, (0.0, 1.0)).as_dict(),
                     "pass_diff": round(float(diff.mean()), 4),
                     "pass_diff_ci95": mean_interval(diff, replicates, seed, (-1.0, 1.0)).as_dict()})
        worse = [int(i) for i in np.flatnonzero(pa > pb)]
    if ordinal:
        worse = sorted(set(worse) | {int(i) for i in np.flatnonzero(candidate < base)})
    elif base_pass is None:
        worse = [int(i) for i in np.flatnonzero(candidate != base)]  # categorical: every change, for a look
        item["changed"] = len(worse)
    return item, worse


ON = ("point", "lower")
"""What a floor is compared with: the point estimate, or the lower bound of its 95% interval."""


def check_tiers(min_pass: dict[str, float]) -> None:
    """A floor for a tier that does not exist is a usage error, not a gate met."""
    known = [t.value for t in Tier]
    for tier in min_pass:
        if tier not in known:
            raise UsageError(f"--min-pass {tier}=...: no tier {tier!r} (tiers: {', '.join(known)})")


def gates(result: dict, max_drop: float | None, min_pass: dict[str, float], on: str = "point",
          tiers: dict | None = None) -> list[str]:
    """What fails CI, whatever the display grouping: a criterion whose pass rate fell by more than
    max_drop over all cases (the whole 95% interval of the difference beyond -max_drop), or a tier's pass
    rate under its floor (its point estimate, or with on="lower" the lower bound of its interval).

    `result` must hold the "all cases" group for max_drop; `tiers` (a result by tier) the tiers for
    min_pass. A gate that cannot be evaluated (no case scored by both sides) raises UsageError."""
    check_tiers(min_pass)
    failures, unknown = [], []
    if max_drop is not None:
        overall = next(g for g in result["groups"] if g["group"] == "all cases")
        gated = {c: it for c, it in overall["criteria"].items() if "pass_diff" in it or it["cases"] == 0}
        unknown += [f"--max-drop on {c}: no case scored by both sides" for c, it in gated.items() if it["cases"] == 0]
        if not gated:
            unknown.append("--max-drop: no criterion has a pass rate (binary or ordinal)")
        for c, it in gated.items():
            ci = it.get("pass_diff_ci95") or {}
            if ci.get("high") is not None and ci["high"] < -max_drop:
                failures.append(f"{c}: pass rate fell {-it['pass_diff']:.1%} (95% interval {-ci['high']:.1%} to "
                                f"{-ci['low']:.1%}; {it['pass_base']:.1%} -> {it['pass_candidate']:.1%}, n={it['cases']}), "
                                f"the whole interval beyond the {max_drop:.1%} margin")
    by_tier = {g["group"].removeprefix("tier "): g for g in (tiers or result)["groups"] if g["group"].startswith("tier ")}
    for tier, floor in min_pass.items():
        g = by_tier.get(tier)
        items = {c: it for c, it in g["criteria"].items() if "pass_candidate" in it or it["cases"] == 0} if g else {}
        scored = {c: it for c, it in items.items() if it["cases"]}
        if not scored:
            unknown.append(f"--min-pass {tier}: no case of tier {tier} scored by both sides on a criterion with a pass rate")
            continue
        for c, it in scored.items():
            lo = (it.get("pass_candidate_ci95") or {}).get("low")
            x = it["pass_candidate"] if on == "point" else lo
            if x is not None and x < floor:
                what = (f"pass rate {x:.1%}" if on == "point" else
                        f"pass rate {it['pass_candidate']:.1%}, lower 95% bound {x:.1%}")
                failures.append(f"{c} on tier {tier}: {what} < {floor:.0%} (n={it['cases']})")
        unknown += [f"--min-pass {tier} on {c}: no case of tier {tier} scored by both sides" for c, it in items.items()
                    if not it["cases"]]
    if unknown:
        raise UsageError("gate cannot be evaluated: " + "; ".join(unknown))
    return failures


def same_judge_runs(ds: Dataset, run: str) -> list[str]:
    """Runs of the judge behind `run` (same model and prompt) on the golden outputs."""
    meta, _ = ds.judge_run(run)
    out = []
    for name in ds.judge_runs():
        m, _ = ds.judge_run(name)
        if m.model == meta.model and m.prompt_hash == meta.prompt_hash and not m.candidate:
            out.append(name)
    return out


def default_base(ds: Dataset, candidate: str) -> str:
    """The same judge on the golden outputs, so both sides are scored by one instrument; else gold."""
    peers = [r for r in same_judge_runs(ds, candidate) if r != candidate]
    return peers[0] if peers else "gold"


def instrument_warning(ds: Dataset, base: str, candidate: str) -> list[str]:
    """Two sides scored by different instruments: the difference mixes the change with their disagreement."""
    meta, _ = ds.judge_run(candidate)
    if base == "gold":
        return [f"base is human gold, the candidate is scored by judge {meta.model}: two instruments, so the difference "
                "includes how the judge disagrees with people (the unchanged outputs, judged, already differ); gate "
                "with --base RUN, the same judge on the golden outputs"]
    m, _ = ds.judge_run(base)
    if (m.model, m.prompt_hash) != (meta.model, meta.prompt_hash):
        return [f"base run {base} ({m.model}) and candidate run {candidate} ({meta.model}) are different judges or "
                "prompts: the difference mixes the change with how the two judges differ"]
    return []


def _examples(ds: Dataset, *refs: str) -> set[str]:
    """Cases a judge run's prompt showed as graded examples: no side is measured on them."""
    from labeler.stats.heldout import example_cases

    return set().union(*(example_cases(ds, ds.judge_run(r)[0].prompt_version) for r in refs if r != "gold"))


def calibration_warnings(ds: Dataset, run: str, bar: float = 0.8) -> list[str]:
    """Has this judge (model and prompt) passed calibration on this dataset? A run of it on the golden
    outputs must agree with gold on every criterion at `bar` or more."""
    from labeler.stats.calibrate import calibrate

    meta, _ = ds.judge_run(run)
    peers = [(name, ds.judge_run(name)[1]) for name in same_judge_runs(ds, run)]
    if not peers:
        return [f"judge {meta.model} (this prompt) has no run on the golden outputs of {ds.name}: its verdicts are "
                "not calibrated against gold (run `labeler judge` without --candidate, then `labeler calibrate`)"]
    name, verdicts = peers[0]
    from labeler.stats.heldout import held_out

    keep, _ = held_out(ds, [ds.judge_run(name)[0]])
    cal = calibrate(ds, verdicts, keep)
    low = [f"{c.criterion} {c.judge_percent.value:.0%}" for c in cal if c.judge_percent.value is not None and c.judge_percent.value < bar]
    unmeasured = sorted(c.criterion for c in cal if c.judge_percent.value is None)
    out = []
    if low:
        out.append(f"judge {meta.model} agrees with gold under {bar:.0%} on {', '.join(low)} (calibration run {name}): "
                   "read those criteria's regressions with care")
    if unmeasured:
        out.append(f"judge {meta.model} is not calibrated (calibration run {name}): no case with both a verdict and "
                   f"gold on {', '.join(unmeasured)}")
    return out
