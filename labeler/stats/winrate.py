"""Win rates of pairwise cases: per criterion, how often each source's output is preferred.

Outcomes come from gold (adjudicated, else consensus of the annotators) and from each pairwise judge
run (a verdict counts only when both orders agreed). A source's win rate is wins / (wins + losses):
ties and "both bad" are shown beside it and left out of the rate, so the 95% Wilson interval is the
binomial one it claims to be. With more than two sources, a Bradley-Terry model ranks them within each
group of sources connected by comparisons (ties as half a win each): sources never compared, directly or
through others, are not put in one order, since nothing in the data orders them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of k successes in n trials (None when n is 0)."""
    if n <= 0:
        return None
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class Tally:
    """One source's record on one criterion."""

    source: str
    wins: int = 0
    losses: int = 0
    ties: int = 0
    both_bad: int = 0

    @property
    def n(self) -> int:
        return self.wins + self.losses + self.ties + self.both_bad

    @property
    def decisive(self) -> int:
        return self.wins + self.losses

    @property
    def rate(self) -> float | None:
        return self.wins / self.decisive if self.decisive else None

    def as_dict(self) -> dict:
        ci = wilson(self.wins, self.decisive)
        return {"source": self.source, "cases": self.n, "wins": self.wins, "losses": self.losses, "ties": self.ties,
                "both_bad": self.both_bad, "win_rate": _r(self.rate), "ci95": [_r(ci[0]), _r(ci[1])] if ci else None}


@dataclass
class Matchup:
    """Two sources head to head on one criterion (a before b in name order)."""

    a: str
    b: str
    a_wins: int = 0
    b_wins: int = 0
    ties: int = 0
    both_bad: int = 0

    def as_dict(self) -> dict:
        decisive = self.a_wins + self.b_wins
        ci = wilson(self.a_wins, decisive)
        return {"a": self.a, "b": self.b, "cases": self.a_wins + self.b_wins + self.ties + self.both_bad,
                "a_wins": self.a_wins, "b_wins": self.b_wins, "ties": self.ties, "both_bad": self.both_bad,
                "a_win_rate": _r(self.a_wins / decisive) if decisive else None,
                "ci95": [_r(ci[0]), _r(ci[1])] if ci else None}


@dataclass
class WinTable:
    """One criterion, by one judge (gold or a run), in one group of cases."""

    criterion: str
    by: str
    """"gold" or a judge run's name."""
    group: str
    sources: dict[str, Tally] = field(default_factory=dict)
    matchups: dict[tuple[str, str], Matchup] = field(default_factory=dict)
    inconsistent: int = 0
    """Judge verdicts left out because the two orders disagreed."""
    ranking: list[list[tuple[str, float]]] | None = None
    """One Bradley-Terry ranking per connected group of sources (largest group first)."""
    ranking_ci: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    """source -> 95% interval of its strength (cases of its group resampled; see strength_intervals)."""

    def as_dict(self) -> dict:
        return {"criterion": self.criterion, "by": self.by, "group": self.group,
                "sources": [t.as_dict() for t in sorted(self.sources.values(), key=lambda t: -(t.rate or 0))],
                "matchups": [m.as_dict() for m in self.matchups.values()],
                "inconsistent_left_out": self.inconsistent,
                "bradley_terry": [{"source": s, "strength": _r(p), "group": g + 1, "ci95": self._strength_ci(s)}
                                  for g, ranks in enumerate(self.ranking) for s, p in ranks] if self.ranking else None,
                "bradley_terry_note": "ranked only within groups of sources connected by comparisons; strengths "
                                      "sum to 1 within a group and do not compare across groups; 95% intervals "
                                      "resample the group's compared cases (BCa)" if self.ranking else None}

    def _strength_ci(self, source: str) -> list[float | None] | None:
        ci = self.ranking_ci.get(source)
        return None if ci is None or ci[0] is None else [_r(ci[0]), _r(ci[1])]


def bradley_terry(matchups: list[Matchup], iterations: int = 2000, tol: float = 1e-10) -> list[tuple[str, float]]:
    """Bradley-Terry strengths (summing to 1), best first, by Hunter's MM algorithm.

    Ties count half a win for each side; one virtual tie per compared pair keeps every strength finite
    (a source that never won is ranked last, not at zero). "Both bad" says nothing about order: left out."""
    names = sorted({m.a for m in matchups} | {m.b for m in matchups})
    at = {s: i for i, s in enumerate(names)}
    wins = np.zeros((len(names), len(names)))
    for m in matchups:
        i, j = at[m.a], at[m.b]
        wins[i, j] += m.a_wins + 0.5 * m.ties + 0.5
        wins[j, i] += m.b_wins + 0.5 * m.ties + 0.5
    p = _mm(wins[None], iterations, tol)[0]
    return sorted(zip(names, p.tolist()), key=lambda x: -x[1])


def _mm(wins: np.ndarray, iterations: int = 2000, tol: float = 1e-10) -> np.ndarray:
    """Hunter's MM iterations for many win matrices at once (replicates x k x k -> replicates x k strengths)."""
    games = wins + wins.transpose(0, 2, 1)
    total = wins.sum(axis=2)
    k = wins.shape[1]
    p = np.full(wins.shape[:2], 1.0 / k)
    for _ in range(iterations):
        denom = (games / (p[:, :, None] + p[:, None, :])).sum(axis=2)
        new = total / denom
        new /= new.sum(axis=1, keepdims=True)
        done = np.abs(new - p).max() < tol
        p = new
        if done:
            break
    return p


def strength_intervals(matchups: list[Matchup], replicates: int = 1000, seed: int = 0) -> dict[str, tuple[float | None, float | None]]:
    """95% intervals of the Bradley-Terry strengths of one connected group, resampling its compared cases
    (each a win or a tie between two of its sources) and refitting, with the same virtual tie per pair."""
    from labeler.stats.bootstrap import bca_columns

    names = sorted({m.a for m in matchups} | {m.b for m in matchups})
    k = len(names)
    at = {s: i for i, s in enumerate(names)}
    rows, prior = [], np.zeros((k, k))
    for m in matchups:
        i, j = at[m.a], at[m.b]
        prior[i, j] += 0.5
        prior[j, i] += 0.5
        win, loss, tie = np.zeros((k, k)), np.zeros((k, k)), np.zeros((k, k))
        win[i, j], loss[j, i] = 1.0, 1.0
        tie[i, j] = tie[j, i] = 0.5
        rows += [win.ravel()] * m.a_wins + [loss.ravel()] * m.b_wins + [tie.ravel()] * m.ties
    cases = np.asarray(rows).reshape(-1, k * k)

    def stat(block: np.ndarray) -> np.ndarray:
        return _mm((block @ cases).reshape(-1, k, k) + prior[None], 500, 1e-8)

    ivs = bca_columns(stat, len(cases), replicates, seed, bounds=(0.0, 1.0))
    return {s: (ivs[i].low, ivs[i].high) for s, i in at.items()}


def connected(matchups: list[Matchup]) -> list[list[Matchup]]:
    """The matchups split by connected group of sources, largest group first. Only matchups that say
    something about order (a win or a tie) connect: "both bad" does not."""
    informative = [m for m in matchups if m.a_wins + m.b_wins + m.ties]
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for m in informative:
        parent[root(m.a)] = root(m.b)
    groups: dict[str, list[Matchup]] = {}
    for m in informative:
        groups.setdefault(root(m.a), []).append(m)
    return sorted(groups.values(), key=lambda g: (-len({x for m in g for x in (m.a, m.b)}), min(m.a for m in g)))


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


BY_CHOICES = ("source", "tier", "tag")
OUTCOMES = ("A", "B", "tie", "both_bad")


def win_tables(ds, by: str = "source", runs: list[str] | None = None, gold_rule: str = "consensus") -> list[WinTable]:
    """Per criterion, per judge (gold first, then each pairwise run), per group: who wins how often.

    Counted with numpy over case columns (100,000 cases in well under a second): outcomes as codes
    0-3 (A, B, tie, both bad), sources as small integers, tallies by bincount."""
    from labeler.derived.current import Current
    from labeler.stats.agreement import MISSING
    from labeler.stats.gather import adjudicated_of, ratings_of

    versions = ds.versions
    rubric = versions.in_force
    if not rubric.pairwise:
        raise ValueError(f"{ds.name}: rubric {rubric.name} is not pairwise; win rates need pairwise cases (see `labeler pair`)")
    store = ds.cases
    n = len(store)
    at: dict[str, int] = {}
    """source name -> its small integer (in order of first appearance)."""
    sa = np.full(n, -1, dtype=np.int64)
    sb = np.full(n, -1, dtype=np.int64)
    for j, f in enumerate(store.fields):
        pair = f.get("sources")
        if pair:
            sa[j] = at.setdefault(pair[0], len(at))
            sb[j] = at.setdefault(pair[1], len(at))
    names = list(at)
    crits = list(rubric.criteria)

    def outcome_codes(scale: list, idx: np.ndarray) -> np.ndarray:
        lut = np.asarray([OUTCOMES.index(v) if v in OUTCOMES else -1 for v in scale] + [-1], dtype=np.int64)
        return lut[np.where(idx < 0, len(scale), idx)]

    # (judge name, criterion -> outcome code per case, criterion -> inconsistent per case)
    judges: list[tuple[str, dict[str, np.ndarray], dict[str, np.ndarray]]] = []
    cur = Current(ds, versions)
    gold: dict[str, np.ndarray] = {}
    for c, crit in rubric.criteria.items():
        scale = crit.scale.values()
        r = ratings_of(cur, c)
        idx = r.gold(gold_rule, adjudicated_of(cur, r)).astype(np.int64)
        idx[idx == MISSING] = -1
        gold[c] = outcome_codes(scale, idx)
    judges.append(("gold", gold, {}))
    for run in runs if runs is not None else ds.judge_runs():
        meta, verdicts = ds.judge_run(run)
        if meta.rubric != rubric.name:
            continue
        codes, incons = verdicts.first_matrix(store.index, n)
        per, inc = {}, {}
        for k, c in enumerate(verdicts.scales):
            if c in rubric.criteria:
                per[c] = outcome_codes(list(verdicts.scales[c]), codes[:, k].astype(np.int64))
                inc[c] = incons[:, k]
        judges.append((run, per, inc))
    groups = _groups(store, by)
    tables: list[WinTable] = []
    for crit in crits:
        for name, per, inc in judges:
            out = per.get(crit, np.full(n, -1, dtype=np.int64))
            bad = inc.get(crit, np.zeros(n, dtype=bool))
            for key, members in groups:
                tables.append(_table(crit, name, key, names, sa[members], sb[members], out[members], bad[members]))
    return tables


@dataclass
class PositionBias:
    """How often one annotator's decisive pairwise labels (A or B) picked the output shown first.
    Without position bias this is about half, since labeler shows B first on half of each annotator's cases.
    The criteria of one label share its order and are read together, so they are not independent trials:
    the interval resamples labels (cases), not criteria."""

    annotator: str
    first: int = 0
    decisive: int = 0
    labels: int = 0
    """Labels with at least one decisive criterion: the units the interval resamples."""
    ci: tuple[float, float] | None = None

    def as_dict(self) -> dict:
        ci = self.ci
        return {"annotator": self.annotator, "decisive_labels": self.decisive, "picked_first": self.first,
                "labels": self.labels, "share_first": _r(self.first / self.decisive) if self.decisive else None,
                "ci95": [_r(ci[0]), _r(ci[1])] if ci else None, "ci_resamples": "labels (cases)"}


def by_label_interval(first: np.ndarray, decisive: np.ndarray, replicates: int = 1000, seed: int = 0) -> tuple[float, float] | None:
    """95% interval of sum(first) / sum(decisive) resampling labels: each label's criteria stay together
    (bootstrap.ratio_interval, the BCa every rate gets)."""
    from labeler.stats.bootstrap import ratio_interval

    keep = decisive > 0
    if not keep.any():
        return None
    iv = ratio_interval(first[keep], decisive[keep], replicates, seed)
    return None if iv.low is None else (float(iv.low), float(iv.high))


def human_position_bias(ds, replicates: int = 1000, seed: int = 0) -> list[PositionBias]:
    """Per annotator, over every criterion of their current pairwise labels that record the order shown."""
    from labeler.derived.current import Current

    versions = ds.versions
    rubric = versions.in_force
    if not rubric.pairwise:
        return []
    cur = Current(ds, versions)
    extras = ds.table.extras
    out = []
    for i, who in enumerate(cur.raters):
        rows = cur.rows[i]
        cols = np.flatnonzero(rows >= 0)
        code = {"AB": 1, "BA": 2}
        shown = np.fromiter((code.get(extras.get(int(r), {}).get("shown"), 0) for r in rows[cols]), dtype=np.int8, count=len(cols))
        first_l = np.zeros(len(cols), dtype=np.int64)
        decisive_l = np.zeros(len(cols), dtype=np.int64)
        for c, crit in rubric.criteria.items():
            scale = crit.scale.values()
            idx = cur.matrix(c)[i, cols]
            a = scale.index("A") if "A" in scale else -9
            b = scale.index("B") if "B" in scale else -9
            decisive = ((idx == a) | (idx == b)) & (shown > 0)
            first = decisive & (((idx == a) & (shown == 1)) | ((idx == b) & (shown == 2)))
            decisive_l += decisive
            first_l += first
        if decisive_l.sum():
            out.append(PositionBias(who, int(first_l.sum()), int(decisive_l.sum()), int((decisive_l > 0).sum()),
                                    by_label_interval(first_l, decisive_l, replicates, seed)))
    return out


def _groups(store, by: str) -> list[tuple[str, np.ndarray]]:
    n = len(store)
    pairwise = np.fromiter(("sources" in f for f in store.fields), dtype=bool, count=n)
    if by == "source":
        return [("all", np.flatnonzero(pairwise))]
    if by == "tier":
        tiers = store.tiers
        return [(t, np.flatnonzero(pairwise & (tiers == t))) for t in sorted(set(tiers[pairwise].tolist()))]
    if by == "tag":
        members: dict[str, list[int]] = {}
        for j in np.flatnonzero(pairwise):
            for t in store.tags[j] or ("(no tag)",):
                members.setdefault(t, []).append(int(j))
        return [(t, np.asarray(members[t], dtype=np.int64)) for t in sorted(members)]
    raise ValueError(f"--by must be one of {', '.join(BY_CHOICES)}")


def _table(crit: str, by: str, group: str, names: list[str], a: np.ndarray, b: np.ndarray, out: np.ndarray,
           bad: np.ndarray) -> WinTable:
    """One WinTable from columns: source of A and of B, outcome code, inconsistent flag, for the group's cases."""
    t = WinTable(crit, by, group)
    s = len(names)
    t.inconsistent = int(bad.sum())
    ok = out >= 0
    a, b, out = a[ok], b[ok], out[ok]
    if not len(out):
        return t
    win = np.where(out == 0, a, b)
    lose = np.where(out == 0, b, a)
    decisive = out <= 1
    count = lambda x, m: np.bincount(x[m], minlength=s)  # noqa: E731
    wins, losses = count(win, decisive), count(lose, decisive)
    ties = count(a, out == 2) + count(b, out == 2)
    bad2 = count(a, out == 3) + count(b, out == 3)
    present = count(a, np.ones(len(a), bool)) + count(b, np.ones(len(b), bool))
    for k in np.flatnonzero(present):
        t.sources[names[k]] = Tally(names[k], int(wins[k]), int(losses[k]), int(ties[k]), int(bad2[k]))
    # head to head: the pair in name order, "a" the name that sorts first
    lo = np.where(np.asarray(names, dtype=object)[a] <= np.asarray(names, dtype=object)[b], a, b)
    hi = np.where(lo == a, b, a)
    key = lo * s + hi
    for kk in np.unique(key):
        m = key == kk
        x, y = names[kk // s], names[kk % s]
        t.matchups[(x, y)] = Matchup(x, y, int((decisive & m & (win == kk // s)).sum()), int((decisive & m & (win == kk % s)).sum()),
                                     int((m & (out == 2)).sum()), int((m & (out == 3)).sum()))
    if len(t.sources) > 2:
        t.ranking = [bradley_terry(g) for g in connected(list(t.matchups.values()))] or None
        for g in connected(list(t.matchups.values())):
            t.ranking_ci.update(strength_intervals(g))
    return t
