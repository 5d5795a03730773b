"""Agreement over a dataset: gold values, and reports by criterion, version, tier, tag, annotator."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from labeler.agreement import MISSING, Coefficient, CriterionReport, GoldValue, Ratings, criterion_report, value_counts
from labeler.models import Value
from labeler.store import Dataset
from labeler.versions import VersionIndex

GROUPINGS = ("criterion", "version", "annotator", "tier", "tag", "suggestion")


def current_values(ds: Dataset, versions: VersionIndex) -> dict[str, dict[str, dict[str, Value]]]:
    """criterion -> annotator -> case -> value, for values that hold under the rubric in force."""
    crits = list(versions.in_force.criteria)
    out: dict[str, dict[str, dict[str, Value]]] = {c: {} for c in crits}
    cases = ds.cases
    for ann, by_case in ds.labels.items():
        per: dict[str, dict[str, Value]] = {c: {} for c in crits}
        for cid, lab in by_case.items():
            if cid not in cases:
                continue
            vals = lab.values
            for c in versions.carried(lab.rubric):
                v = vals.get(c)
                if v is not None:
                    per[c][cid] = v
        for c in crits:
            if per[c]:
                out[c][ann] = per[c]
    return out


def gold(ds: Dataset, versions: VersionIndex | None = None,
         values: dict[str, dict[str, dict[str, Value]]] | None = None, rule: str = "consensus") -> dict[str, dict[str, GoldValue]]:
    """case -> criterion -> gold: the adjudicated value where a lead set one (it still holds and leads
    do not disagree), else the rule over every annotator's current value (consensus by default:
    two or more, all the same; or majority), else none."""
    versions = versions or VersionIndex(ds)
    values = values if values is not None else current_values(ds, versions)
    out: dict[str, dict[str, GoldValue]] = {}
    cases = list(ds.cases)
    for c, crit in versions.in_force.criteria.items():
        scale = crit.scale.values()
        idx = Ratings.build(c, crit, values[c], cases).gold(rule)
        for j in np.flatnonzero(idx != MISSING):
            out.setdefault(cases[j], {})[c] = GoldValue(scale[idx[j]], rule)
        for cid, v in ds.adjudications.criterion_gold(c, versions.holds).items():
            out.setdefault(cid, {})[c] = GoldValue(v, "adjudicated")
    return out


def gold_values(g: dict[str, dict[str, GoldValue]], criterion: str) -> dict[str, Value]:
    return {cid: per[criterion].value for cid, per in g.items() if criterion in per}


@dataclass
class Group:
    title: str
    key: str
    reports: list[CriterionReport] = field(default_factory=list)
    cases: int = 0

    def as_dict(self) -> dict:
        return {"group": self.key, "title": self.title, "cases": self.cases, "criteria": [r.as_dict() for r in self.reports]}


def agreement_groups(ds: Dataset, by: str = "criterion", gold_rule: str = "consensus") -> list[Group]:
    """The agreement numbers of `ds` split by `by` (one of GROUPINGS). Each annotator is scored
    against gold made without their own label (adjudicated, else `gold_rule` over the others)."""
    if by not in GROUPINGS:
        raise ValueError(f"--by must be one of {', '.join(GROUPINGS)}")
    versions = VersionIndex(ds)
    rubric = versions.in_force
    cases = list(ds.cases)
    if by == "version":
        groups = []
        for v in sorted({lab.rubric for records in ds.history.values() for lab in records if not lab.retract}):
            r = versions.rubric(v)
            if r is None:
                continue
            g = Group(f"rubric v{v}" + (" (in force)" if v == rubric.version else ""), f"v{v}")
            made_under = ds.labels_under(v)
            for c, crit in r.criteria.items():
                vals = {a: {cid: lab.values[c] for cid, lab in labs.items() if c in lab.values and cid in ds.cases}
                        for a, labs in made_under.items()}
                vals = {a: vv for a, vv in vals.items() if vv}
                g.reports.append(criterion_report(c, crit, vals, cases))
            g.cases = len({cid for labs in made_under.values() for cid in labs})
            groups.append(g)
        return groups
    values = current_values(ds, versions)
    adjudicated = {c: ds.adjudications.criterion_gold(c, versions.holds) for c in rubric.criteria}
    if by in ("criterion", "annotator"):
        g = Group(f"rubric v{rubric.version} (in force)", f"v{rubric.version}", cases=len(cases))
        for c, crit in rubric.criteria.items():
            g.reports.append(criterion_report(c, crit, values[c], cases, adjudicated[c], gold_rule))
        return [g]
    if by == "suggestion":
        groups = []
        for shown, title in ((False, "labels made without judge suggestions"), (True, "labels made with judge suggestions shown")):
            g = Group(title, "suggested" if shown else "unsuggested")
            for c, crit in rubric.criteria.items():
                vals = {a: {cid: v for cid, v in vv.items() if bool(ds.labels[a][cid].suggested) == shown}
                        for a, vv in values[c].items()}
                vals = {a: vv for a, vv in vals.items() if vv}
                g.reports.append(criterion_report(c, crit, vals, cases, adjudicated[c], gold_rule))
            g.cases = len({cid for a in ds.labels for cid, lab in ds.labels[a].items() if bool(lab.suggested) == shown})
            groups.append(g)
        return groups
    if by == "tier":
        keys = sorted({case.tier.value for case in ds.cases.values()})
        members = {k: [cid for cid, case in ds.cases.items() if case.tier.value == k] for k in keys}
    else:
        keys = sorted({t for case in ds.cases.values() for t in case.tags})
        members = {k: [cid for cid, case in ds.cases.items() if k in case.tags] for k in keys}
    groups = []
    for k in keys:
        g = Group(f"{by} {k}", k, cases=len(members[k]))
        for c, crit in rubric.criteria.items():
            g.reports.append(criterion_report(c, crit, values[c], members[k], adjudicated[c], gold_rule))
        groups.append(g)
    return groups


@dataclass
class GateFailure:
    criterion: str
    what: str

    def __str__(self) -> str:
        return f"{self.criterion}: {self.what}"


def check_gates(group: Group, min_alpha: float | None, min_agreement: float | None) -> list[GateFailure]:
    """Criteria under the bar. An undefined coefficient fails a gate: no evidence is not a pass."""
    out = []
    for r in group.reports:
        if min_alpha is not None:
            if r.alpha.value is None:
                out.append(GateFailure(r.criterion, f"alpha undefined ({r.alpha.reason}), gate {min_alpha:.2f}"))
            elif r.alpha.value < min_alpha:
                out.append(GateFailure(r.criterion, f"alpha {r.alpha.value:.3f} < {min_alpha:.2f} (n={r.alpha.n})"))
        if min_agreement is not None:
            if r.percent.value is None:
                out.append(GateFailure(r.criterion, f"agreement undefined ({r.percent.reason}), gate {min_agreement:.0%}"))
            elif r.percent.value < min_agreement:
                out.append(GateFailure(r.criterion, f"agreement {r.percent.value:.1%} < {min_agreement:.0%} (n={r.percent.n})"))
    return out


# ---------------------------------------------------------------- disagreement queue


@dataclass
class Disagreement:
    case: str
    score: float
    """Higher is worse: ordinal spread, distinct values, 'rubric unclear' flags."""
    criteria: list[str]
    """Criteria where annotators disagree."""
    flags: int
    labels: int
    adjudicated: bool
    disputed: bool = False
    """An audit of the judge said the human gold looks wrong."""
    conflicts: list[str] = field(default_factory=list)
    """Criteria on which two leads' gold values disagree: a human must settle them."""


def disagreements(ds: Dataset, versions: VersionIndex | None = None, *, criterion: str | None = None,
                  tier: str | None = None, annotator: str | None = None,
                  include_adjudicated: bool = False) -> list[Disagreement]:
    """Cases where annotators disagree (or flagged the rubric), worst first."""
    versions = versions or VersionIndex(ds)
    rubric = versions.in_force
    values = current_values(ds, versions)
    disputes = ds.gold_disputes()
    n_labels: dict[str, int] = {}
    flags: dict[str, int] = {}
    flagged: dict[str, set[str]] = {}
    for ann, labs in ds.labels.items():
        for cid, lab in labs.items():
            n_labels[cid] = n_labels.get(cid, 0) + 1
            if lab.flags:
                mine = [f for f in lab.flags if criterion is None or f.criterion in (None, criterion)]
                flags[cid] = flags.get(cid, 0) + len(mine)
                flagged.setdefault(cid, set()).update(f.criterion for f in mine if f.criterion in rubric.criteria)
    cases = [cid for cid, case in ds.cases.items()
             if (not tier or case.tier.value == tier) and (not annotator or cid in ds.labels.get(annotator, {}))]
    score = np.zeros(len(cases))
    split: list[list[str]] = [[] for _ in cases]
    for c, crit in rubric.criteria.items():
        if criterion and c != criterion:
            continue
        r = Ratings.build(c, crit, values[c], cases)
        if r.data.size == 0:
            continue  # nobody holds a current value for this criterion (it just changed)
        n_values = r.n_values
        counts = value_counts(r.data, n_values)
        distinct = (counts > 0).sum(axis=1)
        split_here = (counts.sum(axis=1) >= 2) & (distinct >= 2)
        if crit.scale.type.value == "ordinal":
            present = r.data != MISSING
            hi = np.where(present, r.data, -1).max(axis=0)
            lo = np.where(present, r.data, n_values).min(axis=0)
            spread = (hi - lo) / max(1, n_values - 1)
        else:
            spread = np.ones(len(cases))
        score += np.where(split_here, spread + distinct - 1, 0.0)
        for j in np.flatnonzero(split_here):
            split[j].append(c)
    holds = versions.holds
    index = ds.adjudications
    conflicts: dict[str, list[str]] = {}
    for cid, c, _ in index.conflicts(holds):
        if criterion is None or c == criterion:
            conflicts.setdefault(cid, []).append(c)
    in_force = lambda v, c: v == rubric.version  # noqa: E731 - a gap mark counts for the version it was made under
    out = []
    for j, cid in enumerate(cases):
        f = flags.get(cid, 0)
        total = float(score[j]) + 0.5 * f

        def settled_after(a) -> bool:
            d = index.gold(cid, a.criterion, holds).decision
            return d is not None and d.at is not None and a.at is not None and d.at >= a.at

        # an auditor said the gold looks wrong: back to review until a lead adjudicates after that
        open_disputes = [a for a in disputes.get(cid, []) if (criterion is None or a.criterion == criterion)
                         and not settled_after(a)]
        conflict = sorted(conflicts.get(cid, []))
        for c in [a.criterion for a in open_disputes] + conflict:
            if c not in split[j]:
                split[j].append(c)
            total += 1.0
        if not split[j] and not f:
            continue
        needed = split[j] or sorted(flagged.get(cid, set()))
        if needed:
            adjudicated = not open_disputes and not conflict and all(
                index.gold(cid, c, holds).decision is not None or index.gap(cid, c, in_force) is not None for c in needed)
        else:
            adjudicated = cid in index
        if adjudicated and not include_adjudicated:
            continue
        out.append(Disagreement(cid, total, split[j], f, n_labels.get(cid, 0), adjudicated, bool(open_disputes), conflict))
    out.sort(key=lambda d: (-d.score, d.case))
    return out


# ---------------------------------------------------------------- rubric health


@dataclass
class Health:
    criterion: str
    history: list[tuple[int, Coefficient, Coefficient]]
    """(version, alpha, percent) from labels made under each version."""
    alpha: Coefficient
    """Under the version in force, labels that carried over included."""
    percent: Coefficient
    verdict: str
    """'stable', 'unstable' or 'not enough data'."""

    def as_dict(self) -> dict:
        return {"criterion": self.criterion, "verdict": self.verdict, "alpha": self.alpha.as_dict(),
                "percent_agreement": self.percent.as_dict(),
                "by_version": [{"version": v, "alpha": a.as_dict(), "percent_agreement": p.as_dict()} for v, a, p in self.history]}


def rubric_health(ds: Dataset, min_alpha: float = 0.8, min_cases: int = 20) -> list[Health]:
    """Per criterion: agreement by rubric version, and whether the rubric in force is stable for it:
    alpha >= min_alpha with at least min_cases cases labeled by two or more annotators."""
    now = {r.criterion: r for r in agreement_groups(ds, "criterion")[0].reports}
    by_version = agreement_groups(ds, "version")
    out = []
    for c, r in now.items():
        history = []
        for g in by_version:
            for rep in g.reports:
                if rep.criterion == c:
                    history.append((int(g.key[1:]), rep.alpha, rep.percent))
        if r.alpha.n < min_cases:
            verdict = "not enough data"
        elif r.alpha.value is not None and r.alpha.value >= min_alpha:
            verdict = "stable"
        else:
            verdict = "unstable"
        out.append(Health(c, history, r.alpha, r.percent, verdict))
    return out
