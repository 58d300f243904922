"""Reading a cassette file: one open, the bytes decoded once, every fault named with the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_agentops.cassette.errors import CassetteFormatError
from pytest_agentops.cassette.format import FORMAT_VERSION, Cassette, dump, read_document

DOCUMENT = {"version": FORMAT_VERSION, "meta": {}, "interactions": []}


def test_a_missing_file_is_an_empty_cassette_and_an_error_to_read_document(tmp_path: Path) -> None:
    path = tmp_path / "none" / "c.json"
    assert not Cassette.load(path).existed
    with pytest.raises(CassetteFormatError, match="cannot be read"):
        read_document(path)


def test_a_folder_and_bad_bytes_are_named_errors(tmp_path: Path) -> None:
    folder = tmp_path / "c.json"
    folder.mkdir()
    with pytest.raises(CassetteFormatError, match="cannot be read") as info:
        Cassette.load(folder)
    assert str(folder) in str(info.value)
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"version": 1, "x": "\xff"}')
    with pytest.raises(CassetteFormatError, match="not UTF-8 text"):
        Cassette.load(bad)


def test_crlf_files_read_as_lf_ones(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_bytes(dump(DOCUMENT).replace("\n", "\r\n").encode())
    assert Cassette.load(path).existed
    broken = tmp_path / "broken.json"
    broken.write_bytes(b'{\r\n  "version": 1,\r\n  oops\r\n}')
    with pytest.raises(CassetteFormatError, match="line 3 column 3"):
        read_document(broken)
    assert json.loads(path.read_text()) == DOCUMENT
