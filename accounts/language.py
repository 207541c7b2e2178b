"""The interface language: the one chosen in the profile once signed in, else the browser's."""

from django.utils import translation


class UserLanguageMiddleware:
    """Runs after authentication. Django's LocaleMiddleware has already picked the browser's
    language (Accept-Language); a signed-in user's own choice wins over it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = getattr(request.user, "language", "") if request.user.is_authenticated else ""
        if language and language != request.LANGUAGE_CODE:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
