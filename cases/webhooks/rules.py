"""What a partner may set on a webhook endpoint, checked into field error codes (pure)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from cases.webhooks.catalogue import SUBSCRIBABLE

MAX_URL = 500
MAX_DESCRIPTION = 200
DEFAULT_GRACE = timedelta(hours=24)  # the old secret stays valid this long after a rotation


@dataclass(frozen=True)
class EndpointFields:
    url: str
    events: tuple[str, ...]
    description: str


def check_endpoint(
    url: str, events: Iterable[str], description: str = "", *, allow_http: bool = False
) -> tuple[EndpointFields | None, dict[str, str]]:
    """The endpoint's fields, or the field errors (codes) that stop it.

    The URL must be absolute https (plain http only where the platform allows it: a local
    demo or test receiver), without credentials or a fragment. Events must be in the
    catalogue, at least one. An event chosen twice counts once.
    """
    errors: dict[str, str] = {}
    url = url.strip()
    description = description.strip()
    chosen = tuple(dict.fromkeys(e for e in events if e))
    if not url:
        errors["url"] = "required"
    elif len(url) > MAX_URL:
        errors["url"] = "too_long"
    else:
        parts = urlsplit(url)
        schemes = ("https", "http") if allow_http else ("https",)
        # No credentials or fragment in a URL we keep and show; and a partner must not make
        # the platform call into its own network.
        if (
            parts.scheme not in schemes
            or not parts.hostname
            or parts.username
            or parts.password
            or parts.fragment
            or (not allow_http and _is_private(parts.hostname))
        ):
            errors["url"] = "webhook_url_invalid"
    if not chosen:
        errors["events"] = "webhook_events_required"
    elif any(e not in SUBSCRIBABLE for e in chosen):
        errors["events"] = "webhook_event_unknown"
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = "too_long"
    if errors:
        return None, errors
    return EndpointFields(url, chosen, description), {}


def _is_private(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not address.is_global
