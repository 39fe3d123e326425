"""What every server-rendered page shares: security headers and a strict Jinja2 environment."""

from __future__ import annotations

from pathlib import Path

import jinja2


def page_headers(extra_form_action: str = "", *, own_scripts: bool = False) -> dict[str, str]:
    """Headers for a page for people: never cached, never framed, no outside sources.
    `extra_form_action` adds a form target beyond 'self' (e.g. Apple's callback scheme);
    `own_scripts` allows script files served by Quince itself (never inline script)."""
    form_action = f"'self' {extra_form_action}".strip()
    scripts = "script-src 'self'; connect-src 'self'; " if own_scripts else ""
    return {
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'self'; img-src 'self'; " + scripts +
            f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


def templates(directory: Path) -> jinja2.Environment:
    """Autoescaped templates; a variable a template names but the page does not pass is an error."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
