"""The app's URLs and the bench's hello-world page."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from assessment.urls import urlpatterns as app_urlpatterns


@login_not_required
@require_GET
def hello(request: HttpRequest) -> HttpResponse:
    """The least a Django page can do: the yardstick of every page figure."""
    return HttpResponse("Hello, world", content_type="text/plain")


urlpatterns = [
    path("bench/hello/", hello, name="bench_hello"),
    # The same page under another path: the yardstick sent at a person's pace.
    path("bench/paced/", hello, name="bench_paced"),
    *app_urlpatterns,
]
