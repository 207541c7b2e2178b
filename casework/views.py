from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def dashboard(request: HttpRequest) -> HttpResponse:
    """The start page. Cases arrive with the casework issue; until then it says so."""
    return render(request, "casework/dashboard.html", {"role": request.user.role})
