"""The assessment app's models, one module per concern; import them from here.

State changes happen in ``services/`` as conditional updates; nothing here has
logic in ``save()`` or signals. Rules that several places need (who counts as a
team member, whether results may show) live here as model methods and QuerySets.
"""

from assessment.models.actions import Action, ActionDigest, CalendarFeed
from assessment.models.assessments import Assessment, Invitation, Reopening, SectionTarget
from assessment.models.consultants import Consultancy, ConsultantGrant, ConsultantMembership
from assessment.models.customers import (
    CustomerLink,
    CustomerPrediction,
    CustomerResponse,
    CustomerSurvey,
    CustomerThrottle,
)
from assessment.models.evidence import Evidence, EvidenceBlob
from assessment.models.exports import BulkExport, ReportCache
from assessment.models.organisations import (
    ManagerInvitation,
    Membership,
    Organisation,
    PersonalPreference,
    RosterEntry,
    SentMail,
    Team,
    token_digest,
)
from assessment.models.responses import COMMENT_MAX_LENGTH, Answer, Response
from assessment.models.results import StoredResults
from assessment.models.review import (
    AUDIT_FIELD_LABELS,
    AssessorProfile,
    Assignment,
    AuditEvent,
    Decision,
    Judgement,
    Moderation,
)

__all__ = [
    "AUDIT_FIELD_LABELS",
    "COMMENT_MAX_LENGTH",
    "Action",
    "ActionDigest",
    "Answer",
    "Assessment",
    "AssessorProfile",
    "Assignment",
    "AuditEvent",
    "BulkExport",
    "CalendarFeed",
    "Consultancy",
    "ConsultantGrant",
    "ConsultantMembership",
    "CustomerLink",
    "CustomerPrediction",
    "CustomerResponse",
    "CustomerSurvey",
    "CustomerThrottle",
    "Decision",
    "Evidence",
    "EvidenceBlob",
    "Invitation",
    "Judgement",
    "ManagerInvitation",
    "Membership",
    "Moderation",
    "Organisation",
    "PersonalPreference",
    "Reopening",
    "ReportCache",
    "Response",
    "RosterEntry",
    "SectionTarget",
    "SentMail",
    "StoredResults",
    "Team",
    "token_digest",
]
