"""Win rates of pairwise cases: per criterion, how often each source's output is preferred.

Outcomes come from gold (adjudicated, else consensus of the annotators) and from each pairwise judge
run (a verdict counts only when both orders agreed). A source's win rate is wins / (wins + losses):
ties and "both bad" are shown beside it and left out of the rate, so the 95% Wilson interval is the
binomial one it claims to be. With more than two sources, a Bradley-Terry model ranks them across
every comparison (ties as half a win each).
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
    ranking: list[tuple[str, float]] | None = None

    def add(self, sa: str, sb: str, outcome) -> None:
        """One case's outcome ("A", "B", "tie", "both_bad") between source `sa` (A) and `sb` (B)."""
        ta = self.sources.setdefault(sa, Tally(sa))
        tb = self.sources.setdefault(sb, Tally(sb))
        key = tuple(sorted((sa, sb)))
        m = self.matchups.setdefault(key, Matchup(*key))
        if outcome == "A" or outcome == "B":
            win, lose = (sa, sb) if outcome == "A" else (sb, sa)
            self.sources[win].wins += 1
            self.sources[lose].losses += 1
            if win == m.a:
                m.a_wins += 1
            else:
                m.b_wins += 1
        elif outcome == "tie":
            ta.ties += 1
            tb.ties += 1
            m.ties += 1
        elif outcome == "both_bad":
            ta.both_bad += 1
            tb.both_bad += 1
            m.both_bad += 1

    def as_dict(self) -> dict:
        return {"criterion": self.criterion, "by": self.by, "group": self.group,
                "sources": [t.as_dict() for t in sorted(self.sources.values(), key=lambda t: -(t.rate or 0))],
                "matchups": [m.as_dict() for m in self.matchups.values()],
                "inconsistent_left_out": self.inconsistent,
                "bradley_terry": [{"source": s, "strength": _r(p)} for s, p in self.ranking] if self.ranking else None}


def bradley_terry(matchups: list[Matchup], iterations: int = 2000, tol: float = 1e-10) -> list[tuple[str, float]]:
    """Bradley-Terry strengths (summing to 1), best first, by Hunter's MM algorithm.

    Ties count half a win for each side; one virtual tie per compared pair keeps every strength finite
    (a source that never won is ranked last, not at zero). "Both bad" says nothing about order: left out."""
    names = sorted({m.a for m in matchups} | {m.b for m in matchups})
    k = len(names)
    at = {s: i for i, s in enumerate(names)}
    wins = np.zeros((k, k))
    for m in matchups:
        i, j = at[m.a], at[m.b]
        wins[i, j] += m.a_wins + 0.5 * m.ties + 0.5
        wins[j, i] += m.b_wins + 0.5 * m.ties + 0.5
    games = wins + wins.T
    total = wins.sum(axis=1)
    p = np.full(k, 1.0 / k)
    for _ in range(iterations):
        denom = (games / (p[:, None] + p[None, :])).sum(axis=1)
        new = total / denom
        new /= new.sum()
        if np.abs(new - p).max() < tol:
            p = new
            break
        p = new
    return sorted(zip(names, p.tolist()), key=lambda x: -x[1])


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


BY_CHOICES = ("source", "tier", "tag")


def win_tables(ds, by: str = "source", runs: list[str] | None = None, gold_rule: str = "consensus") -> list[WinTable]:
    """Per criterion, per judge (gold first, then each pairwise run), per group: who wins how often."""
    from labeler.stats.numbers import gold

    rubric = ds.rubric()
    if not rubric.pairwise:
        raise ValueError(f"{ds.name}: rubric {rubric.name} is not pairwise; win rates need pairwise cases (see `labeler pair`)")
    store = ds.cases
    outcomes: list[tuple[str, dict[str, dict], dict[str, set]]] = []
    g = gold(ds, rule=gold_rule)
    outcomes.append(("gold", {cid: {c: gv.value for c, gv in per.items()} for cid, per in g.items()}, {}))
    for run in runs if runs is not None else ds.judge_runs():
        meta, verdicts = ds.judge_run(run)
        if meta.rubric != rubric.name:
            continue
        values = verdicts.first_values()
        inconsistent: dict[str, set] = {}
        for cid in verdicts:
            for v in sorted((v for v in verdicts[cid] if v.error is None), key=lambda v: v.repeat)[:1]:
                for c, cv in v.values.items():
                    if cv.inconsistent:
                        inconsistent.setdefault(c, set()).add(cid)
        outcomes.append((run, values, inconsistent))
    tables: list[WinTable] = []
    for crit in rubric.criteria:
        for name, values, inconsistent in outcomes:
            groups: dict[str, WinTable] = {}
            for j, cid in enumerate(store.ids):
                sources = store.sources(j)
                if sources is None:
                    continue
                keys = ["all"] if by == "source" else [store.field(j, "tier")] if by == "tier" else list(store.tags[j]) or ["(no tag)"]
                v = values.get(cid, {}).get(crit)
                for key in keys:
                    t = groups.setdefault(key, WinTable(crit, name, key))
                    if v is not None:
                        t.add(sources[0], sources[1], v)
                    elif cid in inconsistent.get(crit, ()):
                        t.inconsistent += 1
            for key in sorted(groups):
                t = groups[key]
                if len(t.sources) > 2 and any(m.a_wins + m.b_wins + m.ties for m in t.matchups.values()):
                    t.ranking = bradley_terry(list(t.matchups.values()))
                tables.append(t)
    return tables
