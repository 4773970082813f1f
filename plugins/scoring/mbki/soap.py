"""SOAP 1.1 envelopes for MBKI (Creditinfo's CIG web service), written with the standard library.

Two operations do not need a SOAP framework: zeep (4.3) would bring lxml and a WSDL
download at start-up for what is here two small documents out and two read back. The
answers are read by element names without namespaces, so a prefix the service changes
does not break us. Parsing uses ``xml.etree`` (expat): it never fetches external entities
and refuses entity-expansion bombs.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
CIG = "http://ws.creditinfo.com/"

ET.register_namespace("soap", SOAP_ENV)
ET.register_namespace("", CIG)


def q(name: str, ns: str = CIG) -> str:
    return f"{{{ns}}}{name}"


def add(parent: ET.Element, name: str, text: str | None = None, ns: str = CIG) -> ET.Element:
    child = ET.SubElement(parent, q(name, ns))
    if text is not None:
        child.text = text
    return child


def add_fields(parent: ET.Element, fields: Mapping[str, str]) -> ET.Element:
    for name, value in fields.items():
        add(parent, name, value)
    return parent


def envelope(body: ET.Element, header: ET.Element | None = None) -> bytes:
    root = ET.Element(q("Envelope", SOAP_ENV))
    if header is not None:
        ET.SubElement(root, q("Header", SOAP_ENV)).append(header)
    ET.SubElement(root, q("Body", SOAP_ENV)).append(body)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def auth_header(username: str, password: str, culture: str) -> ET.Element:
    header = ET.Element(q("CigWsHeader"))
    return add_fields(header, {"UserName": username, "Password": password, "Version": "1_0", "Culture": culture,
                               "SecurityToken": "", "UserId": "0"})


def fault(code: str, message: str) -> bytes:
    body = ET.Element(q("Fault", SOAP_ENV))
    ET.SubElement(body, "faultcode").text = code
    ET.SubElement(body, "faultstring").text = message
    return envelope(body)


# -- reading ---------------------------------------------------------------------------------------


def parse(text: str) -> ET.Element | None:
    try:
        return ET.fromstring(text.encode("utf-8"))
    except ET.ParseError:
        return None


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def descendants(root: ET.Element, name: str) -> Iterator[ET.Element]:
    return (el for el in root.iter() if local(el.tag) == name)


def first(root: ET.Element | None, name: str) -> ET.Element | None:
    return None if root is None else next(descendants(root, name), None)


def text_of(root: ET.Element | None, name: str) -> str:
    found = first(root, name)
    return (found.text or "").strip() if found is not None else ""


def body_of(root: ET.Element) -> ET.Element | None:
    body = first(root, "Body")
    return next(iter(body), None) if body is not None else None


def fault_of(root: ET.Element) -> tuple[str, str] | None:
    """``(faultcode, faultstring)`` when the answer is a SOAP fault."""
    found = first(root, "Fault")
    if found is None:
        return None
    return text_of(found, "faultcode"), text_of(found, "faultstring")


def flatten(element: ET.Element) -> object:
    """An XML element as plain data (children by local name; repeated names become lists)."""
    children = list(element)
    if not children:
        return {"_": (element.text or "").strip(), **element.attrib} if element.attrib else (element.text or "").strip()
    out: dict[str, object] = dict(element.attrib)
    for child in children:
        key, value = local(child.tag), flatten(child)
        if key in out:
            existing = out[key]
            out[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[key] = value
    return out
