"""Secrets never reach a cassette file, and redaction is deterministic so the redacted cassette replays."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from upstream import RESPONSE_ACCESS_TOKEN, RESPONSE_OPENAI_KEY, SESSION_COOKIE, Upstream

from pytest_agentops.cassette.secrets.placeholder import normalise

if TYPE_CHECKING:
    from conftest import Project

OPENAI_KEY = "sk-proj-PlantedHeaderKey0123456789abcdef"
ANTHROPIC_KEY = "sk-ant-api03-PlantedAnthropicKey0123456789"
COOKIE_VALUE = "PlantedCookieValue9876"
QUERY_KEY = "PlantedQueryKey4242"
QUERY_TOKEN = "PlantedQueryToken5353"
BODY_API_KEY = "PlantedBodyKey7777"
MESSAGE_KEY = "sk-proj-PlantedInMessage0123456789abcd"
STRIPE_KEY = "sk_test_PlantedStripe51Hx0123456789"

PLANTED = {
    "authorization header": OPENAI_KEY,
    "x-api-key header": ANTHROPIC_KEY,
    "cookie header": COOKIE_VALUE,
    "api_key query": QUERY_KEY,
    "token query": QUERY_TOKEN,
    "api_key body field": BODY_API_KEY,
    "key inside a message": MESSAGE_KEY,
    "stripe key": STRIPE_KEY,
    "set-cookie": SESSION_COOKIE.split("=", 1)[1],
    "response access_token": RESPONSE_ACCESS_TOKEN,
    "key inside response text": RESPONSE_OPENAI_KEY,
}

SECRET_TESTS = f"""
import httpx
import openai

OPENAI_KEY = {OPENAI_KEY!r}
ANTHROPIC_KEY = {ANTHROPIC_KEY!r}
COOKIE_VALUE = {COOKIE_VALUE!r}
QUERY_KEY = {QUERY_KEY!r}
QUERY_TOKEN = {QUERY_TOKEN!r}
BODY_API_KEY = {BODY_API_KEY!r}
MESSAGE_KEY = {MESSAGE_KEY!r}
STRIPE_KEY = {STRIPE_KEY!r}


def test_model_call_with_secrets(upstream_url, agent_run, backend):
    client = openai.OpenAI(base_url=upstream_url + "/v1", api_key=OPENAI_KEY)
    reply = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{{"role": "user", "content": f"my key is {{MESSAGE_KEY}}, and billing uses {{STRIPE_KEY}}"}}],
    )
    assert reply.choices[0].message.content.startswith("answer #")
    assert [e.backend for e in agent_run.events] == [backend]


def test_tool_call_with_secrets(upstream_url, agent_run, backend):
    with httpx.Client(headers={{"x-api-key": ANTHROPIC_KEY, "cookie": "session=" + COOKIE_VALUE}}) as client:
        echoed = client.post(
            upstream_url + "/echo/tool",
            params={{"api_key": QUERY_KEY, "token": QUERY_TOKEN, "page": "1"}},
            json={{
                "api_key": BODY_API_KEY,
                "messages": [{{"role": "user", "content": "use " + MESSAGE_KEY}}],
                "charge": {{"amount": 100, "key": STRIPE_KEY}},
            }},
        ).json()
        session = client.get(upstream_url + "/v1/session")
    assert echoed["body"]["charge"]["amount"] == 100 and echoed["query"]["page"] == "1"
    assert session.status_code == 200 and "access_token" in session.json()
    assert "set-cookie" in session.headers
    assert [e.backend for e in agent_run.events] == [backend, backend]
"""


def _leaks(root: Project) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(root.path.joinpath("cassettes").rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            for what, secret in PLANTED.items():
                if secret.encode() in data:
                    found.setdefault(str(path.name), []).append(what)
    return found


def test_planted_secrets_never_reach_the_cassette_and_it_still_replays(project: Project, upstream: Upstream) -> None:
    project.pytester.makepyfile(test_secrets=SECRET_TESTS)
    project.run("--agent-record").assert_outcomes(passed=2)
    assert upstream.count == 3
    # The upstream really saw every secret (so the cassette had them to leak).
    tool = next(r for r in upstream.requests if r["path"].startswith("/echo/tool"))
    assert QUERY_TOKEN in tool["path"] and tool["headers"]["x-api-key"] == ANTHROPIC_KEY
    assert tool["body"]["api_key"] == BODY_API_KEY
    upstream.stop()

    assert _leaks(project) == {}
    folder = project.path / "cassettes" / "test_secrets"
    model = json.loads(normalise((folder / "test_model_call_with_secrets.json").read_text()))
    request = model["interactions"][0]["request"]
    assert request["headers"]["authorization"] == "Bearer <redacted:authorization>"
    content = request["body"]["json"]["messages"][0]["content"]
    assert content == "my key is <redacted:openai-key>, and billing uses <redacted:stripe-key>"
    tool_data = json.loads(normalise((folder / "test_tool_call_with_secrets.json").read_text()))
    post, get = tool_data["interactions"]
    assert "page=1" in post["request"]["url"] and "<redacted:" in post["request"]["url"]
    assert post["request"]["body"]["json"]["api_key"].startswith("<redacted:")
    assert post["request"]["body"]["json"]["charge"]["amount"] == 100
    assert get["response"]["headers"]["set-cookie"].split(";")[0].endswith("=<redacted:set-cookie>")

    # Redaction is deterministic: the live requests, redacted the same way, find their interactions.
    replay = project.run("--agent-replay")
    replay.assert_outcomes(passed=2)
    assert _leaks(project) == {}


USER_RULES_TESTS = """
import httpx

from pytest_agentops.cassette.secrets.placeholder import normalise


def test_custom_secrets(upstream_url):
    with httpx.Client(headers={"x-tenant-secret": "TenantSecretAAA111"}) as client:
        got = client.post(
            upstream_url + "/echo/customers/cus_PRIVATE998877",
            json={"customer_pin": "PinSecret2468", "note": "internal ref INTREF-55123-XY"},
        ).json()
    assert got["body"]["customer_pin"]
"""

USER_RULES_CONFTEST = """

def pytest_agentops_redact_interaction(interaction):
    request = interaction["request"]
    request["url"] = request["url"].replace("cus_PRIVATE998877", "cus_<redacted:customer>")
    body = interaction["response"]["body"]
    if body and "json" in body:
        body["json"]["path"] = body["json"]["path"].replace("cus_PRIVATE998877", "cus_<redacted:customer>")
"""

USER_SECRETS = ["TenantSecretAAA111", "PinSecret2468", "INTREF-55123-XY", "cus_PRIVATE998877"]


def test_user_rules_from_ini_and_the_redact_hook(project: Project, upstream: Upstream) -> None:
    project.pytester.makeini(
        "[pytest]\naddopts = -p no:hypothesispytest -p no:benchmark -p no:recording -p no:cacheprovider\n"
        "agentops_scope = all\n"
        "agentops_redact_headers = x-tenant-secret\n"
        "agentops_redact_fields = customer_pin\n"
        "agentops_redact_patterns = INTREF-[0-9]+-[A-Z]+\n"
    )
    conftest = project.path / "conftest.py"
    conftest.write_text(conftest.read_text() + USER_RULES_CONFTEST)
    project.pytester.makepyfile(test_rules=USER_RULES_TESTS)
    project.run("--agent-record").assert_outcomes(passed=1)
    upstream.stop()

    path = project.path / "cassettes" / "test_rules" / "test_custom_secrets.json"
    text = path.read_text()
    assert [s for s in USER_SECRETS if s in text] == []
    (interaction,) = json.loads(normalise(text))["interactions"]
    assert interaction["request"]["headers"]["x-tenant-secret"] == "<redacted:x-tenant-secret>"
    assert interaction["request"]["body"]["json"]["customer_pin"] == "<redacted:customer_pin>"
    assert interaction["request"]["body"]["json"]["note"] == "internal ref <redacted:custom-0>"
    assert interaction["response"]["body"]["json"]["body"]["customer_pin"] == "<redacted:customer_pin>"
    assert interaction["request"]["url"].endswith("/echo/customers/cus_<redacted:customer>")

    # The same rules apply to live requests before matching, so the redacted cassette replays.
    project.run("--agent-replay").assert_outcomes(passed=1)
