"""The area admins' pages: the people of the area with their roles (add, change a role,
disable), and its devices (enrol one with a QR code, revoke one).

What they show comes from the accounts and devices services; what they change goes through the
same API a script would use (server/accounts/api.py, server/devices/api.py), called by
dashboard/admin.js with the session cookie and the CSRF header. Registered on the area pages'
blueprint (`@page`), so the navigation lists them.
"""

from __future__ import annotations

from server.accounts import service as accounts
from server.core.i18n import lazy_gettext as _l
from server.core.policy import ROLES, Action
from server.devices import service as devices
from server.web.area_pages import page

# Who a device can be enrolled for: the people who go on patrol.
FIELD_ROLES = ("ranger", "manager", "admin")


@page("people", _l("People"))
def people_page(s, actor, area):
    return {
        "members": accounts.members(s, actor, area.id),
        "roles": ROLES,
        "may_manage": actor.may(Action.MEMBER_MANAGE, area.id),
    }


@page("enrolment", _l("Enrolment"))
def enrolment_page(s, actor, area):
    members = accounts.members(s, actor, area.id)
    return {
        "devices": devices.list_devices(s, actor, area.id),
        "rangers": [m for m in members if m["role"] in FIELD_ROLES and not m["disabled"]],
        "may_enrol": actor.may(Action.DEVICE_ENROL, area.id),
        "may_revoke": actor.may(Action.DEVICE_REVOKE, area.id),
    }
