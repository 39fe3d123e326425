"""Reads the forms of the sign-in pages, as the device's web sheet shows them to a person.

The standard library's HTMLParser is enough: the simulator needs the form's action, its fields
(hidden ones carry the CSRF token and state), the options of a select, and the page's message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class HtmlForm:
    action: str | None
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    options: dict[str, list[str]] = field(default_factory=dict)  # select name -> option values


@dataclass
class HtmlPage:
    forms: list[HtmlForm]
    heading: str
    alert: str

    def form_with(self, name: str) -> HtmlForm | None:
        """The first form that has a field (or select) called `name`."""
        return next((f for f in self.forms if name in f.fields or name in f.options), None)

    @property
    def message(self) -> str:
        """What the page tells the person (its heading and error notice), for error reports."""
        return " - ".join(part for part in (self.heading, self.alert) if part)


_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
                   "track", "wbr"})


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[HtmlForm] = []
        self._form: HtmlForm | None = None
        self._select: str | None = None
        self._capture: str | None = None  # "h1" or "alert" while inside one
        self._depth = 0
        self.heading: list[str] = []
        self.alert: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = HtmlForm(a.get("action"), (a.get("method") or "get").lower())
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None and a.get("name"):
            if a.get("type", "text").lower() not in ("submit", "button", "image", "reset"):
                self._form.fields[a["name"]] = a.get("value", "")
        elif tag == "select" and self._form is not None and a.get("name"):
            self._select = a["name"]
            self._form.options[self._select] = []
        elif tag == "option" and self._form is not None and self._select is not None:
            self._form.options[self._select].append(a.get("value", ""))
        elif tag == "h1" and self._capture is None:
            self._capture, self._depth = "h1", 0
        elif a.get("role") == "alert" and self._capture is None:
            self._capture, self._depth = "alert", 0
        elif self._capture is not None and tag not in _VOID:
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif self._capture is not None and tag not in _VOID:
            if self._depth == 0:
                self._capture = None
            else:
                self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._capture == "h1":
            self.heading.append(data)
        elif self._capture == "alert":
            self.alert.append(data)


def read_page(html: str) -> HtmlPage:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return HtmlPage(
        parser.forms, " ".join("".join(parser.heading).split()), " ".join("".join(parser.alert).split())
    )
