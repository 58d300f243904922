"""Done means: no planted secret reaches any file a session writes, nor its terminal output.

54 secret formats (plus opaque values under secret names) are sent in every placement (header,
query, JSON, form, multipart, URL userinfo, an SSE stream and a non-UTF-8 response echoing them)
to a loopback echo server and recorded; replayed as they were (placeholders match), and replayed
with every request missing (the miss text names the URL and the body diff); rendered to the JSON and
HTML reports. Then every secret written raw into a cassette by hand is flagged by the audit and
``--fix`` leaves none.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import secret_corpus as corpus
from upstream import Upstream

from pytest_agentops.cli import main

if TYPE_CHECKING:
    import pytest
    from conftest import Project

INNER_TESTS = """
import os
from urllib.parse import quote, urlsplit

import httpx
import pytest

import secret_corpus as c

MISS = {"miss": "1"} if os.environ.get("CORPUS_MISS") == "1" else {}
PLACEMENTS = ["header", "query", "json", "form", "multipart", "userinfo", "sse", "binary"]


def send(client, base, placement, value):
    one_line = value.replace("\\n", " ")
    if placement == "header":
        return client.get(base + "/echo/h", headers={"x-note": one_line}, params=MISS)
    if placement == "query":
        return client.get(base + "/echo/q", params={"q": value, **MISS})
    if placement == "json":
        return client.post(base + "/echo/j", json={"note": "see " + value + " here"}, params=MISS)
    if placement == "form":
        return client.post(base + "/echo/f", data={"note": value, "n": "1"}, params=MISS)
    if placement == "multipart":
        return client.post(
            base + "/echo/m", data={"note": value}, files={"upload": ("a.txt", value.encode())}, params=MISS
        )
    if placement == "userinfo":
        parts = urlsplit(base)
        url = f"{parts.scheme}://svc:{quote(value, safe='')}@{parts.netloc}/echo/u"
        return client.get(url, params=MISS)
    if placement == "sse":
        return client.post(base + "/echo-sse", json={"note": value}, params=MISS)
    return client.post(base + "/echo-binary", content=value.encode(), params=MISS,
                       headers={"content-type": "text/plain"})


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_value_formats(upstream_url, placement):
    with httpx.Client() as client:
        for label, value in c.VALUE_FORMATS.items():
            reply = send(client, upstream_url, placement, value)
            assert reply.status_code == 200, reply.text


def test_named_secrets(upstream_url):
    with httpx.Client() as client:
        for name, value in c.NAMED_HEADERS.items():
            assert client.get(upstream_url + "/echo/nh", headers={name: value}, params=MISS).status_code == 200
        for name, value in c.NAMED_QUERY.items():
            assert client.get(upstream_url + "/echo/nq", params={name: value, **MISS}).status_code == 200
        for name, value in c.NAMED_FORM.items():
            reply = client.post(upstream_url + "/echo/nf", data={name: value, "x": "1"}, params=MISS)
            assert reply.status_code == 200, reply.text
        reply = client.post(upstream_url + "/echo/nj", json={"user": "ada", **c.NAMED_JSON}, params=MISS)
        assert reply.status_code == 200, reply.text
        files = {"upload": ("x.txt", b"hello")}
        reply = client.post(upstream_url + "/echo/nm", data=c.NAMED_MULTIPART, files=files, params=MISS)
        assert reply.status_code == 200, reply.text
        headers = {"cookie": "session=" + c.COOKIE_SESSION, "x-custom-auth": c.CUSTOM_SCHEME}
        assert client.get(upstream_url + "/echo/nc", headers=headers, params=MISS).status_code == 200
"""

N_TESTS = 9


def _written_files(root: Path) -> list[Path]:
    """Every file the sessions wrote (the project's own sources aside)."""
    skipped = {".py", ".pyc", ".ini", ".cfg"}
    return [
        p for p in sorted(root.rglob("*")) if p.is_file() and p.suffix not in skipped and "__pycache__" not in p.parts
    ]


def _leaks(texts: dict[str, str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for label, value in corpus.all_secrets().items():
        for needle in corpus.needles(label, value):
            for where, text in texts.items():
                if needle in text:
                    found.setdefault(label, []).append(where)
    return found


def test_no_planted_secret_reaches_any_file_or_the_terminal(
    project: Project, upstream: Upstream, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project.pytester.makepyfile(secret_corpus=Path(corpus.__file__).read_text(), test_corpus=INNER_TESTS)
    out: dict[str, str] = {}

    record = project.run("--agent-record", "--agent-trace-dir=traces", "--agent-report=report.json", "-rA")
    record.assert_outcomes(passed=N_TESTS)
    out["record terminal"] = record.stdout.str() + record.stderr.str()
    served = upstream.count
    assert served >= len(corpus.VALUE_FORMATS) * 8  # every placement of every format reached the echo

    replay = project.run("--agent-replay", "--agent-trace-dir=traces-replay", "--agent-report=replay.json")
    replay.assert_outcomes(passed=N_TESTS)  # placeholders match the live requests' real secrets
    out["replay terminal"] = replay.stdout.str() + replay.stderr.str()

    monkeypatch.setenv("CORPUS_MISS", "1")
    missed = project.run("--agent-replay", "--agent-trace-dir=traces-miss", "--agent-report=miss.json", "-rA")
    missed.assert_outcomes(failed=N_TESTS)
    out["miss terminal"] = missed.stdout.str() + missed.stderr.str()
    assert "no recorded answer" in out["miss terminal"]
    assert upstream.count == served  # replay never reached the network

    for traces, report in (("traces", "report.json"), ("traces-miss", "miss.json")):
        html = project.path / f"{traces}.html"
        code = main(["report", str(project.path / traces), "-o", str(html), "--scorecard", str(project.path / report)])
        assert code == 0 and html.stat().st_size > 1000
    out["cli terminal"] = "".join(capsys.readouterr())

    files = _written_files(project.path)
    kinds = {p.suffix for p in files}
    assert {".json", ".jsonl", ".html"} <= kinds, kinds
    texts = {str(p.relative_to(project.path)): p.read_bytes().decode("latin-1") for p in files}
    assert any(p.startswith("cassettes") for p in texts) and any("payloads" in p for p in texts)
    cassettes = "".join(t for p, t in texts.items() if p.startswith("cassettes"))
    kinds = set(re.findall(r"<redacted:([a-z0-9_.\-]+):[0-9a-f]{8}>", cassettes))
    assert len(kinds) >= 40, sorted(kinds)  # what was there is still there, as placeholders
    assert "see <redacted:" in cassettes  # the text around a secret is kept
    assert _leaks({**texts, **out}) == {}


# ---- the audit flags every secret written raw into a cassette ------------------------------------


def _raw_interaction(value: str) -> dict[str, Any]:
    one_line = value.replace("\n", " ")
    return {
        "kind": "tool",
        "request": {
            "method": "POST",
            "url": "https://api.example.com/v1/echo?q=" + value.replace("\n", "%0A").replace("&", "%26"),
            "headers": {"x-note": one_line},
            "body": {"json": {"note": "see " + value}},
        },
        "response": {
            "status": 200,
            "reason": "OK",
            "headers": {"content-type": "text/event-stream"},
            "body": {"sse": [{"data": {"echo": value}}]},
        },
    }


def _binary_interaction(value: str) -> dict[str, Any]:
    data = b"\xff\xfe" + value.encode() + b"\x80"
    return {
        "kind": "tool",
        "request": {
            "method": "POST",
            "url": "https://api.example.com/upload",
            "headers": {},
            "body": {"form": [["note", value]]},
        },
        "response": {"status": 200, "reason": "OK", "headers": {}, "body": {"base64": base64.b64encode(data).decode()}},
    }


def test_audit_flags_every_format_written_raw_and_fix_removes_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = list(corpus.VALUE_FORMATS.items())
    interactions = []
    for _, value in values:
        interactions += [_raw_interaction(value), _binary_interaction(value)]
    path = tmp_path / "cassettes" / "leaky.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"version": 1, "meta": {}, "interactions": interactions}, indent=2))

    assert main(["cassettes", "audit", str(path.parent), "--json"]) == 1
    findings = json.loads(capsys.readouterr().out)
    secrets = [f for f in findings if f["category"] == "secret"]
    raw = path.read_text()
    for f in findings:
        assert f["value"] not in raw or len(f["value"]) < 8  # printed masked, never the secret
    places = ("request.url", "request.headers.x-note", "request.body.json", "response.body.sse")
    missing = []
    for i, (label, _) in enumerate(values):
        here = {f["location"] for f in secrets if f["location"].startswith(f"interactions[{2 * i}].")}
        binary = {f["location"] for f in secrets if f["location"].startswith(f"interactions[{2 * i + 1}].")}
        for place in places:
            if not any(loc.startswith(f"interactions[{2 * i}].{place}") for loc in here):
                missing.append(f"{label}: {place}")
        for place in ("request.body.form", "response.body.base64"):
            if not any(loc.startswith(f"interactions[{2 * i + 1}].{place}") for loc in binary):
                missing.append(f"{label}: {place}")
    assert missing == []

    assert main(["cassettes", "audit", str(path.parent), "--fix"]) == 0
    capsys.readouterr()
    fixed = path.read_text()
    assert _leaks({"fixed": fixed, "fixed base64": _decoded_bodies(fixed)}) == {}
    assert main(["cassettes", "audit", str(path.parent)]) == 0
    assert "clean" in capsys.readouterr().err


def _decoded_bodies(text: str) -> str:
    document = json.loads(text)
    return "".join(
        base64.b64decode(i["response"]["body"]["base64"]).decode("latin-1")
        for i in document["interactions"]
        if "base64" in (i["response"]["body"] or {})
    )
