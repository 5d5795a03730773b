"""Two people label the shipped example from two real browsers through `labeler serve`.

Copies datasets/ and rubrics/ to a temporary folder (the working tree is never touched), starts
`labeler serve support-summary --annotator dora --annotator eli`, opens each link in its own
headless Chromium (Debian's `chromium` package), types a few labels through the page as a person
would (Chrome DevTools protocol: real key events into xterm.js), and saves a screenshot per
browser. Needs the serve extra (`pip install 'labeler[serve]'`; aiohttp also drives Chromium here).

    python examples/serve_in_a_browser.py [--out DIR] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"dora": "212y001n222y", "eli": "121n"}
"""Per person: a value per criterion, then y/n for the pass/fail one; each group of four saves a label."""


class Browser:
    """One headless Chromium with its own profile, driven over the DevTools protocol."""

    def __init__(self, exe: str, size: tuple[int, int]):
        self.profile = tempfile.mkdtemp(prefix="labeler-chromium-")
        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={self.profile}", f"--window-size={size[0]},{size[1]}", "--remote-debugging-port=0",
             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.ids = itertools.count(1)

    async def connect(self, http: aiohttp.ClientSession) -> None:
        for line in self.proc.stderr:  # type: ignore[union-attr]
            m = re.search(r"DevTools listening on ws://([^/]+)/", line)
            if m:
                break
        else:
            raise SystemExit("chromium did not start: is the `chromium` package installed?")
        async with http.get(f"http://{m.group(1)}/json/list") as r:
            page = next(t for t in await r.json() if t["type"] == "page")
        self.ws = await http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)

    async def call(self, method: str, **params) -> dict:
        n = next(self.ids)
        await self.ws.send_json({"id": n, "method": method, "params": params})
        while True:
            msg = await self.ws.receive_json()
            if msg.get("id") == n:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    async def evaluate(self, js: str):
        return (await self.call("Runtime.evaluate", expression=js, returnByValue=True))["result"].get("value")

    async def open(self, url: str) -> None:
        await self.call("Page.enable")
        await self.call("Page.navigate", url=url)
        deadline = time.time() + 60
        while not await self.evaluate("document.body && document.body.classList.contains('-first-byte')"):
            if time.time() > deadline:
                raise SystemExit(f"the page never showed the screen: {url.split('/s/')[0]}")
            await asyncio.sleep(0.3)
        await asyncio.sleep(2.5)  # the first screen finishes drawing
        await self.evaluate("document.querySelector('.xterm-helper-textarea').focus()")

    async def type(self, keys: str) -> None:
        for k in keys:
            code = f"Digit{k}" if k.isdigit() else f"Key{k.upper()}"
            common = dict(key=k, code=code, windowsVirtualKeyCode=ord(k.upper()))
            await self.call("Input.dispatchKeyEvent", type="keyDown", text=k, **common)
            await self.call("Input.dispatchKeyEvent", type="keyUp", **common)
            await asyncio.sleep(0.25)

    async def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode((await self.call("Page.captureScreenshot", format="png"))["data"]))

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)


def count(path: Path) -> int:
    return sum(1 for line in path.read_text().splitlines() if line.startswith("- ")) if path.exists() else 0


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out", help="where the screenshots go")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="labeler-serve-"))
    for part in ("datasets", "rubrics"):
        shutil.copytree(ROOT / part, work / part, ignore=shutil.ignore_patterns(".cache"))
    server = subprocess.Popen([sys.executable, "-m", "labeler", "serve", "support-summary", "--annotator", "dora",
                               "--annotator", "eli", "--port", "0", "--json"], cwd=work, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    browsers: list[Browser] = []
    try:
        ready = json.loads(server.stdout.readline())  # type: ignore[union-attr]
        links = {name: v["url"] for name, v in ready["links"].items()}
        print(f"serving on {ready['url']}; two browsers, one link each")
        async with aiohttp.ClientSession() as http:
            browsers = [Browser(a.chromium, (1200, 800)) for _ in links]
            for b in browsers:
                await b.connect(http)
            await asyncio.gather(*(b.open(links[name]) for b, name in zip(browsers, links)))
            await asyncio.gather(*(b.type(KEYS[name]) for b, name in zip(browsers, links)))
            await asyncio.sleep(2)
            for b, name in zip(browsers, links):
                shot = a.out / f"serve-{name}.png"
                await b.screenshot(shot)
                saved = count(work / "datasets" / "support-summary" / "labels" / f"{name}.yaml")
                print(f"{name}: {saved} labels saved from the browser (expected {len(KEYS[name]) // 4}); screenshot {shot}")
                if saved != len(KEYS[name]) // 4:
                    return 1
        return 0
    finally:
        for b in browsers:
            b.close()
        server.terminate()
        server.wait(20)
        for line in server.stdout:  # type: ignore[union-attr]
            e = json.loads(line)
            if e["event"] == "disconnect":
                print(f"server: {e['person']} disconnected ({e['reason']}), {e['saved']} labels saved this session")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
