"""Rebuild the dashboard summaries from the raw tables, or prove they agree with live aggregation."""

import time

from django.core.management.base import BaseCommand, CommandError

from meetings import summaries


class Command(BaseCommand):
    help = "Rebuild the dashboard summary tables from meetings and attendance (--check compares only)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Compare the stored rows with live aggregation; exit 1 if they differ."
        )
        parser.add_argument(
            "--extend", action="store_true", help="Only add rows for active months up to the new horizon (yearly)."
        )

    def handle(self, *args, check=False, extend=False, verbosity=1, **options):
        started = time.perf_counter()
        if check:
            problems = summaries.check()
            for line in problems[:50]:
                self.stderr.write(line)
            if problems:
                raise CommandError(f"{len(problems)} difference(s) between the summaries and live aggregation")
            if verbosity:
                self.stdout.write(f"Summaries agree with live aggregation ({time.perf_counter() - started:.2f} s).")
            return
        if extend:
            made = summaries.extend()
            if verbosity:
                self.stdout.write(f"{made} cell-month row(s) added ({time.perf_counter() - started:.2f} s).")
            return
        counts = summaries.rebuild()
        if verbosity:
            self.stdout.write(
                "Rebuilt {meetings} meeting rows, {cell_months} cell-month rows, {unit_months} unit-month rows".format(
                    **counts
                )
                + f" in {time.perf_counter() - started:.2f} s."
            )
