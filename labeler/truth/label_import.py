"""Bring existing labels in: a spreadsheet (CSV/JSONL, wide or long), Label Studio (project JSON export and
JSON-MIN), Argilla 2.x (records as `Dataset.to_disk` / `to_list` write them, nested or flat) and Prodigy
(JSONL with answer / accept / options).

Every format becomes the same `Found` records (where in the file, which case, who, the values by
question); mapping them to criteria, scale points and annotator names is one step for all, and
anything that does not map is reported with its position. Imported labels are ordinary labels in each
annotator's log, marked `imported: "<format>:<file>#<where>"`; a label already imported (same annotator,
case, version, values, note and time, from whatever file) is not written again. Gold from the source (a
Label Studio ground-truth annotation, which also stays its annotator's label; a Prodigy review) becomes
an adjudication. Nothing is dropped silently: a record that cannot be read or mapped is a problem, and a
value left out of a record that is imported is said, both with their position.

Formats matched against: Label Studio 1.x project export (JSON and JSON-MIN), Argilla 2.x
`rg.Dataset.records.to_list(flatten=False|True)` / `to_disk` records.json, Prodigy 1.x `db-out` JSONL.
"""

from __future__ import annotations

import json
import re
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
    label_too: bool = False
    """Gold that a person made (a Label Studio ground-truth annotation): also kept as that person's label."""
    error: str = ""
    """The item cannot be read at all: reported at `where`."""
    dropped: list[str] = field(default_factory=list)
    """Parts of the item left out while reading (a time that is no time, a question answered twice): said, never silent."""


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
    dropped: list[str] = field(default_factory=list)
    """"where: what was left out and why" for values of records that were otherwise imported."""


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


def read_found(path: Path, fmt: str, case_field: str = "id", notes: list[str] | None = None,
               ignore: set[str] = frozenset()) -> Iterator[Found]:
    notes = notes if notes is not None else []
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}")
    text = read_text_file(path)
    if fmt == "csv":
        yield from _table(path, _csv(path, text), case_field, blank_is_none=True)
    elif fmt == "jsonl":
        yield from _table(path, _jsonl(path, text), case_field)
    elif fmt == "label-studio":
        yield from _label_studio(path, _json_any(path, text), case_field, notes, ignore)
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
        from labeler.truth.limits import check_depth

        check_depth(text, path, 1)
        try:
            items = json.loads(text)
        except ValueError as e:
            raise FileFormatError(path, getattr(e, "lineno", None), f"not JSON: {getattr(e, 'msg', e)}") from None
        if not isinstance(items, list):
            raise FileFormatError(path, 1, "expected a JSON list of items (an export file) or JSON lines")
        return [(i, x) for i, x in enumerate(items, 1)]
    return _jsonl(path, text)


def _case_of(item: dict, data: dict, case_field: str) -> tuple[str | None, tuple[str, str] | None]:
    cid = data.get(case_field, item.get(case_field) if case_field != "id" else None)
    text = None
    if isinstance(data.get("input"), str) and isinstance(data.get("output"), str):
        text = (data["input"], data["output"])
    return (None if cid in (None, "") else str(cid)), text


RESERVED = {"case", "case_id", "id", "annotator", "user", "note", "notes", "seconds", "at", "created_at", "input", "output",
            "criterion", "value", "lead_time", "time"}

LS_META = {"id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time", "agreement", "task_id"}
"""What Label Studio's JSON-MIN (and CSV) export adds to each row besides the task's data and the answers."""

EXPORT_COLUMNS = {"id", "input", "output", "output_b", "reference", "context", "tier", "tags", "difficulty", "notes", "source",
                  "added", "rubric", "rubric_version", "origin_a", "origin_b", "annotators", "case_id"}
"""Task data as labeler's own export writes it (plus gold.* and per-side origin columns): never a question."""


def is_task_data(key: str) -> bool:
    """A JSON-MIN field that holds the task's data as labeler exports it, not an answer."""
    return key in EXPORT_COLUMNS or key.startswith("gold.") or \
        any(key == f"{c}_{x}" for c in ("source", "candidate", "model", "prompt_version") for x in "ab")


def _seconds(raw: Any, dropped: list[str]) -> float | None:
    if raw in (None, ""):
        return None
    try:
        secs = float(raw)
    except (TypeError, ValueError):
        secs = float("nan")
    if secs != secs or secs < 0 or secs == float("inf"):
        dropped.append(f"time spent {raw!r} is not a number of seconds: left out")
        return None
    return secs


def _at(raw: Any, dropped: list[str]) -> datetime | None:
    at = _when(raw)
    if at is None and raw not in (None, ""):
        dropped.append(f"time {raw!r} is not a date and time: left out")
    return at


def _table(path: Path, rows: list[tuple[int, dict]], case_field: str, blank_is_none: bool = False) -> Iterator[Found]:
    """Wide (a column per criterion) or long (criterion and value columns) rows of case, annotator, values.
    An empty cell of a wide CSV is a question not answered; a JSON null is said, like any value left out."""
    head = set(rows[0][1]) if rows else set()
    if {"annotation_id", "annotator"} <= head:
        raise FileFormatError(path, 1, "this is Label Studio's CSV export (it has annotation_id): it flattens answers and "
                                       "carries no ground truth; export the project as JSON and use --format label-studio")
    long = {"criterion", "value"} <= head
    twice: dict[int, list[str]] = {}
    if long:  # one value per row: the rows of one case and annotator make one label (at its first row)
        merged: dict[tuple, tuple[int, dict]] = {}
        for line, row in rows:
            key = (row.get(case_field) or row.get("case") or row.get("case_id"), row.get("annotator") or row.get("user"))
            first = merged.setdefault(key, (line, {**row, "_answers": {}}))
            crit = row.get("criterion")
            if crit in first[1]["_answers"]:
                twice.setdefault(first[0], []).append(f"{crit} given again at line {line} for this case and annotator: "
                                                      f"the first ({first[1]['_answers'][crit]!r}) kept, {row.get('value')!r} left out")
                continue
            first[1]["_answers"][crit] = row.get("value")
        rows = list(merged.values())
    for line, row in rows:
        cid = row.get(case_field) or row.get("case") or row.get("case_id")
        ann = row.get("annotator") or row.get("user")
        where = f"line {line}"
        if ann in (None, ""):
            yield Found(where, None, None, "", {}, error="no annotator (an annotator or user column)")
            continue
        answers = row["_answers"] if long else {k: v for k, v in row.items() if k not in RESERVED and k != case_field
                                                               and not (blank_is_none and v in (None, ""))}
        text = (row["input"], row["output"]) if isinstance(row.get("input"), str) and isinstance(row.get("output"), str) else None
        dropped = list(twice.get(line, []))
        secs = _seconds(row.get("seconds") or row.get("lead_time") or row.get("time"), dropped)
        yield Found(where, None if cid in (None, "") else str(cid), text, str(ann), answers, note=str(row.get("note") or ""),
                    seconds=secs, at=_at(row.get("at") or row.get("created_at"), dropped), dropped=dropped)


def _ls_value(res: dict) -> Any:
    v = res.get("value") if isinstance(res.get("value"), dict) else {}
    kind = res.get("type")
    if kind == "choices" or "choices" in v:
        return _first(v.get("choices"))
    if kind == "rating" or "rating" in v:
        return v.get("rating")
    if kind == "number" or "number" in v:
        return v.get("number")
    if kind == "taxonomy" or "taxonomy" in v:
        paths = v.get("taxonomy") or []
        return paths[0][-1] if paths and isinstance(paths[0], list) and paths[0] else None
    if kind == "textarea" or "text" in v:
        t = v.get("text")
        return "\n".join(map(str, t)) if isinstance(t, list) else t
    return None


def _kind(x: Any) -> str:
    """A JSON value's kind, as a message says it."""
    return {str: "text", dict: "an object", list: "a list", bool: "true/false", type(None): "null"}.get(type(x), "a number")


JSON_MIN_CARRIES = ("Label Studio JSON-MIN has one row per annotation: the task's data, each answer by control name, the "
                    "annotator, annotation_id, times and lead_time; it has no ground_truth flag (so no gold) and no cancelled "
                    "flag. Export the project as JSON to bring gold in")


def _label_studio(path: Path, items: list[tuple[int, Any]], case_field: str, notes: list[str],
                  ignore: set[str] = frozenset()) -> Iterator[Found]:
    json_min = False
    for pos, task in items:
        if not isinstance(task, dict):
            yield Found(f"item {pos}", None, None, "", {}, error=f"a task must be a JSON object, not {_kind(task)}")
            continue
        if "annotations" not in task:  # JSON-MIN: one flat row per annotation
            json_min = True
            data = task
            cid, text = _case_of(task, data, case_field if case_field != "id" else "case_id")
            ann = task.get("annotator")
            answers = {}
            for k, v in task.items():
                if k in RESERVED or k in LS_META or k in ignore or k == case_field or is_task_data(k):
                    continue
                if isinstance(v, dict):
                    v = _first(v.get("choices")) if "choices" in v else v
                elif isinstance(v, list) and v and isinstance(v[0], dict):
                    v = v[0].get("rating", v[0].get("number"))
                answers[k] = v
            dropped: list[str] = []
            yield Found(f"row {pos}", cid, text, str(ann) if ann not in (None, "") else "", answers,
                        seconds=_seconds(task.get("lead_time"), dropped), at=_at(task.get("created_at"), dropped), dropped=dropped,
                        error="" if ann not in (None, "") else "no annotator")
            continue
        data = task.get("data") if isinstance(task.get("data"), dict) else {}
        cid, text = _case_of(task, data, case_field if case_field != "id" else "case_id")
        if cid is None and "id" in data:
            cid = str(data["id"])
        anns = task.get("annotations")
        if not isinstance(anns, list):
            yield Found(f"task {task.get('id', pos)}", cid, text, "", {},
                        error=f"annotations must be a list, not {_kind(anns)}")
            continue
        for k, ann in enumerate(anns, 1):
            if not isinstance(ann, dict):
                yield Found(f"task {task.get('id', pos)} / annotation {k}", cid, text, "", {},
                            error=f"an annotation must be a JSON object, not {_kind(ann)}")
                continue
            where = f"task {task.get('id', pos)} / annotation {ann.get('id', k)}"
            if ann.get("was_cancelled"):
                yield Found(where, cid, text, "", {}, note="cancelled")
                continue
            answers, note, dropped = {}, "", []
            results = ann.get("result") if ann.get("result") is not None else []
            if not isinstance(results, list):
                yield Found(where, cid, text, "", {}, error=f"result must be a list of answers, not {_kind(results)}")
                continue
            for res in results:
                if not isinstance(res, dict):
                    dropped.append(f"an answer that is {_kind(res)}, not an object: left out")
                    continue
                q = str(res.get("from_name"))
                value = _ls_value(res)
                if res.get("type") == "textarea":
                    note = value or ""
                if q in answers:
                    dropped.append(f"{q} answered twice: the first ({answers[q]!r}) kept, {value!r} left out")
                    continue
                if value is None:
                    dropped.append(f"{q}: no value labeler can read (type {res.get('type')!r}): left out")
                    continue
                answers[q] = value
            who = ann.get("completed_by")
            if isinstance(who, dict):
                who = who.get("email") or who.get("id")
            gold = bool(ann.get("ground_truth"))
            yield Found(where, cid, text, "" if who in (None, "") else str(who), answers, note=note,
                        seconds=_seconds(ann.get("lead_time"), dropped), at=_at(ann.get("created_at"), dropped), gold=gold,
                        label_too=gold, dropped=dropped, error="" if who not in (None, "") else "no completed_by (annotator)")
    if json_min:
        notes.append(JSON_MIN_CARRIES)


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
        dropped: list[str] = []
        if isinstance(rec.get("responses"), dict):  # nested: {question: [{value, user_id}]}, no status
            nested_seen = True
            for q, answers in rec["responses"].items():
                for a in answers if isinstance(answers, list) else [answers]:
                    if not isinstance(a, dict) or a.get("value") is None:
                        dropped.append(f"{q}: a response that is {_kind(a)}, not {{value, user_id}}: left out"
                                       if not isinstance(a, dict) else f"{q}: a response of {a.get('user_id')} with no value: left out")
                        continue
                    by_user.setdefault(str(a.get("user_id")), {})[q] = a.get("value")
        else:  # flat: "<q>.responses", "<q>.responses.users", "<q>.responses.status"
            not_submitted: dict[str, str] = {}
            for key, values in rec.items():
                if not key.endswith(".responses"):
                    continue
                q = key[: -len(".responses")]
                if not isinstance(values, list):
                    if values is not None:
                        dropped.append(f"{q}: responses are {_kind(values)}, not a list: left out")
                    continue
                users = rec.get(f"{key}.users") or []
                status = rec.get(f"{key}.status") or []
                if len(users) != len(values):
                    dropped.append(f"{q}: {len(values)} response(s) but {len(users)} user(s): left out")
                    continue
                for i, v in enumerate(values):
                    st = status[i] if i < len(status) else "submitted"
                    user = str(users[i])
                    if st != "submitted":
                        not_submitted.setdefault(user, str(st))
                        continue
                    if v is None:
                        dropped.append(f"{q}: a submitted response of {user} with no value: left out")
                        continue
                    by_user.setdefault(user, {})[q] = v
            for user, st in not_submitted.items():  # one skip per record and user, however many questions
                if user not in by_user:
                    yield Found(where, None, None, "", {}, note=st)
        first = True
        for user, answers in by_user.items():
            yield Found(where, None if cid in (None, "") else str(cid), text, user, answers, dropped=dropped if first else [])
            first = False
        if first and dropped:
            yield Found(where, None, None, "", {}, error="; ".join(dropped))
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
        if answer is None:
            yield Found(where, None, None, "", {}, error="no answer (accept, reject or ignore)")
            continue
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
        dropped: list[str] = []
        yield Found(where, None if cid in (None, "") else str(cid), text, str(ann), {q: value},
                    at=_at(task.get("_timestamp"), dropped), gold="versions" in task, dropped=dropped)


# ---------------------------------------------------------------- mapping


def parse_pairs(items: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for it in items or []:
        if "=" not in it:
            raise UsageError(f"{what} {it!r}: expected THEIRS=OURS")
        k, v = it.split("=", 1)
        out[k.strip()] = v.strip()
    return out


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def annotator_names(found: list[Found], annotator_map: dict[str, str]) -> dict[str, str]:
    """Each annotator of the source -> the name their labels are written under; a user id, a name that is not a
    safe file name, or two names that would share one log is a UsageError naming them (and --annotator-map)."""
    raws = sorted({f.annotator for f in found if f.annotator and not f.suggestion and not f.error})
    names, ids, unsafe = {}, [], []
    for raw in raws:
        if raw in annotator_map:
            try:
                names[raw] = check_safe_name(annotator_map[raw], "annotator")
            except ValueError as e:
                raise UsageError(f"--annotator-map {raw}={annotator_map[raw]}: {e}") from None
        elif raw.isdigit() or UUID.fullmatch(raw):
            ids.append(raw)
        elif any(ch in raw for ch in "/\\") or raw.startswith(".") or ".." in raw:
            unsafe.append(raw)
        else:
            try:
                names[raw] = annotator_slug(raw)
            except ValueError:
                unsafe.append(raw)
    if ids:
        raise UsageError(f"the annotators are user ids, not names: {', '.join(ids)}; name each with --annotator-map "
                         f"{ids[0]}=NAME (one flag per id)")
    if unsafe:
        raise UsageError(f"annotator {unsafe[0]!r} is not a name a label file can have"
                         + (f" (nor {', '.join(map(repr, unsafe[1:]))})" if unsafe[1:] else "")
                         + f"; name it with --annotator-map '{unsafe[0]}'=NAME")
    by_name: dict[str, str] = {}
    for raw, name in names.items():
        if name in by_name:
            raise UsageError(f"annotators {by_name[name]!r} and {raw!r} would both be written as {name!r}; "
                             f"name them apart with --annotator-map")
        by_name[name] = raw
    return names


def label_key(who: str, label: Label) -> str:
    """What makes an imported label the same label again, whatever file or position it came from."""
    at = label.at.astimezone(timezone.utc).replace(microsecond=0).isoformat() if label.at else None
    return json.dumps([who, label.case, label.rubric, label.values, label.note.strip(), at], sort_keys=True, default=str)


def _count(d: dict[str, int], why: str) -> None:
    d[why] = d.get(why, 0) + 1


def plan_import(found: Iterator[Found], *, cases, rubric: Rubric, fmt: str, source: str, question_map: dict[str, str],
                value_map: dict[str, dict[str, str]], annotator_map: dict[str, str], existing: set[str],
                gold_lead: str, add_cases: bool = False, suggestions_run: str | None = None,
                done_suggestions: set[str] | None = None, existing_gold=None) -> Plan:
    """What would be written: labels per annotator and adjudications; every record that does not map is a problem,
    every value left out of a record that does is said in `dropped`. `existing` holds `label_key`s already in the logs."""
    plan = Plan()
    found = list(found)
    names = annotator_names(found, annotator_map)
    seen = set(existing)
    renamed = sorted((raw, n) for raw, n in names.items() if raw != n and raw not in annotator_map)
    if renamed:
        plan.notes.append("annotator names written as file names: " + ", ".join(f"{r!r} as {n!r}" for r, n in renamed))
    by_hash = None
    rhash = rubric.content_hash()
    kept = 0
    for f in found:
        if f.error:
            plan.problems.append(f"{f.where}: {f.error}")
            continue
        if not f.annotator:
            _count(plan.skipped, f.note or "no annotator")
            continue
        plan.dropped.extend(f"{f.where}: {d}" for d in f.dropped)
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
            _count(plan.skipped, "suggestions (add --suggestions-run NAME to import them as a judge run)")
            continue
        who = "" if f.suggestion else names[f.annotator]
        values: dict[str, Any] = {}
        bad = ""
        note = f.note
        for q, v in f.answers.items():
            c = question_map.get(q, q)
            if c == "note":
                note = "" if v is None else str(v)
                continue
            crit = rubric.criteria.get(c)
            if crit is None:
                bad = (f"{f.where}: question {q!r} is not a criterion of rubric {rubric.name} v{rubric.version} "
                       f"(map it with --map {q}=CRITERION, or skip it with --ignore {q} if it is task data)")
                break
            if v is None or (isinstance(v, str) and not v.strip()):
                plan.dropped.append(f"{f.where}: {c}: no value ({'null' if v is None else 'empty'}): left out")
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
                _count(plan.skipped, "suggestions already in the run")
                continue
            from labeler.truth.models import CriterionVerdict, Verdict

            plan.suggestions.append(Verdict(case=cid, at=f.at, values={
                c: CriterionVerdict(value=v, rationale=_score_text(f.scores, c, question_map)) for c, v in values.items()}))
            plan.agents.add(f.annotator)
            continue
        if f.gold:
            kept += f.label_too
            if existing_gold is not None and existing_gold(cid, values):
                _count(plan.skipped, "gold already imported")
            else:
                plan.gold.append(Adjudication(case=cid, rubric=rubric.version, gold=values, by=gold_lead, at=f.at,
                                              reasons={c: f"imported gold ({marker})" for c in values}))
            if not f.label_too:
                continue
        label = Label(case=cid, rubric=rubric.version, rubric_hash=rhash, values=values, note=note.strip(), at=f.at,
                      seconds=None if f.seconds is None else round(float(f.seconds), 1), imported=marker)
        key = label_key(who, label)
        if key in seen:
            _count(plan.skipped, "already imported")
            continue
        seen.add(key)
        plan.labels.setdefault(who, []).append(label)
        per = plan.counts.setdefault(who, {})
        for c in values:
            per[c] = per.get(c, 0) + 1
    if kept:
        plan.notes.append(f"{kept} ground-truth annotation(s) became gold (lead {gold_lead}) and stay their annotators' labels too")
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
