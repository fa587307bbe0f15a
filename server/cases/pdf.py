"""The court report of an evidence package (reportlab): a summary page (the case, charges,
hearings, outcome, suspects, the items and how to verify the package), then one page per item
with its photo, hash, capture data, custody timeline, lab results and flags. Made from the
manifest alone, so what the court reads is what the package proves. Times are in the park's
own time zone, named."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image as PILImage
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import (
    Image,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

STYLES = getSampleStyleSheet()
GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8efe4")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
    ]
)


def court_report(manifest: dict[str, Any], files: dict[str, Path]) -> bytes:
    zone = ZoneInfo(manifest["area"]["timezone"])
    case = manifest["case"]
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=f"Evidence package {case['number']}",
        author="RangerSync",
        leftMargin=1.8 * cm,
        rightMargin=1.8 * cm,
    )
    story: list[Flowable] = []
    story += _summary(manifest, zone)
    for item in manifest["items"]:
        story.append(PageBreak())
        story += _item(item, files, zone)
    doc.build(story)
    return out.getvalue()


def _p(content: str, style: str = "BodyText") -> Paragraph:
    return Paragraph(_escape(content), STYLES[style])


def _escape(value: object) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _local(value: str | None, zone: ZoneInfo) -> str:
    if not value:
        return "—"
    at = datetime.fromisoformat(value).astimezone(zone)
    return at.strftime("%Y-%m-%d %H:%M:%S ") + f"{at.tzname()} ({zone.key})"


def _table(rows: list[list[object]], widths: list[float]) -> Table:
    cells = [[Paragraph(_escape(c), STYLES["BodyText"]) for c in row] for row in rows]
    table = Table(cells, colWidths=[w * cm for w in widths], repeatRows=1)
    table.setStyle(GRID)
    return table


def _summary(manifest: dict[str, Any], zone: ZoneInfo) -> list[Flowable]:
    case = manifest["case"]
    area = manifest["area"]
    story: list[Flowable] = [
        _p(f"Evidence package — case {case['number']}", "Title"),
        _p(f"{case['title']} · {area['name']}"),
        Spacer(1, 0.3 * cm),
        _table(
            [
                ["", ""],
                ["Status", case["status"]],
                ["Outcome", case["outcome"] or "—"],
                ["Sentence", case["sentence"] or "—"],
                ["Court", f"{case['court'] or '—'} {case['court_reference'] or ''}"],
                ["Opened", _local(case["opened_at"], zone)],
                ["Closed", _local(case["closed_at"], zone)],
                ["Package made", _local(manifest["generated_at"], zone)],
            ],
            [4, 13],
        ),
        Spacer(1, 0.3 * cm),
        _p("Charges", "Heading3"),
    ]
    charges = [[c.get("statute", ""), c.get("description", "")] for c in case["charges"]]
    story.append(_table([["Statute", "Charge"], *charges], [5, 12]))
    story.append(_p("Hearings", "Heading3"))
    hearings = [
        [_local(h.get("at"), zone), h.get("purpose", ""), h.get("result", "")]
        for h in case["hearings"]
    ]
    story.append(_table([["When", "Purpose", "Result"], *hearings], [5, 6, 6]))
    if manifest["suspects"]:
        story.append(_p("Accused", "Heading3"))
        rows = [
            [s.get("name"), s.get("id_number"), s.get("nationality")] for s in manifest["suspects"]
        ]
        story.append(_table([["Name", "Identity document", "Nationality"], *rows], [7, 5, 5]))
    story.append(_p("Evidence items", "Heading3"))
    rows = [
        [i["number"], i["kind"], i["description"], len(i["custody"]), len(i["flags"])]
        for i in manifest["items"]
    ]
    story.append(
        _table(
            [["Number", "Kind", "Description", "Custody entries", "Flags"], *rows], [4, 2, 7, 2, 2]
        )
    )
    keys = ", ".join(f"{k['key_id']} ({k['algorithm']})" for k in manifest["keys"])
    story += [
        Spacer(1, 0.3 * cm),
        _p(
            "This report is part of a package whose manifest lists the SHA-256 of every file, "
            "the server's signed receipts, each item's custody log chained by hash, and the "
            "audit entries. The manifest is signed by the server's key; check it with "
            "`rangersync evidence verify PACKAGE.zip`. Server keys: " + keys
        ),
    ]
    return story


def _item(item: dict[str, Any], files: dict[str, Path], zone: ZoneInfo) -> list[Flowable]:
    story: list[Flowable] = [
        _p(f"{item['number']} — {item['kind']}", "Heading2"),
        _p(item["description"]),
    ]
    if item.get("taken_from"):
        story.append(_p(f"Sample ({item['analysis']}) taken from {item['taken_from']}"))
    if item["file"]:
        path = files.get(item["file"]["path"])
        if path is not None and item["file"]["media_type"] in ("image/jpeg", "image/png"):
            story.append(_photo(path))
        story.append(_p(f"SHA-256: {item['file']['sha256']} ({item['file']['size_bytes']} bytes)"))
    if item["receipt"]:
        captured = json.loads(item["receipt"]["payload"])
        position = captured.get("position") or ["—", "—"]
        story.append(
            _table(
                [
                    ["Capture", ""],
                    ["Captured (device clock)", _local(captured["captured_at"], zone)],
                    ["Position (lon, lat)", f"{position[0]}, {position[1]}"],
                    ["Device", captured.get("device_id") or "—"],
                    ["Received by the server", _local(captured["received_at"], zone)],
                    ["Receipt signed by key", item["receipt"]["key_id"]],
                ],
                [6, 11],
            )
        )
    story.append(_p("Custody", "Heading3"))
    rows = []
    for entry in item["custody"]:
        body = json.loads(entry["body"])
        rows.append(
            [
                body["seq"],
                _local(body["at"], zone),
                body["kind"],
                _party(body.get("from")),
                _party(body.get("to")),
                " · ".join(
                    str(body[k])
                    for k in ("place", "purpose", "condition", "reference", "note")
                    if body.get(k)
                ),
                body.get("seal_number") or "",
                f"{body['recorded_by']}"
                + (f" / {body['acknowledged_by']}" if body.get("acknowledged_by") else ""),
                entry["hash"][:16] + "…",
            ]
        )
    story.append(
        _table(
            [["#", "When", "Kind", "From", "To", "Details", "Seal", "Signed by", "Hash"], *rows],
            [0.6, 2.6, 1.6, 1.7, 1.7, 3.2, 1.4, 2.0, 2.4],
        )
    )
    if item["lab_results"]:
        story.append(_p("Laboratory results", "Heading3"))
        rows = [
            [
                r["lab"],
                r["lab_reference"],
                r["species_confirmed"] or "",
                r["origin"] or "",
                r["summary"],
                r["matched_item"] or "",
            ]
            for r in item["lab_results"]
        ]
        story.append(
            _table(
                [["Lab", "Reference", "Species", "Origin", "Finding", "Matches"], *rows],
                [2.5, 2.2, 2.8, 2.5, 4.5, 2.7],
            )
        )
    if item["flags"]:
        story.append(_p("Flags", "Heading3"))
        story += [_p(f"Entry {f['seq']}: {f['kind']}: {f['detail']}") for f in item["flags"]]
    return story


def _party(party: dict | None) -> str:
    if not party:
        return "—"
    return party.get("user") or f"{party.get('external')} (outside)"


def _photo(path: Path) -> Flowable:
    """The photo, scaled to the page; a file that does not decode (damaged, altered) is said to,
    and the report is still made: the package's checks say what happened to it."""
    try:
        with PILImage.open(path) as decoded:
            decoded.load()
    except (OSError, ValueError, PILImage.DecompressionBombError):
        return _p("The photo cannot be shown: its file does not decode as an image.")
    image = Image(str(path))
    scale = min(12 * cm / image.imageWidth, 8 * cm / image.imageHeight)
    image.drawWidth, image.drawHeight = image.imageWidth * scale, image.imageHeight * scale
    return image
