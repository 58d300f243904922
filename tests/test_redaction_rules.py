"""The redactor's rules one by one: names, values, encodings, placeholders, echoes, bytes."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import secret_corpus as corpus

from pytest_agentops.cassette.matching import MatchConfig, explain, request_key
from pytest_agentops.cassette.redact import Redactor
from pytest_agentops.cassette.secrets import placeholder as ph
from pytest_agentops.cassette.secrets.names import is_secret_name

KEY = b"test-key"
GITHUB = corpus.VALUE_FORMATS["github-ghp"]
OPENAI = corpus.VALUE_FORMATS["openai-project"]


def redactor() -> Redactor:
    return Redactor(key=KEY)


@pytest.mark.parametrize("label", sorted(corpus.VALUE_FORMATS))
def test_every_format_is_found_in_prose(label: str) -> None:
    value = corpus.VALUE_FORMATS[label]
    out = redactor().text(f"the config says {value} (do not share)")
    assert [n for n in corpus.needles(label, value) if n in out] == []
    assert out.startswith("the config says ") and out.endswith(" (do not share)")
    assert ph.PLACEHOLDER.search(out)


@pytest.mark.parametrize(
    "name", ["x-api-token", "private_token", "AuthToken", "apiKey", "pass", "passwd", "client-secret", "x-hf-token"]
)
def test_secret_names_by_their_words(name: str) -> None:
    assert is_secret_name(name)
    assert redactor().request({name: "opaque-value-1"})[name].startswith(f"<redacted:{name.lower()}:")


@pytest.mark.parametrize("name", ["author", "max_tokens", "tokens", "idempotency-key", "monkey", "keyboard_layout"])
def test_names_that_only_look_secret(name: str) -> None:
    assert not is_secret_name(name)


def test_model_output_fields_named_token_survive_in_responses() -> None:
    """logprobs carry ``token`` fields and usage ``*_tokens``: replay depends on them."""
    answer = {
        "choices": [{"logprobs": {"content": [{"token": "Hello", "logprob": -0.1, "top_logprobs": []}]}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2},
        "access_token": "tok-abcdefgh-1234",
    }
    out = redactor().value(answer)
    assert out["choices"] == answer["choices"] and out["usage"] == answer["usage"]
    assert out["access_token"].startswith("<redacted:access_token:")


def test_placeholders_are_stable_per_key_and_reveal_nothing() -> None:
    a, b = redactor().text(GITHUB), redactor().text(GITHUB)
    other = Redactor(key=b"another-project").text(GITHUB)
    assert a == b and a != other
    assert ph.normalise(a) == ph.normalise(other) == "<redacted:github-token>"
    assert GITHUB[4:12] not in a


def test_the_key_comes_from_the_env_or_a_file_made_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ph.ENV_KEY, raising=False)
    first = ph.load_key(tmp_path)
    key_file = tmp_path / ph.KEY_FILE
    assert key_file.is_file() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert ph.load_key(tmp_path) == first
    monkeypatch.setenv(ph.ENV_KEY, "from-ci-secret")
    assert ph.load_key(tmp_path) == b"from-ci-secret"


def test_matching_treats_placeholders_as_equal() -> None:
    config = MatchConfig()
    recorded = redactor().request({"password": "recorded-pw-1", "q": "x"})
    live = Redactor(key=b"ci").request({"password": "another-pw-2", "q": "x"})
    assert recorded != live
    assert request_key("POST", "https://h/x", recorded, config) == request_key("POST", "https://h/x", live, config)
    _, lines = explain("POST", "https://h/x", live, [(0, "POST", "https://h/x", {**recorded, "q": "y"})], config)
    assert len(lines) == 1 and lines[0].startswith("q changed")  # the placeholders are no difference


def test_redacting_twice_changes_nothing() -> None:
    r = redactor()
    for value in corpus.VALUE_FORMATS.values():
        once = r.text(value)
        assert r.text(once) == once
    once_url = r.url("https://u:pw-secret-9@h/p?token=abcdefgh9&q=1")
    assert r.url(once_url) == once_url and "pw-secret-9" not in once_url and "abcdefgh9" not in once_url


def test_echoes_of_request_secrets_are_scrubbed_everywhere_after() -> None:
    r = redactor()
    r.request({"__form__": [("pass", "hunter2-hunter2"), ("amount", "100")]})
    r.headers_dict({"x-tenant-key": ["tenant-opaque-77"]})
    echoed = r.value({"echo": "you sent hunter2-hunter2 and tenant-opaque-77", "amount": "100"})
    assert "hunter2" not in json.dumps(echoed) and "tenant-opaque" not in json.dumps(echoed)
    assert echoed["amount"] == "100"
    assert "tenant-opaque-77" not in r.text("AssertionError: tenant-opaque-77 != x")  # failure text


def test_plain_words_under_a_secret_name_are_not_scrubbed_from_prose() -> None:
    r = redactor()
    assert r.request({"password": "secret"})["password"].startswith("<redacted:password:")
    assert r.text("a secret answer") == "a secret answer"


def test_authorization_schemes_in_any_header_and_cookie_names_kept() -> None:
    out = redactor().headers_dict(
        {
            "x-upstream-auth": ["Bearer abc.def-ghi_jkl"],
            "x-forward": ["Basic dXNlcjpwYXNzd29yZA=="],
            "cookie": ["session=abcd1234; theme=dark"],
            "set-cookie": ["sid=s3cr3t-v4lue; Path=/; Max-Age=60"],
            "accept": ["application/json"],
        }
    )
    assert ph.normalise(out["x-upstream-auth"][0]) == "Bearer <redacted:x-upstream-auth>"
    assert ph.normalise(out["x-forward"][0]) == "Basic <redacted:x-forward>"
    assert ph.normalise(out["cookie"][0]) == "session=<redacted:cookie>; theme=<redacted:cookie>"
    assert ph.normalise(out["set-cookie"][0]) == "sid=<redacted:set-cookie>; Path=/; Max-Age=60"
    assert out["accept"] == ["application/json"]


def test_url_userinfo_dsn_and_query_names() -> None:
    r = redactor()
    url = r.url("postgres://app:pw-AbC123xyz@db:5432/prod?sslmode=require&private_token=tok-1234567")
    assert "pw-AbC123xyz" not in url and "tok-1234567" not in url
    assert url.startswith("postgres://app:<redacted:url-password:") and "sslmode=require" in url
    assert r.url("https://example.com/a?page=2") == "https://example.com/a?page=2"


def test_pem_block_from_begin_to_end() -> None:
    pem = corpus.VALUE_FORMATS["pem-rsa"]
    out = redactor().text("key:\n" + pem + "\ntrailer")
    assert out.startswith("key:\n<redacted:private-key:") and out.endswith(">\ntrailer")
    assert all(line not in out for line in pem.splitlines())


def test_layers_of_encoding() -> None:
    r = redactor()
    assert GITHUB not in r.text(base64.b64encode(f"token {GITHUB}".encode()).decode())
    escaped = "".join(f"%{b:02X}" for b in OPENAI.encode())
    assert escaped not in r.text(f"q={escaped}")
    assert "\\u0067" not in r.text("".join(f"\\u{ord(c):04x}" for c in GITHUB))


def test_multipart_part_by_part_with_a_stable_boundary() -> None:
    body = (
        '--b0undary42\r\nContent-Disposition: form-data; name="password"\r\n\r\nopaque-pw-1\r\n'
        '--b0undary42\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello ' + GITHUB + "\r\n"
        "--b0undary42--\r\n"
    )
    out = redactor().request(body)
    assert "opaque-pw-1" not in out and GITHUB not in out and "hello <redacted:github-token:" in out
    assert "b0undary42" not in out and out.count("--agentops-boundary") == 3


def test_binary_bodies_are_scanned_as_bytes() -> None:
    data = b"\x89PNG\xff\xfe" + GITHUB.encode() + b"\x00\x80tail"
    out = redactor().raw(data)
    assert GITHUB.encode() not in out
    assert out.startswith(b"\x89PNG\xff\xfe<redacted:github-token:") and out.endswith(b"\x00\x80tail")


def test_clean_values_come_back_unchanged() -> None:
    value = {"model": "gpt-4o", "messages": [{"role": "user", "content": "What is the refund policy?"}]}
    assert redactor().request(value) == value and redactor().value(value) == value
