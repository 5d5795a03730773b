"""Who else has this dataset open as the same person: a warning, never a block.

Each open labeling session leaves `.cache/sessions/<annotator>.<host>.<pid>.json` (git-ignored).
A second window of the same annotator sees the first one and warns that the two may label the
same cases twice. Files of sessions whose process is gone (a crash, kill -9) are cleaned up.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from labeler.names import check_safe_name
from labeler.truth.layout import ignore_derived
from labeler.truth.limits import check_depth


@dataclass(frozen=True)
class OtherSession:
    pid: int
    host: str
    started: str
    mode: str

    def __str__(self) -> str:
        return f"pid {self.pid} on {self.host}, {self.mode} since {self.started}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


class SessionMark:
    """This process's mark for (dataset, annotator); `others` are the live sessions found at start."""

    def __init__(self, dataset_path: Path, annotator: str, mode: str = "label"):
        self.folder = Path(dataset_path) / ".cache" / "sessions"
        self.annotator = check_safe_name(annotator, "annotator")
        self.host = socket.gethostname() or "localhost"
        self.path = self.folder / f"{self.annotator}.{self.host}.{os.getpid()}.json"
        self.others: list[OtherSession] = []
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            ignore_derived(self.folder.parent)
            self.others = self._scan()
            self.path.write_text(json.dumps({"pid": os.getpid(), "host": self.host, "mode": mode,
                                             "started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}))
        except OSError:
            pass  # a read-only checkout: no warning, no harm

    def _scan(self) -> list[OtherSession]:
        out = []
        for p in sorted(self.folder.glob(f"{self.annotator}.*.json")):
            if p == self.path:
                continue
            try:
                text = p.read_text()
                check_depth(text, p)  # a bad file is skipped like any other (ValueError), never a crash
                data = json.loads(text)
                other = OtherSession(int(data["pid"]), str(data["host"]), str(data.get("started", "?")), str(data.get("mode", "label")))
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if other.host == self.host and not _alive(other.pid):
                try:
                    p.unlink()  # left by a crash
                except OSError:
                    pass
                continue
            out.append(other)
        return out

    def release(self) -> None:
        try:
            self.path.unlink()
        except OSError:
            pass
