"""Offline map packages on the device: learn of a new version from the pull, download it with
HTTP Range so a dropped download resumes where it stopped, verify it, and install it — by delta
when the device holds the version the delta starts from, else whole.

A package (see docs in ARCHITECTURE.md, "How maps are built") is an MBTiles file of vector
tiles (`layers.mbtiles`), a MapLibre style (`style.json`), optionally the park's raster base map
(`basemap.mbtiles`), and a delta from the previous version (`delta-N.mbtiles`: changed tiles and
a `removed_tiles` table). `tiles_digest` identifies the tiles whatever the SQLite file layout, so
a delta-updated file is checked against the server's digest, not its bytes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sync.protocol.digests import tiles_digest

DOWNLOAD_CHUNK = 64 * 1024


class MapPackError(Exception):
    """A download that did not verify, or a server answer the updater cannot use."""


def apply_delta(target: Path, delta: Path, version: int) -> None:
    """Changed and new tiles replace the old, removed ones go, in one SQLite transaction."""
    db = sqlite3.connect(target, isolation_level=None)
    try:
        db.execute("ATTACH DATABASE ? AS delta", (str(delta),))
        db.execute("BEGIN")
        db.execute(
            "DELETE FROM tiles WHERE (zoom_level, tile_column, tile_row) IN"
            " (SELECT zoom_level, tile_column, tile_row FROM delta.removed_tiles)"
        )
        db.execute("INSERT OR REPLACE INTO tiles SELECT * FROM delta.tiles")
        db.execute("INSERT OR REPLACE INTO metadata SELECT * FROM delta.metadata")
        db.execute("INSERT OR REPLACE INTO metadata VALUES ('version', ?)", (str(version),))
        db.execute("COMMIT")
        db.execute("DETACH DATABASE delta")
    finally:
        db.close()


@dataclass
class UpdateResult:
    action: str  # "none", "current", "delta" or "full"
    version: int | None
    downloaded_bytes: int = 0
    resumed: int = 0  # downloads continued with a Range request


class MapPackUpdater:
    """Keeps `folder` holding the area's current package; `installed.json` says which."""

    def __init__(
        self,
        server_url: str,
        token: str,
        folder: Path,
        *,
        timeout_s: float = 30.0,
        chunk_bytes: int = DOWNLOAD_CHUNK,
        on_chunk: Callable[[str, int], None] | None = None,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.token = token
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.timeout_s = timeout_s
        self.chunk_bytes = chunk_bytes
        self.on_chunk = on_chunk  # tests cut downloads here, as a lost signal would

    def installed(self) -> dict | None:
        path = self.folder / "installed.json"
        return json.loads(path.read_text()) if path.exists() else None

    def update(self, packages: dict[str, dict]) -> UpdateResult:
        """Bring the folder to the newest package among `packages` (the pull's map_package
        scope: id → manifest). Safe to call again after any failure: downloads resume."""
        if not packages:
            return UpdateResult("none", None)
        latest = max(packages.values(), key=lambda m: m["version"])
        have = self.installed()
        if have and have["version"] == latest["version"]:
            return UpdateResult("current", latest["version"])
        result = UpdateResult("full", latest["version"])
        files = {
            f["role"] if f["role"] != "delta" else f"delta-{f['from_version']}": f
            for f in latest["files"]
        }
        delta = files.get(f"delta-{have['version']}") if have else None
        staging = self.folder / "staging"
        staging.mkdir(exist_ok=True)
        if (
            delta is not None
            and have is not None
            and have["tiles_sha256"] != latest["tiles_sha256"]
        ):
            result.action = "delta"
            delta_path = self._fetch(latest, delta, staging, result)
            target = staging / "layers.mbtiles"
            shutil.copyfile(self.folder / "layers.mbtiles", target)
            apply_delta(target, delta_path, latest["version"])
            delta_path.unlink()
        elif delta is not None:
            shutil.copyfile(self.folder / "layers.mbtiles", staging / "layers.mbtiles")
        else:
            self._fetch(latest, files["tiles"], staging, result)
        with sqlite3.connect(staging / "layers.mbtiles") as db:
            if tiles_digest(db) != latest["tiles_sha256"]:
                raise MapPackError("the tiles do not match the package's digest")
        for role in ("style", "basemap"):
            if role in files:
                self._fetch(latest, files[role], staging, result)
        for path in staging.iterdir():
            if not path.name.endswith(".part"):
                path.replace(self.folder / path.name)  # atomic per file, after every check
        if "basemap" not in files:
            (self.folder / "basemap.mbtiles").unlink(missing_ok=True)
        installed = {"version": latest["version"], "tiles_sha256": latest["tiles_sha256"]}
        (self.folder / "installed.json").write_text(json.dumps(installed))
        return result

    def _fetch(self, manifest: dict, entry: dict, staging: Path, result: UpdateResult) -> Path:
        """Download one file into staging, continuing a partial one, and check its SHA-256."""
        final = staging / entry["name"]
        if final.exists() and _sha256(final) == entry["sha256"]:
            return final
        part = staging / (entry["name"] + ".part")
        have = part.stat().st_size if part.exists() else 0
        if have > entry["size"]:
            part.unlink()
            have = 0
        request = urllib.request.Request(self.server_url + manifest["base_url"] + entry["name"])  # noqa: S310
        request.add_header("Authorization", f"Bearer {self.token}")
        if have:
            request.add_header("Range", f"bytes={have}-")
            request.add_header("If-Range", f'"{entry["sha256"]}"')
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                mode = "ab" if response.status == 206 else "wb"
                result.resumed += response.status == 206
                size = have if response.status == 206 else 0
                with part.open(mode) as out:
                    while chunk := response.read(self.chunk_bytes):
                        out.write(chunk)
                        size += len(chunk)
                        result.downloaded_bytes += len(chunk)
                        if self.on_chunk:
                            self.on_chunk(entry["name"], size)
        except urllib.error.HTTPError as error:
            raise MapPackError(f"{entry['name']}: HTTP {error.code}") from None
        if _sha256(part) != entry["sha256"]:
            part.unlink()
            raise MapPackError(f"{entry['name']}: SHA-256 mismatch; it will be fetched afresh")
        part.replace(final)
        return final


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
