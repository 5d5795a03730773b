"""Where the workspace is: found as git finds its repository, by walking up from where a command runs.

A workspace is a folder with rubrics/ and datasets/ and a marker: the MARKER file `labeler init` writes, or
(a workspace made before the marker) a dataset.yaml under datasets/ or a rubric version under rubrics/. A
folder that merely has a rubrics/ subfolder (the labeler package's own source has one) is not one.
"""

from __future__ import annotations

from pathlib import Path

MARKER = ".labeler"
NOT_A_WORKSPACE = "not a labeler workspace (run labeler init NAME)"


def is_workspace(folder: Path) -> bool:
    if not ((folder / "rubrics").is_dir() and (folder / "datasets").is_dir()):
        return False
    if (folder / MARKER).is_file():
        return True
    return any((folder / "datasets").glob("*/dataset.yaml")) or any((folder / "rubrics").glob("*/v*.yaml"))


def find_workspace(start: Path | None = None) -> Path | None:
    """The nearest workspace folder at or above `start` (the current folder by default), or None."""
    here = Path(start or Path.cwd()).resolve()
    return next((folder for folder in (here, *here.parents) if is_workspace(folder)), None)


def mark_workspace(root: Path) -> Path:
    """Write the marker that makes `root` a workspace (kept if it is there)."""
    path = Path(root) / MARKER
    if not path.exists():
        path.write_text("# labeler workspace: rubrics/ and datasets/ live beside this file.\n", encoding="utf-8")
    return path


def dataset_folder(ref: str | Path) -> Path | None:
    """The folder `labeler.dataset.open_dataset(ref)` opens (a folder path, or a name under the nearest
    workspace's datasets/), found without reading it; None when that is not a plain existing dataset."""
    p = Path(ref)
    if (p / "dataset.yaml").is_file():
        return p.resolve()
    root = find_workspace()
    name = str(ref)
    if root is None or not name or name.startswith(".") or "/" in name or "\\" in name:
        return None
    folder = root / "datasets" / name
    return folder if (folder / "dataset.yaml").is_file() else None
