"""Bulk work that sets aside what fails instead of failing everything."""

import psycopg2


def run_in_savepoints(records, work, failed, catch=Exception):
    """Run ``work(records)`` in one savepoint; when it raises ``catch``, run ``work`` record by record, each in its
    own savepoint, and call ``failed(record, error)`` for those that fail, so that one bad record is set aside
    without blocking the others. A database error that is nobody's fault (a concurrent update, a lost connection:
    ``psycopg2.OperationalError``) is never caught: the whole run is retried.

    :return: the records done
    """
    cr = records.env.cr
    try:
        with cr.savepoint():
            work(records)
        return records
    except psycopg2.OperationalError:
        raise
    except catch as error:
        if len(records) == 1:
            failed(records, error)
            return records.browse()
    done = records.browse()
    for record in records:
        try:
            with cr.savepoint():
                work(record)
            done |= record
        except psycopg2.OperationalError:
            raise
        except catch as error:
            failed(record, error)
    return done
