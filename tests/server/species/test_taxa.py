"""The taxon list: the starter list, the Species+ / Checklist CSV importer, delta pulls."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from server.accounts.service import actor_for
from server.cli import main
from server.core.errors import Forbidden, Invalid
from server.core.policy import SYSTEM
from server.species import service
from server.species.models import RANKS, Taxon
from tests import factories
from tests.server.sync import helpers as h
from tests.server.sync.test_pull import pull_all

# The columns of a Species+ "CITES listings" CSV download, as it writes them (with a BOM).
SPECIES_PLUS_HEADER = (
    "\ufeffId,Kingdom,Phylum,Class,Order,Family,Genus,Species,Subspecies,Scientific Name,Author,"
    "Rank,Listing,Party,Listed under,Full note,# Full note,All_DistributionFullNames,"
    "All_DistributionISOCodes,NativeDistributionFullNames,Introduced_Distribution,"
    "Introduced(?)_Distribution,Reintroduced_Distribution,Extinct_Distribution,"
    "Extinct(?)_Distribution,Distribution_Uncertain"
)
ROWS = [
    '4521,Animalia,Chordata,Mammalia,Proboscidea,Elephantidae,Loxodonta,africana,,Loxodonta africana,"(Blumenbach, 1797)",SPECIES,I/II,,,"Included in Appendix II: populations of Botswana, Namibia, South Africa and Zimbabwe",,"Angola, Benin",AO BJ,"Angola, Benin",,,,,,',
    '9644,Animalia,Chordata,Mammalia,Pholidota,Manidae,Manis,temminckii,,Manis temminckii,"Smuts, 1832",SPECIES,I,,,,,Kenya,KE,Kenya,,,,,,',
    "3210,Plantae,Tracheophyta,Magnoliopsida,Fabales,Leguminosae,Pterocarpus,erinaceus,,Pterocarpus erinaceus,Poir.,SPECIES,II/NC,,,,,Senegal,SN,Senegal,,,,,,",
    "5555,Animalia,Chordata,Aves,Psittaciformes,Psittacidae,Psittacus,,,Psittacus,,TRIBE,II,,,,,,,,,,,,,",
]


def _write(tmp_path: Path, lines: list[str], name: str = "species_plus.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([SPECIES_PLUS_HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def _taxon(db, name: str) -> Taxon:
    return db.scalar(select(Taxon).where(Taxon.scientific_name == name))


def test_starter_list_names_its_sources_and_loads_the_trafficked_taxa(db):
    header = [line for line in service.STARTER_LIST.read_text().splitlines() if line[:1] == "#"]
    assert any("CITES Appendices" in line for line in header)
    assert any("Species+" in line for line in header)
    result = service.load_starter_list(db, SYSTEM)
    assert result.refused == [] and result.added == 40 and result.updated == 0
    elephant = _taxon(db, "Loxodonta africana")
    assert elephant.cites_appendix == "I/II" and elephant.family == "Elephantidae"
    assert elephant.common_names == {
        "en": ["African elephant"],
        "fr": ["Éléphant d'Afrique"],
        "es": ["Elefante africano"],
        "sw": ["tembo"],
    }
    assert str(elephant.cites_listed_on) == "1990-01-18" and elephant.sensitive
    assert _taxon(db, "Manidae").rank == "FAMILY" and _taxon(db, "Manidae").cites_appendix == "I"
    assert _taxon(db, "Syncerus caffer").cites_appendix is None  # bushmeat, not CITES-listed
    assert not _taxon(db, "Dalbergia melanoxylon").sensitive
    again = service.load_starter_list(db, SYSTEM)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 40)


def test_species_plus_export_is_imported_with_reasons_for_refused_rows(db, tmp_path):
    service.load_starter_list(db, SYSTEM)
    before = _taxon(db, "Loxodonta africana")
    version, names = before.version, dict(before.common_names)
    result = service.import_file(db, SYSTEM, _write(tmp_path, ROWS))
    # All three are in the starter list: they gain their Species+ ids; the tribe is refused.
    assert (result.added, result.updated, result.unchanged) == (0, 3, 0)
    assert result.refused == [(13 - 8, "rank 'TRIBE' is not one of " + ", ".join(RANKS))]
    db.expire_all()
    elephant = _taxon(db, "Loxodonta africana")
    assert elephant.species_plus_id == 4521 and elephant.version == version + 1
    assert elephant.common_names == names and elephant.sensitive  # kept: the file has neither
    rosewood = _taxon(db, "Pterocarpus erinaceus")
    assert rosewood.cites_appendix == "II"  # "II/NC": the unlisted populations are not a listing
    assert _taxon(db, "Manis temminckii").species_plus_id == 9644
    unchanged = service.import_file(db, SYSTEM, _write(tmp_path, ROWS))
    assert (unchanged.added, unchanged.updated, unchanged.unchanged) == (0, 0, 3)


def test_a_file_without_the_export_columns_is_refused_whole(db, tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("name,appendix\nLoxodonta africana,I\n")
    with pytest.raises(Invalid, match="Scientific Name"):
        service.import_file(db, SYSTEM, path)
    assert db.execute(text("SELECT count(*) FROM taxa")).scalar_one() == 0


def test_only_an_administrator_imports(db, tmp_path):
    area = factories.area(db)
    manager = factories.user(db, area.id, "manager")
    with pytest.raises(Forbidden):
        service.import_file(db, actor_for(db, manager), _write(tmp_path, ROWS[:1]))


def test_taxa_import_command(committed_db, fresh_engine, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", fresh_engine.url.render_as_string(hide_password=False))
    answer = CliRunner().invoke(main, ["taxa", "import", str(_write(tmp_path, ROWS))])
    assert answer.exit_code == 0, answer.output
    assert "3 taxa added, 0 updated, 0 unchanged, 1 refused" in answer.output
    assert "line 5: rank 'TRIBE'" in answer.output
    count = committed_db.execute(text("SELECT count(*) FROM taxa")).scalar_one()
    assert count == 3


def test_devices_pull_the_taxa_and_then_only_what_an_import_changed(
    committed_client, committed_db, tmp_path
):
    client, db = committed_client, committed_db
    park = h.park(db)
    service.load_starter_list(db, SYSTEM)
    db.commit()
    changes, cursor, _ = pull_all(client, park)
    taxa = {c["data"]["scientific_name"]: c for c in changes if c["kind"] == "taxon"}
    assert len(taxa) == 40
    pangolin = taxa["Manis temminckii"]["data"]
    assert pangolin["cites_appendix"] == "I" and pangolin["common_names"]["sw"] == ["kakakuona"]
    assert pangolin["sensitive"] is True and pangolin["family"] == "Manidae"
    service.import_file(db, SYSTEM, _write(tmp_path, ROWS))
    db.commit()
    delta, cursor, _ = pull_all(client, park, cursor)
    assert sorted(c["data"]["scientific_name"] for c in delta) == [
        "Loxodonta africana",
        "Manis temminckii",
        "Pterocarpus erinaceus",
    ]
    assert {c["data"]["version"] for c in delta} == {2}
    db.execute(
        text("UPDATE taxa SET retired_at = now() WHERE scientific_name = 'Pterocarpus santalinus'")
    )
    db.commit()
    retired, _, _ = pull_all(client, park, cursor)
    assert [(c["kind"], c["deleted"]) for c in retired] == [("taxon", True)]


def test_taxa_are_searched_by_scientific_or_common_name(client, db):
    service.load_starter_list(db, SYSTEM)
    area = factories.area(db)
    ranger = factories.user(db, area.id, "ranger")
    db.commit()
    headers = factories.auth(factories.token(client, ranger.username))
    found = client.get("/api/v1/taxa", query_string={"q": "kakakuona"}, headers=headers)
    assert found.status_code == 200
    names = [t["scientific_name"] for t in found.get_json()]
    assert "Manis gigantea" in names and "Manidae" in names and "Loxodonta africana" not in names
    assert client.get("/api/v1/taxa").status_code == 401


def test_a_species_plus_id_held_by_another_name_is_refused_not_fatal(db, tmp_path):
    service.import_file(db, SYSTEM, _write(tmp_path, ROWS[:1]))
    renamed = ROWS[0].replace("Loxodonta africana", "Loxodonta africana africana", 1)
    result = service.import_file(db, SYSTEM, _write(tmp_path, [renamed, ROWS[1]], "second.csv"))
    assert (result.added, result.updated) == (1, 0)
    assert result.refused == [
        (2, "Species+ id 4521 belongs to Loxodonta africana (renamed? retire the old name first)")
    ]
