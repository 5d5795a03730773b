"""Agreement over a dataset: gold values, and reports by criterion, version, tier, tag, annotator."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from labeler.stats.agreement import MISSING, Coefficient, CriterionReport, GoldValue, Ratings, criterion_report, value_counts
from labeler.derived.current import Current, made_under
from labeler.stats.gather import adjudicated_of, ratings_of
from labeler.truth.models import Value
from labeler.dataset import Dataset
from labeler.derived.staleness import VersionIndex

GROUPINGS = ("criterion", "version", "annotator", "tier", "tag", "suggestion")


def current_values(ds: Dataset, versions: VersionIndex) -> dict[str, dict[str, dict[str, Value]]]:
    """criterion -> annotator -> case -> value, for values that hold under the rubric in force (small uses only)."""
    cur = Current(ds, versions)
    return {c: cur.values(c) for c in versions.in_force.criteria}


def gold(ds: Dataset, versions: VersionIndex | None = None, current: Current | None = None,
         rule: str = "consensus") -> dict[str, dict[str, GoldValue]]:
    """case -> criterion -> gold: the adjudicated value where a lead set one (it still holds and leads
    do not disagree); none where leads disagree; else the rule over every annotator's current value
    (consensus by default: two or more, all the same; or majority), else none."""
    versions = versions or ds.versions
    cur = current or Current(ds, versions)
    out: dict[str, dict[str, GoldValue]] = {}
    ids = ds.table.case_ids
    for c, crit in versions.in_force.criteria.items():
        scale = crit.scale.values()
        r = ratings_of(cur, c)
        adj = adjudicated_of(cur, r)
        idx = r.gold(rule, adj)
        for j in np.flatnonzero(idx != MISSING):
            out.setdefault(ids[j], {})[c] = GoldValue(scale[idx[j]], "adjudicated" if adj[j] >= 0 else rule)
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
    versions = ds.versions
    rubric = versions.in_force
    n_cases = len(ds.cases)
    if by == "version":
        groups = []
        t = ds.table
        used = np.unique(t.version.v[~t.retract.v]) if len(t) else []
        for v in (int(x) for x in used):
            r = versions.rubric(v)
            if r is None:
                continue
            g = Group(f"rubric v{v}" + (" (in force)" if v == rubric.version else ""), f"v{v}")
            raters, mats = made_under(ds, v)
            for c, crit in r.criteria.items():
                g.reports.append(criterion_report(Ratings.from_matrix(c, crit, raters, t.case_ids, mats[c])))
            any_label = np.zeros(n_cases, dtype=bool)
            for m in mats.values():
                any_label |= (m != MISSING).any(axis=0)
            g.cases = int(any_label.sum())
            groups.append(g)
        return groups
    cur = Current(ds, versions)
    if by in ("criterion", "annotator"):
        g = Group(f"rubric v{rubric.version} (in force)", f"v{rubric.version}", cases=n_cases)
        for c in rubric.criteria:
            r = ratings_of(cur, c)
            g.reports.append(criterion_report(r, adjudicated_of(cur, r), gold_rule))
        return [g]
    if by == "suggestion":
        groups = []
        suggested = cur.suggested()
        for shown, title in ((False, "labels made without judge suggestions"), (True, "labels made with judge suggestions shown")):
            g = Group(title, "suggested" if shown else "unsuggested")
            keep = cur.has & (suggested == shown)
            for c in rubric.criteria:
                r = ratings_of(cur, c, keep=keep)
                g.reports.append(criterion_report(r, adjudicated_of(cur, r), gold_rule))
            g.cases = int(keep.any(axis=0).sum())
            groups.append(g)
        return groups
    members = ds.cases_by(by)
    groups = []
    for k, idx in members.items():
        g = Group(f"{by} {k}", k, cases=len(idx))
        for c in rubric.criteria:
            r = ratings_of(cur, c, idx)
            g.reports.append(criterion_report(r, adjudicated_of(cur, r), gold_rule))
        groups.append(g)
    return groups


@dataclass
class GateFailure:
    criterion: str
    what: str

    def __str__(self) -> str:
        return f"{self.criterion}: {self.what}"


def check_gates(group: Group, min_alpha: float | None, min_agreement: float | None, on: str = "point",
                intervals: dict[str, dict] | None = None) -> list[GateFailure]:
    """Criteria under the bar: the point estimate, or with on="lower" the lower bound of its 95% interval
    (`intervals` from agreement_intervals). An undefined coefficient fails a gate: no evidence is not a pass."""
    out = []
    for r in group.reports:
        for bar, coef, key, name, fmt in ((min_alpha, r.alpha, "alpha", "alpha", "{:.3f}"),
                                          (min_agreement, r.percent, "percent", "agreement", "{:.1%}")):
            if bar is None:
                continue
            shown = "{:.2f}".format(bar) if key == "alpha" else "{:.0%}".format(bar)
            ci = (intervals or {}).get(r.criterion, {}).get(key)
            if coef.value is None:
                out.append(GateFailure(r.criterion, f"{name} undefined ({coef.reason}), gate {shown}"))
            elif on == "lower":
                if ci is None or ci.low is None:
                    out.append(GateFailure(r.criterion, f"{name} has no interval, gate {shown} on the lower bound"))
                elif ci.low < bar:
                    out.append(GateFailure(r.criterion, f"{name} {fmt.format(coef.value)}, lower 95% bound "
                                                        f"{fmt.format(ci.low)} < {shown} (n={coef.n})"))
            elif coef.value < bar:
                out.append(GateFailure(r.criterion, f"{name} {fmt.format(coef.value)} < {shown} (n={coef.n})"))
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
                  include_adjudicated: bool = False, current: Current | None = None) -> list[Disagreement]:
    """Cases where annotators disagree (or flagged the rubric, or leads disagree, or an audit disputes gold), worst first."""
    versions = versions or ds.versions
    rubric = versions.in_force
    cur = current or Current(ds, versions)
    t = ds.table
    ids = t.case_ids
    n = len(ids)
    keep = np.ones(n, dtype=bool)
    if tier:
        keep &= ds.case_tiers() == tier
    if annotator:
        keep &= cur.has[cur.raters.index(annotator)] if annotator in cur.raters else False
    n_labels = cur.has.sum(axis=0)
    flags = np.zeros(n, dtype=np.int64)
    flagged: dict[int, set[str]] = {}
    latest = set(cur.rows[cur.has].tolist()) if t.extras else set()
    for row, extra in t.extras.items():
        fl = extra.get("flags")
        if fl and row in latest:
            mine = [f for f in fl if criterion is None or f.get("criterion") in (None, criterion)]
            j = int(t.case.a[row])
            flags[j] += len(mine)
            flagged.setdefault(j, set()).update(f["criterion"] for f in mine if f.get("criterion") in rubric.criteria)
    score = np.zeros(n)
    split_by: dict[str, np.ndarray] = {}
    for c, crit in rubric.criteria.items():
        if criterion and c != criterion:
            continue
        data = cur.matrix(c)
        if data.size == 0:
            continue
        n_values = len(crit.scale.points)
        counts = value_counts(data, n_values)
        distinct = (counts > 0).sum(axis=1)
        split_here = (counts.sum(axis=1) >= 2) & (distinct >= 2)
        if crit.scale.type.value == "ordinal":
            present = data != MISSING
            hi = np.where(present, data, -1).max(axis=0)
            lo = np.where(present, data, n_values).min(axis=0)
            spread = (hi - lo) / max(1, n_values - 1)
        else:
            spread = np.ones(n)
        score += np.where(split_here, spread + distinct - 1, 0.0)
        split_by[c] = split_here
    holds = versions.holds
    index = ds.adjudications
    disputes = ds.gold_disputes()
    conflicts: dict[str, list[str]] = {}
    for cid, c, _ in index.conflicts(holds):
        if criterion is None or c == criterion:
            conflicts.setdefault(cid, []).append(c)
    any_split = np.zeros(n, dtype=bool)
    for m in split_by.values():
        any_split |= m
    candidates = set(np.flatnonzero(keep & (any_split | (flags > 0))).tolist())
    candidates |= {ds.case_index[cid] for cid in list(disputes) + list(conflicts) if cid in ds.case_index and keep[ds.case_index[cid]]}
    in_force = lambda v, c: v == rubric.version  # noqa: E731 - a gap mark counts for the version it was made under
    names = list(split_by)
    order = np.asarray(sorted(candidates), dtype=np.int64)
    bits = np.zeros(len(order), dtype=np.int64)
    for b, c in enumerate(names):
        bits |= split_by[c][order].astype(np.int64) << b
    patterns = {int(x): [c for b, c in enumerate(names) if int(x) >> b & 1] for x in np.unique(bits)}
    scores, fl, nl, bl = score[order].tolist(), flags[order].tolist(), n_labels[order].tolist(), bits.tolist()
    out = []
    for k, j in enumerate(order.tolist()):
        cid = ids[j]
        split = patterns[bl[k]].copy()
        f = fl[k]
        total = scores[k] + 0.5 * f
        if cid not in index and cid not in disputes:  # the common case: nothing adjudicated or disputed
            if split or f:
                out.append(Disagreement(cid, total, split, f, nl[k], False))
            continue

        def settled_after(a) -> bool:
            d = index.gold(cid, a.criterion, holds).decision
            return d is not None and d.at is not None and a.at is not None and d.at >= a.at

        # an auditor said the gold looks wrong: back to review until a lead adjudicates after that
        open_disputes = [a for a in disputes.get(cid, []) if (criterion is None or a.criterion == criterion)
                         and not settled_after(a)]
        conflict = sorted(conflicts.get(cid, []))
        for c in [a.criterion for a in open_disputes] + conflict:
            if c not in split:
                split.append(c)
            total += 1.0
        if not split and not f:
            continue
        needed = split or sorted(flagged.get(j, set()))
        if needed:
            adjudicated = not open_disputes and not conflict and all(
                index.gold(cid, c, holds).decision is not None or index.gap(cid, c, in_force) is not None for c in needed)
        else:
            adjudicated = cid in index
        if adjudicated and not include_adjudicated:
            continue
        out.append(Disagreement(cid, total, split, f, nl[k], adjudicated, bool(open_disputes), conflict))
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


def agreement_intervals(ds: Dataset, replicates: int, seed: int) -> dict[str, dict]:
    """criterion -> {"alpha": Interval, "percent": Interval} over the current labels (BCa bootstrap of cases)."""
    from labeler.stats.agreement import level_of
    from labeler.stats.bootstrap import alpha_interval, percent_interval

    versions = ds.versions
    cur = Current(ds, versions)
    out = {}
    for c, crit in versions.in_force.criteria.items():
        r = ratings_of(cur, c)
        out[c] = {"alpha": alpha_interval(r.data, r.n_values, level_of(crit), replicates, seed),
                  "percent": percent_interval(r.data, r.n_values, replicates, seed)}
    return out
