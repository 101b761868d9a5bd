from celery import shared_task


@shared_task(ignore_result=True)
def build_register_book(job_id: str) -> None:
    from .book_jobs import run

    run(job_id)


@shared_task(ignore_result=True)
def clean_register_books() -> int:
    from .book_jobs import clean

    return clean()
