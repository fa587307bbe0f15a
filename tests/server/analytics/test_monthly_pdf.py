"""The monthly park report as PDF: rendered page by page to images (PDFium, as a reader would
see it) that are not blank, with the coverage map's cells drawn, the month's figures, zones and
incidents in the text, the incident's photo embedded, in English and French."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from PIL import Image, ImageDraw

from server.analytics.monthly_map import HOUR_SHADES
from server.analytics.tracks import refresh_patrols
from server.areas.service import update_area
from server.core.policy import SYSTEM
from tests import factories
from tests.server.analytics.helpers import patrol, walk, zone
from tests.server.evidence.helpers import create_upload, declare_attachment, patch_upload
from tests.server.sync import helpers as h


def _photo() -> bytes:
    image = Image.new("RGB", (800, 600), "#2b6e99")
    ImageDraw.Draw(image).ellipse((200, 150, 600, 450), fill="#f2c14e")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


@pytest.fixture
def park(db, client):
    park = h.park(db)
    zone(db, park.area_id, (37.04, -3.46, 37.07, -3.44), name="Core")
    update_area(db, SYSTEM, park.area_id, timezone="Africa/Nairobi")
    walked = patrol(db, park.area_id, walk(40, dlat=0.0003))  # 2026-11-02, through the zone
    refresh_patrols(db, [walked])
    photo = _photo()
    attachment = declare_attachment(client, park, photo)  # a snare report of 2026-11-20
    location = create_upload(client, park, attachment, len(photo)).headers["Location"]
    assert patch_upload(client, park, location, 0, photo).status_code == 204
    manager = factories.user(db, park.area_id, "manager")
    db.commit()
    return {"park": park, "token": factories.token(client, manager.username)}


def pages_of(pdf: bytes) -> list[tuple[Image.Image, str, int]]:
    """Each page as an image at 100 dpi, its text, and how many images it holds."""
    document = pdfium.PdfDocument(pdf)
    pages = []
    for page in document:
        image = page.render(scale=100 / 72).to_pil().convert("RGB")
        text = page.get_textpage().get_text_range().replace("\xa0", " ").replace("\r", "")
        photos = len(list(page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,))))
        pages.append((image, text, photos))
    return pages


def ink(image: Image.Image) -> float:
    """The share of the page that is not white."""
    grey = image.convert("L")
    return sum(grey.histogram()[:245]) / (grey.width * grey.height)


def monthly(client, park, month: str, lang: str = "en"):
    return client.get(
        f"/api/v1/areas/{park['park'].slug}/reports/monthly.pdf?month={month}&lang={lang}",
        headers=factories.auth(park["token"]),
    )


SHADES = {tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in HOUR_SHADES}


def shaded(image: Image.Image) -> int:
    """Pixels in the colours of visited cells (the legend's swatches have them too)."""
    colours = image.getcolors(maxcolors=image.width * image.height) or []
    return sum(count for count, colour in colours if colour in SHADES)


def test_the_monthly_report_renders_with_its_map_figures_and_photos(client, park, artifacts_dir):
    slug = park["park"].slug
    answer = monthly(client, park, "2026-11")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert f'filename="{slug}-2026-11.pdf"' in answer.headers["Content-Disposition"]
    pages = pages_of(answer.data)
    for n, (image, _, _) in enumerate(pages, 1):
        image.save(artifacts_dir / f"monthly-report-en-page{n}.png")
        assert ink(image) > 0.01, f"page {n} is blank"
    text = "\n".join(t for _, t, _ in pages)
    quiet_month = pages_of(monthly(client, park, "2026-10").data)[0][0]  # the legend alone
    assert shaded(pages[0][0]) > shaded(quiet_month) + 100  # the visited cells are drawn
    for expected in (
        "Monthly park report",
        "November 2026",
        "Coverage by zone",
        "Core",
        "Findings per unit of effort",
        "Notable incidents",
        "Snare",
        "Nov 20, 2026, 9:00 AM EAT",  # the park's time, named
    ):
        assert expected in text, expected
    assert sum(photos for _, _, photos in pages) >= 1  # the snare's photo


def test_the_monthly_report_speaks_french(client, park, artifacts_dir):
    answer = monthly(client, park, "2026-11", "fr")
    assert answer.status_code == 200
    pages = pages_of(answer.data)
    pages[0][0].save(artifacts_dir / "monthly-report-fr-page1.png")
    text = "\n".join(t for _, t, _ in pages)
    assert "Rapport mensuel du parc" in text and "novembre 2026" in text
    assert "Couverture par zone" in text


@pytest.mark.parametrize("month", ["2026-13", "11-2026", "2026-1", ""])
def test_a_month_that_is_not_one_is_refused(client, park, month):
    answer = client.get(
        f"/api/v1/areas/{park['park'].slug}/reports/monthly.pdf?month={month}",
        headers=factories.auth(park["token"]),
    )
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    assert "query:/month" in answer.json["errors"]


def test_rangers_get_no_monthly_report(client, db, park):
    ranger = factories.user(db, park["park"].area_id, "ranger")
    db.commit()
    answer = client.get(
        f"/api/v1/areas/{park['park'].slug}/reports/monthly.pdf?month=2026-11",
        headers=factories.auth(factories.token(client, ranger.username)),
    )
    assert answer.status_code == 403
