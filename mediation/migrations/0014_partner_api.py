from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0013_merchants')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OrderSnapshot',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('models.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='order_snapshots', on_delete=OnDelete.CASCADE)),
                ('partner', fields.ForeignKeyField('models.PartnerPlatform', source_field='partner_id', db_constraint=True, to_field='id', related_name='order_snapshots', on_delete=OnDelete.RESTRICT)),
                ('order_number', fields.CharField(max_length=64)),
                ('canonical', fields.TextField(unique=False)),
                ('sha256', fields.CharField(max_length=64)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'order_snapshot', 'app': 'models', 'indexes': [Index(fields=['case_id', 'received_at'])], 'pk_attr': 'id', 'table_description': 'The order behind a dispute as the partner platform provided it: the canonical JSON'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Merchant',
            name='delegated_to',
            field=fields.ForeignKeyField('models.PartnerPlatform', source_field='delegated_to_id', null=True, db_constraint=True, to_field='id', related_name='merchants_delegating', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='NegotiationMessage',
            name='author_partner',
            field=fields.ForeignKeyField('models.PartnerPlatform', source_field='author_partner_id', null=True, db_constraint=True, to_field='id', related_name='negotiation_messages', on_delete=OnDelete.SET_NULL),
        ),
    ]
