"""The web side of `labeler serve`: textual-serve's page and protocol, with the token checked first.

textual-serve (MIT, by the Textual authors) streams a command's web-driver output to an xterm.js
page over one websocket per tab. This server keeps its page, static files and message protocol and
changes what makes it safe for a team:

- every page and websocket URL carries a person's token (`/s/<token>`, `/s/<token>/ws`); a wrong
  or missing one gets 403 before any process starts, and the person comes from the token only;
- each screen is started from an argument list without a shell (textual-serve uses a shell string);
- one live session per person (a newer tab takes over: the older one is told the session ended),
  a cap on sessions, an idle timeout, and a revoked token ends its live session within seconds;
- no access log, so tokens are never written anywhere; events name the person only.

Every label is on disk when the screen shows it saved, so ending a session loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import aiohttp_jinja2
import jinja2
from aiohttp import WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from labeler.serve.people import Person, shell_line
from labeler.serve.tokens import Tokens, digest

_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the page's URL holds the token: never send it to the font host
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}
_FORBIDDEN = "403: this address opens only with a personal link; ask your lead for yours.\n"


class _Screen(AppService):
    """One person's screen: the same `labeler label|review` a terminal runs, started without a shell."""

    def __init__(self, argv: list[str], cwd: Path, **kw: Any):
        super().__init__(shell_line(argv), **kw)
        self.argv = argv
        self.cwd = cwd

    async def _open_app_process(self, width: int = 80, height: int = 24):
        env = self._build_environment(width=width, height=height)
        pipe = asyncio.subprocess.PIPE
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv, stdin=pipe, stdout=pipe, stderr=pipe, env=env, cwd=self.cwd)
        assert process.stdin is not None and process.stderr is not None
        self._stdin = process.stdin
        # textual-serve copies a screen's stderr to the server's stdout (the lead's event stream):
        # keep it here instead, and say its last line when the screen stops with an error
        real, process.stderr = process.stderr, asyncio.StreamReader()
        process.stderr.feed_eof()
        self._stderr_task = asyncio.create_task(self._collect(real))
        return process

    async def _collect(self, stream: asyncio.StreamReader) -> None:
        self.stderr_tail = ""
        while line := await stream.readline():
            if line.strip():
                self.stderr_tail = line.decode("utf-8", "replace").strip()[-300:]

    def stopped(self) -> str | None:
        """Why the screen's process ended, when it has ended on its own."""
        rc = self._process.returncode if self._process else None
        if rc is None:
            return None
        if rc == 0:
            return "quit the screen"
        if rc < 0:
            return f"the screen was killed (signal {-rc})"
        return f"the screen stopped (exit {rc}): {getattr(self, 'stderr_tail', '') or 'no message'}"

    ended_itself = False
    """The screen quit (q) or its process died: the page closes because of the screen, not the person."""

    async def on_meta(self, data: bytes) -> None:
        with contextlib.suppress(ValueError, TypeError):
            self.ended_itself |= json.loads(data).get("type") == "exit"
        await super().on_meta(data)

    async def run(self) -> None:
        """Stream the screen until its process ends, then close the page (a crash or kill ends the session)."""
        await super().run()
        self.ended_itself = True
        with contextlib.suppress(Exception):
            await self.remote_close()

    async def on_data(self, payload: bytes) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):  # the page already went: let the screen quit cleanly
            await self.remote_write_bytes(payload)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def end(self, grace: float = 5.0) -> None:
        """Ask the screen to quit (its labels are already on disk); kill it if it has not within `grace`."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.stop(), grace)
        p = self._process
        if p is not None and p.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                p.kill()
            await p.wait()


@dataclass(eq=False)
class _Live:
    person: Person
    digest: str
    ws: web.WebSocketResponse
    screen: _Screen
    saved_before: int
    started: float = field(default_factory=time.monotonic)
    last_input: float = field(default_factory=time.monotonic)
    ended: bool = False


class LabelerServer(Server):
    """Serve one dataset's screens to the people in `people`, each behind their own token."""

    def __init__(self, dataset_path: Path, title: str, people: list[Person], tokens: Tokens, *,
                 host: str, port: int, public_url: str | None, max_sessions: int, idle_seconds: float,
                 say: Callable[[dict[str, Any]], None], check_every: float = 2.0):
        super().__init__("labeler", host=host, port=port, title=title, public_url=public_url)
        self.given_public_url = public_url
        self.dataset_path = Path(dataset_path)
        self.people = {p.name: p for p in people}
        self.tokens = tokens
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds
        self.say = say
        self.check_every = check_every
        self.live: dict[str, _Live] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    # ------------------------------------------------------------ who is asking

    def person_of(self, request: web.Request) -> tuple[Person, str]:
        """The person whose token is in the URL, or 403. Nothing else in the request names anyone."""
        token = request.match_info.get("token", "")
        self.tokens.reload()
        name = self.tokens.who(token)
        person = self.people.get(name) if name else None
        if person is None:
            raise web.HTTPForbidden(text=_FORBIDDEN, headers=_HEADERS)
        return person, digest(token)

    # ------------------------------------------------------------ routes

    async def _make_app(self) -> web.Application:
        app = web.Application()
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))  # autoescapes
        app.add_routes([
            web.get("/", self.handle_root),
            web.get("/s/{token}", self.handle_index),
            web.get("/s/{token}/ws", self.handle_websocket),
            web.static("/static", self.statics_path, name="static"),
        ])
        return app

    async def handle_root(self, request: web.Request) -> web.Response:
        raise web.HTTPForbidden(text=_FORBIDDEN, headers=_HEADERS)

    async def handle_index(self, request: web.Request) -> web.Response:  # type: ignore[override]
        person, _ = self.person_of(request)
        base = self.public_url.rstrip("/")
        ws = ("wss:" if base.startswith("https:") else "ws:") + base.split(":", 1)[1]
        context = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": f"{ws}{request.path}/ws",
            "config": {"static": {"url": f"{base}/static/"}},
            "application": {"name": f"{self.title}: {person.screen} as {person.name}"},
        }
        response = aiohttp_jinja2.render_template("app_index.html", request, context)
        response.headers.update(_HEADERS)
        return response

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:  # type: ignore[override]
        person, token_digest = self.person_of(request)
        lock = self._locks.setdefault(person.name, asyncio.Lock())
        async with lock:
            old = self.live.get(person.name)
            if old is not None:
                await self._end(old, "another tab took over")
            if len(self.live) >= self.max_sessions:
                raise web.HTTPServiceUnavailable(
                    text=f"503: {len(self.live)} sessions are open, the most this server allows; try again later.\n",
                    headers=_HEADERS)
            ws = web.WebSocketResponse(heartbeat=15)
            await ws.prepare(request)
            screen = _Screen(person.argv(self.dataset_path), Path.cwd(), write_bytes=ws.send_bytes,
                             write_str=ws.send_str, close=ws.close, download_manager=self.download_manager)
            live = _Live(person, token_digest, ws, screen, person.saved(self.dataset_path))
            self.live[person.name] = live
            try:
                await screen.start(to_int(request.query.get("width", "80"), 80), to_int(request.query.get("height", "24"), 24))
            except OSError as e:  # could not start the screen at all
                await self._end(live, f"the screen could not start: {e.strerror or e}")
                return ws
            self.say({"event": "connect", "person": person.name, "screen": person.screen, "pid": screen.pid,
                      "live": len(self.live)})
        reason = "closed the page"
        try:
            await self._messages(live)
            if live.screen.ended_itself and live.screen._process is not None:
                with contextlib.suppress(asyncio.TimeoutError):  # its exit code says how it ended
                    await asyncio.wait_for(asyncio.shield(live.screen._process.wait()), 10)
            reason = live.screen.stopped() or reason
        except Exception as e:  # a broken connection: the screen's labels are on disk already
            reason = f"connection lost ({type(e).__name__})"
        finally:
            await self._end(live, reason)
        return ws

    async def _messages(self, live: _Live) -> None:
        """textual-serve's browser protocol: ["stdin", text], ["resize", {width, height}], ["ping", x], blur, focus."""
        async for message in live.ws:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                kind, data = json.loads(message.data)[:2]
            except (ValueError, TypeError):
                continue  # not the page's protocol: ignored, never passed on
            if kind == "stdin" and isinstance(data, str):
                live.last_input = time.monotonic()
                await live.screen.send_bytes(data.encode("utf-8"))
            elif kind == "resize" and isinstance(data, dict):
                await live.screen.set_terminal_size(to_int(str(data.get("width")), 80), to_int(str(data.get("height")), 24))
            elif kind == "ping":
                await live.ws.send_json(["pong", data])
            elif kind == "blur":
                await live.screen.blur()
            elif kind == "focus":
                await live.screen.focus()

    async def _end(self, live: _Live, reason: str) -> None:
        """End one session once: quit its screen, close its page, say how many records it saved."""
        if live.ended:
            return
        live.ended = True
        if self.live.get(live.person.name) is live:
            del self.live[live.person.name]
        with contextlib.suppress(Exception):  # first, so the page is told why
            await live.ws.close(message=reason.encode()[:120])
        await live.screen.end()
        total = live.person.saved(self.dataset_path)
        self.say({"event": "disconnect", "person": live.person.name, "screen": live.person.screen, "reason": reason,
                  "saved": max(0, total - live.saved_before), "total": total,
                  "minutes": round((time.monotonic() - live.started) / 60, 1), "live": len(self.live)})

    async def _watch(self) -> None:
        """End idle sessions and sessions whose token was revoked (by `labeler serve --revoke` elsewhere)."""
        while True:
            await asyncio.sleep(self.check_every)
            with contextlib.suppress(Exception):
                self.tokens.reload()
            now = time.monotonic()
            for live in list(self.live.values()):
                if self.tokens.hashes.get(live.person.name) != live.digest:
                    await self._end(live, "link revoked")
                elif now - live.last_input > self.idle_seconds:
                    await self._end(live, f"idle for {self.idle_seconds / 60:g} min")

    # ------------------------------------------------------------ running

    async def run(self, on_ready: Callable[[str, int], None]) -> None:
        """Listen until SIGINT/SIGTERM; `on_ready(public_url, port)` once the port is bound (port 0 picks a free one)."""
        runner = web.AppRunner(await self._make_app(), access_log=None, handle_signals=False)
        await runner.setup()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        watch: asyncio.Task | None = None
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
            if self.port == 0:
                self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            if self.given_public_url is None:
                host = f"[{self.host}]" if ":" in self.host else self.host
                self.public_url = f"http://{host}:{self.port}"
            on_ready(self.public_url.rstrip("/"), self.port)
            watch = asyncio.create_task(self._watch())
            await stop.wait()
        finally:
            if watch is not None:
                watch.cancel()
            await asyncio.gather(*(self._end(live, "server stopped") for live in list(self.live.values())))
            await runner.cleanup()
