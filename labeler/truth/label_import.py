"""Bring existing labels in: a spreadsheet (CSV/JSONL, wide or long), Label Studio (project JSON export and
JSON-MIN), Argilla 2.x (records as `Dataset.to_disk` / `to_list` write them, nested or flat) and Prodigy
(JSONL with answer / accept / options).

Every format becomes the same `Found` records (where in the file, which case, who, the values by
question); mapping them to criteria, scale points and annotator names is one step for all, and
anything that does not map is reported with its position. Imported labels are ordinary labels in each
annotator's log, marked `imported: "<format>:<file>#<where>"`, so a second import of the same file
writes nothing new. Gold from the source (a Label Studio ground-truth annotation, a Prodigy review)
becomes an adjudication.

Formats matched against: Label Studio 1.x project export (JSON and JSON-MIN), Argilla 2.x
`rg.Dataset.records.to_list(flatten=False|True)` / `to_disk` records.json, Prodigy 1.x `db-out` JSONL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from labeler.errors import FileFormatError, UsageError
from labeler.names import annotator_slug, check_safe_name
from labeler.truth.importer import csv_rows, jsonl_rows, read_text_file
from labeler.truth.models import Adjudication, Label, Rubric, content_hash_of

FORMATS = ("csv", "jsonl", "label-studio", "argilla", "prodigy")


@dataclass
class Found:
    """One annotator's answers to one item of the source file, before any mapping."""

    where: str
    """"line 4", "task 12 / annotation 3", "record 7": how the report points at it."""
    case_id: str | None
    text: tuple[str, str] | None
    """(input, output) when the item carries them: matched by content hash when there is no id."""
    annotator: str
    answers: dict[str, Any]
    note: str = ""
    seconds: float | None = None
    at: datetime | None = None
    gold: bool = False
    suggestion: bool = False
    """A model's suggested answers (Argilla `suggestions`): they can become a judge run, never a person's label."""
    scores: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    labels: dict[str, list[Label]] = field(default_factory=dict)
    gold: list[Adjudication] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    """why -> how many (cancelled, ignored, discarded, already imported)."""
    problems: list[str] = field(default_factory=list)
    """"where: what" for everything that did not map."""
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    """annotator -> criterion -> labels to write."""
    new_cases: list = field(default_factory=list)
    """Cases made from records that carry input and output but match no case (with --add-cases)."""
    suggestions: list = field(default_factory=list)
    """Verdicts made from suggestions (with --suggestions-run)."""
    agents: set = field(default_factory=set)
    """The agents (models) the suggestions came from."""
    notes: list[str] = field(default_factory=list)


def _when(x: Any) -> datetime | None:
    if x in (None, ""):
        return None
    try:
        if isinstance(x, (int, float)):
            return datetime.fromtimestamp(x / (1000 if x > 1e11 else 1), timezone.utc).replace(microsecond=0)
        d = datetime.fromisoformat(str(x).replace("Z", "+00:00"))
        return (d if d.tzinfo else d.replace(tzinfo=timezone.utc)).replace(microsecond=0)
    except (ValueError, OverflowError, OSError):
        return None


def _first(v: Any) -> Any:
    return v[0] if isinstance(v, list) and len(v) == 1 else v


# ---------------------------------------------------------------- reading each format


def read_found(path: Path, fmt: str, case_field: str = "id", notes: list[str] | None = None) -> Iterator[Found]:
    notes = notes if notes is not None else []
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}")
    text = read_text_file(path)
    if fmt == "csv":
        yield from _table(path, _csv(path, text), case_field)
    elif fmt == "jsonl":
        yield from _table(path, _jsonl(path, text), case_field)
    elif fmt == "label-studio":
        yield from _label_studio(path, _json_any(path, text), case_field, notes)
    elif fmt == "argilla":
        yield from _argilla(path, _json_any(path, text), case_field, notes)
    else:
        yield from _prodigy(path, _jsonl(path, text), case_field)


def _csv(path: Path, text: str) -> list[tuple[int, dict]]:
    return list(csv_rows(path, text))


def _jsonl(path: Path, text: str) -> list[tuple[int, dict]]:
    return list(jsonl_rows(path, text))


def _json_any(path: Path, text: str) -> list[tuple[int, dict]]:
    """A JSON list (an export file) or JSON lines: (position, item)."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = json.loads(text)
        except ValueError as e:
            raise FileFormatError(path, getattr(e, "lineno", None), f"not JSON: {getattr(e, 'msg', e)}") from None
        return [(i, x) for i, x in enumerate(items, 1) if isinstance(x, dict)]
    return _jsonl(path, text)


def _case_of(item: dict, data: dict, case_field: str) -> tuple[str | None, tuple[str, str] | None]:
    cid = data.get(case_field, item.get(case_field) if case_field != "id" else None)
    text = None
    if isinstance(data.get("input"), str) and isinstance(data.get("output"), str):
        text = (data["input"], data["output"])
    return (None if cid in (None, "") else str(cid)), text


RESERVED = {"case", "case_id", "id", "annotator", "user", "note", "notes", "seconds", "at", "created_at", "input", "output",
            "criterion", "value", "lead_time", "time"}


def _table(path: Path, rows: list[tuple[int, dict]], case_field: str) -> Iterator[Found]:
    """Wide (a column per criterion) or long (criterion and value columns) rows of case, annotator, values."""
    long = bool(rows) and {"criterion", "value"} <= set(rows[0][1])
    if long:  # one value per row: the rows of one case and annotator make one label (at its first row)
        merged: dict[tuple, tuple[int, dict]] = {}
        for line, row in rows:
            key = (row.get(case_field) or row.get("case") or row.get("case_id"), row.get("annotator") or row.get("user"))
            first = merged.setdefault(key, (line, {**row, "_answers": {}}))
            first[1]["_answers"][row.get("criterion")] = row.get("value")
        rows = list(merged.values())
    for line, row in rows:
        cid = row.get(case_field) or row.get("case") or row.get("case_id")
        ann = row.get("annotator") or row.get("user")
        where = f"line {line}"
        if ann in (None, ""):
            yield Found(where, None, None, "", {}, note="no annotator column (annotator)")
            continue
        answers = row["_answers"] if long else {k: v for k, v in row.items() if k not in RESERVED and k != case_field
                                                               and v not in (None, "")}
        text = (row["input"], row["output"]) if isinstance(row.get("input"), str) and isinstance(row.get("output"), str) else None
        secs = row.get("seconds") or row.get("lead_time") or row.get("time")
        try:
            secs = float(secs) if secs not in (None, "") else None
        except ValueError:
            secs = None
        yield Found(where, None if cid in (None, "") else str(cid), text, str(ann), answers, note=str(row.get("note") or ""),
                    seconds=secs, at=_when(row.get("at") or row.get("created_at")))


def _ls_value(res: dict) -> Any:
    v = res.get("value") or {}
    kind = res.get("type")
    if kind == "choices" or "choices" in v:
        return _first(v.get("choices"))
    if kind == "rating" or "rating" in v:
        return v.get("rating")
    if kind == "number" or "number" in v:
        return v.get("number")
    if kind == "taxonomy" or "taxonomy" in v:
        paths = v.get("taxonomy") or []
        return paths[0][-1] if paths and paths[0] else None
    if kind == "textarea" or "text" in v:
        t = v.get("text")
        return "\n".join(t) if isinstance(t, list) else t
    return None


def _label_studio(path: Path, items: list[tuple[int, dict]], case_field: str, notes: list[str]) -> Iterator[Found]:
    for pos, task in items:
        if "annotations" not in task:  # JSON-MIN: one flat row per annotation
            data = task
            cid, text = _case_of(task, data, case_field if case_field != "id" else "case_id")
            ann = task.get("annotator")
            answers = {}
            for k, v in task.items():
                if k in RESERVED or k in ("annotation_id", "updated_at", "task_id") or k == case_field:
                    continue
                if isinstance(v, dict):
                    v = _first(v.get("choices")) if "choices" in v else v
                elif isinstance(v, list) and v and isinstance(v[0], dict):
                    v = v[0].get("rating", v[0].get("number"))
                answers[k] = v
            yield Found(f"row {pos}", cid, text, str(ann) if ann not in (None, "") else "", answers,
                        seconds=task.get("lead_time"), at=_when(task.get("created_at")))
            continue
        data = task.get("data") or {}
        cid, text = _case_of(task, data, case_field if case_field != "id" else "case_id")
        if cid is None and "id" in data:
            cid = str(data["id"])
        for k, ann in enumerate(task.get("annotations") or [], 1):
            where = f"task {task.get('id', pos)} / annotation {ann.get('id', k)}"
            if ann.get("was_cancelled"):
                yield Found(where, cid, text, "", {}, note="cancelled")
                continue
            answers, note = {}, ""
            for res in ann.get("result") or []:
                if res.get("type") == "textarea":
                    note = _ls_value(res) or ""
                    answers.setdefault(f"{res.get('from_name')}", note)
                    continue
                answers[str(res.get("from_name"))] = _ls_value(res)
            who = ann.get("completed_by")
            if isinstance(who, dict):
                who = who.get("email") or who.get("id")
            yield Found(where, cid, text, str(who), answers, note=note, seconds=ann.get("lead_time"),
                        at=_when(ann.get("created_at")), gold=bool(ann.get("ground_truth")))


def _argilla(path: Path, items: list[tuple[int, dict]], case_field: str, notes: list[str]) -> Iterator[Found]:
    nested_seen = False
    for pos, rec in items:
        fields = rec.get("fields") if isinstance(rec.get("fields"), dict) else rec
        meta = rec.get("metadata") if isinstance(rec.get("metadata"), dict) else {}
        cid = fields.get(case_field) or meta.get(case_field) or meta.get("case_id") or rec.get("id") if case_field == "id" else \
            fields.get(case_field) or meta.get(case_field)
        text = (fields["input"], fields["output"]) if isinstance(fields.get("input"), str) and isinstance(fields.get("output"), str) else None
        where = f"record {rec.get('id', pos)}"
        by_user: dict[str, dict[str, Any]] = {}
        if isinstance(rec.get("responses"), dict):  # nested: {question: [{value, user_id}]}, no status
            nested_seen = True
            for q, answers in rec["responses"].items():
                for a in answers or []:
                    by_user.setdefault(str(a.get("user_id")), {})[q] = a.get("value")
        else:  # flat: "<q>.responses", "<q>.responses.users", "<q>.responses.status"
            for key, values in rec.items():
                if not key.endswith(".responses") or not isinstance(values, list):
                    continue
                q = key[: -len(".responses")]
                users = rec.get(f"{key}.users") or []
                status = rec.get(f"{key}.status") or []
                for i, v in enumerate(values):
                    st = status[i] if i < len(status) else "submitted"
                    if st != "submitted":
                        yield Found(where, None, None, "", {}, note=st)
                        continue
                    by_user.setdefault(str(users[i] if i < len(users) else "unknown"), {})[q] = v
        for user, answers in by_user.items():
            yield Found(where, None if cid in (None, "") else str(cid), text, user, answers)
        suggested, scores, agents = {}, {}, []
        if isinstance(rec.get("suggestions"), dict):  # nested: {question: {value, score, agent}}
            for q, sug in rec["suggestions"].items():
                if isinstance(sug, dict) and sug.get("value") is not None:
                    suggested[q], scores[q] = sug["value"], sug.get("score")
                    agents.append(sug.get("agent"))
        else:  # flat: "<q>.suggestion", "<q>.suggestion.score", "<q>.suggestion.agent"
            for key, value in rec.items():
                if key.endswith(".suggestion") and value is not None:
                    q = key[: -len(".suggestion")]
                    suggested[q], scores[q] = value, rec.get(f"{key}.score")
                    agents.append(rec.get(f"{key}.agent"))
        if suggested:
            agent = next((str(x) for x in agents if x), "")
            yield Found(where, None if cid in (None, "") else str(cid), text, agent or "(suggestion)", suggested,
                        suggestion=True, scores=scores)
    if nested_seen:
        notes.append("Argilla's nested form carries no response status: every response was counted as submitted "
                     "(export with flatten=True to leave out discarded and draft responses)")


def _prodigy(path: Path, rows: list[tuple[int, dict]], case_field: str) -> Iterator[Found]:
    for line, task in rows:
        where = f"line {line}"
        answer = task.get("answer")
        ann = task.get("_annotator_id") or task.get("_session_id") or "prodigy"
        cid = task.get(case_field) if case_field != "id" else (task.get("case_id") or (task.get("meta") or {}).get("case_id") or task.get("id"))
        text = (task["input"], task["output"]) if isinstance(task.get("input"), str) and isinstance(task.get("output"), str) else None
        if answer == "ignore":
            yield Found(where, None, None, "", {}, note="ignored")
            continue
        q = str(task.get("label") or ("accept" if task.get("options") else "answer"))
        if task.get("options"):
            chosen = task.get("accept") or []
            value = _first(chosen) if answer == "accept" else None
        else:
            value = answer
        yield Found(where, None if cid in (None, "") else str(cid), text, str(ann), {q: value},
                    at=_when(task.get("_timestamp")), gold="versions" in task)


# ---------------------------------------------------------------- mapping


def parse_pairs(items: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for it in items or []:
        if "=" not in it:
            raise UsageError(f"{what} {it!r}: expected THEIRS=OURS")
        k, v = it.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def plan_import(found: Iterator[Found], *, cases, rubric: Rubric, fmt: str, source: str, question_map: dict[str, str],
                value_map: dict[str, dict[str, str]], annotator_map: dict[str, str], existing: set[str],
                gold_lead: str, add_cases: bool = False, suggestions_run: str | None = None,
                done_suggestions: set[str] | None = None) -> Plan:
    """What would be written: labels per annotator and adjudications; every record that does not map is a problem."""
    plan = Plan()
    by_hash = None
    rhash = rubric.content_hash()
    for f in found:
        if not f.annotator:
            plan.skipped[f.note or "no annotator"] = plan.skipped.get(f.note or "no annotator", 0) + 1
            continue
        cid = f.case_id if f.case_id in cases else None
        if cid is None and f.text is not None:
            if by_hash is None:
                by_hash = {h: c for c, h in zip(cases.ids, cases.hashes)} if hasattr(cases, "hashes") else \
                    {c.content_hash(): c.id for c in cases.values()}
            cid = by_hash.get(content_hash_of(*f.text))
        if cid is None and add_cases and f.text is not None:
            from labeler.truth.models import Case

            h = content_hash_of(*f.text)
            cid = f.case_id or f"c-{h[:10]}"
            try:
                case = Case(id=cid, input=f.text[0], output=f.text[1], source=f"{fmt}:{source}")
            except ValueError as e:
                plan.problems.append(f"{f.where}: cannot make a case: {e}")
                continue
            plan.new_cases.append(case)
            by_hash = (by_hash or {}) | {h: cid}
            cases = _WithNew(cases, cid)
        if cid is None:
            plan.problems.append(f"{f.where}: no case {f.case_id!r} in the dataset" if f.case_id else f"{f.where}: no case id and no matching input + output")
            continue
        if f.suggestion and not suggestions_run:
            plan.skipped["suggestions (add --suggestions-run NAME to import them as a judge run)"] = \
                plan.skipped.get("suggestions (add --suggestions-run NAME to import them as a judge run)", 0) + 1
            continue
        raw = annotator_map.get(f.annotator, f.annotator)
        try:
            who = "" if f.suggestion else check_safe_name(raw, "annotator") if raw in annotator_map.values() else annotator_slug(raw)
        except ValueError as e:
            plan.problems.append(f"{f.where}: {e}")
            continue
        values: dict[str, Any] = {}
        bad = ""
        note = f.note
        for q, v in f.answers.items():
            c = question_map.get(q, q)
            if c == "note":
                note = str(v or "")
                continue
            crit = rubric.criteria.get(c)
            if crit is None:
                bad = f"{f.where}: question {q!r} is not a criterion of rubric {rubric.name} v{rubric.version} (map it with --map {q}=CRITERION)"
                break
            if v is None:
                continue
            v = value_map.get(c, {}).get(str(v), v)
            try:
                values[c] = crit.scale.coerce(v)
            except ValueError as e:
                bad = f"{f.where}: {c}: {e} (map it with --value-map {c}:{v}=VALUE)"
                break
        if bad:
            plan.problems.append(bad)
            continue
        if not values:
            plan.problems.append(f"{f.where}: no value for any criterion")
            continue
        marker = f"{fmt}:{source}#{f.where}"
        if f.suggestion:
            if cid in (done_suggestions or set()):
                plan.skipped["suggestions already in the run"] = plan.skipped.get("suggestions already in the run", 0) + 1
                continue
            from labeler.truth.models import CriterionVerdict, Verdict

            plan.suggestions.append(Verdict(case=cid, at=f.at, values={
                c: CriterionVerdict(value=v, rationale=_score_text(f.scores, c, question_map)) for c, v in values.items()}))
            plan.agents.add(f.annotator)
            continue
        if f.gold:
            plan.gold.append(Adjudication(case=cid, rubric=rubric.version, gold=values, by=gold_lead, at=f.at,
                                          reasons={c: f"imported gold ({marker})" for c in values}))
            continue
        if marker in existing:
            plan.skipped["already imported"] = plan.skipped.get("already imported", 0) + 1
            continue
        secs = f.seconds
        try:
            secs = round(float(secs), 1) if secs is not None else None
        except (TypeError, ValueError):
            secs = None
        label = Label(case=cid, rubric=rubric.version, rubric_hash=rhash, values=values, note=note.strip(), at=f.at,
                      seconds=secs, imported=marker)
        plan.labels.setdefault(who, []).append(label)
        per = plan.counts.setdefault(who, {})
        for c in values:
            per[c] = per.get(c, 0) + 1
    return plan


def _score_text(scores: dict[str, Any], criterion: str, question_map: dict[str, str]) -> str:
    """The suggestion's score, said as the verdict's rationale (the source has no rationale)."""
    for q, score in scores.items():
        if question_map.get(q, q) == criterion and score is not None:
            return f"imported suggestion (score {score})"
    return "imported suggestion"


class _WithNew:
    """The dataset's cases plus the ones this import will add (for matching later records)."""

    def __init__(self, cases, new_id: str):
        self.base = getattr(cases, "base", cases)
        self.extra = set(getattr(cases, "extra", set())) | {new_id}

    def __contains__(self, cid) -> bool:
        return cid in self.extra or cid in self.base
