"""Who is labeling: --annotator, else the repo's git identity (user.name / user.email)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from labeler.names import annotator_slug, check_safe_name


@dataclass(frozen=True)
class Identity:
    name: str
    """The safe file-name part: labels/<name>.yaml."""
    email: str | None = None
    git_name: str | None = None
    """The repo's git user.name as written ("Ada Lovelace"), recorded with each label."""


def _git_config(key: str, cwd: Path) -> str | None:
    try:
        out = subprocess.run(["git", "config", "--get", key], cwd=cwd, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    value = out.stdout.strip()
    return value or None


def resolve_identity(annotator: str | None, cwd: Path) -> Identity | None:
    """The annotator for this session, or None when nothing names one (the app then asks).

    The repo's git identity (user.name, user.email) is recorded with labels only when it is the
    annotator's own: when the annotator name comes from it, or `--annotator` is the same name. On
    a shared machine, `--annotator bob` in Alice's checkout records "bob" and nothing of Alice.
    """
    email = _git_config("user.email", cwd)
    name = _git_config("user.name", cwd)
    if annotator:
        annotator = check_safe_name(annotator, "annotator")
        own = {_slug(raw) for raw in (name, email) if raw}
        if annotator in own:
            return Identity(annotator, email, name)
        return Identity(annotator)
    for raw in (name, email):
        if raw:
            try:
                return Identity(annotator_slug(raw), email, name)
            except ValueError:
                continue
    return None


def _slug(raw: str) -> str | None:
    try:
        return annotator_slug(raw)
    except ValueError:
        return None


def git_user_name(cwd: Path) -> str | None:
    """The repo's git user.name as written (for changelog authors)."""
    return _git_config("user.name", cwd)
