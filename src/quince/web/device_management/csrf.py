"""The sign-in pages' CSRF cookie (the mechanism is shared: `quince.web.security.csrf`)."""

from __future__ import annotations

from quince.web.security.csrf import FIELD, CsrfCookie, CsrfPair

SIGNIN = CsrfCookie("quince_signin", "/DeviceManagement/", "signin-csrf", 2 * 60 * 60)
COOKIE = SIGNIN.name
pair_for = SIGNIN.pair_for
is_valid = SIGNIN.is_valid
binding = SIGNIN.binding
set_cookie = SIGNIN.set_cookie

__all__ = ["COOKIE", "FIELD", "SIGNIN", "CsrfPair", "binding", "is_valid", "pair_for", "set_cookie"]
