"""Writes that span models. Keyword-only arguments; state changes are conditional updates.

Every function either completes or raises ``ServiceError`` (with a message fit
to show the user) and changes nothing. Views import this package and call
``services.<entity>_<action>``; the modules split it by concern.
"""

from assessment.services.answers import (
    AnswerInput,
    SaveConflict,
    SavedAnswer,
    SaveOutcome,
    answers_save,
    response_complete,
    response_revise,
    validate_answer,
)
from assessment.services.assessments import (
    LinkProblem,
    ResultsNeverShown,
    assessment_create,
    assessment_open,
    assessment_submit,
    invitation_redeem,
    invitation_redeem_digest,
    invitation_renew,
    invitation_revoke,
    invitation_send,
    invitations_add,
    invitations_send_unsent,
    manager_response_start,
    targets_set,
)
from assessment.services.branding import branding_update
from assessment.services.bulk import (
    BULK_EXPORT_MAX,
    bulk_export_start,
)
from assessment.services.common import (
    INVITATION_LINK_DAYS,
    MANAGER_INVITATION_DAYS,
    ServiceError,
    new_token,
)
from assessment.services.consultants import (
    GRANT_DAYS_DEFAULT,
    GRANT_DAYS_MAX,
    GRANT_DAYS_MIN,
    grant_create,
    grant_revoke,
)
from assessment.services.customers import (
    CustomerAnswers,
    customer_prediction_save,
    customer_response_submit,
    customer_survey_create,
)
from assessment.services.organisations import (
    email_confirmation_send,
    manager_invitation_accept,
    manager_invite,
    organisation_email_confirm,
    organisation_sign_up,
    password_reset_request,
    roster_entry_add,
    roster_entry_remove,
    team_create,
)
from assessment.services.review import (
    assessment_reopen,
    assessor_assign,
    decision_approve,
    decision_return,
    moderation_keep,
    moderation_record,
)

__all__ = [
    "BULK_EXPORT_MAX",
    "GRANT_DAYS_DEFAULT",
    "GRANT_DAYS_MAX",
    "GRANT_DAYS_MIN",
    "INVITATION_LINK_DAYS",
    "MANAGER_INVITATION_DAYS",
    "AnswerInput",
    "CustomerAnswers",
    "LinkProblem",
    "ResultsNeverShown",
    "SaveConflict",
    "SaveOutcome",
    "SavedAnswer",
    "ServiceError",
    "answers_save",
    "assessment_create",
    "assessment_open",
    "assessment_reopen",
    "assessment_submit",
    "assessor_assign",
    "branding_update",
    "bulk_export_start",
    "customer_prediction_save",
    "customer_response_submit",
    "customer_survey_create",
    "decision_approve",
    "decision_return",
    "email_confirmation_send",
    "grant_create",
    "grant_revoke",
    "invitation_redeem",
    "invitation_redeem_digest",
    "invitation_renew",
    "invitation_revoke",
    "invitation_send",
    "invitations_add",
    "invitations_send_unsent",
    "manager_invitation_accept",
    "manager_invite",
    "manager_response_start",
    "moderation_keep",
    "moderation_record",
    "new_token",
    "organisation_email_confirm",
    "organisation_sign_up",
    "password_reset_request",
    "response_complete",
    "response_revise",
    "roster_entry_add",
    "roster_entry_remove",
    "targets_set",
    "team_create",
    "validate_answer",
]
