"""A small OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks.

Speaks /v1/chat/completions, /v1/embeddings, /v1/files and /v1/batches. What it answers is steered by markers in
the prompt, so one run can mix behaviours: @@429@@ / @@500@@ (fail once, then answer),
@@429always@@ / @@500always@@, @@garbage@@ (never JSON), @@garbage_once@@ (JSON on the re-ask),
@@outside@@ (a value off the scale), @@short_embedding@@ (an embedding of another length), @@notjson_body@@ (a 200 reply whose body is not JSON), @@html@@ (a 200 HTML page),
@@hang@@ (never answers in time), @@pick0@@ (first allowed value), @@deep@@ (an answer nested 100,000 deep),
@@echo_key@@ (the bearer key in every rationale), @@echo_key_garbage@@ (the key in an invalid answer),
@@echo_key_401@@ (a 401 whose message quotes the key, as OpenAI's does).
Otherwise it answers every criterion with the last allowed value. It counts every call per prompt, and keeps
every request's user prompts (`prompts`) and bearer key (`keys`).
`structured`: True (json_schema), "json_object" (JSON mode only) or False; a refused response_format gets
`refuse` = (status, message). `models`: the model names served (others: 404, as vLLM and Ollama answer).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _embed(text: str, dim: int = 64) -> list[float]:
    """A deterministic embedding: hashed character trigrams (similar texts are near each other)."""
    v = [0.0] * dim
    s = " " + " ".join(text.lower().split()) + " "
    for k in range(max(0, len(s) - 2)):
        v[int(hashlib.md5(s[k:k + 3].encode()).hexdigest(), 16) % dim] += 1.0
    n = sum(x * x for x in v) ** 0.5 or 1.0
    return [x / n for x in v]


class FakeOpenAI:
    def __init__(self, criteria: dict[str, list[Any]] | None = None, structured: bool | str = True, delay: float = 0.0,
                 usage: bool = True, answerer=None, refuse: tuple[int, str] | None = None, models: set[str] | None = None):
        self.answerer = answerer
        """answerer(prompt, allowed) -> {criterion: value}: a judge with a mind of its own (pairwise tests)."""
        self.criteria = criteria or {}
        """criterion -> allowed values, for answers when the request carries no schema."""
        self.structured = structured
        self.refuse = refuse or (400, "response_format json_schema is not supported by this server")
        self.embed_refuse = refuse  # embeddings are refused only when asked
        self.models = models
        self.prompts: list[str] = []
        self.keys: list[str] = []
        self.formats: list[str] = []
        self.delay = delay
        self.usage = usage
        self.calls: Counter = Counter()
        self.total = 0
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.embedding_requests = 0
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> "FakeOpenAI":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # ---- answering

    def answer(self, body: dict, bearer: str = "") -> tuple[int, dict]:
        prompt = "\n".join(m.get("content") or "" for m in body.get("messages", []) if m.get("role") == "user")
        first_prompt = next((m.get("content") or "" for m in body.get("messages", []) if m.get("role") == "user"), "")
        key = hashlib.sha256(first_prompt.encode()).hexdigest()[:12]
        rf = body.get("response_format")
        with self.lock:
            self.calls[key] += 1
            self.total += 1
            n = self.calls[key]
            self.prompts.append(prompt)
            self.keys.append(bearer)
            self.formats.append(rf.get("type") if rf else "text")
        if self.delay:
            time.sleep(self.delay)
        if self.models is not None and body.get("model") not in self.models:
            return 404, {"error": {"message": f"model {body.get('model')!r} not found", "type": "not_found_error"}}
        refused = {True: (), "json_object": ("json_schema",), False: ("json_schema", "json_object")}[self.structured]
        if rf and rf.get("type") in refused:
            status, message = self.refuse
            return status, {"error": {"message": message, "type": "invalid_request_error"}}
        if "@@echo_key_401@@" in prompt:
            return 401, {"error": {"message": f"Incorrect API key provided: {bearer}", "type": "invalid_request_error"}}
        if "@@hang@@" in prompt:
            time.sleep(30)
        if "@@429always@@" in prompt or ("@@429@@" in prompt and n == 1):
            return 429, {"error": {"message": "rate limited", "type": "rate_limit"}}
        if "@@500always@@" in prompt or ("@@500@@" in prompt and n == 1):
            return 500, {"error": {"message": "boom", "type": "server_error"}}
        if rf and rf.get("type") == "json_schema" and self.structured is True:
            props = rf["json_schema"]["schema"]["properties"]
            allowed = {c: p["properties"]["value"]["enum"] for c, p in props.items()}
        else:
            allowed = self.criteria
        retry = len([m for m in body.get("messages", []) if m.get("role") == "user"]) > 1
        if "@@garbage@@" in prompt or ("@@garbage_once@@" in prompt and not retry):
            content = "I think it is pretty good {not json"
        elif "@@deep@@" in prompt:
            content = "[" * 100_000 + "]" * 100_000
        elif "@@echo_key_garbage@@" in prompt:
            content = f"I was called with {bearer}, not telling"
        else:
            pick = 0 if "@@pick0@@" in prompt else -1
            why = f"server picked {{}}" + (f" for {bearer}" if "@@echo_key@@" in prompt else "")
            values = {c: {"value": (7 if "@@outside@@" in prompt else vals[pick]), "rationale": why.format(vals[pick])}
                      for c, vals in allowed.items()}
            if self.answerer is not None:
                values = {c: {"value": v[0], "rationale": v[1]} if isinstance(v, tuple) else {"value": v, "rationale": f"server chose {v}"}
                          for c, v in self.answerer(prompt, allowed).items()}
            content = json.dumps(values)
        resp = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:8]}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        }
        if self.usage:
            resp["usage"] = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
        return 200, resp

    def run_batch(self, batch_id: str) -> None:
        b = self.batches[batch_id]
        lines = []
        for raw in self.files[b["input_file_id"]].decode().splitlines():
            if not raw.strip():
                continue
            req = json.loads(raw)
            status, body = self.answer(req["body"])
            lines.append(json.dumps({"id": f"resp-{uuid.uuid4().hex[:6]}", "custom_id": req["custom_id"],
                                     "response": {"status_code": status, "request_id": "r", "body": body}, "error": None}))
        out_id = f"file-{uuid.uuid4().hex[:8]}"
        self.files[out_id] = ("\n".join(lines) + "\n").encode()
        b.update(status="completed", output_file_id=out_id,
                 request_counts={"total": len(lines), "completed": len(lines), "failed": 0})

    # ---- HTTP

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real endpoints do
            disable_nagle_algorithm = True  # headers and body go out at once (no 40 ms delayed-ACK stalls)
            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, body: Any, raw: bytes | None = None) -> None:
                data = raw if raw is not None else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json" if raw is None else "application/octet-stream")
                    self.send_header("Content-Length", str(len(data)))
                    if status == 429:
                        self.send_header("Retry-After", "0")
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                if self.path.endswith("/chat/completions"):
                    req = json.loads(raw)
                    said = " ".join(m.get("content") or "" for m in req.get("messages", []))
                    if "@@notjson_body@@" in said or "@@html@@" in said:
                        # a 200 whose body is not JSON at all (a proxy's page, a web UI at the wrong path)
                        data = (b"<html>upstream proxy error</html>" if "@@notjson_body@@" in said else
                                b"<!DOCTYPE html>\n<html><head><title>\x1b]0;pwned\x07LM Studio</title></head><body>hi</body></html>")
                        self.send_response(200)
                        self.send_header("Content-Type", "application/json" if "@@notjson_body@@" in said else "text/html")
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        self.wfile.write(data)
                        return None
                    bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    status, body = server.answer(req, bearer)
                    return self._send(status, body)
                if self.path.endswith("/embeddings"):
                    req = json.loads(raw)
                    if server.embed_refuse:  # `{key}` in the message: the endpoint echoes the bearer key, as OpenAI's 401 does
                        status, message = server.embed_refuse
                        bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
                        return self._send(status, {"error": {"message": message.replace("{key}", bearer),
                                                             "type": "invalid_request_error"}})
                    texts = req["input"] if isinstance(req["input"], list) else [req["input"]]
                    with server.lock:
                        server.embedding_requests += 1
                    # @@short_embedding@@: a vector of another length than the others (a broken endpoint)
                    data = [{"object": "embedding", "index": i, "embedding": _embed(t, 3 if "@@short_embedding@@" in t else 64)}
                            for i, t in enumerate(texts)]
                    return self._send(200, {"object": "list", "data": data, "model": req.get("model", "fake-embed"),
                                            "usage": {"prompt_tokens": 1, "total_tokens": 1}})
                if self.path.endswith("/files"):
                    m = re.search(rb'name="file"; filename="[^"]*"\r\n(?:[^\r\n]+\r\n)*\r\n(.*?)\r\n--', raw, re.S)
                    fid = f"file-{uuid.uuid4().hex[:8]}"
                    server.files[fid] = m.group(1) if m else b""
                    return self._send(200, {"id": fid, "object": "file", "bytes": len(server.files[fid]), "created_at": 0,
                                            "filename": "batch.jsonl", "purpose": "batch", "status": "processed"})
                if self.path.endswith("/batches"):
                    req = json.loads(raw)
                    bid = f"batch_{uuid.uuid4().hex[:8]}"
                    server.batches[bid] = {"id": bid, "object": "batch", "endpoint": req["endpoint"], "errors": None,
                                           "input_file_id": req["input_file_id"], "completion_window": req["completion_window"],
                                           "status": "validating", "output_file_id": None, "error_file_id": None,
                                           "created_at": int(time.time()), "request_counts": {"total": 0, "completed": 0, "failed": 0}}
                    return self._send(200, server.batches[bid])
                self._send(404, {"error": {"message": f"no route {self.path}"}})

            def do_GET(self) -> None:
                m = re.search(r"/batches/([^/]+)$", self.path)
                if m and m.group(1) in server.batches:
                    b = server.batches[m.group(1)]
                    if b["status"] == "validating":
                        b["status"] = "in_progress"
                    elif b["status"] == "in_progress":
                        server.run_batch(b["id"])
                    return self._send(200, b)
                m = re.search(r"/files/([^/]+)/content$", self.path)
                if m and m.group(1) in server.files:
                    return self._send(200, None, raw=server.files[m.group(1)])
                self._send(404, {"error": {"message": f"no route {self.path}"}})

        return Handler


if __name__ == "__main__":  # serve from its own process (benchmarks): prints the base URL, runs until killed
    import sys

    with FakeOpenAI(delay=float(sys.argv[1]) if len(sys.argv) > 1 else 0.0) as srv:
        print(srv.base_url, flush=True)
        threading.Event().wait()
