"""Every file format labeler reads or writes, as a pydantic v2 model.

YAML in git is the truth; these models are the contract for what a file may hold.
Nothing here does I/O: `store` and `yamlio` read and write, this module validates.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date as Date, datetime
from enum import Enum
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from labeler.names import check_safe_name

Value = Union[int, str]
"""A scale value: an int for ordinal points, a string for binary and categorical ones."""

RecordValue = Union[StrictBool, int, str]
"""A value as a record holds it. A `true` stays a bool (pydantic would read it as 1): Scale.coerce
matches a bool only on a binary scale, and refuses it on any other like any value off the scale."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


# ---------------------------------------------------------------- rubric


class ScaleKind(str, Enum):
    binary = "binary"
    ordinal = "ordinal"
    categorical = "categorical"
    pairwise = "pairwise"
    """Which of two outputs is better: A, B, tie (and optionally both_bad), stored in terms of the case's A and B."""


PAIR_VALUES = ("A", "B", "tie", "both_bad")
PAIR_KEYS = {"A": "1", "B": "2", "tie": "3", "both_bad": "4"}
"""Keys pick a position (1: the output shown first, 2: the second); the labeling session maps them to A or B."""


class ScalePoint(_Model):
    label: str
    when: str = ""
    examples: list[str] = Field(default_factory=list)
    key: str | None = None
    """The key that picks this point; derived from the scale when absent."""


class Scale(_Model):
    type: ScaleKind
    points: dict[Value, ScalePoint]

    @model_validator(mode="after")
    def _check_points(self) -> "Scale":
        if self.type is ScaleKind.binary and len(self.points) != 2:
            raise ValueError(f"a binary scale has exactly 2 points, not {len(self.points)}")
        if self.type is ScaleKind.ordinal:
            if not all(isinstance(v, int) for v in self.points):
                raise ValueError("ordinal scale points must be integers (such as 0, 1, 2)")
        if self.type is ScaleKind.pairwise:
            odd = [v for v in self.points if v not in PAIR_VALUES]
            if odd or "A" not in self.points or "B" not in self.points:
                raise ValueError(f"a pairwise scale has the points A and B, and optionally tie and both_bad"
                                 f"{f' (not {odd[0]!r})' if odd else ''}")
        if len(self.points) < 2:
            raise ValueError("a scale needs at least 2 points")
        if len(self.points) > 10:
            raise ValueError("a scale has at most 10 points (one key each)")
        keys = [k for k in self.keys().values()]
        if len(set(keys)) != len(keys):
            raise ValueError(f"two scale points share a key: {keys}")
        return self

    def values(self) -> list[Value]:
        """Values in scale order (ordinal: ascending; pairwise: A, B, tie, both_bad)."""
        vals = list(self.points)
        if self.type is ScaleKind.ordinal:
            vals.sort()
        elif self.type is ScaleKind.pairwise:
            vals.sort(key=PAIR_VALUES.index)
        return vals

    def keys(self) -> dict[Value, str]:
        """The key that picks each value: 0-9 for ordinal, y/n for binary, 1-9 for categories."""
        out: dict[Value, str] = {}
        vals = list(self.points)
        for i, v in enumerate(vals):
            point = self.points[v]
            if self.type is ScaleKind.pairwise:
                out[v] = PAIR_KEYS[v]  # positions, never A/B: the session maps them per shown order
            elif point.key:
                out[v] = point.key
            elif self.type is ScaleKind.ordinal and 0 <= int(v) <= 9:
                out[v] = str(v)
            elif self.type is ScaleKind.binary:
                positive = str(v).lower() in {"pass", "yes", "true", "y", "ok", "good"}
                if not positive and str(vals[1 - i]).lower() not in {"pass", "yes", "true", "y", "ok", "good"}:
                    positive = i == 0
                out[v] = "y" if positive else "n"
            else:
                out[v] = str((i + 1) % 10)
        return out

    def coerce(self, raw: Any) -> Value:
        """The scale value `raw` stands for, or ValueError naming the allowed values.

        One rule for every reader (labels, adjudications, verdicts, imports): a value matches a
        point when it is that point or its text ("2" and 2.0 are 2 on an ordinal scale; 2 is "2"
        on a categorical one). A bool matches only a binary scale, by its y/n key.
        """
        if isinstance(raw, bool):
            if self.type is ScaleKind.binary:
                for v, k in self.keys().items():
                    if (k == "y") == raw:
                        return v
        else:
            if isinstance(raw, float) and raw.is_integer():
                raw = int(raw)
            if isinstance(raw, (int, str)):
                text = raw.strip() if isinstance(raw, str) else str(raw)
                for v in self.points:
                    if raw == v or str(v) == text:
                        return v
        allowed = ", ".join(str(v) for v in self.points)
        raise ValueError(f"{raw!r} is not on the scale (allowed: {allowed})")


class Criterion(_Model):
    question: str
    description: str = ""
    scale: Scale

    def content_hash(self) -> str:
        """Hash of what an annotator reads: a change here makes old labels stale."""
        return _short_hash(self.model_dump(mode="json"))


class ChangelogEntry(_Model):
    version: int
    date: Date | None = None
    author: str = ""
    summary: str = ""
    resolves: list[str] = Field(default_factory=list)


class Rubric(_Model):
    name: str
    version: int = Field(ge=1)
    task: str = ""
    criteria: dict[str, Criterion]
    changelog: list[ChangelogEntry] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v: str) -> str:
        return check_safe_name(v, "rubric name")

    @field_validator("criteria")
    @classmethod
    def _criteria(cls, v: dict[str, Criterion]) -> dict[str, Criterion]:
        if not v:
            raise ValueError("a rubric needs at least one criterion")
        for cid in v:
            check_safe_name(cid, "criterion id")
        return v

    def content_hash(self) -> str:
        """Hash of the task and criteria (not the changelog): a used version must keep it."""
        return _short_hash({"task": self.task, "criteria": {k: c.model_dump(mode="json") for k, c in self.criteria.items()}})

    def criterion_hashes(self) -> dict[str, str]:
        return {cid: c.content_hash() for cid, c in self.criteria.items()}

    @property
    def pairwise(self) -> bool:
        """A pairwise rubric judges cases with two outputs (A and B); every criterion is then pairwise."""
        return any(c.scale.type is ScaleKind.pairwise for c in self.criteria.values())

    @model_validator(mode="after")
    def _one_kind(self) -> "Rubric":
        kinds = {c.scale.type is ScaleKind.pairwise for c in self.criteria.values()}
        if len(kinds) > 1:
            raise ValueError("a rubric is either pairwise (every criterion compares A and B) or not: "
                             "put pairwise criteria in a rubric of their own")
        return self


# ---------------------------------------------------------------- dataset


class Tier(str, Enum):
    golden = "golden"
    adversarial = "adversarial"
    regression = "regression"


TIER_ORDER = {Tier.golden: 0, Tier.adversarial: 1, Tier.regression: 2}


class DatasetConfig(_Model):
    name: str
    description: str = ""
    rubric: str
    rubric_version: int = Field(ge=1)
    overlap: int = Field(default=2, ge=1, le=50)
    """k: labels wanted per case."""
    target: dict[str, float] | None = None
    """The stratification target in percent (common / edge / adversarial by default: 60 / 25 / 15)."""

    @field_validator("target")
    @classmethod
    def _target(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is not None and (any(x < 0 for x in v.values()) or not sum(v.values()) > 0):
            raise ValueError("target shares must be 0 or more, and not all 0")
        return v

    @field_validator("name", "rubric")
    @classmethod
    def _safe(cls, v: str) -> str:
        return check_safe_name(v, "name")


class OutputOrigin(_Model):
    """Where one output of a pairwise case came from."""

    candidate: str = ""
    model: str = ""
    prompt_version: str = ""

    def name(self, fallback: str) -> str:
        return self.candidate or self.model or self.prompt_version or fallback


class Case(_Model):
    id: str
    input: str
    output: str
    """The output judged (a pairwise case: output A)."""
    output_b: str | None = None
    """A pairwise case's second output (B); none for a single-output case."""
    origin_a: OutputOrigin | None = None
    origin_b: OutputOrigin | None = None
    reference: str | None = None
    context: str | None = None
    tier: Tier = Tier.golden
    tags: list[str] = Field(default_factory=list)
    difficulty: Literal["easy", "medium", "hard"] | None = None
    notes: str = ""
    added: Date | None = None
    source: str = ""

    @field_validator("id")
    @classmethod
    def _safe_id(cls, v: str) -> str:
        return check_safe_name(v, "case id")

    @field_validator("origin_a", "origin_b", mode="before")
    @classmethod
    def _origin_by_name(cls, v: Any) -> Any:
        """`origin_a: summarizer-v2` written by hand names a candidate."""
        return {"candidate": v} if isinstance(v, str) else v

    def content_hash(self) -> str:
        """Identity of what is judged: input + output (+ output B: used to dedupe imports)."""
        return content_hash_of(self.input, self.output, self.output_b)

    @property
    def pairwise(self) -> bool:
        return self.output_b is not None

    def source_names(self) -> tuple[str, str]:
        """The names of a pairwise case's two sources ("A" and "B" when nothing says where they came from)."""
        return ((self.origin_a.name("A") if self.origin_a else "A"), (self.origin_b.name("B") if self.origin_b else "B"))


def content_hash_of(input: str, output: str, output_b: str | None = None) -> str:
    h = hashlib.sha256()
    h.update(input.encode("utf-8", "surrogatepass"))
    h.update(b"\x00")
    h.update(output.encode("utf-8", "surrogatepass"))
    if output_b is not None:  # a single-output case keeps the hash it always had
        h.update(b"\x00B\x00")
        h.update(output_b.encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:16]


# ---------------------------------------------------------------- labels and what follows them


def _case_ref(v: str) -> str:
    return check_safe_name(v, "case id")


CaseRef = Annotated[str, AfterValidator(_case_ref)]
"""A case id in a record: the same rules as a case id in cases.yaml (never a path like ../x)."""


class Flag(_Model):
    kind: Literal["rubric_unclear", "rubric_gap", "gold_wrong"] = "rubric_unclear"
    criterion: str | None = None
    reason: str = ""


class Label(_Model):
    """One annotator's label of one case: one line in labels/<annotator>.yaml; the last line per case wins."""

    case: CaseRef
    rubric: int = Field(ge=1, description="rubric version the label was made under")
    rubric_hash: str = ""
    values: dict[str, RecordValue] = Field(default_factory=dict)
    note: str = ""
    flags: list[Flag] = Field(default_factory=list)
    at: datetime | None = None
    seconds: float | None = None
    email: str | None = None
    git_name: str | None = None
    """git user.name of the machine the label was made on (with `email`: who, in git's words)."""
    suggested: str | None = None
    """Name of the judge run whose values were shown as suggestions, if any."""
    retract: bool = False
    """An undo: the annotator withdrew their label of this case."""
    shown: Literal["AB", "BA"] | None = None
    """A pairwise label: the order the two outputs were shown in ("BA": B first). Values are always A/B."""
    imported: str | None = None
    """Where an imported label came from ("label-studio:export.json#task 12/annotation 3"): a second import skips it."""


class Adjudication(_Model):
    """A lead's gold value per criterion for one case: one line in adjudications/<lead>.yaml."""

    case: CaseRef
    rubric: int = Field(ge=1)
    gold: dict[str, RecordValue] = Field(default_factory=dict)
    reasons: dict[str, str] = Field(default_factory=dict)
    gaps: dict[str, str] = Field(default_factory=dict)
    """criterion -> why the rubric could not decide it ("rubric gap", feeds the next version)."""
    settles: list[str] = Field(default_factory=list)
    """Criteria on which this decision settles a disagreement between leads (made seeing both)."""
    by: str = ""
    at: datetime | None = None


class JudgeRun(_Model):
    """judge/<run>/run.yaml: what produced a run's verdicts, so two runs can be compared honestly."""

    name: str
    model: str
    endpoint_host: str = ""
    rubric: str
    rubric_version: int
    rubric_hash: str = ""
    prompt_template: str = ""
    prompt_version: int | None = None
    """The judge prompt version (rubrics/<rubric>/judge/v<N>.md); none: a run made before prompt versions."""
    prompt_hash: str = ""
    settings: dict[str, Any] = Field(default_factory=dict)
    started: datetime | None = None
    finished: datetime | None = None
    candidate: str | None = None
    """The candidate whose outputs this run scored (none: the golden outputs in cases.yaml)."""


class Candidate(_Model):
    """candidates/<name>.yaml: a new system version's outputs for the dataset's inputs (a prompt, a model).
    The golden outputs in cases.yaml are the implicit baseline."""

    name: str
    model: str = ""
    prompt_version: str = ""
    commit: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)
    source: str = ""
    added: Date | None = None
    outputs: dict[str, str] = Field(default_factory=dict)
    """case id -> this version's output for the case's input."""

    @field_validator("name")
    @classmethod
    def _safe(cls, v: str) -> str:
        return check_safe_name(v, "candidate name")

    @field_validator("outputs")
    @classmethod
    def _ids(cls, v: dict[str, str]) -> dict[str, str]:
        for cid in v:
            check_safe_name(cid, "case id")
        return v


class CriterionVerdict(_Model):
    value: RecordValue | None = None
    rationale: str = ""
    orders: dict[Literal["AB", "BA"], RecordValue | None] | None = None
    """A pairwise verdict: the answer in each order, in terms of A/B (it counts only when both agree)."""
    inconsistent: bool = False
    """A pairwise verdict whose two orders disagree (position bias): recorded, never counted as a value."""


class Verdict(_Model):
    """One judge answer for one case: one line in judge/<run>/verdicts.yaml."""

    case: CaseRef
    values: dict[str, CriterionVerdict] = Field(default_factory=dict)
    repeat: int = 0
    error: str | None = None
    raw: str | None = None
    cache_key: str = ""
    tokens: int | None = None
    at: datetime | None = None


class Audit(_Model):
    """A person's check of one judge verdict: one line in judge/<run>/audits/<auditor>.yaml."""

    case: CaseRef
    criterion: str
    correct: bool
    reason: Literal["", "judge_misread", "rubric_ambiguous", "gold_wrong", "other"] = ""
    note: str = ""
    example: bool = False
    """The auditor picked this corrected verdict as a few-shot example for the judge (judge/prompts.py)."""
    by: str = ""
    at: datetime | None = None


class Example(_Model):
    """One graded case shown to the judge: the team's value for one criterion and why."""

    case: str
    criterion: str
    value: Value
    explanation: str = ""
    source: str = ""
    """'audit' (a verdict marked wrong) or 'adjudication' (a lead's gold with its reason)."""
    input: str = ""
    output: str = ""
    """The case text as shown (long texts trimmed)."""


class ExampleSet(_Model):
    """judge-examples/v<N>.yaml: the examples of prompt version N and the split they were drawn from."""

    version: int = Field(ge=1)
    dataset: str
    from_run: str = ""
    holdout: float = Field(0.5, ge=0, lt=1)
    seed: int = 0
    examples: list[Example] = Field(default_factory=list)

    @property
    def cases(self) -> set[str]:
        return {e.case for e in self.examples}


def _short_hash(obj: Any) -> str:
    blob = json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]
