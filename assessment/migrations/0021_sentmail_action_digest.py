# The weekly action digest is counted against the sending caps as its own kind of mail.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('assessment', '0019_evidence_judgements_actions'),
    ]

    operations = [
        migrations.AlterField(
            model_name='sentmail',
            name='kind',
            field=models.CharField(choices=[('invitation', 'Invitation to answer'), ('manager_invitation', 'Invitation to manage'), ('customer_invitation', 'Invitation to a customer survey'), ('action_digest', 'Weekly digest of actions'), ('confirmation', 'Address confirmation')], max_length=30, verbose_name='kind'),
        ),
    ]
