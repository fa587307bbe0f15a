"""Species and seizures: the taxon table (pulled by devices, so change-tracked), seizures, their
versions and the items seized (vocabularies as CHECKs: CITES terms, units and source codes), and
the CITES Party each area reports for.

Revision ID: 0007
Revises: 0010
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TAXA = """
CREATE TABLE taxa (
    id uuid NOT NULL,
    scientific_name text NOT NULL,
    author text,
    rank varchar(16) NOT NULL,
    kingdom text,
    phylum text,
    class_name text,
    order_name text,
    family text,
    genus text,
    common_names jsonb NOT NULL,
    cites_appendix varchar(8),
    cites_listed_on date,
    species_plus_id integer,
    sensitive boolean NOT NULL,
    source text,
    version bigint NOT NULL,
    retired_at timestamptz,
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz DEFAULT now() NOT NULL,
    change_xid xid8 DEFAULT pg_current_xact_id() NOT NULL,
    CONSTRAINT pk_taxa PRIMARY KEY (id),
    CONSTRAINT ck_taxa_rank_allowed CHECK (rank IN ('KINGDOM', 'PHYLUM', 'CLASS', 'ORDER',
        'FAMILY', 'SUBFAMILY', 'GENUS', 'SPECIES', 'SUBSPECIES', 'VARIETY')),
    CONSTRAINT ck_taxa_cites_appendix_allowed CHECK (cites_appendix IN ('I', 'II', 'III',
        'I/II', 'I/III', 'II/III', 'I/II/III')),
    CONSTRAINT ck_taxa_name_not_empty CHECK (scientific_name <> ''),
    CONSTRAINT uq_taxa_scientific_name UNIQUE (scientific_name),
    CONSTRAINT uq_taxa_species_plus_id UNIQUE (species_plus_id)
)
"""

SEIZURES = """
CREATE TABLE seizures (
    id uuid NOT NULL,
    area_id uuid NOT NULL,
    patrol_id uuid,
    operation text,
    device_id uuid,
    recorded_by uuid,
    seized_at timestamptz NOT NULL,
    seized_at_device timestamptz,
    clock_suspect boolean NOT NULL,
    geom geometry(POINT, 4326) NOT NULL,
    place_name text,
    agency text NOT NULL,
    detection_method varchar(32) NOT NULL,
    transport_mode varchar(32) NOT NULL,
    reason varchar(32),
    origin_countries varchar(2)[] DEFAULT '{}' NOT NULL,
    transit_countries varchar(2)[] DEFAULT '{}' NOT NULL,
    destination_countries varchar(2)[] DEFAULT '{}' NOT NULL,
    offender_nationalities varchar(2)[] DEFAULT '{}' NOT NULL,
    report_ids uuid[] DEFAULT '{}' NOT NULL,
    attachment_ids uuid[] DEFAULT '{}' NOT NULL,
    reference text,
    notes text,
    version bigint NOT NULL,
    received_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz DEFAULT now() NOT NULL,
    change_xid xid8 DEFAULT pg_current_xact_id() NOT NULL,
    CONSTRAINT pk_seizures PRIMARY KEY (id),
    CONSTRAINT ck_seizures_geom_valid CHECK (rs_geometry_ok(geom)),
    CONSTRAINT ck_seizures_geom_point CHECK (GeometryType(geom) = 'POINT'),
    CONSTRAINT ck_seizures_detection_method_allowed CHECK (detection_method IN ('patrol',
        'checkpoint', 'routine_inspection', 'risk_profiling', 'intelligence', 'informant',
        'investigation', 'detection_dog', 'scanner', 'other')),
    CONSTRAINT ck_seizures_transport_mode_allowed CHECK (transport_mode IN ('on_foot', 'road',
        'rail', 'air', 'sea', 'inland_water', 'mail', 'unknown')),
    CONSTRAINT ck_seizures_reason_allowed CHECK (reason IN ('illegal_possession',
        'illegal_hunting', 'illegal_harvest', 'no_permit', 'invalid_permit',
        'false_declaration', 'other')),
    CONSTRAINT ck_seizures_agency_not_empty CHECK (agency <> ''),
    CONSTRAINT fk_seizures_area_id_areas FOREIGN KEY (area_id) REFERENCES areas (id)
        ON DELETE CASCADE,
    CONSTRAINT fk_seizures_patrol_id_patrols FOREIGN KEY (patrol_id) REFERENCES patrols (id),
    CONSTRAINT fk_seizures_device_id_devices FOREIGN KEY (device_id) REFERENCES devices (id),
    CONSTRAINT fk_seizures_recorded_by_users FOREIGN KEY (recorded_by) REFERENCES users (id)
)
"""

ITEMS = """
CREATE TABLE seizure_items (
    seizure_id uuid NOT NULL,
    position smallint NOT NULL,
    area_id uuid NOT NULL,
    taxon_id uuid,
    taxon_text text,
    term varchar(3) NOT NULL,
    unit varchar(3) NOT NULL,
    quantity numeric NOT NULL,
    count integer,
    value numeric,
    currency varchar(3),
    source varchar(1),
    CONSTRAINT pk_seizure_items PRIMARY KEY (seizure_id, position),
    CONSTRAINT ck_seizure_items_term_allowed CHECK (term IN ('BAR', 'BOC', 'BOD', 'BON', 'BOP',
        'CAP', 'CAR', 'CAV', 'CHP', 'CLA', 'COR', 'DER', 'EGG', 'EGL', 'EXT', 'FEA', 'FIN',
        'FOO', 'GAB', 'GAL', 'GAR', 'HAI', 'HOC', 'HOP', 'HOR', 'IVC', 'IVP', 'IVS', 'LEA',
        'LIV', 'LOG', 'LPL', 'LPS', 'MEA', 'MED', 'MUS', 'OIL', 'PLY', 'POW', 'ROO', 'SAW',
        'SCA', 'SHE', 'SKE', 'SKI', 'SKP', 'SKU', 'SPE', 'TAI', 'TEE', 'TIM', 'TRO', 'TUS',
        'VEN', 'WAX', 'WOO')),
    CONSTRAINT ck_seizure_items_unit_allowed CHECK (unit IN ('NUM', 'kg', 'g', 'l', 'ml', 'm',
        'm2', 'm3')),
    CONSTRAINT ck_seizure_items_source_allowed CHECK (source IN ('W', 'R', 'D', 'A', 'C', 'F',
        'U', 'I', 'O', 'X', 'Y')),
    CONSTRAINT ck_seizure_items_quantity_positive CHECK (quantity > 0),
    CONSTRAINT ck_seizure_items_count_positive CHECK (count IS NULL OR count > 0),
    CONSTRAINT ck_seizure_items_value_not_negative CHECK (value IS NULL OR value >= 0),
    CONSTRAINT ck_seizure_items_value_with_currency CHECK ((value IS NULL) = (currency IS NULL)),
    CONSTRAINT ck_seizure_items_names_a_taxon CHECK (taxon_id IS NOT NULL
        OR taxon_text IS NOT NULL),
    CONSTRAINT fk_seizure_items_seizure_id_seizures FOREIGN KEY (seizure_id)
        REFERENCES seizures (id) ON DELETE CASCADE,
    CONSTRAINT fk_seizure_items_area_id_areas FOREIGN KEY (area_id) REFERENCES areas (id)
        ON DELETE CASCADE,
    CONSTRAINT fk_seizure_items_taxon_id_taxa FOREIGN KEY (taxon_id) REFERENCES taxa (id)
)
"""

VERSIONS = """
CREATE TABLE seizure_versions (
    seizure_id uuid NOT NULL,
    version bigint NOT NULL,
    area_id uuid NOT NULL,
    data jsonb NOT NULL,
    edit_id uuid,
    device_id uuid,
    user_id uuid,
    changed_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT pk_seizure_versions PRIMARY KEY (seizure_id, version),
    CONSTRAINT fk_seizure_versions_seizure_id_seizures FOREIGN KEY (seizure_id)
        REFERENCES seizures (id) ON DELETE CASCADE,
    CONSTRAINT fk_seizure_versions_area_id_areas FOREIGN KEY (area_id) REFERENCES areas (id)
        ON DELETE CASCADE,
    CONSTRAINT fk_seizure_versions_device_id_devices FOREIGN KEY (device_id)
        REFERENCES devices (id),
    CONSTRAINT fk_seizure_versions_user_id_users FOREIGN KEY (user_id) REFERENCES users (id)
)
"""

PARTY = """
CREATE TABLE area_cites_party (
    area_id uuid NOT NULL,
    country varchar(2) NOT NULL,
    agency text,
    updated_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT pk_area_cites_party PRIMARY KEY (area_id),
    CONSTRAINT ck_area_cites_party_country_code CHECK (country ~ '^[A-Z]{2}$'),
    CONSTRAINT fk_area_cites_party_area_id_areas FOREIGN KEY (area_id) REFERENCES areas (id)
        ON DELETE CASCADE
)
"""


def upgrade() -> None:
    op.execute(TAXA)
    op.execute("CREATE INDEX ix_taxa_change_xid ON taxa (change_xid)")
    op.execute(SEIZURES)
    op.execute("CREATE INDEX ix_seizures_area_id_seized_at ON seizures (area_id, seized_at)")
    op.execute("CREATE INDEX ix_seizures_change_xid ON seizures (change_xid)")
    op.execute("CREATE INDEX idx_seizures_geom ON seizures USING gist (geom)")
    op.execute(ITEMS)
    op.execute(
        "CREATE INDEX ix_seizure_items_area_id_taxon_id ON seizure_items (area_id, taxon_id)"
    )
    op.execute(VERSIONS)
    op.execute(PARTY)
    op.execute("CREATE INDEX ix_area_cites_party_country ON area_cites_party (country)")
    # Devices pull taxa by change_xid; seizures carry it for the map's tile cache.
    for table in ("taxa", "seizures"):
        op.execute(
            f"CREATE TRIGGER {table}_track_change BEFORE UPDATE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION rs_track_change()"
        )


def downgrade() -> None:
    op.execute("DROP TABLE area_cites_party")
    op.execute("DROP TABLE seizure_versions")
    op.execute("DROP TABLE seizure_items")
    op.execute("DROP TABLE seizures")
    op.execute("DROP TABLE taxa")
