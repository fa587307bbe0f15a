"""Protocol constants shared by the server and the device client."""

PROTOCOL_VERSION = 1
# Clients older than this are told to update, clearly, instead of failing in odd ways.
MIN_PROTOCOL_VERSION = 1
USER_AGENT = f"rangersync-device/{PROTOCOL_VERSION}"
