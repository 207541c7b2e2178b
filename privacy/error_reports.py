"""Error reports that carry no personal data, whichever view failed.

Django's own filter hides only what a view names with ``sensitive_variables`` and
``sensitive_post_parameters``, and only when ``DEBUG`` is off. Any frame here may hold a
decrypted person, so this one hides every local variable and every posted value, always:
a report says where it failed, never with what. The decorators stay on the views that
take personal data, as a second line and as documentation.
"""

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter


class NothingPersonalReporterFilter(SafeExceptionReporterFilter):
    def is_active(self, request) -> bool:
        return True

    def get_post_parameters(self, request):
        if request is None:
            return {}
        return self.get_cleansed_multivaluedict(request, request.POST)

    def get_cleansed_multivaluedict(self, request, multivaluedict):
        cleansed = multivaluedict.copy()
        for key in cleansed:
            cleansed[key] = self.cleansed_substitute
        return cleansed

    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        if "QUERY_STRING" in meta:
            meta["QUERY_STRING"] = self.cleansed_substitute
        return meta

    def get_traceback_frame_variables(self, request, tb_frame):
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]


class NothingPersonalReporter(ExceptionReporter):
    """Drops the query string and the GET values, which Django's report shows unfiltered."""

    def get_traceback_data(self):
        data = super().get_traceback_data()
        if self.request is not None:
            data["request_GET_items"] = [
                (key, self.filter.cleansed_substitute) for key in self.request.GET
            ]
            data["request_insecure_uri"] = self.request.path
        return data
