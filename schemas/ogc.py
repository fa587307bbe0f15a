"""Wire shapes of the partner API (OGC API – Features): query parameters of items and item."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate, validates_schema

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
FILTER_LANGS = ("cql2-text", "cql2-json")


def _float_list(value: str) -> list[float]:
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError as error:
        raise ValidationError("numbers separated by commas") from error
    if any(n != n or n in (float("inf"), float("-inf")) for n in numbers):
        raise ValidationError("finite numbers only")
    return numbers


class Bbox(fields.Field):
    """minx,miny,maxx,maxy (or with heights: 6 numbers) in bbox-crs (default CRS84)."""

    def _deserialize(self, value, attr, data, **kwargs):
        numbers = _float_list(str(value))
        if len(numbers) not in (4, 6):
            raise ValidationError("4 numbers (or 6 with heights): minx,miny,maxx,maxy")
        if len(numbers) == 6:
            numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
        if numbers[1] > numbers[3]:
            raise ValidationError("the south edge is above the north edge")
        return numbers


def _instant(text: str) -> datetime | None:
    if text in ("..", ""):
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise ValidationError(f"not an RFC 3339 date-time: {text!r}") from error
    if moment.tzinfo is None:
        raise ValidationError(f"a date-time needs its offset (Z or ±hh:mm): {text!r}")
    return moment


class Interval(fields.Field):
    """An instant, or start/end with '..' for an open end (RFC 3339 date-times or dates)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = str(value)
        if "/" not in text:
            moment = _instant(text)
            if moment is None:
                raise ValidationError("an instant, or an interval start/end")
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):  # a date: the whole day
                return moment, moment.replace(hour=23, minute=59, second=59, microsecond=999999)
            return moment, moment
        start_text, _, end_text = text.partition("/")
        start, end = _instant(start_text), _instant(end_text)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", end_text) and end is not None:
            end = end.replace(hour=23, minute=59, second=59, microsecond=999999)
        if start and end and end < start:
            raise ValidationError("the interval ends before it starts")
        return start, end


class ItemsQuery(Schema):
    class Meta:
        unknown = INCLUDE  # queryable properties as equality filters; the rest refused

    """Query parameters of /collections/{id}/items. Unknown parameters are refused (400), as
    the standard asks, except `f` and `key` (handled before)."""

    limit = fields.Integer(
        load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT), strict=False
    )
    bbox = Bbox(load_default=None)
    bbox_crs = fields.String(data_key="bbox-crs", load_default=None)
    datetime = Interval(load_default=None)
    crs = fields.String(load_default=None)
    after = fields.String(load_default=None, validate=validate.Length(max=100))
    before = fields.String(load_default=None, validate=validate.Length(max=100))
    filter = fields.String(load_default=None, validate=validate.Length(max=20_000))
    filter_lang = fields.String(
        data_key="filter-lang", load_default="cql2-text", validate=validate.OneOf(FILTER_LANGS)
    )
    filter_crs = fields.String(data_key="filter-crs", load_default=None)

    @validates_schema
    def one_direction(self, data, **kwargs):
        if data.get("after") and data.get("before"):
            raise ValidationError("page forward (after) or back (before), not both", "after")


class ItemQuery(Schema):
    crs = fields.String(load_default=None)
