from celery import shared_task

from audit import addresses, log


@shared_task(name="audit.tasks.verify_chain")
def verify_chain() -> dict:
    """Nightly: walk the chain; anything but intact becomes an urgent alert for admins, and
    so does the check failing to run; an intact one an event the dashboard's audit health
    shows, and a checkpoint."""
    result = log.verify_and_record()
    return {"checked": result.checked, "broken_seq": result.broken_seq, "intact": result.intact}


@shared_task(name="audit.tasks.seal_events")
def seal_events() -> int:
    """Every AUDIT_SEAL_SECONDS: chain the events written since the last run."""
    return log.seal()


@shared_task(name="audit.tasks.write_checkpoint")
def write_checkpoint() -> int:
    """Every AUDIT_CHECKPOINT_MINUTES: the sealed head, appended to the file outside the
    database."""
    checkpoint = log.checkpoint()
    return checkpoint.seq if checkpoint else 0


@shared_task(name="audit.tasks.purge_expired_addresses")
def purge_expired_addresses() -> int:
    """Nightly: events older than ADDRESS_RETENTION_DAYS lose their network and digest."""
    return addresses.purge_expired()
