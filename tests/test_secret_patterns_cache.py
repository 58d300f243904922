"""detect-secrets' patterns are read from a cache between sessions, and rebuilt when it is wrong."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_agentops.cassette.secrets import derived

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "pytest-agentops" / "detect-secrets-patterns.json"


def test_the_first_session_writes_the_patterns_detect_secrets_lists(cache_home: Path) -> None:
    assert not cache_home.exists()
    found = derived.patterns()
    assert found == derived.extract()
    document = json.loads(cache_home.read_text(encoding="utf-8"))
    assert [tuple(p) for p in document["patterns"]] == found
    assert any(name == "AWSKeyDetector" for _, name, _, _ in found)


def test_a_later_session_reads_them_without_importing_detect_secrets(cache_home: Path) -> None:
    derived.patterns()
    code = (
        "import sys\n"
        "from pytest_agentops.cassette.secrets import rules\n"
        "kinds = {r.kind for r in rules.all_rules()}\n"
        "print('ds-aws-access-key' in kinds, 'detect_secrets' in sys.modules, 'requests' in sys.modules)\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home.parents[1]), "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["True", "False", "False"], result.stderr


@pytest.mark.parametrize(
    "damage",
    [
        "not json {",
        json.dumps({"key": "another", "patterns": [["t", "C", "a", 0]]}),
        "KEY-WITH-PATTERNS:" + json.dumps([["t", "C", "(unclosed", 0]]),
        "KEY-WITH-PATTERNS:" + json.dumps([["t", "C", 7, 0]]),
        "KEY-WITH-PATTERNS:" + json.dumps([]),
    ],
    ids=["not-json", "other-key", "bad-regex", "not-a-string", "empty"],
)
def test_a_damaged_or_stale_file_is_rebuilt(cache_home: Path, damage: str) -> None:
    derived.patterns()
    if damage.startswith("KEY-WITH-PATTERNS:"):
        key = json.loads(cache_home.read_text(encoding="utf-8"))["key"]
        damage = json.dumps({"key": key, "patterns": json.loads(damage.partition(":")[2])})
    cache_home.write_text(damage, encoding="utf-8")
    assert derived.patterns() == derived.extract()
    assert [tuple(p) for p in json.loads(cache_home.read_text(encoding="utf-8"))["patterns"]] == derived.extract()


def test_a_changed_plugin_file_changes_the_key(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    derived.patterns()
    cache_home.write_text(
        json.dumps({"key": derived._key(), "patterns": [["Fake", "FakeDetector", "fake-[0-9]+", 0]]}), encoding="utf-8"
    )
    assert derived.patterns() == [("Fake", "FakeDetector", "fake-[0-9]+", 0)]  # the key still holds: read
    real_scandir = os.scandir

    def touched(path: object) -> object:  # one plugin file as an upgrade leaves it: another size
        entries = list(real_scandir(path))  # type: ignore[call-overload]
        return [_Resized(e) if e.name == "aws.py" else e for e in entries]

    monkeypatch.setattr(derived.os, "scandir", touched)
    assert derived.patterns() == derived.extract()


class _Resized:
    def __init__(self, entry: os.DirEntry[str]) -> None:
        self.name, self._entry = entry.name, entry

    def stat(self) -> os.stat_result:
        real = self._entry.stat()
        return os.stat_result((real.st_mode, 0, 0, 0, 0, 0, real.st_size + 1, 0, 0, 0))


def test_an_unwritable_cache_folder_is_not_used(cache_home: Path) -> None:
    cache_home.parent.parent.mkdir(parents=True, exist_ok=True)
    cache_home.parent.write_text("a file where the folder would be", encoding="utf-8")
    assert derived.patterns() == derived.extract()
    assert cache_home.parent.is_file()
