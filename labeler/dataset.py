"""The one door to a dataset: open it, own its caches, hand out the views derived from its files.

truth/ reads and writes each file; derived/ builds columns, indexes and caches from what it reads;
`Dataset` ties them together once per open, and everything above (stats, judge, flows, vcs, cli, ui)
comes in through here. A view is built once and reused (`versions`: one VersionIndex per rubric in force).
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from labeler.derived.adjudications import AdjudicationIndex
from labeler.derived.cache import MISS, FileCache, tracked
from labeler.derived.cases import CaseStore, parse_case_store
from labeler.derived.label_table import FileLabels, LabelsView, LabelTable
from labeler.derived.parallel import parallel_map
from labeler.derived.staleness import VersionIndex
from labeler.derived.verdicts import RunVerdicts
from labeler.errors import FileFormatError, LabelerError, UsageError
from labeler.names import check_safe_name
from labeler.truth.logs import LogWriter, read_log
from labeler.truth.models import Adjudication, Audit, Candidate, Case, DatasetConfig, JudgeRun, Label, Rubric
from labeler.truth.store import (
    CASES_HEADER,
    ParsedLog,
    Problem,
    Progress,
    ValueChecker,
    WorkspaceFiles,
    _stamp,
    _yaml_files,
    cases_text,
    load_candidate,
    parse_log,
    save_model_rt,
    validate_model,
)
from labeler.truth.yamlio import MAX_HAND_EDITED, atomic_write, dump_fast, load_rt


# ---------------------------------------------------------------- the workspace


class Workspace(WorkspaceFiles):
    """A folder holding rubrics/ and datasets/ (usually a git repo's top level): its files, and the datasets it opens."""

    def dataset(self, name_or_path: str | Path, progress: Progress | None = None) -> "Dataset":
        return Dataset.open(self, name_or_path, progress)


def open_dataset(ref: str | Path, progress: Progress | None = None) -> "Dataset":
    """Open a dataset by folder path or by name under the nearest datasets/ folder."""
    p = Path(ref)
    if (p / "dataset.yaml").is_file():
        root = p.resolve().parent.parent
        return Dataset.open(Workspace(root), p.resolve(), progress)
    ws = Workspace.find()
    return Dataset.open(ws, str(ref), progress)


# ---------------------------------------------------------------- a dataset


@dataclass
class Dataset:
    ws: Workspace
    path: Path
    config: DatasetConfig
    cases: CaseStore = field(default_factory=CaseStore)
    """case id -> Case, text read lazily from a memory-mapped cache."""
    case_index: dict[str, int] = field(default_factory=dict, repr=False)
    table: LabelTable | None = field(default=None, repr=False)
    """Every label record (earlier versions included) as columns, with each annotator's latest per case."""
    adjudications: AdjudicationIndex = field(default_factory=AdjudicationIndex)
    """Gold decisions merged across leads, per case and criterion, by time."""
    problems: list[Problem] = field(default_factory=list)
    """What could not be read or was left out, with path:line; files with blocking problems are never written to."""
    checker: ValueChecker | None = field(default=None, repr=False)
    _writers: dict[Path, LogWriter] = field(default_factory=dict, repr=False)
    _runs: dict[str, tuple[tuple, Any]] = field(default_factory=dict, repr=False)
    _metas: dict[str, tuple[tuple, JudgeRun]] = field(default_factory=dict, repr=False)
    _problem_set: set = field(default_factory=set, repr=False)
    cache_dir: Path | None = field(default=None, repr=False)
    """The derived cache (`.cache/`), or None when git tracks it: then it came with the repository and is never read."""
    _cases_stamp: tuple = field(default=(None,), repr=False)
    """(size, mtime) of cases.yaml as this object knows it: another process's import shows as a change."""
    _versions: VersionIndex | None = field(default=None, repr=False)

    # ---- opening

    @classmethod
    def open(cls, ws: Workspace, ref: str | Path, progress: Progress | None = None) -> "Dataset":
        """Open a dataset; its rubric in force must load (a broken one is one path:line error)."""
        if isinstance(ref, Path):
            path = ref
        else:
            try:
                path = ws.datasets_dir / check_safe_name(str(ref), "dataset name")
            except ValueError as e:
                raise UsageError(f"{e} (give a dataset name under datasets/ or a dataset folder)") from None
        cfg_path = path / "dataset.yaml"
        if not cfg_path.is_file():
            known = ", ".join(ws.dataset_names()) or "none"
            raise LabelerError(f"{cfg_path}: no such dataset (datasets here: {known})")
        doc = load_rt(cfg_path, max_bytes=MAX_HAND_EDITED)
        if not isinstance(doc, dict):
            raise FileFormatError(cfg_path, 1, "dataset.yaml must be a mapping")
        config = validate_model(DatasetConfig, doc, cfg_path, doc)
        ds = cls(ws=ws, path=path, config=config)
        ds.rubric()  # the rubric in force: a missing or broken one stops here, with its path:line
        ds._load(progress)
        return ds

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def cases_path(self) -> Path:
        return self.path / "cases.yaml"

    @property
    def labels_dir(self) -> Path:
        return self.path / "labels"

    @property
    def adjudications_dir(self) -> Path:
        return self.path / "adjudications"

    @property
    def judge_dir(self) -> Path:
        return self.path / "judge"

    @property
    def cache_path(self) -> Path:
        """The cache index of cases.yaml (the big one; its text is beside it in cases.text)."""
        return self.path / ".cache" / "cases.meta.cache"

    def rubric(self, version: int | None = None) -> Rubric:
        return self.ws.rubric(self.config.rubric, version or self.config.rubric_version)

    def rubric_versions(self) -> dict[int, Path]:
        return self.ws.rubric_versions(self.config.rubric)

    @property
    def versions(self) -> VersionIndex:
        """What holds under the rubric in force, per version: built once, and again only when the rubric in force changes."""
        if self._versions is None or self._versions.in_force is not self.rubric():
            self._versions = VersionIndex(self, self.rubric(), partial(self.ws.rubric, self.config.rubric))
        return self._versions

    def label_path(self, annotator: str) -> Path:
        return self.labels_dir / f"{check_safe_name(annotator, 'annotator')}.yaml"

    def adjudication_path(self, lead: str) -> Path:
        return self.adjudications_dir / f"{check_safe_name(lead, 'lead')}.yaml"

    def _load(self, progress: Progress | None) -> None:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._load_files(progress)
        finally:
            # What was just loaded lives as long as the dataset: keep it out of every later collection,
            # so a key press never pays for a full GC walk over the whole dataset (60-70 ms at 10k).
            gc.freeze()
            if was_enabled:
                gc.enable()

    def problem(self, path: Path, line: int | None, message: str, severity: str = "error", blocks: bool = True) -> None:
        p = Problem(path, line, message, severity, blocks)
        if p not in self._problem_set:  # judge runs and audits are read more than once
            self._problem_set.add(p)
            self.problems.append(p)

    def _load_files(self, progress: Progress | None) -> None:
        from labeler.truth.layout import sweep_temp_files

        sweep_temp_files([self.path, self.ws.rubric_dir(self.config.rubric)])  # left by a killed save
        self.cache_dir = self.path / ".cache"
        if tracked(self.cache_dir):
            self.problem(self.cache_dir, None, "is tracked by git: derived files that came with the repository are never "
                         f"read (nor written); untrack them: git rm -r --cached {self.cache_dir.name}", "warning", blocks=False)
            self.cache_dir = None
        cache = FileCache(self.path, self.cache_dir)
        self.checker = ValueChecker(self.ws, self.config.rubric)
        self._cases_stamp = _stamp(self.cases_path)
        if self.cases_path.exists():
            self.cases = CaseStore.open(self.cases_path, self.cache_dir, partial(parse_case_store, progress=progress))
        self.case_index = self.cases.index
        self._check_case_kinds()
        self.table = LabelTable(self.case_index, self.checker.rubric)
        rubric_stamp = tuple(_stamp(p) for p in self.rubric_versions().values())
        files = _yaml_files(self.labels_dir)
        parsed_all = self._parse_label_files(cache, files, rubric_stamp, progress)
        for path in files:
            annotator = path.stem
            parsed = parsed_all[path]
            if isinstance(parsed, Exception):
                self._unreadable(path, parsed)
                continue
            for line, msg, blocks in parsed.problems:
                torn = line is not None and line == parsed.torn_line and not blocks
                self.problem(path, line, msg, "warning" if torn else "error", blocks)
            self._report_unusable(path, parsed.unusable, "label")
            for line, msg, blocks in self.table.add_file(annotator, parsed):
                self.problem(path, line, msg, blocks=blocks)
        for path in _yaml_files(self.adjudications_dir):
            try:
                check_safe_name(path.stem, "lead")
                parsed = cache.get(path, partial(parse_log, model=Adjudication))
            except (FileFormatError, ValueError) as e:
                self._unreadable(path, e)
                continue
            self._report(path, parsed)
            unusable = {}
            for line, adj in parsed.records:
                if self._usable_adjudication(path, line, adj, unusable):
                    self.adjudications.add(path.stem, adj)
            self._report_unusable(path, unusable, "adjudication")

    def _check_case_kinds(self) -> None:
        """Pairwise cases (two outputs) under a pairwise rubric, single-output cases under any other."""
        try:
            pairwise = self.rubric().pairwise
        except Exception:  # a broken rubric is reported where it is read
            return
        fields = self.cases.fields  # one dict lookup per case (a few ms at 100,000): no text is read
        odd = [self.cases.ids[j] for j, f in enumerate(fields) if ("sources" in f) != pairwise]
        if odd:
            what = ("have one output (no output_b), but rubric {r} is pairwise" if pairwise
                    else "are pairwise (they have output_b), but rubric {r} judges one output").format(r=self.config.rubric)
            shown = ", ".join(repr(c) for c in odd[:3]) + (f" and {len(odd) - 3} more" if len(odd) > 3 else "")
            self.problem(self.cases_path, None, f"{len(odd)} case(s) {what}: {shown}", blocks=False)

    def _parse_label_files(self, cache: FileCache, files: list[Path], stamp: tuple, progress: Progress | None = None) -> dict[Path, Any]:
        """Each label log's columns: from the cache, else parsed (one process per core when several changed)."""
        global _PARSING
        out: dict[Path, Any] = {}
        todo = []
        for path in files:
            try:
                check_safe_name(path.stem, "annotator")
                hit = cache.peek(path, stamp)
            except (ValueError, OSError) as e:
                out[path] = e
                continue
            if hit is MISS:
                todo.append(path)
            else:
                out[path] = hit
        big = sum(p.stat().st_size for p in todo) > (8 << 20)
        _PARSING = self
        try:
            results = parallel_map(_parse_one_log, todo) if big else map(_parse_one_log, todo)
            for k, (path, result) in enumerate(zip(todo, results), 1):
                out[path] = result
                if not isinstance(result, Exception):
                    cache.put(path, result, stamp)
                if progress and big:
                    progress(k, len(todo), "label logs")
        finally:
            _PARSING = None
        return out

    def _parse_labels(self, path: Path) -> FileLabels:
        read = read_log(path)
        checker = self.checker
        return FileLabels.parse(read.records, read.errors, read.torn_line, checker.values, self.table.scale_index,
                                checker.missing)

    @property
    def labels(self) -> LabelsView:
        """annotator -> case id -> their latest `Label` (built on access; numbers read `table` instead)."""
        return LabelsView(self.table)

    def _unreadable(self, path: Path, e: Exception) -> None:
        if isinstance(e, FileFormatError):
            self.problem(e.path, e.line, f"{e.message}; the whole file is left out")
        else:
            self.problem(path, None, f"{e}; the whole file is left out")

    def _report(self, path: Path, parsed: ParsedLog) -> None:
        for line, msg in parsed.errors:
            self.problem(path, line, f"{msg}; line left out")
        if parsed.torn_line is not None:
            self.problem(path, parsed.torn_line, "incomplete last line (a crash mid-save): ignored, "
                         "and set aside to <file>.torn on the next save", "warning", blocks=False)

    def _unusable(self, path: Path, line: int, version: int, unusable: dict[int, int], what: str) -> bool:
        """A record made under a rubric version that cannot be used: left out, and said so.

        A version that does not exist is reported line by line; a broken one is reported once (its
        own path:line) with a count per file, not once per record."""
        why = self.checker.unloadable.get(version, "does not exist")
        if why == "does not exist":
            self.problem(path, line, f"{what} made under rubric {self.config.rubric} v{version}, which does not exist: left out",
                         blocks=False)
        else:
            unusable[version] = unusable.get(version, 0) + 1
        return False

    def _report_unusable(self, path: Path, unusable: dict[int, int], what: str) -> None:
        for version, n in sorted(unusable.items()):
            self.checker.rubric(version)  # (parsed in another process: learn why here)
            why = self.checker.unloadable.get(version, "does not exist")
            self.problem(path, None, f"{n} {what}(s) made under rubric {self.config.rubric} v{version}, which {why}: left out",
                         blocks=False)

    def _usable_adjudication(self, path: Path, line: int, adj: Adjudication, unusable: dict[int, int]) -> bool:
        if adj.case not in self.cases:
            self.problem(path, line, f"adjudication for unknown case {adj.case!r}: left out", blocks=False)
            return False
        what = f"adjudication of {adj.case}: "
        vals, err = self.checker.values(adj.rubric, adj.gold, what)
        if vals is None and not err:
            return self._unusable(path, line, adj.rubric, unusable, f"adjudication of {adj.case}")
        err = err or self.checker.criteria(adj.rubric, [*adj.gaps, *adj.reasons, *adj.settles], what)
        if err:
            self.problem(path, line, f"{err}; left out")
            return False
        if vals != adj.gold:
            adj.gold = vals
        return True

    def blocking_problem(self, path: Path) -> Problem | None:
        return next((p for p in self.problems if p.blocks and p.path == path), None)

    # ---- saving

    def _writer(self, path: Path, header: str) -> LogWriter:
        bad = self.blocking_problem(path)
        if bad is not None:
            raise LabelerError(f"not writing to {path.name} until it is fixed ({bad}); run `labeler validate`")
        if path not in self._writers:
            self._writers[path] = LogWriter(path, header)
        return self._writers[path]

    def save_label(self, annotator: str, label: Label) -> None:
        """Append `label` to the annotator's log; durable when this returns."""
        self.save_labels(annotator, [label])

    def save_labels(self, annotator: str, labels: list[Label]) -> None:
        """Append labels to the annotator's log in one write and one fsync (an import of thousands)."""
        path = self.label_path(annotator)
        header = (
            f"labels by {annotator} for dataset {self.name}: one label per line; "
            "the last line for a case wins.\nWritten by labeler; safe to read, diff and merge."
        )
        records = []
        for label in labels:
            record = label.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
            record.setdefault("values", {})
            records.append({"case": record.pop("case"), "rubric": record.pop("rubric"), **record})
        self._writer(path, header).append_many(records)
        for label in labels:
            self.table.append(annotator, label)

    def save_adjudication(self, lead: str, adj: Adjudication) -> None:
        path = self.adjudication_path(lead)
        header = f"adjudications by {lead} for dataset {self.name}: gold values per case; later lines win."
        record = adj.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        record = {"case": record.pop("case"), "rubric": record.pop("rubric"), **record}
        self._writer(path, header).append(record)
        self.adjudications.add(lead, adj)

    def save_config(self) -> None:
        save_model_rt(self.path / "dataset.yaml", self.config)

    def add_cases(self, new: list[Case]) -> None:
        """Append new cases to cases.yaml (O(new); earlier text and comments untouched).

        Under the dataset's writer lock, after taking in what another process appended since this
        dataset was opened: two imports at once both keep their cases."""
        from labeler.truth.lock import dataset_lock

        path = self.cases_path
        with dataset_lock(self.path, "adding cases"):
            self._catch_up_cases()
            for c in new:
                if c.id in self.cases:
                    raise LabelerError(f"{path}: case id {c.id!r} already exists")
            old = path.read_text(encoding="utf-8") if path.exists() else CASES_HEADER
            if old and not old.endswith("\n"):
                old += "\n"
            atomic_write(path, old + cases_text(new))
            self.cases.append(new, path, self.cache_dir)
            self._cases_stamp = _stamp(path)
        self.table.grow_cases()

    def _catch_up_cases(self) -> None:
        """Take in the cases another process appended to cases.yaml since this dataset read it (from the
        cache that process updated, else parsed): a case index keeps its place, new ones come after."""
        path = self.cases_path
        if _stamp(path) == self._cases_stamp:
            return
        known = self._cases_stamp[0] or 0
        raw = path.read_bytes() if path.exists() else b""
        if len(raw) < known or (known and raw[known - 1:known] != b"\n"):
            raise LabelerError(f"{path}: changed on disk since {self.name} was opened (not by an append); "
                               "nothing was written: run the command again")
        self._cases_stamp = _stamp(path)
        before = list(self.cases.ids)
        self.cases.close()
        self.cases = CaseStore.open(path, self.cache_dir, parse_case_store)
        if list(self.cases.ids[:len(before)]) != before:
            raise LabelerError(f"{path}: changed on disk since {self.name} was opened; nothing was written: run the command again")
        self.case_index = self.table.case_index = self.cases.index
        self.table.grow_cases()

    # ---- judge runs and audits

    def judge_runs(self) -> list[str]:
        if not self.judge_dir.is_dir():
            return []
        return sorted(p.name for p in self.judge_dir.iterdir() if (p / "run.yaml").is_file())

    def judge_meta(self, run: str) -> JudgeRun:
        """A run's run.yaml alone (which prompt, model, rubric version), without reading its verdicts."""
        meta_path = self.judge_dir / check_safe_name(run, "run name") / "run.yaml"
        if not meta_path.is_file():
            known = ", ".join(self.judge_runs()) or "none"
            raise LabelerError(f"{meta_path}: no judge run {run!r} (runs: {known})")
        stamp = _stamp(meta_path)
        memo = self._metas.get(run)
        if memo is None or memo[0] != stamp:
            doc = load_rt(meta_path, max_bytes=MAX_HAND_EDITED)
            memo = self._metas[run] = (stamp, validate_model(JudgeRun, doc, meta_path, doc))
        return memo[1]

    def judge_run(self, run: str) -> tuple[JudgeRun, RunVerdicts]:
        """A run's description and its verdicts by case (several when --repeat was used).

        Verdicts are read once per change of verdicts.yaml (cached like the label logs); a verdict
        line that does not validate, or whose value is off the scale, is reported and left out.
        """
        folder = self.judge_dir / check_safe_name(run, "run name")
        meta_path = folder / "run.yaml"
        vpath = folder / "verdicts.yaml"
        meta = self.judge_meta(run)
        stamp = tuple(_stamp(p) for p in (meta_path, vpath))
        memo = self._runs.get(run)
        if memo is not None and memo[0] == stamp:
            return memo[1]
        verdicts = RunVerdicts()
        if vpath.exists():
            version = meta.rubric_version
            checker = self.checker

            r = checker.rubric(version)
            scales = {c: crit.scale.values() for c, crit in r.criteria.items()} if r is not None else {}
            parse = partial(RunVerdicts.read, check=partial(checker.values, version), scales=scales)
            try:
                verdicts = FileCache(self.path, self.cache_dir).get(
                    vpath, parse, extra=(version, tuple(_stamp(p) for p in self.rubric_versions().values())))
            except FileFormatError as e:
                self._unreadable(vpath, e)
            for line, msg, blocks in verdicts.problems:
                torn = line is not None and line == verdicts.torn_line and not blocks
                self.problem(vpath, line, msg, "warning" if torn else "error", blocks)
            if r is None and vpath.stat().st_size:
                why = checker.unloadable.get(version, "does not exist")
                self.problem(vpath, None, f"run made under rubric {self.config.rubric} v{version}, which {why}: "
                                          "its verdicts are left out", blocks=False)
            for line, cid in verdicts.keep(self.case_index):
                self.problem(vpath, line, f"verdict for unknown case {cid!r}: left out", blocks=False)
        self._runs[run] = (stamp, (meta, verdicts))
        return meta, verdicts

    # ---- candidates

    @property
    def candidates_dir(self) -> Path:
        return self.path / "candidates"

    def candidate_names(self) -> list[str]:
        return [p.stem for p in _yaml_files(self.candidates_dir)]

    def candidate(self, name: str) -> Candidate:
        """candidates/<name>.yaml (parsed once per change of the file)."""
        path = self.candidates_dir / f"{check_safe_name(name, 'candidate name')}.yaml"
        if not path.is_file():
            raise LabelerError(f"{path}: no candidate {name!r} (candidates: {', '.join(self.candidate_names()) or 'none'})")
        return FileCache(self.path, self.cache_dir).get(path, load_candidate)

    def save_candidate(self, candidate: Candidate) -> Path:
        path = self.candidates_dir / f"{candidate.name}.yaml"
        data = candidate.model_dump(mode="json", exclude_defaults=True)
        data.setdefault("outputs", {})
        header = f"# Candidate {candidate.name}: a system version's outputs for the inputs of dataset {self.name}.\n"
        atomic_write(path, header + dump_fast(data))
        return path

    def save_audit(self, run: str, auditor: str, audit: Audit) -> None:
        """Append one audit of run's verdict (judge/<run>/audits/<auditor>.yaml)."""
        path = self.judge_dir / check_safe_name(run, "run name") / "audits" / f"{check_safe_name(auditor, 'auditor')}.yaml"
        self.audits(run)  # a broken audit log is found (and then never written to) before the first append
        header = f"audits of judge run {run} by {auditor}: right or wrong per case and criterion; later lines win."
        record = audit.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        record = {"case": record.pop("case"), "criterion": record.pop("criterion"), "correct": audit.correct, **record}
        self._writer(path, header).append(record)

    def gold_disputes(self) -> dict[str, list[Audit]]:
        """case -> audits (any run) saying the human gold looks wrong: they send the case back to review."""
        out: dict[str, list[Audit]] = {}
        for run in self.judge_runs():
            for a in self.audits(run).values():
                if a.reason == "gold_wrong":
                    out.setdefault(a.case, []).append(a)
        return out

    def audits(self, run: str) -> dict[tuple[str, str], Audit]:
        """(case, criterion) -> the latest audit of run's verdict."""
        out: dict[tuple[str, str], Audit] = {}
        known = set(self.rubric().criteria) if self.checker else None
        for path in _yaml_files(self.judge_dir / check_safe_name(run, "run name") / "audits"):
            try:
                parsed = FileCache(self.path, self.cache_dir).get(path, partial(parse_log, model=Audit))
            except FileFormatError as e:
                self._unreadable(path, e)
                continue
            self._report(path, parsed)
            for line, a in parsed.records:
                if a.case not in self.cases:
                    self.problem(path, line, f"audit of unknown case {a.case!r}: left out", blocks=False)
                    continue
                if known is not None and a.criterion not in known:
                    self.problem(path, line, f"audit of {a.case}: unknown criterion {a.criterion!r}: left out")
                    continue
                out[(a.case, a.criterion)] = a
        return out

    # ---- views

    def annotators(self) -> list[str]:
        return sorted(self.table.annotators)

    def case_tiers(self):
        """The tier of every case, in case order (an array of strings, for masks)."""
        return self.cases.tiers

    def cases_by(self, by: str) -> dict:
        """tier or tag -> indexes of its cases (sorted by key)."""
        import numpy as np

        groups: dict[str, list[int]] = {}
        tiers = self.cases.tiers
        for j in range(len(self.cases)):
            for k in ([tiers[j]] if by == "tier" else self.cases.tags[j]):
                groups.setdefault(k, []).append(j)
        return {k: np.asarray(groups[k], dtype=np.int64) for k in sorted(groups)}


_PARSING: "Dataset | None" = None
"""The dataset whose label logs are being parsed (read by forked workers: nothing big is pickled to them)."""


def _parse_one_log(path: Path) -> "FileLabels | Exception":
    try:
        return _PARSING._parse_labels(path)
    except (FileFormatError, ValueError) as e:
        return e

