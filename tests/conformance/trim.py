"""Vendor only what a simulator implements from an official OpenAPI document.

    python tests/conformance/trim.py SOURCE.json DEST.json --source URL --licence NAME \\
        --op "GET /v1/customers" --op "POST /v1/customers/{customer}" ...

keeps the named operations and every ``components`` entry they reach through ``$ref`` (followed
transitively), drops prose (``description``, which validation never reads), and records in
``info.x-vendored`` where the document came from, its version and licence, and the operations
kept, so a reader of the trimmed file knows what it is without the original.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

_PROSE = ("description", "x-stripeResource", "x-stripeOperations")


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _strip(node: Any, drop: frozenset[str] = frozenset()) -> Any:
    """``node`` without prose, and without the keys in ``drop`` whatever their values."""
    if isinstance(node, dict):
        return {
            k: _strip(v, drop)
            for k, v in node.items()
            if k not in drop and (k not in _PROSE or not isinstance(v, (str, list, dict)))
        }
    if isinstance(node, list):
        return [_strip(v, drop) for v in node]
    return node


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _parse_op(op: str) -> tuple[str, str]:
    method, _, path = op.strip().partition(" ")
    if not path:
        raise ValueError(f"operation {op!r} must read 'METHOD /path/{{param}}'")
    return method.lower(), path.strip()


def trim(
    document: dict[str, Any],
    operations: Iterable[str],
    *,
    vendored: dict[str, Any] | None = None,
    drop: Iterable[str] = (),
) -> dict[str, Any]:
    """A copy of ``document`` with only ``operations`` ("GET /v1/customers") and what they reference.

    ``drop`` names keys removed before references are followed (``examples``: Zendesk's spec
    attaches an example object to every response, which validation never reads).
    """
    dropped = frozenset(drop)
    paths: dict[str, dict[str, Any]] = {}
    kept: list[str] = []
    for op in operations:
        method, path = _parse_op(op)
        try:
            paths.setdefault(path, {})[method] = _strip(document["paths"][path][method], dropped)
        except KeyError:
            raise KeyError(f"the document has no operation {method.upper()} {path}") from None
        kept.append(f"{method.upper()} {path}")
    components: dict[str, dict[str, Any]] = {}
    pending = list(_refs(paths))
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, section, name = ref[2:].split("/", 2)
        target = _strip(_resolve(document, ref), dropped)
        components.setdefault(section, {})[name] = target
        pending.extend(_refs(target))
    info = dict(document.get("info", {}))
    info["x-vendored"] = {**(vendored or {}), "operations": sorted(kept)}
    out = {k: v for k, v in document.items() if k not in ("paths", "components", "info")}
    out.update(info=info, paths=paths, components={s: dict(sorted(c.items())) for s, c in sorted(components.items())})
    return _strip(out)  # type: ignore[no-any-return]


def trim_fixtures(fixtures: dict[str, Any], names: Iterable[str], *, vendored: dict[str, Any]) -> dict[str, Any]:
    """Stripe's ``fixtures3.json`` reduced to the example objects named (``customer``, ``charge``...)."""
    resources = fixtures.get("resources", {})
    missing = sorted(set(names) - set(resources))
    if missing:
        raise KeyError(f"the fixtures have no object {', '.join(missing)}")
    return {"x-vendored": vendored, "resources": {name: resources[name] for name in sorted(set(names))}}


def trim_examples(document: dict[str, Any], names: Iterable[str], *, vendored: dict[str, Any]) -> dict[str, Any]:
    """The example values named (``TicketResponseExample``...) of an OpenAPI document's
    ``components/examples``: the service's own example objects, as Stripe's fixtures are."""
    examples = document.get("components", {}).get("examples", {})
    missing = sorted(set(names) - set(examples))
    if missing:
        raise KeyError(f"the document has no example {', '.join(missing)}")
    return {"x-vendored": vendored, "examples": {name: examples[name]["value"] for name in sorted(set(names))}}


def ops_of(text: str, block: str | None = None) -> list[str]:
    """The operations listed in an ops file; with ``block``, those under ``## block`` only (one
    file can list the operations of several documents, HubSpot's one per API)."""
    ops: list[str] = []
    current: str | None = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
        elif line.strip() and not line.startswith("#") and (block is None or current == block):
            ops.append(line.strip())
    if block is not None and not ops:
        raise KeyError(f"the ops file has no block '## {block}'")
    return ops


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--op", action="append", default=[], help='"METHOD /path" (repeatable)')
    parser.add_argument("--ops-file", type=Path, help="one operation per line")
    parser.add_argument("--block", help="with --ops-file: only the lines under its '## BLOCK' heading")
    parser.add_argument("--source-url", default="", help="where the original document was published")
    parser.add_argument("--licence", default="", help="its licence")
    parser.add_argument("--version", default="", help="its version, when the document does not say")
    parser.add_argument("--object", action="append", default=[], help="fixtures: keep this example object")
    parser.add_argument("--example", action="append", default=[], help="keep this components/examples entry")
    parser.add_argument("--drop-key", action="append", default=[], help="drop this key everywhere (examples)")
    args = parser.parse_args(argv)
    ops = list(args.op)
    if args.ops_file:
        ops += ops_of(args.ops_file.read_text(), args.block)
    document = json.loads(args.source.read_text(encoding="utf-8"))
    vendored = {"source": args.source_url, "licence": args.licence, "file": args.source.name}
    if args.version:
        vendored["version"] = args.version
    if args.example:
        trimmed = trim_examples(document, args.example, vendored=vendored)
        summary = f"{len(trimmed['examples'])} examples"
    elif args.object:
        trimmed = trim_fixtures(document, args.object, vendored=vendored)
        summary = f"{len(trimmed['resources'])} objects"
    else:
        trimmed = trim(document, ops, vendored=vendored, drop=args.drop_key)
        summary = f"{len(ops)} operations, {sum(map(len, trimmed['components'].values()))} components"
    # one line per top-level key keeps the file small; `python -m json.tool` reads it
    text = "{\n" + ",\n".join(f"{json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in trimmed.items()) + "\n}\n"
    args.dest.write_text(text, encoding="utf-8")
    print(f"{args.dest}: {summary}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
