from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from frameworks import selectors
from frameworks.loading import (
    AUDIENCES,
    Coverage,
    FrameworkFileError,
    ParsedCustomerSurvey,
    ParsedFramework,
    coverage,
    customer_survey_files,
    framework_entries,
    is_customer_survey_file,
    parse_customer_survey_file,
    parse_data_dir,
    parse_files,
    service_attributes,
    survey_entries,
)
from frameworks.services import (
    ArchivedEditionError,
    SyncStatus,
    sync_customer_surveys,
    sync_frameworks,
)
from frameworks.translation import translated_languages


class Command(BaseCommand):
    help = (
        "Load questionnaire frameworks from TOML files. Every file is validated before "
        "anything is written; changed content becomes a new version. By default the "
        "archived editions load first, oldest first (FRAMEWORKS_DATA_DIR/v1/, then v2/, ...), "
        "then the current files in FRAMEWORKS_DATA_DIR, and the customer survey "
        '(a file with kind = "customer-survey").'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "files",
            nargs="*",
            type=Path,
            help=(
                "Framework files to load, oldest edition first (default: the archived "
                "editions in FRAMEWORKS_DATA_DIR/v1/, v2/, ..., then FRAMEWORKS_DATA_DIR/*.toml)."
            ),
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help=(
                "Validate the files only and print a summary per framework, with the "
                "translation coverage of each shipped language; write nothing."
            ),
        )
        parser.add_argument(
            "--complete",
            action="store_true",
            help="With --check: fail unless every shipped language translates every text.",
        )

    def handle(
        self, *args: object, files: list[Path], check: bool, complete: bool, **options: object
    ) -> None:
        data_dir = Path(settings.FRAMEWORKS_DATA_DIR)
        resolved = [f.resolve() for f in files]
        repeated = sorted(
            {str(f) for f, r in zip(files, resolved, strict=True) if resolved.count(r) > 1}
        )
        if repeated:
            raise CommandError(f"Nothing was loaded. {repeated[0]} is given more than once.")
        try:
            if files:
                survey_paths = [f for f in files if is_customer_survey_file(f)]
                framework_paths = [f for f in files if f not in survey_paths]
                parsed = (
                    parse_files(framework_paths, shared_dir=data_dir) if framework_paths else []
                )
            else:
                parsed, survey_paths = parse_data_dir(data_dir), customer_survey_files(data_dir)
            # A survey's attributes match the service-definition edition loaded with it,
            # or else the one already in the database.
            known = service_attributes(parsed)
            if known is None and survey_paths:
                known = selectors.loaded_service_attributes()
            surveys = [
                parse_customer_survey_file(p, service_attributes=known) for p in survey_paths
            ]
        except FrameworkFileError as error:
            raise CommandError(f"Nothing was loaded. {error}") from None

        if check:
            gaps: list[str] = []
            for framework in parsed:
                self._write_summary(framework)
                gaps += self._write_coverage(framework_entries(framework), framework.translations)
            self._write_concepts(parsed)
            for survey in surveys:
                self._write_survey(survey)
                gaps += self._write_coverage(survey_entries(survey), survey.translations)
            if complete and gaps:
                raise CommandError(
                    f"{len(gaps)} translation(s) incomplete: {', '.join(sorted(set(gaps)))}"
                )
            return

        try:
            with transaction.atomic():
                results = sync_frameworks(parsed=parsed) if parsed else []
                results += sync_customer_surveys(parsed=surveys)
        except ArchivedEditionError as error:
            raise CommandError(f"Nothing was loaded. {error}") from None
        for result in results:
            style = self.style.SUCCESS if result.status != SyncStatus.UNCHANGED else str
            self.stdout.write(style(result.summary_line()))
        if all(r.status == SyncStatus.UNCHANGED for r in results):
            self.stdout.write("Nothing changed: every framework is already loaded.")

    def _write_coverage(self, entries, translations) -> list[str]:
        """One line per shipped language: how much of the file it translates, and the
        first texts it lacks (shown in English, marked, until translated). Returns the
        languages that are incomplete."""
        incomplete = []
        for code in translated_languages():
            found: Coverage = coverage(entries, translations, code)
            if found.complete:
                self.stdout.write(
                    f"  translation {code}: {found.translated}/{found.total} complete"
                )
                continue
            incomplete.append(code)
            shown = ", ".join(found.missing[:5]) + (" ..." if len(found.missing) > 5 else "")
            self.stdout.write(
                self.style.WARNING(
                    f"  translation {code}: {found.translated}/{found.total}, "
                    f"missing {len(found.missing)} (shown in English, marked): {shown}"
                )
            )
        return incomplete

    def _write_survey(self, survey: ParsedCustomerSurvey) -> None:
        """One line for the customer survey, and its attributes with what each matches."""
        self.stdout.write(
            f"{survey.slug:<20} ok   customer survey, {len(survey.attributes):>2} attributes  "
            f"({survey.path})"
        )
        for attribute in survey.attributes:
            matched = attribute.service_attribute or "(the customers' own)"
            self.stdout.write(f"  {attribute.key:<24}{matched}")

    def _write_summary(self, framework: ParsedFramework) -> None:
        """One line per framework; for format 2, a table of questions per section and
        audience, the reversed items, the concepts covered and the model's rules."""
        self.stdout.write(
            f"{framework.slug:<20} ok   {len(framework.sections):>2} sections "
            f"{len(framework.questions):>3} questions  format {framework.format}  "
            f"({framework.path})"
        )
        if framework.format != 2:
            return
        header = f"  {'section':<24}{'questions':>10}" + "".join(f"{a:>12}" for a in AUDIENCES)
        self.stdout.write(header + f"{'reversed':>10}")
        rows = [(s.key, framework.questions_in(s.key)) for s in framework.sections]
        rows.append(("total", list(framework.questions)))
        for label, questions in rows:
            counts = "".join(
                f"{sum(1 for q in questions if q.audience == a):>12}" for a in AUDIENCES
            )
            reversed_count = sum(1 for q in questions if q.reversed)
            self.stdout.write(f"  {label:<24}{len(questions):>10}{counts}{reversed_count:>10}")
        covered = framework.concepts_covered()
        self.stdout.write(f"  concepts covered ({len(covered)}): {', '.join(covered)}")
        self.stdout.write(
            "  reversed: " + ", ".join(q.code for q in framework.questions if q.reversed)
        )
        for rule in framework.rules:
            pair = f" {rule.section} over {rule.over}" if rule.section else ""
            self.stdout.write(f"  rule: {rule.kind}{pair}, tolerance {float(rule.tolerance):g}")

    def _write_concepts(self, parsed: list[ParsedFramework]) -> None:
        """Which current (format-2) frameworks measure each shared concept: the loader has
        already refused a concept measured by fewer than two."""
        latest = {f.slug: f for f in parsed if f.format == 2}
        if not latest:
            return
        covered = {slug: set(f.concepts_covered()) for slug, f in latest.items()}
        every = sorted(set().union(*covered.values()))
        self.stdout.write(f"concepts across frameworks ({len(every)})")
        for concept in every:
            measuring = sorted(slug for slug, keys in covered.items() if concept in keys)
            self.stdout.write(f"  {concept:<20}{len(measuring):>2}  {', '.join(measuring)}")
