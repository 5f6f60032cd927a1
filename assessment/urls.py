from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from assessment import views

admin.site.site_header = _("Service Balance administration")
admin.site.site_title = _("Service Balance admin")

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("frameworks/", include("frameworks.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
