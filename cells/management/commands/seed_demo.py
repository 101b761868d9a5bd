"""Fill an empty database with a demo party tree, members, logins and (when those apps provide a
seed step) meetings and resolutions: `python manage.py seed_demo [--if-empty]`."""

import importlib
import importlib.util
import random
import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import translation

from cells.models import PartyUnit
from members.seed import DEMO_PASSWORD, demo_logins

# One step per app, in dependency order; each module has seed(stdout, rng). Missing ones are skipped.
STEPS = ["cells.seed", "members.seed", "meetings.seed", "resolutions.seed"]
APP_LABELS = ["cells", "members", "meetings", "resolutions"]
RANDOM_SEED = 2026


def _counts() -> dict[str, int]:
    counts: dict[str, int] = {}
    for label in APP_LABELS:
        for model in apps.get_app_config(label).get_models():
            name = "history rows" if model.__name__.startswith("Historical") else str(model._meta.verbose_name_plural)
            counts[name] = counts.get(name, 0) + model._default_manager.count()
    return counts


class Command(BaseCommand):
    help = "Create demo data (party tree, members, logins) in an empty database."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (but list the demo logins) when the database already has party units.",
        )

    # Developer-facing output: one language, whatever the project's LANGUAGE_CODE.
    @translation.override("en")
    def handle(self, *args, if_empty: bool = False, **options):
        if PartyUnit.objects.exists():
            if not if_empty:
                raise CommandError("The database already has party units; flush it first or pass --if-empty.")
            self.stdout.write("The database already has party units: nothing seeded.")
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
        after = _counts()
        created = [
            f"{name}: {after[name] - before.get(name, 0)}" for name in after if after[name] > before.get(name, 0)
        ]
        self.stdout.write(self.style.SUCCESS(f"Seeded in {time.perf_counter() - started:.1f} s."))
        self.stdout.write("Created " + ", ".join(created) + ".")
