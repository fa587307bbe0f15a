"""A safety drill for the fleet simulator (`rangersync simulate --sos`): three handhelds patrol
near one ranger post; one patrol is long overdue and never ended, one ranger sends an SOS; then
every handheld syncs, shows the alerts it received and acknowledges them. Through the public API
and the reference client only, as a real deployment would see it."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sync.device.client import DeviceClient
from sync.device.simulate import _call, _start_points, enrol_device, manager_session
from sync.protocol.tracks import Fix


@dataclass
class DrillResult:
    sos_alert: str | None = None
    received: dict[str, set[str]] = field(default_factory=dict)  # device → alert kinds
    manager_alerts: list[dict] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """The SOS and the overdue patrol reached the manager and the third, nearby handheld."""
        kinds = {a["kind"] for a in self.manager_alerts}
        return {"sos", "overdue_patrol"} <= kinds and {
            "sos",
            "overdue_patrol",
        } <= self.received.get("bystander", set())


def run_drill(
    base: str,
    *,
    area: str = "demo",
    manager: str = "manager",
    password: str = "",
    workdir: Path | None = None,
    say: Callable[[str], None] = print,
) -> DrillResult:
    workdir = workdir or Path(tempfile.mkdtemp(prefix="rangersync-drill-"))
    token, rangers = manager_session(base, area, manager, password)
    now = datetime.now(UTC).replace(microsecond=0)
    roles = ("overdue", "caller", "bystander")
    clients: dict[str, tuple[str, DeviceClient]] = {}
    for i, role in enumerate(roles):
        enrolled = enrol_device(
            base, token, area, rangers[i % len(rangers)], f"Drill handheld ({role})"
        )
        device_id = enrolled["device_id"]
        client = DeviceClient(
            base, enrolled["token"], workdir / f"drill-{role}.db", sleep=lambda s: None
        )
        client.sync()  # the park's map
        clients[role] = (device_id, client)
    post = _start_points(clients["caller"][1])[0]
    for i, role in enumerate(roles):
        device_id, client = clients[role]
        lon, lat = post[0] + 0.004 * i, post[1]  # a few hundred metres apart
        began = now - timedelta(hours=5)
        plan = {"planned_end": (now - timedelta(hours=2)).isoformat()} if role == "overdue" else {}
        patrol = client.start_patrol(started_at=began, objective=f"Drill: {role}", **plan)
        for k in range(20):  # the last 10 minutes of the patrol
            at = now - timedelta(seconds=30 * (20 - k))
            client.record_fix(patrol, Fix(lon + 0.0003 * k, lat, at, 5.0))
        client.sync()
    caller_id, caller = clients["caller"]
    outcome = caller.send_sos(caller_id, post[0] + 0.004, post[1], "Drill: ranger injured")
    say(
        f"drill: SOS sent by {outcome.channel} (counter {outcome.counter}); as a text message: "
        f"{outcome.message!r}"
    )
    result = DrillResult(sos_alert=(outcome.answer or {}).get("alert_id"))
    if outcome.channel == "text":  # no data: what the SMS gateway would post for it
        result.sos_alert = _call(base, "POST", "/api/v1/sos/text", {"text": outcome.message})[
            "alert_id"
        ]
    for role in roles:
        _, client = clients[role]
        client.sync()
        alerts = client.scope("alert")
        result.received[role] = {a.get("kind") for a in alerts.values()}
        for alert_id, alert in alerts.items():
            client.acknowledge_alert(alert_id)
            say(
                f"drill: {role} handheld received {alert['severity']} {alert['kind']}: "
                f"{alert['message']} (acknowledged)"
            )
    result.manager_alerts = _call(base, "GET", f"/api/v1/areas/{area}/alerts", token=token)
    for alert in result.manager_alerts:
        seen = f"{alert['acknowledged']} of {alert['recipients']}"
        say(
            f"drill: manager sees {alert['severity']} {alert['kind']}: {alert['message']} "
            f"(acknowledged by {seen} handhelds)"
        )
    return result
