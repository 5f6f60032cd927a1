"""Staff input: the assessor to assign."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from assessment.forms import base


class AssignForm(base.Form):
    """An accredited assessor; the service checks the accreditation is current and that
    they do not belong to the organisation, and says why when not."""

    assessor = base.ChoiceByIdField(
        queryset=get_user_model().objects.filter(assessor_profile__isnull=False),
        error_messages={
            "required": _("Choose an assessor."),
            "invalid_choice": _("Choose an assessor."),
        },
    )
