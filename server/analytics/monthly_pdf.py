"""The monthly park report as a PDF (reportlab): the figures of the month, the coverage map
(boundary, zones, visited cells shaded by hours, patrol tracks), coverage by zone, effort, CPUE,
plan scores and the notable incidents with their photos; in the reader's language, times in
the park's zone, named.

Pure layout: it takes the gathered MonthlyReport (server/analytics/monthly.py), the language's
code and its `_` (gettext), and returns the PDF's bytes. The strings are marked `_("…")` so
`make messages` finds them like any other.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.platypus import (
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.rl_config import TTFSearchPath

from server.analytics import monthly_map
from server.analytics.monthly import MonthlyReport
from server.core import formats

Gettext = Callable[..., str]

# A Unicode font: Debian's DejaVu (fonts-dejavu-core, installed by `make system`), else the
# Bitstream Vera that reportlab ships (DejaVu's ancestor, Latin scripts only).
FONT_FILES = (
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
    ("Vera.ttf", "VeraBd.ttf"),
)
FONT, BOLD = "ReportSans", "ReportSans-Bold"


def _register_fonts() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    for regular, bold in FONT_FILES:
        try:
            fonts = TTFont(FONT, regular), TTFont(BOLD, bold)
        except TTFError:  # not installed: the next pair
            continue
        for font in fonts:
            pdfmetrics.registerFont(font)
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD)
        return
    raise RuntimeError(
        f"no font for PDF documents (looked for DejaVu, and Vera in {TTFSearchPath})"
    )


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    styles = {
        name: ParagraphStyle(name, parent=base[parent], fontName=font, **extra)
        for name, parent, font, extra in (
            ("title", "Title", BOLD, {"fontSize": 18, "leading": 22}),
            ("h2", "Heading2", BOLD, {"spaceBefore": 10, "spaceAfter": 4}),
            ("body", "BodyText", FONT, {"fontSize": 9.5, "leading": 12.5}),
            ("small", "BodyText", FONT, {"fontSize": 8, "leading": 10, "textColor": colors.grey}),
            ("cell", "BodyText", FONT, {"fontSize": 8.5, "leading": 10.5}),
        )
    }
    return styles


def _text_plain(value: Any) -> str:
    return str(value).replace("\u202f", "\xa0")


def _text(value: Any) -> str:
    """Text for a Paragraph: escaped; the narrow no-break space of French numbers as a
    no-break space, which every font has."""
    return escape(str(value)).replace("\u202f", "\xa0")


class Layout:
    def __init__(self, report: MonthlyReport, locale: str, gettext: Gettext) -> None:
        self.r, self.locale, self._ = report, locale, gettext
        self.s = _styles()
        self.zone = report.area.timezone

    def number(self, value: float | int | None, digits: int | None = None) -> str:
        return "—" if value is None else formats.number(value, self.locale, digits)

    def percent(self, value: float | None) -> str:
        return "—" if value is None else formats.percent(value, self.locale, 1)

    def p(self, text: str, style: str = "body") -> Paragraph:
        return Paragraph(text, self.s[style])

    def table(self, header: list[str], rows: Iterable[list[Any]], widths: list[float]) -> Table:
        data = [[self.p(f"<b>{_text(h)}</b>", "cell") for h in header]]
        data += [[self.p(_text(v), "cell") for v in row] for row in rows]
        table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                    ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.lightgrey),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        return table

    def none(self, text: str) -> Paragraph:
        return self.p(f"<i>{_text(text)}</i>", "small")

    # — the sections —

    def heading(self) -> list:
        _, r = self._, self.r
        month = formats.month_name(r.month, self.locale)
        return [
            self.p(_text(_("Monthly park report")), "title"),
            self.p(f"<b>{_text(r.area.name)}</b> · {_text(month)}", "body"),
            self.p(
                _text(
                    _(
                        "%(start)s to %(end)s, local days of %(zone)s. Made %(made)s.",
                        start=formats.local_day(r.period.start, self.locale, "long"),
                        end=formats.local_day(r.period.end, self.locale, "long"),
                        zone=self.zone,
                        made=formats.local_time(r.generated_at, self.zone, self.locale),
                    )
                ),
                "small",
            ),
            Spacer(1, 6),
        ]

    def figures(self) -> list:
        _, c = self._, self.r.coverage
        rows = [
            [_("Area covered"), self.percent(c.percent)],
            [_("Cells visited"), f"{self.number(c.visited)} / {self.number(c.cells)}"],
            [_("Patrols"), self.number(len(self.r.patrols))],
            [_("Patrol distance (km)"), self.number(c.km, 1)],
            [_("Patrol time (hours)"), self.number(c.hours, 1)],
            [_("Reports (not rejected)"), self.number(self.r.reports)],
            [_("Confirmed reports"), self.number(self.r.confirmed)],
        ]
        return [self.table([_("Figure"), _("This month")], rows, [7 * cm, 5 * cm])]

    def coverage_map(self) -> list:
        _ = self._

        def labels(limits: list[float]) -> list[str]:
            over = [_("over %(hours)s h", hours=self.number(limit, 1)) for limit in limits]
            return [_text_plain(label) for label in [_("visited"), *over]]

        drawing = monthly_map.coverage_drawing(self.r, labels, _text_plain(_("patrol track")), FONT)
        if drawing is None:
            return []
        caption = _(
            "Cells of %(size)s m visited this month, darker where more hours were spent; "
            "grey lines: patrol tracks; dashed: zones.",
            size=self.number(self.r.coverage.cell_m),
        )
        return [self.p(_text(_("Coverage map")), "h2"), drawing, self.p(_text(caption), "small")]

    def zones(self) -> list:
        _ = self._
        zones = self.r.coverage.zones
        out: list = [self.p(_text(_("Coverage by zone")), "h2")]
        if not zones:
            return [*out, self.none(_("The area has no zones."))]
        rows = [
            [
                z.name,
                self.number(z.visited),
                self.number(z.cells),
                self.percent(z.percent),
                self.number(z.hours, 1),
                self.number(z.km, 1),
            ]
            for z in zones
        ]
        header = [_("Zone"), _("Cells visited"), _("Cells"), _("Covered"), _("Hours"), _("km")]
        return [
            *out,
            self.table(header, rows, [5.5 * cm, 2.3 * cm, 2 * cm, 2.2 * cm, 2.3 * cm, 2.3 * cm]),
        ]

    def effort(self) -> list:
        _ = self._
        out: list = [self.p(_text(_("Patrol effort")), "h2")]
        header = [_("Group"), _("Patrols"), _("km"), _("Hours"), _("Moving hours")]
        widths = [5.5 * cm, 2.3 * cm, 2.3 * cm, 2.3 * cm, 2.8 * cm]
        groups = (
            (_("By patrol type"), self.r.effort_by_type, _("No patrols this month.")),
            (_("By ranger"), self.r.effort_by_ranger, _("No ranger was named on a patrol.")),
        )
        for title, rows, empty in groups:
            heading = self.p(f"<b>{_text(title)}</b>", "body")
            if not rows:
                out.append(KeepTogether([heading, self.none(empty)]))
                continue
            table = self.table(
                header,
                (
                    [
                        row["label"],
                        self.number(row["patrols"]),
                        self.number(row["km"], 1),
                        self.number(row["hours"], 1),
                        self.number(row["moving_hours"], 1),
                    ]
                    for row in rows
                ),
                widths,
            )
            out.append(KeepTogether([heading, table]))
        return out

    def cpue(self) -> list:
        _ = self._
        out: list = [self.p(_text(_("Findings per unit of effort (CPUE)")), "h2")]
        if not self.r.cpue:
            return [*out, self.none(_("No findings this month."))]
        rows = [
            [
                row["category"],
                self.number(row["findings"]),
                self.number(None if row["per_km"] is None else row["per_km"] * 100, 2),
                self.number(None if row["per_hour"] is None else row["per_hour"] * 10, 2),
            ]
            for row in self.r.cpue
        ]
        header = [_("Category"), _("Findings"), _("per 100 km"), _("per 10 hours")]
        return [*out, self.table(header, rows, [6.5 * cm, 2.5 * cm, 3 * cm, 3 * cm])]

    def plans(self) -> list:
        _ = self._
        out: list = [self.p(_text(_("Patrol plans")), "h2")]
        if not self.r.plans:
            return [*out, self.none(_("No patrol plan covers this month."))]
        rows = [
            [
                plan["name"],
                f"{formats.local_day(plan['starts_on'], self.locale, 'short')} – "
                f"{formats.local_day(plan['ends_on'], self.locale, 'short')}",
                f"{self.number(plan['actual_hours'], 1)} / {self.number(plan['target_hours'], 1)}",
                f"{self.number(plan['actual_km'], 1)} / {self.number(plan['target_km'], 1)}",
                self.percent(plan["coverage_percent"]),
                self.percent(plan["score_percent"]),
            ]
            for plan in self.r.plans
        ]
        header = [
            _("Plan"),
            _("Dates"),
            _("Hours (done / planned)"),
            _("km (done / planned)"),
            _("Covered"),
            _("Score"),
        ]
        return [
            *out,
            self.table(header, rows, [4 * cm, 3.4 * cm, 2.8 * cm, 2.8 * cm, 2 * cm, 2 * cm]),
        ]

    def incidents(self) -> list:
        _ = self._
        out: list = [self.p(_text(_("Notable incidents")), "h2")]
        if not self.r.incidents:
            return [*out, self.none(_("No reports this month."))]
        statuses = {
            "new": _("new"),
            "in_review": _("in review"),
            "confirmed": _("confirmed"),
            "rejected": _("rejected"),
        }
        priorities = {1: _("urgent"), 2: _("high"), 3: _("normal"), 4: _("low")}
        for incident in self.r.incidents:
            report = incident.report
            point = report.geometry.representative_point()
            facts = _(
                "%(when)s · priority %(priority)s · %(status)s · at %(lat)s, %(lon)s",
                when=formats.local_time(report.observed_at, self.zone, self.locale),
                priority=priorities.get(report.priority, str(report.priority)),
                status=statuses.get(report.status, report.status),
                lat=self.number(point.y, 5),
                lon=self.number(point.x, 5),
            )
            block: list = [
                self.p(f"<b>{_text(incident.label)}</b>", "body"),
                self.p(_text(facts), "small"),
            ]
            if report.notes:
                block.append(self.p(_text(report.notes), "body"))
            if incident.photos:
                block.append(Table([[_photo(path) for path in incident.photos]], hAlign="LEFT"))
            block.append(Spacer(1, 6))
            out.append(KeepTogether(block))
        return out


def _photo(path: Path) -> Image:
    image = Image(str(path))
    ratio = image.imageHeight / image.imageWidth if image.imageWidth else 1
    image.drawWidth, image.drawHeight = 5 * cm, 5 * cm * ratio
    return image


def render(report: MonthlyReport, locale: str, gettext: Gettext) -> bytes:
    _register_fonts()
    _ = gettext
    layout = Layout(report, locale, gettext)
    out = io.BytesIO()
    month = formats.month_name(report.month, locale)
    footer = f"RangerSync · {report.area.name} · {month}"

    def on_page(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(colors.grey)
        canvas.drawString(2 * cm, 1.2 * cm, footer)
        canvas.drawRightString(A4[0] - 2 * cm, 1.2 * cm, _("Page %(n)s", n=document.page))
        canvas.restoreState()

    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        topMargin=1.8 * cm,
        bottomMargin=2 * cm,
        title=f"{_('Monthly park report')} · {report.area.name} · {month}",
        author="RangerSync",
    )
    story = [
        *layout.heading(),
        *layout.figures(),
        *layout.coverage_map(),
        *layout.zones(),
        *layout.effort(),
        *layout.cpue(),
        *layout.plans(),
        *layout.incidents(),
    ]
    document.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return out.getvalue()
