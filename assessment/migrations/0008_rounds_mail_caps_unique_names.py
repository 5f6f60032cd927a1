"""Review rounds (the answers as last completed count), e-mail confirmation and
sending caps, and consultancy names unique regardless of case and spacing."""

import django.db.models.deletion
import django.db.models.functions.datetime
import django.db.models.functions.text
from django.db import migrations, models


def carry_over(apps, schema_editor):
    """Existing data keeps its meaning: completed answers are the submitted ones, existing
    organisations were set up before confirmation existed, and names are made unique."""
    Answer = apps.get_model("assessment", "Answer")
    Response = apps.get_model("assessment", "Response")
    Organisation = apps.get_model("assessment", "Organisation")
    Consultancy = apps.get_model("assessment", "Consultancy")
    Answer.objects.filter(response__status="completed").update(
        submitted_level=models.F("level"),
        submitted_not_applicable=models.F("not_applicable"),
        submitted_comment=models.F("comment"),
    )
    Response.objects.filter(status="completed").update(completed_round=1)
    Organisation.objects.filter(email_confirmed_at__isnull=True).update(
        email_confirmed_at=models.F("created_at")
    )
    seen: set[str] = set()
    for consultancy in Consultancy.objects.order_by("pk"):
        name = " ".join(consultancy.name.split())
        candidate, n = name, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{name} ({n})"
        seen.add(candidate.lower())
        if candidate != consultancy.name:
            Consultancy.objects.filter(pk=consultancy.pk).update(name=candidate)


class Migration(migrations.Migration):

    dependencies = [
        ('assessment', '0007_bulk_export_progress_at'),
        ('frameworks', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='SentMail',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('invitation', 'Invitation to answer'), ('manager_invitation', 'Invitation to manage'), ('confirmation', 'Address confirmation')], max_length=30, verbose_name='kind')),
                ('sent_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='sent at')),
            ],
            options={
                'verbose_name': 'sent e-mail',
                'verbose_name_plural': 'sent e-mails',
            },
        ),
        migrations.RemoveIndex(
            model_name='answer',
            name='answer_totals_idx',
        ),
        migrations.AddField(
            model_name='answer',
            name='submitted_comment',
            field=models.TextField(blank=True, max_length=2000, verbose_name='submitted comment'),
        ),
        migrations.AddField(
            model_name='answer',
            name='submitted_level',
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='submitted level'),
        ),
        migrations.AddField(
            model_name='answer',
            name='submitted_not_applicable',
            field=models.BooleanField(default=False, verbose_name="submitted as not applicable / don't know"),
        ),
        migrations.AddField(
            model_name='assessment',
            name='round',
            field=models.PositiveSmallIntegerField(default=1, verbose_name='round'),
        ),
        migrations.AddField(
            model_name='organisation',
            name='email_confirmed_at',
            field=models.DateTimeField(blank=True, help_text='When the address of the person who signed up was confirmed. Invitations are sent only after that.', null=True, verbose_name='e-mail address confirmed at'),
        ),
        migrations.AddField(
            model_name='response',
            name='completed_round',
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='completed in round'),
        ),
        migrations.AlterField(
            model_name='response',
            name='status',
            field=models.CharField(choices=[('in_progress', 'In progress'), ('completed', 'Completed'), ('revising', 'Revising'), ('closed', 'Closed unfinished')], default='in_progress', max_length=20, verbose_name='status'),
        ),
        migrations.AddIndex(
            model_name='answer',
            index=models.Index(fields=['response', 'section', 'submitted_level', 'submitted_not_applicable'], name='answer_submitted_totals_idx'),
        ),
        migrations.AddField(
            model_name='sentmail',
            name='organisation',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sent_mail', to='assessment.organisation', verbose_name='organisation'),
        ),
        migrations.AddIndex(
            model_name='sentmail',
            index=models.Index(fields=['organisation', 'sent_at'], name='sentmail_org_time_idx'),
        ),
        migrations.RunPython(carry_over, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='consultancy',
            constraint=models.UniqueConstraint(django.db.models.functions.text.Lower('name'), name='consultancy_name_unique_ci'),
        ),
    ]
