"""The interface is complete in Chinese: every string in the code has a zh_CN translation."""

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.conftest import REPO_ROOT

PO = REPO_ROOT / "web/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
MO = PO.with_suffix(".mo")


def _source_messages() -> set[str]:
    method_map = [("web/**.py", "python"), ("web/templates/**.html", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(REPO_ROOT),
        method_map,
        keywords={"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)},
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_interface_string_has_a_chinese_translation():
    with PO.open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and m.string}
    missing = sorted(_source_messages() - translated)
    assert not missing, f"untranslated (run `make translations` and fill the .po): {missing}"


def _plain(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def test_compiled_catalog_matches_the_po_file():
    with PO.open("rb") as fh:
        po = {_plain(m.id): _plain(m.string) for m in read_po(fh) if m.id}
    with MO.open("rb") as fh:
        mo = {_plain(m.id): _plain(m.string) for m in read_mo(fh) if m.id}
    assert po == mo, "messages.mo is stale: run `make translations`"
