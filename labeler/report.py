"""Agreement over a dataset: gold values, and reports by criterion, version, tier, tag, annotator."""

from __future__ import annotations

from dataclasses import dataclass, field

from labeler.agreement import Coefficient, CriterionReport, GoldValue, consensus, criterion_report
from labeler.models import Label, Value
from labeler.store import Dataset
from labeler.versions import VersionIndex

GROUPINGS = ("criterion", "version", "annotator", "tier", "tag", "suggestion")


def current_values(ds: Dataset, versions: VersionIndex) -> dict[str, dict[str, dict[str, Value]]]:
    """criterion -> annotator -> case -> value, for values that hold under the rubric in force."""
    out: dict[str, dict[str, dict[str, Value]]] = {c: {} for c in versions.in_force.criteria}
    for ann, by_case in ds.labels.items():
        for cid, lab in by_case.items():
            if cid not in ds.cases:
                continue
            for c in versions.current_criteria(lab):
                out[c].setdefault(ann, {})[cid] = lab.values[c]
    return out


def gold(ds: Dataset, versions: VersionIndex | None = None,
         values: dict[str, dict[str, dict[str, Value]]] | None = None) -> dict[str, dict[str, GoldValue]]:
    """case -> criterion -> gold: the adjudicated value where a lead set one (and the criterion has
    not changed since), else the consensus where two or more annotators all agree, else none."""
    versions = versions or VersionIndex(ds)
    values = values if values is not None else current_values(ds, versions)
    out: dict[str, dict[str, GoldValue]] = {}
    for c, by_ann in values.items():
        per_case: dict[str, list[Value]] = {}
        for vals in by_ann.values():
            for cid, v in vals.items():
                per_case.setdefault(cid, []).append(v)
        for cid, vs in per_case.items():
            v = consensus(vs)
            if v is not None:
                out.setdefault(cid, {})[c] = GoldValue(v, "consensus")
    for cid, adj in ds.adjudications.items():
        if cid not in ds.cases:
            continue
        as_label = Label(case=cid, rubric=adj.rubric, values=adj.gold)
        for c in versions.current_criteria(as_label):
            out.setdefault(cid, {})[c] = GoldValue(adj.gold[c], "adjudicated")
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


def agreement_groups(ds: Dataset, by: str = "criterion") -> list[Group]:
    """The agreement numbers of `ds` split by `by` (one of GROUPINGS)."""
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
    g_all = gold(ds, versions, values)
    if by in ("criterion", "annotator"):
        g = Group(f"rubric v{rubric.version} (in force)", f"v{rubric.version}", cases=len(cases))
        for c, crit in rubric.criteria.items():
            g.reports.append(criterion_report(c, crit, values[c], cases, gold_values(g_all, c)))
        return [g]
    if by == "suggestion":
        groups = []
        for shown, title in ((False, "labels made without judge suggestions"), (True, "labels made with judge suggestions shown")):
            g = Group(title, "suggested" if shown else "unsuggested")
            for c, crit in rubric.criteria.items():
                vals = {a: {cid: v for cid, v in vv.items() if bool(ds.labels[a][cid].suggested) == shown}
                        for a, vv in values[c].items()}
                vals = {a: vv for a, vv in vals.items() if vv}
                g.reports.append(criterion_report(c, crit, vals, cases, gold_values(g_all, c)))
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
            g.reports.append(criterion_report(c, crit, values[c], members[k], gold_values(g_all, c)))
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


def disagreements(ds: Dataset, versions: VersionIndex | None = None, *, criterion: str | None = None,
                  tier: str | None = None, annotator: str | None = None,
                  include_adjudicated: bool = False) -> list[Disagreement]:
    """Cases where annotators disagree (or flagged the rubric), worst first."""
    versions = versions or VersionIndex(ds)
    rubric = versions.in_force
    values = current_values(ds, versions)
    disputes = ds.gold_disputes()
    out = []
    for cid, case in ds.cases.items():
        if tier and case.tier.value != tier:
            continue
        labs = {a: labs[cid] for a, labs in ds.labels.items() if cid in labs}
        if annotator and annotator not in labs:
            continue
        flags = sum(1 for lab in labs.values() for f in lab.flags if criterion is None or f.criterion in (None, criterion))
        score = 0.0
        split = []
        for c, crit in rubric.criteria.items():
            if criterion and c != criterion:
                continue
            vals = [values[c][a][cid] for a in values[c] if cid in values[c][a]]
            distinct = set(vals)
            if len(vals) < 2 or len(distinct) < 2:
                continue
            split.append(c)
            order = {v: i for i, v in enumerate(crit.scale.values())}
            idx = [order[v] for v in vals if v in order]
            spread = (max(idx) - min(idx)) / max(1, len(order) - 1) if crit.scale.type.value == "ordinal" else 1.0
            score += spread + (len(distinct) - 1)
        score += 0.5 * flags
        adj = ds.adjudications.get(cid)
        # an auditor said the gold looks wrong: back to review until a lead adjudicates after that
        open_disputes = [a for a in disputes.get(cid, []) if (criterion is None or a.criterion == criterion)
                         and not (adj and adj.at and a.at and adj.at >= a.at and a.criterion in adj.gold)]
        for a in open_disputes:
            if a.criterion not in split:
                split.append(a.criterion)
            score += 1.0
        if not split and not flags:
            continue
        adjudicated = not open_disputes and adj is not None and all(
            c in adj.gold or c in adj.gaps for c in split
        ) and adj.rubric == rubric.version
        if adjudicated and not include_adjudicated:
            continue
        out.append(Disagreement(cid, score, split, flags, len(labs), adjudicated, bool(open_disputes)))
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
