from celery import shared_task

from audit import addresses, log


@shared_task(name="audit.tasks.verify_chain")
def verify_chain() -> dict:
    """Nightly: walk the chain; a broken link becomes an urgent alert for admins, an intact
    one an event the dashboard's audit health shows."""
    result = log.verify_and_record()
    return {"checked": result.checked, "broken_seq": result.broken_seq}


@shared_task(name="audit.tasks.purge_expired_addresses")
def purge_expired_addresses() -> int:
    """Nightly: events older than ADDRESS_RETENTION_DAYS lose their network and digest."""
    return addresses.purge_expired()
