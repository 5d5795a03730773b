"""Secret links: one random token per person, stored only as a hash, checked in constant time.

The lead's copy of a link is printed once, when it is issued. The dataset's git-ignored
`.cache/serve/tokens.json` keeps `name -> sha256(token)`, so a leaked cache opens nothing, a
restarted server still accepts the links already sent, and `--revoke` ends one of them. A stable
deployment can give the tokens instead (a file or an environment variable of `name=token`
entries); the server then keeps their hashes in memory only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from labeler.errors import FileFormatError, UsageError
from labeler.names import check_safe_name
from labeler.truth.layout import ignore_derived
from labeler.truth.yamlio import atomic_write

MIN_TOKEN = 22
"""Characters of a given token: 22 URL-safe characters carry 128 bits when random."""
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
ENV = "LABELER_SERVE_TOKENS"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class Tokens:
    """name -> token hash, from the dataset's cache (`path`) or from tokens the lead gave (`path` None)."""

    hashes: dict[str, str]
    issued: dict[str, str]
    path: Path | None = None
    source: str = "cache"
    _stamp: tuple[int, int] | None = None

    # ------------------------------------------------------------ where they come from

    @classmethod
    def cache_path(cls, dataset_path: Path) -> Path:
        return Path(dataset_path) / ".cache" / "serve" / "tokens.json"

    @classmethod
    def load(cls, dataset_path: Path) -> "Tokens":
        t = cls({}, {}, cls.cache_path(dataset_path))
        t.reload()
        return t

    @classmethod
    def given(cls, text: str, where: str) -> "Tokens":
        """Tokens the lead chose: `name=token` entries, one a line or comma-separated; `#` starts a comment."""
        hashes: dict[str, str] = {}
        for n, line in enumerate(text.splitlines(), 1):
            for entry in line.split("#", 1)[0].split(","):
                entry = entry.strip()
                if not entry:
                    continue
                at = f"{where}:{n}" if where != ENV else ENV
                name, eq, token = (s.strip() for s in entry.partition("="))
                if not eq:
                    raise UsageError(f"{at}: expected name=token, got an entry without '='")
                try:
                    check_safe_name(name, "name")
                except ValueError as e:
                    raise UsageError(f"{at}: {e}") from None
                if len(token) < MIN_TOKEN or not _TOKEN.fullmatch(token):
                    raise UsageError(f"{at}: {name}'s token must be at least {MIN_TOKEN} characters of A-Z a-z 0-9 _ - "
                                     "(`python -c 'import secrets;print(secrets.token_urlsafe(32))'` makes one)")
                if name in hashes:
                    raise UsageError(f"{at}: a second token for {name}")
                hashes[name] = digest(token)
        if len(set(hashes.values())) < len(hashes):
            raise UsageError(f"{where}: two people share one token")
        return cls(hashes, {}, None, where)

    # ------------------------------------------------------------ checks

    def who(self, token: str) -> str | None:
        """The person a token belongs to, or None. Every stored hash is compared, each in constant time."""
        if not isinstance(token, str) or not token:
            return None
        d = digest(token)
        found = None
        for name, h in self.hashes.items():
            if hmac.compare_digest(d, h):
                found = name
        return found

    def reload(self) -> bool:
        """Re-read the cache when another `labeler serve --revoke` changed it; True when it changed."""
        if self.path is None:
            return False
        try:
            st = self.path.stat()
        except FileNotFoundError:
            changed = bool(self.hashes) or self._stamp is not None
            self.hashes, self.issued, self._stamp = {}, {}, None
            return changed
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return False
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            people = data["people"]
            self.hashes = {str(k): str(v["sha256"]) for k, v in people.items()}
            self.issued = {str(k): str(v.get("issued", "?")) for k, v in people.items()}
        except (ValueError, KeyError, TypeError, AttributeError):
            raise FileFormatError(self.path, None, "is not a token file labeler wrote; delete it to issue new links") from None
        self._stamp = stamp
        return True

    # ------------------------------------------------------------ changes (the cache only)

    def issue(self, name: str) -> str:
        """A new token for `name` (replacing any old one); only its hash is kept."""
        token = new_token()
        self.hashes[name] = digest(token)
        self.issued[name] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        self._save()
        return token

    def revoke(self, name: str) -> bool:
        if name not in self.hashes:
            return False
        del self.hashes[name]
        self.issued.pop(name, None)
        self._save()
        return True

    def _save(self) -> None:
        assert self.path is not None, "given tokens are never written"
        ignore_derived(self.path.parent.parent)  # .cache/: never committed, even in a repo without the rule
        people = {n: {"sha256": h, "issued": self.issued.get(n, "?")} for n, h in sorted(self.hashes.items())}
        atomic_write(self.path, json.dumps({"people": people}, indent=1) + "\n")
        os.chmod(self.path, 0o600)
        st = self.path.stat()
        self._stamp = (st.st_mtime_ns, st.st_size)
