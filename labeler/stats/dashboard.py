"""The numbers behind the dashboard's plots: the report's, reshaped (plain Python, no UI)."""

from __future__ import annotations

from datetime import datetime, timezone

from labeler.dataset import Dataset


def _ci(tally) -> tuple:
    from labeler.stats.winrate import wilson

    ci = wilson(tally.wins, tally.decisive)
    return ci if ci else (None, None)


def dashboard_data(ds: Dataset, replicates: int = 200) -> dict:
    """Alpha with intervals, alpha by version, score shares of people and each run, labels per day."""
    from labeler.derived.current import Current
    from labeler.derived.label_table import NO_TIME
    from labeler.stats.numbers import agreement_groups
    from labeler.stats.report import build_report

    report = build_report(ds, replicates=replicates, runs=[])
    versions = ds.versions
    cur = Current(ds, versions)
    crits = list(versions.in_force.criteria)
    alpha = {c: (q["alpha"]["value"], (q["alpha"].get("ci95") or {}).get("low"), (q["alpha"].get("ci95") or {}).get("high"))
             for c, q in report["quality"].items()}
    by_version: dict[str, list] = {}
    for g in agreement_groups(ds, "version"):
        for r in g.reports:
            by_version.setdefault(r.criterion, []).append((int(g.key[1:]), r.alpha.value))
    distributions = {}
    runs = {run: ds.judge_run(run)[1].first_values() for run in ds.judge_runs()}
    for c in crits:
        values = versions.in_force.criteria[c].scale.values()
        m = cur.matrix(c)
        people = [(m == i).sum() for i in range(len(values))]
        series = {"people": [x / max(1, sum(people)) for x in people]}
        for run, fv in runs.items():
            counts = [sum(1 for v in fv.values() if v.get(c) == val) for val in values]
            if sum(counts):
                series[run] = [x / sum(counts) for x in counts]
        distributions[c] = {"values": values, "series": series}
    t = ds.table
    keep = (~t.retract.v) & (t.at.v != NO_TIME)
    day = (t.at.v[keep] // 86_400_000_000).astype(int)
    ann = t.ann.v[keep]
    all_days = sorted(set(day.tolist()))[-30:]
    per_day = {}
    for i, name in enumerate(t.annotators):
        mine = day[ann == i]
        per_day[name] = [(datetime.fromtimestamp(x * 86400, timezone.utc).strftime("%Y-%m-%d"), int((mine == x).sum())) for x in all_days]
    wins: dict[str, dict] = {}
    if versions.in_force.pairwise:  # per criterion: each source's win rate, by gold and by each judge run
        from labeler.stats.winrate import win_tables

        for table in win_tables(ds):
            per = wins.setdefault(table.criterion, {"sources": [], "series": {}})
            for name in table.sources:
                if name not in per["sources"]:
                    per["sources"].append(name)
            per["series"][table.by] = {name: (t.rate, *(_ci(t))) for name, t in table.sources.items()}
    return {"drift": report["drift"]["runs"], "wins": wins, "cases": report["cases"], "k": report["overlap_k"], "to_k": report["throughput"]["labels_to_reach_k"],
            "replicates": replicates, "criteria": crits, "alpha": alpha, "by_version": by_version,
            "distributions": distributions, "per_day": per_day}
