"""A new system version's outputs for the dataset's inputs: matched to cases by id, or by the input text."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from labeler.truth.importer import FieldMap, as_text, read_rows
from labeler.truth.models import Candidate


def input_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


@dataclass
class CandidateImport:
    candidate: Candidate
    unmatched: list[str] = field(default_factory=list)
    """"line N: why" for each row that matches no case."""


def read_candidate(path: Path, name: str, cases, fields: FieldMap, meta: dict[str, Any]) -> CandidateImport:
    """Rows of FILE (JSONL/CSV) to a Candidate; a row matches a case by id (the id field, or `id`) or by its input."""
    by_input: dict[str, str] | None = None
    outputs: dict[str, str] = {}
    unmatched = []
    for line, row in read_rows(path):
        if fields.output not in row or row[fields.output] is None:
            unmatched.append(f"line {line}: no {fields.output!r} field (map it with --output-field)")
            continue
        id_field = fields.id or "id"
        cid = str(row[id_field]) if row.get(id_field) not in (None, "") else None
        if cid not in cases:
            cid = None
            if fields.input in row and row[fields.input] is not None:
                if by_input is None:
                    by_input = {input_hash(cases[c].input): c for c in cases}
                cid = by_input.get(input_hash(as_text(row[fields.input])))
        if cid is None:
            unmatched.append(f"line {line}: matches no case (by id or by input)")
            continue
        outputs[cid] = as_text(row[fields.output])
    cand = Candidate(name=name, source=path.name, added=date.today(), outputs=outputs, **meta)
    return CandidateImport(cand, unmatched)
