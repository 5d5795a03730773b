"""Few-shot examples for the judge from what people corrected: audited verdicts the judge got wrong
(the auditor's note is the explanation) and adjudicated gold with the lead's reason.

Only cases outside a seeded held-out split may become examples, so the held-out half is never
shown to the judge across iterations and stays honest ground to measure it on (prompts.held_out).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from labeler.errors import LabelerError
from labeler.judge.prompts import Example, ExampleSet, examples_path, in_holdout, latest, used
from labeler.dataset import Dataset

PRIORITY = ("marked", "audit", "adjudication_disagreed", "adjudication")
"""Which candidates go first: picked by an auditor in the audit screen, then audited verdicts the judge
got wrong, then a lead's reasoned gold where the judge disagreed, then any reasoned gold."""


@dataclass
class Picked:
    examples: list[Example]
    considered: int = 0
    skipped: Counter = field(default_factory=Counter)
    """why -> candidates left out (held_out, stale_label, gold_conflict, gold_wrong, gold_changed, no_gold)."""

    def per_criterion(self) -> Counter:
        return Counter(e.criterion for e in self.examples)


def trim(text: str, limit: int) -> str:
    """The text cut to `limit` characters, saying how much was cut (long outputs would crowd out the case)."""
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + f" [... {len(text) - limit} more characters trimmed]"


def pick(ds: Dataset, run: str, per_criterion: int = 3, holdout: float = 0.5, seed: int = 0,
         max_chars: int = 1200) -> Picked:
    """Examples balanced across criteria and their scale points, from cases outside the held-out split."""
    from labeler.derived.current import Current
    from labeler.derived.verdicts import first_values

    if not 0 <= holdout < 1:
        raise LabelerError(f"--holdout {holdout}: expected a fraction from 0 up to (not including) 1")
    meta, verdicts = ds.judge_run(run)
    versions = ds.versions
    rubric = versions.in_force
    if rubric.pairwise:
        raise LabelerError(f"rubric {rubric.name} is pairwise: few-shot examples are for rubrics that grade one output")
    if meta.candidate:
        raise LabelerError(f"run {run} scored candidate {meta.candidate!r}: human gold is about the golden outputs, "
                           "so its corrections cannot become examples; use a run on the golden outputs")
    conflicts = {(cid, c) for cid, c, _ in ds.adjudications.conflicts(versions.holds)}
    out = Picked([])
    found: dict[tuple[str, str], tuple[int, str, str]] = {}  # (case, criterion) -> (priority, source, explanation)

    def reason(cid: str, c: str) -> str:
        n = ds.adjudications.reason(cid, c)
        return n.text.strip() if n is not None and versions.holds(n.rubric, c) else ""

    for (cid, c), a in ds.audits(run).items():
        if a.correct or c not in rubric.criteria:
            continue
        out.considered += 1
        if a.reason == "gold_wrong":
            out.skipped["gold_wrong"] += 1
            continue
        found[(cid, c)] = (0 if a.example else 1, "audit", a.note.strip() or reason(cid, c))
    reasoned = [(cid, c) for c in rubric.criteria for cid in ds.adjudications.criterion_gold(c, versions.holds)
                if (cid, c) not in found and reason(cid, c)]
    out.considered += len(reasoned)
    cases = sorted({cid for cid, _ in [*found, *reasoned] if cid in ds.case_index}, key=ds.case_index.__getitem__)
    cur = Current(ds, versions)
    g = _gold(ds, cur, cases, rule="consensus")
    judged = verdicts.first_values(cases) if hasattr(verdicts, "first_values") else first_values(verdicts)
    for cid, c in reasoned:
        gv = g.get(cid, {}).get(c)
        disagreed = gv is not None and judged.get(cid, {}).get(c) not in (None, gv)
        found[(cid, c)] = (2 if disagreed else 3, "adjudication", reason(cid, c))

    pools: dict[str, dict] = {c: {} for c in rubric.criteria}
    for (cid, c), (prio, source, why) in found.items():
        if cid not in ds.case_index:
            continue
        skip = _unusable(ds, cur, g, judged, conflicts, cid, c, source, holdout, seed)
        if skip:
            out.skipped[skip] += 1
            continue
        value = g[cid][c]
        pools[c].setdefault(value, []).append((prio, _tiebreak(cid, c, seed), cid, source, why))
    for c, crit in rubric.criteria.items():
        by_value = [sorted(pools[c].get(v, [])) for v in crit.scale.values()]
        n = 0
        while n < per_criterion and any(by_value):
            # round robin over scale points (every point the team used gets shown), in each round the
            # point whose best candidate ranks highest first (an auditor's pick before a plain correction)
            for group in sorted((grp for grp in by_value if grp), key=lambda grp: grp[0][0]):
                if group and n < per_criterion:
                    _, _, cid, source, why = group.pop(0)
                    case = ds.cases[cid]
                    out.examples.append(Example(case=cid, criterion=c, value=g[cid][c], explanation=why, source=source,
                                                input=trim(case.input, max_chars), output=trim(case.output, max_chars)))
                    n += 1
    out.examples.sort(key=lambda e: (ds.case_index[e.case], list(rubric.criteria).index(e.criterion)))
    return out


def _unusable(ds, cur, g, judged, conflicts, cid: str, c: str, source: str, holdout: float, seed: int) -> str:
    """Why (case, criterion) may not be an example, or ''."""
    if in_holdout(cid, holdout, seed):
        return "held_out"
    if (cid, c) in conflicts:
        return "gold_conflict"
    if c not in g.get(cid, {}):
        return "no_gold"
    if _stale(cur, c, ds.case_index[cid]):
        return "stale_label"
    if source == "audit" and judged.get(cid, {}).get(c) == g[cid][c]:
        return "gold_changed"  # gold now says what the judge said: the correction no longer stands
    return ""


def _gold(ds: Dataset, cur, cases: list[str], rule: str) -> dict[str, dict]:
    """case -> criterion -> gold value (adjudicated where it holds, else the rule), for these cases only
    (what stats.numbers.gold says for them, without computing it for every case)."""
    import numpy as np

    from labeler.stats.agreement import MISSING
    from labeler.stats.gather import adjudicated_of, ratings_of

    out: dict[str, dict] = {}
    idx = np.asarray([ds.case_index[c] for c in cases], dtype=np.int64)
    for c, crit in cur.versions.in_force.criteria.items():
        r = ratings_of(cur, c, idx)
        gi = r.gold(rule, adjudicated_of(cur, r))
        scale = crit.scale.values()
        for j in np.flatnonzero(gi != MISSING):
            out.setdefault(cases[j], {})[c] = scale[gi[j]]
    return out


def _stale(cur, c: str, j: int) -> bool:
    """Does an annotator's latest label of case j carry a value of c made under a rubric version where c differed?"""
    col = cur.table.cols.get(c)
    if col is None:
        return False
    rows = cur.rows[:, j]
    for r in rows[rows >= 0]:
        if col.a[r] >= 0 and not cur.versions.holds(int(cur.table.version.a[r]), c):
            return True
    return False


def _tiebreak(cid: str, c: str, seed: int) -> float:
    """A seeded order among equal candidates (not file order, which favours the first tickets)."""
    import hashlib

    h = hashlib.sha256(f"{seed}\x01{c}\x01{cid}".encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(h[:8], "big") / 2.0 ** 64


def write(ds: Dataset, version: int, run: str, picked: Picked, holdout: float, seed: int) -> str:
    """judge-examples/v<version>.yaml (a version no run has used yet); returns its path relative to the workspace."""
    from labeler.truth.yamlio import atomic_write, dump_fast

    if version > latest(ds):
        raise LabelerError(f"no judge prompt v{version} yet: `labeler judge prompt bump {ds.name}` makes it")
    runs = used(ds).get(version)
    if runs:
        raise LabelerError(f"judge prompt v{version} was used by run {runs[0][0]}: a used version never changes; "
                           f"`labeler judge prompt bump {ds.name}` makes a new one")
    data = ExampleSet(version=version, dataset=ds.name, from_run=run, holdout=holdout, seed=seed, examples=picked.examples)
    path = examples_path(ds, version)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (f"# Few-shot examples of judge prompt v{version} (filled in at {{examples}}), made by `labeler judge examples`\n"
              f"# from the corrections of run {run}. Runs of v{version} are measured only on the other cases.\n")
    atomic_write(path, header + dump_fast(data.model_dump(mode="json")))
    return str(path.relative_to(ds.ws.root))
