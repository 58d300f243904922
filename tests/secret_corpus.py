"""Fake secrets in realistic formats, built at run time so no scanner flags this repository.

Every value is assembled from pieces (a prefix split in two, a body drawn from a seeded random
generator), so the source holds no complete secret. ``VALUE_FORMATS`` are secrets by their shape
(a detector must find them anywhere); ``NAMED`` are opaque values that are secret only because of
the header, query, form or JSON name they are sent under.
"""

from __future__ import annotations

import base64
import random
import string

ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"


def fill(seed: str, n: int, alphabet: str = ALNUM) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(n))


def j(*parts: str) -> str:
    return "".join(parts)


def _pem(kind: str, seed: str) -> str:
    label = j(kind, "PRI", "VATE KEY")
    lines = [fill(seed + str(i), 64, B64) for i in range(4)]
    return "\n".join([j("-----BEG", "IN ", label, "-----"), *lines, j("-----EN", "D ", label, "-----")])


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _formats() -> dict[str, str]:
    f: dict[str, str] = {}
    f["openai-project"] = j("sk-", "proj-", fill("oa1", 48, URLSAFE))
    f["openai-legacy"] = j("sk", "-", fill("oa2", 20), "T3Blbk", "FJ", fill("oa3", 20))
    f["openai-service"] = j("sk-", "svcacct-", fill("oa4", 40, URLSAFE))
    f["anthropic"] = j("sk-", "ant-api03-", fill("an1", 80, URLSAFE))
    f["stripe-live"] = j("sk_", "live_", fill("st1", 24))
    f["stripe-restricted"] = j("rk_", "live_", fill("st2", 24))
    f["stripe-test"] = j("sk_", "test_", fill("st3", 24))
    f["stripe-webhook"] = j("wh", "sec_", fill("st4", 32))
    for prefix in ("ghp", "gho", "ghu", "ghs", "ghr"):
        f[f"github-{prefix}"] = j(prefix, "_", fill(prefix, 36))
    f["github-fine-grained"] = j("github", "_pat_", fill("gp1", 22), "_", fill("gp2", 59))
    f["slack-bot"] = j(
        "xo", "xb-", fill("sl1", 12, string.digits), "-", fill("sl2", 12, string.digits), "-", fill("sl3", 24)
    )
    f["slack-user"] = j("xo", "xp-", fill("sl4", 12, string.digits), "-", fill("sl5", 24, LOWER_ALNUM))
    f["slack-app"] = j(
        "xa", "pp-1-", fill("sl6", 11, UPPER_ALNUM), "-", fill("sl7", 13, string.digits), "-", fill("sl8", 64, HEX)
    )
    f["slack-webhook"] = j(
        "https://hooks.",
        "slack.com/services/T",
        fill("sw1", 10, UPPER_ALNUM),
        "/B",
        fill("sw2", 10, UPPER_ALNUM),
        "/",
        fill("sw3", 24),
    )
    f["huggingface"] = j("h", "f_", fill("hf1", 34))
    f["google-api-key"] = j("AI", "za", fill("gk1", 35, URLSAFE))
    f["google-oauth"] = j("ya", "29.", fill("go1", 120, URLSAFE))
    f["aws-access-key"] = j("AK", "IA", fill("aw1", 16, UPPER_ALNUM))
    f["aws-temp-access-key"] = j("AS", "IA", fill("aw2", 16, UPPER_ALNUM))
    f["aws-secret-line"] = j("aws_secret", "_access_key = ", fill("aw3", 40, B64))
    f["aws-session-token"] = j("FwoGZXIvYXdz", "E", fill("aw4", 200, B64))
    f["azure-storage"] = j(
        "DefaultEndpointsProtocol=https;AccountName=",
        fill("az1", 10, string.ascii_lowercase),
        ";Account",
        "Key=",
        fill("az2", 86, B64),
        "==;EndpointSuffix=core.windows.net",
    )
    f["azure-sas"] = j("sv=2022-11-02&ss=b&srt=sco&sp=rl&s", "ig=", fill("az3", 43, ALNUM), "%3D")
    f["npm"] = j("np", "m_", fill("np1", 36))
    f["gitlab-pat"] = j("gl", "pat-", fill("gl1", 20, URLSAFE))
    f["gitlab-runner"] = j("gl", "rt-", fill("gl2", 20, URLSAFE))
    f["sendgrid"] = j("S", "G.", fill("sg1", 22, URLSAFE), ".", fill("sg2", 43, URLSAFE))
    f["jwt"] = j(
        "ey", "J", fill("jw1", 30, URLSAFE), ".ey", "J", fill("jw2", 60, URLSAFE), ".", fill("jw3", 43, URLSAFE)
    )
    f["pem-rsa"] = _pem("RSA ", "pem1")
    f["pem-ec"] = _pem("EC ", "pem2")
    f["pem-openssh"] = _pem("OPENSSH ", "pem3")
    f["pem-pkcs8"] = _pem("", "pem4")
    f["dsn-postgres"] = j("postgres", "ql://app:", fill("ds1", 18), "@db.internal:5432/app")
    f["dsn-mysql"] = j("mysql", "://root:", fill("ds2", 16), "@10.0.0.5:3306/prod")
    f["dsn-mongodb"] = j("mongodb", "+srv://svc:", fill("ds3", 20), "@cluster0.mongodb.net/db")
    f["dsn-redis"] = j("redis", "://default:", fill("ds4", 24), "@cache.internal:6379/0")
    f["url-userinfo"] = j("https://deploy:", fill("ui1", 20), "@git.internal/repo.git")
    f["bearer-in-text"] = j("Authorization: Bear", "er ", fill("br1", 40, URLSAFE))
    f["basic-in-text"] = j("Authorization: Bas", "ic ", _b64(j("admin:", fill("bs1", 16))))
    f["base64-openai"] = _b64(j("sk-", "proj-", fill("b64a", 48, URLSAFE)))
    f["base64-github"] = _b64(j("token ghp", "_", fill("b64b", 36)))
    f["url-escaped-openai"] = "".join(f"%{b:02X}" for b in j("sk-", "proj-", fill("ue1", 40, URLSAFE)).encode())
    f["json-escaped-github"] = "".join(f"\\u{ord(c):04x}" for c in j("gh", "p_", fill("je1", 36)))
    f["pypi"] = j("pypi-", "AgEIcHlwaS5vcmc", fill("py1", 80, URLSAFE))
    f["square-oauth"] = j("sq0", "csp-", fill("sq1", 43, URLSAFE))
    f["twilio-key"] = j("S", "K", fill("tw1", 32, HEX))
    f["mailchimp"] = j(fill("mc1", 32, HEX), "-us", "12")
    f["telegram-bot"] = j(fill("tg1", 9, string.digits), ":", "AA", fill("tg2", 33, URLSAFE))
    f["password-assignment"] = j("pass", "word=", fill("pw1", 14), "!")
    f["client-secret-line"] = j("client", "_secret: ", fill("cs1", 32))
    return f


VALUE_FORMATS: dict[str, str] = _formats()

# Opaque values (no detector would know them) and the names that make them secret.
NAMED_HEADERS: dict[str, str] = {
    name: fill("h-" + name, 28)
    for name in ("x-api-token", "x-hf-token", "dd-api-key", "ocp-apim-subscription-key", "api-key", "x-auth-token")
}
NAMED_QUERY: dict[str, str] = {
    name: fill("q-" + name, 26) for name in ("private_token", "access-token", "signature", "apiKey")
}
NAMED_FORM: dict[str, str] = {name: fill("f-" + name, 22) for name in ("pass", "AuthToken", "passwd", "client_secret")}
NAMED_JSON: dict[str, str] = {
    name: fill("j-" + name, 24) for name in ("password", "sessionToken", "credential", "secret")
}
NAMED_MULTIPART: dict[str, str] = {name: fill("m-" + name, 24) for name in ("password", "api_token")}
COOKIE_SESSION = fill("cookie-session", 30)
CUSTOM_SCHEME = j("Bear", "er ", fill("custom-bearer", 36, URLSAFE))  # in a header no rule names


def all_secrets() -> dict[str, str]:
    """Every planted secret by label: the raw text no file or output may hold."""
    out = dict(VALUE_FORMATS)
    for group, values in (
        ("header", NAMED_HEADERS),
        ("query", NAMED_QUERY),
        ("form", NAMED_FORM),
        ("json", NAMED_JSON),
        ("multipart", NAMED_MULTIPART),
    ):
        out.update({f"{group} {name}": value for name, value in values.items()})
    out["cookie session"] = COOKIE_SESSION
    out["custom header bearer"] = CUSTOM_SCHEME.split(" ", 1)[1]
    return out


def needles(label: str, value: str) -> list[str]:
    """What must not appear: the value, and for encoded formats the secret they encode too."""
    found = [value]
    if label.startswith("base64-"):
        found.append(base64.b64decode(value).decode().split(" ")[-1])
    elif label == "url-escaped-openai":
        from urllib.parse import unquote

        found.append(unquote(value))
    elif label == "json-escaped-github":
        found.append(value.encode().decode("unicode_escape"))
    elif label.startswith(("pem-",)):
        found.extend(value.splitlines()[1:-1])  # every line of the key body
    elif label.startswith(("dsn-", "url-userinfo")):
        found.append(value.split(":")[2].split("@")[0])  # the password alone
    return found
