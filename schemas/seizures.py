"""Wire shapes of seizures and the vocabularies they use: CITES specimen terms and units of
quantity (Guidelines for the preparation and submission of CITES annual reports, section 6 a),
CITES source codes, ISO 3166-1 countries, ISO 4217 currencies, detection methods, transport modes.

Each item's unit must be one the guidelines give for its term (tusks are counted or weighed,
scales are weighed, logs are measured in cubic metres): an unknown unit for a term is refused.
"""

from __future__ import annotations

from collections.abc import Mapping

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schemas.common import Out
from schemas.geo import Geometry

# A decimal sent as a string keeps every digit; the OpenAPI document says it is a string.
DECIMAL_STRING = {"type": "string", "format": "decimal"}

Time = fields.AwareDateTime

# ISO 3166-1 alpha-2, as in Debian's iso-codes 4.15; "XX" is CITES's code for an unknown country.
_COUNTRY_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
    BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
    GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
    KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
    MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
    TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
    ZW
    """
COUNTRIES = frozenset(_COUNTRY_CODES.split())
UNKNOWN_COUNTRY = "XX"
# ISO 4217 currencies in circulation (funds, metals and test codes left out).
_CURRENCY_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES
    KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR
    MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB
    RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY
    TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
    """
CURRENCIES = frozenset(_CURRENCY_CODES.split())

# Units of quantity. "NUM" is a number of specimens (the guidelines leave the unit blank for it).
UNITS = {
    "NUM": "number of specimens",
    "kg": "kilograms",
    "g": "grams",
    "l": "litres",
    "ml": "millilitres",
    "m": "metres",
    "m2": "square metres",
    "m3": "cubic metres",
}
_MASS = ("kg", "g")
_LIQUID = ("l", "ml")


def _term(label: str, *units: str) -> tuple[str, tuple[str, ...]]:
    allowed: list[str] = []
    for unit in units:
        group = _MASS if unit in _MASS else _LIQUID if unit in _LIQUID else (unit,)
        allowed += [u for u in group if u not in allowed]
    return label, tuple(allowed)


# CITES terms for the description of specimens → (label, units the guidelines give for it,
# preferred first; a mass may be in kg or g, a liquid in l or ml).
TERMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "BAR": _term("bark", "kg"),
    "BOC": _term("bone carvings", "NUM", "kg"),
    "BOD": _term("bodies", "NUM", "kg"),
    "BON": _term("bones", "kg", "NUM"),
    "BOP": _term("bone pieces", "kg"),
    "CAP": _term("carapaces", "NUM", "kg"),
    "CAR": _term("carvings", "NUM", "kg"),
    "CAV": _term("caviar", "kg"),
    "CHP": _term("timber chips", "kg"),
    "CLA": _term("claws", "NUM", "kg"),
    "COR": _term("raw coral", "kg", "NUM"),
    "DER": _term("derivatives", "kg", "l"),
    "EGG": _term("eggs", "NUM", "kg"),
    "EGL": _term("eggs (live)", "NUM"),
    "EXT": _term("extract", "kg", "l"),
    "FEA": _term("feathers", "kg", "NUM"),
    "FIN": _term("fins", "kg"),
    "FOO": _term("feet", "NUM"),
    "GAB": _term("gall bladders", "NUM", "kg"),
    "GAL": _term("gall", "kg"),
    "GAR": _term("garments", "NUM"),
    "HAI": _term("hair", "kg"),
    "HOC": _term("horn carvings", "NUM", "kg"),
    "HOP": _term("horn pieces", "kg"),
    "HOR": _term("horns", "NUM", "kg"),
    "IVC": _term("ivory carvings", "NUM", "kg"),
    "IVP": _term("ivory pieces", "NUM", "kg"),
    "IVS": _term("ivory scraps", "kg"),
    "LEA": _term("leather", "m2"),
    "LIV": _term("live", "NUM"),
    "LOG": _term("logs", "m3"),
    "LPL": _term("leather products (large)", "NUM"),
    "LPS": _term("leather products (small)", "NUM"),
    "MEA": _term("meat", "kg"),
    "MED": _term("medicine", "kg", "l"),
    "MUS": _term("musk", "g"),
    "OIL": _term("oil", "kg", "l"),
    "PLY": _term("plywood", "m2", "m3"),
    "POW": _term("powder", "kg"),
    "ROO": _term("roots", "NUM", "kg"),
    "SAW": _term("sawn wood", "m3"),
    "SCA": _term("scales", "kg"),
    "SHE": _term("shells", "NUM", "kg"),
    "SKE": _term("skeletons", "NUM"),
    "SKI": _term("skins", "NUM"),
    "SKP": _term("skin pieces", "kg", "NUM"),
    "SKU": _term("skulls", "NUM"),
    "SPE": _term("specimens", "kg", "l", "NUM"),
    "TAI": _term("tails", "NUM", "kg"),
    "TEE": _term("teeth", "NUM", "kg"),
    "TIM": _term("timber", "m3", "kg"),
    "TRO": _term("trophies", "NUM"),
    "TUS": _term("tusks", "NUM", "kg"),
    "VEN": _term("veneer sheets", "m3", "m2", "kg"),
    "WAX": _term("wax", "kg"),
    "WOO": _term("wood products", "NUM", "kg"),
}
# CITES source codes (Resolution Conf. 12.3): where the specimen came from, when known.
SOURCES = {
    "W": "taken from the wild",
    "R": "ranched",
    "D": "Appendix-I animals bred in captivity for commercial purposes",
    "A": "plants artificially propagated",
    "C": "animals bred in captivity",
    "F": "animals born in captivity (F1 or subsequent)",
    "U": "source unknown",
    "I": "confiscated or seized specimens",
    "O": "pre-Convention specimens",
    "X": "taken in the marine environment not under any State's jurisdiction",
    "Y": "assisted production",
}
DETECTION_METHODS = {
    "patrol": "ranger patrol",
    "checkpoint": "checkpoint or roadblock",
    "routine_inspection": "routine inspection",
    "risk_profiling": "risk profiling",
    "intelligence": "intelligence",
    "informant": "informant or tip-off",
    "investigation": "investigation",
    "detection_dog": "detection dog",
    "scanner": "scanner or X-ray",
    "other": "other",
}
TRANSPORT_MODES = {
    "on_foot": "on foot",
    "road": "road",
    "rail": "rail",
    "air": "air",
    "sea": "sea",
    "inland_water": "inland waterway",
    "mail": "mail or courier",
    "unknown": "unknown",
}
REASONS = {
    "illegal_possession": "illegal possession",
    "illegal_hunting": "illegal hunting or killing",
    "illegal_harvest": "illegal harvest or logging",
    "no_permit": "no CITES permit or certificate",
    "invalid_permit": "invalid or false permit",
    "false_declaration": "false declaration",
    "other": "other",
}


def _country(value: str) -> None:
    if value not in COUNTRIES and value != UNKNOWN_COUNTRY:
        raise ValidationError(
            f"{value!r} is not an ISO 3166-1 alpha-2 country code (use XX for unknown)"
        )


def _between(low: int, high: int, above: bool = False):
    """A range check for exact decimals (marshmallow's Range would put Decimals in OpenAPI)."""

    def check(value) -> None:
        if value < low or (above and value == low):
            raise ValidationError(
                f"must be greater than {low}" if above else f"must be {low} or more"
            )
        if value > high:
            raise ValidationError(f"must be at most {high}")

    return check


def _countries(**kwargs) -> fields.List:
    return fields.List(
        fields.String(validate=_country),
        load_default=list,
        validate=validate.Length(max=30),
        **kwargs,
    )


class SeizureItemIn(Schema):
    """One thing seized: a taxon (by id, or as text until a manager resolves it), what the
    specimen is, and how much."""

    taxon_id = fields.UUID(allow_none=True)
    taxon_text = fields.String(validate=validate.Length(min=1, max=200), allow_none=True)
    term = fields.String(
        required=True,
        validate=validate.OneOf(TERMS, error="not a CITES specimen term code (TUS, SCA, HOR …)"),
    )
    unit = fields.String(
        required=True,
        validate=validate.OneOf(UNITS, error=f"not a unit of quantity ({', '.join(UNITS)})"),
    )
    quantity = fields.Decimal(
        required=True,
        allow_nan=False,
        validate=_between(0, 10**9, above=True),
        metadata={"type": "number", "exclusiveMinimum": True, "minimum": 0},
    )
    count = fields.Integer(strict=True, validate=validate.Range(min=1, max=10**9), allow_none=True)
    value = fields.Decimal(
        allow_none=True,
        allow_nan=False,
        validate=_between(0, 10**12),
        metadata={"type": "number", "minimum": 0},
    )
    currency = fields.String(
        allow_none=True,
        validate=validate.OneOf(sorted(CURRENCIES), error="not an ISO 4217 currency code"),
    )
    source = fields.String(
        allow_none=True,
        validate=validate.OneOf(SOURCES, error=f"not a CITES source code ({', '.join(SOURCES)})"),
    )

    @validates_schema
    def _coherent(self, data, **kwargs):
        if not data.get("taxon_id") and not data.get("taxon_text"):
            raise ValidationError(
                "name the taxon (taxon_id), or describe it (taxon_text, e.g. 'unidentified')",
                "taxon_id",
            )
        term, unit = data.get("term"), data.get("unit")
        if term in TERMS and unit in UNITS and unit not in TERMS[term][1]:
            label, allowed = TERMS[term]
            raise ValidationError(
                f"{UNITS[unit]} is not a unit for {label} ({term}); use {', '.join(allowed)}",
                "unit",
            )
        if (data.get("value") is None) != (data.get("currency") is None):
            missing = "currency" if data.get("currency") is None else "value"
            raise ValidationError("a value needs its currency, and a currency its value", missing)


class SeizureIn(Schema):
    """A seizure as a device pushes it or a manager files it."""

    seized_at = Time(required=True)
    geometry = Geometry(allowed=("Point",), required=True)
    place_name = fields.String(validate=validate.Length(max=200), allow_none=True)
    patrol_id = fields.UUID(allow_none=True)
    operation = fields.String(validate=validate.Length(max=200), allow_none=True)
    agency = fields.String(required=True, validate=validate.Length(min=1, max=200))
    detection_method = fields.String(required=True, validate=validate.OneOf(DETECTION_METHODS))
    transport_mode = fields.String(required=True, validate=validate.OneOf(TRANSPORT_MODES))
    reason = fields.String(allow_none=True, validate=validate.OneOf(REASONS))
    origin_countries = _countries()
    transit_countries = _countries()
    destination_countries = _countries()
    offender_nationalities = _countries()
    items = fields.List(
        fields.Nested(SeizureItemIn), required=True, validate=validate.Length(min=1, max=100)
    )
    report_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=50))
    attachment_ids = fields.List(
        fields.UUID(), load_default=list, validate=validate.Length(max=200)
    )
    reference = fields.String(validate=validate.Length(max=100), allow_none=True)
    notes = fields.String(validate=validate.Length(max=5000), allow_none=True)


# What an edit may change (device edit records and managers' PATCH alike).
EDITABLE = tuple(SeizureIn._declared_fields)


class SeizureCreate(SeizureIn):
    """A manager files a seizure; an id of their own makes a retried request harmless."""

    id = fields.UUID(load_default=None)


class SeizureChange(Schema):
    """A manager's change, made on `base_version`."""

    base_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    changes = fields.Dict(required=True, validate=validate.Length(min=1))


class SeizureQuery(Schema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100), load_default=None)
    taxon_id = fields.UUID(load_default=None)
    term = fields.String(validate=validate.OneOf(TERMS), load_default=None)
    limit = fields.Integer(validate=validate.Range(min=1, max=1000), load_default=200)


class SeizureItemOut(Out):
    position = fields.Integer()
    taxon_id = fields.UUID(allow_none=True)
    taxon_text = fields.String(allow_none=True)
    scientific_name = fields.String(allow_none=True)
    cites_appendix = fields.String(allow_none=True)
    term = fields.String()
    term_label = fields.String()
    unit = fields.String()
    quantity = fields.Decimal(as_string=True, metadata=DECIMAL_STRING)
    count = fields.Integer(allow_none=True)
    value = fields.Decimal(as_string=True, allow_none=True, metadata=DECIMAL_STRING)
    currency = fields.String(allow_none=True)
    source = fields.String(allow_none=True)


class SeizureOut(Out):
    id = fields.UUID()
    area_id = fields.UUID()
    version = fields.Integer()
    seized_at = fields.DateTime()
    geometry = fields.Raw(metadata={"description": "GeoJSON point"})
    place_name = fields.String(allow_none=True)
    patrol_id = fields.UUID(allow_none=True)
    operation = fields.String(allow_none=True)
    agency = fields.String()
    detection_method = fields.String()
    transport_mode = fields.String()
    reason = fields.String(allow_none=True)
    origin_countries = fields.List(fields.String())
    transit_countries = fields.List(fields.String())
    destination_countries = fields.List(fields.String())
    offender_nationalities = fields.List(fields.String())
    report_ids = fields.List(fields.UUID())
    attachment_ids = fields.List(fields.UUID())
    reference = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    device_id = fields.UUID(allow_none=True)
    clock_suspect = fields.Boolean()
    received_at = fields.DateTime()
    updated_at = fields.DateTime()
    items = fields.List(fields.Nested(SeizureItemOut))


class TaxonOut(Out):
    id = fields.UUID()
    scientific_name = fields.String()
    author = fields.String(allow_none=True)
    rank = fields.String()
    kingdom = fields.String(allow_none=True)
    class_name = fields.String(allow_none=True)
    order_name = fields.String(allow_none=True)
    family = fields.String(allow_none=True)
    genus = fields.String(allow_none=True)
    common_names = fields.Dict()
    cites_appendix = fields.String(allow_none=True)
    cites_listed_on = fields.Date(allow_none=True)
    sensitive = fields.Boolean()
    version = fields.Integer()


class TaxonQuery(Schema):
    q = fields.String(validate=validate.Length(max=100), load_default=None)
    limit = fields.Integer(validate=validate.Range(min=1, max=500), load_default=50)


class SeizureTrendQuery(Schema):
    start = fields.Date(load_default=None, metadata={"description": "first local day"})
    end = fields.Date(load_default=None, metadata={"description": "last local day"})


class SeizureTrendOut(Out):
    """One group of a figure; which keys are present depends on the figure."""

    def get_attribute(self, obj, attr, default):
        # A group is a mapping holding only its figure's keys: a key it lacks is absent, never
        # the mapping's own attribute of that name (`items` would be dict.items).
        if isinstance(obj, Mapping):
            return obj.get(attr, default)
        return super().get_attribute(obj, attr, default)

    taxon = fields.String()
    appendix = fields.String(allow_none=True)
    term = fields.String()
    unit = fields.String()
    origin = fields.String(allow_none=True)
    destination = fields.String(allow_none=True)
    month = fields.String()
    seizures = fields.Integer()
    items = fields.Integer()
    quantity = fields.Decimal(as_string=True, metadata=DECIMAL_STRING)
