"""Git as the shared store: status, structured commits of labeler's own files, sync, and per-case history.

GitPython is opened per operation (`with Repo(...)`): it leaks resources in long-running processes.
Only files labeler owns are ever staged: a dataset's dataset.yaml, cases.yaml, labels, adjudications,
judge runs and audits, and its rubric's versions and judge template. Never .cache/ or *.torn.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

from labeler.errors import LabelerError
from labeler.truth.yamlio import atomic_write
from labeler.truth.store import Dataset

OFF = "git features are off: this folder is not in a git repository"


@contextmanager
def open_repo(path: Path) -> Iterator:
    import git

    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise LabelerError(OFF) from None
    try:
        yield repo
    finally:
        repo.close()


def in_repo(path: Path) -> bool:
    """Cheap check (no GitPython import): is `path` inside a git work tree?"""
    for folder in (path.resolve(), *path.resolve().parents):
        if (folder / ".git").exists():
            return True
    return False


def owned_paths(ds: Dataset, top: Path) -> list[str]:
    """Repo-relative paths of every file labeler owns for this dataset and its rubric (existing ones)."""
    out = []
    rubric_dir = ds.ws.rubric_dir(ds.config.rubric)
    candidates = [ds.path / "dataset.yaml", ds.path / "cases.yaml"]
    for sub in ("labels", "adjudications"):
        candidates += sorted((ds.path / sub).glob("*.yaml"))
    candidates += sorted(ds.judge_dir.glob("*/*.yaml")) + sorted(ds.judge_dir.glob("*/audits/*.yaml"))
    candidates += sorted(rubric_dir.glob("v*.yaml")) + [rubric_dir / "judge.md"]
    for p in candidates:
        if p.is_file() and not p.name.startswith("."):
            out.append(p.resolve().relative_to(top).as_posix())
    return out


def _rel(repo, p: Path) -> str:
    return p.resolve().relative_to(Path(repo.working_tree_dir).resolve()).as_posix()


def _blob(repo, rev: str, rel: str) -> str | None:
    try:
        return repo.git.show(f"{rev}:{rel}")
    except Exception:  # not in that revision
        return None


def _records(text: str | None) -> list[dict]:
    out = []
    for line in (text or "").splitlines():
        if line.startswith("- {"):
            try:
                out.append(json.loads(line[2:]))
            except ValueError:
                continue
    return out


def _cases_labeled_since(repo, top: Path, rel: str) -> int:
    """Cases labeled (not lines appended) in an annotator's log since HEAD: only the new tail is parsed."""
    before = _blob(repo, "HEAD", rel) if repo.head.is_valid() else None
    n_before = sum(1 for ln in (before or "").splitlines() if ln.startswith("- "))
    lines = [ln for ln in (top / rel).read_text(encoding="utf-8").splitlines() if ln.startswith("- ")]
    labeled = {}
    for r in _records("\n".join(lines[n_before:])):
        if r.get("retract"):
            labeled.pop(r.get("case"), None)
        else:
            labeled[r.get("case")] = True
    return len(labeled)


def _latest(records: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for r in records:
        if r.get("retract"):
            out.pop(r.get("case"), None)
        else:
            out[r.get("case")] = r
    return out


# ---------------------------------------------------------------- status


@dataclass
class GitStatus:
    branch: str
    upstream: str | None
    ahead: int
    behind: int
    uncommitted_labels: int
    """Cases labeled since HEAD (a case labeled twice, or labeled and undone, counts once or not at all)."""
    changed_files: list[str] = field(default_factory=list)

    def line(self) -> str:
        sync = f"↑{self.ahead} ↓{self.behind} {self.upstream}" if self.upstream else "no upstream"
        return f"git {self.branch} · {self.uncommitted_labels} label(s) uncommitted · {sync}"


def status(ds: Dataset) -> GitStatus:
    with open_repo(ds.path) as repo:
        top = Path(repo.working_tree_dir).resolve()
        owned = owned_paths(ds, top)
        changed = []
        if owned:
            porcelain = repo.git.status("--porcelain", "--untracked-files=all", "--", *owned)
            changed = [ln[3:] for ln in porcelain.splitlines() if ln.strip()]
        new_labels = 0
        for rel in changed:
            if "/labels/" in rel and (top / rel).exists():
                new_labels += _cases_labeled_since(repo, top, rel)
        try:
            branch = repo.active_branch.name
        except TypeError:
            branch = "(detached)"
        upstream = ahead = behind = None
        try:
            tracking = repo.active_branch.tracking_branch()
            upstream = tracking.name if tracking else None
        except (TypeError, ValueError):
            upstream = None
        if upstream:
            try:
                left, right = repo.git.rev_list("--left-right", "--count", f"HEAD...{upstream}").split()
                ahead, behind = int(left), int(right)
            except Exception:
                ahead = behind = 0
        return GitStatus(branch, upstream, ahead or 0, behind or 0, new_labels, changed)


# ---------------------------------------------------------------- commit


def commit_message(ds: Dataset, repo, changed: list[str]) -> str:
    """"labels: 24 new, 3 changed in support-summary by alice, bob; rubric v3" from what the files hold."""
    top = Path(repo.working_tree_dir).resolve()
    new = changed_n = 0
    who = []
    parts = []
    adjudicated = 0
    for rel in changed:
        path = top / rel
        now = _latest(_records(path.read_text(encoding="utf-8"))) if path.exists() else {}
        head = _latest(_records(_blob(repo, "HEAD", rel))) if repo.head.is_valid() else {}
        if "/labels/" in rel:
            n_new = sum(1 for c in now if c not in head)
            n_changed = sum(1 for c in now if c in head and now[c] != head[c])
            if n_new or n_changed:
                who.append(Path(rel).stem)
            new += n_new
            changed_n += n_changed
        elif "/adjudications/" in rel:
            adjudicated += sum(1 for c in now if c not in head or now[c] != head[c])
    if new or changed_n:
        parts.append(f"labels: {new} new, {changed_n} changed in {ds.name} by {', '.join(sorted(who))}")
    if adjudicated:
        parts.append(f"adjudications: {adjudicated} case(s)")
    versions = [rel for rel in changed if re.search(r"rubrics/[^/]+/v\d+\.yaml$", rel)]
    for rel in versions:
        parts.append(f"rubric {Path(rel).stem}")
    runs = sorted({rel.split("/judge/")[1].split("/")[0] for rel in changed if "/judge/" in rel})
    if runs:
        parts.append(f"judge: {', '.join(runs)}")
    others = [rel for rel in changed if not any(k in rel for k in ("/labels/", "/adjudications/", "/judge/")) and rel not in versions]
    if others:
        parts.append("updated " + ", ".join(Path(r).name for r in others))
    head = "; ".join(parts) if parts else f"labeler: update {ds.name}"
    if ds.config.rubric_version and not versions:
        head += f" (rubric v{ds.config.rubric_version})"
    return head


@dataclass
class CommitResult:
    sha: str | None
    message: str
    files: list[str]


def commit(ds: Dataset) -> CommitResult:
    """Stage and commit only labeler's files for this dataset and its rubric."""
    with open_repo(ds.path) as repo:
        top = Path(repo.working_tree_dir).resolve()
        owned = owned_paths(ds, top)
        porcelain = repo.git.status("--porcelain", "--untracked-files=all", "--", *owned) if owned else ""
        changed = [ln[3:] for ln in porcelain.splitlines() if ln.strip()]
        if not changed:
            return CommitResult(None, "nothing to commit: every labeler file of this dataset is committed", [])
        message = commit_message(ds, repo, changed)
        repo.git.add("--", *changed)
        repo.git.commit("-m", message, "--only", "--", *changed)
        return CommitResult(repo.head.commit.hexsha[:10], message, changed)


# ---------------------------------------------------------------- sync


@dataclass
class SyncResult:
    ok: bool
    message: str
    conflicts: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    """Append-only logs whose conflict was resolved by keeping both sides' lines."""


_LOG = re.compile(r"(^|/)datasets/[^/]+/(labels|adjudications)/[^/]+\.yaml$|(^|/)datasets/[^/]+/judge/[^/]+/(verdicts\.yaml|audits/[^/]+\.yaml)$")


def is_log(rel: str) -> bool:
    """Is `rel` one of labeler's append-only logs (labels, adjudications, verdicts, audits)?"""
    return bool(_LOG.search(rel))


def _conflicted(repo) -> list[str]:
    return sorted({ln[3:] for ln in repo.git.status("--porcelain").splitlines() if ln[:2] in ("UU", "AA", "DU", "UD")})


def union_logs(ours: str, theirs: str) -> str:
    """Both sides of an append-only log: the lines they share, then every other line of either side once,
    in time order (by each record's `at`; a line without one keeps its place after the line before it)."""
    a, b = ours.splitlines(), theirs.splitlines()
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    head, rest = a[:n], []
    seen = set(head)
    for line in a[n:] + b[n:]:
        if line not in seen or not line.startswith("- "):
            seen.add(line)
            rest.append(line)
    keyed, last = [], ""
    for i, line in enumerate(rest):
        at = ""
        if line.startswith("- {"):
            try:
                at = str(json.loads(line[2:]).get("at") or "")
            except (ValueError, AttributeError):
                at = ""
        last = at or last
        keyed.append((last, i, line))
    keyed.sort()
    lines = head + [line for _, _, line in keyed]
    return "\n".join(lines) + "\n" if lines else ""


def _union_until_done(repo, strategy: str, conflicts: list[str]) -> list[str]:
    """Resolve conflicts in append-only logs by union, then continue the rebase (or conclude the merge),
    as many times as the replayed commits need. Raises GitCommandError on any other conflict."""
    import git

    done: list[str] = []
    for _ in range(100):
        for rel in conflicts:
            if not is_log(rel):
                raise git.GitCommandError("sync", 1, stderr=f"conflict in {rel}")
            ours = _stage(repo, 2, rel)
            theirs = _stage(repo, 3, rel)
            path = Path(repo.working_tree_dir) / rel
            atomic_write(path, union_logs(ours, theirs))
            repo.git.add("--", rel)
            done.append(rel)
        try:
            if strategy == "merge":
                repo.git.commit("--no-edit")
            else:
                repo.git.rebase("--continue", env={"GIT_EDITOR": "true"})
            return done
        except git.GitCommandError:
            conflicts = _conflicted(repo)
            if not conflicts:
                raise
    raise git.GitCommandError("sync", 1, stderr="too many conflicting commits to merge automatically")


def _stage(repo, n: int, rel: str) -> str:
    import git

    try:
        return repo.git.show(f":{n}:{rel}", strip_newline_in_stdout=False)
    except git.GitCommandError:
        return ""  # the file is new on that side


def sync(ds: Dataset, strategy: str = "rebase") -> SyncResult:
    """Commit labeler's files, fetch, rebase (or merge) onto the upstream, push.

    A real conflict is reported with its files and the rebase/merge is undone: both versions
    stay in git (your commit locally, theirs on the remote) for you to resolve with git.
    """
    import git

    committed = commit(ds)
    with open_repo(ds.path) as repo:
        try:
            branch = repo.active_branch
        except TypeError:
            return SyncResult(False, "cannot sync a detached HEAD: check out a branch first")
        if not repo.remotes:
            return SyncResult(False, "no remote: add one with `git remote add origin URL` to sync")
        tracking = branch.tracking_branch()
        remote = repo.remotes[tracking.remote_name] if tracking else repo.remotes[0]
        try:
            repo.git.fetch(remote.name)
        except git.GitCommandError as e:
            return SyncResult(False, f"cannot reach {remote.name} ({_first_line(e)}); your labels are committed locally")
        upstream = tracking.name if tracking else f"{remote.name}/{branch.name}"
        has_upstream = any(r.name == upstream for r in remote.refs)
        merged: list[str] = []
        if has_upstream:
            try:
                if strategy == "merge":
                    repo.git.merge("--no-edit", upstream)
                else:
                    repo.git.rebase(upstream)
            except git.GitCommandError as e:
                cause = e
                conflicts = _conflicted(repo)
                if conflicts and all(is_log(c) for c in conflicts):
                    try:
                        merged = _union_until_done(repo, strategy, conflicts)
                    except git.GitCommandError as e2:
                        cause, conflicts = e2, _conflicted(repo)
                if not merged:
                    try:
                        repo.git.rebase("--abort") if strategy != "merge" else repo.git.merge("--abort")
                    except git.GitCommandError:
                        pass
                    files = ", ".join(conflicts) or _first_line(cause)
                    pull = "git pull --no-rebase" if strategy == "merge" else "git pull --rebase"
                    return SyncResult(False, f"conflict in {files}: your commit is kept locally and theirs on {upstream}; "
                                             f"resolve with `{pull}` and a hand merge (nothing was overwritten)", conflicts)
        try:
            if tracking:
                repo.git.push(remote.name, branch.name)
            else:
                repo.git.push("--set-upstream", remote.name, branch.name)
        except git.GitCommandError as e:
            return SyncResult(False, f"push to {remote.name} failed: {_first_line(e)}")
        what = committed.message if committed.sha else "no new local changes"
        union = (f"; both sides' lines of {', '.join(sorted(set(merged)))} were kept, in time order (append-only logs: "
                 "the latest label per case wins)") if merged else ""
        return SyncResult(True, f"synced {branch.name} with {upstream} ({what}){union}", merged=sorted(set(merged)))


def _first_line(e: Exception) -> str:
    text = getattr(e, "stderr", "") or str(e)
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip() and not ln.strip().startswith("stderr:")]
    return (lines[0] if lines else str(e)).strip("' ")


# ---------------------------------------------------------------- history


@dataclass
class Change:
    when: datetime | None
    who: str
    """The annotator or lead whose file changed."""
    kind: str
    """'label', 'retract' or 'adjudication'."""
    values: dict
    before: dict
    commit: str | None
    """Short sha, or None for changes not yet committed."""
    author: str
    note: str = ""
    said: list[str] = field(default_factory=list)
    """What the record says besides values: its note, flags, a lead's reasons and gap marks."""


def _said(r: dict) -> list[str]:
    """A record's words (note, flags, reasons, gap marks), each saying what it is."""
    out = [f"note: {r['note']}"] if r.get("note") else []
    for f in r.get("flags") or []:
        if isinstance(f, dict):
            out.append(f"flag {f.get('criterion') or 'case'}: {f.get('reason') or f.get('kind') or 'unclear'}")
    for key, what in (("reasons", "reason"), ("gaps", "gap")):
        for c, text in (r.get(key) or {}).items() if isinstance(r.get(key), dict) else ():
            out.append(f"{what} {c}: {text}")
    return out


def history(ds: Dataset, case_id: str) -> list[Change]:
    """Every change to one case's labels and adjudications, oldest first: committed ones with their commit."""
    if case_id not in ds.cases:
        raise LabelerError(f"no case {case_id!r} in {ds.name}")
    with open_repo(ds.path) as repo:
        folders = [ds.labels_dir, ds.adjudications_dir]
        rels = [_rel(repo, f) for f in folders if f.exists()]
        seen: dict[str, int] = {}
        """file -> number of its records already accounted for."""
        state: dict[tuple[str, str], dict] = {}
        out: list[Change] = []

        def take(rel: str, text: str | None, sha: str | None, author: str) -> None:
            recs = _records(text)
            start = seen.get(rel, 0)
            seen[rel] = len(recs)
            who = Path(rel).stem
            kind = "adjudication" if "/adjudications/" in rel else "label"
            for r in recs[start:]:
                if r.get("case") != case_id:
                    continue
                key = (kind, who)
                before = state.get(key, {})
                vals = r.get("gold", {}) if kind == "adjudication" else r.get("values", {})
                if kind == "adjudication":
                    vals = {**before, **vals}
                k = "retract" if r.get("retract") else kind
                state[key] = {} if r.get("retract") else vals
                at = r.get("at")
                when = datetime.fromisoformat(at.replace("Z", "+00:00")) if isinstance(at, str) else None
                out.append(Change(when, who, k, dict(state[key]), before, sha, author, r.get("note", ""), _said(r)))

        if rels and repo.head.is_valid():
            for c in reversed(list(repo.iter_commits("HEAD", paths=rels))):
                for rel in sorted(c.stats.files):
                    if any(rel.startswith(x + "/") for x in rels) and rel.endswith(".yaml"):
                        take(rel, _blob(repo, c.hexsha, rel), c.hexsha[:10], str(c.author.name))
        for folder in folders:
            for p in sorted(folder.glob("*.yaml")) if folder.exists() else []:
                rel = _rel(repo, p)
                take(rel, p.read_text(encoding="utf-8"), None, "(uncommitted)")
        return out  # already in order: commit by commit, then what is not yet committed
