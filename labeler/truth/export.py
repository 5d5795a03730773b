"""The golden set, outward: records eval harnesses read as they are.

Formats (matched against the tools' code, 2026-11): JSONL and CSV (every case field, gold per
criterion); Inspect AI 0.3 `json_dataset` samples (`id`, `input`, `target` = the reference, the rest
under `metadata`); promptfoo test cases (JSONL: `vars`, `description`, `metadata`, `providerOutput` for
the stored output, one `llm-rubric` assertion per criterion with `metric` = the criterion); OpenAI
evals (the Evals API `{"item": {...}}` records, or `--legacy`: the registry's chat `input` and
`ideal`); DeepEval goldens (`input`, `actual_output`, `expected_output`, `context`, `additional_metadata`).

Order is the dataset's case order and keys are written sorted where the tool does not care, so an
export of unchanged data is byte-identical.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from labeler.truth.models import Case, Rubric

FORMATS = ("jsonl", "csv", "inspect", "promptfoo", "openai-evals", "deepeval")


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


def _criterion_rubric(cid: str, rubric: Rubric) -> str:
    crit = rubric.criteria[cid]
    points = "; ".join(f"{v} = {p.label}" + (f" ({p.when})" if p.when else "") for v, p in crit.scale.points.items())
    return f"{crit.question} {crit.description.strip()} Scale: {points}".strip()


def render(fmt: str, records: list[dict], rubric: Rubric, legacy: bool = False) -> str:
    if fmt == "jsonl":
        return "".join(_line(r) for r in records)
    if fmt == "csv":
        crits = list(rubric.criteria)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        pair = rubric.pairwise
        origin = [("source", "candidate"), ("model", "model"), ("prompt_version", "prompt_version")]
        pair_cols = ["output_b"] + [f"{col}_{x}" for col, _ in origin for x in "ab"]
        head = ["id", "input", "output", *(pair_cols if pair else []), "reference", "context",
                "tier", "tags", "difficulty", "notes", "source", "added", "rubric", "rubric_version"] + [f"gold.{c}" for c in crits]
        w.writerow(head)
        for r in records:
            sides = [r.get("output_b") or ""] + [(r.get(f"origin_{x}") or {}).get(field, "") for _, field in origin for x in "ab"] if pair else []
            w.writerow([r["id"], r["input"], r["output"], *sides, r["reference"] or "", r["context"] or "", r["tier"], ";".join(r["tags"]),
                        r["difficulty"] or "", r["notes"], r["source"], r["added"] or "", r["rubric"], r["rubric_version"]]
                       + ["" if r["gold"].get(c) is None else r["gold"][c] for c in crits])
        return buf.getvalue()
    if fmt == "inspect":
        out = []
        for r in records:
            meta = {k: v for k, v in r.items() if k not in ("id", "input", "reference")}
            out.append(_line({"id": r["id"], "input": r["input"], "target": r["reference"] or "", "metadata": meta}))
        return "".join(out)
    if fmt == "promptfoo":
        out = []
        for r in records:
            asserts = [{"type": "llm-rubric", "value": _criterion_rubric(c, rubric), "metric": c} for c in rubric.criteria]
            meta = {k: v for k, v in r.items() if k not in ("input", "output", "reference", "context")}
            vars_ = {"input": r["input"]}
            for k in ("reference", "context"):
                if r[k]:
                    vars_[k] = r[k]
            out.append(_line({"description": r["id"], "vars": vars_, "providerOutput": r["output"], "assert": asserts,
                              "metadata": meta}))
        return "".join(out)
    if fmt == "openai-evals":
        out = []
        for r in records:
            if legacy:
                out.append(_line({"input": [{"role": "user", "content": r["input"]}], "ideal": r["reference"] or r["output"]}))
            else:
                out.append(_line({"item": {k: v for k, v in r.items()}}))
        return "".join(out)
    if fmt == "deepeval":
        out = []
        for r in records:
            ctx = [r["context"]] if r["context"] else None
            meta = {k: v for k, v in r.items() if k not in ("input", "output", "reference", "context")}
            out.append(_line({"input": r["input"], "actual_output": r["output"], "expected_output": r["reference"],
                              "context": ctx, "additional_metadata": meta}))
        return "".join(out)
    raise ValueError(f"--format must be one of {', '.join(FORMATS)}")
