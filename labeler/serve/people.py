"""Who is served and what each link opens: the exact `labeler label`/`labeler review` a terminal would run.

The command is an argument list started without a shell, so a name such as `a;touch x` is one
argument, never shell code; `shell_line` is its quoted form, for display only.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from labeler.errors import LabelerError
from labeler.names import check_safe_name
from labeler.truth.logs import read_log


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    """'annotator' (the labeling screen) or 'lead' (the review screen)."""

    @property
    def screen(self) -> str:
        return "label" if self.role == "annotator" else "review"

    def argv(self, dataset_path: Path) -> list[str]:
        flag = "--annotator" if self.role == "annotator" else "--lead"
        return [sys.executable, "-m", "labeler", self.screen, str(dataset_path), flag, self.name]

    def log_path(self, dataset_path: Path) -> Path:
        """The file this person's screen appends to: what `saved` counts."""
        return Path(dataset_path) / ("labels" if self.role == "annotator" else "adjudications") / f"{self.name}.yaml"

    def saved(self, dataset_path: Path) -> int:
        """How many records this person's file holds now (labels, or a lead's adjudications)."""
        try:
            return len(read_log(self.log_path(dataset_path)).records)
        except (OSError, LabelerError):
            return 0  # no file yet, or one the screen itself will report


def shell_line(argv: list[str]) -> str:
    return shlex.join(argv)


def people(annotators: list[str], leads: list[str]) -> list[Person]:
    """Annotators then leads, each once; a name in both lists is a usage error (one link, one screen)."""
    out: list[Person] = []
    seen: set[str] = set()
    for role, names in (("annotator", annotators), ("lead", leads)):
        for name in names:
            check_safe_name(name, role)
            if name in seen:
                raise ValueError(f"{name} is named twice: one link opens one screen")
            seen.add(name)
            out.append(Person(name, role))
    return out
