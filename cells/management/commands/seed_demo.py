"""Fill an empty database with a demo party tree, members, logins and (when those apps provide a
seed step) meetings and resolutions: `python manage.py seed_demo [--if-empty] [--scale N]`.

--scale N builds a province-sized tree instead (N cells, ~25 members each) in bulk, through one
`<app>.seed_scale.seed(stdout, rng, scale)` step per app, and prints its timing and row counts."""

import importlib
import importlib.util
import random
import time

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import translation

from cells.models import PartyUnit
from meetings import summaries
from members.seed import DEMO_PASSWORD, demo_logins

# One step per app, in dependency order; each module has seed(stdout, rng). Missing ones are skipped.
STEPS = ["cells.seed", "members.seed", "meetings.seed", "resolutions.seed"]
APP_LABELS = ["cells", "members", "meetings", "resolutions"]
# --scale: the same apps' seed_scale modules, each with seed(stdout, rng, scale).
SCALE_STEPS = [f"{label}.seed_scale" for label in APP_LABELS]
SCALE_MINIMUM = 10  # below this the tree cannot have every kind of unit and cell type
RANDOM_SEED = 2026


def _counts() -> dict[str, int]:
    counts: dict[str, int] = {}
    for label in APP_LABELS:
        for model in apps.get_app_config(label).get_models():
            name = "history rows" if model.__name__.startswith("Historical") else str(model._meta.verbose_name_plural)
            counts[name] = counts.get(name, 0) + model._default_manager.count()
    return counts


def _table_counts() -> dict[str, int]:
    """Rows per table (history tables included) for the apps' models and the logins."""
    models = [model for label in APP_LABELS for model in apps.get_app_config(label).get_models()]
    models.append(apps.get_model(settings.AUTH_USER_MODEL))
    return {model._meta.db_table: model._default_manager.count() for model in dict.fromkeys(models)}


class Command(BaseCommand):
    help = "Create demo data (party tree, members, logins) in an empty database."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (but list the demo logins) when the database already has party units.",
        )
        parser.add_argument(
            "--scale",
            type=int,
            metavar="N",
            help="Build a province-sized tree in bulk instead: N cells, ~25 members each (N=2000: ~50,000).",
        )

    # Developer-facing output: one language, whatever the project's LANGUAGE_CODE.
    @translation.override("en")
    def handle(self, *args, if_empty: bool = False, scale: int | None = None, **options):
        if scale is not None and scale < SCALE_MINIMUM:
            raise CommandError(f"--scale needs at least {SCALE_MINIMUM} cells.")
        if PartyUnit.objects.exists():
            if not if_empty:
                raise CommandError("The database already has party units; flush it first or pass --if-empty.")
            self.stdout.write("The database already has party units: nothing seeded.")
        elif scale is not None:
            self._seed_scale(scale)
        else:
            self._seed()
        self.stdout.write(f"\nDemo logins (password {DEMO_PASSWORD}):")
        for username, what in demo_logins():
            self.stdout.write(f"  {username:<10} {what}")
        self.stdout.write("\nOpen http://127.0.0.1:8000/ (python manage.py runserver); Django admin at /admin/.")

    def _seed(self) -> None:
        rng = random.Random(RANDOM_SEED)
        before, started = _counts(), time.perf_counter()
        # All or nothing: a failed step leaves the database empty, so --if-empty can try again.
        with transaction.atomic():
            for name in STEPS:
                if importlib.util.find_spec(name) is None:
                    continue
                importlib.import_module(name).seed(self.stdout, rng)
            # The steps write in bulk, past the services that keep the dashboard summaries row by row.
            summaries.rebuild()
        after = _counts()
        created = [
            f"{name}: {after[name] - before.get(name, 0)}" for name in after if after[name] > before.get(name, 0)
        ]
        self.stdout.write(self.style.SUCCESS(f"Seeded in {time.perf_counter() - started:.1f} s."))
        self.stdout.write("Created " + ", ".join(created) + ".")

    def _seed_scale(self, scale: int) -> None:
        rng = random.Random(RANDOM_SEED)
        started = time.perf_counter()
        self.stdout.write(f"Building a tree of {scale:,} cells in bulk ({connection.vendor}).")
        with transaction.atomic():
            for name in SCALE_STEPS:
                if importlib.util.find_spec(name) is None:
                    continue
                step_started = time.perf_counter()
                importlib.import_module(name).seed(self.stdout, rng, scale)
                self.stdout.write(f"{name}: {time.perf_counter() - step_started:.1f} s")
            step_started = time.perf_counter()
            built = summaries.rebuild()
            self.stdout.write(
                f"dashboard summaries: {time.perf_counter() - step_started:.1f} s "
                f"({', '.join(f'{n:,} {what}' for what, n in built.items())})"
            )
        elapsed = time.perf_counter() - started
        if connection.vendor == "postgresql":
            # Fresh statistics, so the first queries on the new rows get good plans (autovacuum lags).
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        # Each table next to its history table.
        rows = sorted(_table_counts().items(), key=lambda item: (item[0].replace("historical", ""), item[0]))
        counts = {table: n for table, n in rows if n}
        self.stdout.write(self.style.SUCCESS(f"Seeded {scale:,} cells in {elapsed:.1f} s."))
        self.stdout.write("Rows per table:")
        for table, n in counts.items():
            self.stdout.write(f"  {table:<40} {n:>10,}")
        self.stdout.write(f"  {'total':<40} {sum(counts.values()):>10,}")
