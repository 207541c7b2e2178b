"""Canonical forms of the values we index blindly (see ``privacy.blind_index``).

A blind index only finds a match when both sides hash the very same string, so every way a
volunteer may type a value has to be brought to one form first. These are pure functions:
no settings, no database, nothing secret.

Phones become E.164 (``+79001234567``). Russian national forms are read with the default
region, so the trunk prefix ``8`` becomes ``+7``; a leading ``00`` is read as ``+``.

Handles lose the ``@``, any ``t.me/`` or ``telegram.me/`` link prefix, and their case.

E-mail addresses are lower-cased whole: in practice no provider treats the local part as
case-sensitive, and a missed duplicate costs more than a false "possible duplicate". A
punycode domain (``xn--e1afmkfd.xn--p1ai``) is read as the Unicode one (``пример.рф``).

Names are reduced to a deliberately coarse key so that a Russian name meets itself whether it
was typed in Cyrillic or in any of the usual romanisations. The rules, in order:

1. Unicode NFC, then case-fold.
2. Cyrillic is transliterated letter by letter with one scheme: ж zh, х kh, ц ts, ч ch,
   ш sh, щ shch, ю yu, я ya, й y, ы y, ё e, э e; ъ and ь are dropped (Ukrainian and
   Belarusian і ї є ґ ў become i i e g u).
3. Remaining diacritics are stripped (é to e); hyphens and dashes separate words; every
   other character that is not a Latin letter or a space is dropped (so ``Ol'ga`` is
   ``olga``), and runs of spaces collapse to one. Words keep their order.
4. Latin spelling variants are folded, in this order: x to ks, w to v, q to k, ph to f,
   tch to ch, tz to ts, kh to h, shch to sch, then j and y to i.
5. Doubled letters collapse to one (``ii`` to ``i``, ``ee`` to ``e``, ``nn`` to ``n``).
6. ``ie`` and ``io`` become ``e`` (the "ye" of Yevgeny and Sergeyevich, the "yo" of Yolkin),
   and doubled letters collapse once more.

So Евгений, Evgeny, Evgeniy, Evgenii and Yevgeny are all ``evgeni``; Юрий, Yuri and Iurii
are ``iuri``; Алексей and Alexey are ``aleksei``; Ксения and Kseniya are ``ksenia``;
Щукин and Shchukin are ``schukin``; Сергеевич and Sergeyevich are ``sergevich``; Ёлкин and
Yolkin are ``elkin``. Some different names collide (Анна and Ана, ё and е): the index only
proposes possible duplicates for a person to check, so reach matters more than precision.
"""  # noqa: RUF002 (Cyrillic letters on purpose)

import datetime
import re
import unicodedata

import phonenumbers

# Step 2: one transliteration scheme for Cyrillic; input is case-folded first, so lower case
# is enough. Written by code point, not as letters: many Cyrillic letters look exactly like
# Latin ones, and a table of look-alikes cannot be reviewed by eye.
RUSSIAN_ALPHABET_IN_LATIN = (  # U+0430 (a) to U+044F (ya) in order; yo is apart
    "a", "b", "v", "g", "d", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p",
    "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya",
)  # fmt: skip
CYRILLIC_TO_LATIN = {
    **{0x0430 + offset: latin for offset, latin in enumerate(RUSSIAN_ALPHABET_IN_LATIN)},
    0x0451: "e",  # yo
    0x0454: "e",  # Ukrainian ye
    0x0456: "i",  # Ukrainian and Belarusian i
    0x0457: "i",  # Ukrainian yi
    0x045E: "u",  # Belarusian short u
    0x0491: "g",  # Ukrainian ghe with upturn
}

# Step 3.
WORD_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015]+")
NOT_LATIN_LETTER = re.compile(r"[^a-z]")

# Step 4, applied in this order (each fold sees the result of the ones before it).
SPELLING_FOLDS = (
    ("x", "ks"),
    ("w", "v"),
    ("q", "k"),
    ("ph", "f"),
    ("tch", "ch"),
    ("tz", "ts"),
    ("kh", "h"),
    ("shch", "sch"),
    ("j", "i"),
    ("y", "i"),
)

# Steps 5 and 6.
DOUBLED_LETTER = re.compile(r"([a-z])\1+")
IOTATED_E = re.compile(r"i[eo]")

# Only digits and the punctuation people put in phone numbers: phonenumbers would otherwise
# read letters as a keypad ("1-800-FLOWERS") and turn a handle into a phone number.
PHONE_CHARACTERS = re.compile(r"\+?[\d\s().\-]+")

HANDLE_PREFIXES = re.compile(r"^(?:https?://)?(?:www\.)?(?:t|telegram)\.me/", re.IGNORECASE)

# local@domain.tld: no spaces, one @, at least one dot in the domain, no empty labels.
EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)*\.[^@\s.]{2,}")


def normalise_phone(raw: str, default_region: str = "RU") -> str | None:
    """E.164, or None unless the text is a valid number (national forms read as Russian)."""
    text = raw.strip()
    if not PHONE_CHARACTERS.fullmatch(text):
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_handle(raw: str) -> str | None:
    """A messenger handle without ``@`` or link prefix, lower-cased; None if empty or spaced."""
    text = HANDLE_PREFIXES.sub("", raw.strip()).rstrip("/").lstrip("@").lower()
    if not text or any(character.isspace() for character in text):
        return None
    return text


def _readable_label(label: str) -> str:
    """One domain label as people read it: punycode (``xn--e1afmkfd``) decoded."""
    if not label.lower().startswith("xn--"):
        return label
    try:
        return label.lower().encode("ascii").decode("idna")
    except UnicodeError:
        return label  # not valid punycode: kept as typed


def readable_email(raw: str) -> str:
    """The address with its domain in Unicode: ``user@xn--e1afmkfd.xn--p1ai`` (what a
    browser may send for a Cyrillic domain) is ``user@пример.рф``. Anything that is not
    ``local@domain`` comes back as it was."""
    text = raw.strip()
    local, at, domain = text.rpartition("@")
    if not (at and local and domain):
        return text
    return f"{local}@{'.'.join(_readable_label(label) for label in domain.split('.'))}"


def normalise_email(raw: str) -> str | None:
    """The whole address lower-cased, its domain in Unicode (a Cyrillic domain typed in
    Cyrillic and sent as punycode is one contact), or None unless it looks like
    local@domain.tld."""
    text = unicodedata.normalize("NFC", readable_email(raw)).lower()
    if not EMAIL_SHAPE.fullmatch(text):
        return None
    return text


def _strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(character for character in decomposed if not unicodedata.combining(character))


def _fold_word(word: str) -> str:
    for variant, canonical in SPELLING_FOLDS:
        word = word.replace(variant, canonical)
    word = DOUBLED_LETTER.sub(r"\1", word)
    word = IOTATED_E.sub("e", word)
    return DOUBLED_LETTER.sub(r"\1", word)


def normalise_name(raw: str) -> str:
    """The coarse matching key described in the module docstring; "" if nothing is left."""
    text = unicodedata.normalize("NFC", raw).casefold().translate(CYRILLIC_TO_LATIN)
    text = _strip_diacritics(text)
    words = (NOT_LATIN_LETTER.sub("", word) for word in WORD_SEPARATORS.split(text))
    return " ".join(_fold_word(word) for word in words if word)


def normalise_name_birth(name: str, birth_date: datetime.date | None) -> str | None:
    """Name key and ISO date joined by ``|``; None if either is missing."""
    if birth_date is None:
        return None
    key = normalise_name(name)
    if not key:
        return None
    return f"{key}|{birth_date.isoformat()}"
