"""Blind indexes: one digest per person-level value, however it was typed, and none without
the key. All names, numbers and handles here are made up."""

import datetime
import re

import pytest
from django.core.exceptions import ImproperlyConfigured

from privacy.blind_index import (
    Kind,
    contact_digests,
    digest,
    email_digest,
    handle_digest,
    name_birth_digest,
    phone_digest,
)
from privacy.normalise import normalise_name, normalise_phone

TEST_KEY = bytes.fromhex("11" * 32)
OTHER_KEY = bytes.fromhex("22" * 32)
HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
BIRTH = datetime.date(1999, 3, 14)


@pytest.fixture(autouse=True)
def fixed_key(settings):
    settings.BLIND_INDEX_KEY = TEST_KEY


PHONE_GROUPS = [
    ["8 900 123-45-67", "+7 (900) 123 45 67", "79001234567", "+7-900-1234567", "9001234567"],
    ["+380 50 123 4567", "+380501234567", "00380 50 123-45-67"],
    ["+49 30 12345678", "+49 (30) 1234 5678"],
]


@pytest.mark.parametrize("variants", PHONE_GROUPS)
def test_one_phone_written_several_ways_has_one_digest(variants):
    assert len({phone_digest(variant) for variant in variants}) == 1
    assert phone_digest(variants[0]) is not None


def test_different_phones_have_different_digests():
    digests = {phone_digest(group[0]) for group in PHONE_GROUPS}
    digests.add(phone_digest("+7 900 123-45-68"))
    assert len(digests) == len(PHONE_GROUPS) + 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("8 900 123-45-67", "+79001234567"),
        ("+7 (900) 123 45 67", "+79001234567"),
        ("79001234567", "+79001234567"),
        ("+7-900-1234567", "+79001234567"),
        ("8 (495) 123-45-67", "+74951234567"),
        ("+380 50 123 4567", "+380501234567"),
    ],
)
def test_phones_become_e164(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    "variants",
    [
        ["@Some_User", "some_user", "https://t.me/some_user", " t.me/Some_User ", "SOME_USER"],
        ["@quiet.owl42", "telegram.me/quiet.owl42", "http://t.me/@Quiet.Owl42/"],
    ],
)
def test_handle_variants_meet(variants):
    assert len({handle_digest(variant) for variant in variants}) == 1
    assert handle_digest(variants[0]) is not None


def test_different_handles_differ():
    assert handle_digest("@some_user") != handle_digest("@some_user2")


@pytest.mark.parametrize(
    "variants",
    [
        ["someone@example.org", "Someone@Example.ORG", "  SOMEONE@EXAMPLE.ORG "],
        ["first.last+tag@mail.example.net", "First.Last+Tag@Mail.Example.Net"],
        # A Cyrillic domain as typed, shouted, and as a browser sends it (punycode).
        [
            "user@пример.рф",
            "User@ПРИМЕР.РФ",
            "user@xn--e1afmkfd.xn--p1ai",
            "USER@XN--E1AFMKFD.XN--P1AI",
        ],
    ],
)
def test_email_is_case_insensitive(variants):
    assert len({email_digest(variant) for variant in variants}) == 1
    assert email_digest(variants[0]) is not None


NAME_GROUPS = [
    ["Евгений", "ЕВГЕНИЙ", "Evgeny", "Evgeniy", "Evgenii", "Yevgeny", "Yevgeniy"],
    ["Юрий", "Yuri", "Yuriy", "Iurii"],
    ["Алексей", "Aleksei", "Alexey", "Aleksey"],
    ["Ксения", "Kseniya", "Ksenia"],
    ["Щукин", "Shchukin"],
    ["Сергеевич", "Sergeevich", "Sergeyevich"],
    ["Ёлкин", "Yolkin", "Elkin"],
    ["Евгений Сергеевич Щукин", "  yevgeniy  sergeyevich SHCHUKIN ", "Evgeny Sergeevich Shchukin"],
    ["Ольга", "Ol'ga", "Olga"],
    ["Илья", "Ilya", "Il'ya", "Ilia"],
]


@pytest.mark.parametrize("variants", NAME_GROUPS)
def test_name_variants_meet(variants):
    assert len({normalise_name(variant) for variant in variants}) == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Евгений", "Сергей"),
        ("Юрий", "Алексей"),
        ("Ксения", "Ольга"),
        ("Щукин", "Ёлкин"),
        ("Евгений Щукин", "Щукин Евгений"),
    ],
)
def test_different_names_differ(first, second):
    assert normalise_name(first) != normalise_name(second)


def test_hyphens_and_punctuation_are_not_part_of_the_name():
    assert normalise_name("Анна-Мария") == normalise_name("Anna Maria")
    assert normalise_name("Yolkin, Yuri.") == normalise_name("Ёлкин Юрий")


@pytest.mark.parametrize("variants", NAME_GROUPS)
def test_name_and_birth_date_variants_meet(variants):
    digests = {name_birth_digest(variant, BIRTH) for variant in variants}
    assert len(digests) == 1
    assert None not in digests


def test_a_different_birth_date_gives_a_different_digest():
    other_day = BIRTH + datetime.timedelta(days=1)
    assert name_birth_digest("Евгений Щукин", BIRTH) != name_birth_digest(
        "Evgeny Shchukin", other_day
    )


def test_the_same_value_under_two_kinds_gives_different_digests():
    digests = {digest(kind, "someone") for kind in Kind}
    assert len(digests) == len(Kind)
    assert digest(Kind.HANDLE, "someone") == digest("handle", "someone")


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        digest("passport", "someone")


def test_a_different_key_gives_a_different_digest(settings):
    before = phone_digest("+79001234567")
    settings.BLIND_INDEX_KEY = OTHER_KEY
    assert phone_digest("+79001234567") != before


def test_a_key_of_the_wrong_size_is_refused(settings):
    settings.BLIND_INDEX_KEY = b"short"
    with pytest.raises(ImproperlyConfigured):
        phone_digest("+79001234567")


@pytest.mark.parametrize(
    ("function", "args", "normalised"),
    [
        (phone_digest, ("8 900 123-45-67",), "79001234567"),
        (handle_digest, ("@some_user",), "some_user"),
        (email_digest, ("someone@example.org",), "someone@example.org"),
        (name_birth_digest, ("Евгений", BIRTH), "evgeni"),
    ],
)
def test_digests_are_64_hex_characters_and_reveal_nothing(function, args, normalised):
    value = function(*args)
    assert HEX_DIGEST.fullmatch(value)
    assert normalised not in value
    assert all(str(arg) not in value for arg in args)


@pytest.mark.parametrize(
    ("function", "args"),
    [
        (phone_digest, ("12345",)),
        (phone_digest, ("",)),
        (phone_digest, ("not a phone",)),
        (phone_digest, ("1-800-FLOWERS",)),
        (handle_digest, ("",)),
        (handle_digest, ("@",)),
        (handle_digest, ("https://t.me/",)),
        (handle_digest, ("some user",)),
        (email_digest, ("someone",)),
        (email_digest, ("someone@example",)),
        (email_digest, ("some one@example.org",)),
        (email_digest, ("someone@@example.org",)),
        (name_birth_digest, ("", BIRTH)),
        (name_birth_digest, ("-- !!", BIRTH)),
        (name_birth_digest, ("Евгений", None)),
    ],
)
def test_invalid_inputs_give_none(function, args):
    assert function(*args) is None


CONTACT_READINGS = {Kind.PHONE: phone_digest, Kind.HANDLE: handle_digest, Kind.EMAIL: email_digest}


@pytest.mark.parametrize(
    ("raw", "kind", "normalised"),
    [
        ("8 900 123-45-67", Kind.PHONE, "+79001234567"),
        ("+380 50 123 4567", Kind.PHONE, "+380501234567"),
        ("@Some_User", Kind.HANDLE, "some_user"),
        ("https://t.me/some_user", Kind.HANDLE, "some_user"),
        ("some_user", Kind.HANDLE, "some_user"),
        ("@79001234567", Kind.HANDLE, "79001234567"),
        ("Someone@Example.org", Kind.EMAIL, "someone@example.org"),
    ],
)
def test_contact_digests_classifies_the_contact(raw, kind, normalised):
    assert contact_digests(raw) == [(kind, CONTACT_READINGS[kind](normalised))]
    assert contact_digests(raw) == [(kind, digest(kind, normalised))]


@pytest.mark.parametrize("raw", ["", "   ", "12345", "+7 900", "@", "some user"])
def test_contact_digests_of_nothing_plausible_is_empty(raw):
    assert contact_digests(raw) == []
