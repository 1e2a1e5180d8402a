from tortoise import migrations
from tortoise.migrations import operations as ops

class Migration(migrations.Migration):
    dependencies = [('models', '0004_mediator_load_counted_live')]

    initial = False

    operations = [
        ops.RemoveField(model_name='MediatorProfile', name='cases_closed'),
        ops.RemoveField(model_name='MediatorProfile', name='cases_settled'),
        ops.RemoveField(model_name='MediatorProfile', name='total_days'),
    ]
