"""The ``agentops`` command: ls, show, diff, audit, import, and its errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import forkrun
import pytest

from pytest_agentops.cassette.format import Cassette, build_meta, dump
from pytest_agentops.cassette.secrets.placeholder import normalise
from pytest_agentops.cli import main

OPENAI = "https://api.openai.com/v1/chat/completions"
ANTHROPIC = "https://api.anthropic.com/v1/messages"
CRM = "https://crm.example.com/crm/v3/objects/contacts"

# ---- building cassettes ------------------------------------------------------------------------

CRM_TOOL = {
    "type": "function",
    "function": {
        "name": "crm_lookup",
        "description": "Find a contact",
        "parameters": {"type": "object", "properties": {"contact_id": {"type": "string"}}},
    },
}


def chat_request(system: str = "You are a support triage agent.", user: str = "Where is order 42?", **extra: Any):
    body = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        "tools": [CRM_TOOL],
        **extra,
    }
    return {
        "method": "POST",
        "url": OPENAI,
        "headers": {"authorization": "<redacted:authorization>"},
        "body": {"json": body},
    }


def chat_json_response(text: str = "Order 42 ships tomorrow.", prompt_tokens: int = 31, completion_tokens: int = 9):
    body = {
        "id": "chatcmpl-9xYzAbC123def456GHI",
        "object": "chat.completion",
        "created": 1714567890,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens},
        "system_fingerprint": "fp_0ba0d124f1",
    }
    return {
        "status": 200,
        "reason": "OK",
        "headers": {"content-type": "application/json", "x-request-id": "req_8f1c2d3e4f5a6b7c"},
        "body": {"json": body, "style": "compact"},
    }


def chat_sse_response(pieces: list[str], arguments: list[str] | None = None, tool: str = "crm_lookup"):
    """A streamed chat completion: text split over chunks, optionally one tool call split too."""
    chunks: list[dict[str, Any]] = []
    base = {"id": "chatcmpl-AbC123", "object": "chat.completion.chunk", "created": 1714567890, "model": "gpt-4o-mini"}
    for piece in pieces:
        chunks.append({**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
    for n, fragment in enumerate(arguments or []):
        call: dict[str, Any] = {"index": 0, "function": {"arguments": fragment}}
        if n == 0:
            call.update(id="call_Q1w2E3r4", type="function")
            call["function"]["name"] = tool
        chunks.append({**base, "choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": None}]})
    finish = "tool_calls" if arguments else "stop"
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    chunks.append({**base, "choices": [], "usage": {"prompt_tokens": 120, "completion_tokens": 17}})
    return {
        "status": 200,
        "reason": "OK",
        "headers": {"content-type": "text/event-stream; charset=utf-8"},
        "body": {"sse": [{"data": c} for c in chunks] + [{"data": "[DONE]"}]},
    }


def anthropic_stream(pieces: list[str]):
    events = [
        {
            "event": "message_start",
            "data": {
                "type": "message_start",
                "message": {
                    "id": "msg_01XyZ",
                    "model": "claude-sonnet-4-20250514",
                    "usage": {"input_tokens": 40, "output_tokens": 1},
                },
            },
        },
        {
            "event": "content_block_start",
            "data": {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        },
    ]
    for piece in pieces:
        events.append(
            {
                "event": "content_block_delta",
                "data": {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}},
            }
        )
    events += [
        {"event": "content_block_stop", "data": {"type": "content_block_stop", "index": 0}},
        {
            "event": "message_delta",
            "data": {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 22}},
        },
        {"event": "message_stop", "data": {"type": "message_stop"}},
    ]
    request = {
        "method": "POST",
        "url": ANTHROPIC,
        "headers": {"x-api-key": "<redacted:x-api-key>", "anthropic-version": "2023-06-01"},
        "body": {
            "json": {
                "model": "claude-sonnet-4-20250514",
                "system": "Classify the ticket.",
                "messages": [{"role": "user", "content": [{"type": "text", "text": "My invoice is wrong"}]}],
                "stream": True,
                "max_tokens": 256,
            }
        },
    }
    response = {
        "status": 200,
        "reason": "OK",
        "headers": {"content-type": "text/event-stream"},
        "body": {"sse": events},
    }
    return {"kind": "model", "request": request, "response": response}


def crm_call(contact: dict[str, Any] | None = None, url: str = CRM + "/501"):
    return {
        "kind": "tool",
        "request": {"method": "GET", "url": url, "headers": {"accept": "application/json"}, "body": None},
        "response": {
            "status": 200,
            "reason": "OK",
            "headers": {"content-type": "application/json", "date": "Wed, 01 May 2024 12:34:56 GMT"},
            "body": {
                "json": contact
                or {
                    "id": "501",
                    "properties": {"firstname": "Ada", "lifecyclestage": "customer"},
                    "createdAt": "2024-05-01T12:34:56.789Z",
                    "updatedAt": "2024-05-02T08:00:00Z",
                    "archived": False,
                },
                "style": "compact",
            },
        },
    }


def model_call(request: dict[str, Any] | None = None, response: dict[str, Any] | None = None):
    return {"kind": "model", "request": request or chat_request(), "response": response or chat_json_response()}


def write(path: Path, interactions: list[dict[str, Any]], **meta: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"version": 1, "meta": {**build_meta(interactions), **meta}, "interactions": interactions}
    path.write_text(dump(document))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def agent_cassettes(tmp_path: Path) -> Path:
    root = tmp_path / "cassettes"
    write(
        root / "tests" / "test_triage" / "test_order.json",
        [model_call(), crm_call(), model_call(response=chat_json_response("Done.", 50, 4))],
        recorded_at="2024-05-01T12:00:00+00:00",
    )
    write(root / "tests" / "test_triage" / "test_classify.json", [anthropic_stream(["Bill", "ing"])])
    return root


# ---- ls ----------------------------------------------------------------------------------------


def test_ls_one_line_per_cassette_with_counts_models_tokens(capsys, agent_cassettes):
    code, out, err = run(capsys, "cassettes", "ls", str(agent_cassettes))
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 2
    classify, order = lines  # sorted by path
    assert classify.startswith(str(agent_cassettes / "tests/test_triage/test_classify.json"))
    assert "1 interactions (1 model, 0 tool)" in classify
    assert "models: claude-sonnet-4-20250514" in classify
    assert "tokens: 40 in / 22 out" in classify  # usage from the stream's message_start + message_delta
    assert "3 interactions (2 model, 1 tool)" in order
    assert "models: gpt-4o-mini-2024-07-18" in order
    assert "tokens: 81 in / 13 out" in order
    assert "recorded: 2024-05-01T12:00:00+00:00" in order


def test_ls_json(capsys, agent_cassettes):
    code, out, _ = run(capsys, "cassettes", "ls", "--json", str(agent_cassettes))
    assert code == 0
    rows = {Path(row["path"]).name: row for row in json.loads(out)}
    assert rows["test_order.json"] == {
        "path": str(agent_cassettes / "tests/test_triage/test_order.json"),
        "interactions": 3,
        "model_calls": 2,
        "tool_calls": 1,
        "models": ["gpt-4o-mini-2024-07-18"],
        "input_tokens": 81,
        "output_tokens": 13,
        "recorded_at": "2024-05-01T12:00:00+00:00",
    }
    assert rows["test_classify.json"]["input_tokens"] == 40


def test_ls_defaults_to_cassettes_dir(capsys, agent_cassettes, monkeypatch):
    monkeypatch.chdir(agent_cassettes.parent)
    code, out, _ = run(capsys, "cassettes", "ls")
    assert code == 0
    assert "cassettes/tests/test_triage/test_order.json" in out


def test_ls_empty_and_missing_dir(capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    code, out, err = run(capsys, "cassettes", "ls", str(tmp_path / "empty"))
    assert (code, out) == (0, "")
    assert "no cassettes" in err
    code, _, err = run(capsys, "cassettes", "ls", str(tmp_path / "nope"))
    assert code == 2
    assert "nope: no such file or directory" in err


def test_ls_reports_a_broken_cassette_and_lists_the_rest(capsys, agent_cassettes):
    (agent_cassettes / "broken.json").write_text("{not json")
    code, out, err = run(capsys, "cassettes", "ls", str(agent_cassettes))
    assert code == 2
    assert len(out.splitlines()) == 2
    assert f"cassette {agent_cassettes / 'broken.json'}: not valid JSON at line 1" in err


# ---- show --------------------------------------------------------------------------------------


def test_show_prints_prompts_answers_and_usage(capsys, agent_cassettes):
    path = agent_cassettes / "tests/test_triage/test_order.json"
    code, out, _ = run(capsys, "cassettes", "show", str(path))
    assert code == 0
    assert "[0] POST https://api.openai.com/v1/chat/completions -> 200 OK  (model)" in out
    assert "model: gpt-4o-mini-2024-07-18  (openai.chat)" in out
    assert "tools offered: crm_lookup" in out
    assert "    system: You are a support triage agent." in out
    assert "    user: Where is order 42?" in out
    assert "  answer: Order 42 ships tomorrow." in out
    assert "usage: 31 input / 9 output tokens" in out
    assert "[1] GET https://crm.example.com/crm/v3/objects/contacts/501 -> 200 OK  (tool)" in out
    assert '"firstname": "Ada"' in out
    assert "[2] POST" in out and "answer: Done." in out


def test_show_reassembles_streams_and_tool_calls(capsys, tmp_path):
    stream = model_call(
        chat_request(stream=True),
        chat_sse_response(["Let me ", "look that ", "up."], ['{"contact', '_id": "5', '01"}']),
    )
    path = write(tmp_path / "c.json", [stream, anthropic_stream(["Bill", "ing ", "issue"])])
    code, out, _ = run(capsys, "cassettes", "show", str(path))
    assert code == 0
    assert "(openai.chat, streamed)" in out
    assert "answer: Let me look that up." in out
    assert 'crm_lookup({"contact_id": "501"})  [call_Q1w2E3r4]' in out
    assert "stop reason: tool_calls" in out
    assert "usage: 120 input / 17 output tokens" in out
    assert "system: Classify the ticket." in out
    assert "user: My invoice is wrong" in out
    assert "answer: Billing issue" in out
    assert "usage: 40 input / 22 output tokens" in out


def test_show_index_and_truncation(capsys, tmp_path):
    long_prompt = "x" * 1000
    path = write(tmp_path / "c.json", [crm_call(), model_call(chat_request(user=long_prompt))])
    code, out, _ = run(capsys, "cassettes", "show", str(path), "--index", "1")
    assert code == 0
    assert "[1] POST" in out and "[0] GET" not in out
    assert "x" * 300 + "... [+700 chars]" in out
    code, out, _ = run(capsys, "cassettes", "show", str(path), "-i", "-1", "--full")
    assert "x" * 1000 in out and "chars]" not in out
    code, out, err = run(capsys, "cassettes", "show", str(path), "--index", "5")
    assert code == 2
    assert out == ""
    assert err.strip() == f"agentops: error: cassette {path}: has no interaction 5 (it holds 2: 0..1)"


# ---- diff --------------------------------------------------------------------------------------


def test_diff_identical_cassettes_exit_0(capsys, tmp_path):
    a = write(tmp_path / "a.json", [model_call(), crm_call()], recorded_at="2024-01-01T00:00:00+00:00")
    # Re-recorded: new response ids, timestamps and recorded_at, same content: not a difference.
    response = chat_json_response()
    response["body"]["json"].update(id="chatcmpl-other", created=1800000000)
    b = write(tmp_path / "b.json", [model_call(response=response), crm_call()], recorded_at="2025-01-01T00:00:00+00:00")
    assert run(capsys, "cassettes", "diff", str(a), str(b)) == (0, "", "")


def test_diff_changed_prompt(capsys, tmp_path):
    a = write(tmp_path / "a.json", [model_call(), crm_call()])
    b = write(tmp_path / "b.json", [model_call(chat_request(system="You are a careful support agent.")), crm_call()])
    code, out, _ = run(capsys, "cassettes", "diff", str(a), str(b))
    assert code == 1
    assert f"--- {a}\n+++ {b}\n" in out
    assert "interactions[0] POST https://api.openai.com/v1/chat/completions (model):" in out
    assert (
        "  request: messages[0].content changed at char 10: 'You are a support triage agent.' -> 'You are a careful"
        in out
    )
    assert "meta: system prompt changed (sha256:" in out
    assert "interactions[1]" not in out  # the unchanged tool call is not mentioned


def test_diff_changed_tool_schema(capsys, tmp_path):
    a = write(tmp_path / "a.json", [model_call()])
    tool = json.loads(json.dumps(CRM_TOOL))
    tool["function"]["parameters"]["properties"]["email"] = {"type": "string"}
    request = chat_request()
    request["body"]["json"]["tools"] = [tool]
    b = write(tmp_path / "b.json", [model_call(request)])
    code, out, _ = run(capsys, "cassettes", "diff", str(a), str(b))
    assert code == 1
    assert "meta: tool schema of crm_lookup changed" in out
    assert 'request: tools[0].function.parameters.properties.email added: {"type": "string"}' in out


def test_diff_answers_tool_calls_status_and_added_removed(capsys, tmp_path):
    old_stream = chat_sse_response(["Order 42 ", "ships ", "tomorrow."], ['{"contact_id": "501"}'])
    new_stream = chat_sse_response(["Order 42 ", "is ", "delayed."], ['{"contact_id":', ' "777"}'])
    a = write(tmp_path / "a.json", [model_call(response=old_stream), crm_call(), crm_call(url=CRM + "/9")])
    failed = crm_call()
    failed["response"]["status"] = 503
    b = write(
        tmp_path / "b.json",
        [model_call(response=new_stream), failed, model_call(response=chat_json_response("ok"))],
    )
    code, out, _ = run(capsys, "cassettes", "diff", str(a), str(b))
    assert code == 1, out
    assert "interactions: 3 -> 3" not in out
    assert "response: answer changed at char 9: 'Order 42 ships tomorrow.' -> 'Order 42 is delayed.'" in out
    assert "response: tool_calls[0].arguments.contact_id changed at char 0: '501' -> '777'" in out
    assert "response: status changed: 200 -> 503" in out
    assert f"interactions[2] removed: GET {CRM}/9 -> 200 (tool)" in out
    assert f"interactions[2] added: POST {OPENAI} -> 200 (model)" in out


def test_diff_inserted_interaction_does_not_shift_pairs(capsys, tmp_path):
    a = write(tmp_path / "a.json", [model_call(), crm_call()])
    b = write(tmp_path / "b.json", [crm_call(url=CRM + "/1"), model_call(), crm_call()])
    code, out, _ = run(capsys, "cassettes", "diff", str(a), str(b))
    assert code == 1
    assert out.splitlines()[2:] == ["interactions: 2 -> 3", f"interactions[0] added: GET {CRM}/1 -> 200 (tool)"]


# ---- audit -------------------------------------------------------------------------------------

OPENAI_KEY = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"
STRIPE_KEY = "sk_live_51HxYzAbCdEfGh12345678"


def leaky_cassette(path: Path) -> Path:
    stream = chat_sse_response(
        ["Your card ", "4242 4242 4242 4242", " is on file; we emailed ", "jane.d", "oe@mail.acme.io", "."],
        ['{"email": "ada', '@acme.io"}'],
    )
    stream["body"]["sse"][2]["data"]["note"] = f"debug key {OPENAI_KEY}"
    request = chat_request(user="Call me on +44 20 7946 0958 or (415) 555-0100, SSN 078-05-1120.")
    request["headers"] = {"authorization": f"Bearer {OPENAI_KEY}"}
    tool = crm_call(
        {
            "id": "501",
            "iban": "GB82 WEST 1234 5698 7654 32",
            "password": "hunter2-hunter2",
            "contact": "ada@acme.io",
        },
        url=CRM + "/501?api_key=abcdef0123456789&email=bob%40acme.dev",
    )
    tool["request"]["headers"]["x-api-key"] = "live-9f8e7d6c5b4a"
    tool["response"]["headers"]["set-cookie"] = ["a=<redacted:set-cookie>", "session=s3cr3tcookievalue"]
    form = {
        "kind": "tool",
        "request": {
            "method": "POST",
            "url": "https://api.stripe.com/v1/refunds",
            "headers": {"authorization": "Bearer <redacted:bearer-token>"},
            "body": {"form": [["amount", "100"], ["metadata[note]", STRIPE_KEY]]},
        },
        "response": {"status": 200, "reason": "OK", "headers": {}, "body": {"text": "ok"}},
    }
    return write(path, [model_call(request, stream), tool, form])


def test_audit_finds_planted_secrets_and_pii_everywhere(capsys, tmp_path):
    path = leaky_cassette(tmp_path / "leaky.json")
    code, out, err = run(capsys, "cassettes", "audit", str(path))
    assert code == 1
    lines = set(out.splitlines())
    p = str(path)
    expected = {
        # headers
        f'{p}: interactions[0].request.headers.authorization: secret header authorization "Bearer sk-p**** (40 chars)"',
        f'{p}: interactions[1].request.headers.x-api-key: secret header x-api-key "live**** (17 chars)"',
        f'{p}: interactions[1].response.headers.set-cookie[1]: secret header set-cookie "sess**** (25 chars)"',
        # query
        f'{p}: interactions[1].request.url: secret query parameter api_key "abcd**** (16 chars)"',
        f'{p}: interactions[1].request.url: email "b***@acme.dev"',
        # request body (prompt)
        f'{p}: interactions[0].request.body.json.messages[1].content: phone number "+** ** **** 0958"',
        f'{p}: interactions[0].request.body.json.messages[1].content: phone number "(***) ***-0100"',
        f'{p}: interactions[0].request.body.json.messages[1].content: US SSN "***-**-1120"',
        # SSE events
        f"{p}: interactions[0].response.body.sse[1].data.choices[0].delta.content: "
        'credit card number "**** **** **** 4242"',
        f'{p}: interactions[0].response.body.sse[2].data.note: secret openai-key "sk-p**** (40 chars)"',
        f'{p}: interactions[0].response.body.sse[4].data.choices[0].delta.content: email "o***@mail.acme.io"',
        # split over events: found in the reassembled answer and tool-call arguments
        f'{p}: interactions[0].response.body (reassembled answer): email "j***@mail.acme.io"',
        f'{p}: interactions[0].response.body (reassembled tool_calls[0].arguments).email: email "a***@acme.io"',
        # JSON body
        f'{p}: interactions[1].response.body.json.iban: IBAN "GB****************5432"',
        f'{p}: interactions[1].response.body.json.password: secret field password "hun**** (15 chars)"',
        f'{p}: interactions[1].response.body.json.contact: email "a***@acme.io"',
        # form body
        f'{p}: interactions[2].request.body.form[1]: secret stripe-key "sk_l**** (30 chars)"',
    }
    assert expected <= lines, "\n".join(sorted(expected - lines))
    assert lines == expected, "\n".join(sorted(lines - expected))
    for secret in (OPENAI_KEY, STRIPE_KEY, "abcdef0123456789", "hunter2-hunter2", "s3cr3tcookievalue", "jane.doe"):
        assert secret not in out + err
    assert "4242 4242 4242 4242" not in out
    assert "audit: 7 secret(s) and 10 PII finding(s) in 1 of 1 file(s)" in err


def test_audit_allow_pii_still_fails_on_secrets(capsys, tmp_path):
    pii_only = crm_call({"email": "ada@acme.io", "phone": "+1 415 555 0100"})
    path = write(tmp_path / "pii.json", [pii_only])
    code, out, _ = run(capsys, "cassettes", "audit", str(path))
    assert code == 1 and "email" in out
    code, out, _ = run(capsys, "cassettes", "audit", "--allow-pii", str(path))
    assert code == 0
    assert f'{path}: interactions[0].response.body.json.email: email "a***@acme.io" (allowed: --allow-pii)' in out
    leaky = leaky_cassette(tmp_path / "leaky.json")
    code, _, _ = run(capsys, "cassettes", "audit", "--allow-pii", str(path), str(leaky))
    assert code == 1


def test_audit_clean_cassettes_no_false_positives(capsys, tmp_path, agent_cassettes):
    """Ids, timestamps, uuids, hashes, numbers and redaction markers are not findings."""
    noisy = crm_call(
        {
            "id": "chatcmpl-9xYzAbC1234567890123456",
            "msg": "msg_01A2B3C4D5E6F7G8H9",
            "uuid": "123e4567-e89b-12d3-a456-426614174000",
            "created": "2024-05-01T12:34:56.789+00:00",
            "created_ms": 1714567890123,
            "order_number": "1234567890123456",  # 16 digits failing Luhn
            "visa_like": "4111 1111 1111 1112",  # a card prefix, failing Luhn
            "big": 4111111111111112,
            "price": "4111.11",
            "version": "1.2.3",
            "sha": "sha256:0123456789abcdef0123456789abcdef",
            "icon": "logo@2x.png",
            "range": "100-200-3000",
            "date": "2024-05-01",
            "zip": "94107-1234",
            "text": "Use Bearer authentication; see RFC 6750.",
            "api_key": "<redacted:api_key>",
            "password": "",
            "tracking": "1Z999AA10123456784",
            "iban_like": "GB00 WEST 1234 5698 7654 32",  # bad checksum
        },
        url=CRM + "/501?api_key=%3Credacted%3Aapi_key%3E&limit=10",
    )
    noisy["request"]["headers"] = {
        "authorization": "Bearer <redacted:bearer-token>",
        "cookie": "<redacted:cookie>",
        "x-request-id": "req_8f1c2d3e4f5a6b7c8d9e",
        "traceparent": "00-4bf92f3577b34da6a3ce929b0e0e4736-00f067aa0ba902b7-01",
    }
    write(agent_cassettes / "noisy.json", [noisy, model_call(chat_request(stream=True), chat_sse_response(["a", "b"]))])
    code, out, err = run(capsys, "cassettes", "audit", str(agent_cassettes))
    assert (code, out) == (0, ""), out
    assert err.strip() == "audit: 3 file(s) clean"


def test_audit_defaults_to_cassettes_dir_and_json(capsys, tmp_path, monkeypatch):
    leaky_cassette(tmp_path / "cassettes" / "t" / "leaky.json")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "cassettes", "audit", "--json")
    assert code == 1
    findings = json.loads(out)
    assert {f["path"] for f in findings} == {"cassettes/t/leaky.json"}
    assert {"path", "location", "category", "kind", "value"} == set(findings[0])
    assert {f["category"] for f in findings} == {"secret", "pii"}


def test_audit_errors_on_unreadable_input(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 7, "interactions": []}')
    code, _, err = run(capsys, "cassettes", "audit", str(bad), str(tmp_path / "missing"))
    assert code == 2
    assert "missing: no such file or directory" in err
    assert f"cassette {bad}: format version 7 is not supported" in err


# ---- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "no such file"),
        ("{\n  oops", "not valid JSON at line 2 column 3"),
        ('{"version": 2, "interactions": []}', "format version 2 is not supported"),
        ('{"version": 1, "interactions": [{"request": {}}]}', "interactions[0].request.method is missing"),
        ("[]", "top level must be an object"),
    ],
)
@pytest.mark.parametrize("command", ["show", "diff"])
def test_bad_input_is_one_line_exit_2(capsys, tmp_path, content, problem, command):
    path = tmp_path / "c.json"
    if content is not None:
        path.write_text(content)
    good = write(tmp_path / "good.json", [crm_call()])
    argv = ["cassettes", command, str(path)] if command == "show" else ["cassettes", "diff", str(good), str(path)]
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(f"agentops: error: cassette {path}: {problem}")


def test_directory_given_as_cassette(capsys, tmp_path):
    code, _, err = run(capsys, "cassettes", "show", str(tmp_path))
    assert code == 2
    assert f"cassette {tmp_path}: is a directory" in err


def test_usage_errors_and_help(capsys):
    code, _, err = run(capsys, "cassettes", "frobnicate")
    assert code == 2 and "invalid choice: 'frobnicate'" in err
    code, _, err = run(capsys)
    assert code == 2 and "required: GROUP" in err
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "cassettes" in out and "Exit codes" in out
    code, out, _ = run(capsys, "cassettes", "--help")
    assert code == 0
    for command in ("ls", "show", "diff", "audit", "import"):
        assert command in out
    for command, flag in (("ls", "--json"), ("show", "--index"), ("audit", "--allow-pii"), ("import", "--output")):
        code, out, _ = run(capsys, "cassettes", command, "--help")
        assert code == 0 and flag in out
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("agentops (pytest-agentops) ")


# ---- the installed script ----------------------------------------------------------------------


def agentops_script() -> str:
    script = Path(sys.executable).with_name("agentops")
    found = str(script) if script.exists() else shutil.which("agentops")
    assert found, "the agentops console script is not installed (pip install -e .)"
    return found


def test_installed_script_runs(tmp_path, agent_cassettes):
    script = agentops_script()
    done = subprocess.run([script, "cassettes", "ls", str(agent_cassettes)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "3 interactions (2 model, 1 tool)" in done.stdout
    done = subprocess.run(
        [script, "cassettes", "show", str(tmp_path / "missing.json")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr == f"agentops: error: cassette {tmp_path / 'missing.json'}: no such file\n"
    assert "Traceback" not in done.stderr
    leaky = leaky_cassette(tmp_path / "leaky.json")
    done = subprocess.run([script, "cassettes", "audit", str(leaky)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert OPENAI_KEY not in done.stdout
    done = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "usage: agentops" in done.stdout


def test_cli_import_stays_light():
    code = (
        "import sys, pytest_agentops.cli\n"
        "heavy = ('yaml', 'vcr', 'httpx', 'pytest', 'pytest_agentops.trace.providers')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


# ---- import from vcrpy -------------------------------------------------------------------------

# Records a real vcrpy cassette: a local server (JSON chat completion, an SSE stream, a gzip
# JSON tool answer), called through httpx and requests under vcr.use_cassette. The server lives
# and dies with this process.
VCR_RECORDER = r"""
import gzip, json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx, requests, vcr

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, status, ctype, body, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        found = {"id": "501", "name": "Ada"} if "contacts" in self.path else {"id": 7, "subject": "Refund"}
        body = gzip.compress(json.dumps({"results": [found]}).encode())
        self._send(200, "application/json", body, [("Content-Encoding", "gzip")])

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        base = {"id": "chatcmpl-local1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini"}
        if request.get("stream"):
            chunks = [
                {**base, "choices": [{"index": 0, "delta": {"content": "Hello "}, "finish_reason": None}]},
                {**base, "choices": [{"index": 0, "delta": {"content": "from the stream"}, "finish_reason": None}]},
                {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
                {**base, "choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 4}},
            ]
            text = "".join("data: " + json.dumps(c, separators=(",", ":")) + "\n\n" for c in chunks)
            self._send(200, "text/event-stream", (text + "data: [DONE]\n\n").encode())
        else:
            answer = {
                "id": "chatcmpl-local0", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "Order 42 ships tomorrow."},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 20, "completion_tokens": 6},
            }
            self._send(200, "application/json", json.dumps(answer).encode())

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
base = f"http://127.0.0.1:{server.server_address[1]}"
cassette_path, prompt = sys.argv[1], json.loads(sys.argv[2])
headers = {"Authorization": "Bearer sk-proj-RealLookingKey0123456789abcd"}
with vcr.use_cassette(cassette_path, record_mode="all"):
    plain = httpx.post(base + "/v1/chat/completions", json=prompt, headers=headers).json()
    with httpx.stream("POST", base + "/v1/chat/completions", json={**prompt, "stream": True}, headers=headers) as r:
        streamed = r.read().decode()
    tool = httpx.get(base + "/api/contacts?q=ada&api_key=topsecretvalue99").json()  # gzip as !!binary
    tickets = requests.get(base + "/api/tickets?status=open").json()  # decoded, Content-Encoding kept
server.shutdown()
server.server_close()
print(json.dumps({"base": base, "plain": plain, "tool": tool, "tickets": tickets, "streamed": streamed}))
"""

PROMPT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Where is order 42?"}]}

REPLAY_TEST = """
import httpx, json, pytest, requests

BASE = {base!r}
PROMPT = {prompt!r}

def test_agent(agent_run):
    headers = {{"Authorization": "Bearer sk-proj-ADifferentKeyAtReplay000000"}}
    plain = httpx.post(BASE + "/v1/chat/completions", json=PROMPT, headers=headers).json()
    assert plain["choices"][0]["message"]["content"] == "Order 42 ships tomorrow."
    with httpx.stream("POST", BASE + "/v1/chat/completions", json={{**PROMPT, "stream": True}}, headers=headers) as r:
        assert r.headers["content-type"] == "text/event-stream"
        streamed = r.read().decode()
    assert streamed == {streamed!r}
    tool = httpx.get(BASE + "/api/contacts?q=ada&api_key=anotherkey").json()
    assert tool == {{"results": [{{"id": "501", "name": "Ada"}}]}}
    tickets = requests.get(BASE + "/api/tickets?status=open").json()
    assert tickets == {{"results": [{{"id": 7, "subject": "Refund"}}]}}
    assert [e.backend for e in agent_run.events] == ["cassette"] * 4
    assert [e.kind for e in agent_run.events] == ["model", "model", "tool", "tool"]
    assert [c.text for c in agent_run.model_calls] == ["Order 42 ships tomorrow.", "Hello from the stream"]
    assert (agent_run.usage.input_tokens, agent_run.usage.output_tokens) == (31, 10)

@pytest.mark.agent_cassette("test_replay/test_agent")
def test_changed_prompt_is_not_served():
    changed = {{**PROMPT, "messages": [{{"role": "user", "content": "Where is order 43?"}}]}}
    httpx.post(BASE + "/v1/chat/completions", json=changed)
"""


@pytest.fixture(scope="module")
def vcr_recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("vcr")
    cassette = folder / "test_agent.yaml"
    script = folder / "record_with_vcr.py"
    script.write_text("import warnings\nwarnings.simplefilter('ignore')\n" + VCR_RECORDER, encoding="utf-8")
    command = [sys.executable, str(script), str(cassette), json.dumps(PROMPT)]
    done = forkrun.run(command, cwd=folder, env=dict(os.environ), timeout=120)
    assert done.returncode == 0, done.stderr
    return cassette, json.loads(done.stdout)


def test_vcr_recording_is_a_real_vcrpy_cassette(vcr_recording):
    cassette, seen = vcr_recording
    text = cassette.read_text()
    assert text.startswith("interactions:") and "version: 1" in text
    assert "!!binary" in text  # the gzip body httpx saw, as vcrpy stores it
    assert 'string: \'{"results": [{"id": 7' in text  # requests: stored decoded...
    assert "Content-Encoding:\n      - gzip\n" in text  # ...with its Content-Encoding header kept
    assert "sk-proj-RealLookingKey" in text and "topsecretvalue99" in text  # vcrpy did not redact
    assert seen["plain"]["choices"][0]["message"]["content"] == "Order 42 ships tomorrow."


def test_import_converts_decodes_and_redacts(capsys, vcr_recording, tmp_path):
    source = tmp_path / "test_agent.yaml"
    shutil.copy(vcr_recording[0], source)
    code, out, _ = run(capsys, "cassettes", "import", str(source))
    assert code == 0
    target = tmp_path / "test_agent.json"
    assert out.strip() == f"imported 4 interaction(s) (2 model, 2 tool) from {source} to {target}"
    text = target.read_text()
    assert "sk-proj-RealLookingKey" not in text and "topsecretvalue99" not in text
    document = json.loads(normalise(text))  # placeholders compared without their keyed hash
    assert document["version"] == 1
    plain, stream, tool, tickets = document["interactions"]
    assert [i["kind"] for i in document["interactions"]] == ["model", "model", "tool", "tool"]
    assert plain["request"]["headers"]["authorization"] == "Bearer <redacted:authorization>"
    assert plain["request"]["body"] == {"json": PROMPT}
    assert plain["response"]["body"]["json"]["choices"][0]["message"]["content"] == "Order 42 ships tomorrow."
    assert [e["data"] for e in stream["response"]["body"]["sse"]][-1] == "[DONE]"
    assert stream["response"]["body"]["sse"][0]["data"]["choices"][0]["delta"]["content"] == "Hello "
    assert tool["request"]["url"].endswith("/api/contacts?q=ada&api_key=<redacted:api_key>")
    assert tool["response"]["body"]["json"] == {"results": [{"id": "501", "name": "Ada"}]}  # gunzipped
    assert tickets["response"]["body"]["json"] == {"results": [{"id": 7, "subject": "Refund"}]}
    for interaction in (tool, tickets):
        assert "content-encoding" not in interaction["response"]["headers"]
        assert "content-length" not in interaction["response"]["headers"]
    assert document["meta"]["models"] == ["gpt-4o-mini"]
    assert document["meta"]["imported_from"] == "vcrpy cassette test_agent.yaml"
    assert len(Cassette.load(target)) == 4  # the plugin's own loader accepts it
    # The imported cassette is readable by the other commands, and clean.
    code, out, _ = run(capsys, "cassettes", "show", str(target), "--index", "1")
    assert code == 0 and "answer: Hello from the stream" in out and "usage: 11 input / 4 output tokens" in out
    assert run(capsys, "cassettes", "audit", str(target))[0] == 0
    # It does not overwrite without --force.
    code, _, err = run(capsys, "cassettes", "import", str(source))
    assert code == 2 and f"cassette {target}: already exists; pass --force" in err
    assert run(capsys, "cassettes", "import", "--force", str(source))[0] == 0


def test_imported_cassette_replays_with_the_plugin(capsys, pytester, vcr_recording):
    source, seen = vcr_recording
    target = pytester.path / "cassettes" / "test_replay" / "test_agent.json"
    code, _, err = run(capsys, "cassettes", "import", str(source), "-o", str(target))
    assert code == 0, err
    pytester.makepyfile(test_replay=REPLAY_TEST.format(base=seen["base"], prompt=PROMPT, streamed=seen["streamed"]))
    result = pytester.runpytest_subprocess(
        "--agent-replay", f"--agent-cassette-dir={pytester.path / 'cassettes'}", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_changed_prompt_is_not_served _*",
            "*pytest-agentops: 1 request(s) had no recorded answer:",
            f"*- POST {seen['base']}/v1/chat/completions",
            "*nearest recorded request in *test_agent.json is interactions[[]0[]]; it differs:",
            "*messages[[]0[]].content changed at char 16: 'Where is order 42?' -> 'Where is order 43?'",
        ]
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "no such file"),
        ("interactions: [\n  - {", "not valid YAML at line"),
        ("just: a mapping\n", "not a vcrpy cassette"),
        ("interactions: []\nversion: 0\n", "vcrpy cassette version 0 is not supported"),
        ("interactions:\n- request: {method: GET}\n  response: {}\nversion: 1\n", "interactions[0].request needs"),
        (
            "interactions:\n- request: {method: GET, uri: 'http://x/'}\n"
            "  response: {status: {code: 999}}\nversion: 1\n",
            "interactions[0].response.status 999 is not an HTTP status",
        ),
    ],
)
def test_import_bad_input(capsys, tmp_path, content, problem):
    source = tmp_path / "in.yaml"
    if content is not None:
        source.write_text(content)
    code, out, err = run(capsys, "cassettes", "import", str(source))
    assert code == 2
    assert out == ""
    assert err.startswith(f"agentops: error: cassette {source}: {problem}"), err
    assert err.count("\n") == 1
    assert not (tmp_path / "in.json").exists()


def test_import_refuses_to_overwrite_its_input(capsys, tmp_path):
    source = tmp_path / "vcr.json"
    source.write_text(json.dumps({"version": 1, "interactions": []}))
    code, _, err = run(capsys, "cassettes", "import", str(source))
    assert code == 2 and "overwrite the vcrpy cassette itself" in err
    code, out, _ = run(capsys, "cassettes", "import", str(source), "-o", str(tmp_path / "out" / "c.json"))
    assert code == 0 and "imported 0 interaction(s)" in out  # vcrpy's JSON serializer is read too


def test_import_binary_and_text_bodies(capsys, tmp_path):
    """Hand-written vcrpy YAML: !!binary request body, non-UTF-8 response, form body, set-cookie list."""
    source = tmp_path / "c.yaml"
    source.write_text(
        textwrap.dedent(
            """\
            interactions:
            - request:
                body: !!binary |
                  eyJtb2RlbCI6ICJncHQtNG8iLCAibWVzc2FnZXMiOiBbXX0=
                headers:
                  Content-Type: [application/json]
                  X-Api-Key: [abc123secret]
                method: POST
                uri: https://api.openai.com/v1/chat/completions
              response:
                body: {string: '{"error": {"message": "bad"}}'}
                headers:
                  Content-Type: [application/json]
                  Set-Cookie: [a=1, b=2]
                status: {code: 400, message: Bad Request}
            - request:
                body: amount=100&api_key=sk_test_abcdefgh12345
                headers: {Content-Type: [application/x-www-form-urlencoded]}
                method: POST
                uri: https://api.stripe.com/v1/refunds
              response:
                body: {string: !!binary "/9j/4AAQ"}
                headers: {Content-Type: [image/jpeg]}
                status: {code: 200, message: OK}
            version: 1
            """
        )
    )
    assert run(capsys, "cassettes", "import", str(source))[0] == 0
    document = json.loads(normalise((tmp_path / "c.json").read_text()))
    model, form = document["interactions"]
    assert model["kind"] == "model"
    assert model["request"]["body"] == {"json": {"model": "gpt-4o", "messages": []}}
    assert model["request"]["headers"]["x-api-key"] == "<redacted:x-api-key>"
    assert model["response"]["headers"]["set-cookie"] == ["a=<redacted:set-cookie>", "b=<redacted:set-cookie>"]
    assert model["response"]["body"] == {"json": {"error": {"message": "bad"}}, "style": "spaced"}
    assert form["kind"] == "tool"
    assert form["request"]["body"] == {"form": [["amount", "100"], ["api_key", "<redacted:api_key>"]]}
    assert form["response"]["body"] == {"base64": "/9j/4AAQ"}


def test_audit_does_not_flag_reserved_example_domains() -> None:
    """RFC 2606 addresses (example.com, *.test, *.invalid) are test data: no PII finding."""
    from pytest_agentops.cassette.audit import find_pii

    found = [(kind, value) for kind, value, _ in find_pii("ana@example.com bo@shop.test x@y.invalid real@acme.io")]
    assert found == [("email", "r***@acme.io")]
