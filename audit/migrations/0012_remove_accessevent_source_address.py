"""The clear address column goes, now that 0011 has emptied it and re-hashed the chain."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0011_remove_clear_addresses'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='accessevent',
            name='source_address',
        ),
    ]
