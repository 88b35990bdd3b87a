"""19.0.1.1.0: the reminder to confirm a channel order is made by the scheduled action once the order has
waited, and the order is flagged ``oms_confirm_reminded``. Orders that got their reminder at intake (before)
are flagged, so that they are not reminded twice and their confirmation removes that reminder.

The step automation runs for the steps to email only (steps not emailed about are recorded "Not sent" at their
creation): its filter is set where an administrator has not set one (its record is not updated by upgrades)."""


def migrate(cr, version):
    cr.execute(
        """
        UPDATE sale_order o
           SET oms_confirm_reminded = TRUE
          FROM mail_activity a
          JOIN ir_model_data d
            ON d.model = 'mail.activity.type' AND d.res_id = a.activity_type_id
           AND d.module = 'oms_ecommerce' AND d.name = 'mail_activity_type_oms_confirm'
         WHERE a.res_model = 'sale.order' AND a.res_id = o.id
           AND o.oms_channel_id IS NOT NULL AND o.oms_confirm_reminded IS NOT TRUE
        """
    )
    cr.execute(
        """
        UPDATE base_automation a
           SET filter_domain = '[("notification", "=", "pending")]'
          FROM ir_model_data d
         WHERE d.model = 'base.automation' AND d.res_id = a.id
           AND d.module = 'oms_ecommerce' AND d.name = 'automation_oms_step_notify'
           AND (a.filter_domain IS NULL OR a.filter_domain IN ('', '[]'))
        """
    )
