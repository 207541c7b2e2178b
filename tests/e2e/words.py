"""The interface's words in the language a browser test speaks, straight from the catalogue,
so one journey is clicked through in English and in Russian alike."""

from django.utils import translation

LOCALES = {"en": "en-GB", "ru": "ru-RU"}


class Words:
    def __init__(self, language: str):
        self.language = language
        self.locale = LOCALES[language]

    def __call__(self, msgid: str, **params) -> str:
        with translation.override(self.language):
            text = translation.gettext(msgid)
        return text % params if params else text
