"""The sync protocol both sides share: versions, record kinds, verdicts, limits.

Imports nothing of ours; its modules are the track-chunk codec, the SOS text codec and digests.
The contract for app developers is docs/sync-protocol.md."""

PROTOCOL_VERSION = 1
# Clients older than this are told to update (426), clearly, instead of failing in odd ways.
MIN_PROTOCOL_VERSION = 1
SUPPORTED_VERSIONS = tuple(range(MIN_PROTOCOL_VERSION, PROTOCOL_VERSION + 1))
PROTOCOL_HEADER = "RangerSync-Protocol"

# The kinds of record a push may carry, in the order the server applies them within a batch
# (a report may name a patrol sent in the same batch, an edit a report, and so on).
RECORD_KINDS = (
    "patrol",
    "patrol_leg",
    "track_chunk",
    "report",
    "edit",
    "attachment",
    "device_status",
)

# Verdicts, one per record in a push answer.
STORED = "stored"
DUPLICATE = "duplicate"
CONFLICT = "conflict"
REJECTED = "rejected"

# Limits a client must respect; the server refuses what goes beyond them.
MAX_RECORDS_PER_PUSH = 2000
MAX_POINTS_PER_CHUNK = 10_000
MAX_COMPRESSION_RATIO = 200  # inflated:compressed; the inflated size is capped by the request limit
PULL_PAGE_SIZE = 500
