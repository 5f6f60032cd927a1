from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FrameworksConfig(AppConfig):
    name = "frameworks"
    verbose_name = _("Frameworks")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from frameworks import models, selectors

        # Framework content is immutable once loaded; a write (the loader, or a test
        # building content) empties the per-process store of what versions ask.
        for model in (models.FrameworkVersion, models.Section, models.Question, models.ScaleLevel):
            for signal in (post_save, post_delete):
                signal.connect(
                    selectors.forget_asked_content,
                    sender=model,
                    dispatch_uid=f"forget-asked-content-{model.__name__}-{signal is post_save}",
                )
