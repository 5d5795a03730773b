"""YAML in and out: round-trip for hand-edited files, a fast path for big ones, atomic saves.

Settings follow ../shared/DESIGN.md: width 4096 (never rewrap long lines), literal `|` blocks
for multi-line text only where they load back identically, keys in their original order.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterable

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from labeler.errors import FileFormatError
from labeler.truth.limits import check_loaded, check_yaml_text

# Characters that a literal block cannot carry: they would not load back (DESIGN.md section 2).
_NOT_BLOCK_SAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


def block_safe(text: str) -> bool:
    """True when `text` may be written as a `|` block and read back unchanged."""
    return "\n" in text and not _NOT_BLOCK_SAFE.search(text) and not text.startswith((" ", "\t"))


def rt_yaml() -> YAML:
    """A round-trip YAML instance (one per call: YAML objects are not thread-safe)."""
    y = YAML()
    y.width = 1 << 30  # never rewrap a long line
    y.indent(mapping=2, sequence=4, offset=2)
    y.preserve_quotes = True
    return y


def _fast_yaml() -> YAML:
    """A safe loader/dumper, C-accelerated when ruamel.yaml's libyaml extra is installed.

    ruamel.yaml 0.19 ships its C parser as `_ruamel_yaml_clibz` but `main` still looks for
    `_ruamel_yaml`; point it at the new module. Falls back to pure Python (about 10x slower).
    """
    import ruamel.yaml.main as main

    if main.CParser is None:
        try:
            from _ruamel_yaml_clibz import CEmitter, CParser  # type: ignore

            main.CParser, main.CEmitter = CParser, CEmitter
        except ImportError:  # pragma: no cover - the extra is a declared dependency
            pass
    y = YAML(typ="safe", pure=main.CParser is None)
    y.width = 1 << 30  # never rewrap a long line
    y.default_flow_style = False
    y.allow_unicode = True
    y.sort_base_mapping_type_on_output = False  # type: ignore[attr-defined]

    def represent_str(dumper: Any, s: str) -> Any:
        style = "|" if block_safe(s) else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", s, style=style)

    y.representer.add_representer(str, represent_str)
    return y


def literal_blocks(obj: Any) -> Any:
    """Wrap multi-line strings as literal blocks (for round-trip dumps)."""
    if isinstance(obj, str):
        return LiteralScalarString(obj) if block_safe(obj) else obj
    if isinstance(obj, dict):
        for k in list(obj):
            obj[k] = literal_blocks(obj[k])
        return obj
    if isinstance(obj, list):
        for i, v in enumerate(obj):
            obj[i] = literal_blocks(v)
        return obj
    return obj


def _error_from_yaml(path: Path, exc: YAMLError, line_offset: int = 0) -> FileFormatError:
    line = None
    if isinstance(exc, MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        if "<stream end>" in str(getattr(exc, "problem", "")) and exc.context_mark is not None:
            mark = exc.context_mark  # "unclosed [ at line 3" beats "end of file"
        line = mark.line + 1 + line_offset
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    msg = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    return FileFormatError(path, line, msg)


MAX_HAND_EDITED = 1 << 20
"""Largest rubric, dataset.yaml or run.yaml read (1 MiB): a file people edit by hand never needs more."""


def read_text(path: Path, max_bytes: int | None = None) -> str:
    try:
        if max_bytes is not None:
            size = path.stat().st_size
            if size > max_bytes:
                raise FileFormatError(path, None, f"file is {size:,} bytes; a file of this kind may hold at most "
                                                  f"{max_bytes:,} (is it the right file?)")
        return path.read_text(encoding="utf-8-sig")  # a byte-order mark some editors add is not text
    except FileNotFoundError:
        raise FileFormatError(path, None, "file not found") from None
    except UnicodeDecodeError as e:
        raise FileFormatError(path, None, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise FileFormatError(path, None, f"cannot read: {e.strerror}") from None


def load_rt(path: Path, text: str | None = None, max_bytes: int | None = None) -> Any:
    """Load a hand-edited file keeping comments and order; errors carry path:line."""
    text = read_text(path, max_bytes) if text is None else text
    return _bounded_load(rt_yaml(), path, text, 0)


def load_fast(path: Path, text: str | None = None, line_offset: int = 0) -> Any:
    """Load plain data fast (no comments kept); errors carry path:line."""
    text = read_text(path) if text is None else text
    return _bounded_load(_fast_yaml(), path, text, line_offset)


def _bounded_load(y: YAML, path: Path, text: str, line_offset: int) -> Any:
    """`y.load(text)` within the bounds of truth/limits.py: nesting checked before the parser sees
    the text (libyaml crashes on 100,000 levels), alias expansion checked before anyone walks the data."""
    check_yaml_text(text, path, line_offset)
    try:
        data = y.load(text)
    except YAMLError as e:
        raise _error_from_yaml(path, e, line_offset) from None
    except RecursionError:
        raise FileFormatError(path, None, "nested too deep to read (lists or mappings inside each other)") from None
    if data is not None and not isinstance(data, (str, int, float, bool)):
        check_loaded(data, path, len(text), line=line_offset + 1 if line_offset else None)
    return data


def dump_rt(doc: Any) -> str:
    buf = io.StringIO()
    rt_yaml().dump(doc, buf)
    return buf.getvalue()


def dump_fast(data: Any) -> str:
    buf = io.StringIO()
    _fast_yaml().dump(data, buf)
    return buf.getvalue()


def merge_into(doc: Any, data: Any) -> Any:
    """Merge plain `data` into a loaded round-trip `doc` so comments and key order survive."""
    if isinstance(doc, dict) and isinstance(data, dict):
        # JSON dumps turn int keys (scale points 0, 1, 2) into strings: match keys by their text.
        original = {str(k): k for k in doc}
        wanted = {str(k) for k in data}
        for k in [k for k in doc if str(k) not in wanted]:
            del doc[k]
        for k, v in data.items():
            key = original.get(str(k), k)
            if key in doc:
                doc[key] = merge_into(doc[key], v)
            elif v not in ([], {}, "", None):  # an empty default the file left out stays out
                doc[key] = literal_blocks(v)
        return doc
    if isinstance(doc, list) and isinstance(data, list):
        out = [merge_into(doc[i], v) if i < len(doc) else literal_blocks(v) for i, v in enumerate(data)]
        doc[:] = out
        return doc
    if _same_scalar(doc, data):
        return doc  # keep the original scalar and its style
    return literal_blocks(data)


def _same_scalar(doc: Any, data: Any) -> bool:
    if doc == data and type(doc) is type(data) or (isinstance(doc, str) and isinstance(data, str) and doc == data):
        return True
    iso = getattr(doc, "isoformat", None)
    if iso is not None and isinstance(data, str):
        return iso() == data
    return isinstance(doc, (int, float)) and not isinstance(doc, bool) and doc == data and not isinstance(data, bool)


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: Path, text: str) -> None:
    """Write `text` so a crash leaves the old file or the new one, never a torn one."""
    if path.is_dir():
        raise FileFormatError(path, None, "is a folder: give a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(path.parent)


def line_of(doc: Any, loc: Iterable[Any]) -> int | None:
    """The 1-based line of the key path `loc` in a round-trip document, as deep as it resolves."""
    line = None
    node = doc
    for key in loc:
        lc = getattr(node, "lc", None)
        try:
            if isinstance(node, dict) and key in node:
                if lc is not None:
                    line = lc.key(key)[0] + 1
                node = node[key]
            elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
                if lc is not None:
                    line = lc.item(key)[0] + 1
                node = node[key]
            else:
                break
        except (KeyError, TypeError, AttributeError):
            break
    if line is None and getattr(doc, "lc", None) is not None:
        line = doc.lc.line + 1
    return line
