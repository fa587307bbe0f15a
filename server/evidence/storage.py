"""Evidence bytes on the filesystem, content-addressed by SHA-256: the same photo uploaded twice
is stored once. One small interface, so an object store can take its place later."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "partial").mkdir(parents=True, exist_ok=True)
        (root / "sha256").mkdir(parents=True, exist_ok=True)

    def partial(self, upload_id: uuid.UUID) -> Path:
        """Where an upload's bytes gather until they are complete and verified."""
        return self.root / "partial" / str(upload_id)

    def blob(self, sha256: str) -> Path:
        return self.root / "sha256" / sha256[:2] / sha256[2:4] / sha256

    def thumbnail(self, sha256: str) -> Path:
        """A small JPEG of a stored photo for the dashboard (not every file has one)."""
        return self.root / "thumbnails" / sha256[:2] / sha256[2:4] / f"{sha256}.jpg"

    def has(self, sha256: str) -> bool:
        return self.blob(sha256).exists()

    def adopt(self, partial: Path, sha256: str) -> Path:
        """Move verified bytes into place (atomically), or drop them if that content is there."""
        target = self.blob(sha256)
        if target.exists():
            partial.unlink(missing_ok=True)
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(partial, target)
        return target
