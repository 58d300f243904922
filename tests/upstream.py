"""A local fake upstream for the cassette tests (not the product's fake model).

A ``ThreadingHTTPServer`` on 127.0.0.1 (port 0) that speaks just enough of OpenAI Chat Completions,
OpenAI Responses and Anthropic Messages (plain JSON and SSE streams, tool calls when the request
offers ``tools``) for the official SDKs to parse its answers, plus a JSON echo endpoint for plain
HTTP clients. It counts what it served, so a test can prove a replay never reached it.

Every answer carries the upstream's request counter (``answer #N``), so two identical requests
get different answers and a replay can be checked for recorded order.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

ENV_VAR = "AGENTOPS_TEST_UPSTREAM"

# Token counts per API, distinct so a test can tell which call they came from.
CHAT_USAGE = {"prompt": 17, "completion": 9, "cached": 0}
RESPONSES_USAGE = {"input": 23, "output": 11, "cached": 0}
ANTHROPIC_USAGE = {"input": 31, "output": 13}

TOOL_ARGUMENTS = {"city": "Paris", "unit": "celsius"}
# Fixed pieces the tool-call arguments are streamed in (so a stream really has to be reassembled).
_ARG_TEXT = json.dumps(TOOL_ARGUMENTS, separators=(",", ":"))
_ARG_PIECES = [_ARG_TEXT[:5], _ARG_TEXT[5:14], _ARG_TEXT[14:]]

# Secrets the /v1/session endpoint hands out (in Set-Cookie and in its JSON body).
SESSION_COOKIE = "sid=sess_Q3v9LmT7xR2pK8wZ4nY6"
RESPONSE_ACCESS_TOKEN = "at_live_5d1e9a7c3b2f4e6a8c0d"
RESPONSE_OPENAI_KEY = "sk-proj-RespLeak7781abcdefGHIJKLmnop"


def _json_dumps(value: Any) -> str:
    # The wire form the real APIs use: compact JSON.
    return json.dumps(value, separators=(",", ":"))


def _last_user_text(messages: Any) -> str:
    if isinstance(messages, str):
        return messages
    for message in reversed(messages or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _tool_name(tools: Any) -> str | None:
    for tool in tools or []:
        if not isinstance(tool, dict):
            continue
        name = tool.get("name") or (tool.get("function") or {}).get("name")
        if isinstance(name, str):
            return name
    return None


# ---- OpenAI Chat Completions -------------------------------------------------------------------


def chat_usage() -> dict[str, Any]:
    prompt, completion = CHAT_USAGE["prompt"], CHAT_USAGE["completion"]
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": CHAT_USAGE["cached"], "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def chat_completion(body: dict[str, Any], n: int) -> dict[str, Any]:
    tool = _tool_name(body.get("tools"))
    if tool:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None,
            "refusal": None,
            "annotations": [],
            "tool_calls": [
                {"id": f"call_up{n}", "type": "function", "function": {"name": tool, "arguments": _ARG_TEXT}}
            ],
        }
        finish = "tool_calls"
    else:
        text = f"answer #{n}: {_last_user_text(body.get('messages'))}"
        message = {"role": "assistant", "content": text, "refusal": None, "annotations": []}
        finish = "stop"
    return {
        "id": f"chatcmpl-up{n:04d}",
        "object": "chat.completion",
        "created": 1741569952,
        "model": f"{body.get('model')}-2024-07-18",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": chat_usage(),
        "service_tier": "default",
        "system_fingerprint": "fp_upstream",
    }


def chat_chunks(body: dict[str, Any], n: int) -> list[dict[str, Any]]:
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    base = {
        "id": f"chatcmpl-up{n:04d}",
        "object": "chat.completion.chunk",
        "created": 1741569952,
        "model": f"{body.get('model')}-2024-07-18",
        "service_tier": "default",
        "system_fingerprint": "fp_upstream",
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        out = {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
        if include_usage:
            out["usage"] = None
        return out

    chunks = [chunk({"role": "assistant", "content": "", "refusal": None})]
    tool = _tool_name(body.get("tools"))
    if tool:
        chunks.append(
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": f"call_up{n}",
                            "type": "function",
                            "function": {"name": tool, "arguments": ""},
                        }
                    ]
                }
            )
        )
        for piece in _ARG_PIECES:
            chunks.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
        chunks.append(chunk({}, "tool_calls"))
    else:
        text = f"answer #{n}: {_last_user_text(body.get('messages'))}"
        for i in range(0, len(text), 8):
            chunks.append(chunk({"content": text[i : i + 8]}))
        chunks.append(chunk({}, "stop"))
    if include_usage:
        chunks.append({**base, "choices": [], "usage": chat_usage()})
    return chunks


def chat_sse(body: dict[str, Any], n: int) -> list[str]:
    return [f"data: {_json_dumps(c)}\n\n" for c in chat_chunks(body, n)] + ["data: [DONE]\n\n"]


# ---- OpenAI Responses --------------------------------------------------------------------------


def responses_usage() -> dict[str, Any]:
    i, o = RESPONSES_USAGE["input"], RESPONSES_USAGE["output"]
    return {
        "input_tokens": i,
        "input_tokens_details": {"cached_tokens": RESPONSES_USAGE["cached"], "cache_write_tokens": 0},
        "output_tokens": o,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": i + o,
    }


def _responses_output(body: dict[str, Any], n: int) -> list[dict[str, Any]]:
    tool = _tool_name(body.get("tools"))
    if tool:
        return [
            {
                "type": "function_call",
                "id": f"fc_up{n}",
                "call_id": f"call_up{n}",
                "name": tool,
                "arguments": _ARG_TEXT,
                "status": "completed",
            }
        ]
    text = f"answer #{n}: {_last_user_text(body.get('input'))}"
    return [
        {
            "type": "message",
            "id": f"msg_up{n}",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
        }
    ]


def response_object(body: dict[str, Any], n: int, *, done: bool = True) -> dict[str, Any]:
    tools = [
        {
            "type": "function",
            "name": t.get("name"),
            "description": t.get("description"),
            "parameters": t.get("parameters"),
            "strict": t.get("strict", True),
        }
        for t in body.get("tools") or []
        if isinstance(t, dict)
    ]
    return {
        "id": f"resp_up{n:04d}",
        "object": "response",
        "created_at": 1741476542,
        "status": "completed" if done else "in_progress",
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "model": f"{body.get('model')}-2025-04-14",
        "output": _responses_output(body, n) if done else [],
        "parallel_tool_calls": True,
        "temperature": 1.0,
        "tool_choice": "auto",
        "tools": tools,
        "top_p": 1.0,
        "usage": responses_usage() if done else None,
    }


def responses_events(body: dict[str, Any], n: int) -> list[dict[str, Any]]:
    pending = response_object(body, n, done=False)
    final = response_object(body, n)
    item = final["output"][0]
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": pending},
        {"type": "response.in_progress", "response": pending},
    ]
    ids = {"item_id": item["id"], "output_index": 0}
    if item["type"] == "function_call":
        events.append({"type": "response.output_item.added", "output_index": 0, "item": {**item, "arguments": ""}})
        for piece in _ARG_PIECES:
            events.append({"type": "response.function_call_arguments.delta", "delta": piece, **ids})
        events.append({"type": "response.function_call_arguments.done", "arguments": item["arguments"], **ids})
    else:
        text = item["content"][0]["text"]
        part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        events.append({"type": "response.output_item.added", "output_index": 0, "item": {**item, "content": []}})
        events.append({"type": "response.content_part.added", "content_index": 0, "part": part, **ids})
        for i in range(0, len(text), 8):
            events.append(
                {
                    "type": "response.output_text.delta",
                    "content_index": 0,
                    "delta": text[i : i + 8],
                    "logprobs": [],
                    **ids,
                }
            )
        events.append({"type": "response.output_text.done", "content_index": 0, "text": text, "logprobs": [], **ids})
        events.append({"type": "response.content_part.done", "content_index": 0, "part": item["content"][0], **ids})
    events.append({"type": "response.output_item.done", "output_index": 0, "item": item})
    events.append({"type": "response.completed", "response": final})
    return [{**event, "sequence_number": i} for i, event in enumerate(events)]


def responses_sse(body: dict[str, Any], n: int) -> list[str]:
    return [f"event: {e['type']}\ndata: {_json_dumps(e)}\n\n" for e in responses_events(body, n)]


# ---- Anthropic Messages ------------------------------------------------------------------------


def anthropic_usage(output_tokens: int | None = None) -> dict[str, Any]:
    return {
        "input_tokens": ANTHROPIC_USAGE["input"],
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": ANTHROPIC_USAGE["output"] if output_tokens is None else output_tokens,
        "service_tier": "standard",
    }


def anthropic_message(body: dict[str, Any], n: int) -> dict[str, Any]:
    tool = _tool_name(body.get("tools"))
    text = f"answer #{n}: {_last_user_text(body.get('messages'))}"
    content: list[dict[str, Any]] = [{"type": "text", "text": text}]
    if tool:
        content.append({"type": "tool_use", "id": f"toolu_up{n}", "name": tool, "input": dict(TOOL_ARGUMENTS)})
    return {
        "id": f"msg_up{n:04d}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model"),
        "content": content,
        "stop_reason": "tool_use" if tool else "end_turn",
        "stop_sequence": None,
        "usage": anthropic_usage(),
    }


def anthropic_events(body: dict[str, Any], n: int) -> list[dict[str, Any]]:
    message = anthropic_message(body, n)
    start = {**message, "content": [], "stop_reason": None, "usage": anthropic_usage(output_tokens=1)}
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}, {"type": "ping"}]
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            events.append(
                {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}
            )
            text = block["text"]
            for i in range(0, len(text), 8):
                events.append(
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "text_delta", "text": text[i : i + 8]},
                    }
                )
        else:
            events.append({"type": "content_block_start", "index": index, "content_block": {**block, "input": {}}})
            for piece in _ARG_PIECES:
                events.append(
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": piece},
                    }
                )
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": ANTHROPIC_USAGE["output"]},
        }
    )
    events.append({"type": "message_stop"})
    return events


def anthropic_sse(body: dict[str, Any], n: int) -> list[str]:
    return [f"event: {e['type']}\ndata: {_json_dumps(e)}\n\n" for e in anthropic_events(body, n)]


# ---- the server --------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: with Nagle on, each keep-alive answer waited for
    # the client's delayed ACK, 40 ms a request (the product's loopback servers set it too).
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _read_body(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = _json_dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-request-id", f"req_up{self.server.upstream.count}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_sse(self, events: list[str]) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("cache-control", "no-cache")
        self.end_headers()
        for event in events:
            data = event.encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def _handle(self) -> None:
        raw = self._read_body()
        parts = urlsplit(self.path)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        n = self.server.upstream.note(self.command, self.path, dict(self.headers.items()), body)
        path = parts.path
        failing = self.server.upstream.fail_status
        if failing is not None and not path.startswith("/echo"):
            self._send_json(failing, {"error": {"message": f"upstream broken ({failing})", "type": "server_error"}})
            return
        if path == "/hang":
            self.server.upstream.stopping.wait(60)
            self._send_json(504, {"error": "upstream stopped"})
            return
        if path == "/v1/session":
            self._send_json(
                200,
                {"access_token": RESPONSE_ACCESS_TOKEN, "note": f"your key is {RESPONSE_OPENAI_KEY}", "n": n},
                headers={"set-cookie": f"{SESSION_COOKIE}; Path=/; HttpOnly"},
            )
            return
        if path == "/echo-sse":  # the request back as a server-sent event stream
            payload = {"n": n, "query": dict(parse_qsl(parts.query)), "body": body}
            self._send_sse([f"data: {_json_dumps(payload)}\n\n", "data: [DONE]\n\n"])
            return
        if path == "/echo-binary":  # the raw body back inside bytes that are not UTF-8
            data = b"\xff\xfe" + raw + b"\x80" + parts.query.encode() + b"\x81"
            self.send_response(200)
            self.send_header("content-type", "application/octet-stream")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if path.startswith("/echo") or path == "/v1/echo":
            self._send_json(
                200,
                {
                    "n": n,
                    "method": self.command,
                    "path": path,
                    "query": dict(parse_qsl(parts.query)),
                    "body": body,
                },
            )
            return
        if self.command != "POST" or not isinstance(body, dict):
            self._send_json(404, {"error": {"message": f"no route {self.command} {path}", "type": "not_found"}})
            return
        stream = bool(body.get("stream"))
        if path.endswith("/chat/completions"):
            if stream:
                self._send_sse(chat_sse(body, n))
            else:
                self._send_json(200, chat_completion(body, n))
        elif path.endswith("/responses"):
            if stream:
                self._send_sse(responses_sse(body, n))
            else:
                self._send_json(200, response_object(body, n))
        elif path.endswith("/messages"):
            if stream:
                self._send_sse(anthropic_sse(body, n))
            else:
                self._send_json(200, anthropic_message(body, n))
        else:
            self._send_json(404, {"error": {"message": f"no route POST {path}", "type": "not_found"}})

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    upstream: Upstream


class Upstream:
    """The fake upstream; ``url`` is ``http://127.0.0.1:<port>``; ``count`` is requests served."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.upstream = self
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: list[dict[str, Any]] = []
        self.stopping = threading.Event()
        self.fail_status: int | None = None  # set: every model request gets this error status
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def count(self) -> int:
        return len(self.requests)

    def note(self, method: str, path: str, headers: dict[str, str], body: Any) -> int:
        with self._lock:
            self.requests.append({"method": method, "path": path, "headers": headers, "body": body})
            return len(self.requests)

    def paths(self) -> list[str]:
        return [r["path"] for r in self.requests]

    def start(self) -> Upstream:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket: a later connect is refused."""
        if self._thread is None:
            return
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        self._thread = None

    def __enter__(self) -> Upstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
