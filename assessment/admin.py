"""Admin for accounts and review data.

Review records (assignments, moderations, decisions and the audit trail) are
read-only here: they change only through the services, which check the rules
and write the audit trail. Assign assessors from the staff review queue.

What can be changed here is changed through ``base.ModelForm``, the project's form base,
so its text fields refuse control characters as every other form's do
(``tests/test_architecture.py`` checks that each admin class that edits names it).
"""

from django.contrib import admin

from assessment.forms import base
from assessment.models import (
    AssessorProfile,
    Assignment,
    AuditEvent,
    CustomerSurvey,
    Decision,
    Membership,
    Moderation,
    Organisation,
    Team,
)
from frameworks.admin import ReadOnlyMixin


class MembershipInline(admin.TabularInline):
    model = Membership
    form = base.ModelForm
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    form = base.ModelForm
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = base.ModelForm
    list_display = ["name", "organisation"]
    list_select_related = ["organisation"]
    search_fields = ["name", "organisation__name"]


@admin.register(AssessorProfile)
class AssessorProfileAdmin(admin.ModelAdmin):
    form = base.ModelForm
    list_display = ["user", "accrediting_body", "accreditation_number", "valid_until"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__last_name", "accreditation_number"]
    autocomplete_fields = ["user"]


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["assessment", "assessor", "assigned_by", "assigned_at"]
    list_select_related = ["assessment", "assessor", "assigned_by"]


@admin.register(Moderation)
class ModerationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["assessment", "section", "score", "assessor", "created_at"]
    list_select_related = ["assessment", "section", "assessor"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["assessment", "round", "outcome", "awarded_level", "assessor", "created_at"]
    list_select_related = ["assessment", "assessor"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Append-only: visible to administrators, never added, changed or deleted here."""

    list_display = ["created_at", "assessment", "action", "actor"]
    list_filter = ["action"]
    list_select_related = ["assessment", "actor"]
    search_fields = ["assessment__title"]


@admin.register(CustomerSurvey)
class CustomerSurveyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Customer surveys and their counts. Customers' responses, addresses and the team's
    predictions are not in the admin: they are read only pooled (docs/customer-voice.md)."""

    list_display = [
        "title",
        "organisation",
        "team",
        "opens_on",
        "closes_on",
        "max_responses",
        "refused_repeat",
        "refused_rate",
        "refused_bot",
        "refused_closed",
    ]
    list_select_related = ["organisation", "team"]
    exclude = ["public_token"]
