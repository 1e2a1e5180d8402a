from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from cases.sessions.models import SessionMode, SessionStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_routing_and_deadlines')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MediationSession',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('models.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('duration_minutes', fields.IntField(default=60)),
                ('mode', fields.CharEnumField(default=SessionMode.JOINT, description='JOINT: joint\nBACK_TO_BACK: back_to_back', enum_type=SessionMode, max_length=16)),
                ('status', fields.CharEnumField(default=SessionStatus.SCHEDULED, description='SCHEDULED: scheduled\nENDED: ended\nCANCELLED: cancelled', enum_type=SessionStatus, max_length=16)),
                ('scheduled_by', fields.ForeignKeyField('models.User', source_field='scheduled_by_id', db_constraint=True, to_field='id', related_name='scheduled_sessions', on_delete=OnDelete.RESTRICT)),
                ('no_shows', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'mediation_session', 'app': 'models', 'indexes': [Index(fields=['case_id', 'starts_at'])], 'pk_attr': 'id', 'table_description': 'A live online session of a case, joined in the room from a few minutes before it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RoomMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('session_id', fields.IntField()),
                ('room', fields.CharField(max_length=32)),
                ('seq', fields.BigIntField()),
                ('sender_id', fields.IntField(null=True)),
                ('sender_name', fields.CharField(default='', max_length=100)),
                ('sender_side', fields.CharField(null=True, max_length=16)),
                ('kind', fields.CharField(max_length=20)),
                ('body', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('concession', fields.BooleanField(default=False)),
                ('client_id', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'room_message', 'app': 'models', 'unique_together': (('session_id', 'room', 'seq'), ('session_id', 'sender_id', 'client_id')), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RoomState',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('session_id', fields.IntField()),
                ('room', fields.CharField(max_length=32)),
                ('epoch', fields.CharField(max_length=16)),
                ('last_seq', fields.BigIntField(default=0)),
            ],
            options={'table': 'room_state', 'app': 'models', 'unique_together': (('session_id', 'room'),), 'pk_attr': 'id', 'table_description': 'One row per room. `last_seq` is advanced inside the transaction that inserts the'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Transcript',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('session', fields.OneToOneField('models.MediationSession', source_field='session_id', db_constraint=True, to_field='id', related_name='transcript', on_delete=OnDelete.CASCADE)),
                ('text', fields.TextField(unique=False)),
                ('sha256', fields.CharField(max_length=64)),
                ('confirmations', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'transcript', 'app': 'models', 'pk_attr': 'id', 'table_description': "The session's record (笔录, Art. 22): the joint room and the mediator's notes, frozen"},
            bases=['Model'],
        ),
    ]
