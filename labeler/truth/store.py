"""Read and write each kind of file of a workspace (the file layer; labeler/dataset.py opens a dataset).

Layout (YAML in git is the truth):

    rubrics/<rubric>/v<N>.yaml                 hand-edited, round-trip (comments survive)
    rubrics/<rubric>/judge.md                  the judge's prompt template
    datasets/<name>/dataset.yaml               hand-edited, round-trip
    datasets/<name>/cases.yaml                 mapping case id -> case; import appends
    datasets/<name>/labels/<annotator>.yaml    append-only log, one line per label
    datasets/<name>/adjudications/<lead>.yaml  append-only log
    datasets/<name>/judge/<run>/run.yaml       what produced the run
    datasets/<name>/judge/<run>/verdicts.yaml  append-only log
    datasets/<name>/judge/<run>/audits/<who>.yaml
    datasets/<name>/candidates/<name>.yaml     a system version's outputs; drift/*.yaml: drift runs
    datasets/<name>/.cache/                    derived, git-ignored, safe to delete (and the writer lock)

This module reads and checks one file at a time and imports nothing above truth/; the columns, indexes
and caches built from what it reads are derived/, and `Dataset` (labeler/dataset.py) ties them together.
truth/layout.py is the one list of these kinds (what commit, status and validate cover); every writer
holds the dataset's lock (truth/lock.py) around its append or replace.

Each annotator writes only their own file, so clones merge without conflicts. A file that
does not parse is reported as path:line, and never written to until it is fixed.
"""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TypeVar

from pydantic import BaseModel, ValidationError

from labeler.errors import FileFormatError, LabelerError, pydantic_message
from labeler.truth.logs import read_log
from labeler.names import check_safe_name
from labeler.truth.models import Candidate, Case, Rubric
from labeler.truth.yamlio import (
    MAX_HAND_EDITED,
    atomic_write,
    dump_fast,
    dump_rt,
    line_of,
    load_fast,
    load_rt,
    merge_into,
    read_text,
)

M = TypeVar("M", bound=BaseModel)
Progress = Callable[[int, int], None]
"""progress(done, total[, what]) callback for long loads ("cases", then "label logs")."""

_VERSION_FILE = re.compile(r"^v(\d+)\.yaml$")


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def validate_model(model: type[M], data: Any, path: Path, doc: Any = None, base_line: int | None = None) -> M:
    """`model.model_validate(data)`, with failures reported as path:line."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        loc, msg = pydantic_message(e)
        line = line_of(doc, loc) if doc is not None else base_line
        raise FileFormatError(path, line, msg) from None


# ---------------------------------------------------------------- hand-edited files


def load_rubric_file(path: Path) -> Rubric:
    doc = load_rt(path, max_bytes=MAX_HAND_EDITED)
    if not isinstance(doc, dict):
        raise FileFormatError(path, 1, "a rubric file must be a mapping (name, version, task, criteria)")
    rubric = validate_model(Rubric, doc, path, doc)
    m = _VERSION_FILE.match(path.name)
    if m and int(m.group(1)) != rubric.version:
        raise FileFormatError(path, line_of(doc, ["version"]), f"version {rubric.version} does not match file name {path.name}")
    if path.parent.name != rubric.name:
        raise FileFormatError(path, line_of(doc, ["name"]), f"rubric name {rubric.name!r} does not match its folder {path.parent.name!r}")
    return rubric


def save_model_rt(path: Path, model: BaseModel, header: str = "") -> None:
    """Save a hand-edited kind of file, keeping the comments and key order already there."""
    data = model.model_dump(mode="json", exclude_defaults=False, exclude_none=True)
    if path.exists():
        doc = load_rt(path)
        text = dump_rt(merge_into(doc, data))
    else:
        text = (header + dump_rt(merge_into({}, data))) if header else dump_rt(merge_into({}, data))
    atomic_write(path, text)


# ---------------------------------------------------------------- cases


def _case_starts(lines: list[str]) -> list[int]:
    """Indexes of column-0 lines that start a top-level key (a case)."""
    return [i for i, ln in enumerate(lines) if ln and ln[0] not in " \t#\r\n-." and ":" in ln]


def parse_cases(path: Path, progress: Progress | None = None) -> dict[str, Case]:
    """Every case of cases.yaml as a dict (small files and tests; datasets read them through a CaseStore)."""
    return {c.id: c for chunk in iter_case_chunks(path, progress) for c in chunk}


def iter_case_chunks(path: Path, progress: Progress | None = None, chunk: int = 500, text: str | None = None,
                     line_offset: int = 0) -> Iterator[list[Case]]:
    """Parse cases.yaml (or a slice of it starting at `line_offset`) in chunks: a progress bar, and
    never all Case objects at once; errors carry path:line."""
    lines = (read_text(path) if text is None else text).splitlines(keepends=True)
    starts = _case_starts(lines)
    total = len(starts)
    seen: set[str] = set()
    was_enabled = gc.isenabled()
    gc.disable()  # the GC dominates large parses (DESIGN.md)
    try:
        if not starts:
            data = load_fast(path, "".join(lines), line_offset=line_offset)
            if data not in (None, {}):
                raise FileFormatError(path, line_offset + 1, "cases.yaml must be a mapping of case id to case")
            return
        if any(ln.strip() and not ln.lstrip().startswith("#") for ln in lines[: starts[0]]):
            raise FileFormatError(path, line_offset + 1, "cases.yaml must be a mapping of case id to case")
        for lo in range(0, total, chunk):
            a = starts[lo]
            b = starts[lo + chunk] if lo + chunk < total else len(lines)
            data = load_fast(path, "".join(lines[a:b]), line_offset=line_offset + a)
            if not isinstance(data, dict):
                raise FileFormatError(path, line_offset + a + 1, "cases.yaml must be a mapping of case id to case")
            seg = starts[lo : lo + chunk]
            if len(data) != len(seg):
                raise FileFormatError(path, line_offset + a + 1,
                                      "cases.yaml must be a mapping of case id to case, one id per line at column 0")
            out = []
            for start, (key, body) in zip(seg, data.items()):
                at = line_offset + start
                cid = _case_key(path, lines[start], key, at)
                if cid in seen:
                    raise FileFormatError(path, at + 1, f"duplicate case id {cid!r}")
                seen.add(cid)
                if not isinstance(body, dict):
                    raise FileFormatError(path, at + 1, f"case {cid!r} must be a mapping (input, output, ...)")
                if "id" in body and str(body["id"]) != cid:
                    raise FileFormatError(path, at + 1, f"case {cid!r} has a different id field {body['id']!r}")
                try:
                    out.append(Case.model_validate({**body, "id": cid}))
                except ValidationError as e:
                    loc, msg = pydantic_message(e)
                    raise FileFormatError(path, line_offset + _field_line(lines, start, loc), f"case {cid}: {msg}") from None
            if progress:
                progress(min(lo + chunk, total), total)
            yield out
    finally:
        if was_enabled:
            gc.enable()


def _case_key(path: Path, line: str, key: Any, start: int) -> str:  # start: 0-based line in the file
    """A case id exactly as written: `007:` is "007" and `1e3:` is "1e3", never a number."""
    if isinstance(key, str):
        return key
    raw = line.split(":", 1)[0].strip()
    if not raw or raw[0] in "[{&*!|>%@`?":
        raise FileFormatError(path, start + 1, f"case id {raw!r} is not a plain name")
    return raw


def _field_line(lines: list[str], start: int, loc: tuple) -> int:
    if loc:
        key = str(loc[0])
        for i in range(start + 1, len(lines)):
            ln = lines[i]
            if ln.strip() and ln[0] not in " \t":
                break
            if ln.lstrip().startswith(key + ":"):
                return i + 1
    return start + 1


def cases_text(cases: Iterable[Case]) -> str:
    """cases.yaml text for `cases`: mapping keyed by id, multi-line text as `|` blocks."""
    data = {}
    for c in cases:
        body = c.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        body.pop("id")
        for key in ("input", "output"):  # required, even when empty
            body.setdefault(key, getattr(c, key))
        data[c.id] = body
    return dump_fast(data) if data else ""


CASES_HEADER = "# Cases to label: id -> input, output, reference, context, tier, tags, ...\n"


# ---------------------------------------------------------------- the workspace


class WorkspaceFiles:
    """A folder holding rubrics/ and datasets/: its rubric files and dataset names (labeler/dataset.py's
    Workspace adds opening a dataset)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._rubrics: dict[tuple[str, int], Rubric] = {}

    @classmethod
    def find(cls, start: Path | None = None) -> "WorkspaceFiles":
        """The nearest workspace at or above `start` (labeler/workspace.py); none is one clear error."""
        from labeler.workspace import NOT_A_WORKSPACE, find_workspace

        root = find_workspace(start)
        if root is None:
            raise LabelerError(NOT_A_WORKSPACE)
        return cls(root)

    @property
    def rubrics_dir(self) -> Path:
        return self.root / "rubrics"

    @property
    def datasets_dir(self) -> Path:
        return self.root / "datasets"

    def rubric_dir(self, name: str) -> Path:
        return self.rubrics_dir / check_safe_name(name, "rubric name")

    def rubric_versions(self, name: str) -> dict[int, Path]:
        folder = self.rubric_dir(name)
        out = {}
        if folder.is_dir():
            for p in folder.iterdir():
                m = _VERSION_FILE.match(p.name)
                if m:
                    out[int(m.group(1))] = p
        return dict(sorted(out.items()))

    def rubric(self, name: str, version: int) -> Rubric:
        key = (name, version)
        if key not in self._rubrics:
            path = self.rubric_dir(name) / f"v{version}.yaml"
            if not path.exists():
                raise LabelerError(f"{path}: rubric {name} has no version {version}")
            self._rubrics[key] = load_rubric_file(path)
        return self._rubrics[key]

    def dataset_names(self) -> list[str]:
        if not self.datasets_dir.is_dir():
            return []
        return sorted(p.name for p in self.datasets_dir.iterdir() if (p / "dataset.yaml").is_file())


# ---------------------------------------------------------------- a dataset


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int | None
    message: str
    severity: str = "error"
    """'error' or 'warning'."""
    blocks: bool = True
    """The file itself is malformed: it is never written to until someone fixes it."""

    def __str__(self) -> str:
        return str(FileFormatError(self.path, self.line, self.message))


@dataclass
class ParsedLog:
    """One log file, parsed and validated record by record (what the cache keeps per file)."""

    records: list[tuple[int, Any]]
    errors: list[tuple[int | None, str]]
    torn_line: int | None = None


_NOT_CHECKED = object()


class ValueChecker:
    """Coerces record values onto their scale, one rule for every reader (Scale.coerce).

    A value is looked up once per (rubric version, criterion, raw value), so checking 500,000
    labels costs dictionary lookups, not pydantic calls.
    """

    def __init__(self, ws: Any, rubric_name: str):  # ws: anything with .rubric(name, version) (a Workspace)
        self.ws = ws
        self.rubric_name = rubric_name
        self._rubrics: dict[int, Rubric | None] = {}
        self.unloadable: dict[int, str] = {}
        """version -> why it cannot be used (missing or broken file)."""
        self._tables: dict[tuple[int, str], dict[Any, Any]] = {}

    def rubric(self, version: int) -> Rubric | None:
        if version not in self._rubrics:
            try:
                self._rubrics[version] = self.ws.rubric(self.rubric_name, version)
            except FileFormatError as e:
                self._rubrics[version] = None
                self.unloadable[version] = f"does not load (fix {e.path.name} first)"
            except LabelerError:
                self._rubrics[version] = None
                self.unloadable[version] = "does not exist"
        return self._rubrics[version]

    def values(self, version: int, values: dict[str, Any], what: str = "") -> tuple[dict[str, Any] | None, str]:
        """(canonical values, "") or (None, what is wrong); (None, "") when the version cannot be used."""
        r = self.rubric(version)
        if r is None:
            return None, ""
        out = {}
        for c, v in values.items():
            crit = r.criteria.get(c)
            if crit is None:
                return None, f"{what}unknown criterion {c!r} in rubric v{version} (known: {', '.join(r.criteria)})"
            if v is None:
                out[c] = None
                continue
            table = self._tables.setdefault((version, c), {})
            key = (type(v), v)
            canon = table.get(key, _NOT_CHECKED)
            if canon is _NOT_CHECKED:
                try:
                    canon = crit.scale.coerce(v)
                except ValueError as e:
                    canon = e
                table[key] = canon
            if isinstance(canon, ValueError):
                return None, f"{what}{c}: {canon}"
            out[c] = canon
        return out, ""

    def missing(self, version: int) -> str | None:
        """"rubric NAME vN" when that version does not exist (a label made under it is reported), else None."""
        if self.rubric(version) is None and self.unloadable.get(version) == "does not exist":
            return f"rubric {self.rubric_name} v{version}"
        return None

    def criteria(self, version: int, names, what: str = "") -> str:
        """"" when every name is a criterion of `version`, else what is wrong."""
        r = self.rubric(version)
        if r is None:
            return ""
        for c in names:
            if c not in r.criteria:
                return f"{what}unknown criterion {c!r} in rubric v{version} (known: {', '.join(r.criteria)})"
        return ""


def _yaml_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix == ".yaml" and not p.name.startswith("."))


def _stamp(path: Path) -> tuple:
    try:
        st = path.stat()
    except OSError:
        return (None,)
    return (st.st_size, st.st_mtime_ns)


def load_candidate(path: Path) -> Candidate:
    """candidates/<name>.yaml: a system version's outputs."""
    data = load_fast(path)
    if not isinstance(data, dict):
        raise FileFormatError(path, 1, "a candidate file must be a mapping (name, model, outputs, ...)")
    return validate_model(Candidate, data, path, base_line=1)


def parse_log(path: Path, model: type[M]) -> ParsedLog:
    """Every line of a log as a `model`, each line checked on its own (errors carry their line)."""
    read = read_log(path)
    out = ParsedLog([], list(read.errors), read.torn_line)
    for line, rec in read.records:
        try:
            out.records.append((line, model.model_validate(rec)))
        except ValidationError as e:
            out.errors.append((line, pydantic_message(e)[1]))
    out.errors.sort(key=lambda x: x[0] or 0)
    return out
