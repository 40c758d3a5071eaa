"""Check a member's OAI-PMH endpoint: does it answer Identify and offer the configured format?"""

from __future__ import annotations

from dataclasses import dataclass, field

import requests
from lxml import etree

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@dataclass
class EndpointReport:
    """What a check found, in words a systems librarian can act on."""

    base_url: str
    ok: bool = True
    repository_name: str | None = None
    granularity: str | None = None
    deleted_record: str | None = None
    formats: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def fail(self, problem: str) -> EndpointReport:
        self.ok = False
        self.problems.append(problem)
        return self


def _fetch(session: requests.Session, base_url: str, verb: str, timeout: float):
    """GET one verb and return the parsed OAI-PMH root, or a plain-words problem string."""
    try:
        resp = session.get(base_url, params={"verb": verb}, timeout=timeout)
    except requests.exceptions.ConnectionError:
        return f"cannot connect to {base_url}: nothing answers there (is the server running?)"
    except requests.exceptions.Timeout:
        return f"{base_url} did not answer {verb} within {timeout:g} seconds"
    except requests.exceptions.RequestException as exc:
        return f"{base_url}: the request failed ({type(exc).__name__})"
    try:
        root = etree.fromstring(resp.content, _PARSER)
    except etree.XMLSyntaxError:
        kind = resp.headers.get("Content-Type", "unknown content type")
        return (
            f"{base_url} answered {verb} with HTTP {resp.status_code} ({kind}), "
            "which is not an OAI-PMH response: check the base URL"
        )
    if root.tag != f"{{{OAI_NS}}}OAI-PMH":
        return (
            f"{base_url} answered {verb} with an XML document <{etree.QName(root).localname}> "
            "that is not an OAI-PMH 2.0 response: check the base URL"
        )
    error = root.find(f"{{{OAI_NS}}}error")
    if error is not None:
        code, text = error.get("code"), (error.text or "").strip()
        return f"{base_url} answered {verb} with the OAI error {code}: {text}".rstrip(": ")
    return root


def check_endpoint(base_url: str, metadata_prefix: str, timeout: float = 10.0) -> EndpointReport:
    """Run Identify and ListMetadataFormats against ``base_url`` and report what is wrong."""
    report = EndpointReport(base_url=base_url)
    with requests.Session() as session:
        identify = _fetch(session, base_url, "Identify", timeout)
        if isinstance(identify, str):
            return report.fail(identify)
        info = identify.find(f"{{{OAI_NS}}}Identify")
        if info is not None:
            report.repository_name = info.findtext(f"{{{OAI_NS}}}repositoryName")
            report.granularity = info.findtext(f"{{{OAI_NS}}}granularity")
            report.deleted_record = info.findtext(f"{{{OAI_NS}}}deletedRecord")
        formats = _fetch(session, base_url, "ListMetadataFormats", timeout)
        if isinstance(formats, str):
            return report.fail(formats)
        report.formats = [el.text or "" for el in formats.iter(f"{{{OAI_NS}}}metadataPrefix")]
    if metadata_prefix not in report.formats:
        offered = ", ".join(report.formats) or "none"
        report.fail(
            f"{base_url} does not offer the metadata format '{metadata_prefix}' named in the "
            f"alliance file; it offers: {offered}"
        )
    return report
