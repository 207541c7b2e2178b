from celery import shared_task

from audit import log


@shared_task(name="audit.tasks.verify_chain")
def verify_chain() -> dict:
    """Nightly: walk the chain; a broken link becomes an urgent alert for admins."""
    result = log.verify()
    if result.broken_seq is not None:
        log.alert_chain_broken(result)
    return {"checked": result.checked, "broken_seq": result.broken_seq}
