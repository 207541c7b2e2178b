"""Every interface string has a Russian translation, and the compiled catalogue is current."""

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[1]
RU_PO = ROOT / "locale" / "ru" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\{ *\w+ *\}\}")


def entries():
    return [entry for entry in polib.pofile(str(RU_PO)) if not entry.obsolete]


def test_every_russian_string_is_translated():
    untranslated = [
        entry.msgid
        for entry in entries()
        if "fuzzy" in entry.flags
        or (entry.msgid_plural and not all(entry.msgstr_plural.values()))
        or (not entry.msgid_plural and not entry.msgstr)
    ]
    assert untranslated == []


def test_russian_translations_keep_their_placeholders():
    for entry in entries():
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for text in translations:
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(entry.msgid)), (
                entry.msgid
            )


def test_the_compiled_catalogue_matches_the_source():
    with open(RU_PO.with_suffix(".mo"), "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in entries():
        if entry.msgid_plural:
            assert compiled.ngettext(entry.msgid, entry.msgid_plural, 5) == entry.msgstr_plural[2]
        elif entry.msgctxt:
            assert compiled.pgettext(entry.msgctxt, entry.msgid) == entry.msgstr, entry.msgid
        else:
            assert compiled.gettext(entry.msgid) == entry.msgstr, entry.msgid


def test_no_string_in_the_code_is_missing_from_the_catalogue(tmp_path):
    if shutil.which("xgettext") is None:
        if os.environ.get("CI"):
            pytest.fail("GNU gettext is missing; .ci/run installs it")
        pytest.skip("GNU gettext (xgettext) is not installed")
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(".venv", "var", ".git", "staticfiles", "tests", "*.pyc"),
    )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--locale", "ru", "--no-location"],
        cwd=copy,
        env={**os.environ, "SAFE_PASSAGE_MODE": "embedded", "SAFE_PASSAGE_VAR_DIR": str(tmp_path)},
        check=True,
        capture_output=True,
        timeout=120,
    )
    found = {entry.msgid for entry in polib.pofile(str(copy / RU_PO.relative_to(ROOT)))}
    catalogued = {entry.msgid for entry in entries()}
    assert sorted(found - catalogued) == []


def test_russian_tells_a_contained_account_from_a_locked_out_one():
    """Containment is an oversight measure against a compromised account, a lock-out the
    result of wrong passwords: an admin reading Russian must not take one for the other
    (issue 24, item 8). Each wording of the one never uses the other's word."""
    from django.utils import translation

    from accounts.forms import MemberState
    from audit.models import Action

    with translation.override("ru"):
        contained = [str(MemberState.CONTAINED.label), str(Action.ACCOUNT_CONTAINED.label)]
        locked = [str(MemberState.LOCKED.label), str(Action.LOCKED_OUT.label)]
        locked.append(translation.gettext("locked out until %(until)s"))
    assert all("изолир" in text.lower() and "заблок" not in text.lower() for text in contained)
    assert all("заблок" in text.lower() and "изолир" not in text.lower() for text in locked)
