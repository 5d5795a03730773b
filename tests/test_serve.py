"""`labeler serve` started for real on a free loopback port and driven as a browser drives it:
its HTTP page, then textual-serve's websocket protocol (["stdin", keys], ["resize", ...]), with the
label files read back from disk."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import aiohttp
import pytest

from labeler.truth.logs import read_log

ROOT = Path(__file__).resolve().parent.parent
DS = "support-summary"
LABEL = {"212y": {"action_items": 2, "tone": 1, "no_hallucinated_resolution": 2, "under_80_words": "pass"},
         "001n": {"action_items": 0, "tone": 0, "no_hallucinated_resolution": 1, "under_80_words": "fail"}}


class Served:
    """`labeler serve ... --port 0 --json` in a subprocess; its JSON lines collected as they come."""

    def __init__(self, cwd: Path, *args: str, env: dict | None = None):
        self.cwd = cwd
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "labeler", "serve", DS, "--port", "0", "--json", *args], cwd=cwd,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
        self.events: queue.Queue = queue.Queue()
        self.seen: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.ready = self.next("ready", timeout=30)
        self.links = {n: v["url"] for n, v in self.ready["links"].items()}

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.events.put(json.loads(line))

    def next(self, kind: str, timeout: float = 20, **match) -> dict:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                e = self.events.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None and self.events.empty():
                    raise AssertionError(f"server exited {self.proc.returncode}: {self.proc.stderr.read()}")
                continue
            self.seen.append(e)
            if e["event"] == kind and all(e.get(k) == v for k, v in match.items()):
                return e
        raise AssertionError(f"no {kind} event {match} in {timeout}s; saw {self.seen}")

    def children(self) -> list[int]:
        """Processes the server started (its screens)."""
        out = []
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            out += [int(p) for p in (task / "children").read_text().split()]
        return out

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.stderr.read()  # type: ignore[union-attr]


@pytest.fixture
def serve(example: Path):
    started: list[Served] = []

    def start(*args: str, env: dict | None = None) -> Served:
        s = Served(example, *args, env=env)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


class Tab:
    """One browser tab: the page at a person's link, then its websocket."""

    def __init__(self, http: aiohttp.ClientSession, link: str):
        self.http, self.link = http, link
        self.received = 0
        self.closed = asyncio.Event()
        self.close_message = ""

    async def open(self, width: int = 110, height: int = 34) -> "Tab":
        async with self.http.get(self.link) as r:
            assert r.status == 200
            assert r.headers["Referrer-Policy"] == "no-referrer" and r.headers["Cache-Control"] == "no-store"
            self.html = await r.text()
        ws_url = re.search(r'data-session-websocket-url="([^"]+)"', self.html).group(1)
        self.ws = await self.http.ws_connect(f"{ws_url}?width={width}&height={height}")
        self.reader = asyncio.create_task(self._read())
        await self.ws.send_str(json.dumps(["resize", {"width": width, "height": height}]))
        await self.settled()
        return self

    async def _read(self) -> None:
        while True:
            m = await self.ws.receive()
            if m.type == aiohttp.WSMsgType.BINARY:
                self.received += len(m.data)
            elif m.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED,
                            aiohttp.WSMsgType.ERROR):
                self.close_message = m.extra if isinstance(m.extra, str) else ""
                break
        self.closed.set()

    async def settled(self, timeout: float = 30) -> None:
        """Wait until the screen has drawn and gone quiet (it reads keys from then on)."""
        deadline = time.time() + timeout
        last, quiet = -1, 0
        while time.time() < deadline and not self.closed.is_set():
            await asyncio.sleep(0.25)
            quiet = quiet + 1 if self.received == last and self.received > 2000 else 0
            last = self.received
            if quiet >= 3:
                return
        assert self.closed.is_set() or quiet >= 3, "the screen never drew"

    async def type(self, keys: str) -> None:
        for k in keys:
            await self.ws.send_str(json.dumps(["stdin", k]))
            await asyncio.sleep(0.12)

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.wait_for(self.closed.wait(), 10)


async def records(path: Path, n: int, timeout: float = 15) -> list[dict]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and len(read_log(path).records) >= n:
            break
        await asyncio.sleep(0.2)
    return [r for _, r in read_log(path).records] if path.exists() else []


async def test_a_link_opens_the_labeling_screen_and_keys_append_labels(serve, example: Path):
    s = serve("--annotator", "zed")
    token = s.links["zed"].rsplit("/", 1)[1]
    async with aiohttp.ClientSession() as http:
        tab = await Tab(http, s.links["zed"]).open()
        assert "label as zed" in tab.html
        assert s.next("connect", person="zed")["screen"] == "label"
        await tab.type("212y001n")
        got = await records(example / "datasets" / DS / "labels" / "zed.yaml", 2)
        assert [r["values"] for r in got] == [LABEL["212y"], LABEL["001n"]]
        await tab.close()
    gone = s.next("disconnect", person="zed")
    assert (gone["saved"], gone["total"]) == (2, 2)
    status = subprocess.run([sys.executable, "-m", "labeler", "status", DS, "--json"], cwd=example, capture_output=True,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert json.loads(status.stdout)["annotators"]["zed"]["current"] == 2
    err = s.stop()
    # the token is kept only as a hash, and no event or message repeats it
    cache = (example / "datasets" / DS / ".cache" / "serve" / "tokens.json").read_text()
    assert token not in cache and "zed" in cache
    assert token not in err and all(token not in json.dumps(e) for e in s.seen if e["event"] != "ready")
    assert (example / "datasets" / DS / ".cache" / ".gitignore").read_text().strip().endswith("*")


async def test_a_wrong_or_missing_token_gets_403_and_starts_nothing(serve, example: Path):
    s = serve("--annotator", "zed")
    base = s.ready["url"]
    wrong = s.links["zed"][:-3] + ("aaa" if not s.links["zed"].endswith("aaa") else "bbb")
    async with aiohttp.ClientSession() as http:
        for url in (base + "/", base + "/s/", wrong, base + "/s/zed", base + "/s/" + "A" * 43):
            async with http.get(url) as r:
                assert r.status in (403, 404), url
        for url in (wrong + "/ws", base + "/s//ws", base + "/s/zed/ws", base + "/ws"):
            with pytest.raises(aiohttp.WSServerHandshakeError) as e:
                await http.ws_connect(url.replace("http:", "ws:"))
            assert e.value.status in (403, 404)
        await asyncio.sleep(0.5)
    assert s.children() == []
    assert not any(e["event"] == "connect" for e in s.seen) and s.events.empty()
    assert not (example / "datasets" / DS / "labels" / "zed.yaml").exists()


async def test_a_revoked_link_stops_working_and_ends_its_session(serve, example: Path):
    s = serve("--annotator", "zed")
    async with aiohttp.ClientSession() as http:
        tab = await Tab(http, s.links["zed"]).open()
        await tab.type("212y")
        assert len(await records(example / "datasets" / DS / "labels" / "zed.yaml", 1)) == 1
        out = subprocess.run([sys.executable, "-m", "labeler", "serve", DS, "--revoke", "zed"], cwd=example,
                             capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert out.returncode == 0 and "zed: link revoked" in out.stdout
        await asyncio.wait_for(tab.closed.wait(), 15)
        assert s.next("disconnect", person="zed")["reason"] == "link revoked"
        async with http.get(s.links["zed"]) as r:
            assert r.status == 403
    assert s.children() == []
    assert len(read_log(example / "datasets" / DS / "labels" / "zed.yaml").records) == 1


async def test_two_annotators_at_once_write_only_their_own_files(serve, example: Path):
    labels = example / "datasets" / DS / "labels"
    before = {p.name: p.read_bytes() for p in labels.iterdir()}
    s = serve("--annotator", "zed", "--annotator", "yan")
    async with aiohttp.ClientSession() as http:
        zed, yan = await asyncio.gather(Tab(http, s.links["zed"]).open(), Tab(http, s.links["yan"]).open())
        await asyncio.gather(zed.type("212y212y"), yan.type("001n"))
        z, y = await asyncio.gather(records(labels / "zed.yaml", 2), records(labels / "yan.yaml", 1))
        assert [r["values"] for r in z] == [LABEL["212y"]] * 2 and [r["values"] for r in y] == [LABEL["001n"]]
        assert len(s.children()) == 2
    assert {p.name: p.read_bytes() for p in labels.iterdir() if p.name in before} == before


async def test_a_killed_session_loses_no_saved_label_and_the_link_resumes(serve, example: Path):
    path = example / "datasets" / DS / "labels" / "zed.yaml"
    s = serve("--annotator", "zed")
    async with aiohttp.ClientSession() as http:
        tab = await Tab(http, s.links["zed"]).open()
        pid = s.next("connect", person="zed")["pid"]
        await tab.type("212y001n2")  # two labels, then one key into a third case
        assert len(await records(path, 2)) == 2
        os.kill(pid, signal.SIGKILL)
        await asyncio.wait_for(tab.closed.wait(), 15)
        gone = s.next("disconnect", person="zed")
        assert gone["saved"] == 2 and gone["reason"] == "the screen was killed (signal 9)"
        read = read_log(path)
        assert len(read.records) == 2 and read.torn_tail is None
        again = await Tab(http, s.links["zed"]).open()  # the same link resumes where zed stopped
        await again.type("212y")
        got = await records(path, 3)
        assert len({r["case"] for r in got}) == 3


async def test_a_leads_link_opens_review_and_q_ends_the_session(serve, example: Path):
    path = example / "datasets" / DS / "adjudications" / "maya.yaml"
    before = len(read_log(path).records) if path.exists() else 0
    s = serve("--lead", "maya")
    async with aiohttp.ClientSession() as http:
        tab = await Tab(http, s.links["maya"]).open()
        assert "review as maya" in tab.html
        await tab.type("2")  # gold for the focused criterion of the worst disagreement
        assert len(await records(path, before + 1)) == before + 1
        await tab.type("q")
        await asyncio.wait_for(tab.closed.wait(), 15)
    gone = s.next("disconnect", person="maya")
    assert (gone["screen"], gone["reason"], gone["saved"]) == ("review", "quit the screen", 1)


async def test_a_name_with_shell_characters_is_one_argument_never_shell_code(serve, example: Path):
    name = "a;touch x"
    s = serve("--annotator", name)
    async with aiohttp.ClientSession() as http:
        tab = await Tab(http, s.links[name]).open()
        assert "label as a;touch x" in tab.html
        await tab.type("212y")
        assert len(await records(example / "datasets" / DS / "labels" / f"{name}.yaml", 1)) == 1
    assert not (example / "x").exists() and not Path("x").exists()


async def test_a_second_tab_takes_over_and_the_cap_holds(serve, example: Path):
    s = serve("--annotator", "zed", "--annotator", "yan", "--max-sessions", "1")
    async with aiohttp.ClientSession() as http:
        first = await Tab(http, s.links["zed"]).open()
        with pytest.raises(aiohttp.WSServerHandshakeError) as e:  # the cap: yan waits, nothing starts
            await Tab(http, s.links["yan"]).open()
        assert e.value.status == 503 and len(s.children()) == 1
        second = await Tab(http, s.links["zed"]).open()
        await asyncio.wait_for(first.closed.wait(), 10)
        assert first.close_message == "another tab took over"
        assert s.next("disconnect", person="zed")["reason"] == "another tab took over"
        await second.type("212y")
        assert len(await records(example / "datasets" / DS / "labels" / "zed.yaml", 1)) == 1
        assert len(s.children()) == 1


async def test_an_idle_session_ends_with_its_labels_on_disk(serve, example: Path):
    s = serve("--annotator", "zed", "--idle-minutes", "0.2")
    async with aiohttp.ClientSession() as http:
        tab = await Tab(http, s.links["zed"]).open()
        await tab.type("212y")
        await asyncio.wait_for(tab.closed.wait(), 30)
    gone = s.next("disconnect", person="zed")
    assert gone["reason"] == "idle for 0.2 min" and gone["saved"] == 1
    assert s.children() == []


async def test_behind_a_proxy_links_and_socket_use_the_public_url(serve, example: Path):
    s = serve("--annotator", "zed", "--host", "0.0.0.0", "--public-url", "https://labels.example.com/")
    assert s.links["zed"].startswith("https://labels.example.com/s/")
    local = s.links["zed"].replace("https://labels.example.com", f"http://127.0.0.1:{s.ready['port']}")
    async with aiohttp.ClientSession() as http:
        async with http.get(local) as r:
            html = await r.text()
    assert 'data-session-websocket-url="wss://labels.example.com/s/' in html
    err = s.stop()
    assert err.startswith("warning: serving on 0.0.0.0") and "TLS reverse proxy" in err


async def test_links_survive_a_restart_and_given_tokens_work(serve, example: Path):
    s = serve("--annotator", "zed")
    link = s.links["zed"]
    s.stop()
    again = serve("--annotator", "zed", "--lead", "maya")
    assert again.links["zed"] is None and again.links["maya"].startswith(again.ready["url"] + "/s/")
    old = link.replace(s.ready["url"], again.ready["url"])
    given = "g" * 30
    fixed = serve("--annotator", "zed", env={"LABELER_SERVE_TOKENS": f"zed={given}"})
    assert given not in json.dumps(fixed.ready)
    async with aiohttp.ClientSession() as http:
        async with http.get(old) as r:
            assert r.status == 200  # issued by the first run, still valid in the second
        async with http.get(again.links["maya"]) as r:
            assert "review as maya" in await r.text()
        async with http.get(f"{fixed.ready['url']}/s/{given}") as r:
            assert r.status == 200
        async with http.get(old.replace(again.ready["url"], fixed.ready["url"])) as r:
            assert r.status == 403  # given tokens replace the cache's


@pytest.mark.parametrize("args, env, message", [
    (["--annotator", "zed"], {"LABELER_SERVE_TOKENS": "zed=short"}, "LABELER_SERVE_TOKENS: zed's token must be at least 22"),
    (["--annotator", "zed", "--annotator", "yan"], {"LABELER_SERVE_TOKENS": "zed=" + "t" * 30}, "has no token for yan"),
    (["--annotator", "zed", "--lead", "zed"], {}, "zed is named twice"),
    ([], {}, "name who labels"),
    (["--annotator", "zed", "--public-url", "labels.example.com"], {}, "--public-url labels.example.com: give the address"),
])
def test_bad_serve_flags_are_one_line_and_exit_2(example: Path, args, env, message):
    out = subprocess.run([sys.executable, "-m", "labeler", "serve", DS, *args], cwd=example, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT), **env}, timeout=60)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and message in out.stderr, out.stderr


def test_without_the_extra_one_line_names_it(example: Path):
    code = ("import sys\nclass Block:\n    def find_spec(self, name, *a):\n"
            "        if name.split('.')[0] in ('textual_serve', 'aiohttp'): raise ImportError(name)\n"
            "sys.meta_path.insert(0, Block())\nfrom labeler.cli import main\n"
            f"sys.exit(main(['serve', {DS!r}, '--annotator', 'zed']))")
    out = subprocess.run([sys.executable, "-c", code], cwd=example, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert out.returncode == 1
    assert out.stderr == "error: `labeler serve` needs the serve extra: pip install 'labeler[serve]'\n"


def test_a_tokens_file_is_checked_line_by_line(example: Path):
    (example / "tokens.txt").write_text("# fixed links for the team\nzed = " + "z" * 30 + "\nyan=short\n")
    run = [sys.executable, "-m", "labeler", "serve", DS, "--annotator", "zed", "--annotator", "yan", "--tokens"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([*run, "tokens.txt"], cwd=example, capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 2 and out.stderr.startswith("error: tokens.txt:3: yan's token must be at least 22")
    out = subprocess.run([*run, "missing.txt"], cwd=example, capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 2 and out.stderr == "error: --tokens missing.txt: No such file or directory\n"
