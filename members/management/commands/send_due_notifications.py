from django.core.management.base import BaseCommand

from members import tasks


class Command(BaseCommand):
    help = "Plan time-based notifications and send everything due, once (for cron and for tests)."

    def add_arguments(self, parser):
        parser.add_argument("--no-plan", action="store_true", help="Only send; do not run the planners first.")

    def handle(self, *args, no_plan=False, verbosity=1, **options):
        if not no_plan:
            planned = tasks.plan_notifications()
            if verbosity:
                self.stdout.write(f"planned: {planned}")
        result = tasks.send_due_notifications()
        if verbosity:
            self.stdout.write(
                "inbox {inbox}, e-mail sent {sent}, retried {retried}, failed {failed}, "
                "cancelled {cancelled}, released {released}".format(**result)
            )
