from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from courtdesk.models import DecisionAction, FilingKind, FilingStatus, OutboxStatus, WireFormat
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Clerk',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('username', fields.CharField(unique=True, max_length=64)),
                ('display_name', fields.CharField(max_length=100)),
                ('password_hash', fields.CharField(max_length=200)),
                ('active', fields.BooleanField(default=True)),
                ('session_generation', fields.IntField(default=0)),
                ('failed_sign_ins', fields.IntField(default=0)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'desk_clerk', 'app': 'desk', 'pk_attr': 'id', 'table_description': 'A court clerk who signs in to the desk (立案庭书记员).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DocketCounter',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('year', fields.IntField()),
                ('type_code', fields.CharField(max_length=16)),
                ('last_serial', fields.IntField(default=0)),
            ],
            options={'table': 'desk_docket_counter', 'app': 'desk', 'unique_together': (('year', 'type_code'),), 'pk_attr': 'id', 'table_description': 'The last serial given per year and type code (案号 serials are gap-free).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Filing',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('filing_id', fields.CharField(unique=True, max_length=64)),
                ('kind', fields.CharEnumField(description='TRANSFER: transfer\nCONFIRMATION: confirmation', enum_type=FilingKind, max_length=16)),
                ('wire_format', fields.CharEnumField(description='JSON: json\nECF: ecf', enum_type=WireFormat, max_length=8)),
                ('status', fields.CharEnumField(default=FilingStatus.RECEIVED, description='RECEIVED: received\nACCEPTED: accepted\nRETURNED: returned\nDOCKETED: docketed\nCONFIRMED: confirmed\nREJECTED: rejected', enum_type=FilingStatus, max_length=16)),
                ('case_number', fields.CharField(max_length=64)),
                ('category', fields.CharField(default='', max_length=64)),
                ('applicant_names', fields.CharField(default='', max_length=300)),
                ('respondent_names', fields.CharField(default='', max_length=300)),
                ('corrects', fields.CharField(null=True, max_length=64)),
                ('package', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('content_type', fields.CharField(max_length=80)),
                ('body', fields.TextField(unique=False)),
                ('body_sha256', fields.CharField(max_length=64)),
                ('receipt_id', fields.CharField(unique=True, max_length=64)),
                ('receipt_content_type', fields.CharField(max_length=80)),
                ('receipt_body', fields.TextField(unique=False)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('court_case_number', fields.CharField(null=True, unique=True, max_length=64)),
                ('docket_year', fields.IntField(null=True)),
                ('docket_type', fields.CharField(null=True, max_length=16)),
                ('docket_serial', fields.IntField(null=True)),
                ('reason', fields.TextField(default='', unique=False)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'desk_filing', 'app': 'desk', 'indexes': [Index(fields=['status', 'received_at']), Index(fields=['kind', 'status'])], 'pk_attr': 'id', 'table_description': 'One filing as the platform sent it and as the court has handled it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Decision',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('filing', fields.ForeignKeyField('desk.Filing', source_field='filing_id', db_constraint=True, to_field='id', related_name='decisions', on_delete=OnDelete.CASCADE)),
                ('action', fields.CharEnumField(description='ACCEPTED: accepted\nRETURNED: returned\nDOCKETED: docketed\nCONFIRMED: confirmed\nREJECTED: rejected', enum_type=DecisionAction, max_length=16)),
                ('from_status', fields.CharEnumField(description='RECEIVED: received\nACCEPTED: accepted\nRETURNED: returned\nDOCKETED: docketed\nCONFIRMED: confirmed\nREJECTED: rejected', enum_type=FilingStatus, max_length=16)),
                ('clerk', fields.ForeignKeyField('desk.Clerk', source_field='clerk_id', db_constraint=True, to_field='id', related_name='decisions', on_delete=OnDelete.RESTRICT)),
                ('reason', fields.TextField(default='', unique=False)),
                ('court_case_number', fields.CharField(null=True, max_length=64)),
                ('callback_id', fields.CharField(unique=True, max_length=64)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'desk_decision', 'app': 'desk', 'indexes': [Index(fields=['filing_id', 'at'])], 'pk_attr': 'id', 'table_description': "One clerk decision on a filing, in order: the filing's history."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('msg_id', fields.CharField(unique=True, max_length=64)),
                ('destination', fields.CharField(max_length=40)),
                ('path', fields.CharField(max_length=200)),
                ('content_type', fields.CharField(max_length=80)),
                ('body', fields.TextField(unique=False)),
                ('filing', fields.ForeignKeyField('desk.Filing', source_field='filing_id', null=True, db_constraint=True, to_field='id', related_name='outbox', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharEnumField(default=OutboxStatus.PENDING, description='PENDING: pending\nDELIVERED: delivered\nDEAD: dead', enum_type=OutboxStatus, max_length=12)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claimed_by', fields.CharField(default='', max_length=64)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('last_status_code', fields.IntField(null=True)),
                ('response', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'desk_outbox_message', 'app': 'desk', 'indexes': [Index(fields=['status', 'next_attempt_at'])], 'pk_attr': 'id', 'table_description': "A callback to the platform, written in the decision's transaction and delivered (at"},
            bases=['Model'],
        ),
    ]
