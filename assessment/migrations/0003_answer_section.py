import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_sections(apps, schema_editor):
    """Give existing answers their question's section."""
    Answer = apps.get_model("assessment", "Answer")
    Question = apps.get_model("frameworks", "Question")
    Answer.objects.update(
        section_id=Subquery(
            Question.objects.filter(pk=OuterRef("question_id")).values("section_id")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("assessment", "0002_section_target"),
        ("frameworks", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="answer",
            name="section",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="frameworks.section",
                verbose_name="section",
            ),
        ),
        migrations.RunPython(copy_sections, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="answer",
            name="section",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="frameworks.section",
                verbose_name="section",
            ),
        ),
        migrations.AddIndex(
            model_name="answer",
            index=models.Index(
                fields=["response", "section", "level", "not_applicable"],
                name="answer_totals_idx",
            ),
        ),
    ]
