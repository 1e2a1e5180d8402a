from tortoise import migrations
from tortoise.migrations import operations as ops

class Migration(migrations.Migration):
    dependencies = [('models', '0003_live_sessions')]

    initial = False

    operations = [
        ops.RemoveField(model_name='MediatorProfile', name='open_cases'),
    ]
