"""Wire shapes of evidence for court: evidence items and custody, receipts and keys, cases,
suspects (investigators only: no other shape carries a suspect's data), lab results."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.common import Out

Time = fields.AwareDateTime
ITEM_KINDS = ("digital", "physical")
ANALYSES = ("dna", "wood_anatomy", "isotopes", "morphology", "other")
CASE_STATUSES = ("open", "charged", "in_court", "closed")
CASE_OUTCOMES = ("convicted", "acquitted", "dismissed", "withdrawn", "fined")


def _text(max_length: int = 500, **kwargs) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


class HandoverDetails(Schema):
    at = Time(load_default=None)
    place = _text(allow_none=True)
    purpose = _text(allow_none=True)
    condition = _text(allow_none=True)
    seal_number = _text(100, allow_none=True)


class ItemCreate(HandoverDetails):
    kind = fields.String(required=True, validate=validate.OneOf(ITEM_KINDS))
    description = _text(2000, required=True)
    seizure_id = fields.UUID(load_default=None)
    report_id = fields.UUID(load_default=None)
    attachment_id = fields.UUID(load_default=None)


class SampleCreate(Schema):
    analysis = fields.String(required=True, validate=validate.OneOf(ANALYSES))
    description = _text(2000, required=True)
    seal_number = _text(100, load_default=None)
    place = _text(load_default=None)
    at = Time(load_default=None)


class OutsideTransfer(HandoverDetails):
    party = _text(200, required=True, metadata={"description": "the lab, court or courier"})
    reference = _text(200, required=True, metadata={"description": "their intake number"})


class CorrectionIn(Schema):
    corrects = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    note = _text(2000, required=True)


class CustodyEntryOut(Out):
    seq = fields.Integer()
    body = fields.Dict(metadata={"description": "what the entry's hash covers"})
    prev_hash = fields.String()
    hash = fields.String()
    audit_id = fields.Integer()


class FlagOut(Out):
    seq = fields.Integer()
    kind = fields.String(metadata={"enum": ["gap", "seal", "time", "start"]})
    detail = fields.String()


class HandoverOut(Out):
    id = fields.UUID()
    item_id = fields.UUID()
    from_user_id = fields.UUID()
    to_user_id = fields.UUID()
    details = fields.Dict()
    state = fields.String()
    created_at = fields.DateTime()


class ItemOut(Out):
    id = fields.UUID(attribute="item.id")
    number = fields.String(attribute="item.number")
    kind = fields.String(attribute="item.kind")
    description = fields.String(attribute="item.description")
    seizure_id = fields.UUID(attribute="item.seizure_id", allow_none=True)
    report_id = fields.UUID(attribute="item.report_id", allow_none=True)
    attachment_id = fields.UUID(attribute="item.attachment_id", allow_none=True)
    parent_id = fields.UUID(attribute="item.parent_id", allow_none=True)
    analysis = fields.String(attribute="item.analysis", allow_none=True)
    created_at = fields.DateTime(attribute="item.created_at")
    holder = fields.String(allow_none=True)
    custody = fields.List(fields.Nested(CustodyEntryOut), attribute="entries")
    flags = fields.List(fields.Nested(FlagOut))
    pending = fields.List(fields.Nested(HandoverOut))


class ItemBrief(Out):
    id = fields.UUID()
    number = fields.String()
    kind = fields.String()
    description = fields.String()
    seizure_id = fields.UUID(allow_none=True)
    report_id = fields.UUID(allow_none=True)


class ItemQuery(Schema):
    seizure_id = fields.UUID(load_default=None)


class ReceiptOut(Out):
    key_id = fields.String()
    payload = fields.String(metadata={"description": "canonical JSON; the signature covers it"})
    signature = fields.String(metadata={"description": "Ed25519, base64"})


class SigningKeyOut(Out):
    key_id = fields.String()
    algorithm = fields.String()
    public_key = fields.String(metadata={"description": "raw 32-byte Ed25519 key, base64"})
    created_at = fields.String()
    current = fields.Boolean()


class Charge(Schema):
    statute = _text(200, required=True)
    description = _text(2000, required=True)


class Hearing(Schema):
    at = fields.String(required=True, validate=validate.Length(min=10, max=40))
    purpose = _text(500, required=True)
    result = _text(2000, load_default=None, allow_none=True)


class CaseCreate(Schema):
    title = _text(300, required=True)
    seizure_ids = fields.List(fields.UUID(), load_default=list)
    report_ids = fields.List(fields.UUID(), load_default=list)


class CaseChange(Schema):
    title = _text(300)
    status = fields.String(validate=validate.OneOf(CASE_STATUSES))
    court = _text(300, allow_none=True)
    court_reference = _text(200, allow_none=True)
    charges = fields.List(fields.Nested(Charge))
    hearings = fields.List(fields.Nested(Hearing))
    outcome = fields.String(validate=validate.OneOf(CASE_OUTCOMES), allow_none=True)
    sentence = _text(2000, allow_none=True)
    seizure_ids = fields.List(fields.UUID())
    report_ids = fields.List(fields.UUID())


class CaseOut(Out):
    """A case as managers see it too: counts and outcomes, never a suspect's data."""

    id = fields.UUID(attribute="case.id")
    number = fields.String(attribute="case.number")
    title = fields.String(attribute="case.title")
    status = fields.String(attribute="case.status")
    court = fields.String(attribute="case.court", allow_none=True)
    court_reference = fields.String(attribute="case.court_reference", allow_none=True)
    charges = fields.List(fields.Dict(), attribute="case.charges")
    hearings = fields.List(fields.Dict(), attribute="case.hearings")
    outcome = fields.String(attribute="case.outcome", allow_none=True)
    sentence = fields.String(attribute="case.sentence", allow_none=True)
    opened_at = fields.DateTime(attribute="case.opened_at")
    closed_at = fields.DateTime(attribute="case.closed_at", allow_none=True)
    seizure_ids = fields.List(fields.UUID())
    report_ids = fields.List(fields.UUID())
    suspects = fields.Integer(metadata={"description": "how many; who they are is not here"})
    items = fields.Integer()
    lab_results = fields.Integer()


class SuspectIn(Schema):
    name = _text(300, required=True)
    id_number = _text(100, load_default=None)
    nationality = fields.String(validate=validate.Regexp(r"^[A-Z]{2}$"), load_default=None)
    date_of_birth = fields.String(
        validate=validate.Regexp(r"^\d{4}-\d{2}-\d{2}$"), load_default=None
    )
    notes = _text(2000, load_default=None)


class SuspectOut(Out):
    id = fields.UUID()
    name = fields.String()
    id_number = fields.String(allow_none=True)
    nationality = fields.String(allow_none=True)
    date_of_birth = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)


class LabResultIn(Schema):
    lab = _text(200, required=True)
    lab_reference = _text(200, required=True)
    summary = _text(4000, required=True)
    reported_at = Time(required=True)
    species_confirmed = _text(300, load_default=None)
    origin = _text(300, load_default=None)
    matched_item_id = fields.UUID(load_default=None)
    matched_seizure_id = fields.UUID(load_default=None)


class LabResultOut(Out):
    id = fields.UUID()
    sample_id = fields.UUID()
    lab = fields.String()
    lab_reference = fields.String()
    summary = fields.String()
    species_confirmed = fields.String(allow_none=True)
    origin = fields.String(allow_none=True)
    matched_item_id = fields.UUID(allow_none=True)
    matched_seizure_id = fields.UUID(allow_none=True)
    reported_at = fields.DateTime()


class ForensicLinkOut(Out):
    result = fields.Nested(LabResultOut)
    sample_number = fields.String()
    seizure_id = fields.UUID(allow_none=True)
    other_seizure_id = fields.UUID(allow_none=True)
    other_item_number = fields.String(allow_none=True)
