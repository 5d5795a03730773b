"""The golden set, outward: records eval harnesses read as they are, and grade honestly.

Formats (matched against the tools' code, 2026-12): JSONL and CSV (every case field, gold per
criterion; CSV cells that a spreadsheet would run as a formula get a `'` in front unless asked not to,
and the importer takes it off again); Inspect AI `json_dataset` samples (`id`, `input`, `target` = the
reference, or, for a case without one, the rubric's criteria as the grading criterion that
`model_graded_qa` reads; the rest under `metadata`); promptfoo test cases (JSONL: `vars`,
`description`, `metadata`, `providerOutput` for the stored output, one `llm-rubric` assertion per
criterion whose text shows the grader the input, reference and context and says the pass point, with
`threshold` for ordinal scales); OpenAI evals (the Evals API `{"item": {...}}` records, missing fields
absent, or `--legacy`: the registry's chat `input` and an `ideal` that is the reference or an output
gold passed, never one it failed); DeepEval goldens (`name` = the case id, `input`, `actual_output`,
`expected_output`, `context`, `additional_metadata`; JSON lines, or one array).

Order is the dataset's case order and keys are written sorted where the tool does not care, so an
export of unchanged data is byte-identical.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from labeler.errors import UsageError
from labeler.truth.models import Case, Criterion, Rubric, ScaleKind

FORMATS = ("jsonl", "csv", "inspect", "promptfoo", "openai-evals", "deepeval")

FORMULA = re.compile(r"'*[=+\-@\t\r]")
"""A cell a spreadsheet would run (OWASP's CSV injection list), also after quotes we added before."""


@dataclass
class Export:
    text: str
    left_out: list[str] = field(default_factory=list)
    """"case-id: why" for every case the format cannot carry honestly."""
    notes: list[str] = field(default_factory=list)


def _line(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=False) + "\n"


def case_record(case: Case, rubric: Rubric, gold: dict[str, Any], annotators: dict[str, dict[str, Any]] | None,
                output: str) -> dict:
    rec = {"id": case.id, "input": case.input, "output": output, "reference": case.reference, "context": case.context,
           "tier": case.tier.value, "tags": list(case.tags), "difficulty": case.difficulty, "notes": case.notes,
           "source": case.source, "added": case.added.isoformat() if case.added else None,
           "rubric": rubric.name, "rubric_version": rubric.version, "gold": gold}
    if case.output_b is not None:  # a pairwise case: both outputs and where each came from (import reads them back)
        rec["output_b"] = case.output_b
        for side in ("origin_a", "origin_b"):
            origin = getattr(case, side)
            rec[side] = origin.model_dump(exclude_defaults=True) if origin is not None else None
    if annotators is not None:
        rec["annotators"] = annotators
    return rec


def pass_point(crit: Criterion) -> Any:
    """The lowest value that passes: the top of an ordinal scale, the "yes" of a binary one; None for categories
    (the same rule as the report's pass rates)."""
    scale = crit.scale
    if scale.type is ScaleKind.ordinal:
        return max(scale.values())
    if scale.type is ScaleKind.binary:
        return next(v for v, k in scale.keys().items() if k == "y")
    return None


def _scale_text(crit: Criterion) -> str:
    return "; ".join(f"{v} = {p.label}" + (f" ({p.when})" if p.when else "") for v, p in crit.scale.points.items())


def criterion_text(cid: str, crit: Criterion) -> str:
    """One criterion said in full, with what passes: the grading criterion a model grader reads."""
    text = f"{cid}: {crit.question} {crit.description.strip()} Scale: {_scale_text(crit)}."
    p = pass_point(crit)
    if p is not None:
        text += f" Passing means {p} ({crit.scale.points[p].label})" + (" or better." if crit.scale.type is ScaleKind.ordinal
                                                                        and len(crit.scale.points) > 2 else ".")
    return " ".join(text.split())


def rubric_target(rubric: Rubric) -> str:
    """A target for a case without a reference: the rubric's criteria, which `model_graded_qa` grades against."""
    return "The answer must meet every criterion below.\n" + "\n".join(f"- {criterion_text(c, k)}" for c, k in rubric.criteria.items())


def _raw(text: str) -> str:
    """Static text inside a promptfoo (Nunjucks) template: kept literal when it holds template syntax."""
    return "{% raw %}" + text + "{% endraw %}" if re.search(r"\{[{%#]", text) else text


def promptfoo_assertion(cid: str, crit: Criterion, has: set[str]) -> dict:
    """An llm-rubric assertion whose text shows the grader the test's input (and reference, context) and
    states the pass point; promptfoo's grader sees only the output and this text."""
    parts = ["The output is a response to this input:\n<Input>\n{{input}}\n</Input>"]
    if "reference" in has:
        parts.append("A reference answer for it:\n<Reference>\n{{reference}}\n</Reference>")
    if "context" in has:
        parts.append("Context given with it:\n<Context>\n{{context}}\n</Context>")
    p = pass_point(crit)
    said = f"Criterion: {crit.question} {crit.description.strip()}\nScale: {_scale_text(crit)}.\n"
    if crit.scale.type is ScaleKind.ordinal:
        vals = crit.scale.values()
        lo, hi = vals[0], vals[-1]
        said += (f"The output passes only if it earns {p} ({crit.scale.points[p].label}) on this scale. "
                 f"Give as score the point it earns as a fraction of the scale: (point - {lo}) / {hi - lo}.")
        threshold = round((p - lo) / (hi - lo), 6)
    else:
        said += f"The output passes only if it is {p} ({crit.scale.points[p].label}) on this scale. Give score 1 if so, else 0."
        threshold = 1
    parts.append(_raw(said))
    a: dict[str, Any] = {"type": "llm-rubric", "metric": cid, "threshold": threshold}
    a["value"] = "\n".join(parts)
    return a


def promptfoo_config(tests_file: str, grader: str, dataset: str, rubric: Rubric) -> str:
    """A promptfooconfig.yaml that grades the exported tests as they are: `npx promptfoo eval` needs no edits.
    The provider is `echo` (no model call): every test carries its stored output in `providerOutput`."""
    return (f"# labeler export of {dataset} (rubric {rubric.name} v{rubric.version}): grades the stored outputs.\n"
            f"description: {json.dumps(f'{dataset}: rubric {rubric.name} v{rubric.version}')}\n"
            "prompts:\n  - '{{input}}'\n"
            "providers:\n  - echo  # never a model call: each test has providerOutput\n"
            "defaultTest:\n  options:\n"
            f"    provider: {json.dumps(grader)}  # the grader (llm-rubric)\n"
            f"tests: {json.dumps('file://' + tests_file)}\n")


def _formula_safe(cell: str) -> str:
    return "'" + cell if FORMULA.match(cell) else cell


def render(fmt: str, records: list[dict], rubric: Rubric, legacy: bool = False, raw_formulas: bool = False,
           array: bool = False) -> Export:
    if fmt == "jsonl":
        return Export("".join(_line(r) for r in records))
    if fmt == "csv":
        return Export(_csv(records, rubric, raw_formulas))
    if fmt == "inspect":
        out, target = [], rubric_target(rubric)
        for r in records:
            meta = {k: v for k, v in r.items() if k not in ("id", "input", "reference")}
            meta["target_is"] = "reference" if r["reference"] else "rubric"
            out.append(_line({"id": r["id"], "input": r["input"], "target": r["reference"] or target, "metadata": meta}))
        return Export("".join(out))
    if fmt == "promptfoo":
        return _promptfoo(records, rubric)
    if fmt == "openai-evals":
        return _openai_evals(records, rubric, legacy)
    if fmt == "deepeval":
        goldens = []
        for r in records:
            ctx = [r["context"]] if r["context"] else None
            meta = {k: v for k, v in r.items() if k not in ("input", "output", "reference", "context")}
            goldens.append({"name": r["id"], "input": r["input"], "actual_output": r["output"], "expected_output": r["reference"],
                            "context": ctx, "additional_metadata": meta})
        if array:  # what EvaluationDataset.add_goldens_from_json_file reads
            return Export(json.dumps(goldens, ensure_ascii=False, indent=1) + "\n")
        return Export("".join(_line(g) for g in goldens))
    raise UsageError(f"--format must be one of {', '.join(FORMATS)}")


def _csv(records: list[dict], rubric: Rubric, raw_formulas: bool) -> str:
    crits = list(rubric.criteria)
    pair = rubric.pairwise
    origin = [("source", "candidate"), ("model", "model"), ("prompt_version", "prompt_version")]
    pair_cols = ["output_b"] + [f"{col}_{x}" for col, _ in origin for x in "ab"]
    head = ["id", "input", "output", *(pair_cols if pair else []), "reference", "context",
            "tier", "tags", "difficulty", "notes", "source", "added", "rubric", "rubric_version"] + [f"gold.{c}" for c in crits]
    lines = [head]
    for r in records:
        sides = [r.get("output_b") or ""] + [(r.get(f"origin_{x}") or {}).get(field, "") for _, field in origin for x in "ab"] if pair else []
        row = [r["id"], r["input"], r["output"], *sides, r["reference"] or "", r["context"] or "", r["tier"], ";".join(r["tags"]),
               r["difficulty"] or "", r["notes"], r["source"], r["added"] or "", r["rubric"], r["rubric_version"]] \
            + ["" if r["gold"].get(c) is None else r["gold"][c] for c in crits]
        cells = [str(x) for x in row]
        lines.append(cells if raw_formulas else [_formula_safe(x) for x in cells])
    return "".join(",".join(_quote(x) for x in row) + "\n" for row in lines)


def _quote(cell: str) -> str:
    """RFC 4180 quoting of every cell that needs it; unlike csv.QUOTE_MINIMAL with a "\\n" terminator, a bare CR too."""
    return '"' + cell.replace('"', '""') + '"' if any(ch in cell for ch in ',"\r\n') else cell


def _promptfoo(records: list[dict], rubric: Rubric) -> Export:
    if rubric.pairwise:
        raise UsageError("promptfoo's llm-rubric grades one output, not a pair: export a pairwise dataset as jsonl, csv or inspect")
    exp = Export("")
    skipped = [c for c, k in rubric.criteria.items() if pass_point(k) is None]
    if skipped:
        exp.notes.append(f"promptfoo: criteria with no pass point (categorical) are not asserted: {', '.join(skipped)}")
    out = []
    for r in records:
        if not r["output"]:
            # promptfoo reads an empty providerOutput as none and calls the provider instead
            exp.left_out.append(f"{r['id']}: empty output (promptfoo would call the provider for it instead of grading it)")
            continue
        vars_ = {"input": r["input"]}
        for k in ("reference", "context"):
            if r[k]:
                vars_[k] = r[k]
        asserts = [promptfoo_assertion(c, k, set(vars_)) for c, k in rubric.criteria.items() if pass_point(k) is not None]
        meta = {k: v for k, v in r.items() if k not in ("input", "output", "reference", "context")}
        out.append(_line({"description": r["id"], "vars": vars_, "providerOutput": r["output"], "assert": asserts, "metadata": meta}))
    exp.text = "".join(out)
    return exp


def gold_fails(r: dict, rubric: Rubric) -> list[str]:
    """The criteria whose gold value is below the pass point for this record's output."""
    bad = []
    for c, crit in rubric.criteria.items():
        p, v = pass_point(crit), r["gold"].get(c)
        if p is None or v is None:
            continue
        if not (v >= p if crit.scale.type is ScaleKind.ordinal else v == p):
            bad.append(c)
    return bad


def _drop_none(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _drop_none(v) for k, v in obj.items() if v is not None}
    return obj


def _openai_evals(records: list[dict], rubric: Rubric, legacy: bool) -> Export:
    exp = Export("")
    out = []
    for r in records:
        if not legacy:
            out.append(_line({"item": _drop_none(r)}))
            continue
        if r["reference"]:
            ideal = r["reference"]
        elif not r["gold"]:
            exp.left_out.append(f"{r['id']}: no reference and no gold, so nothing vouches for an ideal")
            continue
        elif bad := gold_fails(r, rubric):
            exp.left_out.append(f"{r['id']}: no reference, and gold fails its output on {', '.join(bad)}, so it cannot be the ideal")
            continue
        else:
            ideal = r["output"]
        out.append(_line({"id": r["id"], "input": [{"role": "user", "content": r["input"]}], "ideal": ideal}))
    exp.text = "".join(out)
    return exp
