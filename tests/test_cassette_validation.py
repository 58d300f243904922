"""A malformed cassette is one CassetteFormatError naming the file and the JSON path, never a crash.

Each case is a good document with one field made wrong, as a hand edit or a bad merge would;
the corrupt-cassette runs check what a pytest user sees, and that the file is never written over.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import INNER_INI

from pytest_agentops.cassette.errors import CassetteError, CassetteFormatError
from pytest_agentops.cassette.format import Cassette
from pytest_agentops.cassette.validate import MAX_DEPTH

if TYPE_CHECKING:
    from conftest import Project

GOOD: dict[str, Any] = {
    "version": 1,
    "meta": {"recorded_at": "2026-01-01T00:00:00+00:00", "models": ["gpt-4o-mini"], "session": "abc"},
    "interactions": [
        {
            "kind": "model",
            "request": {
                "method": "POST",
                "url": "https://api.openai.com/v1/chat/completions",
                "headers": {"content-type": "application/json"},
                "body": {"json": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}},
            },
            "response": {
                "status": 200,
                "reason": "OK",
                "headers": {"content-type": "application/json", "set-cookie": ["a=1", "b=2"]},
                "body": {"json": {"id": "chatcmpl-1", "choices": []}, "style": "compact"},
            },
        },
        {
            "kind": "tool",
            "request": {
                "method": "POST",
                "url": "http://127.0.0.1:9/form",
                "headers": {},
                "body": {"form": [["a", "1"]]},
            },
            "response": {"status": 200, "headers": {}, "body": {"sse": [{"event": "x", "data": {"n": 1}}]}},
        },
    ],
}


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def _set(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    *parents, last = path.split("/")
    target: Any = doc
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is _DELETE:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return doc


class _Delete:
    """Stands for "remove this key" in CASES (a stable repr: xdist workers must agree on test ids)."""

    def __repr__(self) -> str:
        return "<deleted>"


_DELETE = _Delete()

CASES = [
    ("interactions/1/request/method", 5, "interactions[1].request.method: expected a string, got 5"),
    ("interactions/0/request/method", "  ", "interactions[0].request.method: is empty"),
    ("interactions/0/request/url", ["x"], 'interactions[0].request.url: expected a string, got ["x"]'),
    ("interactions/0/request/url", "http://h:99999/", "interactions[0].request.url: not a URL (Port out of range"),
    ("interactions/0/request/url", "http://[::1/", "interactions[0].request.url: not a URL (Invalid IPv6 URL)"),
    ("interactions/0/request/url", _DELETE, "interactions[0].request.url is missing"),
    ("interactions/0/request", "GET /", 'interactions[0].request: expected an object, got "GET /"'),
    ("interactions/0/response", _DELETE, "interactions[0].response is missing"),
    ("interactions/0/response/status", True, "interactions[0].response.status true is not an HTTP status"),
    ("interactions/0/response/status", "200", 'interactions[0].response.status "200" is not an HTTP status'),
    ("interactions/0/response/reason", 7, "interactions[0].response.reason: expected a string, got 7"),
    ("interactions/0/kind", {}, "interactions[0].kind: expected a string, got {}"),
    ("interactions/0/request/headers", [], "interactions[0].request.headers: expected an object, got []"),
    (
        "interactions/0/response/headers/set-cookie",
        ["a", 1],
        "interactions[0].response.headers.set-cookie[1]: expected a string, got 1",
    ),
    (
        "interactions/0/request/headers/content-type",
        None,
        "interactions[0].request.headers.content-type: expected a string or a list of strings, got null",
    ),
    ("interactions/1/request/body/form", {"a": "1"}, 'interactions[1].request.body.form: expected a list, got {"a"'),
    (
        "interactions/1/request/body/form",
        [["a"]],
        "interactions[1].request.body.form[0]: expected a [name, value] pair",
    ),
    (
        "interactions/1/request/body/form",
        [["a", 2]],
        "interactions[1].request.body.form[0][1]: expected a string, got 2",
    ),
    ("interactions/0/request/body", "raw", 'interactions[0].request.body: expected null or an object, got "raw"'),
    ("interactions/0/request/body", {}, "interactions[0].request.body: expected exactly one of json/form/text"),
    (
        "interactions/0/response/body",
        {"json": 1, "text": "1"},
        "interactions[0].response.body: expected exactly one of json/sse/text/base64, got json, text",
    ),
    ("interactions/0/response/body", {"sha256": "ab"}, "interactions[0].response.body: expected exactly one of"),
    ("interactions/0/response/body", {"base64": "%%%"}, "interactions[0].response.body.base64: not valid base64"),
    ("interactions/0/response/body", {"text": 3}, "interactions[0].response.body.text: expected a string, got 3"),
    ("interactions/0/response/body/style", 2, "interactions[0].response.body.style: expected a string, got 2"),
    ("interactions/1/response/body/sse", {}, "interactions[1].response.body.sse: expected a list, got {}"),
    ("interactions/1/response/body/sse/0/event", 1, "interactions[1].response.body.sse[0].event: expected a string"),
    (
        "interactions/1/response/body/sse/0/data",
        {"__raw__": 5},
        "interactions[1].response.body.sse[0].data.__raw__: expected a string, got 5",
    ),
    (
        "interactions/0/response/body/json",
        {"a": _nested(MAX_DEPTH + 5)},
        f"interactions[0].response.body.json.a{'[0]' * (MAX_DEPTH - 1)}: nested deeper than {MAX_DEPTH} levels",
    ),
    ("meta", [], "meta: expected an object, got []"),
    ("meta/models", "gpt", 'meta.models: expected a list, got "gpt"'),
    ("meta/models", [1], "meta.models[0]: expected a string, got 1"),
    ("meta/prompt_hashes", ["sha256:1", None], "meta.prompt_hashes[1]: expected a string, got null"),
    ("meta/tool_schema_hashes", {"a": "sha256:1", "b": 2}, "meta.tool_schema_hashes.b: expected a string, got 2"),
    ("interactions/0/request/url", "https://h\ud800/x", "interactions[0].request.url: not valid Unicode text"),
    ("meta/session", 5, "meta.session: expected a string, got 5"),
    ("meta/extra", _nested(MAX_DEPTH + 1), "meta.extra" + "[0]" * MAX_DEPTH + ": nested deeper than"),
    ("interactions/1", 3, "interactions[1]: expected an object, got 3"),
    ("version", True, "format version True is not supported"),
]


@pytest.mark.parametrize(("path", "value", "message"), CASES, ids=[f"{c[0]}={c[1]!r}"[:60] for c in CASES])
def test_a_wrong_field_names_the_file_and_the_json_path(tmp_path: Path, path: str, value: Any, message: str) -> None:
    file = tmp_path / "cassettes" / "x.json"
    file.parent.mkdir()
    file.write_text(json.dumps(_set(GOOD, path, value)))
    with pytest.raises(CassetteFormatError) as info:
        Cassette.load(file)
    assert str(info.value).startswith(f"cassette {file}: {message}"), str(info.value)
    assert isinstance(info.value, CassetteError) and info.value.path == str(file)


def test_the_good_document_loads(tmp_path: Path) -> None:
    """The cases above fail because of the one field each changes."""
    file = tmp_path / "x.json"
    file.write_text(json.dumps(GOOD))
    assert len(Cassette.load(file)) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply to read"),
        ('{"version": 1, "interactions": [], "meta": {"n": ' + "9" * 5000 + "}}", "not valid JSON: Exceeds the limit"),
        (
            '{"version": 1, "interactions": [{"request": {"method": "\\ud800", "url": "http://h/"}}]}',
            "not valid Unicode",
        ),
        ('{"version": 1.0, "interactions": []}', "format version 1.0 is not supported"),
    ],
    ids=["deep", "huge-int", "lone-surrogate", "float-version"],
)
def test_what_json_itself_chokes_on_is_a_format_error_too(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "x.json"
    file.write_text(text)
    with pytest.raises(CassetteFormatError, match=message):
        Cassette.load(file)


def test_a_folder_where_the_cassette_should_be(tmp_path: Path) -> None:
    (tmp_path / "x.json").mkdir()
    with pytest.raises(CassetteFormatError, match=r"x\.json: cannot be read"):
        Cassette.load(tmp_path / "x.json")


# ---- what a pytest user sees, and that nothing is written over ---------------------------------

TESTS = """
import http.server
import threading

import httpx


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"hi")

    def log_message(self, *args):
        pass


def test_call():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        httpx.get(f"http://127.0.0.1:{server.server_address[1]}/x")
    finally:
        server.shutdown()
        server.server_close()
"""

CORRUPT = {**GOOD, "interactions": [_set(GOOD, "interactions/0/request/method", 5)["interactions"][0]]}


@pytest.mark.parametrize("mode", [[], ["--agent-replay"], ["--agent-record"]])
def test_a_corrupt_cassette_fails_in_one_line_and_is_never_written_over(project: Project, mode: list[str]) -> None:
    project.pytester.makepyfile(test_c=TESTS)
    project.pytester.makeini(INNER_INI + "agentops_loopback_passthrough = false\n")  # loopback gets recorded
    file = project.path / "cassettes" / "test_c" / "test_call.json"
    file.parent.mkdir(parents=True)
    file.write_text(json.dumps(CORRUPT, indent=2))
    before = file.read_bytes(), file.stat().st_mtime_ns
    result = project.run(*mode)
    out = result.stdout.str()
    assert result.ret != 0
    expected = (
        f"cassette {file}: interactions[0].request.method: expected a string, got 5; fix the file by hand, or "
        "re-record it: pytest --agent-record=all test_c.py::test_call"
    )
    assert expected in out, out
    assert "Traceback" not in out and "pytest_agentops/" not in out  # no trace through the plugin
    # Line starts only: with CI set, pytest's short summary repeats the message untruncated.
    said = [line for line in out.splitlines() if line.startswith(f"cassette {file}:")]
    assert "During handling" not in out and len(said) == 1, out
    assert (file.read_bytes(), file.stat().st_mtime_ns) == before
    assert [p.name for p in file.parent.iterdir()] == ["test_call.json"]  # no temp file left either


def test_re_recording_all_replaces_a_corrupt_cassette(project: Project) -> None:
    """The one-line error's fix works: --agent-record=all never reads the old file, and replaces it."""
    project.pytester.makepyfile(test_c=TESTS)
    project.pytester.makeini(INNER_INI + "agentops_loopback_passthrough = false\n")
    file = project.path / "cassettes" / "test_c" / "test_call.json"
    file.parent.mkdir(parents=True)
    file.write_text(json.dumps(CORRUPT, indent=2))
    project.run("--agent-record=all").assert_outcomes(passed=1)
    assert Cassette.load(file).interactions[0]["request"]["method"] == "GET"


@pytest.mark.parametrize("escaped", [False, True], ids=["utf8", "ascii-escaped"])
def test_bodies_exactly_max_depth_deep_load(tmp_path: Path, escaped: bool) -> None:
    """The limit is inclusive, on either path (a file with \\u escapes gets every string checked)."""
    doc = _set(GOOD, "interactions/0/response/body/json", {"deep": _nested(MAX_DEPTH - 1), "emoji": "😀"})
    file = tmp_path / "x.json"
    file.write_text(json.dumps(doc, ensure_ascii=escaped))
    assert ("\\ud83d" in file.read_text()) is escaped
    assert Cassette.load(file).interactions[0]["response"]["body"]["json"]["emoji"] == "😀"
    doc = _set(doc, "interactions/0/response/body/json/deep", _nested(MAX_DEPTH))
    file.write_text(json.dumps(doc, ensure_ascii=escaped))
    with pytest.raises(CassetteFormatError, match=f"nested deeper than {MAX_DEPTH} levels"):
        Cassette.load(file)


def test_a_file_with_few_brackets_skips_the_depth_walk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A value n levels deep needs n brackets in the text, so a file opening at most MAX_DEPTH of them
    needs no depth walk; one opening more (here a body exactly MAX_DEPTH deep) gets the walk."""
    from pytest_agentops.cassette import validate

    walked: list[Any] = []
    real = validate._shallow
    monkeypatch.setattr(validate, "_shallow", lambda value: walked.append(value) or real(value))
    file = tmp_path / "x.json"
    file.write_text(json.dumps(GOOD))
    Cassette.load(file)
    assert walked == []
    file.write_text(json.dumps(_set(GOOD, "interactions/0/response/body/json", _nested(MAX_DEPTH))))
    Cassette.load(file)
    assert _nested(MAX_DEPTH) in walked
    walked.clear()  # a long text is not counted (it almost always opens more): walked as before
    file.write_text(json.dumps(_set(GOOD, "interactions/0/response/body/json", {"text": "x" * 40_000})))
    Cassette.load(file)
    assert {"text": "x" * 40_000} in walked
