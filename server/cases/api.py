"""HTTP endpoints of evidence for court: receipts and the server's keys, evidence items and their
custody, samples and lab results, cases, suspects (investigators only) and the package."""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass

from flask import Flask, current_app, send_file

from schemas.cases import (
    CaseChange,
    CaseCreate,
    CaseOut,
    CorrectionIn,
    CustodyEntryOut,
    ForensicLinkOut,
    HandoverDetails,
    HandoverOut,
    ItemBrief,
    ItemCreate,
    ItemOut,
    ItemQuery,
    LabResultIn,
    LabResultOut,
    OutsideTransfer,
    ReceiptOut,
    SampleCreate,
    SigningKeyOut,
    SuspectIn,
    SuspectOut,
)
from server.cases import custody, lab, receipts, service
from server.cases.custody import entry_dict
from server.cases.keys import Keyring
from server.cases.package import build_package
from server.cases.service import Sealer
from server.config import Config
from server.core.api import API_PREFIX, Blueprint
from server.core.web import commit, current_actor, db

blp = Blueprint("cases", __name__, url_prefix=API_PREFIX, description="Evidence for court")
EXTENSION = "rangersync.cases"


@dataclass(frozen=True)
class CaseTools:
    keyring: Keyring
    sealer: Sealer


def install(app: Flask, config: Config) -> None:
    app.extensions[EXTENSION] = CaseTools(
        Keyring(config.evidence_keys_dir), Sealer(config.suspect_data_keys)
    )


def _tools() -> CaseTools:
    return current_app.extensions[EXTENSION]


# --- receipts and keys ---------------------------------------------------------------------------


@blp.get("/evidence/keys")
@blp.response(200, SigningKeyOut(many=True))
def keys():
    """The server's public keys, current and retired: every receipt and package they signed
    still verifies."""
    return _tools().keyring.published()


@blp.get("/attachments/<uuid:attachment_id>/receipt")
@blp.response(200, ReceiptOut)
def receipt(attachment_id: uuid.UUID):
    """The signed receipt of a stored file (404 until its last byte is in and verified)."""
    view = receipts.receipt_for(db(), current_actor(), _tools().keyring, attachment_id)
    return commit(view.as_dict())


# --- evidence items and custody ------------------------------------------------------------


@blp.post("/areas/<area>/evidence-items")
@blp.arguments(ItemCreate)
@blp.response(201, ItemOut)
def create_item(data, area: str):
    """Number an item (a file already uploaded, or a physical exhibit) and record its intake:
    you hold it from now."""
    item = custody.create_item(db(), current_actor(), area, **data)
    return commit(custody.describe(db(), item))


@blp.get("/areas/<area>/evidence-items")
@blp.arguments(ItemQuery, location="query")
@blp.response(200, ItemBrief(many=True))
def list_items(query, area: str):
    """The park's evidence items, by number; filter by seizure."""
    return custody.list_items(db(), current_actor(), area, **query)


@blp.get("/evidence-items/<uuid:item_id>")
@blp.response(200, ItemOut)
def get_item(item_id: uuid.UUID):
    """An item with its custody log (each entry's body and hash), its holder and its flags."""
    return custody.item_view(db(), current_actor(), item_id)


@blp.post("/evidence-items/<uuid:item_id>/handovers")
@blp.arguments(HandoverDetails)
@blp.response(201, HandoverOut)
def propose_handover(data, item_id: uuid.UUID):
    """The receiver records taking the item from its holder; the holder then acknowledges."""
    return commit(custody.propose_handover(db(), current_actor(), item_id, data))


@blp.post("/handovers/<uuid:handover_id>/acknowledge")
@blp.response(201, CustodyEntryOut)
def acknowledge(handover_id: uuid.UUID):
    """The giver acknowledges: the transfer enters the custody log, signed by both."""
    entry = custody.acknowledge_handover(db(), current_actor(), handover_id)
    return commit(entry_dict(entry))


@blp.post("/evidence-items/<uuid:item_id>/outside")
@blp.arguments(OutsideTransfer)
@blp.response(201, CustodyEntryOut)
def send_outside(data, item_id: uuid.UUID):
    """The holder hands the item to a lab, court or courier (their reference as signature)."""
    party, reference = data.pop("party"), data.pop("reference")
    entry = custody.send_outside(db(), current_actor(), item_id, party, reference, data)
    return commit(entry_dict(entry))


@blp.post("/evidence-items/<uuid:item_id>/returns")
@blp.arguments(OutsideTransfer)
@blp.response(201, CustodyEntryOut)
def receive_back(data, item_id: uuid.UUID):
    """The item comes back from outside to you."""
    party, reference = data.pop("party"), data.pop("reference")
    entry = custody.receive_from_outside(db(), current_actor(), item_id, party, reference, data)
    return commit(entry_dict(entry))


@blp.post("/evidence-items/<uuid:item_id>/corrections")
@blp.arguments(CorrectionIn)
@blp.response(201, CustodyEntryOut)
def correct(data, item_id: uuid.UUID):
    """Correct an earlier entry by a new one (nothing in the log is ever edited)."""
    entry = custody.correct(db(), current_actor(), item_id, data["corrects"], data["note"])
    return commit(entry_dict(entry))


@blp.post("/evidence-items/<uuid:item_id>/samples")
@blp.arguments(SampleCreate)
@blp.response(201, ItemOut)
def take_sample(data, item_id: uuid.UUID):
    """Take a sample (DNA, wood, isotopes…) from an item: a numbered item of its own."""
    sample = custody.take_sample(db(), current_actor(), item_id, **data)
    return commit(custody.describe(db(), sample))


@blp.post("/evidence-items/<uuid:item_id>/lab-results")
@blp.arguments(LabResultIn)
@blp.response(201, LabResultOut)
def record_result(data, item_id: uuid.UUID):
    """A lab's result on a sample, with what it matched (an item or a seizure)."""
    return commit(lab.record_result(db(), current_actor(), item_id, **data))


@blp.get("/seizures/<uuid:seizure_id>/forensic-links")
@blp.response(200, ForensicLinkOut(many=True))
def forensic_links(seizure_id: uuid.UUID):
    """Lab results tying this seizure to others, read from either side."""
    return lab.forensic_links(db(), current_actor(), seizure_id)


# --- cases ---------------------------------------------------------------------------------------


@blp.post("/areas/<area>/cases")
@blp.arguments(CaseCreate)
@blp.response(201, CaseOut)
def open_case(data, area: str):
    """Open a case grouping seizures and reports (investigators and admins)."""
    case = service.open_case(db(), current_actor(), area, **data)
    return commit(service.describe(db(), case))


@blp.get("/areas/<area>/cases")
@blp.response(200, CaseOut(many=True))
def list_cases(area: str):
    """The park's cases with counts and outcomes (managers too; never suspects' data)."""
    return service.list_cases(db(), current_actor(), area)


@blp.get("/cases/<uuid:case_id>")
@blp.response(200, CaseOut)
def get_case(case_id: uuid.UUID):
    """One case with counts and outcome (no suspect's data)."""
    return service.get_case(db(), current_actor(), case_id)


@blp.patch("/cases/<uuid:case_id>")
@blp.arguments(CaseChange)
@blp.response(200, CaseOut)
def change_case(data, case_id: uuid.UUID):
    """Charges, court, hearings, status; closing needs the outcome. Every change is audited."""
    return commit(service.update_case(db(), current_actor(), case_id, data))


@blp.get("/cases/<uuid:case_id>/suspects")
@blp.response(200, SuspectOut(many=True))
def suspects(case_id: uuid.UUID):
    """Investigators and the park's admins only."""
    return service.suspects(db(), current_actor(), _tools().sealer, case_id)


@blp.post("/cases/<uuid:case_id>/suspects")
@blp.arguments(SuspectIn)
@blp.response(201, SuspectOut)
def add_suspect(data, case_id: uuid.UUID):
    """Add a suspect (sealed at rest; investigators and the park's admins only)."""
    return commit(service.add_suspect(db(), current_actor(), _tools().sealer, case_id, data))


@blp.get("/cases/<uuid:case_id>/package")
@blp.response(200, content_type="application/zip")
def package(case_id: uuid.UUID):
    """The evidence package (ZIP): files, manifest, signature and court report."""
    tools = _tools()
    spool = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115
    built = build_package(
        db(),
        current_actor(),
        case_id,
        spool,
        store=current_app.extensions["rangersync"].evidence,
        keyring=tools.keyring,
        sealer=tools.sealer,
    )
    commit(None)
    spool.seek(0)
    response = send_file(
        spool,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"{built.case_number}.zip",
    )
    response.headers["Cache-Control"] = "no-store"
    return response
