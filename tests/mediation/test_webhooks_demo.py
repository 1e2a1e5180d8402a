"""`mediation demo` starts the demo partner's webhook receiver: the seeded endpoint points at
it, and it prints each delivery it verified (the seeded merchant's dispute, then a test event
sent from the partner admin's page)."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import httpx

from seeds.demo import DEMO_PARTNER_ADMIN, DEMO_PASSWORD
from tests.mediation.test_cli import _start_demo, _up, _wait_until
from tests.support.live_server import free_port


def test_the_demo_receiver_prints_verified_deliveries(tmp_path: Path) -> None:
    platform_port, desk_port, receiver_port = free_port(), free_port(), free_port()
    demo, log = _start_demo(
        tmp_path,
        "--port",
        str(platform_port),
        "--desk-port",
        str(desk_port),
        "--receiver-port",
        str(receiver_port),
    )
    platform = f"http://127.0.0.1:{platform_port}"
    try:
        _wait_until(lambda: _up(platform), demo, log)
        # The seeded dispute against the partner's merchant reaches the receiver, verified.
        printed = "[webhook receiver] verified delivery"
        _wait_until(lambda: f"{printed} " in log.read_text(), demo, log)
        assert re.search(r"verified delivery msg_\w+: dispute\.filed number=CNM-", log.read_text())
        # The partner admin sends a test event from its page: printed too.
        with httpx.Client(base_url=platform, follow_redirects=False) as client:
            token = _csrf(client, "/signin")
            username, _ = DEMO_PARTNER_ADMIN
            signed = client.post(
                "/signin",
                data={"csrf_token": token, "identifier": username, "password": DEMO_PASSWORD},
            )
            assert signed.status_code == 303 and signed.headers["location"] == "/partner"
            home = client.get("/partner")
            endpoint = re.search(r'href="/partner/endpoints/(\d+)"', home.text)
            assert endpoint, home.text[:2000]
            path = f"/partner/endpoints/{endpoint.group(1)}"
            sent = client.post(f"{path}/test", data={"csrf_token": _csrf(client, path)})
            assert sent.status_code == 303
        _wait_until(lambda: ": webhook.test partner=" in log.read_text(), demo, log)
        assert "REJECTED" not in log.read_text()
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=30)
    assert not _up(f"http://127.0.0.1:{receiver_port}"), "the receiver outlived the demo"


def _csrf(client: httpx.Client, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, path
    return match.group(1)
