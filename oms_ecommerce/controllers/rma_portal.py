import base64

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.addons.rma.controllers.main import PortalRma
from odoo.addons.rma_sale.controllers.sale_portal import CustomerPortal as RmaSaleCustomerPortal
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import request

MAX_PHOTOS = 5
MAX_PHOTO_BYTES = 5 * 1024 * 1024


class OmsRmaSalePortal(RmaSaleCustomerPortal):
    """A channel order's return goes through the channel's rules (window, final sale, quantities, approval):
    rma_sale's generic request form is not offered for it."""

    def _oms_channel_order_or_404(self, order_id, access_token):
        try:
            order = self._document_check_access("sale.order", order_id, access_token=access_token)
        except (AccessError, MissingError):
            raise NotFound() from None
        if not order.oms_channel_id:
            raise NotFound()
        return order

    @http.route()
    def request_rma(self, order_id, access_token=None, **post):
        order = request.env["sale.order"].sudo().browse(order_id).exists()
        if order.oms_channel_id:
            return request.redirect(
                f"/my/orders/{order_id}/return" + (f"?access_token={access_token}" if access_token else "")
            )
        return super().request_rma(order_id, access_token=access_token, **post)

    @http.route()
    def request_sale_rma(self, order_id, access_token=None, **kw):
        order = request.env["sale.order"].sudo().browse(order_id).exists()
        if order.oms_channel_id:
            return request.redirect(
                f"/my/orders/{order_id}/return" + (f"?access_token={access_token}" if access_token else "")
            )
        return super().request_sale_rma(order_id, access_token=access_token, **kw)

    def _oms_return_form_values(self, order, access_token, error=None, posted=None):
        returnable = order._oms_returnable_qty()
        rma_fields = request.env["rma"]._fields
        return {
            "sale_order": order,
            "page_name": "oms_return",
            "access_token": access_token,
            "returnable": returnable,
            # The choices' labels in the customer's language (the fields' translated selections).
            "reasons": rma_fields["oms_reason"]._description_selection(request.env),
            "resolutions": rma_fields["oms_resolution"]._description_selection(request.env),
            "problem": order._oms_return_problem(),
            "error": error,
            "posted": posted or {},
            "max_photos": MAX_PHOTOS,
            "max_photo_mb": MAX_PHOTO_BYTES // (1024 * 1024),
        }

    @http.route(["/my/orders/<int:order_id>/return"], type="http", auth="public", website=True, methods=["GET"])
    def oms_return_form(self, order_id, access_token=None, **kw):
        order = self._oms_channel_order_or_404(order_id, access_token)
        return request.render("oms_ecommerce.portal_oms_return_form", self._oms_return_form_values(order, access_token))

    @http.route(["/my/orders/<int:order_id>/return"], type="http", auth="public", website=True, methods=["POST"])
    def oms_return_submit(self, order_id, access_token=None, **post):
        """The customer's request: one row per order line (``qty-<line id>``, ``reason-…``, ``resolution-…``,
        ``comment-…``), photos in ``photos``. A mistake re-renders the form with what was typed."""
        order = self._oms_channel_order_or_404(order_id, access_token)
        lines = []
        try:
            photos = self._oms_read_photos()
            for line in order.order_line:
                raw = (post.get(f"qty-{line.id}") or "").strip()
                if not raw:
                    continue
                try:
                    qty = float(raw)
                except ValueError:
                    raise UserError(
                        request.env._("The quantity of %(product)s is not a number.", product=line.product_id.name)
                    ) from None
                if qty <= 0:
                    continue
                lines.append(
                    {
                        "sale_line": line,
                        "quantity": qty,
                        "reason": post.get(f"reason-{line.id}"),
                        "resolution": post.get(f"resolution-{line.id}"),
                        "comment": (post.get(f"comment-{line.id}") or "").strip()[:1000],
                    }
                )
            comment = (post.get("comment") or "").strip()[:4000]
            with request.env.cr.savepoint():
                rmas = order._oms_request_return(lines, description=comment, from_portal=True)
        except UserError as error:
            values = self._oms_return_form_values(order, access_token, error=str(error), posted=post)
            return request.render("oms_ecommerce.portal_oms_return_form", values, status=400)
        lead = rmas[0]
        if photos:
            request.env["ir.attachment"].sudo().create(
                [
                    {"name": name, "raw": data, "mimetype": mimetype, "res_model": "rma", "res_id": lead.id}
                    for name, data, mimetype in photos
                ]
            )
        return request.redirect(lead._get_share_url(redirect=False) if access_token else lead.get_portal_url())

    def _oms_read_photos(self):
        files = [f for f in request.httprequest.files.getlist("photos") if f and f.filename]
        if len(files) > MAX_PHOTOS:
            raise UserError(request.env._("At most %(count)s photos can be sent.", count=MAX_PHOTOS))
        photos = []
        for upload in files:
            data = upload.read(MAX_PHOTO_BYTES + 1)
            if len(data) > MAX_PHOTO_BYTES:
                raise UserError(
                    request.env._(
                        "The photo %(name)s is larger than %(size)s MB.",
                        name=upload.filename,
                        size=MAX_PHOTO_BYTES // (1024 * 1024),
                    )
                )
            mimetype = upload.mimetype or ""
            if not mimetype.startswith("image/"):
                raise UserError(request.env._("%(name)s is not a photo.", name=upload.filename))
            photos.append((upload.filename, data, mimetype))
        return photos


class OmsRmaPortal(PortalRma):
    """The return's portal page (OCA's) answers 404 for another customer's return, and serves its label."""

    def _oms_rma_or_404(self, rma_id, access_token):
        try:
            return self._document_check_access("rma", rma_id, access_token)
        except (AccessError, MissingError):
            raise NotFound() from None

    @http.route()
    def portal_my_rma_detail(self, rma_id, access_token=None, report_type=None, download=False, **kw):
        rma = request.env["rma"].sudo().browse(rma_id).exists()
        if rma.oms_channel_id:
            self._oms_rma_or_404(rma_id, access_token)
        return super().portal_my_rma_detail(
            rma_id, access_token=access_token, report_type=report_type, download=download, **kw
        )

    @http.route(["/my/rmas/<int:rma_id>/label"], type="http", auth="public", website=True)
    def oms_rma_label(self, rma_id, access_token=None, **kw):
        rma = self._oms_rma_or_404(rma_id, access_token)
        attachment = rma._oms_label_attachment()
        if not rma.oms_channel_id or not attachment:
            raise NotFound()
        pdf = base64.b64decode(attachment.datas)
        return request.make_response(
            pdf,
            headers=[
                ("Content-Type", "application/pdf"),
                ("Content-Length", len(pdf)),
                ("Content-Disposition", http.content_disposition(attachment.name)),
            ],
        )
