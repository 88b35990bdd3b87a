"""19.0.1.2.0: a step to email is recorded "Queued"; its email job sets it "To send", and the step automation runs
on that change (no longer at the step's creation, inside the request or the confirmation that reached it).

The automation's record is not updated by upgrades (an administrator may have changed it): its trigger is moved
from "on creation" to "on creation and update of Notification" where it still is Odoo's "on creation". The steps
still "To send" keep their jobs, which compose them as before."""


def migrate(cr, version):
    cr.execute(
        """
        UPDATE base_automation a
           SET trigger = 'on_create_or_write'
          FROM ir_model_data d
         WHERE d.model = 'base.automation' AND d.res_id = a.id
           AND d.module = 'oms_ecommerce' AND d.name = 'automation_oms_step_notify'
           AND a.trigger = 'on_create'
     RETURNING a.id
        """
    )
    moved = [row[0] for row in cr.fetchall()]
    if moved:
        cr.execute(
            """
            INSERT INTO base_automation_ir_model_fields_rel (base_automation_id, ir_model_fields_id)
                 SELECT a.id, f.id
                   FROM base_automation a, ir_model_fields f
                  WHERE a.id = ANY(%s) AND f.model = 'oms.order.step' AND f.name = 'notification'
            ON CONFLICT DO NOTHING
            """,
            [moved],
        )
