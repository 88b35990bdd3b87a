from . import (
    test_api,
    test_concurrency,
    test_confirmation,
    test_import,
    test_intake,
    test_notifications,
    test_portal,
    test_security,
    test_sla,
    test_steps,
    test_tours,
)
