"""Each row of these models gets its own seal, and every encrypted value is re-encrypted
bound to its model, field and row (privacy.seal, privacy.rotation.sealing): a value copied
by SQL into another row or column no longer reads. The seal is added nullable, filled with a
distinct uuid4 per row, then made NOT NULL."""

import uuid
from django.db import migrations, models

from privacy.rotation.sealing import seal_rows, unseal_rows


class Migration(migrations.Migration):

    dependencies = [
        ('destinations', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='destinationrisk',
            name='seal',
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(seal_rows('destinations', 'destinationrisk'), unseal_rows('destinations', 'destinationrisk')),
        migrations.AlterField(
            model_name='destinationrisk',
            name='seal',
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
    ]
