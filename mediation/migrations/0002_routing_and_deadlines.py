from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from cases.models import Side
from cases.routing.models import AssignmentOutcome
from cases.deadlines.models import DeadlineStatus
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CaseDeadline',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('models.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='deadlines', on_delete=OnDelete.CASCADE)),
                ('regime', fields.CharField(max_length=40)),
                ('started_on', fields.DateField()),
                ('due_on', fields.DateField(null=True)),
                ('provisional', fields.BooleanField(default=False)),
                ('status', fields.CharEnumField(default=DeadlineStatus.OPEN, description='OPEN: open\nMET: met\nMISSED: missed\nCANCELLED: cancelled', enum_type=DeadlineStatus, max_length=12)),
                ('pauses', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('extensions', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('reminded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'case_deadline', 'app': 'models', 'indexes': [Index(fields=['status', 'due_on']), Index(fields=['case_id', 'regime', 'status'])], 'pk_attr': 'id', 'table_description': 'A running time limit of a case. The due date is always recomputed by the pure engine'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ConflictDisclosure',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('models.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='disclosures', on_delete=OnDelete.CASCADE)),
                ('mediator', fields.ForeignKeyField('models.User', source_field='mediator_id', db_constraint=True, to_field='id', related_name='disclosures', on_delete=OnDelete.RESTRICT)),
                ('has_tie', fields.BooleanField()),
                ('statement', fields.TextField(default='', unique=False)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'conflict_disclosure', 'app': 'models', 'indexes': [Index(fields=['case_id'])], 'pk_attr': 'id', 'table_description': "The mediator's answer to the disclosure question before accepting (Art. 13)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MediatorAssignment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('models.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='assignments', on_delete=OnDelete.CASCADE)),
                ('mediator', fields.ForeignKeyField('models.User', source_field='mediator_id', db_constraint=True, to_field='id', related_name='assignments', on_delete=OnDelete.RESTRICT)),
                ('how', fields.CharEnumField(description='CHOSEN: chosen\nAPPOINTED: appointed\nOVERRIDDEN: overridden\nACCEPTED: accepted\nDECLINED: declined\nRECUSED: recused\nREPLACED: replaced\nNO_ANSWER: no_answer', enum_type=AssignmentOutcome, max_length=16)),
                ('outcome', fields.CharEnumField(null=True, description='CHOSEN: chosen\nAPPOINTED: appointed\nOVERRIDDEN: overridden\nACCEPTED: accepted\nDECLINED: declined\nRECUSED: recused\nREPLACED: replaced\nNO_ANSWER: no_answer', enum_type=AssignmentOutcome, max_length=16)),
                ('reason', fields.TextField(default='', unique=False)),
                ('explanation', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'mediator_assignment', 'app': 'models', 'indexes': [Index(fields=['case_id']), Index(fields=['mediator_id'])], 'pk_attr': 'id', 'table_description': 'Every mediator a case was put to, and how it ended: the history behind Case.mediator.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MediatorChoice',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('models.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='mediator_choices', on_delete=OnDelete.CASCADE)),
                ('side', fields.CharEnumField(description='APPLICANT: applicant\nRESPONDENT: respondent', enum_type=Side, max_length=16)),
                ('mediator', fields.ForeignKeyField('models.User', source_field='mediator_id', db_constraint=True, to_field='id', related_name='chosen_by', on_delete=OnDelete.RESTRICT)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'mediator_choice', 'app': 'models', 'unique_together': (('case', 'side'),), 'pk_attr': 'id', 'table_description': "A party's choice of mediator. Two matching choices make a joint choice (Art. 10)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MediatorLeave',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('mediator', fields.ForeignKeyField('models.User', source_field='mediator_id', db_constraint=True, to_field='id', related_name='leaves', on_delete=OnDelete.CASCADE)),
                ('starts_on', fields.DateField()),
                ('ends_on', fields.DateField()),
                ('reason', fields.CharField(default='', max_length=200)),
            ],
            options={'table': 'mediator_leave', 'app': 'models', 'indexes': [Index(fields=['mediator_id', 'ends_on'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MediatorProfile',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='mediator_profile', on_delete=OnDelete.CASCADE)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='mediators', on_delete=OnDelete.RESTRICT)),
                ('specialties', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('languages', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('regions', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('capacity', fields.IntField(default=20)),
                ('open_cases', fields.IntField(default=0)),
                ('affiliations', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('cases_closed', fields.IntField(default=0)),
                ('cases_settled', fields.IntField(default=0)),
                ('total_days', fields.IntField(default=0)),
                ('bio', fields.TextField(default='', unique=False)),
                ('is_active', fields.BooleanField(default=True)),
            ],
            options={'table': 'mediator_profile', 'app': 'models', 'indexes': [Index(fields=['organisation_id', 'is_active'])], 'pk_attr': 'id', 'table_description': "A mediator's roster entry: what they take, and the load the scorer weighs."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Case',
            name='group_size',
            field=fields.IntField(default=1),
        ),
        ops.AddField(
            model_name='Case',
            name='has_arbitration_clause',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Case',
            name='language',
            field=fields.CharField(default='zh', max_length=8),
        ),
        ops.AddField(
            model_name='Case',
            name='mediator_accepted_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Case',
            name='triage',
            field=fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddIndex(
            model_name='Case',
            index=Index(fields=['mediator_id', 'status']),
        ),
        ops.AddIndex(
            model_name='Case',
            index=Index(fields=['organisation_id', 'status']),
        ),
        ops.AddIndex(
            model_name='Case',
            index=Index(fields=['filed_by_id']),
        ),
        ops.AddIndex(
            model_name='Evidence',
            index=Index(fields=['case_id']),
        ),
        ops.AddIndex(
            model_name='Invitation',
            index=Index(fields=['case_id']),
        ),
        ops.AddIndex(
            model_name='Notice',
            index=Index(fields=['case_id']),
        ),
        ops.AddIndex(
            model_name='Notice',
            index=Index(fields=['status', 'next_attempt_at']),
        ),
        ops.AddField(
            model_name='Organisation',
            name='accepts_court_entrusted',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Organisation',
            name='service_areas',
            field=fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddIndex(
            model_name='Party',
            index=Index(fields=['case_id', 'side']),
        ),
        ops.AddIndex(
            model_name='Party',
            index=Index(fields=['user_id']),
        ),
        ops.AddIndex(
            model_name='Party',
            index=Index(fields=['id_number']),
        ),
        ops.AddIndex(
            model_name='TimelineEvent',
            index=Index(fields=['case_id', 'at']),
        ),
        ops.AddIndex(
            model_name='User',
            index=Index(fields=['organisation_id']),
        ),
    ]
