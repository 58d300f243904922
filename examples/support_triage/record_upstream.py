"""A scripted stand-in for api.openai.com, used once to record this example's cassettes.

This machine has no internet, so the cassettes in ``cassettes/examples/`` were recorded against
this server instead of the real API::

    python examples/support_triage/record_upstream.py 8765 &
    pytest examples --agent-record=all --agent-staging openai=http://127.0.0.1:8765

``--agent-staging`` sends the traffic here while the cassette keeps the real URL, so replay needs
no server at all. With an API key and network, drop ``--agent-staging`` to record the real model.
"""

from __future__ import annotations

import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def _tokens(text: str) -> int:
    return max(1, len(text.split()))


def _label(ticket: str) -> str:
    lowered = ticket.lower()
    if "refund" in lowered or "charged twice" in lowered:
        return "refund"
    if "password" in lowered:
        return "password_reset"
    if any(word in lowered for word in ("terrible", "unacceptable", "angry")):
        return "complaint"
    return "other"


def _prompt_tokens(messages: list[dict[str, Any]]) -> int:
    return sum(_tokens(json.dumps(m.get("content") or "")) for m in messages)


def classify(body: dict[str, Any]) -> dict[str, Any]:
    label = _label(body["messages"][-1]["content"])
    prompt = _prompt_tokens(body["messages"])
    return {
        "id": "chatcmpl-rec-classify",
        "object": "chat.completion",
        "created": 1764046800,
        "model": body["model"] + "-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": label, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": 1,
            "total_tokens": prompt + 1,
            "prompt_tokens_details": {"cached_tokens": 0},
        },
    }


def draft_chunks(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages = body["messages"]
    base = {"id": "chatcmpl-rec-draft", "object": "chat.completion.chunk", "created": 1764046801}
    base["model"] = body["model"] + "-2024-08-06"
    chunks: list[dict[str, Any]] = []

    def chunk(delta: dict[str, Any], finish: str | None = None) -> None:
        chunks.append({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    if messages[-1]["role"] == "tool":
        customer = json.loads(messages[-1]["content"])
        category = messages[1]["content"].split("]")[0].strip("[")
        reply = {
            "refund": f"Hi {customer.get('name', 'there')}, I have started a refund for your duplicate charge.",
            "password_reset": f"Hi {customer.get('name', 'there')}, I have sent you a password reset link.",
            "complaint": "I am sorry about your experience; a senior agent will contact you today.",
        }.get(category, "Thanks for reaching out; we will get back to you shortly.")
        chunk({"role": "assistant", "content": ""})
        for word in reply.split(" "):
            chunk({"content": word + " "})
        chunk({}, "stop")
        completion = _tokens(reply)
    else:
        email = (EMAIL.findall(messages[1]["content"]) or ["unknown@example.com"])[0]
        args = json.dumps({"email": email})
        call = {"index": 0, "id": "call_lookup_1", "type": "function", "function": {"name": "lookup_customer"}}
        first = {**call, "function": {**call["function"], "arguments": ""}}
        chunk({"role": "assistant", "content": None, "tool_calls": [first]})
        for part in (args[: len(args) // 2], args[len(args) // 2 :]):
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": part}}]})
        chunk({}, "tool_calls")
        completion = 12
    prompt = _prompt_tokens(messages)
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    chunks.append({**base, "choices": [], "usage": usage})
    return chunks


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        if not self.path.endswith("/chat/completions"):
            self.send_error(404)
            return
        if body.get("stream"):
            payload = "".join(f"data: {json.dumps(c, separators=(',', ':'))}\n\n" for c in draft_chunks(body))
            data = (payload + "data: [DONE]\n\n").encode()
            content_type = "text/event-stream; charset=utf-8"
        else:
            data = json.dumps(classify(body), indent=2).encode()
            content_type = "application/json"
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.send_header("x-request-id", "req_recorded")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
