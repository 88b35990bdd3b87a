"""Demo data generators: plain Python (no models), run once when the addon is installed with demo data."""

from .accounting import AccountingDemo
from .orders import OrdersDemo
from .returns import ReturnsDemo
from .service import ServiceDemo


class DemoGenerator(OrdersDemo, AccountingDemo, ReturnsDemo, ServiceDemo):
    """Builds the demo database's channel orders in every step, then its service desk, accounting and returns
    (each part is called by its demo XML file, in the manifest's order)."""

    PARTS = {
        "orders": "_generate_orders",
        "service_desk": "_generate_service_desk",
        "accounting": "_generate_accounting",
        "returns": "_generate_returns",
    }

    def __init__(self, env):
        self.env = env

    def generate(self, part):
        return getattr(self, self.PARTS[part])()
