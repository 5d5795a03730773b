"""Pairwise cases from two versions' outputs for the same inputs ("which is better, per criterion").

A side is a candidate of the source dataset (candidates/<name>.yaml) or `golden`: the outputs in
its cases.yaml. A case where either side has no output, or both sides said exactly the same thing,
is left out and counted: there is nothing to prefer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from labeler.errors import LabelerError
from labeler.truth.models import Case, OutputOrigin, Rubric

GOLDEN = "golden"
"""The name that stands for the source dataset's own outputs (its implicit baseline candidate)."""


@dataclass
class Pairing:
    cases: list[Case] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """Case ids left out because one side has no output for them."""
    identical: list[str] = field(default_factory=list)
    """Case ids left out because both outputs are the same text."""


def _side(ds, name: str) -> tuple[dict[str, str] | None, OutputOrigin]:
    if name == GOLDEN and name not in ds.candidate_names():
        return None, OutputOrigin(candidate=GOLDEN)
    if name not in ds.candidate_names():
        known = ", ".join([GOLDEN, *ds.candidate_names()])
        raise LabelerError(f"{ds.name}: no candidate {name!r} (known: {known}); add one with `labeler candidate add`")
    cand = ds.candidate(name)
    return cand.outputs, OutputOrigin(candidate=name, model=cand.model, prompt_version=cand.prompt_version)


def build_pairs(ds, a: str, b: str, today: date | None = None) -> Pairing:
    """Pairwise cases (A = `a`, B = `b`) for every input both sides have an output for; ids stay the same."""
    if a == b:
        raise LabelerError(f"--a and --b are both {a!r}: a pair needs two different versions")
    out_a, origin_a = _side(ds, a)
    out_b, origin_b = _side(ds, b)
    today = today or date.today()
    result = Pairing()
    for j, cid in enumerate(ds.cases.ids):
        case = ds.cases.case(j)
        if case.pairwise:
            raise LabelerError(f"{ds.name}: case {cid!r} is already pairwise; pair a dataset of single-output cases")
        oa = case.output if out_a is None else out_a.get(cid)
        ob = case.output if out_b is None else out_b.get(cid)
        if oa is None or ob is None:
            result.missing.append(cid)
            continue
        if oa == ob:
            result.identical.append(cid)
            continue
        result.cases.append(case.model_copy(update={
            "output": oa, "output_b": ob, "origin_a": origin_a, "origin_b": origin_b,
            "source": f"{ds.name}: {a} vs {b}", "added": today}))
    return result


def pairwise_rubric_from(source: Rubric) -> Rubric:
    """A pairwise rubric asking, for each criterion of `source`, which output is better on it: the one-step
    way from "two versions" to "which is better, per criterion" when no pairwise rubric exists yet."""
    criteria = {}
    for cid, crit in source.criteria.items():
        scale = "; ".join(f"{v} = {p.label}" + (f" ({p.when})" if p.when else "") for v, p in
                          ((v, crit.scale.points[v]) for v in crit.scale.values()))
        criteria[cid] = {
            "question": f"Which output is better on this: {crit.question}",
            "description": (crit.description.strip() + "\n" if crit.description.strip() else "")
                           + f"Judged alone as {source.name} v{source.version} scores it: {scale}",
            "scale": {"type": "pairwise", "points": {
                "A": {"label": "A is better"}, "B": {"label": "B is better"},
                "tie": {"label": "tie", "when": "Both are as good as each other on this criterion."},
                "both_bad": {"label": "both bad", "when": "Neither is acceptable on this criterion."}}},
        }
    return Rubric.model_validate({
        "name": f"{source.name}-pairwise", "version": 1, "task": source.task,
        "criteria": criteria,
        "changelog": [{"version": 1, "date": date.today().isoformat(), "author": "labeler pair",
                       "summary": f"Made from {source.name} v{source.version}: each criterion as a comparison of two outputs."}]})
