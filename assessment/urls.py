from django.contrib import admin
from django.contrib.auth.views import (
    LoginView,
    PasswordChangeView,
    PasswordResetConfirmView,
)
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from assessment.forms.public import (
    AdminSignInForm,
    PasswordChangeForm,
    SetPasswordForm,
    SignInForm,
)
from assessment.views import (
    actions,
    branding,
    bulk,
    consultant,
    customers,
    evidence,
    exports,
    manager,
    public,
    respond,
    review,
    staff,
)

admin.site.site_header = _("Service Balance administration")
admin.site.login_form = AdminSignInForm
admin.site.site_title = _("Service Balance admin")

app_patterns = [
    # Managers: organisation, teams and rosters.
    path("signup/", manager.signup, name="signup"),
    path("confirm/resend/", public.email_confirm_resend, name="email_confirm_resend"),
    path("confirm/<str:token>/", public.email_confirm, name="email_confirm"),
    path("dashboard/", manager.dashboard, name="dashboard"),
    path("managers/", manager.managers, name="managers"),
    path("managers/invite/", manager.manager_invite, name="manager_invite"),
    path("join/<str:token>/", manager.manager_join_link, name="manager_join"),
    path("join/", manager.manager_join, name="manager_join_clean"),
    path("teams/new/", manager.team_create, name="team_create"),
    path("teams/<int:pk>/", manager.team_detail, name="team_detail"),
    path("teams/<int:pk>/roster/add/", manager.roster_add, name="roster_add"),
    path(
        "teams/<int:team_pk>/roster/<int:pk>/remove/",
        manager.roster_remove,
        name="roster_remove",
    ),
    # Managers: assessments and invitations.
    path("assessments/new/", manager.assessment_create, name="assessment_create"),
    path("assessments/<int:pk>/", manager.assessment_detail, name="detail"),
    path(
        "assessments/<int:pk>/invitations/add/",
        manager.invitations_add,
        name="invitations_add",
    ),
    path("assessments/<int:pk>/open/", manager.assessment_open, name="open"),
    path(
        "assessments/<int:pk>/invitations/send/",
        manager.invitations_send_unsent,
        name="send_unsent",
    ),
    path("assessments/<int:pk>/submit/", manager.assessment_submit, name="submit"),
    path("assessments/<int:pk>/results/", manager.assessment_results, name="results"),
    path("assessments/<int:pk>/targets/", manager.targets_update, name="targets"),
    path("assessments/<int:pk>/respond/", manager.respond_as_manager, name="respond_as_manager"),
    path("invitations/<int:pk>/resend/", manager.invitation_resend, name="invitation_resend"),
    path("invitations/<int:pk>/revoke/", manager.invitation_revoke, name="invitation_revoke"),
    path("assessments/<int:pk>/reopen/", manager.assessment_reopen, name="reopen"),
    # Reports and data exports.
    path(
        "assessments/<int:pk>/report.pdf",
        exports.report_pdf,
        {"audience": "manager"},
        name="report_pdf",
    ),
    *(
        path(
            f"assessments/<int:pk>/{table}.{file_format}",
            exports.table_download,
            {"audience": "manager", "table": table, "file_format": file_format},
            name=f"{table}_{file_format}",
        )
        for table in ("scores", "answers", "customers", "actions", "judgements")
        for file_format in ("csv", "xlsx")
    ),
    path("assessments/<int:pk>/assessor/", manager.assessor_choose, name="assessor_choose"),
    # Consultants
    path("organisation/consultants/", consultant.consultant_grants, name="consultant_grants"),
    path(
        "organisation/consultants/<int:pk>/revoke/",
        consultant.consultant_grant_revoke,
        name="consultant_grant_revoke",
    ),
    path("clients/", consultant.portfolio, name="portfolio"),
    path(
        "clients/assessments/<int:pk>/report.pdf",
        exports.report_pdf,
        {"audience": "consultant"},
        name="client_report_pdf",
    ),
    *(
        path(
            f"clients/assessments/<int:pk>/{table}.{file_format}",
            exports.table_download,
            {"audience": "consultant", "table": table, "file_format": file_format},
            name=f"client_{table}_{file_format}",
        )
        for table in ("scores", "answers", "customers", "actions", "judgements")
        for file_format in ("csv", "xlsx")
    ),
    # Bulk export
    path("clients/exports/", bulk.bulk_list, name="bulk_list"),
    path("clients/exports/new/", bulk.bulk_new, name="bulk_new"),
    path("clients/exports/<int:pk>/", bulk.bulk_detail, name="bulk_detail"),
    path("clients/exports/<int:pk>/download/", bulk.bulk_download, name="bulk_download"),
    # Staff: the review queue and assignments.
    path("staff/reviews/", staff.review_queue, name="staff_queue"),
    path("staff/reviews/<int:pk>/assign/", staff.assign, name="staff_assign"),
    # Assessors: the queue, the review workspace, moderation and decisions.
    path("reviews/", review.assessor_queue, name="assessor_queue"),
    path("reviews/<int:pk>/", review.review_detail, name="review_detail"),
    path("reviews/<int:pk>/moderate/", review.moderate, name="moderate"),
    path("reviews/<int:pk>/moderate/keep/", review.keep_moderation, name="keep_moderation"),
    path(
        "reviews/<int:pk>/sections/<int:section_pk>/criteria/",
        review.criteria,
        name="review_criteria",
    ),
    path("reviews/<int:pk>/actions/", review.require_action, name="review_require_action"),
    path("reviews/<int:pk>/approve/", review.approve, name="approve"),
    path("reviews/<int:pk>/return/", review.return_for_revision, name="return"),
    *(
        path(
            f"reviews/<int:pk>/answers.{file_format}",
            exports.review_answers_download,
            {"file_format": file_format},
            name=f"review_answers_{file_format}",
        )
        for file_format in ("csv", "xlsx")
    ),
    # Branding (consultants).
    path("clients/branding/", branding.branding, name="branding"),
    path("clients/branding/logo/", branding.branding_logo, name="branding_logo"),
    # Respondents: invitation links and the questionnaire.
    path("r/<str:token>/", respond.invitation_link, name="invitation_open"),
    path("r/", respond.invitation_landing, name="invitation_landing"),
    path("r-renew/", respond.invitation_renew, name="invitation_renew"),
    path("responses/<int:pk>/", respond.response_start, name="response_start"),
    path(
        "responses/<int:pk>/sections/<int:section_pk>/",
        respond.section_page,
        name="section",
    ),
    path("responses/<int:pk>/answers/", respond.answers_autosave, name="answers"),
    # Pages opened before the batch autosave still post here (see answer_autosave).
    path(
        "responses/<int:pk>/questions/<int:question_pk>/",
        respond.answer_autosave,
        name="autosave",
    ),
    path("responses/<int:pk>/review/", respond.review, name="review"),
    path("responses/<int:pk>/complete/", respond.complete, name="complete"),
    path("responses/<int:pk>/revise/", respond.revise, name="revise"),
    path(
        "responses/<int:pk>/customers/",
        respond.customer_prediction,
        name="customer_prediction",
    ),
    # Managers: customer surveys (the customers' own page is outside this namespace).
    path(
        "assessments/<int:pk>/customers/new/",
        customers.survey_create,
        name="customer_survey_create",
    ),
    path("teams/<int:pk>/customers/new/", customers.team_survey_create, name="team_survey_create"),
    path("customers/<int:pk>/", customers.survey_detail, name="customer_survey"),
    path("customers/<int:pk>/edit/", customers.survey_edit, name="customer_survey_edit"),
    path("customers/<int:pk>/close/", customers.survey_close, name="customer_survey_close"),
    path("customers/<int:pk>/links/", customers.links_upload, name="customer_links_upload"),
    path("customers/<int:pk>/links/send/", customers.links_send, name="customer_links_send"),
    path("customers/<int:pk>/qr.svg", customers.survey_qr_svg, name="customer_survey_qr_svg"),
    path("customers/<int:pk>/qr.png", customers.survey_qr_png, name="customer_survey_qr_png"),
    path("customers/<int:pk>/poster.pdf", customers.survey_poster, name="customer_survey_poster"),
    # Evidence (managers, leadership invitees and the assessor).
    path("assessments/<int:pk>/evidence/", evidence.manager_evidence, name="evidence"),
    path(
        "assessments/<int:pk>/evidence/<int:evidence_pk>/file/",
        evidence.manager_download,
        name="evidence_download",
    ),
    path(
        "assessments/<int:pk>/evidence/<int:evidence_pk>/delete/",
        evidence.manager_delete,
        name="evidence_delete",
    ),
    path("responses/<int:pk>/evidence/", evidence.leadership_evidence, name="response_evidence"),
    path(
        "responses/<int:pk>/evidence/<int:evidence_pk>/file/",
        evidence.leadership_download,
        name="response_evidence_download",
    ),
    path(
        "responses/<int:pk>/evidence/<int:evidence_pk>/delete/",
        evidence.leadership_delete,
        name="response_evidence_delete",
    ),
    path("reviews/<int:pk>/evidence/", evidence.assessor_evidence, name="review_evidence"),
    path(
        "reviews/<int:pk>/evidence/<int:evidence_pk>/file/",
        evidence.assessor_download,
        name="review_evidence_download",
    ),
    # Action plans and the organisation's calendar feed.
    path("assessments/<int:pk>/actions/", actions.action_plan, name="action_plan"),
    path("assessments/<int:pk>/actions/new/", actions.action_create, name="action_create"),
    path("actions/<int:pk>/edit/", actions.action_edit, name="action_edit"),
    path("actions/<int:pk>/delete/", actions.action_delete, name="action_delete"),
    path("organisation/calendar/", actions.calendar_feeds, name="calendar_feeds"),
    path(
        "organisation/calendar/<int:pk>/revoke/",
        actions.calendar_feed_revoke,
        name="calendar_feed_revoke",
    ),
]

handler500 = "assessment.views.public.server_error"

urlpatterns = [
    path("", public.home, name="home"),
    path("health/", public.health, name="health"),
    path("scoring/", public.scoring_rules, name="scoring"),
    path("glossary/", public.glossary, name="glossary"),
    path("language/", public.set_language, name="set_language"),
    # Customers: a survey's public link (short, for QR codes and receipts).
    path("c/<str:token>/", customers.survey_public, name="customer_survey_public"),
    path("c/<str:token>/thanks/", customers.survey_thanks, name="customer_survey_thanks"),
    path("c/p/<str:token>/", customers.survey_personal, name="customer_survey_personal"),
    # An organisation's private calendar feed of action due dates (a secret address).
    path("calendar/<str:token>.ics", actions.calendar_feed, name="calendar_feed"),
    path("", include((app_patterns, "assessment"))),
    path("frameworks/", include("frameworks.urls")),
    path("accounts/login/", LoginView.as_view(authentication_form=SignInForm), name="login"),
    # Before the auth views: the reset is queued, and its link built from SITE_URL.
    path("accounts/password_reset/", public.password_reset, name="password_reset"),
    # Django's password views with the project's forms (the base form's control-character
    # rule); the include below supplies the rest of them.
    path(
        "accounts/password_change/",
        PasswordChangeView.as_view(form_class=PasswordChangeForm),
        name="password_change",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        PasswordResetConfirmView.as_view(form_class=SetPasswordForm),
        name="password_reset_confirm",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
