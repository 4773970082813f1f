"""Form fields without a name a screen reader can announce (for page tests)."""

from html.parser import HTMLParser

UNNAMED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class _Fields(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.in_label = 0
        self.labelled_ids: set[str] = set()
        self.fields: list[tuple[dict[str, str], bool]] = []

    def handle_starttag(self, tag, attrs):
        found = {k: v or "" for k, v in attrs}
        if tag == "label":
            self.in_label += 1
            if found.get("for"):
                self.labelled_ids.add(found["for"])
        elif tag in ("input", "select", "textarea") and found.get("type", "text") not in UNNAMED_TYPES:
            self.fields.append((found, self.in_label > 0))

    def handle_endtag(self, tag):
        if tag == "label" and self.in_label:
            self.in_label -= 1


def unlabelled_fields(html: str) -> list[str]:
    parser = _Fields()
    parser.feed(html)
    return [
        field.get("name", "?")
        for field, inside_label in parser.fields
        if not (
            inside_label
            or field.get("aria-label")
            or field.get("aria-labelledby")
            or field.get("id") in parser.labelled_ids
        )
    ]
