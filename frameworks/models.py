"""Questionnaire content: frameworks, their immutable versions, sections and questions.

Content is written by ``load_frameworks`` from the TOML files in
``frameworks/data``. A loaded version is never edited: changed content becomes
a new version, so every assessment keeps the exact questions it was answered on.
"""

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from frameworks.translation import (
    TranslatedCharField,
    TranslatedJSONField,
    TranslatedTextField,
)

SCALE_MIN = 1
SCALE_MAX = 5
# Format-2 versions add level 0, "not in place"; format 1 keeps levels 1-5 (the
# loader enforces the range per format, the database holds the union).
SCALE_V2_MIN = 0
# Every translatable row's other languages (frameworks.translation).
TRANSLATIONS_HELP = _(
    "The text in other languages, by language code, from the file's translations block."
)


class Framework(models.Model):
    """A questionnaire model (e.g. Win4); its content lives in its versions."""

    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("framework")
        verbose_name_plural = _("frameworks")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse("frameworks:detail", kwargs={"slug": self.slug})

    def latest_version(self) -> "FrameworkVersion | None":
        return self.versions.order_by("-number").first()


class FrameworkVersion(models.Model):
    """One immutable edition of a framework's content."""

    class Format(models.IntegerChoices):
        V1 = 1, _("Format 1: levels 1-5")
        V2 = 2, _("Format 2: levels 0-5 with anchors, audiences and concepts")

    framework = models.ForeignKey(
        Framework, on_delete=models.PROTECT, related_name="versions", verbose_name=_("framework")
    )
    number = models.PositiveIntegerField(_("version"))
    name = TranslatedCharField(_("name"), max_length=200)
    short_name = TranslatedCharField(_("short name"), max_length=40)
    source = TranslatedCharField(_("source"), max_length=300)
    summary = TranslatedCharField(_("summary"), max_length=300)
    description = TranslatedTextField(_("description"))
    translations = models.JSONField(
        _("translations"), default=dict, blank=True, help_text=TRANSLATIONS_HELP
    )
    content_hash = models.CharField(_("content hash"), max_length=64)
    source_file = models.CharField(_("source file"), max_length=300)
    format = models.PositiveSmallIntegerField(_("format"), choices=Format, default=Format.V1)
    loaded_at = models.DateTimeField(_("loaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("framework version")
        verbose_name_plural = _("framework versions")
        ordering = ["framework__slug", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "number"], name="frameworkversion_unique_number"
            ),
            models.CheckConstraint(
                condition=models.Q(number__gte=1), name="frameworkversion_number_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(format__in=[1, 2]), name="frameworkversion_format_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.framework.slug} v{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("frameworks:detail", kwargs={"slug": self.framework.slug})

    @property
    def scale_min(self) -> int:
        """The lowest level: 0 ("not in place") in format 2, 1 in format 1."""
        return SCALE_V2_MIN if self.format == self.Format.V2 else SCALE_MIN

    @property
    def level_range(self) -> range:
        """The level values (``levels`` is the related manager of its ScaleLevel rows)."""
        return range(self.scale_min, SCALE_MAX + 1)

    @property
    def has_audiences(self) -> bool:
        """Format 2: each question is asked of one audience, and "don't know" is an
        answer of its own; format 1 asks everyone everything, with one merged
        "not applicable / don't know"."""
        return self.format == self.Format.V2

    def description_paragraphs(self) -> list[str]:
        return [p.strip() for p in self.description.split("\n\n") if p.strip()]


class ScaleLevel(models.Model):
    """One maturity level of a version's rating scale (1-5; format 2 adds 0)."""

    version = models.ForeignKey(
        FrameworkVersion,
        on_delete=models.CASCADE,
        related_name="levels",
        verbose_name=_("framework version"),
    )
    value = models.PositiveSmallIntegerField(_("value"))
    label = TranslatedCharField(_("label"), max_length=60)
    descriptor = TranslatedCharField(_("descriptor"), max_length=300)
    translations = models.JSONField(
        _("translations"), default=dict, blank=True, help_text=TRANSLATIONS_HELP
    )

    class Meta:
        verbose_name = _("scale level")
        verbose_name_plural = _("scale levels")
        ordering = ["version", "value"]
        constraints = [
            models.UniqueConstraint(fields=["version", "value"], name="scalelevel_unique_value"),
            models.CheckConstraint(
                condition=models.Q(value__gte=SCALE_V2_MIN, value__lte=SCALE_MAX),
                name="scalelevel_value_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.value}: {self.label}"


class Section(models.Model):
    """A part of a framework; one axis of its radar chart."""

    version = models.ForeignKey(
        FrameworkVersion,
        on_delete=models.CASCADE,
        related_name="sections",
        verbose_name=_("framework version"),
    )
    key = models.SlugField(
        _("key"),
        max_length=50,
        help_text=_("Stable across versions, so results can be compared over time."),
    )
    name = TranslatedCharField(_("name"), max_length=200)
    description = TranslatedTextField(_("description"))
    position = models.PositiveSmallIntegerField(_("position"))
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=2, default=1)
    source_idea = TranslatedTextField(
        _("source idea"),
        blank=True,
        help_text=_("Which idea of the source model this section encodes (format 2)."),
    )
    translations = models.JSONField(
        _("translations"), default=dict, blank=True, help_text=TRANSLATIONS_HELP
    )

    class Meta:
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="section_unique_key"),
            models.UniqueConstraint(fields=["version", "position"], name="section_unique_position"),
            models.CheckConstraint(
                condition=models.Q(weight__gt=0), name="section_weight_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FrameworkRule(models.Model):
    """A rule of the source model, declared in a format-2 file's ``[[rules]]``.

    ``leads`` and ``precedes`` compare two sections: ``section``'s score should be at
    least ``over``'s, less ``tolerance`` points. ``one_at_a_time`` names no section: all
    sections but at most one should lie within ``tolerance`` points of each other.
    Checked by ``assessment.scoring.rules.check_rules``; part of the version's content.
    """

    class Kind(models.TextChoices):
        LEADS = "leads", _("Should lead")
        PRECEDES = "precedes", _("Comes first")
        ONE_AT_A_TIME = "one_at_a_time", _("One dimension at a time")

    version = models.ForeignKey(
        FrameworkVersion,
        on_delete=models.CASCADE,
        related_name="rules",
        verbose_name=_("framework version"),
    )
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=30, choices=Kind)
    section = models.ForeignKey(
        Section,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rules",
        verbose_name=_("section"),
    )
    over = models.ForeignKey(
        Section,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rules_over",
        verbose_name=_("over section"),
    )
    tolerance = models.DecimalField(
        _("tolerance"),
        max_digits=5,
        decimal_places=2,
        help_text=_("Score points (0-100) by which the rule may be missed and still be met."),
    )
    why = TranslatedTextField(_("why"))
    translations = models.JSONField(
        _("translations"), default=dict, blank=True, help_text=TRANSLATIONS_HELP
    )

    class Meta:
        verbose_name = _("framework rule")
        verbose_name_plural = _("framework rules")
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "position"], name="frameworkrule_unique_position"
            ),
            models.CheckConstraint(
                condition=models.Q(tolerance__gte=0, tolerance__lte=100),
                name="frameworkrule_tolerance_in_range",
            ),
            # A pairwise rule names two sections; a whole-framework rule names none.
            models.CheckConstraint(
                condition=(
                    models.Q(
                        kind__in=["leads", "precedes"], section__isnull=False, over__isnull=False
                    )
                    | models.Q(kind="one_at_a_time", section__isnull=True, over__isnull=True)
                ),
                name="frameworkrule_kind_sections",
            ),
        ]

    def __str__(self) -> str:
        if self.section_id is None:
            return self.get_kind_display()
        return f"{self.section.key} {self.kind} {self.over.key}"


class Concept(models.Model):
    """A shared idea that questions of several frameworks measure, so results triangulate.

    Written by ``load_frameworks`` from ``frameworks/data/concepts.toml``.
    """

    key = models.SlugField(_("key"), max_length=50, unique=True)
    name = TranslatedCharField(_("name"), max_length=100)
    description = TranslatedTextField(_("description"))
    translations = models.JSONField(
        _("translations"), default=dict, blank=True, help_text=TRANSLATIONS_HELP
    )

    class Meta:
        verbose_name = _("concept")
        verbose_name_plural = _("concepts")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name


class QuestionQuerySet(models.QuerySet):
    def asked_of(self, audience: str) -> "QuestionQuerySet":
        """The questions a person of this audience answers: in a format-2 version only
        their audience's, in a format-1 version every question (the one home of this rule:
        the questionnaire, its progress, completeness and the link's question count)."""
        return self.filter(
            models.Q(version__format=FrameworkVersion.Format.V1) | models.Q(audience=audience)
        )


class Question(models.Model):
    """A statement rated on the version's scale (or "not applicable").

    Format-2 questions also carry their audience, six anchors (levels 0-5),
    assessor criteria and evidence prompts, and the concepts they measure;
    format-1 questions keep the defaults (team, no anchors, no criteria).
    """

    class Audience(models.TextChoices):
        TEAM = "team", _("Front-line team")
        MANAGER = "manager", _("Manager")
        LEADERSHIP = "leadership", _("Leadership")

    class Side(models.TextChoices):
        BUSINESS = "business", _("As the business defines it")
        CUSTOMER = "customer", _("As customers experience it")

    version = models.ForeignKey(
        FrameworkVersion,
        on_delete=models.CASCADE,
        related_name="questions",
        verbose_name=_("framework version"),
    )
    section = models.ForeignKey(
        Section, on_delete=models.CASCADE, related_name="questions", verbose_name=_("section")
    )
    code = models.CharField(_("code"), max_length=30)
    text = TranslatedCharField(_("text"), max_length=300)
    help_text = TranslatedCharField(_("help text"), max_length=400)
    position = models.PositiveSmallIntegerField(_("position"))
    audience = models.CharField(
        _("audience"), max_length=20, choices=Audience, default=Audience.TEAM
    )
    reversed = models.BooleanField(
        _("reversed"),
        default=False,
        help_text=_("Negatively worded (guards against agreeing with everything)."),
    )
    anchors = TranslatedJSONField(
        _("anchors"),
        default=list,
        blank=True,
        help_text=_("What you would observe at each level, 0 to 5 (format 2; empty for format 1)."),
    )
    criteria = TranslatedTextField(_("assessor criteria"), blank=True)
    evidence = TranslatedJSONField(_("evidence prompts"), default=list, blank=True)
    translations = models.JSONField(
        _("translations"), default=dict, blank=True, help_text=TRANSLATIONS_HELP
    )
    attribute = models.SlugField(
        _("attribute"),
        max_length=50,
        blank=True,
        help_text=_("The service quality a business/customer pair of questions asks about."),
    )
    side = models.CharField(_("side"), max_length=10, choices=Side, blank=True)
    concepts = models.ManyToManyField(
        Concept, blank=True, related_name="questions", verbose_name=_("concepts")
    )

    objects = QuestionQuerySet.as_manager()

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["version", "section__position", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="question_unique_code"),
            models.UniqueConstraint(
                fields=["section", "position"], name="question_unique_position"
            ),
            models.CheckConstraint(
                condition=models.Q(audience__in=["team", "manager", "leadership"]),
                name="question_audience_known",
            ),
            # An attribute is asked from a side, and a side belongs to an attribute.
            models.CheckConstraint(
                condition=models.Q(attribute="", side="")
                | (~models.Q(attribute="") & models.Q(side__in=["business", "customer"])),
                name="question_attribute_has_side",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.text}"

    def options(self) -> list[tuple[int, str]]:
        """(level, anchor) in the order the questionnaire lists them. A negatively worded
        question lists them in its statement's direction, from the statement not holding
        (the top level) to it holding fully (level 0): the position a person picks is
        scored in reverse, and a person who always picks the first option is not read as
        consistent. Empty for format-1 questions (they use the version's ladder)."""
        pairs = list(enumerate(self.anchors))
        return pairs[::-1] if self.reversed else pairs


class CustomerSurveyVersion(models.Model):
    """One immutable edition of the customer survey (``data/customer-voice.toml``): the
    short questionnaire customers answer themselves (docs/customer-voice.md)."""

    slug = models.SlugField(_("slug"), max_length=50)
    number = models.PositiveIntegerField(_("version"))
    name = TranslatedCharField(_("name"), max_length=200)
    intro = TranslatedTextField(_("introduction"))
    importance_question = TranslatedCharField(_("importance question"), max_length=100)
    performance_question = TranslatedCharField(_("performance question"), max_length=100)
    importance_labels = TranslatedJSONField(_("importance labels"))
    performance_labels = TranslatedJSONField(_("performance labels"))
    not_applicable_label = TranslatedCharField(_("not applicable label"), max_length=40)
    comment_question = TranslatedCharField(_("comment question"), max_length=200)
    translations = models.JSONField(
        _("translations"), default=dict, blank=True, help_text=TRANSLATIONS_HELP
    )
    content_hash = models.CharField(_("content hash"), max_length=64)
    source_file = models.CharField(_("source file"), max_length=300)
    loaded_at = models.DateTimeField(_("loaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer survey version")
        verbose_name_plural = _("customer survey versions")
        ordering = ["slug", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["slug", "number"], name="customersurveyversion_unique_number"
            ),
            models.CheckConstraint(
                condition=models.Q(number__gte=1), name="customersurveyversion_number_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.slug} v{self.number}"

    def rating_choices(self, which: str) -> list[tuple[int, str]]:
        """The five labelled answers of ``which`` ("importance" or "performance"), 1-5."""
        labels = self.importance_labels if which == "importance" else self.performance_labels
        return list(enumerate(labels, start=1))


class CustomerAttribute(models.Model):
    """One quality customers rate twice: how much it matters and how well it was done.

    ``position`` (1-12) is also the column pair that stores its answers in a customer
    response (``i1``/``p1`` ... ``i12``/``p12``), so answers stay one row per response.
    """

    version = models.ForeignKey(
        CustomerSurveyVersion,
        on_delete=models.CASCADE,
        related_name="attributes",
        verbose_name=_("customer survey version"),
    )
    position = models.PositiveSmallIntegerField(_("position"))
    key = models.SlugField(_("key"), max_length=50)
    name = TranslatedCharField(_("name"), max_length=60)
    statement = TranslatedCharField(_("statement"), max_length=200)
    translations = models.JSONField(
        _("translations"), default=dict, blank=True, help_text=TRANSLATIONS_HELP
    )
    # The customer-side quality of "Service definition and delivery" it matches; blank
    # for a quality of the customers' own.
    service_attribute = models.SlugField(_("service attribute"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("customer attribute")
        verbose_name_plural = _("customer attributes")
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "position"], name="customerattribute_unique_position"
            ),
            models.UniqueConstraint(fields=["version", "key"], name="customerattribute_unique_key"),
            models.CheckConstraint(
                condition=models.Q(position__gte=1, position__lte=12),
                name="customerattribute_position_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name
