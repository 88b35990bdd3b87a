"""19.0.1.3.0: an order step's company is no longer stored (it is the order's, read through it): the column that
held it is dropped, so that nothing reads a copy that no longer follows the order."""


def migrate(cr, version):
    cr.execute("ALTER TABLE oms_order_step DROP COLUMN IF EXISTS company_id")
