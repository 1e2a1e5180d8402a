"""One dispute, one number (issue 12): every source of a case, possible-duplicate links, the
lock row per applicant and respondent, and the order number a case is about."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from cases.models import Source
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0015_webhooks')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CaseSource',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('models.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='sources', on_delete=OnDelete.CASCADE)),
                ('channel', fields.CharEnumField(description='WEB: web\nPARTNER: partner\nCOURT: court', enum_type=Source, max_length=16)),
                ('partner', fields.ForeignKeyField('models.PartnerPlatform', source_field='partner_id', null=True, db_constraint=True, to_field='id', related_name='case_sources', on_delete=OnDelete.RESTRICT)),
                ('filed_by', fields.ForeignKeyField('models.User', source_field='filed_by_id', null=True, db_constraint=True, to_field='id', related_name='case_sources', on_delete=OnDelete.RESTRICT)),
                ('partner_reference', fields.CharField(null=True, max_length=100)),
                ('idempotency_key', fields.CharField(null=True, max_length=255)),
                ('order_number', fields.CharField(null=True, max_length=64)),
                ('merged', fields.BooleanField(default=False)),
                ('reason', fields.CharField(default='', max_length=40)),
                ('filed_claim', fields.JSONField(default=dict)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'case_source', 'app': 'models', 'indexes': [Index(fields=['case_id']), Index(fields=['partner_id', 'partner_reference'])], 'pk_attr': 'id', 'table_description': "One filing of a case's dispute: the one that opened the case, and each later one"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DisputeLock',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=64)),
                ('touched_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'dispute_lock', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One row per applicant-and-respondent pair (by `DisputeKey.digest`): every filing of'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DuplicateLink',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('models.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='duplicate_links', on_delete=OnDelete.CASCADE)),
                ('possible_duplicate_of', fields.ForeignKeyField('models.Case', source_field='possible_duplicate_of_id', db_constraint=True, to_field='id', related_name='duplicate_links_to', on_delete=OnDelete.CASCADE)),
                ('reason', fields.CharField(max_length=40)),
                ('similarity', fields.FloatField()),
                ('applicant_told', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'duplicate_link', 'app': 'models', 'unique_together': (('case', 'possible_duplicate_of'),), 'indexes': [Index(fields=['possible_duplicate_of_id'])], 'pk_attr': 'id', 'table_description': 'A case its applicant filed although an open case looked like the same dispute (they'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Case',
            name='order_number',
            field=fields.CharField(null=True, db_index=True, max_length=64),
        ),
    ]
