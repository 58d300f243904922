"""What a secret value looks like: detect-secrets' regex plugins plus the formats they miss.

detect-secrets (Yelp) is the maintained rule set: its regex-based plugins are loaded as they ship
(the public-IP plugin aside: an address is not a credential; the entropy and keyword plugins need
a source file's context and are too noisy for API payloads). ``OWN_RULES`` adds the formats it does
not know (GitHub fine-grained PATs, Slack app tokens and webhooks, Hugging Face, Google OAuth, AWS
session tokens, Azure connection strings, npm, SendGrid, URL userinfo and DSN passwords, whole PEM
blocks). Each rule names literal needles, so a string holding none of them skips its regex.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from pytest_agentops.cassette.secrets import derived


@dataclass(frozen=True)
class Rule:
    kind: str
    regex: re.Pattern[str]
    needles: tuple[str, ...] = ()  # lower case; () = no literal prefix, always run
    group: int = 0  # the group holding the secret (0: the whole match)


def _rule(kind: str, pattern: str, needles: tuple[str, ...] = (), group: int = 0, flags: int = 0) -> Rule:
    return Rule(kind, re.compile(pattern, flags), tuple(n.lower() for n in needles), group)


_B64 = r"[A-Za-z0-9+/]"
OWN_RULES: tuple[Rule, ...] = (
    _rule(
        "private-key",
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
        ("private key",),
    ),
    _rule("putty-key", r"PuTTY-User-Key-File-[23][\s\S]*?(?:Private-MAC: [0-9a-f]+|\Z)", ("putty-user-key",)),
    _rule("anthropic-key", r"sk-ant-[A-Za-z0-9_\-]{10,}", ("sk-ant-",)),
    _rule("openai-key", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{16,}", ("sk-",)),
    _rule("stripe-key", r"\b(?:sk|rk|pk)_(?:test|live)_[A-Za-z0-9]{8,}", ("_test_", "_live_")),
    _rule("stripe-webhook-secret", r"\bwhsec_[A-Za-z0-9+/=]{8,}", ("whsec_",)),
    _rule("github-pat", r"\bgithub_pat_[A-Za-z0-9_]{20,}", ("github_pat_",)),
    _rule("github-token", r"\bgh[pousr]_[A-Za-z0-9]{20,}", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    _rule("slack-app-token", r"\bxapp-\d-[A-Za-z0-9\-]{10,}", ("xapp-",)),
    _rule("slack-token", r"\bxox[abposre]-[A-Za-z0-9\-]{10,}", ("xox",)),
    _rule(
        "slack-webhook",
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9_/\-]{8,})",
        ("hooks.slack.com",),
        group=1,
    ),
    _rule("huggingface-token", r"\bhf_[A-Za-z0-9]{30,}", ("hf_",)),
    _rule("google-api-key", r"\bAIza[0-9A-Za-z_\-]{30,}", ("aiza",)),
    _rule("google-oauth-token", r"\bya29\.[0-9A-Za-z_\-.]{20,}", ("ya29.",)),
    _rule(
        "aws-access-key",
        r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b",
        ("akia", "asia", "abia", "acca", "a3t"),
    ),
    _rule(
        "aws-session-token",
        rf"\b(?:FwoGZXIvYXdz|IQoJb3JpZ2lu|IQoDYXdz)(?:{_B64}|%2[Bb]|%2[Ff]){{20,}}=*",
        ("fwogzxivyxdz", "iqojb3jpz2lu", "iqodyxdz"),
    ),
    _rule(
        "aws-secret-key",
        rf"(?i)aws.{{0,30}}?(?:secret|private).{{0,30}}?[=:\"'\s]+({_B64}{{40}})(?!{_B64})",
        ("aws",),
        group=1,
    ),
    _rule(
        "azure-connection-string",
        r"(?i)\b(?:AccountKey|SharedAccessKey|SharedAccessSignature|sig)=([A-Za-z0-9+/=%\-_]{16,})",
        ("accountkey=", "sharedaccesskey=", "sharedaccesssignature=", "sig="),
        group=1,
    ),
    _rule("npm-token", r"\bnpm_[A-Za-z0-9]{30,}", ("npm_",)),
    _rule("gitlab-token", r"\bgl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|oas)-[A-Za-z0-9_\-]{20,}", ("gl",)),
    _rule("sendgrid-key", r"\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}", ("sg.",)),
    _rule("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", ("eyj",)),
    _rule("bearer-token", r"(?i)\b(?:bearer|basic)\s+([A-Za-z0-9._~+/\-]{8,}=*)", ("bearer", "basic"), group=1),
    # URL userinfo and DSNs (postgres://user:pass@host): the password; a long user-only token too.
    _rule("url-password", r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s/:@?#]*:([^\s/@?#]+)@", ("://",), group=1),
    _rule("url-token", r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://([A-Za-z0-9_\-]{20,})@", ("://",), group=1),
    _rule(
        "password-assignment",
        r"(?i)\b(?:password|passwd|pwd|secret|api[_-]?key|client[_-]?secret)[\"']?\s*[=:]\s*[\"']?(?!%3[Cc])([^\s\"'&,;<>]{6,})",
        ("pass", "pwd", "secret", "key"),
        group=1,
    ),
)

# Literal needles for detect-secrets' plugins, by class name: a plugin not listed always runs.
_DS_NEEDLES: dict[str, tuple[str, ...]] = {
    "AWSKeyDetector": ("akia", "asia", "abia", "acca", "a3t", "aws"),
    "ArtifactoryDetector": ("akc", "ap"),
    "AzureStorageKeyDetector": ("accountkey=",),
    "BasicAuthDetector": ("://",),
    "CloudantDetector": ("cl",),
    "GitHubTokenDetector": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    "GitLabTokenDetector": ("gl", "gr1348941"),
    "IbmCloudIamDetector": ("key", "pwd", "pass", "token"),
    "IbmCosHmacDetector": ("secret",),
    "JwtTokenDetector": ("eyj",),
    "NpmDetector": ("_authtoken",),
    "OpenAIDetector": ("t3blbkfj",),
    "PrivateKeyDetector": ("private key", "putty-user-key"),
    "PypiTokenDetector": ("pypi-",),
    "SendGridDetector": ("sg.",),
    "SlackDetector": ("xox", "hooks.slack.com"),
    "SoftlayerDetector": ("softlayer", "sl"),
    "SquareOAuthDetector": ("sq0csp-",),
    "StripeDetector": ("k_live_",),
    "TwilioKeyDetector": ("ac", "sk"),
    # Formats without a literal prefix: the one fixed character every match holds.
    "MailchimpDetector": ("-us",),
    "TelegramBotTokenDetector": (":",),
    "DiscordBotTokenDetector": (".",),
}
_DS_SKIPPED = frozenset({"IPPublicDetector"})  # an address is not a credential


@functools.cache
def detect_secrets_rules() -> tuple[Rule, ...]:
    """detect-secrets' regex plugins as rules (read through ``derived``: importing it is not free)."""
    out: list[Rule] = []
    for secret_type, name, pattern, flags in derived.patterns():
        if name in _DS_SKIPPED or pattern.startswith("https://hooks"):
            continue  # a whole webhook URL: OWN_RULES redacts its path, so the URL stays a URL
        kind = "ds-" + re.sub(r"[^a-z0-9]+", "-", secret_type.lower()).strip("-")
        regex = re.compile(pattern, flags)
        out.append(Rule(kind, regex, _DS_NEEDLES.get(name, ()), 1 if regex.groups else 0))
    return tuple(out)


def all_rules(extra: tuple[tuple[str, str], ...] = ()) -> tuple[Rule, ...]:
    """Our rules first (more specific kinds), then detect-secrets', then the user's patterns."""
    user = tuple(Rule(kind, re.compile(rx)) for kind, rx in extra)
    return OWN_RULES + detect_secrets_rules() + user
