"""Checking an evidence package offline, with nothing but the package: no database, no network.

The checks run in this order and each says what it found; the first that fails is named:
package (it opens, has its manifest and signature), keys (each key id is its key's hash), files
(every file listed is there with its SHA-256 and size, nothing unlisted), receipts (signed by a
key in the package, about the very file), custody (each item's entries in order, each chained
to the one before and to its audit entry, none missing), audit (each entry's hash is that of its
content), manifest (signed by the server's key). Flags (gaps, changed seals) are shown, as the
court should see them, without failing the package: they are facts, not tampering."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from server.cases.chain import GENESIS, audit_hash, custody_flags, custody_hash
from server.cases.package import FORMAT, MANIFEST, SIGNATURE
from sync.protocol.receipts import key_id, mismatches


class Failed(Exception):
    """A check that does not hold, with where."""


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Verification:
    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    case_number: str | None = None

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def first_failed(self) -> Check | None:
        return next((c for c in self.checks if not c.ok), None)


@dataclass
class _Package:
    archive: zipfile.ZipFile
    manifest_bytes: bytes
    manifest: dict[str, Any]
    signature: dict[str, Any]
    keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)


def verify_package(path: Path, pinned_key: str | None = None) -> Verification:
    result = Verification()
    try:
        package = _open(path)
    except Failed as failure:
        result.checks.append(Check("package", False, str(failure)))
        return result
    result.case_number = package.manifest.get("case", {}).get("number")
    result.checks.append(Check("package", True, f"{MANIFEST} and {SIGNATURE} present ({FORMAT})"))
    steps: list[tuple[str, Callable[[_Package], str]]] = [
        ("keys", lambda p: _keys(p, pinned_key)),
        ("files", _files),
        ("receipts", _receipts),
        ("custody", _custody),
        ("audit", _audit),
        ("manifest", _signature),
    ]
    for name, step in steps:
        try:
            result.checks.append(Check(name, True, step(package)))
        except Failed as failure:
            result.checks.append(Check(name, False, str(failure)))
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            result.checks.append(Check(name, False, f"the ZIP is damaged: {error}"))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            result.checks.append(Check(name, False, f"the manifest is malformed here: {error!r}"))
    for item in package.manifest.get("items", []):
        try:
            bodies = [json.loads(e["body"]) for e in item["custody"]]
            flags = custody_flags(bodies)
        except (KeyError, TypeError, ValueError):
            continue
        result.warnings += [f"{item['number']} entry {f.seq}: {f.kind}: {f.detail}" for f in flags]
    return result


def _open(path: Path) -> _Package:
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise Failed(f"not a readable ZIP: {error}") from None
    names = set(archive.namelist())
    for needed in (MANIFEST, SIGNATURE):
        if needed not in names:
            raise Failed(f"{needed} is missing")
    try:
        manifest_bytes = archive.read(MANIFEST)
        manifest = json.loads(manifest_bytes)
        signature = json.loads(archive.read(SIGNATURE))
    except (ValueError, zipfile.BadZipFile) as error:
        raise Failed(f"the manifest or its signature is not readable JSON: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise Failed(f"not a package of format {FORMAT}")
    return _Package(archive, manifest_bytes, manifest, signature)


def _keys(package: _Package, pinned: str | None) -> str:
    for published in package.manifest["keys"]:
        raw = base64.b64decode(published["public_key"], validate=True)
        if key_id(raw) != published["key_id"]:
            raise Failed(f"key {published['key_id']} is not the id of the key it names")
        package.keys[published["key_id"]] = Ed25519PublicKey.from_public_bytes(raw)
    if not package.keys:
        raise Failed("the package holds no public key")
    if pinned is not None and pinned not in package.keys:
        raise Failed(f"the key you trust ({pinned}) is not among the package's keys")
    return f"{len(package.keys)} Ed25519 public key(s): {', '.join(package.keys)}"


def _files(package: _Package) -> str:
    listed = {f["path"]: f for f in package.manifest["files"]}
    # folders a ZIP tool re-packing the files may add are not files
    present = {n for n in package.archive.namelist() if not n.endswith("/")} - {MANIFEST, SIGNATURE}
    for extra in sorted(present - set(listed)):
        raise Failed(f"{extra} is in the package but not in the manifest")
    total = 0
    for name, entry in sorted(listed.items()):
        if name not in present:
            raise Failed(f"{name} is listed in the manifest but missing")
        data = package.archive.read(name)
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry["sha256"] or len(data) != entry["size_bytes"]:
            raise Failed(
                f"{name}: SHA-256 {digest} ({len(data)} bytes), the manifest says "
                f"{entry['sha256']} ({entry['size_bytes']} bytes)"
            )
        total += len(data)
    for item in package.manifest["items"]:
        if (
            item["file"]
            and listed.get(item["file"]["path"], {}).get("sha256") != item["file"]["sha256"]
        ):
            raise Failed(f"{item['number']}: its file is not the one listed")
    return f"{len(listed)} files match their SHA-256 ({total} bytes)"


def _receipts(package: _Package) -> str:
    count = 0
    for item in package.manifest["items"]:
        if not item["file"]:
            continue
        receipt = item["receipt"]
        where = f"{item['number']}"
        if not receipt:
            raise Failed(f"{where}: its file has no receipt")
        key = package.keys.get(receipt["key_id"])
        if key is None:
            raise Failed(f"{where}: receipt signed by key {receipt['key_id']}, not in the package")
        try:
            key.verify(_b64(receipt["signature"]), receipt["payload"].encode())
        except InvalidSignature:
            raise Failed(
                f"{where}: the receipt's signature does not verify with key {receipt['key_id']}"
            ) from None
        payload = json.loads(receipt["payload"])
        wrong = mismatches(
            payload,
            attachment_id=payload.get("attachment_id"),
            sha256=item["file"]["sha256"],
            size_bytes=item["file"]["size_bytes"],
        )
        if wrong:
            raise Failed(f"{where}: the receipt does not match its file: {'; '.join(wrong)}")
        count += 1
    return f"{count} receipts signed by the server, each over its file's SHA-256"


def _custody(package: _Package) -> str:
    audit = {a["id"]: a for a in package.manifest["audit"]}
    entries = 0
    for item in package.manifest["items"]:
        prev = GENESIS
        chain = item["custody"]
        if not chain:
            raise Failed(f"{item['number']}: no custody entry at all")
        for position, entry in enumerate(chain, start=1):
            where = f"{item['number']} entry {position}"
            body = json.loads(entry["body"])
            if body["seq"] != position or entry["seq"] != position:
                raise Failed(f"{where}: it is entry {body['seq']} (one is missing or out of order)")
            if body["item_id"] != item["id"]:
                raise Failed(f"{where}: it belongs to item {body['item']}")
            if bytes.fromhex(entry["prev_hash"]) != prev:
                raise Failed(f"{where}: not chained to the entry before it")
            digest = custody_hash(prev, entry["body"])
            if digest.hex() != entry["hash"]:
                raise Failed(f"{where}: its hash does not match its content")
            linked = audit.get(entry["audit_id"])
            details = json.loads(linked["details_text"]) if linked else {}
            if details.get("hash") != entry["hash"] or details.get("seq") != position:
                raise Failed(f"{where}: its audit entry {entry['audit_id']} does not record it")
            prev = digest
            entries += 1
        recorded = {
            json.loads(a["details_text"]).get("seq")
            for a in audit.values()
            if a["object_id"] == item["id"] and a["action"].startswith("custody.")
        }
        if recorded != set(range(1, len(chain) + 1)):
            missing = sorted(s for s in recorded if s is not None and s > len(chain))
            raise Failed(
                f"{item['number']}: the audit log records custody entries {missing} "
                "that the log no longer has"
            )
    items = len(package.manifest["items"])
    return f"{items} items, {entries} entries, each chained to the one before and to the audit log"


def _audit(package: _Package) -> str:
    for entry in package.manifest["audit"]:
        if audit_hash(entry).hex() != entry["hash"]:
            raise Failed(
                f"audit entry {entry['id']} ({entry['action']}): "
                "its hash does not match its content"
            )
    return f"{len(package.manifest['audit'])} audit entries, each hash matches its content"


def _signature(package: _Package) -> str:
    key = package.keys.get(str(package.signature.get("key_id")))
    if key is None:
        raise Failed(f"signed by key {package.signature.get('key_id')}, not in the package")
    try:
        key.verify(_b64(package.signature["signature"]), package.manifest_bytes)
    except InvalidSignature:
        raise Failed("manifest.json is not what the server signed") from None
    return f"manifest.json signed by key {package.signature['key_id']}"


def _b64(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise Failed("a signature is not base64") from None
