"""Property: a value any detector matches, placed anywhere in a request, is in nothing written.

Values are drawn from the detectors' own regexes (ours and detect-secrets'), placed in a header, the
query, the path, URL userinfo, a JSON, form, multipart or text body, and sent through the record
path against an upstream that echoes the whole request back: the stored interaction (as the
cassette file writes it), the trace's request/response payloads and the event URL must not hold it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pytest_agentops.cassette.format import dump
from pytest_agentops.cassette.matching import body_value
from pytest_agentops.cassette.record import to_interaction
from pytest_agentops.cassette.redact import Redactor
from pytest_agentops.cassette.secrets.rules import all_rules
from pytest_agentops.readers.tracefile import capture
from pytest_agentops.tap import LiveRequest

RULES = all_rules()
PLACEMENTS = ("header", "query", "path", "userinfo", "json", "form", "multipart", "text")
BASE = "https://api.example.com"


def _request(placement: str, value: str) -> tuple[str, dict[str, str], bytes]:
    headers = {"content-type": "application/json", "accept": "application/json"}
    url, body = BASE + "/v1/items", b""
    if placement == "header":
        headers["x-note"] = value
    elif placement == "query":
        url += "?" + urlencode({"q": value, "page": "2"})
    elif placement == "path":
        url = BASE + "/v1/items/" + quote(value, safe="")
    elif placement == "userinfo":
        url = f"https://svc:{quote(value, safe='')}@api.example.com/v1/items"
    elif placement == "json":
        body = json.dumps({"note": "see " + value, "n": 1}).encode()
    elif placement == "form":
        headers["content-type"] = "application/x-www-form-urlencoded"
        body = urlencode({"note": value, "n": "1"}).encode()
    elif placement == "multipart":
        headers["content-type"] = "multipart/form-data; boundary=xyzzy"
        body = (f'--xyzzy\r\nContent-Disposition: form-data; name="note"\r\n\r\n{value}\r\n--xyzzy--\r\n').encode()
    else:
        headers["content-type"] = "text/plain"
        body = f"log line: {value}".encode()
    return url, headers, body


def _echo(url: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    echoed = {"url": url, "headers": headers, "body": body.decode("utf-8", "replace")}
    return {
        "status": {"code": 200, "message": "OK"},
        "headers": {"content-type": ["application/json"]},
        "body": {"string": json.dumps(echoed).encode()},
    }


@st.composite
def secrets_in_requests(draw: st.DrawFn) -> tuple[str, str, list[str]]:
    rule = draw(st.sampled_from(RULES))
    value = draw(st.from_regex(rule.regex, fullmatch=True))
    placement = draw(st.sampled_from(PLACEMENTS))
    return placement, value, []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(secrets_in_requests())
def test_a_detected_value_anywhere_in_a_request_is_in_nothing_written(case: tuple[str, str, list[str]]) -> None:
    placement, value, _ = case
    redactor = Redactor(key=b"property")
    assume(value.isprintable() and "<redacted" not in value)  # a placeholder is no secret
    if placement == "header":
        assume(value.isascii() and value == value.strip())
    secrets = [value[h.start : h.end] for h in redactor.detector.find(value)]
    secrets = [s for s in secrets if len(s) >= 8 and s.strip() == s and value.count(s) == 1]
    assume(secrets)
    url, headers, body = _request(placement, value)
    template = repr(_request(placement, "")) + "<redacted:" + "see log line"
    assume(all(s not in template for s in secrets))

    live = LiveRequest(method="POST", url=url, headers=headers, body=body)
    live.value = redactor.request(body_value(body, headers["content-type"]))
    response = _echo(url, headers, body)
    written = dump({"interactions": [to_interaction(live, response, redactor)]})
    trace = json.dumps(capture(live, {"content-type": "application/json"}, response["body"]["string"], None, redactor))
    event_url = redactor.url(url)
    for secret in secrets:
        for where, text in (("cassette", written), ("trace", trace), ("event url", event_url)):
            assert secret not in text, f"{placement}: {secret!r} reached the {where}"
