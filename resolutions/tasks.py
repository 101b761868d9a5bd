from celery import shared_task


@shared_task(ignore_result=True)
def build_register_book(job_id: str) -> None:
    from .book_jobs import run

    run(job_id)
