"""The sign-in web sheet as a simulated device walks it: the form, the person's credentials, the
group choice when asked, and the redirects up to the callback that carries the access token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode, urljoin, urlsplit

import httpx

from quince.simulator.answers import access_token_from, refused
from quince.simulator.errors import ProtocolViolation
from quince.simulator.html_forms import read_page

CALLBACK_SCHEME = "apple-remotemanagement-user-login"
MAX_REDIRECTS = 10


@dataclass(frozen=True)
class Credentials:
    """What the person types: the work address (also the user identifier) and password."""

    email: str
    password: str
    group_id: str | None = None


class Send(Protocol):
    """The device's timed request: one HTTP request, recorded as a step."""

    async def __call__(
        self, step: str, client: httpx.AsyncClient, method: str, url: str, **kwargs: Any
    ) -> httpx.Response: ...


async def sign_in(send: Send, sheet: httpx.AsyncClient, sign_in_url: str, credentials: Credentials) -> str:
    """Show the form, sign in (and pick a group if asked), and return the access token from the
    final redirect to the apple-remotemanagement-user-login callback."""
    email = credentials.email
    separator = "&" if urlsplit(sign_in_url).query else "?"
    url = f"{sign_in_url}{separator}{urlencode({'user-identifier': email})}"
    response = await send("sign_in.form", sheet, "GET", url)
    data: dict[str, str] | None = None
    for _ in range(MAX_REDIRECTS):
        location = response.headers.get("location") if response.is_redirect else None
        if location is not None and location.startswith(CALLBACK_SCHEME + ":"):
            if response.status_code != 308:
                raise ProtocolViolation("sign_in", f"the callback came with HTTP {response.status_code}")
            return access_token_from(location)
        if location is not None:
            url = urljoin(str(response.request.url), location)
            response = await send("sign_in.redirect", sheet, "GET", url)
            continue
        if (response.status_code >= 400 and data is not None) or response.status_code >= 500:
            raise refused("sign_in", response)
        page = read_page(response.text)
        form = page.form_with("state") if data is not None else None
        if form is not None:  # the group list: the person picks their group
            data = {**form.fields, "group_id": _pick_group(credentials, form.options.get("group_id", []))}
            step = "sign_in.group_choice"
        elif data is None and (form := page.form_with("password")) is not None:
            data = {**form.fields, "email": email, "password": credentials.password,
                    "group_id": credentials.group_id or ""}
            step = "sign_in.submit"
        else:
            raise refused("sign_in", response)
        target = urljoin(str(response.request.url), form.action or str(response.request.url))
        response = await send(step, sheet, "POST", target, data=data)
    raise ProtocolViolation("sign_in", "too many redirects")


def _pick_group(credentials: Credentials, options: list[str]) -> str:
    wanted = credentials.group_id or ""
    if wanted and wanted not in options:
        raise ProtocolViolation("sign_in.group_choice", f"the group list does not offer {wanted!r}")
    return wanted
