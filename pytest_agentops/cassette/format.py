"""The cassette file: one pretty-printed JSON document per test, read once, indexed, written atomically."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_agentops.cassette import jsontext, validate
from pytest_agentops.cassette.body import request_value as request_value  # re-exported: the old home
from pytest_agentops.cassette.body import store_request_body as store_request_body
from pytest_agentops.cassette.errors import CassetteFormatError
from pytest_agentops.cassette.matching import (
    MatchConfig,
    canonical_request,
    canonical_shape,
    canonical_url,
    normalise_body,
    request_key,
    sent_shape,
)
from pytest_agentops.cassette.meta import build_meta as build_meta
from pytest_agentops.trace.files import file_mode as file_mode  # re-exported: the old home
from pytest_agentops.trace.files import write_atomic as write_atomic

FORMAT_VERSION = 1
Interaction = dict[str, Any]


@dataclass(slots=True)
class _Exact:
    """Recorded requests with the same method, URL and body bytes: where, parsed, and their bucket."""

    slots: list[int]
    value: Any
    bucket: tuple[str, str]


class Cassette:
    """Interactions of one cassette file, with an index from request key to recorded answers."""

    def __init__(self, path: Path, config: MatchConfig | None = None) -> None:
        self.path = path if isinstance(path, Path) else Path(path)  # (Path(path) parses it again)
        self.config = config or MatchConfig()
        self.meta: dict[str, Any] = {}
        self.interactions: list[Interaction] = []
        self.existed = False
        # Every JSON value in it is as ``jsontext.loads`` read it from the file and found plain (no
        # float orjson writes otherwise than json.dumps): replay trusts orjson's bytes of its bodies.
        # Anything added after the load (a recording, planted values) makes it False.
        self.plain = False
        # Request keys are computed when first needed (``_key_index``): a request sent as exactly the
        # bytes of a recorded one is served by position (``take_exact``) without them.
        self._keys: list[str | None] = []  # per interaction, None until computed
        self._index: dict[str, list[int]] | None = None  # request key -> slots, once computed
        # (METHOD, url, body bytes as httpx sends JSON) -> its slots, parsed body and bucket: see take_exact.
        self._exact: dict[tuple[str, str, bytes], _Exact] = {}
        self._buckets: dict[tuple[str, str], int] = {}  # (METHOD, canonical URL) -> interactions
        self._cursor: dict[str, int] = {}
        self._exact_cursor: dict[tuple[str, str, bytes], int] = {}  # used before the keys are computed
        self._bucket_of: list[tuple[str, str]] = []  # per interaction: (METHOD, canonical URL)
        self._shapes: dict[tuple[str, str], dict[tuple[int, int], list[int]]] = {}  # bucket -> shape -> slots
        # slot -> its canonical shape: taken as the cassette loads for a body sent as it is stored
        # (``sent_shape``; those slots are ``_as_sent``, their key their body's value), else computed
        # when ``take_exact`` first needs its bucket's shapes.
        self._shape_of: dict[int, tuple[int, int]] = {}
        self._as_sent: set[int] = set()
        self._alone: dict[tuple[str, str, bytes], bool] = {}  # see ``_by_position``
        self._hidden: tuple[int, dict[str, Any]] = (0, {})  # (interactions seen, key -> Hidden): take_hidden
        self._new: list[Interaction] = []
        self._dropped: list[Interaction] = []  # removed from the file on save (stale error answers, prune)
        self.played: set[int] = set()

    # ---- loading -------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path, config: MatchConfig | None = None, text: str | None = None) -> Cassette:
        """``text``: the file's text, read by the caller (``read_text``); else read here."""
        cassette = cls(path, config)
        if text is None:
            text = read_text(cassette.path, missing_ok=True)  # one open, no stat first: a test loads one
        if text is not None:
            cassette._read(text)
        return cassette

    def _read(self, text: str) -> None:
        data, self.plain = parse(self.path, text)  # every field checked: the index below can trust the shapes
        self.meta = data.get("meta") or {}
        for interaction in data["interactions"]:
            self._add_to_index(interaction)
        self.existed = True

    def extend(self, interactions: Iterable[Any]) -> None:
        """Add recorded interactions given as values (a planted cassette), after checking each as a
        file's are: a fault raises ``CassetteFormatError`` naming this cassette's path and the field
        (``interactions[3].request.method: expected a string, got 5``), and adds none of them.
        Unlike ``add`` (recording), they count as recorded before: unplayed, replayed in order."""
        given = list(interactions)
        self.plain = False
        for offset, interaction in enumerate(given):
            validate.check_interaction(self.path, len(self.interactions) + offset, interaction)
        for interaction in given:
            self._add_to_index(interaction)

    def _add_to_index(self, interaction: Interaction) -> int:
        request = interaction["request"]
        method, url = str(request["method"]).upper(), str(request["url"])
        value = request_value(request.get("body"))
        index = len(self.interactions)
        self.interactions.append(interaction)
        self._keys.append(None)
        if self._index is not None:  # keys are in use: this one's too
            self._index.setdefault(self._key_of(index), []).append(index)
        bucket = (method, canonical_url(url, self.config))
        self._buckets[bucket] = self._buckets.get(bucket, 0) + 1
        self._bucket_of.append(bucket)
        self._shapes.pop(bucket, None)
        self._alone.clear()
        sent = None
        if isinstance(value, dict | list) and "json" in request["body"]:
            try:
                sent = jsontext.dumps(value, plain=self.plain)  # as httpx sends json=
            except (UnicodeEncodeError, ValueError, TypeError, RecursionError):
                pass  # not text httpx could have sent: only the canonical key can match it
            else:
                group = self._exact.get((method, url, sent))
                if group is None:
                    self._exact[(method, url, sent)] = _Exact([index], value, bucket)
                else:
                    group.slots.append(index)
                self._take_shape(index, value, sent)
        return index

    def _take_shape(self, index: int, value: Any, sent: bytes) -> None:
        """The slot's shape from the bytes just written, while they and the body are in the cache."""
        shape = sent_shape(sent)
        if shape is not None and normalise_body(value, self.config) is value:
            self._shape_of[index] = shape
            self._as_sent.add(index)

    def _key_of(self, index: int) -> str:
        key = self._keys[index]
        if key is None:
            request = self.interactions[index]["request"]
            key = request_key(request["method"], request["url"], request_value(request.get("body")), self.config)
            self._keys[index] = key
        return key

    def _key_index(self) -> dict[str, list[int]]:
        """Request key -> slots, computed at the first request that needs keys (a miss of the exact
        path, a shared bucket, recording); what ``take_exact`` served by position counts as played."""
        if self._index is None:
            index: dict[str, list[int]] = {}
            for slot in range(len(self.interactions)):
                index.setdefault(self._key_of(slot), []).append(slot)
            for where, taken in self._exact_cursor.items():
                self._cursor[self._key_of(self._exact[where].slots[0])] = taken
            self._index = index
        return self._index

    # ---- replay --------------------------------------------------------------------------------

    def take(self, key: str) -> Interaction | None:
        """The next unplayed answer recorded for ``key``, in recorded order."""
        slots = self._key_index().get(key)
        if not slots:
            return None
        cursor = self._cursor.get(key, 0)
        if cursor >= len(slots):
            return None
        self._cursor[key] = cursor + 1
        self.played.add(slots[cursor])
        return self.interactions[slots[cursor]]

    def take_hidden(self, method: str, url: str, value: Any) -> tuple[str, Interaction, list[tuple[str, str]]] | None:
        """The next unplayed answer whose recorded request is this one but for the secrets its
        placeholders hide (see ``cassette.hidden``): its key, the answer, and (kind, value) of each
        secret the live request sent in the clear. Only asked after a miss."""
        hidden = self._hidden_index()
        if not hidden:
            return None
        canonical = canonical_request(method, url, value, self.config)
        index = self._key_index()
        for key, pattern in hidden.items():
            if self._cursor.get(key, 0) >= len(index[key]):
                continue
            secrets = pattern.secrets(canonical)
            if secrets is not None:
                interaction = self.take(key)
                assert interaction is not None
                return key, interaction, secrets
        return None

    def _hidden_index(self) -> dict[str, Any]:
        """Request key -> ``Hidden`` of each recorded request holding a placeholder, built at the first
        miss that asks (and again once more were recorded)."""
        seen, hidden = self._hidden
        if seen == len(self.interactions):
            return hidden
        from pytest_agentops.cassette.hidden import Hidden, holds_placeholder

        hidden = dict(hidden)
        for slot in range(seen, len(self.interactions)):
            request = self.interactions[slot]["request"]
            body = request_value(request.get("body"))
            canonical = canonical_request(request["method"], request["url"], body, self.config)
            if holds_placeholder(canonical):
                hidden.setdefault(self._key_of(slot), Hidden(canonical))
        self._hidden = (len(self.interactions), hidden)
        return hidden

    def fresh_view(self) -> Cassette:
        """A view replaying from the start, with its own play cursors (the recorded data is shared)."""
        view = copy.copy(self)
        view._cursor = {}
        view._exact_cursor = {}
        view.played = set()
        view._new = []
        return view

    def exact_match(self, method: str, url: str, body: bytes) -> tuple[str, Any] | None:
        """(request key, parsed body) of a recorded JSON request sent as exactly these bytes, or None.

        httpx (so the openai and anthropic SDKs) sends ``json=`` as compact UTF-8 JSON, which is how
        the index writes each recorded JSON body. Equal bytes parse to an equal body, so a hit has the
        key ``request_key`` would compute, without parsing and canonicalising the request; a request
        sent any other way just misses here and is matched by its canonical key.
        """
        group = self._exact.get((method, url, body))
        return None if group is None else (self._key_of(group.slots[0]), group.value)

    def take_exact(self, method: str, url: str, body: bytes) -> tuple[Interaction, Any] | None:
        """The next answer for a request sent as exactly a recorded one's bytes, with its parsed
        body (see ``exact_match``); None when there is none, or none left to play.

        When no other recorded request can have the same request key (``_keyless``: none has the
        same method, canonical URL and canonical body shape, or those that do have other keys), those
        equal bytes are the whole of their key's recordings, so they replay in recorded order by
        position, and the key index is never built; otherwise through the key, as ``take``.
        """
        where = (method, url, body)
        group = self._exact.get(where)
        if group is None:
            return None
        if self._by_position(where, group):
            cursor = self._exact_cursor.get(where, 0)
            if cursor >= len(group.slots):
                return None
            self._exact_cursor[where] = cursor + 1
            self.played.add(group.slots[cursor])
            return self.interactions[group.slots[cursor]], group.value
        interaction = self.take(self._key_of(group.slots[0]))
        return None if interaction is None else (interaction, group.value)

    def _by_position(self, where: tuple[str, str, bytes], group: _Exact) -> bool:
        """Whether ``group`` replays by position: the keys are not in use yet, and no other recorded
        request can share its request key (then its slots are the whole of that key's recordings)."""
        if self._index is not None:
            return False
        alone = self._alone.get(where)
        if alone is None:
            alone = self._alone[where] = self._keyless(group)
        return alone

    def _keyless(self, group: _Exact) -> bool:
        """No other recorded request shares ``group``'s key, told apart as cheaply as possible: it is
        alone in its bucket, or among the bucket's requests of its canonical shape (no key is
        computed), or else among those by value where both keys are their values, and by key for
        the rest (only their keys are computed)."""
        if self._buckets[group.bucket] == len(group.slots):
            return True
        mates = self._shaped(group.bucket)[self._shape_of[group.slots[0]]]
        if len(mates) == len(group.slots):
            return True
        own = set(group.slots)
        others = [slot for slot in mates if slot not in own]
        if self.plain and group.slots[0] in self._as_sent:  # (plain: no NaN, which equals nothing)
            others = [slot for slot in others if slot not in self._as_sent or self._value(slot) == group.value]
        if not others:
            return True
        key = self._key_of(group.slots[0])
        return not any(self._key_of(slot) == key for slot in others)

    def _value(self, slot: int) -> Any:
        return request_value(self.interactions[slot]["request"].get("body"))

    def _shaped(self, bucket: tuple[str, str]) -> dict[tuple[int, int], list[int]]:
        """Canonical shape -> slots of the requests recorded in ``bucket`` (computed once per bucket)."""
        shaped = self._shapes.get(bucket)
        if shaped is None:
            shaped = self._shapes[bucket] = {}
            for slot, interaction in enumerate(self.interactions):
                if self._bucket_of[slot] == bucket:
                    shape = self._shape_of.get(slot)
                    if shape is None:
                        value = request_value(interaction["request"].get("body"))
                        shape = self._shape_of[slot] = canonical_shape(value, self.config)
                    shaped.setdefault(shape, []).append(slot)
        return shaped

    def recorded_count(self, key: str) -> int:
        return len(self._key_index().get(key, ()))

    def origins(self) -> set[str]:
        """scheme://host:port of every recorded request (these origins are served by this cassette)."""
        from urllib.parse import urlsplit

        out = set()
        for interaction in self.interactions:
            parts = urlsplit(interaction["request"]["url"])
            out.add(f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}".lower())  # userinfo is redacted
        return out

    def __len__(self) -> int:
        return len(self.interactions)

    # ---- recording -----------------------------------------------------------------------------

    def add(self, interaction: Interaction) -> None:
        """Append a freshly recorded interaction; it counts as played, so repeats record anew."""
        self.plain = False
        self._key_index()
        index = self._add_to_index(interaction)
        key = self._key_of(index)
        self._cursor[key] = self._cursor.get(key, 0) + 1
        self.played.add(index)
        self._new.append(interaction)

    def pending(self, key: str) -> list[Interaction]:
        """The answers recorded for ``key`` not played yet, in recorded order."""
        slots = self._key_index().get(key, [])
        return [self.interactions[i] for i in slots[self._cursor.get(key, 0) :]]

    def discard(self, interaction: Interaction) -> None:
        """Remove ``interaction`` (one equal to it) from the file at the next save."""
        if not any(interaction is gone for gone in self._dropped):
            self._dropped.append(interaction)

    @property
    def dirty(self) -> bool:
        return bool(self._new or self._dropped)

    def save(self, replace: bool = False, session: str = "") -> None:
        """Write atomically, merging with what other processes wrote meanwhile.

        ``replace`` (re-record all) drops what the file held before this session, but still merges
        with what another worker of the same session (same ``session`` id) wrote into it.
        """
        if not self.dirty and not replace:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(self.path):
            merged = self.interactions
            current = _current(self.path, replace)
            if current is not None:
                same_session = bool(session) and (current.get("meta") or {}).get("session") == session
                if not replace or same_session:
                    merged = list(current["interactions"]) + self._new
            merged = without(merged, self._dropped)
            meta = build_meta(merged)
            if session:
                meta["session"] = session
            write_atomic(self.path, dump({"version": FORMAT_VERSION, "meta": meta, "interactions": merged}))
        self._new, self._dropped = [], []
        self.existed = True


# ---- file helpers ------------------------------------------------------------------------------


def _current(path: Path, replace: bool) -> dict[str, Any] | None:
    """The file as it is now, to merge with; re-recording (``replace``) may overwrite a corrupt one."""
    if not path.exists():
        return None
    try:
        return read_document(path)
    except CassetteFormatError:
        if replace:
            return None
        raise


def without(interactions: list[Interaction], dropped: list[Interaction]) -> list[Interaction]:
    """``interactions`` less one equal entry per ``dropped`` one (the file may have moved meanwhile)."""
    if not dropped:
        return interactions
    left = list(dropped)
    kept = []
    for interaction in interactions:
        if interaction in left:
            left.remove(interaction)
        else:
            kept.append(interaction)
    return kept


def read_document(path: Path) -> dict[str, Any]:
    """The cassette document, every field checked (``validate``); any fault is a CassetteFormatError."""
    text = read_text(path)
    assert text is not None
    return parse_document(path, text)


def read_text(path: Path, missing_ok: bool = False) -> str | None:
    """The file's text as UTF-8; None for a missing file if ``missing_ok``, else a CassetteFormatError.

    Read with ``os.read`` and decoded once: ``Path.read_text``'s text layer (an incremental decoder
    and newline translation, which JSON does not need) took about half of a one-call cassette's read
    inside a test run. Line numbers in errors are the same: JSON counts lines at LF. The first read
    asks for the size ``fstat`` gives plus one byte, later ones for 64 KiB: glibc serves a 1 MiB
    buffer with a fresh ``mmap`` in some processes, where each such read took 56 µs instead of 6. A
    regular file that gave less than asked is at its end, so most files take one read, not two.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        if missing_ok and isinstance(exc, FileNotFoundError | NotADirectoryError):  # as Path.exists()
            return None
        raise CassetteFormatError(path, f"cannot be read ({exc.strerror or exc})") from exc
    try:
        chunks = []
        info = os.fstat(fd)
        want = info.st_size + 1
        while chunk := os.read(fd, want):
            chunks.append(chunk)
            if len(chunk) < want and stat.S_ISREG(info.st_mode):
                break
            want = 1 << 16  # a file that grew after the fstat: read on to its end
    except OSError as exc:  # a folder where the file should be: EISDIR at the read
        raise CassetteFormatError(path, f"cannot be read ({exc.strerror or exc})") from exc
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CassetteFormatError(path, f"not UTF-8 text ({exc})") from exc


def parse_document(path: Path, text: str) -> dict[str, Any]:
    """``text`` (the file at ``path``) as a cassette document, every field checked."""
    return parse(path, text)[0]


def parse(path: Path, text: str) -> tuple[dict[str, Any], bool]:
    """``parse_document``, and whether the document is plain (``jsontext.loads``)."""
    try:
        data, plain = jsontext.loads(text)
    except json.JSONDecodeError as exc:
        raise CassetteFormatError(path, f"not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    except RecursionError:
        raise CassetteFormatError(path, f"nested too deeply to read (more than {validate.MAX_DEPTH} levels)") from None
    except ValueError as exc:  # e.g. an integer longer than Python converts (sys.get_int_max_str_digits)
        raise CassetteFormatError(path, f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CassetteFormatError(path, "top level must be an object with version, meta and interactions")
    version = data.get("version")
    if version != FORMAT_VERSION or version.__class__ is not int:
        raise CassetteFormatError(
            path,
            f"format version {version!r} is not supported (this pytest-agentops reads version "
            f"{FORMAT_VERSION}); re-record it with --agent-record=all",
        )
    if not isinstance(data.get("interactions"), list):
        raise CassetteFormatError(path, "'interactions' is missing or not a list")
    validate.check_document(path, data, text)
    return data, plain


def dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def header_list(value: str | list[str]) -> list[str]:
    """Headers are stored as a string, or a list when a name repeats (Set-Cookie)."""
    return [value] if isinstance(value, str) else list(value)


def compact_headers(headers: dict[str, list[str]]) -> dict[str, str | list[str]]:
    return {name: values[0] if len(values) == 1 else values for name, values in headers.items()}


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An advisory lock, so parallel workers merge instead of overwriting; kept out of the cassette folder."""
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24]
    lock_dir = Path(tempfile.gettempdir()) / "pytest-agentops-locks"
    lock_dir.mkdir(exist_ok=True)
    lock_path = lock_dir / f"{digest}.lock"
    with open(lock_path, "a+") as fh:
        _lock_file(fh.fileno(), True)
        try:
            yield
        finally:
            _lock_file(fh.fileno(), False)


def _lock_file(fd: int, lock: bool) -> None:
    """An exclusive lock on an open file: flock on POSIX, msvcrt's byte lock on Windows."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_LOCK if lock else msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX if lock else fcntl.LOCK_UN)
