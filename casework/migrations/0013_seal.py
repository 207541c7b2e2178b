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
        ('casework', '0012_alter_notification_kind_alter_reminder_kind'),
    ]

    operations = [
        migrations.AddField(
            model_name='breakglass',
            name='seal',
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='case',
            name='seal',
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='caseevent',
            name='seal',
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='person',
            name='seal',
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='reminder',
            name='seal',
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='routeleg',
            name='seal',
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AlterField(
            model_name='breakglass',
            name='reason',
            field=privacy.fields.EncryptedTextField(purgeable=True),
        ),
        migrations.AlterField(
            model_name='breakglass',
            name='review_comment',
            field=privacy.fields.EncryptedTextField(blank=True, purgeable=True),
        ),
        migrations.AlterField(
            model_name='case',
            name='legal_hold_reason',
            field=privacy.fields.EncryptedTextField(blank=True, purgeable=True, verbose_name='legal hold reason'),
        ),
        migrations.AlterField(
            model_name='case',
            name='provocation_reason',
            field=privacy.fields.EncryptedTextField(blank=True, purgeable=True, verbose_name='why a provocation is suspected'),
        ),
        migrations.AlterField(
            model_name='case',
            name='route_summary',
            field=privacy.fields.EncryptedTextField(blank=True, purgeable=True, verbose_name='route summary'),
        ),
        migrations.AlterField(
            model_name='caseevent',
            name='text',
            field=privacy.fields.EncryptedTextField(blank=True, purgeable=True),
        ),
        migrations.AlterField(
            model_name='person',
            name='current_location',
            field=privacy.fields.EncryptedCharField(blank=True, purgeable=True, verbose_name='current location'),
        ),
        migrations.AlterField(
            model_name='person',
            name='email',
            field=privacy.fields.EncryptedEmailField(blank=True, purgeable=True, verbose_name='e-mail'),
        ),
        migrations.AlterField(
            model_name='person',
            name='legal_name',
            field=privacy.fields.EncryptedCharField(blank=True, purgeable=True, verbose_name='legal name'),
        ),
        migrations.AlterField(
            model_name='person',
            name='messenger_handles',
            field=privacy.fields.EncryptedTextField(blank=True, help_text='One per line, e.g. @handle.', purgeable=True, verbose_name='messenger handles'),
        ),
        migrations.AlterField(
            model_name='person',
            name='military_unit',
            field=privacy.fields.EncryptedCharField(blank=True, purgeable=True, verbose_name='military unit'),
        ),
        migrations.AlterField(
            model_name='person',
            name='notes',
            field=privacy.fields.EncryptedTextField(blank=True, purgeable=True, verbose_name='notes'),
        ),
        migrations.AlterField(
            model_name='person',
            name='phone',
            field=privacy.fields.EncryptedCharField(blank=True, purgeable=True, verbose_name='phone'),
        ),
        migrations.RunPython(seal_rows('casework', 'breakglass', 'case', 'caseevent', 'person', 'reminder', 'routeleg'), unseal_rows('casework', 'breakglass', 'case', 'caseevent', 'person', 'reminder', 'routeleg')),
        migrations.AlterField(
            model_name='breakglass',
            name='seal',
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
        migrations.AlterField(
            model_name='case',
            name='seal',
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
        migrations.AlterField(
            model_name='caseevent',
            name='seal',
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
        migrations.AlterField(
            model_name='person',
            name='seal',
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
        migrations.AlterField(
            model_name='reminder',
            name='seal',
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
        migrations.AlterField(
            model_name='routeleg',
            name='seal',
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
    ]
