"""Each row of these models gets its own seal, and every encrypted value is re-encrypted
bound to its model, field and row (privacy.seal, privacy.rotation.sealing): a value copied
by SQL into another row or column no longer reads. The seal is added nullable, filled with a
distinct uuid4 per row, then made NOT NULL."""

import privacy.fields
import uuid
from django.db import migrations, models

from privacy.rotation.sealing import seal_rows, unseal_rows


class Migration(migrations.Migration):

    dependencies = [
        ('intake', '0002_request_retention'),
    ]

    operations = [
        migrations.AddField(
            model_name='intakerequest',
            name='seal',
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AlterField(
            model_name='intakerequest',
            name='contact',
            field=privacy.fields.EncryptedCharField(help_text='Phone number, @handle or e-mail the person wrote from.', purgeable=True, verbose_name='contact'),
        ),
        migrations.AlterField(
            model_name='intakerequest',
            name='message',
            field=privacy.fields.EncryptedTextField(blank=True, purgeable=True, verbose_name='message'),
        ),
        migrations.AlterField(
            model_name='intakerequest',
            name='rejection_reason',
            field=privacy.fields.EncryptedTextField(blank=True, purgeable=True, verbose_name='reason'),
        ),
        migrations.RunPython(seal_rows('intake', 'intakerequest'), unseal_rows('intake', 'intakerequest')),
        migrations.AlterField(
            model_name='intakerequest',
            name='seal',
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
    ]
