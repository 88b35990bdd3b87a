# (stage shown, reason, resolution)
DEMO_RETURNS = [
    ("requested", "does_not_fit", "refund"),
    ("refused", "changed_mind", "refund"),
    ("approved", "damaged", "refund"),
    ("refunded", "wrong_item", "refund"),
    ("exchanged", "does_not_fit", "exchange"),
    ("received", "other", "exchange"),
]


class ReturnsDemo:
    def _generate_returns(self):
        """Return requests of the shipped demo orders, one in every stage (requested, refused, approved with
        its label, received, refunded, exchanged)."""
        orders = self.env["sale.order"].search(
            [("oms_channel_id", "!=", False), ("oms_step", "in", ("shipped", "delivered", "returned"))], order="id"
        )
        Rma = self.env["rma"]
        for stage, reason, resolution in DEMO_RETURNS:
            for order in orders:
                if order._oms_return_problem():
                    continue
                returnable = [(line, qty) for line, qty in order._oms_returnable_qty().items() if qty >= 1]
                if returnable:
                    break
            else:
                return
            line = returnable[0][0]
            rmas = order._oms_request_return(
                [
                    {
                        "sale_line": line,
                        "quantity": 1,
                        "reason": reason,
                        "resolution": resolution,
                        "comment": "Demo return",
                    }
                ]
            )
            if stage == "requested":
                continue
            if stage == "refused":
                rmas.oms_refuse_reason = "The item was used."
                rmas.action_oms_refuse()
                continue
            if rmas.state == "draft":
                rmas.action_oms_approve()
            if stage == "approved":
                continue
            Rma._oms_receive([(rma, rma.product_uom_qty, "resellable") for rma in rmas])
            if stage == "exchanged":
                pickings = rmas.delivery_move_ids.picking_id
                for move in pickings.move_ids:
                    move.quantity = move.product_uom_qty
                pickings.move_ids.picked = True
                pickings.with_context(skip_sms=True).button_validate()
