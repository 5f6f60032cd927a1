from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from frameworks import selectors
from frameworks.models import FrameworkVersion


@login_not_required
@require_GET
def framework_list(request: HttpRequest) -> HttpResponse:
    """The published frameworks, so anyone can see what an assessment asks."""
    return render(
        request, "frameworks/framework_list.html", {"versions": selectors.current_versions()}
    )


@login_not_required
@require_GET
def framework_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A framework's current questions and rating scale."""
    try:
        version = selectors.version_with_content(slug=slug)
    except FrameworkVersion.DoesNotExist:
        raise Http404 from None
    return render(request, "frameworks/framework_detail.html", {"version": version})
