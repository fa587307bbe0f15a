"""HTTP endpoints of the taxon list: search it, read one taxon."""

from __future__ import annotations

import uuid

from schemas.seizures import TaxonOut, TaxonQuery
from server.core.api import API_PREFIX, Blueprint
from server.core.web import current_actor, db
from server.species import service

blp = Blueprint("taxa", __name__, url_prefix=API_PREFIX, description="The taxon list")


@blp.get("/taxa")
@blp.arguments(TaxonQuery, location="query")
@blp.response(200, TaxonOut(many=True))
def search(query):
    """Taxa whose scientific or common name contains `q` (any signed-in person)."""
    return service.search_taxa(db(), current_actor(), query["q"], query["limit"])


@blp.get("/taxa/<uuid:taxon_id>")
@blp.response(200, TaxonOut)
def get_taxon(taxon_id: uuid.UUID):
    """One taxon, with its CITES listing and common names."""
    current_actor()
    return service.get_taxon(db(), taxon_id)
