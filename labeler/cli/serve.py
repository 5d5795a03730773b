"""`labeler serve`: the labeling and review screens in a browser, one secret link per person."""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
from datetime import datetime
from pathlib import Path

from labeler.cli.common import EXIT_FAIL, EXIT_OK, _amount, _err, _name, _open, _positive
from labeler.errors import UsageError

EXTRA = "`labeler serve` needs the serve extra: pip install 'labeler[serve]'"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _tokens(a: argparse.Namespace, ds_path: Path):
    from labeler.serve.tokens import ENV, Tokens

    if a.tokens:
        try:
            text = Path(a.tokens).read_text(encoding="utf-8")
        except OSError as e:
            raise UsageError(f"--tokens {a.tokens}: {e.strerror or e}") from None
        return Tokens.given(text, a.tokens)
    if os.environ.get(ENV):
        return Tokens.given(os.environ[ENV], ENV)
    return Tokens.load(ds_path)


def cmd_serve(a: argparse.Namespace) -> int:
    from labeler.safetext import inert
    from labeler.serve.people import people

    ds = _open(a.dataset)
    tokens = _tokens(a, ds.path)
    if a.revoke:
        if tokens.path is None:
            raise UsageError(f"the tokens come from {tokens.source}: remove {', '.join(a.revoke)} there, then restart the server")
        for name in a.revoke:
            gone = tokens.revoke(name)
            print(f"{name}: {'link revoked (a running server ends the session within seconds)' if gone else 'had no link'}")
        return EXIT_OK
    try:
        team = people(a.annotator or [], a.lead or [])
    except ValueError as e:
        raise UsageError(str(e)) from None
    if not team:
        raise UsageError("name who labels: --annotator NAME (repeatable) and/or --lead NAME")
    if a.public_url and not a.public_url.startswith(("http://", "https://")):
        raise UsageError(f"--public-url {a.public_url}: give the address people open, starting with https:// (or http://)")
    if tokens.path is None:
        missing = [p.name for p in team if p.name not in tokens.hashes]
        if missing:
            raise UsageError(f"{tokens.source} has no token for {', '.join(missing)}")
        if a.new_link:
            raise UsageError(f"--new-link: the tokens come from {tokens.source}; change them there")
    try:
        from labeler.serve.web import LabelerServer
    except ImportError:
        _err(EXTRA)
        return EXIT_FAIL
    if not _loopback(a.host):
        sys.stderr.write(f"warning: serving on {inert(a.host)}, not only this machine: each screen opens only with its "
                         "link, but links and labels cross the network in clear; put a TLS reverse proxy in front "
                         "(docs/annotator.md: Label in a browser) and give --public-url\n")

    def say(event: dict) -> None:
        event = {"at": datetime.now().strftime("%H:%M:%S"), **event}
        if a.json:
            print(json.dumps(event), flush=True)
        elif event["event"] == "connect":
            print(f"{event['at']} {inert(event['person'])} connected ({event['screen']}; {event['live']} live)", flush=True)
        elif event["event"] == "disconnect":
            what = "labels" if event["screen"] == "label" else "adjudications"
            print(f"{event['at']} {inert(event['person'])} disconnected ({inert(event['reason'])}): {event['saved']} {what} "
                  f"saved this session, {event['total']} in all, {event['minutes']:g} min; {event['live']} live", flush=True)

    def ready(url: str, port: int) -> None:
        links: dict[str, str | None] = {}
        for p in team:
            if tokens.path is None:
                links[p.name] = f"{url}/s/<{p.name}'s token from {tokens.source}>"
            elif p.name in tokens.hashes and p.name not in (a.new_link or []):
                links[p.name] = None
            else:
                links[p.name] = f"{url}/s/{tokens.issue(p.name)}"
        if a.json:
            print(json.dumps({"event": "ready", "url": url, "port": port, "dataset": ds.name,
                              "links": {n: {"screen": p.screen, "url": links[n]} for n, p in ((p.name, p) for p in team)}}),
                  flush=True)
            return
        print(f"serving {inert(ds.name)} on {url} (Ctrl+C stops; every label is on disk as soon as it is made)")
        width = max(len(p.name) for p in team) + 10
        for p in team:
            link = links[p.name] or (f"the link issued {tokens.issued.get(p.name, '?')} still works "
                                     f"(--new-link {p.name} replaces it)")
            print(f"  {inert(p.name + ' (' + p.screen + ')'):<{width}} {link}")
        print("send each person only their own link: it opens their screen as them; never post links in public.",
              flush=True)

    server = LabelerServer(ds.path, ds.name, team, tokens, host=a.host, port=a.port, public_url=a.public_url,
                           max_sessions=a.max_sessions, idle_seconds=a.idle_minutes * 60, say=say)
    import asyncio

    try:
        asyncio.run(server.run(ready))
    except OSError as e:
        _err(f"cannot listen on {a.host}:{a.port}: {e.strerror or e}")
        return EXIT_FAIL
    return EXIT_OK


def _port(s: str) -> int:
    try:
        n = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not a port number") from None
    if not 0 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0-65535 (0: any free port), not {n}")
    return n


def register(add) -> None:
    sp = add("serve", cmd_serve)
    sp.add_argument("dataset")
    sp.add_argument("--annotator", action="append", type=_name("annotator"), help="who labels (repeatable): their link opens `labeler label`")
    sp.add_argument("--lead", action="append", type=_name("lead"), help="who reviews (repeatable): their link opens `labeler review`")
    sp.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    sp.add_argument("--port", type=_port, default=8000, help="default 8000; 0 picks a free port")
    sp.add_argument("--public-url", default=None, metavar="URL", help="the address people open, behind a reverse proxy (https://labels.example.com)")
    sp.add_argument("--tokens", default=None, metavar="FILE",
                    help="fixed tokens, `name=token` per line (or the LABELER_SERVE_TOKENS variable); default: random ones, kept hashed in the dataset's .cache/")
    sp.add_argument("--new-link", action="append", type=_name("name"), metavar="NAME", help="issue NAME a new link; the old one stops working")
    sp.add_argument("--revoke", action="append", type=_name("name"), metavar="NAME", help="end NAME's link (and live session), then exit")
    sp.add_argument("--max-sessions", type=_positive, default=20, help="sessions open at once (default 20)")
    sp.add_argument("--idle-minutes", type=_amount("minutes"), default=30.0, metavar="MIN", help="end a session after this long without a key (default 30; nothing is lost)")
    sp.add_argument("--json", action="store_true", help="one JSON object per line: the links, then each connect and disconnect")
