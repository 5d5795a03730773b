"""Git as the shared store: status, structured commits of labeler's own files, sync, and per-case history.

GitPython is opened per operation (`with Repo(...)`): it leaks resources in long-running processes.
Only files labeler writes are ever staged: the kinds listed in truth/layout.py, in every dataset and
rubric of the workspace (never .cache/, *.torn, temp files or anything else). Staging, committing and
rebasing hold the writer lock of every dataset (truth/lock.py): no save lands in a file git is rewriting.
Paths are read NUL-separated and passed as literal pathspecs, so any name labeler accepts (spaces,
unicode, brackets) commits.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

from labeler.errors import LabelerError
from labeler.truth.layout import FOLDERS, TOP_FILES, is_log, kind_of
from labeler.truth.limits import check_depth
from labeler.truth.lock import datasets_lock
from labeler.truth.yamlio import atomic_write
from labeler.dataset import Dataset

OFF = "git features are off: this folder is not in a git repository"
__all__ = ["commit", "status", "sync", "history", "is_log", "uncommitted"]


@contextmanager
def open_repo(path: Path) -> Iterator:
    import git

    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise LabelerError(OFF) from None
    repo.git.update_environment(GIT_LITERAL_PATHSPECS="1")  # `labels/a[1].yaml` is a name, not a pattern
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


def _root(ds: Dataset) -> Path:
    """The workspace folder (rubrics/ and datasets/) of `ds`."""
    return ds.path.resolve().parent.parent


def _datasets(root: Path) -> list[Path]:
    folder = root / "datasets"
    return sorted(p for p in folder.iterdir() if (p / "dataset.yaml").is_file()) if folder.is_dir() else []


def _top(repo) -> Path:
    return Path(repo.working_tree_dir).resolve()


def _rel(repo, p: Path) -> str:
    return p.resolve().relative_to(_top(repo)).as_posix()


def _porcelain(repo, *args: str) -> list[tuple[str, str]]:
    """(XY, repo-relative path) from `git status --porcelain -z`: paths exactly as they are, never quoted."""
    out = repo.git.status("--porcelain", "-z", *args, strip_newline_in_stdout=False)
    items, res, i = out.split("\0"), [], 0
    while i < len(items):
        entry = items[i]
        i += 1
        if len(entry) < 4:
            continue
        if entry[0] in "RC":
            i += 1  # the path it was renamed or copied from
        res.append((entry[:2], entry[3:]))
    return res


def owned_changes(repo, root: Path) -> list[tuple[str, str]]:
    """(XY, repo-relative path) of every file of labeler's kinds in the workspace that differs from HEAD."""
    top = _top(repo)
    specs = [(root / f).relative_to(top).as_posix() for f in FOLDERS if (root / f).is_dir()]
    specs += [(root / f).relative_to(top).as_posix() for f in TOP_FILES if (root / f).is_file()]
    if not specs:
        return []
    return [(xy, rel) for xy, rel in _porcelain(repo, "--untracked-files=all", "--", *specs) if kind_of(rel)]


def _blob(repo, rev: str, rel: str) -> str | None:
    try:
        return repo.git.show(f"{rev}:{rel}", strip_newline_in_stdout=False)
    except Exception:  # not in that revision
        return None


def _records(text: str | None) -> list[dict]:
    out = []
    for line in (text or "").splitlines():
        if line.startswith("- {"):
            try:
                check_depth(line, "<git>")  # lines from history are read like the log's own: bounded first
                rec = json.loads(line[2:])
            except ValueError:
                continue
            if isinstance(rec, dict):
                out.append(rec)
    return out


def _key(r: dict) -> tuple:
    return (r.get("case"), r.get("criterion"), r.get("repeat"))


def _latest(records: list[dict]) -> dict[tuple, dict]:
    out: dict[tuple, dict] = {}
    for r in records:
        if r.get("retract"):
            out.pop(_key(r), None)
        else:
            out[_key(r)] = r
    return out


@dataclass
class _Delta:
    new: int = 0
    changed: int = 0
    withdrawn: int = 0
    versions: set = field(default_factory=set)


def _log_delta(repo, top: Path, rel: str) -> _Delta:
    """What a log holds now that HEAD does not, by case (or case and criterion): a case labeled twice,
    or labeled and withdrawn again, counts once or not at all."""
    path = top / rel
    now = _latest(_records(path.read_text(encoding="utf-8"))) if path.exists() else {}
    head = _latest(_records(_blob(repo, "HEAD", rel))) if repo.head.is_valid() else {}
    d = _Delta()
    for k, r in now.items():
        if k not in head:
            d.new += 1
        elif r != head[k]:
            d.changed += 1
        else:
            continue
        if isinstance(r.get("rubric"), int):
            d.versions.add(r["rubric"])
    d.withdrawn = sum(1 for k in head if k not in now)
    return d


def _tail_count(repo, top: Path, rel: str) -> int:
    """Cases (or case and criterion) written in a log since HEAD, parsing only the lines HEAD does not have
    (the status line asks every few seconds): labeled twice counts once, labeled and withdrawn not at all."""
    before = _blob(repo, "HEAD", rel) if repo.head.is_valid() else None
    n_before = sum(1 for ln in (before or "").splitlines() if ln.startswith("- "))
    path = top / rel
    if not path.exists():
        return 0
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.startswith("- ")]
    seen: dict[tuple, bool] = {}
    undone: set[tuple] = set()
    for r in _records("\n".join(lines[n_before:])):
        if r.get("retract") and seen.get(_key(r)) is True:
            del seen[_key(r)]  # labeled and undone since HEAD: nothing to commit for it...
            undone.add(_key(r))
        else:
            seen[_key(r)] = not r.get("retract")  # a withdrawal of a committed label is a change too
            undone.discard(_key(r))
    if undone:  # ...unless HEAD has it: then a committed label was withdrawn (read HEAD only in this case)
        seen.update(dict.fromkeys(undone & set(_latest(_records(before))), False))
    return len(seen)


def _n(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _case_count(text: str | None) -> int:
    return sum(1 for ln in (text or "").splitlines() if ln and ln[0] not in " \t#-." and ":" in ln)
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
    uncommitted: dict[str, int] = field(default_factory=dict)
    """Kind (truth/layout.py) -> records not yet committed for logs, files for every other kind."""

    def line(self) -> str:
        sync = f"↑{self.ahead} ↓{self.behind} {self.upstream}" if self.upstream else "no upstream"
        return f"git {self.branch} · {describe_counts(self.uncommitted)} · {sync}"


def describe_counts(counts: dict[str, int]) -> str:
    """"3 labels, 1 adjudication, 2 files uncommitted" (or "0 labels uncommitted")."""
    records = {"labels": "label", "adjudications": "adjudication", "audits": "audit", "verdicts": "verdict"}
    parts = [_n(counts[k], w) for k, w in records.items() if counts.get(k)]
    files = sum(n for k, n in counts.items() if k not in records)
    if files:
        parts.append(_n(files, "file"))
    return (", ".join(parts) or "0 labels") + " uncommitted"


def _counts(repo, changed: list[tuple[str, str]]) -> dict[str, int]:
    top = _top(repo)
    out: dict[str, int] = {}
    for _, rel in changed:
        kind = kind_of(rel)[0]
        if kind.log:
            n = _tail_count(repo, top, rel)
        else:
            n = 1
        if n:
            out[kind.name] = out.get(kind.name, 0) + n
    return out


def uncommitted(ds: Dataset) -> dict[str, int]:
    """What `labeler commit` would commit, by kind: records for logs (labels, adjudications, audits,
    verdicts), files for the rest. Empty when everything is committed."""
    with open_repo(ds.path) as repo:
        return _counts(repo, owned_changes(repo, _root(ds)))


def status(ds: Dataset) -> GitStatus:
    with open_repo(ds.path) as repo:
        changed = owned_changes(repo, _root(ds))
        counts = _counts(repo, changed)
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
        return GitStatus(branch, upstream, ahead or 0, behind or 0, counts.get("labels", 0), [r for _, r in changed], counts)


# ---------------------------------------------------------------- commit


def commit_message(repo, changed: list[tuple[str, str]]) -> str:
    """A subject in git's own style, from what the files hold: "Add 4 labels by alice in support-summary
    (rubric v2)"; "add" for files that are new. A long one gets a body with every part."""
    top = _top(repo)
    labels: dict[str, list] = defaultdict(lambda: [_Delta(), set()])
    parts: list[str] = []
    counted: dict[tuple[str, str], int] = defaultdict(int)
    moves: dict[tuple[str, str], list[str]] = defaultdict(list)
    for xy, rel in changed:
        kind, at = kind_of(rel)
        new = xy == "??" or xy[0] == "A"
        if "D" in xy:
            parts.append(f"remove {rel}")
            continue
        ds = at.get("ds", "")
        if kind.name == "labels":
            d = _log_delta(repo, top, rel)
            acc = labels[ds]
            acc[0].new += d.new
            acc[0].changed += d.changed
            acc[0].withdrawn += d.withdrawn
            acc[0].versions |= d.versions
            if d.new or d.changed or d.withdrawn:
                acc[1].add(at["who"])
        elif kind.name == "adjudications":
            d = _log_delta(repo, top, rel)
            counted[("adjudicate", ds)] += d.new + d.changed
        elif kind.name == "audits":
            d = _log_delta(repo, top, rel)
            parts.append(f"audit {_n(d.new + d.changed, 'verdict')} of judge run {at['run']} in {ds}")
        elif kind.name == "verdicts":
            if not _is_new(changed, f"/{ds}/judge/{at['run']}/run.yaml"):
                d = _log_delta(repo, top, rel)
                parts.append(f"add {_n(d.new + d.changed, 'verdict')} to judge run {at['run']} in {ds}")
        elif kind.name == "judge runs":
            if rel.endswith("/run.yaml"):
                parts.append(f"{'add' if new else 'update'} judge run {at['run']} in {ds}")
        elif kind.name == "cases":
            before = _case_count(_blob(repo, "HEAD", rel)) if repo.head.is_valid() else 0
            added = _case_count((top / rel).read_text(encoding="utf-8")) - before
            if _is_new(changed, f"/{ds}/dataset.yaml"):
                parts.append(f"add dataset {ds} with {_n(max(added, 0), 'case')}")
            else:
                parts.append(f"add {_n(added, 'case')} to {ds}" if added > 0 else f"edit the cases of {ds}")
        elif kind.name == "dataset":
            now = _RUBRIC_IN_FORCE.search((top / rel).read_text(encoding="utf-8"))
            was = _RUBRIC_IN_FORCE.search(_blob(repo, "HEAD", rel) or "") if not new else None
            if now and was and now.groups() != was.groups():
                moves[(now[1], now[2])].append(ds)
            elif not (new and any(r.endswith(f"/{ds}/cases.yaml") for _, r in changed)):
                parts.append(f"add dataset {ds}" if new else f"update dataset.yaml of {ds}")
        elif kind.name == "candidates":
            parts.append(f"{'add' if new else 'update'} candidate {at['what']} of {ds}")
        elif kind.name == "drift runs":
            counted[("drift", ds)] += 1
        elif kind.name == "rubric versions":
            parts.append(f"{'add' if new else 'edit'} rubric {at['rubric']} v{at['version']}")
        elif kind.name == "judge prompts":
            v = f" v{at['version']}" if "version" in at else ""
            parts.append(f"{'add' if new else 'update'} the judge prompt{v} of {at['rubric']}")
        elif kind.name == "workspace marker":
            parts.append("mark the workspace" if new else f"update {rel}")
        elif kind.name == "judge examples":
            parts.append(f"{'add' if new else 'update'} the examples of judge prompt v{at['version']} of {at['rubric']}")
    for (rubric, version), names in moves.items():
        made = f"add rubric {rubric} v{version}"
        to = f"move {', '.join(sorted(names))} to "
        if made in parts:
            parts[parts.index(made)] = f"{made} and {to}it"
        else:
            parts.append(f"{to}rubric {rubric} v{version}")
    for (what, ds), n in counted.items():
        if what == "adjudicate" and n:
            parts.insert(0, f"adjudicate {_n(n, 'case')} in {ds}")
        elif what == "drift":
            parts.append(f"add {_n(n, 'drift run')} of {ds}")
    first = ("adjudicate ", "add dataset ", "add rubric ", "edit rubric ")  # after labels: gold, then what the rest belongs to
    parts.sort(key=lambda p: next((i for i, f in enumerate(first) if p.startswith(f)), len(first)))
    for ds, (d, who) in sorted(labels.items(), reverse=True):
        verbs = []
        if d.new:
            verbs.append(f"add {_n(d.new, 'label')}")
        if d.changed:
            verbs.append(f"change {d.changed}" if verbs else f"change {_n(d.changed, 'label')}")
        if d.withdrawn:
            verbs.append(f"withdraw {d.withdrawn}" if verbs else f"withdraw {_n(d.withdrawn, 'label')}")
        if verbs:
            version = f" (rubric {', '.join(f'v{v}' for v in sorted(d.versions))})" if d.versions else ""
            parts.insert(0, f"{' and '.join(verbs)} by {', '.join(sorted(who))} in {ds}{version}")
    if not parts:
        parts = ["update labeler files"]
    subject = "; ".join(parts)
    if len(subject) > 72 and len(parts) > 1:
        subject = f"{parts[0]} and {_n(len(parts) - 1, 'more change')}"
        return subject[:1].upper() + subject[1:] + "\n\n" + "\n".join(f"- {p[:1].upper() + p[1:]}" for p in parts)
    return subject[:1].upper() + subject[1:]


_RUBRIC_IN_FORCE = re.compile(r"(?m)^rubric:\s*['\"]?([^'\"\s#]+).*\n(?:.*\n)*?rubric_version:\s*(\d+)")


def _is_new(changed: list[tuple[str, str]], tail: str) -> bool:
    """Is the file ending in `tail` among the changes, and new (not in HEAD)?"""
    return any(("/" + r).endswith(tail) and (x == "??" or x[0] == "A") for x, r in changed)


@dataclass
class CommitResult:
    sha: str | None
    message: str
    files: list[str]
    set_aside: list[str] = field(default_factory=list)
    """Logs whose torn last line (a crash mid-save) was moved to <log>.torn instead of being committed."""


def _refuse_detached(repo) -> None:
    """Labeler commits only on a branch: on a detached HEAD, say how to get back without losing anything."""
    if not repo.head.is_detached:
        return
    sha = repo.head.commit.hexsha[:10]
    on = [b.strip() for b in repo.git.for_each_ref("--contains", "HEAD", "--format=%(refname:short)", "refs/heads").splitlines() if b.strip()]
    if on:
        how = (f"go back with `git switch {on[0]}` (git carries your uncommitted labels along, or refuses and changes "
               "nothing), then commit again")
    else:
        how = (f"this commit is on no branch: keep it and your labels with `git switch -c labels-{sha[:7]}`, then merge "
               "that branch into yours (`git switch main && git merge labels-" + sha[:7] + "`)")
    raise LabelerError(f"HEAD is detached at {sha}: labeler commits only on a branch, so nothing was committed and "
                       f"your labels are safe in the working tree; {how}")


def _check_index_lock(repo) -> None:
    lock = Path(repo.git_dir) / "index.lock"
    if lock.exists():
        raise LabelerError(f"{lock} exists: another git command is running here, or one was killed mid-way; if none is "
                           f"running, remove it with `rm {lock}` and run this again (nothing was committed)")


def _git_failed(e: Exception, what: str) -> LabelerError:
    return LabelerError(f"git {what} failed: {_first_line(e)} (nothing was lost; your files are as they were)")


def commit(ds: Dataset) -> CommitResult:
    """Stage and commit every file of labeler's kinds in the workspace of `ds`, and nothing else."""
    with open_repo(ds.path) as repo:
        _refuse_detached(repo)
        with datasets_lock(_datasets(_root(ds)), "labeler commit"):
            return _commit_locked(repo, _root(ds))


def _commit_locked(repo, root: Path) -> CommitResult:
    """Commit with the writer locks held: a torn last line is set aside first, never committed."""
    import git

    from labeler.truth.logs import repair_tail

    _check_index_lock(repo)
    changed = owned_changes(repo, root)
    top = _top(repo)
    set_aside = [rel for xy, rel in changed if is_log(rel) and "D" not in xy and repair_tail(top / rel) == "torn"]
    if set_aside:
        changed = owned_changes(repo, root)
    if not changed:
        return CommitResult(None, "nothing to commit: every labeler file here is committed", [], set_aside)
    message = commit_message(repo, changed)
    paths = [rel for _, rel in changed]
    try:
        repo.git.add("-A", "--", *paths)
        repo.git.commit("-m", message, "--only", "--", *paths)
    except git.GitCommandError as e:
        _check_index_lock(repo)
        raise _git_failed(e, "commit") from None
    return CommitResult(repo.head.commit.hexsha[:10], message, paths, set_aside)


# ---------------------------------------------------------------- sync


@dataclass
class SyncResult:
    ok: bool
    message: str
    conflicts: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    """Append-only logs whose conflict was resolved by keeping both sides' lines."""


def _conflicted(repo) -> list[str]:
    return sorted({rel for xy, rel in _porcelain(repo) if xy in ("UU", "AA", "DU", "UD")})


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
                check_depth(line, "<git>")
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

    Committing and the rebase or merge hold every dataset's writer lock (a save waits a moment, and is
    never written into a file git is rewriting); the network does not. A real conflict is reported with
    its files and the rebase/merge is undone: both versions stay in git (your commit locally, theirs on
    the remote) for you to resolve with git.
    """
    import git

    root = _root(ds)
    with open_repo(ds.path) as repo:
        _refuse_detached(repo)
        branch = repo.active_branch
        with datasets_lock(_datasets(root), "labeler sync"):
            commits = [_commit_locked(repo, root)]
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
        with datasets_lock(_datasets(root), "labeler sync"):
            commits.append(_commit_locked(repo, root))  # what was saved while fetching
            behind = int(repo.git.rev_list("--count", f"HEAD..{upstream}")) if has_upstream else 0
            if behind:
                dirty = [rel for _, rel in _porcelain(repo, "--untracked-files=no")]
                if dirty:
                    shown = ", ".join(dirty[:3]) + (f" and {len(dirty) - 3} more" if len(dirty) > 3 else "")
                    return SyncResult(False, f"cannot bring in {_n(behind, 'new commit')} from {upstream}: {shown} "
                                             f"{'has' if len(dirty) == 1 else 'have'} changes that are not labeler's to commit; "
                                             "commit them or set them aside with `git stash`, then sync again "
                                             "(your labels are committed locally)")
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
            ahead = repo.git.log("--format=%s", f"{upstream}..HEAD" if has_upstream else "HEAD").splitlines()
        if ahead or not has_upstream:
            try:
                if tracking:
                    repo.git.push(remote.name, branch.name)
                else:
                    repo.git.push("--set-upstream", remote.name, branch.name)
            except git.GitCommandError as e:
                return SyncResult(False, f"push to {remote.name} failed: {_first_line(e)}; your labels are committed locally")
        said = [f"pushed {_n(len(ahead), 'commit')}" + (f" ({'; '.join(ahead[:3])}{' ...' if len(ahead) > 3 else ''})"
                                                          if ahead else "")]
        if behind:
            said.append(f"brought in {_n(behind, 'commit')}")
        torn = sorted({t for c in commits for t in c.set_aside})
        if torn:
            said.append(f"set aside an incomplete last line of {', '.join(torn)} to .torn (a crash mid-save; not committed)")
        union = (f"; both sides' lines of {', '.join(sorted(set(merged)))} were kept, in time order (append-only logs: "
                 "the latest label per case wins)") if merged else ""
        return SyncResult(True, f"synced {branch.name} with {upstream}: {', '.join(said)}{union}", merged=sorted(set(merged)))


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
