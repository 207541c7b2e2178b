"""Each row of these models gets its own seal, and every encrypted value is re-encrypted
bound to its model, field and row (privacy.seal, privacy.rotation.sealing): a value copied
by SQL into another row or column no longer reads. The seal is added nullable, filled with a
distinct uuid4 per row, then made NOT NULL."""

import uuid
from django.db import migrations, models

from privacy.rotation.sealing import seal_rows, unseal_rows


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_links_and_access_changes'),
    ]

    operations = [
        migrations.AddField(
            model_name='accesschange',
            name='seal',
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='authenticatordevice',
            name='seal',
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='containment',
            name='seal',
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='user',
            name='seal',
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(seal_rows('accounts', 'accesschange', 'authenticatordevice', 'containment', 'user'), unseal_rows('accounts', 'accesschange', 'authenticatordevice', 'containment', 'user')),
        migrations.AlterField(
            model_name='accesschange',
            name='seal',
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
        migrations.AlterField(
            model_name='authenticatordevice',
            name='seal',
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
        migrations.AlterField(
            model_name='containment',
            name='seal',
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
        migrations.AlterField(
            model_name='user',
            name='seal',
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
    ]
