"""Admin for framework content: browse only.

Content changes go through the TOML files and ``load_frameworks``, which
creates a new version. Editing a loaded version here would silently change the
questions existing assessments were answered on, so the admin refuses it.
"""

from django.contrib import admin
from django.http import HttpRequest

from frameworks.models import (
    Concept,
    CustomerAttribute,
    CustomerSurveyVersion,
    Framework,
    FrameworkVersion,
    Question,
    ScaleLevel,
    Section,
)


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class VersionInline(ReadOnlyMixin, admin.TabularInline):
    model = FrameworkVersion
    fields = ["number", "name", "loaded_at", "content_hash"]
    show_change_link = True
    extra = 0


class ScaleLevelInline(ReadOnlyMixin, admin.TabularInline):
    model = ScaleLevel
    fields = ["value", "label", "descriptor"]
    extra = 0


class SectionInline(ReadOnlyMixin, admin.TabularInline):
    model = Section
    fields = ["position", "key", "name", "weight", "source_idea"]
    extra = 0


class QuestionInline(ReadOnlyMixin, admin.TabularInline):
    model = Question
    fields = ["code", "section", "audience", "reversed", "text", "help_text"]
    extra = 0


@admin.register(Framework)
class FrameworkAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["slug", "current_name", "current_version", "created_at"]
    inlines = [VersionInline]

    @admin.display(description="name")
    def current_name(self, obj: Framework) -> str:
        latest = obj.latest_version()
        return latest.name if latest else "—"

    @admin.display(description="current version")
    def current_version(self, obj: Framework) -> int | None:
        latest = obj.latest_version()
        return latest.number if latest else None


@admin.register(FrameworkVersion)
class FrameworkVersionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["framework", "number", "format", "name", "loaded_at"]
    list_filter = ["framework", "format"]
    list_select_related = ["framework"]
    inlines = [ScaleLevelInline, SectionInline, QuestionInline]


@admin.register(Question)
class QuestionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["code", "text", "audience", "reversed", "section", "version"]
    list_filter = ["version__framework", "version", "audience", "reversed", "concepts"]
    list_select_related = ["section", "version__framework"]
    search_fields = ["code", "text"]


@admin.register(Concept)
class ConceptAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["key", "name"]
    search_fields = ["key", "name"]


class CustomerAttributeInline(ReadOnlyMixin, admin.TabularInline):
    model = CustomerAttribute
    fields = ["position", "key", "name", "statement", "service_attribute"]
    extra = 0


@admin.register(CustomerSurveyVersion)
class CustomerSurveyVersionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The customer survey's editions (``data/customer-voice.toml``), browse only."""

    list_display = ["slug", "number", "name", "loaded_at"]
    inlines = [CustomerAttributeInline]
