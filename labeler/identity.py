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
    """The annotator for this session, or None when nothing names one (the app then asks)."""
    email = _git_config("user.email", cwd)
    name = _git_config("user.name", cwd)
    if annotator:
        return Identity(check_safe_name(annotator, "annotator"), email, name)
    for raw in (name, email):
        if raw:
            try:
                return Identity(annotator_slug(raw), email, name)
            except ValueError:
                continue
    return None


def git_user_name(cwd: Path) -> str | None:
    """The repo's git user.name as written (for changelog authors)."""
    return _git_config("user.name", cwd)
